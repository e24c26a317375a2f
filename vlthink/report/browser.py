"""A headless Chromium, driven over the DevTools protocol: load a page, collect console errors
and failed loads, evaluate JavaScript, take a screenshot.  Used by the report tests (and by
anyone who wants to check a page renders without opening a desktop browser)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlthink.errors import MissingFileError

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]
NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    values: dict[str, Any] = field(default_factory=dict)  # name -> result of an expression
    screenshot: bytes = b""


class _Session:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    async def call(self, method: str, **params: Any) -> dict:
        self.next_id += 1
        my = self.next_id
        await self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    async def wait_event(self, name: str, timeout: float) -> None:
        if any(e.get("method") == name for e in self.events):
            return

        async def loop() -> None:
            while True:
                msg = json.loads(await self.ws.recv())
                self.events.append(msg)
                if msg.get("method") == name:
                    return

        await asyncio.wait_for(loop(), timeout)


def _errors(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(
                "console: "
                + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif m == "Runtime.exceptionThrown":
            out.append("exception: " + p["exceptionDetails"].get("text", "?"))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        elif m == "Network.loadingFailed":
            out.append(f"load failed: {p.get('errorText')}")
    return out


async def _drive(
    ws_url: str, url: str, expressions: dict[str, str], width: int, height: int, settle: float
) -> PageResult:
    import websockets

    async with websockets.connect(ws_url, max_size=2**28) as ws:
        s = _Session(ws)
        target = await s.call("Target.createTarget", url="about:blank")
        attached = await s.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        sid = attached["sessionId"]

        async def call(method: str, **params: Any) -> dict:
            s.next_id += 1
            my = s.next_id
            await ws.send(
                json.dumps({"id": my, "sessionId": sid, "method": method, "params": params})
            )
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("id") == my:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg.get("result", {})
                s.events.append(msg)

        for domain in ("Runtime", "Log", "Network", "Page"):
            await call(f"{domain}.enable")
        await call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await call("Page.navigate", url=url)
        await s.wait_event("Page.loadEventFired", 60)
        await asyncio.sleep(settle)  # let videos load their metadata
        result = PageResult()
        for name, expr in expressions.items():
            r = await call(
                "Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True
            )
            result.values[name] = r.get("result", {}).get("value")
        shot = await call("Page.captureScreenshot", format="png")
        result.screenshot = base64.b64decode(shot["data"])
        result.errors = _errors(s.events)
        return result


def load_page(
    path: Path,
    expressions: dict[str, str] | None = None,
    width: int = 1400,
    height: int = 2400,
    settle: float = 2.0,
    chromium: str | None = None,
) -> PageResult:
    """Open ``path`` in headless Chromium; console errors, expression values, a screenshot."""
    exe = chromium or find_chromium()
    if exe is None:
        raise MissingFileError(
            "no chromium found. Fix: bash .ci/setup --test (or apt-get install chromium)"
        )
    # Chromium's helper processes may still write to the profile after the browser has exited:
    # the whole process group is stopped, and a profile that cannot be removed is left behind.
    with tempfile.TemporaryDirectory(
        prefix="vlthink-chromium-", ignore_cleanup_errors=True
    ) as profile:
        proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            ws_url = _devtools_url(proc)
            return asyncio.run(
                _drive(
                    ws_url, Path(path).resolve().as_uri(), expressions or {}, width, height, settle
                )
            )
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """Terminate the browser, then kill whatever it started (its session's process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass


def _devtools_url(proc: subprocess.Popen) -> str:
    """Chromium prints 'DevTools listening on ws://...' on stderr once it is ready."""
    assert proc.stderr is not None
    for line in proc.stderr:
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            # keep reading its stderr, so that a chatty browser never blocks on a full pipe
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return m.group(1)
    raise RuntimeError(f"chromium exited ({proc.wait()}) before its DevTools endpoint was up")
