"""One retry loop for every adapter that talks to a model server.

A call that fails *transiently* (a timeout, a connection reset or closed mid-response, an HTTP
5xx, a connection refused while a server restarts) is sent again, with the same observation,
after ``backoff_s``, then twice that, and so on, up to ``retries`` times. Each retry is counted
(``policy.stats["retries"]``, for the harness to record) and logged on one line.
When the last retry fails too, the failure is raised as the :class:`PolicyError` it would have
been without retries (the harness's failure table applies unchanged). Anything else (an HTTP
4xx, a malformed reply, a server-side inference error) is raised at once: sending the same
request again would get the same answer.

The policy-file keys ``retries`` and ``backoff_s`` say how a server is reached, never what it
answers, so they are not part of a run's recorded identity (a run may be resumed with more).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from vlthink.policies.base import PolicyError

log = logging.getLogger("vlthink.policies.retry")

T = TypeVar("T")

DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 0.5
#: Keys of a policy file that tune the retries: left out of the recorded config (see above).
RETRY_KEYS = ("retries", "backoff_s")


class TransientError(PolicyError):
    """A failure that another try may cure; the message says what happened."""


def check_retry_settings(cfg: object) -> tuple[str, str] | None:
    """(key, problem) for a config's ``retries``/``backoff_s``, None when they are usable."""
    if getattr(cfg, "retries", 0) < 0:
        return ("retries", f"must be >= 0 (0 = no retry), got {cfg.retries}")
    if getattr(cfg, "backoff_s", 0.0) < 0:
        return ("backoff_s", f"must be >= 0 seconds, got {cfg.backoff_s}")
    return None


class Retrier:
    """Runs a call, again after a transient failure; thread-safe (adapters fan calls out)."""

    def __init__(
        self,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        stats: dict[str, int] | None = None,
    ):
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        # The policy's ``stats`` dict: ``stats["retries"]`` counts the retries made so far.
        self.stats = stats if stats is not None else {}
        self.stats.setdefault("retries", 0)
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self.stats["retries"]

    def call(self, fn: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except TransientError as exc:
                if attempt == self.retries:
                    if self.retries:
                        raise PolicyError(
                            f"{exc} (gave up after {self.retries} retries; raise `retries` "
                            "in the policy file if the server is only slow to recover)"
                        ) from exc
                    raise PolicyError(str(exc)) from exc
                delay = self.backoff_s * 2**attempt
                with self._lock:
                    self.stats["retries"] += 1
                log.warning("retry %d of %d in %.2g s: %s", attempt + 1, self.retries, delay, exc)
                time.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises
