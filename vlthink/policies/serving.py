"""Shared helpers for adapters that talk to model servers: codecs, concurrency, error text, images.

- json-numpy (OpenVLA's REST server): the ``json_numpy`` package's ``dumps``/``loads``, which
  encode an array as ``{"__numpy__": <base64 bytes>, "dtype": ..., "shape": [...]}``.
- msgpack-numpy (openpi's websocket server): arrays travel as maps
  ``{b"__ndarray__": True, b"data": raw bytes, b"dtype": dtype.str, b"shape": shape}`` and numpy
  scalars as ``{b"__npgeneric__": True, b"data": item, b"dtype": dtype.str}``; implemented here
  with msgpack's ``default``/``object_hook`` so that openpi itself is not needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from vlthink.policies.base import PolicyError
from vlthink.policies.retry import TransientError

T = TypeVar("T")
R = TypeVar("R")


# --- msgpack-numpy ------------------------------------------------------------------------------


def _pack_default(obj: Any) -> Any:
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in ("V", "O", "c"):
        raise TypeError(f"msgpack-numpy cannot carry arrays of dtype {obj.dtype}")
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        return {
            b"__ndarray__": True,
            b"data": arr.tobytes(),
            b"dtype": arr.dtype.str,
            b"shape": list(arr.shape),
        }
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot msgpack an object of type {type(obj).__name__}")


def _unpack_hook(obj: dict) -> Any:
    if b"__ndarray__" in obj:
        return np.frombuffer(obj[b"data"], dtype=np.dtype(obj[b"dtype"])).reshape(obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def msgpack_packb(obj: Any) -> bytes:
    import msgpack

    return msgpack.packb(obj, default=_pack_default, use_bin_type=True)


def msgpack_unpackb(data: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(data, object_hook=_unpack_hook, raw=False, strict_map_key=False)


# --- concurrency --------------------------------------------------------------------------------


class ThreadFanOut:
    """Runs one call per batch item on a small thread pool; results in input order.

    Used for servers that answer one request at a time (OpenVLA's ``deploy.py``, an OpenAI chat
    endpoint): K episodes -> K concurrent requests per step. The first failure is re-raised.
    """

    def __init__(self, max_workers: int):
        self.max_workers = max(1, int(max_workers))
        self._pool: ThreadPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        items = list(items)
        if len(items) <= 1:
            return [fn(x) for x in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="vlthink-policy")
        futures = [self._pool.submit(fn, x) for x in items]
        return [f.result() for f in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def live_slots(observations: list[Any], started: int, name: str) -> list[int]:
    """The slots ``act`` was given an observation for (``None``: an idle slot); each must be one
    of the ``started`` slots the harness reset."""
    live = [i for i, o in enumerate(observations) if o is not None]
    if live and live[-1] >= started:
        raise PolicyError(
            f"{name}: act() got an observation for slot {live[-1]}, "
            f"but only {started} episodes were started"
        )
    return live


class SessionPerThread:
    """A ``requests.Session`` per thread (sessions keep connections alive, not thread-safe)."""

    def __init__(self, headers: dict[str, str] | None = None):
        self._local = threading.local()
        self._headers = headers or {}
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def get(self):
        s = getattr(self._local, "session", None)
        if s is None:
            import requests

            s = requests.Session()
            s.headers.update(self._headers)
            self._local.session = s
            with self._lock:
                self._all.append(s)
        return s

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                s.close()
            self._all.clear()


def _connection_trouble(exc: BaseException) -> str:
    """What a ``requests`` connection failure was, in words."""
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "reset" in text:
        return "connection reset by the server"
    if "without response" in text or "aborted" in text:
        return "connection closed before an answer"
    return f"connection failed: {str(exc)[:120]}"


def http_failure(
    exc: BaseException, what: str, url: str, timeout_s: float, fix: str
) -> PolicyError:
    """The error for an HTTP call to ``url`` that raised ``exc``: one line saying what happened
    and what to do; a :class:`TransientError` (retried) when another try may succeed."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return TransientError(
            f"{what} at {url} did not answer within {timeout_s:g} s (timeout): is the model "
            f"overloaded or stuck? raise `timeout_s` or {fix}"
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return TransientError(
            f"{what} at {url} broke the connection mid-response (connection reset; "
            f"{str(exc)[:120]}): check the server's log"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        trouble = _connection_trouble(exc)
        if trouble == "connection refused":
            return TransientError(f"cannot reach {what} at {url} (connection refused): {fix}")
        return TransientError(f"{what} at {url}: {trouble}: check the server's log")
    return PolicyError(f"request to {what} at {url} failed ({type(exc).__name__}: {exc}): {fix}")


def http_status_failure(status: int, excerpt: str, what: str, url: str, hint: str) -> PolicyError:
    """The error for an answer other than HTTP 200: a 5xx is the server's own error (retried,
    shown with its body); 408 and 429 ask to try later; any other status is the request's
    fault, and ``hint`` says which setting to check."""
    if status >= 500 or status in (408, 429):
        return TransientError(f"{what} at {url}: the server answered HTTP {status}: {excerpt!r}")
    return PolicyError(f"{what} at {url} answered HTTP {status}: {excerpt!r}; {hint}")


# --- images -------------------------------------------------------------------------------------


def check_image(image: Any, source: str) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise PolicyError(
            f"{source}: expected an RGB uint8 image (H, W, 3), got {arr.dtype} {arr.shape}"
        )
    return arr


def resize_image(image: np.ndarray, size: list[int] | tuple[int, int] | None) -> np.ndarray:
    """Resize an (H, W, 3) uint8 image to ``size = [height, width]`` (Lanczos); None = as is."""
    if not size:
        return image
    h, w = int(size[0]), int(size[1])
    if image.shape[:2] == (h, w):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((w, h), Image.LANCZOS))


def api_key(cfg: Any, source: str) -> str | None:
    """The API key a config asks for: ``api_key`` itself, or the environment variable that
    ``api_key_env`` names (so that the key never sits in a policy file, a manifest or a log).
    The key's value never appears in an error message."""
    import os

    from vlthink.policies.registry import PolicyConfigError

    var = getattr(cfg, "api_key_env", None)
    if not var:
        return cfg.api_key
    value = os.environ.get(var)
    if not value:
        raise PolicyConfigError(
            f"{source}: the environment variable {var} (named by `api_key_env`) is "
            f"not set. Fix: export {var}=<your key> before running"
        )
    return value


def check_api_key_settings(cfg: Any) -> tuple[str, str] | None:
    if getattr(cfg, "api_key", None) and getattr(cfg, "api_key_env", None):
        return (
            "api_key_env",
            "set either api_key or api_key_env, not both (prefer api_key_env: "
            "a key in a file ends up in copies of it)",
        )
    return None
