"""VLM probe (``vlm-probe``): does the policy's VLM, asked directly, see the target and where?

On the first frame of each VL-Think episode the probe asks

    Do you see {target}? Answer 'yes' or 'no'. If 'yes', specify the position: 'left', 'center', or 'right'.

and, about a concept absent from the scene (``task["absent"]``), the same question, whose right
answer is no. Per episode it reports ``success`` (the answer says yes and names the right
position) and ``absent_correct`` (the answer to the absent question says no), so a model that
always says yes scores 0 on the second rate.

Scoring (:func:`score_answer`), on whole words, case-insensitively: the concept phrase itself is
blanked out of the answer first (so "no entry sign" does not read as "no"); the first of
yes/no decides the verdict; the position must be the only one of left / center (or centre) /
right the answer names. An answer listing several positions is not a position.

Backends: ``openai`` (any OpenAI-compatible chat endpoint: vLLM, SGLang, Ollama, LM Studio ...
serving Qwen2.5-VL, InternVL and others; one request per question, sent concurrently) and
``transformers`` (``AutoModelForImageTextToText`` + the processor's chat template, every
question of a step in one batched ``generate`` call).
"""

from __future__ import annotations

import base64
import io
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vlthink.policies.base import EpisodeSpec, Observation, PolicyError
from vlthink.policies.retry import (
    DEFAULT_BACKOFF_S,
    DEFAULT_RETRIES,
    Retrier,
    check_retry_settings,
)
from vlthink.policies.serving import (
    SessionPerThread,
    ThreadFanOut,
    api_key,
    check_api_key_settings,
    check_image,
    http_failure,
    http_status_failure,
    resize_image,
)

PROBE_PROMPT = (
    "Do you see {target}? Answer 'yes' or 'no'. If 'yes', specify the position: "
    "'left', 'center', or 'right'."
)
POSITIONS = ("left", "center", "right")
_POSITION_WORDS = {"left": "left", "center": "center", "centre": "center", "right": "right"}


# --- scoring ------------------------------------------------------------------------------------


def parse_answer(answer: str, phrases: tuple[str, ...] = ()) -> tuple[str | None, set[str]]:
    """(verdict "yes" | "no" | None, the set of positions named) of a free-text answer."""
    text = answer.lower()
    for phrase in sorted((p for p in phrases if p), key=len, reverse=True):
        text = re.sub(r"\b" + re.escape(phrase.lower()) + r"\b", " ", text)
    verdict = re.search(r"\b(yes|no)\b", text)
    positions = {_POSITION_WORDS[w] for w in re.findall(r"\b(left|center|centre|right)\b", text)}
    return (verdict.group(1) if verdict else None), positions


def score_answer(answer: str, target: str, position: str) -> bool:
    """True when the answer says yes and names ``position`` and no other position."""
    verdict, positions = parse_answer(answer, (target,))
    return verdict == "yes" and positions == {position}


def score_absent(answer: str, absent: str) -> bool:
    """True when the answer to the absent-concept question says no."""
    verdict, _ = parse_answer(answer, (absent,))
    return verdict == "no"


# --- config -------------------------------------------------------------------------------------


@dataclass
class VLMProbeConfig:
    backend: Literal["openai", "transformers"] = "openai"
    endpoint: str | None = None  # OpenAI-compatible base URL, e.g. "http://127.0.0.1:8000/v1"
    model: str | None = None  # served model name; unset = the first of GET {endpoint}/models
    api_key: str | None = None  # prefer api_key_env: a key in a file ends up in copies
    api_key_env: str | None = None  # the environment variable that holds the key
    checkpoint: str | None = None  # transformers: a local folder or hub id
    prompt_template: str = PROBE_PROMPT
    temperature: float = 0.0
    max_tokens: int = 32
    image_size: list[int] | None = None  # [height, width]; unset = the frame as rendered
    ask_absent: bool = True
    timeout_s: float = 60.0
    retries: int = DEFAULT_RETRIES  # openai: transient failures retried per call (0 = none)
    backoff_s: float = DEFAULT_BACKOFF_S  # seconds before the first retry, doubling after
    max_concurrency: int = 8
    device: str = "auto"
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    extra_body: dict[str, Any] = field(default_factory=dict)  # merged into each chat request

    def validate(self) -> tuple[str, str] | None:
        if problem := check_api_key_settings(self):
            return problem
        if self.backend == "openai":
            if not self.endpoint:
                return (
                    "endpoint",
                    'backend "openai" needs the server\'s base URL, e.g. '
                    '"http://127.0.0.1:8000/v1"',
                )
            if not self.endpoint.startswith(("http://", "https://")):
                return ("endpoint", f"must be an http(s) URL, got {self.endpoint!r}")
        if self.backend == "transformers" and not self.checkpoint:
            return ("checkpoint", 'backend "transformers" needs a model folder or hub id')
        if "{target}" not in self.prompt_template:
            return ("prompt_template", "must contain the placeholder {target}")
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) <= 0):
            return (
                "image_size",
                f"must be [height, width] with positive sizes, got {self.image_size}",
            )
        if self.temperature < 0 or self.max_tokens < 1 or self.timeout_s <= 0:
            key = (
                "temperature"
                if self.temperature < 0
                else "max_tokens"
                if self.max_tokens < 1
                else "timeout_s"
            )
            return (key, "out of range")
        return check_retry_settings(self)


# --- backends -----------------------------------------------------------------------------------


def _png_data_url(image: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class _OpenAIChat:
    def __init__(self, cfg: VLMProbeConfig, source: str):
        self.cfg = cfg
        self.source = source
        key = api_key(cfg, source)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._sessions = SessionPerThread(headers)
        self._fan = ThreadFanOut(cfg.max_concurrency)
        self.model = cfg.model
        self.requests = 0
        self._lock = threading.Lock()
        self.retry = Retrier(cfg.retries, cfg.backoff_s)

    @property
    def base(self) -> str:
        return self.cfg.endpoint.rstrip("/")

    def _fix(self) -> str:
        return (
            f"start an OpenAI-compatible server (e.g. `vllm serve Qwen/Qwen2.5-VL-7B-Instruct`) "
            f"or fix `endpoint` in {self.source}"
        )

    def _call(self, method: str, url: str, **kw) -> dict:
        """One JSON request, sent again after a transient failure."""
        return self.retry.call(lambda: self._call_once(method, url, **kw))

    def _call_once(self, method: str, url: str, **kw) -> dict:
        import requests

        with self._lock:
            self.requests += 1
        try:
            r = self._sessions.get().request(method, url, timeout=self.cfg.timeout_s, **kw)
        except requests.exceptions.RequestException as exc:
            raise http_failure(exc, "VLM server", url, self.cfg.timeout_s, self._fix()) from exc
        try:
            body = r.json()
        except ValueError:
            body = None
        if r.status_code != 200:
            msg = body.get("error") if isinstance(body, dict) else None
            msg = msg.get("message", msg) if isinstance(msg, dict) else (msg or r.text[:200])
            hint = (
                "check `api_key`" if r.status_code in (401, 403) else "check `model` and `endpoint`"
            )
            raise http_status_failure(
                r.status_code, str(msg), "VLM server", url, f"{hint} in {self.source}"
            )
        if not isinstance(body, (dict, list)):
            raise PolicyError(
                f"VLM server at {url} sent a malformed reply (not JSON): {r.text[:200]!r}"
            )
        return body

    def start(self) -> None:
        if self.model is None:
            url = self.base + "/models"
            body = self._call("GET", url)
            try:
                self.model = body["data"][0]["id"]
            except (KeyError, IndexError, TypeError) as exc:
                raise PolicyError(
                    f"VLM server at {url} lists no model; set `model` in {self.source}"
                ) from exc

    def ask(self, items: list[tuple[np.ndarray, str]]) -> list[str]:
        url = self.base + "/chat/completions"

        def one(item: tuple[np.ndarray, str]) -> str:
            image, question = item
            body = {
                "model": self.model,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": _png_data_url(image)}},
                            {"type": "text", "text": question},
                        ],
                    }
                ],
                "temperature": self.cfg.temperature,
                "max_tokens": self.cfg.max_tokens,
                **self.cfg.extra_body,
            }
            reply = self._call("POST", url, json=body)
            try:
                content = reply["choices"][0]["message"]["content"]
            except (KeyError, IndexError, TypeError) as exc:
                raise PolicyError(
                    f"VLM server at {url} sent a malformed reply (no "
                    f"choices[0].message.content): {str(reply)[:200]}"
                ) from exc
            if isinstance(content, list):  # some servers return content parts
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            if not isinstance(content, str):
                raise PolicyError(f"VLM server at {url} sent a non-text answer: {content!r:.100}")
            return content

        return self._fan.map(one, items)

    def close(self) -> None:
        self._fan.close()
        self._sessions.close()


class _TransformersChat:
    def __init__(self, cfg: VLMProbeConfig, source: str):
        self.cfg = cfg
        self.source = source
        self.model = None
        self.processor = None
        self.requests = 0  # model calls
        self.retry = None  # in process: nothing to retry

    def start(self) -> None:
        if self.model is not None:
            return
        from vlthink.policies.openvla import _torch_device_dtype

        ckpt = self.cfg.checkpoint
        try:
            import transformers
            from transformers import AutoModelForImageTextToText, AutoProcessor

            device, dtype = _torch_device_dtype(self.cfg.device, self.cfg.dtype)
            self.processor = AutoProcessor.from_pretrained(ckpt)
            dtype_kw = (
                "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
            )
            model = AutoModelForImageTextToText.from_pretrained(ckpt, **{dtype_kw: dtype})
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            raise PolicyError(
                f"cannot load VLM checkpoint {ckpt!r} ({type(exc).__name__}: "
                f"{str(exc)[:200]}): fix `checkpoint` in {self.source}"
            ) from exc
        self.model = model.to(device).eval()
        self._device, self._dtype = device, dtype
        tok = getattr(self.processor, "tokenizer", None)
        if tok is not None:
            tok.padding_side = "left"

    def ask(self, items: list[tuple[np.ndarray, str]]) -> list[str]:
        import torch
        from PIL import Image

        self.start()
        proc = self.processor
        prompts = [
            proc.apply_chat_template(
                [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": q}]}],
                add_generation_prompt=True,
                tokenize=False,
            )
            for _, q in items
        ]
        images = [Image.fromarray(img) for img, _ in items]
        inputs = proc(text=prompts, images=images, return_tensors="pt", padding=True)
        inputs = inputs.to(self._device, dtype=self._dtype)
        gen = (
            {"do_sample": False}
            if self.cfg.temperature == 0
            else {"do_sample": True, "temperature": self.cfg.temperature}
        )
        self.requests += 1
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.cfg.max_tokens, **gen)
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        return [t.strip() for t in proc.batch_decode(new_tokens, skip_special_tokens=True)]

    def close(self) -> None:
        self.model = None


# --- the policy ---------------------------------------------------------------------------------


class VLMProbePolicy:
    kind = "probe"

    def __init__(self, cfg: VLMProbeConfig, name: str, source: str):
        self.cfg = cfg
        self.name = name
        self.source = source
        self.config: dict[str, Any] = {}
        self.backend = (_OpenAIChat if cfg.backend == "openai" else _TransformersChat)(cfg, source)
        self._episodes: list[EpisodeSpec] = []

    @property
    def stats(self) -> dict[str, int]:
        retry = self.backend.retry
        return {"requests": self.backend.requests, "retries": retry.count if retry else 0}

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        self._episodes = list(episodes)
        self.backend.start()

    def question(self, concept: str) -> str:
        return self.cfg.prompt_template.format(target=concept)

    def probe(
        self, episodes: list[EpisodeSpec], observations: list[Observation]
    ) -> list[dict[str, Any]]:
        """Ask about each episode's target (and an absent concept) on its first frame."""
        if len(episodes) != len(observations):
            raise PolicyError(
                f"{self.name}: probe() got {len(episodes)} episodes and "
                f"{len(observations)} observations"
            )
        items: list[tuple[np.ndarray, str]] = []
        plan = []
        for ep, obs in zip(episodes, observations):
            task = ep.task or {}
            for key in ("target", "target_position"):
                if not task.get(key):
                    raise PolicyError(
                        f"{self.name}: episode {ep.env_id}#{ep.episode} has no task[{key!r}]; "
                        "the probe needs a VL-Think episode (target concept and position)"
                    )
            if task["target_position"] not in POSITIONS:
                raise PolicyError(
                    f"{self.name}: task['target_position'] must be one of {POSITIONS}, "
                    f"got {task['target_position']!r}"
                )
            image = resize_image(check_image(obs.image, self.name), self.cfg.image_size)
            t_idx = len(items)
            items.append((image, self.question(task["target"])))
            a_idx = None
            if self.cfg.ask_absent and task.get("absent"):
                a_idx = len(items)
                items.append((image, self.question(task["absent"])))
            plan.append((task, t_idx, a_idx))
        answers = self.backend.ask(items) if items else []
        results = []
        for task, t_idx, a_idx in plan:
            answer = answers[t_idx]
            verdict, positions = parse_answer(answer, (task["target"],))
            res: dict[str, Any] = {
                "success": score_answer(answer, task["target"], task["target_position"]),
                "answer": answer,
                "question": items[t_idx][1],
                "said_yes": verdict == "yes",
                "position": next(iter(positions)) if len(positions) == 1 else None,
                "absent_correct": None,
                "absent_answer": None,
                "absent_question": None,
            }
            if a_idx is not None:
                res["absent_answer"] = answers[a_idx]
                res["absent_question"] = items[a_idx][1]
                res["absent_correct"] = score_absent(answers[a_idx], task["absent"])
            results.append(res)
        return results

    def act(self, observations: list[Observation]) -> np.ndarray:
        """A probe does not move the robot: hold still with the gripper open."""
        out = np.zeros((len(observations), 7), dtype=np.float32)
        out[:, 6] = 1.0
        return out

    def close(self) -> None:
        self.backend.close()


def make_vlm_probe(cfg: VLMProbeConfig, *, name: str, source: str) -> VLMProbePolicy:
    return VLMProbePolicy(cfg, name, source)
