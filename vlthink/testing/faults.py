"""A fault-injecting proxy on 127.0.0.1, in front of a loopback (or any local) model server.

Every ``every``-th call through the proxy misbehaves, the kinds taking turns in the order
given (``Fault(("slow", "reset"), every=5)``: call 5 slow, call 10 reset, call 15 slow ...):

- ``slow``: the answer is held back ``slow_s`` seconds (set it past the client's timeout);
- ``reset``: half of the answer is sent, then the connection is reset (TCP RST);
- ``http-500``: an HTTP call is answered ``500 Internal Server Error`` without reaching the
  server (a websocket call is passed through: the protocol has no status per message);
- ``refuse``: the connection is reset without an answer and the proxy stops listening for
  ``refuse_s`` seconds, so new connections are refused, as while a server restarts.

A call is one HTTP request (a keep-alive connection carries many) or, after a websocket
handshake (not a call), one message from the client. The proxy parses just enough of HTTP/1.1
(head, ``Content-Length`` or chunked body) and of websocket framing (RFC 6455) to find where a
call and its answer begin and end; the bytes themselves pass through unchanged::

    with OpenVLAServer() as srv, FaultProxy(srv.port, Fault(("http-500",), every=5)) as proxy:
        policy = load_policy("openvla-sft", endpoint=proxy.url("http") + "/act")
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

from vlthink.testing.loopback import bind_loopback

FAULT_KINDS = ("slow", "reset", "http-500", "refuse")
HTTP_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n"
    b"content-length: 38\r\n\r\nInternal Server Error (injected fault)"
)


@dataclass(frozen=True)
class Fault:
    """Which calls misbehave and how (see the module docstring)."""

    kinds: tuple[str, ...]
    every: int = 5
    slow_s: float = 2.0
    refuse_s: float = 1.0

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown or not self.kinds or self.every < 1:
            raise ValueError(f"Fault: kinds from {FAULT_KINDS} and every >= 1, got {self}")

    def kind_of(self, call: int) -> str | None:
        """The fault of call number ``call`` (1-based), None for a clean call."""
        if call % self.every:
            return None
        return self.kinds[(call // self.every - 1) % len(self.kinds)]


# --- reading just enough of the protocols -------------------------------------------------------


def read_http_message(f: BinaryIO) -> bytes | None:
    """One HTTP/1.1 request or response, head and body, as bytes; None at end of stream."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = f.readline(65536)
        if not line:
            return None
        head += line
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip().lower()
    if fields.get(b"transfer-encoding") == b"chunked":
        return head + _read_chunked(f)
    length = int(fields.get(b"content-length", b"0") or 0)
    return head + f.read(length)


def _read_chunked(f: BinaryIO) -> bytes:
    out = b""
    while True:
        size_line = f.readline(65536)
        out += size_line
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers up to the blank line
                line = f.readline(65536)
                out += line
                if line in (b"\r\n", b""):
                    return out
        out += f.read(size + 2)


@dataclass(frozen=True)
class Frame:
    raw: bytes
    opcode: int
    fin: bool

    @property
    def ends_message(self) -> bool:
        return self.fin and self.opcode in (0, 1, 2)  # continuation, text, binary


def read_frame(f: BinaryIO) -> Frame | None:
    """One websocket frame as it travelled (header, mask, payload); None at end of stream."""
    head = f.read(2)
    if len(head) < 2:
        return None
    n = head[1] & 0x7F
    ext = f.read({126: 2, 127: 8}.get(n, 0))
    if n == 126:
        n = struct.unpack("!H", ext)[0]
    elif n == 127:
        n = struct.unpack("!Q", ext)[0]
    mask = f.read(4) if head[1] & 0x80 else b""
    payload = f.read(n)
    if len(payload) < n:
        return None
    return Frame(head + ext + mask + payload, head[0] & 0x0F, bool(head[0] & 0x80))


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST rather than an orderly FIN: linger 0, and a read shutdown (which
    sends nothing) to wake a thread blocked reading it; the RST goes out when the last
    reference (a ``makefile``) is closed."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:  # the client gave up (a timeout) or the connection is gone
        return False


# --- the proxy ----------------------------------------------------------------------------------


class FaultProxy:
    """A proxy on 127.0.0.1 (``port=0``: an ephemeral one) to ``127.0.0.1:upstream_port``.

    ``calls`` counts the calls seen, ``injected`` the faults made; ``fault = None`` passes
    everything through (it may be changed while the proxy runs).
    """

    def __init__(self, upstream_port: int, fault: Fault | None = None, port: int = 0):
        self.upstream_port = upstream_port
        self.fault = fault
        self.port = port
        self.calls = 0
        self.injected: dict[str, int] = {k: 0 for k in FAULT_KINDS}
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._refuse_until = 0.0
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- listening ---------------------------------------------------------------------------
    def _listen(self) -> None:
        sock = bind_loopback(self.port)
        self.port = sock.getsockname()[1]
        sock.listen(64)
        sock.settimeout(0.02)
        self._listener = sock

    def start(self) -> FaultProxy:
        self._listen()
        self._thread = threading.Thread(
            target=self._accept_loop, daemon=True, name=f"fault-proxy-{self.port}"
        )
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:  # refusing: listen again when the time is up
                if time.monotonic() < self._refuse_until:
                    time.sleep(0.01)
                    continue
                try:
                    self._listen()
                except OSError:  # the port is briefly held elsewhere: try again
                    time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except OSError:  # the accept timed out, or _refuse closed the listener
                continue
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._listener is not None:
                self._listener.close()
            for sock in list(self._open):
                reset(sock)
            self._open.clear()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- one connection ----------------------------------------------------------------------
    def _next_call(self) -> str | None:
        """Count a call; the fault it gets (counted as injected), if any."""
        with self._lock:
            self.calls += 1
            kind = self.fault.kind_of(self.calls) if self.fault else None
            if kind:
                self.injected[kind] += 1
            return kind

    def _refuse(self, client: socket.socket) -> None:
        """Reset this call's connection and stop listening for ``refuse_s``."""
        with self._lock:
            self._refuse_until = time.monotonic() + (self.fault.refuse_s if self.fault else 1.0)
            listener, self._listener = self._listener, None
        if listener is not None:
            try:  # leaves the listening state at once (a close waits for the accept's poll)
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()  # connections are refused from here on
        reset(client)

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            reset(client)
            return
        with self._lock:
            self._open.update((client, upstream))
        cf, uf = client.makefile("rb"), upstream.makefile("rb")
        try:
            self._serve_http(client, cf, upstream, uf)
        except OSError:
            pass
        finally:
            for end in (cf, uf, client, upstream):
                end.close()
            with self._lock:
                self._open.difference_update((client, upstream))

    def _serve_http(
        self, client: socket.socket, cf: BinaryIO, upstream: socket.socket, uf: BinaryIO
    ) -> None:
        while True:
            request = read_http_message(cf)
            if request is None:
                return
            if b"upgrade: websocket" in request.split(b"\r\n\r\n")[0].lower():
                upstream.sendall(request)
                answer = read_http_message(uf)  # 101 Switching Protocols (not a call)
                if answer is None or not _send(client, answer):
                    return
                self._serve_websocket(client, cf, upstream, uf)
                return
            kind = self._next_call()
            if kind == "refuse":
                self._refuse(client)
                return
            if kind == "http-500":
                if not _send(client, HTTP_500):
                    return
                continue
            upstream.sendall(request)
            answer = read_http_message(uf)
            if answer is None or not self._answer(client, answer, kind):
                return

    def _answer(self, client: socket.socket, answer: bytes, kind: str | None) -> bool:
        """Send ``answer`` as the fault says; False when the connection is finished."""
        if kind == "slow":
            time.sleep(self.fault.slow_s if self.fault else 0.0)
        if kind == "reset":
            _send(client, answer[: len(answer) // 2])
            reset(client)
            return False
        return _send(client, answer)

    def _serve_websocket(
        self, client: socket.socket, cf: BinaryIO, upstream: socket.socket, uf: BinaryIO
    ) -> None:
        """Messages both ways; a fault drawn for a client message applies to its answer."""
        pending: list[str | None] = []  # the faults of the calls not yet answered, in order

        def answers() -> None:
            while (frame := read_frame(uf)) is not None:
                kind = pending.pop(0) if frame.ends_message and pending else None
                if not self._answer(client, frame.raw, kind):
                    return
            try:  # the server closed: so does the client's side
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        thread = threading.Thread(target=answers, daemon=True)
        thread.start()
        while (frame := read_frame(cf)) is not None:
            kind = self._next_call() if frame.ends_message else None
            if kind == "refuse":
                self._refuse(client)
                break
            if frame.ends_message:
                pending.append(None if kind == "http-500" else kind)
            upstream.sendall(frame.raw)
        reset(upstream)  # wakes the answering thread
        thread.join(timeout=5)
