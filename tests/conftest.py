"""Test set-up: find the WidowX robot description before ManiSkill is imported; keep the
session's long-lived objects out of ManiSkill's forced garbage collections; the shared demos
recording."""

import gc
import os
from pathlib import Path

import pytest

_offline = Path(__file__).resolve().parents[1].parent / "shared" / "maniskill"
if not os.environ.get("MS_ASSET_DIR") and _offline.is_dir():
    os.environ["MS_ASSET_DIR"] = str(_offline)
os.environ.setdefault("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "1")


@pytest.fixture(scope="module", autouse=True)
def _freeze_what_lives_as_each_file_starts():
    """ManiSkill runs a full ``gc.collect()`` whenever a scene is cleared (every env close, every
    answer-mode reset); without a freeze each one walks every object that torch, SAPIEN and pytest
    hold for the whole session. Only what is still alive after a collection is frozen: the
    imports, not the previous file's module fixtures, which are gone by now."""
    gc.collect()
    gc.freeze()
    yield


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> dict:
    """One real `vlthink demos` recording, killed mid-run and resumed (test_demos.py), shared by
    the files that read a whole v2.1 dataset (test_demos.py, test_demos_verify.py): tests that
    damage it work on a copy."""
    from test_demos import record_killed_and_resumed

    return record_killed_and_resumed(tmp_path_factory.mktemp("demos") / "ds")
