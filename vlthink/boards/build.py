"""Build the board PNGs and their manifest: ``python -m vlthink.boards.build``.

Every board in :data:`vlthink.boards.catalogue.BOARDS` is drawn from code
(:mod:`vlthink.boards.art`) into ``<boards_dir>/<family>/<key>.png`` (512 × 512 RGB, no
metadata, so the bytes depend only on the drawing code and the Pillow version), and
``<boards_dir>/manifest.json`` records the art version and, for every board, its key, domain,
concept, file and sha256 (of the PNG file, and of its raw pixels). :func:`verify` checks the
files against the manifest and the catalogue.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path

import PIL
from PIL import Image

from vlthink.boards.catalogue import ART_VERSION, BOARDS, board
from vlthink.errors import VLThinkError
from vlthink.paths import boards_dir

MANIFEST = "manifest.json"
FIX = "python -m vlthink.boards.build"


class BoardsOutOfDate(VLThinkError, RuntimeError):
    """The board files do not match the manifest or the catalogue."""


def png_bytes(img: Image.Image) -> bytes:
    """Encode deterministically: plain RGB PNG, no text chunks, no timestamps."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", compress_level=9)
    return buf.getvalue()


def pixels_sha256(img: Image.Image) -> str:
    img = img.convert("RGB")
    h = hashlib.sha256(f"{img.width}x{img.height}:".encode())
    h.update(img.tobytes())
    return h.hexdigest()


def _entry(key: str, data: bytes, img: Image.Image) -> dict:
    b = board(key)
    e = {
        "key": b.key,
        "domain": b.domain,
        "concept": b.concept,
        "name": b.name,
        "file": b.file,
        "sha256": hashlib.sha256(data).hexdigest(),
        "pixels_sha256": pixels_sha256(img),
    }
    if b.color is not None:
        e["color"] = b.color
    return e


def build(
    out_dir: Path | str | None = None, keys: Iterable[str] | None = None, *, quiet: bool = True
) -> dict:
    """Draw boards into ``out_dir`` (default :func:`boards_dir`) and write the manifest.

    With ``keys`` only those boards are drawn and the manifest lists only them (for tests);
    a full build also deletes PNGs in the family folders that the catalogue no longer has.
    Returns the manifest.
    """
    from vlthink.boards.art import OUT_SIZE, render

    out = Path(out_dir) if out_dir is not None else boards_dir()
    keys = list(BOARDS) if keys is None else [board(k).key for k in keys]
    entries = []
    for i, key in enumerate(keys):
        img = render(key)
        data = png_bytes(img)
        path = out / board(key).file
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        entries.append(_entry(key, data, img))
        if not quiet:
            print(f"[{i + 1}/{len(keys)}] {path}")
    if len(keys) == len(BOARDS):
        wanted = {board(k).file for k in keys}
        for family in {b.family for b in BOARDS.values()}:
            for stale in sorted((out / family).glob("*.png")):
                if stale.relative_to(out).as_posix() not in wanted:
                    stale.unlink()
    manifest = {
        "art_version": ART_VERSION,
        "generator": FIX,
        "pillow": PIL.__version__,
        "size": [OUT_SIZE, OUT_SIZE],
        "boards": entries,
    }
    text = json.dumps(manifest, indent=1, sort_keys=False) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def load_manifest(root: Path | str | None = None) -> dict:
    root = Path(root) if root is not None else boards_dir()
    path = root / MANIFEST
    if not path.is_file():
        raise BoardsOutOfDate(f"{path} is missing: the board art has not been built. Run `{FIX}`.")
    return json.loads(path.read_text(encoding="utf-8"))


def verify(root: Path | str | None = None) -> dict:
    """Check the board PNGs against the manifest, and the manifest against the catalogue.

    Raises :class:`BoardsOutOfDate` naming the first stale or missing file and the fix
    (``python -m vlthink.boards.build``); returns the manifest when everything matches.
    """
    root = Path(root) if root is not None else boards_dir()
    m = load_manifest(root)
    if m.get("art_version") != ART_VERSION:
        raise BoardsOutOfDate(
            f"{root / MANIFEST} has art version {m.get('art_version')!r} but the code is "
            f"{ART_VERSION!r}. Run `{FIX}`."
        )
    listed = {e["key"]: e for e in m["boards"]}
    missing = [k for k in BOARDS if k not in listed]
    extra = [k for k in listed if k not in BOARDS]
    if missing or extra:
        raise BoardsOutOfDate(
            f"{root / MANIFEST} does not match the catalogue (missing: {missing[:5]}, "
            f"unknown: {extra[:5]}). Run `{FIX}`."
        )
    for key, e in listed.items():
        path = root / e["file"]
        if e["file"] != BOARDS[key].file:
            raise BoardsOutOfDate(
                f"{root / MANIFEST} lists {key} at {e['file']}, expected {BOARDS[key].file}. "
                f"Run `{FIX}`."
            )
        if not path.is_file():
            raise BoardsOutOfDate(f"board file {path} is missing. Run `{FIX}`.")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != e["sha256"]:
            raise BoardsOutOfDate(
                f"board file {path} does not match {MANIFEST} "
                f"(sha256 {digest[:12]}… ≠ {e['sha256'][:12]}…). Run `{FIX}`."
            )
    return m


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Regenerate the board PNGs and manifest.json.")
    ap.add_argument("--out", default=None, help="output folder (default: the repo's assets/boards)")
    ap.add_argument(
        "--verify", action="store_true", help="only check the files against the manifest"
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.verify:
        m = verify(args.out)
        print(f"{len(m['boards'])} boards match the manifest (art version {m['art_version']})")
        return
    m = build(args.out, quiet=not args.verbose)
    where = Path(args.out) if args.out else boards_dir()
    print(f"built {len(m['boards'])} boards (art version {m['art_version']}) into {where}")


if __name__ == "__main__":
    main()
