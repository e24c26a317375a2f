"""A loopback server speaking OpenVLA's ``deploy.py`` REST protocol (``POST /act``, json-numpy,
``"error"`` on failure) plus vlthink's batched extension ``POST /act_batch``."""

import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from vlthink.testing.loopback import FaultSwitch, SimulatedModel, UvicornThread


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


class OpenVLAServer(FaultSwitch, UvicornThread):
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
        self.model = SimulatedModel(latency_s, per_item_s, hang_s)
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
