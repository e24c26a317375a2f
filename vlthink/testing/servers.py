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
binds 127.0.0.1 on an ephemeral port (``port=0``) and runs in a daemon thread. One module each
(:mod:`~vlthink.testing.openvla_server`, :mod:`~vlthink.testing.openpi_server`,
:mod:`~vlthink.testing.chat_server`, their plumbing in :mod:`~vlthink.testing.loopback`); this
module gathers their names::

    with OpenVLAServer() as srv:
        print(srv.url)   # http://127.0.0.1:PORT

Command line (a server for manual runs): ``python -m vlthink.testing.servers openvla --port 8000``.
"""

import time

from vlthink.testing.chat_server import ChatServer, always_yes
from vlthink.testing.loopback import free_port
from vlthink.testing.openpi_server import OpenPIServer, default_openpi_infer
from vlthink.testing.openvla_server import OpenVLAServer, default_openvla_predict

__all__ = [
    "ChatServer",
    "OpenPIServer",
    "OpenVLAServer",
    "always_yes",
    "default_openpi_infer",
    "default_openvla_predict",
    "free_port",
]


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
