"""A loopback server speaking openpi's websocket policy-server protocol (metadata frame first,
msgpack-numpy observations in, ``{"actions": (H, D)}`` out, a text frame + close on error,
``GET /healthz``, optional ``Authorization: Api-Key <key>``)."""

import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus

import numpy as np

from vlthink.policies.serving import msgpack_packb, msgpack_unpackb
from vlthink.testing.loopback import FaultSwitch, SimulatedModel, bind_loopback


def default_openpi_infer(obs: dict) -> dict:
    """A deterministic stand-in returning a chunk of 4 actions of 7 dims (gripper 1 = open)."""
    chunk = np.zeros((4, 7), dtype=np.float32)
    chunk[:, 0] = np.arange(4) * 0.001 + 0.001
    chunk[:, 6] = 1.0
    return {"actions": chunk}


class OpenPIServer(FaultSwitch):
    """openpi websocket policy-server protocol on 127.0.0.1.

    ``fault``: None | "error" (text frame with a traceback, then close 1011) | "wrong-shape"
    (actions of 5 dims) | "hang" | "garbage" (a binary frame that is not msgpack).
    """

    def __init__(
        self,
        infer: Callable[[dict], dict] = default_openpi_infer,
        metadata: dict | None = None,
        api_key: str | None = None,
        latency_s: float = 0.0,
        port: int = 0,
        hang_s: float = 3.0,
    ):
        self.model = SimulatedModel(latency_s, 0.0, hang_s)
        self.infer = infer
        self.metadata = (
            metadata if metadata is not None else {"policy": "loopback", "action_horizon": 4}
        )
        self.api_key = api_key
        self.port = port
        self.observations: list[dict] = []
        self.connections = 0
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _process_request(self, connection, request):
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, "OK\n")
        if self.api_key and request.headers.get("Authorization") != f"Api-Key {self.api_key}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid API key\n")
        return None

    def _handle(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        self.connections += 1
        ws.send(msgpack_packb(self.metadata))
        try:
            for message in ws:
                m = self.model
                obs = msgpack_unpackb(message)
                self.observations.append(obs)
                m._enter(1, {"keys": sorted(obs)})
                try:
                    if m.fault == "error":
                        raise RuntimeError("policy inference failed (loopback fault)")
                    if m.fault == "garbage":
                        ws.send(b"\xc1\xc1 not msgpack")
                        continue
                    result = m._compute(1, lambda obs=obs: self.infer(obs))
                    if m.fault == "wrong-shape":
                        result = {"actions": np.asarray(result["actions"])[..., :5]}
                    result = dict(result, server_timing={"infer_ms": 0.0})
                    ws.send(msgpack_packb(result))
                except Exception:
                    ws.send(traceback.format_exc())
                    ws.close(1011, "Internal server error. Traceback included in previous frame.")
                    return
                finally:
                    m._exit()
        except ConnectionClosed:
            return

    def start(self):
        from websockets.sync.server import serve

        sock = bind_loopback(self.port)
        self.port = sock.getsockname()[1]
        sock.listen()
        self._server = serve(
            self._handle,
            sock=sock,
            process_request=self._process_request,
            compression=None,
            max_size=None,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name=f"loopback-ws-{self.port}"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
