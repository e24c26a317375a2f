"""OpenVLA adapter (``openvla-sft``, ``openvla-align``): a REST client or an in-process model.

REST (``endpoint``): the protocol of OpenVLA's ``vla-scripts/deploy.py``. ``POST /act`` with a
json-numpy body ``{"image": uint8 (H, W, 3), "instruction": str, "unnorm_key": str}``; the reply
is the json-numpy encoding of the 7-vector, already de-normalised with ``unnorm_key``. On any
failure the server logs a traceback and answers the JSON string ``"error"`` with HTTP 200; this
client turns that into a :class:`PolicyError`. The official server does not batch, so with K
episodes the client sends K requests concurrently (a thread pool, ``max_concurrency``) and the
GPU serialises them. ``batch_endpoint`` names an optional batched route, a vlthink extension
(not part of OpenVLA): ``POST /act_batch`` with ``{"images": uint8 (B, H, W, 3),
"instructions": [str] * B, "unnorm_key": str}`` answered by a (B, 7) array; the loopback server
in :mod:`vlthink.testing.servers` implements it. One request per step then.

In process (``checkpoint``): ``AutoProcessor`` + the checkpoint's remote-code model class
(``AutoModelForVision2Seq`` in OpenVLA's ``auto_map``) with ``trust_remote_code=True``, the prompt
``In: What action should the robot take to {instruction}?\\nOut:``, the image resized to
224 x 224 and ``predict_action(**inputs, unnorm_key=..., do_sample=False)``. OpenVLA's own
``predict_action`` handles one sample; with ``batch_inference = "auto"`` the adapter tries one
batched call (left-padded prompts) and falls back to one call per episode if the model returns
anything but (B, 7).

Both paths then apply the named action convention (:mod:`vlthink.policies.conventions`): the
rotation convention (``euler`` | ``axis-angle``) and the gripper binarised at 0.5 to +1 open /
-1 closed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vlthink.policies.base import ACTION_DIM, EpisodeSpec, Observation, PolicyError, check_actions
from vlthink.policies.conventions import (
    BRIDGE_ORIG_ACTION_STATS,
    load_action_stats,
    to_env_actions,
    unnormalize_actions,
)
from vlthink.policies.retry import (
    DEFAULT_BACKOFF_S,
    DEFAULT_RETRIES,
    Retrier,
    check_retry_settings,
)
from vlthink.policies.serving import (
    SessionPerThread,
    ThreadFanOut,
    check_image,
    http_failure,
    http_status_failure,
    live_slots,
    resize_image,
)

log = logging.getLogger(__name__)

OPENVLA_PROMPT = "In: What action should the robot take to {instruction}?\nOut:"


@dataclass
class OpenVLAConfig:
    # Where the model is: exactly one of a REST server and a checkpoint.
    endpoint: str | None = None  # e.g. "http://127.0.0.1:8000/act"
    batch_endpoint: str | None = None  # vlthink's batched extension, e.g. ".../act_batch"
    checkpoint: str | None = None  # local folder (or hub id) of a transformers checkpoint
    unnorm_key: str = "bridge_orig"
    action_convention: Literal["euler", "axis-angle"] = "euler"
    gripper_convention: Literal["open-1", "signed"] = "open-1"
    image_size: list[int] = field(default_factory=lambda: [224, 224])  # [height, width]
    prompt_template: str = OPENVLA_PROMPT
    lowercase_instruction: bool = True  # deploy.py lower-cases the instruction
    temperature: float = 0.0  # 0 = greedy (do_sample=False), as OpenVLA evaluates
    # De-normalise on the client (for servers that return [-1, 1] actions): the built-in
    # bridge_orig statistics, or those of `dataset_statistics` (a dataset_statistics.json).
    denormalize: bool = False
    dataset_statistics: str | None = None
    timeout_s: float = 60.0
    retries: int = DEFAULT_RETRIES  # REST: transient failures retried per call (0 = none)
    backoff_s: float = DEFAULT_BACKOFF_S  # seconds before the first retry, doubling after
    max_concurrency: int = 8
    device: str = "auto"  # in process: "cuda", "cuda:1", "cpu"; auto = cuda if available
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    batch_inference: Literal["auto", "on", "off"] = "auto"

    def validate(self) -> tuple[str, str] | None:
        remote = self.endpoint or self.batch_endpoint
        if not remote and not self.checkpoint:
            return (
                "endpoint",
                "set `endpoint` (an OpenVLA REST server, e.g. "
                '"http://127.0.0.1:8000/act") or `checkpoint` (a model folder, in process)',
            )
        if remote and self.checkpoint:
            return (
                "checkpoint",
                "set either `endpoint` (REST) or `checkpoint` (in process), not both",
            )
        for key in ("endpoint", "batch_endpoint"):
            url = getattr(self, key)
            if url and not url.startswith(("http://", "https://")):
                return (
                    key,
                    f'must be an http(s) URL such as "http://127.0.0.1:8000/act", got {url!r}',
                )
        if "{instruction}" not in self.prompt_template:
            return ("prompt_template", "must contain the placeholder {instruction}")
        if len(self.image_size) != 2 or min(self.image_size) <= 0:
            return (
                "image_size",
                f"must be [height, width] with positive sizes, got {self.image_size}",
            )
        if self.temperature < 0:
            return ("temperature", f"must be >= 0, got {self.temperature}")
        if remote and self.temperature > 0:
            return (
                "temperature",
                "the OpenVLA REST server always decodes greedily; "
                "temperature > 0 needs `checkpoint` (in process)",
            )
        if (
            self.denormalize
            and self.dataset_statistics is None
            and self.unnorm_key != "bridge_orig"
        ):
            return (
                "dataset_statistics",
                f"denormalize = true with unnorm_key {self.unnorm_key!r} "
                "needs the path of its dataset_statistics.json (only bridge_orig is built in)",
            )
        if self.timeout_s <= 0 or self.max_concurrency < 1:
            return ("timeout_s" if self.timeout_s <= 0 else "max_concurrency", "must be positive")
        return check_retry_settings(self)


class _OpenVLABase:
    kind = "action"

    def __init__(self, cfg: OpenVLAConfig, name: str, source: str):
        self.cfg = cfg
        self.name = name
        self.source = source
        self.config: dict[str, Any] = {}
        self.stats = {"steps": 0, "requests": 0, "model_calls": 0}
        self._batch = 0
        self._stats_cache: dict | None = None
        self._count = threading.Lock()  # the counters (a REST client's act may run in threads)

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        self._batch = len(episodes)

    def _prompt(self, instruction: str) -> str:
        text = instruction.strip()
        if self.cfg.lowercase_instruction:
            text = text.lower()
        return self.cfg.prompt_template.format(instruction=text)

    def _image(self, obs: Observation) -> np.ndarray:
        return resize_image(check_image(obs.image, self.name), self.cfg.image_size)

    def _finish(self, raw: np.ndarray, what: str) -> np.ndarray:
        raw = check_actions(raw, len(raw) if np.ndim(raw) == 2 else 1, what)
        if self.cfg.denormalize:
            if self._stats_cache is None:
                self._stats_cache = (
                    load_action_stats(self.cfg.dataset_statistics, self.cfg.unnorm_key)
                    if self.cfg.dataset_statistics
                    else BRIDGE_ORIG_ACTION_STATS
                )
            raw = unnormalize_actions(raw, self._stats_cache)
        with self._count:
            self.stats["steps"] += 1
        return to_env_actions(raw, self.cfg.action_convention, self.cfg.gripper_convention)

    def close(self) -> None:
        pass


class OpenVLARestPolicy(_OpenVLABase):
    """Client of OpenVLA's REST server (see the module docstring for the protocol).

    OpenVLA keeps nothing between steps (one action per observation, no history), so a slot
    starts an episode with nothing to reset (``per_slot_reset``), and ``act`` may run in
    several threads at once on other slots (``concurrent_act``: a ``requests`` session per
    thread): ``vlthink-eval --in-flight`` works with it."""

    per_slot_reset = True
    concurrent_act = True

    def __init__(self, cfg: OpenVLAConfig, name: str, source: str):
        super().__init__(cfg, name, source)
        self._sessions = SessionPerThread()
        self._lock = threading.Lock()
        self._fan = ThreadFanOut(cfg.max_concurrency)
        self._retry = Retrier(cfg.retries, cfg.backoff_s, self.stats)

    def reset_slots(self, slots: list[int], episodes: list[EpisodeSpec]) -> None:
        self._batch = max(self._batch, max(slots, default=-1) + 1)

    def _fix(self, key: str) -> str:
        return (
            "start it with `python vla-scripts/deploy.py --openvla_path <checkpoint>` "
            f"(or `python -m vlthink.testing.servers openvla`) or fix `{key}` in {self.source}"
        )

    def _post(self, url: str, key: str, body: dict[str, Any]) -> Any:
        """POST ``body`` (json-numpy), the same bytes again after a transient failure."""
        import json_numpy

        data = json_numpy.dumps(body)
        return self._retry.call(lambda: self._post_once(url, key, data))

    def _post_once(self, url: str, key: str, data: str) -> Any:
        import json_numpy
        import requests

        with self._lock:
            self.stats["requests"] += 1
        try:
            r = self._sessions.get().post(
                url,
                data=data,
                timeout=self.cfg.timeout_s,
                headers={"Content-Type": "application/json"},
            )
        except requests.exceptions.RequestException as exc:
            raise http_failure(
                exc, "OpenVLA server", url, self.cfg.timeout_s, self._fix(key)
            ) from exc
        if r.status_code != 200:
            raise http_status_failure(
                r.status_code,
                r.text[:200],
                "OpenVLA server",
                url,
                f"is `{key}` the server's /act route? ({self.source})",
            )
        try:
            reply = json_numpy.loads(r.text)
        except ValueError as exc:
            raise PolicyError(
                f"OpenVLA server at {url} sent a malformed reply (not json-numpy): "
                f"{r.text[:200]!r}; is `{key}` in {self.source} an OpenVLA server?"
            ) from exc
        if isinstance(reply, str):
            if reply == "error":
                raise PolicyError(
                    f'OpenVLA server at {url} answered "error" (inference failed; its log has the '
                    f"traceback): check that unnorm_key {self.cfg.unnorm_key!r} is in the "
                    f"checkpoint's norm_stats and that the server runs the model named in {self.source}"
                )
            raise PolicyError(f"OpenVLA server at {url} sent a malformed reply: {reply[:200]!r}")
        return reply

    def act(self, observations: list[Observation | None]) -> np.ndarray:
        live = live_slots(observations, self._batch, self.name)
        out = np.zeros((len(observations), ACTION_DIM), np.float32)  # idle slots: ignored
        if live:
            out[live] = self._act([observations[i] for i in live])
        return out

    def _act(self, observations: list[Observation]) -> np.ndarray:
        imgs = [self._image(o) for o in observations]
        prompts_in = [o.instruction for o in observations]
        b = len(observations)
        if self.cfg.batch_endpoint:
            url = self.cfg.batch_endpoint
            reply = self._post(
                url,
                "batch_endpoint",
                {
                    "images": np.stack(imgs),
                    "instructions": prompts_in,
                    "unnorm_key": self.cfg.unnorm_key,
                },
            )
            raw = check_actions(reply, b, f"OpenVLA server at {url}")
        else:
            url = self.cfg.endpoint

            def one(i: int) -> np.ndarray:
                reply = self._post(
                    url,
                    "endpoint",
                    {
                        "image": imgs[i],
                        "instruction": prompts_in[i],
                        "unnorm_key": self.cfg.unnorm_key,
                    },
                )
                return check_actions(reply, 1, f"OpenVLA server at {url}")[0]

            raw = np.stack(self._fan.map(one, range(b)))
        return self._finish(raw, f"OpenVLA server at {url}")

    def close(self) -> None:
        self._fan.close()
        self._sessions.close()


def _torch_device_dtype(device: str, dtype: str):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    return torch.device(device), getattr(torch, dtype)


def _model_class(checkpoint: str, source: str):
    """The checkpoint's action-model class.

    transformers < 5 has ``AutoModelForVision2Seq``; transformers 5 dropped that name while
    OpenVLA's ``config.json`` still registers its class under it in ``auto_map``, so the class is
    then taken from ``auto_map`` directly (the same dynamic-module loader the Auto classes use).
    """
    import transformers

    auto = getattr(transformers, "AutoModelForVision2Seq", None)
    if auto is not None:
        return auto
    from transformers import AutoConfig
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    config = AutoConfig.from_pretrained(checkpoint, trust_remote_code=True)
    auto_map = getattr(config, "auto_map", None) or {}
    for key in ("AutoModelForVision2Seq", "AutoModelForImageTextToText", "AutoModelForCausalLM"):
        if key in auto_map:
            return get_class_from_dynamic_module(auto_map[key], checkpoint)
    return transformers.AutoModelForImageTextToText


class OpenVLAInProcessPolicy(_OpenVLABase):
    """OpenVLA loaded with transformers in this process (see the module docstring)."""

    def __init__(self, cfg: OpenVLAConfig, name: str, source: str):
        super().__init__(cfg, name, source)
        self.model = None
        self.processor = None
        self.batched = {"auto": None, "on": True, "off": False}[cfg.batch_inference]

    def load(self) -> None:
        if self.model is not None:
            return
        ckpt = self.cfg.checkpoint
        try:
            import torch  # noqa: F401
            import transformers
            from transformers import AutoProcessor

            device, dtype = _torch_device_dtype(self.cfg.device, self.cfg.dtype)
            self.processor = AutoProcessor.from_pretrained(ckpt, trust_remote_code=True)
            cls = _model_class(ckpt, self.source)
            dtype_kw = (
                "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
            )
            model = cls.from_pretrained(
                ckpt, trust_remote_code=True, low_cpu_mem_usage=True, **{dtype_kw: dtype}
            )
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            raise PolicyError(
                f"cannot load OpenVLA checkpoint {ckpt!r} ({type(exc).__name__}: {str(exc)[:200]}): "
                f"fix `checkpoint` in {self.source}, or serve the model and set `endpoint` instead"
            ) from exc
        self.model = model.to(device).eval()
        self._device, self._dtype = device, dtype
        tok = getattr(self.processor, "tokenizer", None)
        if tok is not None:
            tok.padding_side = "left"  # batched generation continues after the prompt

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        super().reset(episodes)
        self.load()

    def _predict(self, prompts: list[str], images: list[Any]) -> np.ndarray:
        import torch

        single = len(prompts) == 1
        inputs = self.processor(
            prompts[0] if single else prompts,
            images[0] if single else images,
            return_tensors="pt",
            padding=not single,
        )
        inputs = inputs.to(self._device, dtype=self._dtype)
        gen = (
            {"do_sample": False}
            if self.cfg.temperature == 0
            else {"do_sample": True, "temperature": self.cfg.temperature}
        )
        self.stats["model_calls"] += 1
        with torch.inference_mode():
            out = self.model.predict_action(**inputs, unnorm_key=self.cfg.unnorm_key, **gen)
        if isinstance(out, torch.Tensor):
            out = out.float().cpu().numpy()
        return np.asarray(out, dtype=np.float64)

    def act(self, observations: list[Observation]) -> np.ndarray:
        from PIL import Image

        self.load()
        prompts = [self._prompt(o.instruction) for o in observations]
        images = [Image.fromarray(self._image(o)).convert("RGB") for o in observations]
        b = len(prompts)
        what = f"OpenVLA checkpoint {self.cfg.checkpoint}"
        raw = None
        if b > 1 and self.batched is not False:
            try:
                out = self._predict(prompts, images)
                if np.shape(out) == (b, ACTION_DIM):
                    raw = out
                    self.batched = True
            except Exception as exc:  # the model's predict_action may only take one sample
                if self.batched:
                    raise PolicyError(
                        f"{what}: batched predict_action failed ({exc}); "
                        f'set batch_inference = "off" in {self.source}'
                    ) from exc
                log.info("%s: batched predict_action failed (%s); one call per episode", what, exc)
            if raw is None:
                if self.batched:
                    raise PolicyError(
                        f"{what}: batched predict_action returned shape "
                        f"{np.shape(out)}, expected ({b}, {ACTION_DIM}); set "
                        f'batch_inference = "off" in {self.source}'
                    )
                self.batched = False
        if raw is None:
            raw = np.concatenate(
                [check_actions(self._predict([p], [im]), 1, what) for p, im in zip(prompts, images)]
            )
        return self._finish(raw, what)

    def close(self) -> None:
        self.model = None


def make_openvla(cfg: OpenVLAConfig, *, name: str, source: str):
    if cfg.checkpoint:
        return OpenVLAInProcessPolicy(cfg, name, source)
    return OpenVLARestPolicy(cfg, name, source)
