"""These tests run under lerobot's own Python (3.12, ``.ci/lerobot``), not the default suite.

The default suite (Python 3.11, no lerobot) does not collect this directory. ``.ci/lerobot``
sets ``VLTHINK_LEROBOT_TESTS=1``: then a missing lerobot or plugin stops the run with one line
and a failing exit, never a silent skip.
"""

from __future__ import annotations

import os

import pytest

if os.environ.get("VLTHINK_LEROBOT_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]
else:
    try:
        import lerobot  # noqa: F401
        import lerobot_env_vlthink  # noqa: F401
    except ImportError as exc:
        pytest.exit(
            f"tests/lerobot: cannot import {exc.name} in {os.sys.executable}. Fix: run "
            "`bash .ci/lerobot`, which installs lerobot and the plugin.",
            returncode=1,
        )
