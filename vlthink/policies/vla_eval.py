"""vla-eval adapter: a client of vla-eval's model-server protocol (``pip install vlthink[vla-eval]``).

vla-eval (allenai's vla-evaluation-harness, ``vla_eval.protocol.messages``) serves a model over
one websocket per session. Every frame is a msgpack map ``{type, payload, seq, timestamp}``
with vla-eval's numpy codec (``__ndarray__`` / ``__image__`` maps). A session is:

* ``hello`` both ways: the server's reply carries ``protocol_version``, ``model_server`` and
  ``observation_params`` (what the model wants of the benchmark, e.g. ``send_state``);
* ``episode_start`` ``{"task": {...}}``, then per control step an ``observation`` answered by an
  ``action`` (same ``seq``) holding ``"actions"``: one ``(7,)`` action, or a chunk ``(H, 7)``;
  ``episode_end`` closes the episode;
* an ``error`` frame ``{"error": "..."}`` answers an observation (or an episode start) whose
  ``predict`` raised; the connection stays open.

Conventions are those of vla-eval's own Simpler/WidowX benchmark, so a model server configured
for Bridge WidowX works unchanged: the camera frame goes as ``images["primary"]``, the
instruction as ``task_description``; an action is ``[pos3, rot3, gripper]`` with the rotation a
rotation vector (the controller there reads it with ``from_rotvec``) and the gripper binarised at
0.5 (above = open). :func:`env_actions` converts to vlthink's controller (XYZ Euler deltas).

Each batch slot keeps its own session, and the K requests of a step go out together, so a
server with ``max_batch_size > 1`` batches them. A chunk is executed as the server says: its
first ``replan_steps`` actions (``observation_params["replan_steps"]``, else the policy file's,
else the whole chunk) before the next observation is sent. A server that buffers its chunks
itself (``PredictModelServer(chunk_size=N)``) answers every observation with one action.

Every failure (refused, disconnected, an error frame, a malformed reply, no reply within
``timeout_s``) raises :class:`PolicyError`: the harness leaves those episodes for the next run.
Connecting is retried (``retries``, ``backoff_s``: :mod:`vlthink.policies.retry`) around :meth:`VlaEvalPolicy._connect` (a fresh
session) only: an episode whose session broke cannot be resumed on another one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vlthink.policies.base import ACTION_DIM, EpisodeSpec, Observation, PolicyBase, PolicyError
from vlthink.policies.conventions import binarize_gripper
from vlthink.policies.retry import (
    DEFAULT_BACKOFF_S,
    DEFAULT_RETRIES,
    Retrier,
    TransientError,
    check_retry_settings,
)
from vlthink.policies.serving import ThreadFanOut, check_image, live_slots, resize_image

#: The vla-eval wire protocol this adapter speaks (``vla_eval.protocol.messages.PROTOCOL_VERSION``).
PROTOCOL_VERSION = 1
#: What a state-hungry server gets: vlthink's learned policies do not observe the robot state.
STATE_DIM = 8
ROTATIONS = ("rotvec", "euler")


@dataclass
class VlaEvalConfig:
    endpoint: str = "ws://127.0.0.1:8000"
    # [height, width] of images["primary"]; None: the server's observation_params["image_size"],
    # else the camera's own frame
    image_size: list[int] | None = None
    image_format: Literal["raw", "png", "jpeg"] = "raw"  # vla-eval's image codec on the wire
    rotation: Literal["rotvec", "euler"] = "rotvec"  # what the model's rot3 is
    replan_steps: int | None = None  # of a chunk; None: the server's, else the whole chunk
    timeout_s: float = 30.0
    max_concurrency: int = 8
    retries: int = DEFAULT_RETRIES  # connecting to a (re)starting server, tried again
    backoff_s: float = DEFAULT_BACKOFF_S  # seconds before the first retry, doubling after

    def validate(self) -> tuple[str, str] | None:
        if not self.endpoint.startswith(("ws://", "wss://")):
            return (
                "endpoint",
                f'must be a websocket URL such as "ws://127.0.0.1:8000", got {self.endpoint!r}',
            )
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) <= 0):
            return (
                "image_size",
                f"must be [height, width] with positive sizes, got {self.image_size}",
            )
        if self.replan_steps is not None and self.replan_steps < 1:
            return ("replan_steps", "must be >= 1")
        if self.timeout_s <= 0:
            return ("timeout_s", "must be > 0")
        return check_retry_settings(self)


# --- the conventions (shared with vlthink's vla-eval benchmark) --------------------------------


def env_actions(raw: np.ndarray, rotation: str = "rotvec") -> np.ndarray:
    """vla-eval Simpler/WidowX actions ``(..., >=7)`` -> vlthink controller actions ``(..., 7)``."""
    from scipy.spatial.transform import Rotation

    from vlthink.geometry import matrix_to_xyz_euler

    raw = np.asarray(raw, dtype=np.float64)
    if rotation not in ROTATIONS:
        raise ValueError(f"unknown rotation {rotation!r}; valid: {', '.join(ROTATIONS)}")
    out = np.empty(raw.shape[:-1] + (ACTION_DIM,), dtype=np.float64)
    out[..., :3] = raw[..., :3]
    rot = raw[..., 3:6]
    if rotation == "rotvec":
        flat = Rotation.from_rotvec(rot.reshape(-1, 3)).as_matrix()
        rot = matrix_to_xyz_euler(flat).reshape(rot.shape)
    out[..., 3:6] = rot
    out[..., 6] = binarize_gripper(raw[..., 6], "open-1")
    return out.astype(np.float32)


def action_chunk(reply: Any, source: str) -> np.ndarray:
    """The ``(H, 7)`` raw actions of an ``action`` payload, or :class:`PolicyError` saying why not."""
    if not isinstance(reply, dict) or "actions" not in reply:
        keys = ", ".join(map(str, reply)) if isinstance(reply, dict) else type(reply).__name__
        raise PolicyError(f"{source} sent an action without 'actions' ({keys})")
    try:
        chunk = np.asarray(reply["actions"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{source} sent non-numeric actions: {reply['actions']!r:.100}") from exc
    chunk = chunk[None] if chunk.ndim == 1 else chunk
    if chunk.ndim != 2 or len(chunk) == 0 or chunk.shape[1] < ACTION_DIM:
        raise PolicyError(
            f"{source} sent actions of shape {chunk.shape}, expected (7,) or (horizon, 7): "
            "[pos3, rot3, gripper]"
        )
    if not np.all(np.isfinite(chunk[:, :ACTION_DIM])):
        raise PolicyError(f"{source} sent non-finite actions")
    return chunk[:, :ACTION_DIM]


def primary_image(image: np.ndarray, size: list[int] | None) -> np.ndarray:
    """The camera frame as vla-eval's ``images["primary"]``, at ``size`` ([h, w]) when given."""
    return np.ascontiguousarray(resize_image(image, size) if size else image)


# --- the wire ---------------------------------------------------------------------------------


def _wire(fmt: str):
    """(pack, unpack) for vla-eval frames, images in ``fmt`` (vla-eval's own codec)."""
    import msgpack

    try:
        from vla_eval.protocol.image_codec import _is_image_array, encode_image
        from vla_eval.protocol.messages import unpack_message
        from vla_eval.protocol.numpy_codec import encode_ndarray
    except ImportError as exc:
        raise PolicyError(
            f"the vla_eval adapter needs vla-eval ({exc}). Fix: pip install 'vlthink[vla-eval]'"
        ) from None

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray) and _is_image_array(obj):
            return encode_image(obj, fmt)
        return encode_ndarray(obj)

    def pack(kind: str, payload: dict, seq: int) -> bytes:
        frame = {"type": kind, "payload": payload, "seq": seq, "timestamp": time.time()}
        return msgpack.packb(frame, default=default, use_bin_type=True)

    return pack, unpack_message


class _Session:
    """One websocket session with the server and the rest of its slot's current chunk."""

    def __init__(self) -> None:
        self.ws: Any = None
        self.seq = 0
        self.queue: list[np.ndarray] = []
        self.in_episode = False

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def drop(self) -> None:
        ws, self.ws, self.in_episode, self.queue = self.ws, None, False, []
        if ws is not None:
            ws.close()


class VlaEvalPolicy(PolicyBase):
    kind = "action"
    per_slot_reset = True
    concurrent_act = True  # a session per slot; the counters under a lock

    def __init__(self, cfg: VlaEvalConfig, name: str, source: str):
        self.cfg = cfg
        self.name = name
        self.source = source
        self.config: dict[str, Any] = {}
        self.stats = {"steps": 0, "requests": 0}
        self._retry = Retrier(cfg.retries, cfg.backoff_s, self.stats)
        self.server_info: dict[str, Any] | None = None
        self._sessions: list[_Session] = []
        self._fan = ThreadFanOut(cfg.max_concurrency)
        self._lock = threading.Lock()
        self._pack, self._unpack = _wire(cfg.image_format)

    # -- what the server asked for
    def _params(self) -> dict[str, Any]:
        return dict((self.server_info or {}).get("observation_params") or {})

    def _image_size(self) -> list[int] | None:
        return self.cfg.image_size or self._params().get("image_size")

    def _replan_steps(self) -> int | None:
        return self.cfg.replan_steps or self._params().get("replan_steps")

    def _where(self) -> str:
        return f"vla-eval model server at {self.cfg.endpoint}"

    def _fix(self) -> str:
        return f"start it (`vla-eval serve --config ...`) or fix `endpoint` in {self.source}"

    # -- one session
    def _connect(self, s: _Session) -> None:
        """A fresh session: websocket, then the HELLO exchange (protocol version checked)."""
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        try:
            ws = connect(
                self.cfg.endpoint,
                compression=None,
                max_size=None,
                open_timeout=self.cfg.timeout_s,
                close_timeout=1,
            )
            ws.__enter__()  # lives until _Session.drop (websockets asks connections be entered)
        except InvalidStatus as exc:
            raise PolicyError(
                f"{self._where()} refused the websocket (HTTP {exc.response.status_code}): "
                f"is it a vla-eval model server? {self._fix()}"
            ) from exc
        except ConnectionRefusedError as exc:
            raise TransientError(
                f"cannot reach {self._where()} (connection refused): {self._fix()}"
            ) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise TransientError(
                f"cannot reach {self._where()} ({type(exc).__name__}: {exc}): {self._fix()}"
            ) from exc
        s.ws, s.seq, s.queue, s.in_episode = ws, 0, [], False
        from vla_eval.protocol.messages import make_hello_payload

        reply = self._exchange(s, "hello", make_hello_payload(benchmark="vlthink"), "hello")
        version = reply.get("protocol_version")
        if version != PROTOCOL_VERSION:
            s.drop()
            raise PolicyError(
                f"{self._where()} speaks vla-eval protocol {version!r}, this adapter speaks "
                f"{PROTOCOL_VERSION}: install the vla-eval range vlthink[vla-eval] pins on both sides"
            )
        self.server_info = reply

    def _send(self, s: _Session, kind: str, payload: dict) -> int:
        from websockets.exceptions import ConnectionClosed

        seq = s.next_seq()
        try:
            s.ws.send(self._pack(kind, payload, seq))
        except (ConnectionClosed, OSError) as exc:
            s.drop()
            raise PolicyError(
                f"{self._where()} closed the connection ({exc}): {self._fix()}"
            ) from exc
        return seq

    def _exchange(self, s: _Session, kind: str, payload: dict, want: str) -> dict:
        """Send one frame and read its answer (``want`` with the same seq), or PolicyError."""
        from websockets.exceptions import ConnectionClosed

        seq = self._send(s, kind, payload)
        try:
            frame = s.ws.recv(timeout=self.cfg.timeout_s)
        except TimeoutError as exc:
            s.drop()  # a late answer must never be read as the next step's
            raise PolicyError(
                f"{self._where()} did not answer a {kind} within {self.cfg.timeout_s:g} s "
                f"(timeout): raise `timeout_s` in {self.source} or check the server"
            ) from exc
        except (ConnectionClosed, OSError) as exc:
            s.drop()
            raise PolicyError(
                f"{self._where()} closed the connection ({exc}): {self._fix()}"
            ) from exc
        return self._answer(s, frame, seq, want)

    def _answer(self, s: _Session, frame: Any, seq: int, want: str) -> dict:
        try:
            if isinstance(frame, str):
                raise ValueError(f"a text frame {frame[:60]!r}")
            msg = self._unpack(frame)
        except ValueError as exc:
            s.drop()
            raise PolicyError(f"{self._where()} sent a malformed frame: {exc}"[:400]) from exc
        if msg.type.value == "error":
            error = msg.payload.get("error") if isinstance(msg.payload, dict) else msg.payload
            s.drop()  # an answer may still follow the error frame: the next episode starts afresh
            raise PolicyError(
                f"{self._where()} reported an error: {str(error)[:300]} (see the server log)"
            )
        if msg.type.value != want or msg.seq != seq or not isinstance(msg.payload, dict):
            s.drop()
            raise PolicyError(
                f"{self._where()} answered {want} #{seq} with {msg.type.value} #{msg.seq}: "
                "out of step with the protocol"
            )
        return msg.payload

    # -- episodes
    def _start(self, s: _Session, spec: EpisodeSpec) -> None:
        if s.ws is None:  # a server (re)starting is waited for; a broken episode is not resumed
            self._retry.call(lambda: self._connect(s))
        if s.in_episode:
            self._send(s, "episode_end", {})
        task = {
            "name": spec.env_id,
            "env_id": spec.env_id,
            "episode_idx": spec.episode,
            "seed": spec.seed,
        }
        self._send(s, "episode_start", {"task": task})
        s.in_episode, s.queue = True, []

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        while len(self._sessions) > len(episodes):
            self._sessions.pop().drop()
        self.reset_slots(list(range(len(episodes))), episodes)

    def reset_slots(self, slots: list[int], episodes: list[EpisodeSpec]) -> None:
        while len(self._sessions) <= max(slots, default=-1):
            self._sessions.append(_Session())
        self._each(
            lambda se: self._start(*se), [(self._sessions[i], e) for i, e in zip(slots, episodes)]
        )

    def _each(self, fn: Any, items: list[Any]) -> list[Any]:
        """``fn`` on every item concurrently; every call has ended before the first error is raised
        (so no session is still in use when the harness starts the next episode on it)."""

        def caught(x: Any) -> tuple[Any, BaseException | None]:
            try:
                return fn(x), None
            except Exception as exc:
                return None, exc

        done = self._fan.map(caught, items)
        for _, exc in done:
            if exc is not None:
                raise exc
        return [value for value, _ in done]

    # -- steps
    def _observation(self, obs: Observation) -> dict[str, Any]:
        out: dict[str, Any] = {
            "images": {
                "primary": primary_image(check_image(obs.image, self.name), self._image_size())
            },
            "task_description": obs.instruction,
        }
        if self._params().get("send_state"):
            out["states"] = np.zeros(STATE_DIM, dtype=np.float32)
        return out

    def _next_action(self, s: _Session, obs: Observation) -> np.ndarray:
        if not s.queue:
            if s.ws is None or not s.in_episode:
                raise PolicyError(
                    f"{self._where()}: this episode's session was lost; it will run again"
                )
            with self._lock:
                self.stats["requests"] += 1
            chunk = action_chunk(
                self._exchange(s, "observation", self._observation(obs), "action"), self._where()
            )
            s.queue = list(chunk[: self._replan_steps() or len(chunk)])
        return s.queue.pop(0)

    def act(self, observations: list[Observation | None]) -> np.ndarray:
        live = live_slots(observations, len(self._sessions), self.name)
        raw = np.zeros((len(observations), ACTION_DIM))
        for i, a in zip(
            live,
            self._each(lambda i: self._next_action(self._sessions[i], observations[i]), live),
        ):
            raw[i] = a
        with self._lock:
            self.stats["steps"] += 1
        return env_actions(raw, self.cfg.rotation)

    def close(self) -> None:
        for s in self._sessions:
            if s.ws is not None and s.in_episode:
                try:
                    self._send(s, "episode_end", {})
                except PolicyError:
                    pass
            s.drop()
        self._sessions = []
        self._fan.close()


def make_vla_eval(cfg: VlaEvalConfig, *, name: str, source: str) -> VlaEvalPolicy:
    return VlaEvalPolicy(cfg, name, source)
