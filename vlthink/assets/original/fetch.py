"""Getting the original asset pack: ``vlthink assets fetch original [--to DIR] [--from PATH]``.

Sources, all ending in :func:`.pack.install` (fill a temporary folder, verify every file against
the expected list, rename into place):

- the repository's archive at the paper's commit, downloaded over HTTPS with a progress bar into
  the cache; an interrupted download resumes where it stopped (an HTTP range request);
- ``--from PATH``: a clone or an extracted archive (a folder holding the pack's folder at its
  place in the repository, or the pack's folder itself), or an archive file (.tar.gz, .tar,
  .zip) the user already has: offline machines.

Only the pack's folder is taken from an archive or a clone; nothing else of the repository is
read.
"""

from __future__ import annotations

import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from vlthink.assets.original.pack import (
    COMMIT,
    FETCH_HINT,
    PACK_SUBDIR,
    REPO,
    PackError,
    default_root,
    install,
)
from vlthink.paths import cache_dir

ARCHIVE_URL = f"https://github.com/{REPO}/archive/{COMMIT}.tar.gz"
MARKER = "more_carrot"  # a folder every pack has at its top level
CHUNK = 1 << 16  # bytes read per step of a download


def fetch(dest: Path | None = None, source: str | None = None, expected=None, url=ARCHIVE_URL):
    """Install the pack at ``dest`` (the default location when None) from ``source`` (a path), or
    downloaded from ``url``; returns the pack's folder. Raises PackError (one line) when the source
    is unusable or the result does not verify."""
    dest = Path(dest) if dest is not None else default_root()
    if source is None:
        archive = download(url, cache_dir() / "downloads" / f"BlindVLA-{COMMIT}.tar.gz")
        try:
            return install(dest, lambda tmp: extract_archive(archive, tmp), expected)
        except PackError:
            archive.unlink(missing_ok=True)  # a bad download is not kept for the next try
            raise
    src = Path(source)
    fix = f"give a whole copy of {REPO} at {COMMIT[:12]}, or download it: `{FETCH_HINT}`"
    if src.is_dir():
        folder = pack_folder(src)

        def copy(tmp: Path) -> None:
            shutil.copytree(folder, tmp, dirs_exist_ok=True)

        return install(dest, copy, expected, fix)
    if src.is_file():
        return install(dest, lambda tmp: extract_archive(src, tmp), expected, fix)
    raise PackError(
        f"--from {src}: no such file or folder; fix: give a clone, a folder or an archive"
    )


def pack_folder(src: Path) -> Path:
    """The pack's folder inside ``src``: ``src`` itself, ``src/<PACK_SUBDIR>``, or that one level
    down (an extracted archive's top folder)."""
    for candidate in [src, src / PACK_SUBDIR, *sorted(p / PACK_SUBDIR for p in src.iterdir())]:
        if (candidate / MARKER).is_dir():
            return candidate
    raise PackError(
        f"--from {src}: no asset pack in it (looked for {MARKER}/ there and under {PACK_SUBDIR}/); "
        f"fix: give a clone of {REPO} at {COMMIT[:12]}, its extracted archive or the archive file"
    )


def _relative(name: str) -> str | None:
    """The path inside the pack of an archive member, or None when it lies outside the pack
    (members may sit under a top folder such as ``BlindVLA-<commit>/``)."""
    name = name.replace("\\", "/").lstrip("./")
    key = PACK_SUBDIR + "/"
    at = name.find(key)
    if at < 0 or (at > 0 and name[at - 1] != "/"):
        return None
    rel = name[at + len(key) :]
    parts = rel.split("/")
    if not rel or ".." in parts or rel.startswith("/"):
        return None
    return rel


def extract_archive(archive: Path, out: Path) -> None:
    """Write the pack's files of a .tar(.gz) or .zip archive under ``out``."""
    archive = Path(archive)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rel = _relative(info.filename)
                if rel and not info.is_dir():
                    _write(out / rel, z.open(info))
        return
    try:
        tar = tarfile.open(archive)
    except tarfile.TarError:
        raise PackError(
            f"{archive}: not a .tar, .tar.gz or .zip archive; fix: give the repository's archive"
        ) from None
    with tar:
        for member in tar:
            rel = _relative(member.name)
            if rel and member.isfile():
                _write(out / rel, tar.extractfile(member))


def _write(path: Path, stream) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with stream, open(path, "wb") as f:
        shutil.copyfileobj(stream, f)


def download(url: str, path: Path, progress: bool = True) -> Path:
    """Download ``url`` to ``path`` (kept: a second fetch reads it again), resuming a ``.part``
    file left by an interrupted download; a progress bar on stderr."""
    from tqdm import tqdm

    path = Path(path)
    if path.exists():
        return path
    part = path.with_name(path.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except OSError as exc:
        raise PackError(
            f"cannot download {url} ({exc}); fix: fetch it where there is internet and use "
            f"`{FETCH_HINT} --from ARCHIVE`"
        ) from None
    with response:
        if have and response.status != 206:  # the server sends it all again: start over
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length else None
        with (
            open(part, "ab" if have else "wb") as f,
            tqdm(total=total, initial=have, unit="B", unit_scale=True, disable=not progress) as bar,
        ):
            for chunk in iter(lambda: response.read(CHUNK), b""):
                f.write(chunk)
                bar.update(len(chunk))
    part.replace(path)
    return path
