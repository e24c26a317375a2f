"""What the loopback model servers share: binding 127.0.0.1, a simulated model (counters, a
GPU-like lock, latency, a fault switch) and a uvicorn server in a daemon thread."""

import socket
import threading
import time
from collections.abc import Callable
from typing import Any


def bind_loopback(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def free_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    s = bind_loopback(0)
    port = s.getsockname()[1]
    s.close()
    return port


def sleep_until(deadline: float) -> None:
    """Sleep what is left until ``deadline`` (``time.monotonic``), if anything."""
    left = deadline - time.monotonic()
    if left > 0:
        time.sleep(left)


class SimulatedModel:
    """Counters, a GPU-like lock and simulated latency shared by the fake servers."""

    def __init__(self, latency_s: float = 0.0, per_item_s: float = 0.0, hang_s: float = 3.0):
        self.latency_s = latency_s
        self.per_item_s = per_item_s
        self.hang_s = hang_s
        self.fault: str | None = None
        self.requests = 0
        self.items = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.log: list[dict[str, Any]] = []
        self._gpu = threading.Lock()
        self._count = threading.Lock()

    def reset_counters(self) -> None:
        with self._count:
            self.requests = self.items = self.max_in_flight = 0
            self.log.clear()

    def _enter(self, n_items: int, record: dict[str, Any]) -> None:
        with self._count:
            self.requests += 1
            self.items += n_items
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.log.append(record)

    def _exit(self) -> None:
        with self._count:
            self.in_flight -= 1

    def _compute(self, n_items: int, fn: Callable[[], Any]) -> Any:
        if self.fault == "hang":
            time.sleep(self.hang_s)
        with self._gpu:  # the call takes its latency in all, its own compute included
            t0 = time.monotonic()
            result = fn()
            sleep_until(t0 + self.latency_s + self.per_item_s * n_items)
            return result


class FaultSwitch:
    """``server.fault = "..."`` makes the simulated model misbehave (shared by every server)."""

    model: "SimulatedModel"

    @property
    def fault(self):
        return self.model.fault

    @fault.setter
    def fault(self, value):
        self.model.fault = value


class UvicornThread:
    def __init__(self, app: Any, port: int = 0):
        self.app = app
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self):
        import uvicorn

        sock = bind_loopback(self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="error",
            lifespan="off",
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            daemon=True,
            name=f"loopback-{self.port}",
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"loopback server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
