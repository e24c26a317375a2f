"""Every ``bash`` and ``python`` block in README.md and docs/ runs as written.

A block is skipped only when the line before it says why it cannot run here, as
``<!-- not-run: REASON -->`` (model weights, a GPU, hours of CPU, the set-up itself); a block whose
line before it is ``<!-- slow: REASON -->`` runs only with ``-m slow``. Each block runs in its own
temporary directory (a Python block as a script file there), with this checkout's ``vlthink`` on
the path, and must exit 0 without a traceback.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*(not-run|slow):\s*(.+?)\s*-->$")
TIMEOUT_S = 600

# Blocks known to fail today, matched by a line they contain: (line, why). Remove a row when fixed.
KNOWN_FAILURES: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository
    line: int  # of the opening fence
    lang: str
    code: str
    mark: str | None  # "not-run" or "slow"
    reason: str | None


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with the marking on the line before each."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        mark = MARK.match(lines[i - 1].strip()) if i else None
        found.append(
            Block(
                page=str(path.relative_to(REPO)),
                line=i + 1,
                lang=opening.group(1),
                code="\n".join(lines[i + 1 : end]) + "\n",
                mark=mark.group(1) if mark else None,
                reason=mark.group(2) if mark else None,
            )
        )
        i = end + 1
    return found


RUNNABLE = [b for p in PAGES for b in blocks(p) if b.lang in ("bash", "python")]


def _param(block: Block):
    marks = []
    if block.mark == "not-run":
        marks.append(pytest.mark.skip(reason=f"not-run: {block.reason}"))
    if block.mark == "slow":
        marks.append(pytest.mark.slow)
    marks += [
        pytest.mark.xfail(strict=False, reason=why)
        for line, why in KNOWN_FAILURES
        if line in block.code
    ]
    return pytest.param(block, marks=marks, id=f"{block.page}:{block.line}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S
    )


def _run_block(block: Block, cwd: Path) -> subprocess.CompletedProcess:
    if block.lang == "python":
        script = cwd / "example.py"
        script.write_text(block.code)
        return _run([sys.executable, str(script)], cwd)
    return _run(["bash", "-euo", "pipefail", "-c", block.code], cwd)


@pytest.mark.parametrize("block", [_param(b) for b in RUNNABLE])
def test_every_bash_and_python_block_in_the_docs_runs_as_written(block, tmp_path):
    done = _run_block(block, tmp_path)
    said = done.stdout[-3000:] + done.stderr[-3000:]
    assert done.returncode == 0, f"{block.page}:{block.line} exited {done.returncode}\n{said}"
    # A process it started may fail while it exits 0 (a worker, say): a traceback is a failure.
    assert "Traceback (most recent call last)" not in done.stderr, said


def test_every_marking_gives_a_reason_and_sits_right_above_a_runnable_block():
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            mark = MARK.match(line.strip())
            if mark:
                where = f"{page.relative_to(REPO)}:{i + 1}"
                assert len(mark.group(2).split()) >= 3, f"{where}: say why it cannot run"
                opening = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
                assert opening and opening.group(1) in ("bash", "python"), where


def test_the_readme_quick_start_evaluates_the_oracle_after_its_set_up(tmp_path):
    (quick,) = [
        b for b in blocks(REPO / "README.md") if b.code.startswith("bash .ci/setup && vlthink-eval")
    ]
    command = quick.code.strip().removeprefix("bash .ci/setup && ")
    done = _run(shlex.split(command), tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "VLThink-Traffic-v0" in done.stdout
    assert len((tmp_path / "runs/demo/episodes.jsonl").read_text().splitlines()) == 8


def test_the_readme_test_command_is_the_one_ci_runs():
    (tests,) = [b for b in blocks(REPO / "README.md") if b.code.startswith("bash .ci/setup --test")]
    ci = (REPO / ".ci/run").read_text()
    for step in tests.code.strip().removeprefix("bash .ci/setup --test && ").split(" && "):
        assert f"\n{step}" in ci, step
    assert "\nbash .ci/setup --test\n" in ci
