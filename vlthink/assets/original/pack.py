"""The original asset pack on disk: its expected files, where it lives, and its verification.

A pack is a folder laid out as the paper's ``ManiSkill/mani_skill/assets/carrot/``. It is whole
when it holds exactly the files of an expected list, each with its git blob SHA-1 (the SHA-1 of
``blob <size>\\0`` + the bytes: what ``git ls-tree`` prints, so a list made from the repository
checks a copy made any way). The real pack's list ships with vlthink as ``files.tsv`` (facts: paths,
hashes, sizes; never the files); tests pass lists of their own.

A pack is installed (:func:`install`) by filling a temporary folder beside the destination,
verifying it, and renaming it into place: a reader sees either no pack or a whole one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vlthink.paths import cache_dir

PACK_NAME = "original"
COMMIT = "cc61329d2ba230889e81149a5504ea7080e5dea4"  # the paper's repository at this commit
REPO = "CognitiveAISystems/BlindVLA"
PACK_SUBDIR = "ManiSkill/mani_skill/assets/carrot"  # the pack's folder inside the repository
ENV_VAR = "VLTHINK_ORIGINAL_ASSETS"  # a pack folder, instead of the cache's
FETCH_HINT = "vlthink assets fetch original"
FILES_TSV = Path(__file__).with_name("files.tsv")
EXPECTED_VAR = "VLTHINK_ORIGINAL_EXPECTED"  # a list in files.tsv's format, for a pack of one's own


class PackError(Exception):
    """A pack that is missing, incomplete or corrupt: ``str(exc)`` is one line naming the problem
    and the fix (the CLI prints it and exits 2)."""


@dataclass(frozen=True)
class ExpectedFile:
    path: str  # relative, forward slashes
    blob_sha1: str  # git blob SHA-1 of the bytes
    size: int | None  # bytes; None where the list does not know it


def read_expected(tsv: Path = FILES_TSV) -> tuple[ExpectedFile, ...]:
    """The expected files of a list in the shipped format (``git_blob_sha1  bytes  path``)."""
    rows = []
    for line in Path(tsv).read_text().splitlines()[1:]:
        if line.strip():
            sha, size, path = line.split("\t", 2)
            rows.append(ExpectedFile(path, sha, None if size == "?" else int(size)))
    return tuple(rows)


@cache
def shipped_files() -> tuple[ExpectedFile, ...]:
    """The real pack's files (``files.tsv``)."""
    return read_expected(FILES_TSV)


def expected_files() -> tuple[ExpectedFile, ...]:
    """The list packs are checked against: ``$VLTHINK_ORIGINAL_EXPECTED`` (a list of one's own,
    e.g. a test's synthetic pack), else the shipped one."""
    env = os.environ.get(EXPECTED_VAR)
    return read_expected(Path(env)) if env else shipped_files()


def write_expected(files: list[ExpectedFile], tsv: Path) -> Path:
    """Write a list in the shipped format (tests make lists for their synthetic packs)."""
    lines = ["git_blob_sha1\tbytes\tpath"]
    lines += [f"{f.blob_sha1}\t{'?' if f.size is None else f.size}\t{f.path}" for f in files]
    Path(tsv).write_text("\n".join(lines) + "\n")
    return Path(tsv)


def blob_sha1(path: Path) -> str:
    """The git blob SHA-1 of a file."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_of(root: Path) -> list[ExpectedFile]:
    """Every file under ``root`` as a list entry (hashes and sizes as found)."""
    out = []
    for p in sorted(Path(root).rglob("*")):
        if p.is_file():
            out.append(ExpectedFile(p.relative_to(root).as_posix(), blob_sha1(p), p.stat().st_size))
    return out


def list_hash(files) -> str:
    """sha256 over the sorted (path, blob SHA-1) pairs: one hash for a whole pack's contents."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\t{f.blob_sha1}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Problems:
    """What a folder lacks, holds too much of, or holds wrong, against an expected list."""

    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    corrupt: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.corrupt)

    def line(self, root: Path, fix: str) -> str:
        """One line naming every problem (the first few of each kind) and the fix."""
        parts = []
        for kind, paths in (("missing", self.missing), ("corrupt", self.corrupt)):
            parts += [f"{len(paths)} {kind}: {_names(paths)}"] if paths else []
        parts += [f"{len(self.extra)} not in the pack: {_names(self.extra)}"] if self.extra else []
        return f"original asset pack at {root} is not whole ({'; '.join(parts)}); fix: {fix}"


def _names(paths, most: int = 5) -> str:
    shown = ", ".join(paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


def check(root: Path, expected=None) -> Problems:
    """Compare the folder ``root`` with the expected list (:func:`expected_files` by default)."""
    expected = expected_files() if expected is None else expected
    root = Path(root)
    want = {f.path: f for f in expected}
    have = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    corrupt = []
    for path in sorted(have & want.keys()):
        f, on_disk = want[path], root / path
        if f.size is not None and on_disk.stat().st_size != f.size:
            corrupt.append(path)
        elif blob_sha1(on_disk) != f.blob_sha1:
            corrupt.append(path)
    return Problems(
        missing=tuple(sorted(want.keys() - have)),
        extra=tuple(sorted(have - want.keys())),
        corrupt=tuple(corrupt),
    )


def default_root() -> Path:
    """Where the pack lives: ``$VLTHINK_ORIGINAL_ASSETS``, else the user's cache."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else cache_dir() / "assets" / PACK_NAME


def install(
    dest: Path, fill: Callable[[Path], None], expected=None, fix: str = f"run `{FETCH_HINT}` again"
) -> Path:
    """Install a pack at ``dest``: ``fill(tmp)`` writes the files into a fresh folder beside it,
    which is verified and then renamed into place (an older pack there is replaced). When the
    verification fails, the folder is removed and PackError says why: nothing half-made stays."""
    dest = Path(dest).absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        fill(tmp)
        problems = check(tmp, expected)
        if problems:
            raise PackError(problems.line(dest, fix))
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            dest.rename(old)
        tmp.rename(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
