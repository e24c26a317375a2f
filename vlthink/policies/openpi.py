"""openpi adapter: a client of openpi's websocket policy server (``scripts/serve_policy.py``).

Protocol (openpi-client's ``WebsocketClientPolicy``): connect to ``ws://host:port`` (header
``Authorization: Api-Key <key>`` when an API key is set); the server first sends a msgpack-numpy
metadata map; then each observation map sent (msgpack-numpy) is answered by a map holding
``"actions"``, an action chunk of shape (H, D). A *text* frame instead of a binary one carries
the server's error (a traceback), after which it closes the connection. ``GET /healthz`` on the
same port answers 200 when the server is up.

The server answers one observation per message, so each batch slot keeps its own connection and
the K requests of a step go out concurrently. Of each chunk the first ``replan_steps`` actions
are executed before the server is asked again. The first 7 dims of an action are read as
``[dx, dy, dz, droll, dpitch, dyaw, gripper]`` and converted with the named conventions.

What goes into the observation map depends on the served policy config (openpi's own
examples use keys such as ``"observation/image"`` and ``"prompt"``); ``image_key``, ``prompt_key``,
``state_key``/``state_dim`` and the constant ``extra`` entries set it. The state is not observed
by learned policies in vlthink, so a policy that needs one gets zeros.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vlthink.policies.base import ACTION_DIM, EpisodeSpec, Observation, PolicyError
from vlthink.policies.conventions import to_env_actions
from vlthink.policies.retry import (
    DEFAULT_BACKOFF_S,
    DEFAULT_RETRIES,
    Retrier,
    TransientError,
    check_retry_settings,
)
from vlthink.policies.serving import (
    ThreadFanOut,
    api_key,
    check_api_key_settings,
    check_image,
    live_slots,
    msgpack_packb,
    msgpack_unpackb,
    resize_image,
)


@dataclass
class OpenPIConfig:
    endpoint: str  # "ws://127.0.0.1:8000"
    api_key: str | None = None  # prefer api_key_env: a key in a file ends up in copies
    api_key_env: str | None = None  # the environment variable that holds the key
    image_key: str = "observation/image"
    prompt_key: str = "prompt"
    state_key: str | None = None
    state_dim: int = 8
    extra: dict[str, Any] = field(default_factory=dict)  # constant entries added to each obs
    image_size: list[int] = field(default_factory=lambda: [224, 224])  # [height, width]
    replan_steps: int = 1
    action_convention: Literal["euler", "axis-angle"] = "euler"
    gripper_convention: Literal["open-1", "signed"] = "open-1"
    timeout_s: float = 60.0
    retries: int = DEFAULT_RETRIES  # transient failures retried per call (0 = none)
    backoff_s: float = DEFAULT_BACKOFF_S  # seconds before the first retry, doubling after
    max_concurrency: int = 8

    def validate(self) -> tuple[str, str] | None:
        if problem := check_api_key_settings(self):
            return problem
        if not self.endpoint.startswith(("ws://", "wss://")):
            return (
                "endpoint",
                f'must be a websocket URL such as "ws://127.0.0.1:8000", got {self.endpoint!r}',
            )
        if self.replan_steps < 1:
            return ("replan_steps", "must be >= 1")
        if len(self.image_size) != 2 or min(self.image_size) <= 0:
            return (
                "image_size",
                f"must be [height, width] with positive sizes, got {self.image_size}",
            )
        if self.timeout_s <= 0:
            return ("timeout_s", "must be > 0")
        return check_retry_settings(self)


def _http_url(ws_url: str) -> str:
    return "http" + ws_url[2:]


class _Slot:
    """One websocket connection and the rest of its current action chunk."""

    def __init__(self) -> None:
        self.ws = None
        self.metadata: dict | None = None
        self.queue: list[np.ndarray] = []


class OpenPIPolicy:
    kind = "action"
    per_slot_reset = True
    concurrent_act = True  # a session per slot; the counters under a lock

    def __init__(self, cfg: OpenPIConfig, name: str, source: str):
        self.cfg = cfg
        self.name = name
        self.source = source
        self.config: dict[str, Any] = {}
        self.stats = {"steps": 0, "requests": 0}
        self._slots: list[_Slot] = []
        self._fan = ThreadFanOut(cfg.max_concurrency)
        self._lock = threading.Lock()
        self._retry = Retrier(cfg.retries, cfg.backoff_s, self.stats)

    @property
    def server_metadata(self) -> dict | None:
        return self._slots[0].metadata if self._slots else None

    def _fix(self) -> str:
        return (
            f"start it with openpi's `scripts/serve_policy.py` or fix `endpoint` in {self.source}"
        )

    def healthy(self) -> bool:
        """``GET /healthz`` on the server's port."""
        import requests

        try:
            return (
                requests.get(
                    _http_url(self.cfg.endpoint).rstrip("/") + "/healthz",
                    timeout=self.cfg.timeout_s,
                ).status_code
                == 200
            )
        except requests.exceptions.RequestException:
            return False

    def _connect(self, slot: _Slot) -> None:
        """Open the slot's websocket and read the server's metadata frame."""
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        url = self.cfg.endpoint
        key = api_key(self.cfg, self.source)
        headers = {"Authorization": f"Api-Key {key}"} if key else None
        try:
            ws = connect(
                url,
                additional_headers=headers,
                compression=None,
                max_size=None,
                open_timeout=self.cfg.timeout_s,
                close_timeout=1,
            )
            # The connection outlives this call (one per batch slot, closed by ``ws.close()``), so
            # it is entered here as websockets asks; a bare ``connect()`` is deprecated (17.1).
            ws.__enter__()
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code >= 500:
                raise TransientError(
                    f"openpi server at {url}: the server answered HTTP {code} to the websocket "
                    "handshake"
                ) from exc
            hint = "check `api_key`" if code in (401, 403) else "is it an openpi server?"
            raise PolicyError(
                f"openpi server at {url} refused the websocket (HTTP {code}): "
                f"{hint} in {self.source}"
            ) from exc
        except ConnectionRefusedError as exc:
            raise TransientError(
                f"cannot reach openpi server at {url} (connection refused): {self._fix()}"
            ) from exc
        except TimeoutError as exc:
            raise TransientError(
                f"openpi server at {url} did not complete the handshake within "
                f"{self.cfg.timeout_s:g} s (timeout): raise `timeout_s` or {self._fix()}"
            ) from exc
        except (OSError, ConnectionClosed) as exc:
            raise TransientError(
                f"openpi server at {url}: connection reset during the handshake "
                f"({type(exc).__name__}: {exc}): check the server's log"
            ) from exc
        except WebSocketException as exc:
            raise PolicyError(
                f"cannot reach openpi server at {url} ({type(exc).__name__}: {exc}): {self._fix()}"
            ) from exc
        try:
            slot.metadata = self._decode(self._recv(ws, "metadata"), "metadata")
        except BaseException:
            ws.close()
            raise
        slot.ws = ws

    def _recv(self, ws: Any, what: str) -> Any:
        """The next frame; a timeout or a connection lost on the way is transient."""
        from websockets.exceptions import ConnectionClosed

        url = self.cfg.endpoint
        try:
            return ws.recv(timeout=self.cfg.timeout_s)
        except TimeoutError as exc:
            raise TransientError(
                f"openpi server at {url} did not answer within {self.cfg.timeout_s:g} s "
                f"(timeout) with its {what}: raise `timeout_s` in {self.source} or check the server"
            ) from exc
        except ConnectionClosed as exc:
            raise TransientError(
                f"openpi server at {url}: connection reset or closed before its {what} "
                f"arrived ({exc}): check the server's log"
            ) from exc

    def _decode(self, frame: Any, what: str) -> dict:
        url = self.cfg.endpoint
        if isinstance(frame, str):
            last = frame.strip().splitlines()[-1] if frame.strip() else "(empty message)"
            raise PolicyError(
                f"openpi server at {url} reported an error: {last[:300]} "
                "(the full traceback is in the server log)"
            )
        try:
            msg = msgpack_unpackb(frame)
        except Exception as exc:
            raise PolicyError(
                f"openpi server at {url} sent a malformed {what} frame "
                f"(not msgpack-numpy): {frame[:40]!r}"
            ) from exc
        if not isinstance(msg, dict):
            raise PolicyError(
                f"openpi server at {url} sent a {what} frame that is not a map: {msg!r:.100}"
            )
        return msg

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        while len(self._slots) > len(episodes):
            slot = self._slots.pop()
            if slot.ws is not None:
                slot.ws.close()
        self.reset_slots(list(range(len(episodes))), episodes)

    def reset_slots(self, slots: list[int], episodes: list[EpisodeSpec]) -> None:
        """A new episode on each of ``slots``: its leftover actions dropped, its connection kept
        (openpi's protocol has no episode messages)."""
        while len(self._slots) <= max(slots, default=-1):
            self._slots.append(_Slot())
        fresh = [self._slots[i] for i in slots]
        for slot in fresh:
            slot.queue = []
        self._fan.map(lambda s: s.ws is None and self._retry.call(lambda: self._connect(s)), fresh)

    def _obs(self, obs: Observation) -> dict[str, Any]:
        img = resize_image(check_image(obs.image, self.name), self.cfg.image_size)
        out: dict[str, Any] = dict(self.cfg.extra)
        out[self.cfg.image_key] = img
        out[self.cfg.prompt_key] = obs.instruction
        if self.cfg.state_key:
            out[self.cfg.state_key] = np.zeros(self.cfg.state_dim, dtype=np.float32)
        return out

    def _infer(self, slot: _Slot, obs: Observation) -> np.ndarray:
        """The server's action chunk for ``obs``, asked again after a transient failure."""
        message = msgpack_packb(self._obs(obs))
        reply = self._retry.call(lambda: self._ask(slot, message))
        return self._chunk(reply)

    def _ask(self, slot: _Slot, message: bytes) -> dict:
        """One request on the slot's connection (opened first if a failure closed it)."""
        from websockets.exceptions import ConnectionClosed

        if slot.ws is None:
            self._connect(slot)
        with self._lock:
            self.stats["requests"] += 1
        try:
            try:
                slot.ws.send(message)
            except (ConnectionClosed, OSError) as exc:
                raise TransientError(
                    f"openpi server at {self.cfg.endpoint}: connection reset or closed before "
                    f"the observation was sent ({exc}): check the server's log"
                ) from exc
            return self._decode(self._recv(slot.ws, "action"), "action")
        except PolicyError:
            slot.ws.close()  # a connection that failed once is not reused
            slot.ws = None
            raise

    def _chunk(self, reply: dict) -> np.ndarray:
        url = self.cfg.endpoint
        if "actions" not in reply:
            raise PolicyError(
                f"openpi server at {url} sent a reply without 'actions' "
                f"(keys: {', '.join(map(str, reply))})"
            )
        chunk = np.asarray(reply["actions"], dtype=np.float64)
        if chunk.ndim == 1:
            chunk = chunk[None]
        if chunk.ndim != 2 or chunk.shape[1] < ACTION_DIM or len(chunk) == 0:
            raise PolicyError(
                f"openpi server at {url} returned actions of shape {chunk.shape}, "
                f"expected (horizon, >= {ACTION_DIM}): [dx, dy, dz, droll, dpitch, dyaw, gripper, ...]"
            )
        if not np.all(np.isfinite(chunk[:, :ACTION_DIM])):
            raise PolicyError(f"openpi server at {url} returned non-finite actions")
        return chunk[:, :ACTION_DIM]

    def act(self, observations: list[Observation | None]) -> np.ndarray:
        """One action per observation; a ``None`` entry (an idle slot) gets a row of zeros."""
        live = live_slots(observations, len(self._slots), self.name)

        def step(i: int) -> np.ndarray:
            slot = self._slots[i]
            if not slot.queue:
                chunk = self._infer(slot, observations[i])
                slot.queue = list(chunk[: self.cfg.replan_steps])
            return slot.queue.pop(0)

        raw = np.zeros((len(observations), ACTION_DIM))
        for i, a in zip(live, self._fan.map(step, live)):
            raw[i] = a
        with self._lock:
            self.stats["steps"] += 1
        return to_env_actions(raw, self.cfg.action_convention, self.cfg.gripper_convention)

    def close(self) -> None:
        for slot in self._slots:
            if slot.ws is not None:
                slot.ws.close()
                slot.ws = None
        self._slots = []
        self._fan.close()


def make_openpi(cfg: OpenPIConfig, *, name: str, source: str) -> OpenPIPolicy:
    return OpenPIPolicy(cfg, name, source)
