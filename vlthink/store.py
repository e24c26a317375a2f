"""The one durable store: atomic file writes, an append-only JSON-lines ledger, a resumable
directory.

* :func:`atomic_write` - a reader sees the old file or the new one, never half, and the new
  one survives a power cut: written aside in the same folder, fsync-ed, renamed into place,
  then the folder fsync-ed (the rename itself is durable).
* :class:`Ledger` - one JSON object per line, appended with one ``write`` and an ``fsync`` per
  record, so a kill loses at most the record being written. Opening repairs the tail
  *complete-or-drop*: a last line without its newline (a kill mid-write) is completed if it is a
  whole record, else cut away. Any other bad line is corruption the store will not guess
  about: reading stops with the file, the line and the fix. Rows may be typed: a
  :data:`RowSchema` (field -> :class:`Field`) is checked on every row read.
* :class:`ResumableDir` - a run directory held by one writer at a time (``.lock``, flock),
  whose manifest must agree with the settings of the run that resumes it (the first setting
  that differs is named).

Every problem is a :class:`StoreError` (a :class:`~vlthink.errors.VLThinkError`): exit code 2,
one line, and nothing already written is lost.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

from vlthink.errors import VLThinkError

TMP_MARK = ".tmp"


class StoreError(VLThinkError):
    """A store (ledger, run directory) that cannot be used as asked; the message names the fix."""


# --- atomic files -------------------------------------------------------------------------------


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def tmp_path(path: Path) -> Path:
    """A temporary name beside ``path``, unique to this call (several processes may write the
    same file at once: every version is whole and the last rename wins)."""
    path = Path(path)
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def _rename_durably(tmp: Path, path: Path) -> Path:
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)
    return Path(path)


def replace_durably(tmp: Path, path: Path) -> Path:
    """fsync the finished ``tmp`` (written by someone else), rename it onto ``path`` and fsync
    the folder."""
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    return _rename_durably(tmp, path)


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` atomically and durably; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        return _rename_durably(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # gone already, unless the write failed


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path`` through a library (an encoder, ``np.savez``, pandas):
    renamed durably onto ``path`` when the block ends, removed if it fails. The temporary name
    keeps ``path``'s suffix, which such writers read to pick a format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")
    try:
        yield tmp
        replace_durably(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, obj: Any, indent: int | None = 2, **dump: Any) -> Path:
    return atomic_write(path, json.dumps(obj, indent=indent, **dump) + "\n")


# --- typed rows ---------------------------------------------------------------------------------

_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class Field:
    """One column of a typed row: its JSON type(s), whether it must be there, its range."""

    types: tuple[type, ...]
    required: bool = True
    nullable: bool = False
    minimum: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit (None when it does)."""
        if value is None:
            return None if self.nullable else f"is null, must be {self.describe()}"
        if not _is_a(value, self.types):
            return f"is {json.dumps(value)}, must be {self.describe()}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"is {value}, must be a finite number"
        if self.minimum is not None and value < self.minimum:
            return f"is {value}, must be >= {self.minimum:g}"
        return None

    def describe(self) -> str:
        text = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in self.types)
        return text + (" or null" if self.nullable else "")


def _is_a(value: Any, types: tuple[type, ...]) -> bool:
    # JSON true/false parse to bool, a subclass of int: an int column does not take them
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


#: field name -> its Field; fields not named are free.
RowSchema = Mapping[str, Field]


def row_problem(row: Any, schema: RowSchema) -> str | None:
    """The first thing wrong with ``row`` under ``schema``, naming the field (None if fine)."""
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    for name, spec in schema.items():
        if name not in row:
            if spec.required:
                return f"field {name!r} is missing (must be {spec.describe()})"
            continue
        why = spec.problem(row[name])
        if why:
            return f"field {name!r} {why}"
    return None


# --- the ledger ---------------------------------------------------------------------------------


def dumps(obj: Any, **kw: Any) -> str:
    """One record as one line (NaN refused: it is not JSON)."""
    return json.dumps(obj, allow_nan=False, **kw)


class Ledger:
    """An append-only JSON-lines file of records (see the module's text).

    ``schema`` types the rows; ``check`` (a row -> why it is refused, or None) adds a rule the
    schema cannot say; ``key`` (a row -> hashable) refuses a record written twice;
    ``error`` is the :class:`StoreError` subclass raised; ``fix`` ends every line-naming error
    (what the user does about a bad line; ``{line}`` is replaced by its number).
    """

    def __init__(
        self,
        path: Path,
        schema: RowSchema | None = None,
        *,
        key: Callable[[dict[str, Any]], Hashable] | None = None,
        check: Callable[[dict[str, Any]], str | None] | None = None,
        error: type[StoreError] = StoreError,
        fix: str = "Fix: delete line {line} (its record is made again) and rerun the same command.",
        encode: Callable[[dict[str, Any]], str] = dumps,
    ):
        self.path = Path(path)
        self.schema = schema or {}
        self.key = key
        self.check = check
        self.error = error
        self.fix = fix
        self.encode = encode
        self._fh: Any = None

    # reading -------------------------------------------------------------------------------
    def read(self, repair: bool = True) -> tuple[list[dict[str, Any]], str | None]:
        """Every record, checked; and a note saying what the tail repair did (or None).
        ``repair=False`` leaves the file as it is (a reader that must not write)."""
        if not self.path.exists():
            return [], None
        data, note = self._repair_tail(self.path.read_bytes(), repair)
        rows: list[dict[str, Any]] = []
        seen: dict[Hashable, int] = {}
        for lineno, raw in enumerate(data.split(b"\n"), start=1):
            if raw.strip():
                rows.append(self._row(raw, lineno, seen))
        return rows, note

    def _row(self, raw: bytes, lineno: int, seen: dict[Hashable, int]) -> dict[str, Any]:
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.error(
                f"{self.path}, line {lineno}: not valid JSON ({exc}); the file is corrupt "
                f"there. {self.fix.format(line=lineno)}"
            ) from None
        why = row_problem(obj, self.schema)
        if why is None and self.check is not None:
            why = self.check(obj)
        if why:
            raise self.error(f"{self.path}, line {lineno}: {why}. {self.fix.format(line=lineno)}")
        if self.key is not None:
            k = self.key(obj)
            if k in seen:
                raise self.error(
                    f"{self.path}, line {lineno}: the record of {k} is already on line "
                    f"{seen[k]} (two writers, or files joined by hand). Fix: delete one of the "
                    "two lines."
                )
            seen[k] = lineno
        return obj

    @staticmethod
    def _whole(tail: bytes) -> bool:
        """Is a last line a whole record? A cut one never parses as a JSON object (its closing
        brace is missing); one that does is kept and then checked like every other line, so a
        hand-edited last line is named, never silently dropped."""
        try:
            return isinstance(json.loads(tail.decode("utf-8")), dict)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return False

    def _repair_tail(self, data: bytes, repair: bool) -> tuple[bytes, str | None]:
        """Complete-or-drop the last line when it lacks its newline (a kill mid-write)."""
        if not data or data.endswith(b"\n"):
            return data, None
        cut = data.rfind(b"\n") + 1  # 0 when the partial line is the only one
        whole = self._whole(data[cut:])
        if repair:
            with open(self.path, "r+b") as fh:
                if whole:
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                else:
                    fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
        if whole:
            return data + b"\n", f"{self.path}: completed the last line's missing newline"
        return data[:cut], (
            f"{self.path}: dropped a truncated last line ({len(data) - cut} bytes, a record "
            "interrupted while being written); it will be made again"
        )

    # writing -------------------------------------------------------------------------------
    def open(self) -> Ledger:
        """Open the file for appending (created if missing); :meth:`append` opens it too."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        return self

    def append(self, row: dict[str, Any]) -> None:
        """Write one record: one ``write`` of its line, flushed and fsync-ed."""
        self.open()
        self._fh.write(self.encode(row) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.append(row)

    def rewrite(self, rows: Iterable[dict[str, Any]], backup: bool = False) -> None:
        """Replace the whole file with ``rows`` atomically (``backup``: keep the old file as
        ``<name>.bak``)."""
        self.close()
        text = "".join(self.encode(r) + "\n" for r in rows)
        if backup and self.path.exists():
            os.replace(self.path, self.path.with_name(self.path.name + ".bak"))
        atomic_write(self.path, text)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- resumable directories ----------------------------------------------------------------------


def first_difference(old: Mapping[str, Any], new: Mapping[str, Any], skip=()) -> str | None:
    """The first key (sorted) whose value differs between two settings maps (None if none)."""
    for k in sorted((set(old) | set(new)) - set(skip)):
        if old.get(k) != new.get(k):
            return k
    return None


def hold_lock(folder: Path, error: type[StoreError], holder: str, fix: str) -> IO[str]:
    """Take the exclusive lock of ``folder`` (``.lock``, flock) and return the open file that
    holds it (closing it, or the process ending, releases it); a second holder is refused."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fh = open(folder / ResumableDir.LOCK_FILE, "w")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise error(f"another {holder} is writing into {folder}. Fix: {fix}") from None
    return fh


@contextmanager
def dir_lock(folder: Path, error: type[StoreError], holder: str, fix: str) -> Iterator[None]:
    """Hold the lock of ``folder`` for the block (see :func:`hold_lock`)."""
    with hold_lock(folder, error, holder, fix):
        yield


class ResumableDir:
    """What every resumable directory shares: a lock, a JSON manifest, an identity check.

    Subclasses set ``MANIFEST_FILE``, ``ERROR`` (their :class:`StoreError` subclass) and
    ``HOLDER`` (what writes there, for messages)."""

    LOCK_FILE: ClassVar[str] = ".lock"
    MANIFEST_FILE: ClassVar[str] = "manifest.json"
    ERROR: ClassVar[type[StoreError]] = StoreError
    HOLDER: ClassVar[str] = "writer"

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / self.MANIFEST_FILE

    def lock(self, fix: str = "wait for it to finish, or use another --out.") -> Any:
        """A context manager holding the directory's lock."""
        return dir_lock(self.path, self.ERROR, self.HOLDER, fix)

    def hold(self, fix: str = "wait for it to finish, or use another --out.") -> IO[str]:
        """Take the lock for as long as the returned file stays open."""
        return hold_lock(self.path, self.ERROR, self.HOLDER, fix)

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when there is none yet."""
        if not self.manifest_path.is_file():
            return None
        try:
            obj = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.ERROR(
                f"{self.manifest_path}: not valid JSON ({exc}). Fix: restore it, or use "
                "another --out."
            ) from None
        if not isinstance(obj, dict):
            raise self.ERROR(f"{self.manifest_path}: not a JSON object. Fix: restore it.")
        return obj

    def write_manifest(self, manifest: Mapping[str, Any], **dump: Any) -> None:
        write_json(self.manifest_path, manifest, **{"indent": 2, **dump})

    def check_identity(
        self, old: Mapping[str, Any], new: Mapping[str, Any], fix: str, skip: Iterable[str] = ()
    ) -> None:
        """Refuse to resume with other settings, naming the first that differs."""
        k = first_difference(old, new, tuple(skip))
        if k is not None:
            raise self.ERROR(
                f"{self.path} was made with {k} = {old.get(k)!r}, this run asks for "
                f"{new.get(k)!r}. Fix: {fix}"
            )
