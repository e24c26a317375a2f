"""Loopback model servers that speak the real protocols, for tests, the bench and dry runs.

- :class:`OpenVLAServer`: OpenVLA's ``deploy.py`` REST protocol (``POST /act``, json-numpy,
  ``"error"`` on failure) plus vlthink's batched extension ``POST /act_batch``.
- :class:`OpenPIServer`: openpi's websocket policy server (metadata frame first, msgpack-numpy
  observations in, ``{"actions": (H, D)}`` out, a text frame + close on error, ``GET /healthz``,
  optional ``Authorization: Api-Key <key>``).
- :class:`ChatServer`: an OpenAI-compatible ``POST /v1/chat/completions`` endpoint.

The "model" behind each is a plain function (deterministic by default) and a lock that
serialises calls like a single GPU would, with an optional simulated latency per call and per
batch item. ``fault`` switches a server into one failure mode for error-path tests. Each server
binds 127.0.0.1 on an ephemeral port (``port=0``) and runs in a daemon thread::

    with OpenVLAServer() as srv:
        print(srv.url)   # http://127.0.0.1:PORT

Command line (a server for manual runs): ``python -m vlthink.testing.servers openvla --port 8000``.
"""

import base64
import io
import socket
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import numpy as np

from vlthink.policies.serving import msgpack_packb, msgpack_unpackb


def _bind(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def free_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    s = _bind(0)
    port = s.getsockname()[1]
    s.close()
    return port


class _SimulatedModel:
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
        with self._gpu:
            if self.latency_s or self.per_item_s:
                time.sleep(self.latency_s + self.per_item_s * n_items)
            return fn()


# --- HTTP server plumbing -----------------------------------------------------------------------


class _FaultSwitch:
    """``server.fault = "..."`` makes the simulated model misbehave (shared by every server)."""

    model: "_SimulatedModel"

    @property
    def fault(self):
        return self.model.fault

    @fault.setter
    def fault(self, value):
        self.model.fault = value


class _UvicornThread:
    def __init__(self, app: Any, port: int = 0):
        self.app = app
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self):
        import uvicorn

        sock = _bind(self.port)
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


# --- OpenVLA REST -------------------------------------------------------------------------------


def default_openvla_predict(
    images: np.ndarray, instructions: list[str], unnorm_key: str
) -> np.ndarray:
    """A deterministic stand-in: small moves derived from the image and the instruction.

    Raw OpenVLA convention: gripper in [0, 1] with 1 = open.
    """
    out = []
    for img, text in zip(images, instructions):
        v = float(img.mean()) / 255.0
        h = (sum(map(ord, text)) % 17) / 17.0
        out.append(
            [
                0.01 * (v - 0.5),
                0.006 * (h - 0.5),
                -0.003,
                0.0,
                0.0,
                0.02 * (h - 0.5),
                1.0 if h > 0.3 else 0.0,
            ]
        )
    return np.asarray(out, dtype=np.float64)


class OpenVLAServer(_FaultSwitch, _UvicornThread):
    """OpenVLA deploy.py protocol on 127.0.0.1 (+ ``/act_batch``, a vlthink extension).

    ``fault``: None | "error" (answers "error") | "malformed" (non-JSON body) | "wrong-shape"
    (a 6-vector) | "http-500" | "hang" (sleeps ``hang_s`` before answering).
    """

    def __init__(
        self,
        predict: Callable[..., np.ndarray] = default_openvla_predict,
        latency_s: float = 0.0,
        per_item_s: float = 0.0,
        port: int = 0,
        unnorm_keys: tuple[str, ...] = ("bridge_orig", "sft"),  # the paper's checkpoints: "sft"
        hang_s: float = 3.0,
    ):
        self.model = _SimulatedModel(latency_s, per_item_s, hang_s)
        self.predict = predict
        self.unnorm_keys = unnorm_keys
        super().__init__(self._make_app(), port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, images: np.ndarray, instructions: list[str], unnorm_key: Any) -> Any:
        m = self.model
        if unnorm_key not in self.unnorm_keys:  # deploy.py asserts inside predict_action -> "error"
            return "error"
        if m.fault == "error":
            return "error"
        out = m._compute(len(images), lambda: self.predict(images, instructions, unnorm_key))
        if m.fault == "wrong-shape":
            out = np.asarray(out)[..., :6]
        return out

    def _make_app(self):
        import json_numpy
        from fastapi import FastAPI, Request
        from fastapi.concurrency import run_in_threadpool
        from fastapi.responses import PlainTextResponse, Response

        app = FastAPI(title="vlthink loopback OpenVLA server")

        def reply(content: Any) -> Response:
            if self.model.fault == "malformed":
                return PlainTextResponse("<html>502 bad gateway</html>")
            if self.model.fault == "http-500":
                return PlainTextResponse("Internal Server Error", status_code=500)
            return Response(json_numpy.dumps(content), media_type="application/json")

        async def handle(request: Request, batched: bool) -> Response:
            m = self.model
            try:
                payload = json_numpy.loads(await request.body())
                if "encoded" in payload:  # deploy.py's double-encoded variant
                    payload = json_numpy.loads(payload["encoded"])
                if batched:
                    images = np.asarray(payload["images"])
                    instructions = list(payload["instructions"])
                else:
                    images = np.asarray(payload["image"])[None]
                    instructions = [payload["instruction"]]
                assert images.dtype == np.uint8 and images.ndim == 4 and images.shape[-1] == 3
                assert len(instructions) == len(images)
                key = payload.get("unnorm_key")
            except Exception:  # deploy.py: log the traceback, answer "error"
                return reply("error")
            m._enter(
                len(images),
                {
                    "route": "act_batch" if batched else "act",
                    "shape": images.shape,
                    "instructions": instructions,
                    "unnorm_key": key,
                },
            )
            try:
                out = await run_in_threadpool(self._run, images, instructions, key)
            except Exception:
                traceback.print_exc()
                out = "error"
            finally:
                m._exit()
            if isinstance(out, str):
                return reply(out)
            out = np.asarray(out, dtype=np.float64)
            return reply(out if batched else out[0])

        @app.post("/act")
        async def act(request: Request):
            return await handle(request, batched=False)

        @app.post("/act_batch")
        async def act_batch(request: Request):
            return await handle(request, batched=True)

        return app


# --- OpenAI-compatible chat ---------------------------------------------------------------------


def always_yes(question: str, image: np.ndarray) -> str:
    return "Yes, it is on the left."


class ChatServer(_FaultSwitch, _UvicornThread):
    """OpenAI-compatible chat completions on 127.0.0.1 (``/v1/chat/completions``, ``/v1/models``).

    ``answer(question_text, image_uint8) -> str`` plays the VLM. ``fault``: None | "http-500"
    (OpenAI-style error JSON) | "malformed" (no ``choices``) | "hang" | "not-json".
    """

    def __init__(
        self,
        answer: Callable[[str, np.ndarray], str] = always_yes,
        latency_s: float = 0.0,
        api_key: str | None = None,
        port: int = 0,
        hang_s: float = 3.0,
        model_name: str = "loopback-vlm",
    ):
        self.model = _SimulatedModel(latency_s, 0.0, hang_s)
        self.answer = answer
        self.api_key = api_key
        self.model_name = model_name
        super().__init__(self._make_app(), port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _make_app(self):
        from fastapi import FastAPI, Request
        from fastapi.concurrency import run_in_threadpool
        from fastapi.responses import JSONResponse, PlainTextResponse
        from PIL import Image

        app = FastAPI(title="vlthink loopback OpenAI-compatible server")

        def err(status: int, message: str, kind: str = "invalid_request_error"):
            return JSONResponse(
                {"error": {"message": message, "type": kind, "code": status}}, status_code=status
            )

        @app.get("/v1/models")
        async def models():
            return {"object": "list", "data": [{"id": self.model_name, "object": "model"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            m = self.model
            if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
                return err(401, "Incorrect API key provided.", "authentication_error")
            body = await request.json()
            texts, images = [], []
            try:
                for msg in body["messages"]:
                    content = msg["content"]
                    parts = (
                        [{"type": "text", "text": content}] if isinstance(content, str) else content
                    )
                    for part in parts:
                        if part["type"] == "text":
                            texts.append(part["text"])
                        elif part["type"] == "image_url":
                            url = part["image_url"]["url"]
                            head, _, data = url.partition(",")
                            assert head.startswith("data:image/") and head.endswith(";base64")
                            img = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
                            images.append(np.asarray(img))
            except (KeyError, TypeError, AssertionError, ValueError) as exc:
                return err(400, f"bad request: {exc}")
            question = "\n".join(texts)
            m._enter(
                1,
                {
                    "question": question,
                    "image_shapes": [i.shape for i in images],
                    "temperature": body.get("temperature"),
                    "model": body.get("model"),
                    "max_tokens": body.get("max_tokens"),
                },
            )
            try:
                if m.fault == "http-500":
                    return err(
                        500,
                        "The server had an error while processing your request.",
                        "server_error",
                    )
                image = images[0] if images else np.zeros((1, 1, 3), np.uint8)
                answer = await run_in_threadpool(
                    m._compute, 1, lambda: self.answer(question, image)
                )
            finally:
                m._exit()
            if m.fault == "malformed":
                return {"id": "x", "object": "chat.completion", "result": answer}
            if m.fault == "not-json":
                return PlainTextResponse("upstream timed out")
            return {
                "id": f"chatcmpl-{m.requests}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", self.model_name),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": answer},
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }

        return app


# --- openpi websocket ---------------------------------------------------------------------------


def default_openpi_infer(obs: dict) -> dict:
    """A deterministic stand-in returning a chunk of 4 actions of 7 dims (gripper 1 = open)."""
    chunk = np.zeros((4, 7), dtype=np.float32)
    chunk[:, 0] = np.arange(4) * 0.001 + 0.001
    chunk[:, 6] = 1.0
    return {"actions": chunk}


class OpenPIServer(_FaultSwitch):
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
        self.model = _SimulatedModel(latency_s, 0.0, hang_s)
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

        sock = _bind(self.port)
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


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("protocol", choices=["openvla", "openpi", "chat"])
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--latency", type=float, default=0.0, help="simulated seconds per model call")
    args = ap.parse_args(argv)
    cls = {"openvla": OpenVLAServer, "openpi": OpenPIServer, "chat": ChatServer}[args.protocol]
    srv = cls(port=args.port, latency_s=args.latency).start()
    print(f"{args.protocol} loopback server at {srv.url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
