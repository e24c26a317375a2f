"""A loopback OpenAI-compatible chat server (``POST /v1/chat/completions``, ``GET /v1/models``)."""

import base64
import io
import time
from collections.abc import Callable

import numpy as np

from vlthink.testing.loopback import FaultSwitch, SimulatedModel, UvicornThread


def always_yes(question: str, image: np.ndarray) -> str:
    return "Yes, it is on the left."


class ChatServer(FaultSwitch, UvicornThread):
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
        self.model = SimulatedModel(latency_s, 0.0, hang_s)
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
