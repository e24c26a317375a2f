"""The one durable store, on real files and real processes: atomic writes, the ledger's tail
repair (a torn line and a kill -9 mid-write) for each durable path (harness results,
diagnostics items, demo metadata), the lock, the identity check and the one error type."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vlthink import store
from vlthink.demos import files as demo_files
from vlthink.demos.store import DatasetError, attempts_ledger
from vlthink.diagnostics.rundir import ITEMS_FILE, RunDir, RunDirError
from vlthink.errors import VLThinkError
from vlthink.harness import results
from vlthink.harness.episodes import episode_seed

# --- the three durable paths, each as (write one record, read all back) --------------------------


def harness_row(i: int) -> dict:
    return {
        "env": "T-v0",
        "episode": i,
        "seed": 0,
        "episode_seed": episode_seed("T-v0", i, 0),
        "policy": "p",
        "instruction": "put it on x",
        "target": "x",
        "success_once": i % 2 == 0,
        "success_at_end": i % 2 == 0,
        "placed_on": "target",
        "steps": 10,
        "seconds": 0.5,
        "error": None,
        "pad": "x" * PAD,
    }


def demo_row(i: int) -> dict:
    return {**harness_row(i), "demo": {"kept": True, "episode_index": i}}


PAD = 1_000_000  # a long line: the kill lands inside its write
DIAG_MANIFEST = {"format": "vlthink-diagnose/1", "command": "probe", "settings": {"a": 1}}


def _diag_open(folder: Path) -> RunDir:
    return RunDir.open(folder, "probe", {"a": 1})


def read_harness(folder: Path) -> list[int]:
    rows, _ = results.read_rows(folder / results.ROWS_FILE)
    return [r["episode"] for r in rows]


def read_diag(folder: Path) -> list[int]:
    run = _diag_open(folder)
    keys = [int(r["key"]) for r in run.rows()]
    run._lock.close()
    return keys


def read_demo(folder: Path) -> list[int]:
    rows, _ = attempts_ledger(folder).read()
    return [r["episode"] for r in rows]


def _prepare(kind: str, folder: Path) -> Path:
    """Create the folder as its writer expects; returns the ledger file."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "diagnostics":
        (folder / "manifest.json").write_text(json.dumps(DIAG_MANIFEST))
        return folder / ITEMS_FILE
    if kind == "demos":
        attempts_ledger(folder).path.parent.mkdir(parents=True, exist_ok=True)
        return attempts_ledger(folder).path
    return folder / results.ROWS_FILE


# A child process that appends records of its kind as fast as it can, forever.
WRITERS = {
    "harness": """
        from vlthink.harness import results
        w = results.RowWriter(folder / results.ROWS_FILE)
        row = dict(env="T-v0", seed=0, policy="p", success_once=True, success_at_end=True,
                   steps=10, error=None, pad="x" * PAD)
        i = 0
        while True:
            w.write(dict(row, episode=i)); i += 1
    """,
    "diagnostics": """
        from vlthink.diagnostics.rundir import RunDir
        run = RunDir.open(folder, "probe", {"a": 1})
        i = 0
        while True:
            run.add(str(i), {"value": i, "pad": "x" * PAD}); i += 1
    """,
    "demos": """
        from vlthink.demos.store import attempts_ledger
        ledger = attempts_ledger(folder)
        row = dict(env="T-v0", seed=0, policy="p", success_once=True, success_at_end=True,
                   steps=10, error=None, pad="x" * PAD)
        i = 0
        while True:
            ledger.append(dict(row, episode=i, demo={"kept": True, "episode_index": i})); i += 1
    """,
}
READERS = {"harness": read_harness, "diagnostics": read_diag, "demos": read_demo}
WHOLE = {"harness": harness_row, "demos": demo_row}


def _whole_line(kind: str, i: int) -> str:
    if kind == "diagnostics":
        return json.dumps({"key": str(i), "value": i})
    return json.dumps(WHOLE[kind](i))


@pytest.mark.parametrize("kind", ["harness", "diagnostics", "demos"])
def test_a_torn_last_line_is_dropped_and_the_records_before_it_kept(tmp_path, kind):
    f = _prepare(kind, tmp_path / "d")
    whole = "".join(_whole_line(kind, i) + "\n" for i in range(3))
    f.write_text(whole + _whole_line(kind, 3)[:-40])  # a kill in the middle of record 3
    assert READERS[kind](tmp_path / "d") == [0, 1, 2]
    assert f.read_text() == whole  # the file itself is repaired (truncated to the last record)


@pytest.mark.parametrize("kind", ["harness", "diagnostics", "demos"])
def test_a_whole_last_record_without_its_newline_is_completed(tmp_path, kind):
    f = _prepare(kind, tmp_path / "d")
    whole = "".join(_whole_line(kind, i) + "\n" for i in range(3))
    f.write_text(whole[:-1])  # killed between the record and its newline
    assert READERS[kind](tmp_path / "d") == [0, 1, 2]
    assert f.read_text() == whole


def _kill_mid_write(child: subprocess.Popen, f: Path) -> None:
    """SIGKILL ``child`` while it is writing a record: once the file holds two records and its
    last byte is not a newline (a write in progress; a kill stops it part-way)."""
    deadline = time.monotonic() + 120
    while not f.exists():
        assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()[-2000:]
        time.sleep(0.001)
    fd = os.open(f, os.O_RDONLY)
    try:
        while True:
            assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
            size = os.fstat(fd).st_size
            if size > 2 * PAD and os.pread(fd, 1, size - 1) != b"\n":
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        os.close(fd)
    child.wait()


@pytest.mark.parametrize("kind", ["harness", "diagnostics", "demos"])
def test_a_writer_killed_with_sigkill_mid_append_resumes_at_its_last_complete_record(
    tmp_path, kind
):
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for attempt in range(5):  # a kill that lands just after a write completed is tried again
        folder = tmp_path / f"d{attempt}"
        f = _prepare(kind, folder)
        code = f"from pathlib import Path\nfolder = Path({str(folder)!r})\nPAD = {PAD}\n"
        child = subprocess.Popen(
            [sys.executable, "-c", code + textwrap.dedent(WRITERS[kind])],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        _kill_mid_write(child, f)
        if not f.read_bytes().endswith(b"\n"):
            break
    assert not f.read_bytes().endswith(b"\n")  # the kill did cut a record
    got = READERS[kind](folder)
    assert len(got) >= 2 and got == list(range(len(got)))  # every whole record, in order
    assert f.read_bytes().endswith(b"\n") and len(f.read_bytes().splitlines()) == len(got)


@pytest.mark.parametrize("kind", ["harness", "diagnostics", "demos"])
def test_a_corrupt_line_before_the_last_is_refused_with_file_line_and_fix(tmp_path, kind):
    f = _prepare(kind, tmp_path / "d")
    f.write_text(_whole_line(kind, 0) + "\n{oops\n" + _whole_line(kind, 2) + "\n")
    before = f.read_bytes()
    with pytest.raises(store.StoreError) as e:
        READERS[kind](tmp_path / "d")
    msg = str(e.value)
    assert str(f) in msg and "line 2" in msg and "Fix:" in msg and "\n" not in msg
    assert f.read_bytes() == before  # nothing is guessed, nothing rewritten


def test_meta_jsonl_appends_are_read_back_without_a_torn_tail(tmp_path):
    f = tmp_path / "meta" / "episodes.jsonl"
    f.parent.mkdir()
    demo_files.append_jsonl(f, [{"episode_index": 0, "length": 3}])
    demo_files.append_jsonl(f, [{"episode_index": 1, "length": 4}])
    with open(f, "a") as fh:
        fh.write('{"episode_index": 2, "le')
    assert [r["episode_index"] for r in demo_files.read_jsonl(f)] == [0, 1]


# --- atomic writes --------------------------------------------------------------------------------


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    f = tmp_path / "sub" / "a.json"
    store.atomic_write(f, "old")
    store.atomic_write(f, b"new")
    assert f.read_bytes() == b"new" and os.listdir(f.parent) == ["a.json"]


def test_a_failed_write_through_atomic_path_leaves_the_old_file(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("old\n")
    with pytest.raises(ZeroDivisionError):
        with store.atomic_path(f) as tmp:
            assert tmp.suffix == ".csv" and tmp.parent == f.parent
            tmp.write_text("half")
            raise ZeroDivisionError("the writer failed")
    assert f.read_text() == "old\n" and os.listdir(tmp_path) == ["t.csv"]


# --- lock, identity, one error type ---------------------------------------------------------------


def test_a_second_writer_of_a_run_directory_is_refused(tmp_path):
    with results.run_lock(tmp_path):
        with pytest.raises(results.ResultsError, match="another vlthink-eval is writing"):
            with results.run_lock(tmp_path):
                pass
    with results.run_lock(tmp_path):  # released at the end of the block
        pass


def test_a_second_diagnose_run_into_the_same_folder_is_refused(tmp_path):
    _prepare("diagnostics", tmp_path)
    first = _diag_open(tmp_path)
    with pytest.raises(RunDirError, match="another vlthink diagnose is writing"):
        _diag_open(tmp_path)
    first._lock.close()
    _diag_open(tmp_path)._lock.close()


def test_the_identity_check_names_the_first_setting_that_differs(tmp_path):
    d = store.ResumableDir(tmp_path)
    d.check_identity({"a": 1, "b": 2}, {"a": 1, "b": 2}, "use another --out")
    with pytest.raises(store.StoreError) as e:
        d.check_identity({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "c": 4}, "use another --out")
    assert "made with b = 2, this run asks for 5. Fix: use another --out" in str(e.value)
    d.check_identity({"n": 1, "a": 1}, {"n": 9, "a": 1}, "x", skip=["n"])  # a growable count


def test_a_diagnose_folder_made_with_other_settings_is_refused_by_name(tmp_path):
    _prepare("diagnostics", tmp_path)
    with pytest.raises(RunDirError, match="made with a = 1, this run asks for 2"):
        RunDir.open(tmp_path, "probe", {"a": 2})


def test_every_store_error_is_one_store_error_type_and_a_vlthink_error():
    for cls in (results.ResultsError, RunDirError, DatasetError):
        assert issubclass(cls, store.StoreError) and issubclass(cls, VLThinkError)


def test_an_unreadable_manifest_is_a_store_error_naming_the_file(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(results.ResultsError, match="manifest.json: not valid JSON"):
        results.read_manifest(tmp_path)


def test_a_bad_last_line_without_its_newline_is_named_not_dropped(tmp_path):
    f = _prepare("harness", tmp_path)
    bad = dict(harness_row(1), success_once="no")
    f.write_text(_whole_line("harness", 0) + "\n" + json.dumps(bad))  # hand-edited, no newline
    with pytest.raises(results.ResultsError, match="line 2: field 'success_once'"):
        read_harness(tmp_path)
    assert f.read_text().splitlines()[1] == json.dumps(bad)  # kept for the user to correct
