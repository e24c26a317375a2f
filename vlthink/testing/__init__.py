"""Loopback model servers for users' own tests and dry runs (need the ``test`` extra: fastapi,
uvicorn, websockets).

- :mod:`vlthink.testing.servers` — ``OpenVLAServer``, ``OpenPIServer``, ``ChatServer``,
  ``free_port``; ``python -m vlthink.testing.servers openvla --port 8000`` runs one by hand.
"""
