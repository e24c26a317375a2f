"""Loopback model servers for users' own tests and dry runs (need the ``test`` extra: fastapi,
uvicorn, websockets).

- :mod:`vlthink.testing.servers` — ``OpenVLAServer``, ``OpenPIServer``, ``ChatServer``,
  ``free_port``; ``python -m vlthink.testing.servers openvla --port 8000`` runs one by hand.
- :mod:`vlthink.testing.vla_eval_models` — ``ScriptedModel``, a scripted model behind vla-eval's own
  ``PredictModelServer`` (``vlthink[vla-eval]``); ``python -m vlthink.testing.vla_eval_models``.
"""
