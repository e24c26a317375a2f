"""Labelled contact sheets of the board art (for the README and for looking at the boards).

``python -m vlthink.sheets.boards --out docs/img`` writes ``docs/img/boards_<domain>.png`` for
every domain; :func:`contact_sheet` writes one sheet with a section per domain.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from vlthink.boards.catalogue import (
    BOARDS,
    DOMAINS,
    Board,
    Domain,
    board_key,
    class_of,
    domain,
    domain_boards,
)
from vlthink.errors import MissingFileError

SHEET_BG = (255, 255, 255)
TEXT_RGB = (30, 30, 30)


def _load(b: Board, source: str) -> Image.Image:
    if source == "files":
        path = b.path
        if not path.is_file():
            raise MissingFileError(f"{path} is missing; run `python -m vlthink.boards.build`")
        return Image.open(path).convert("RGB")
    from vlthink.boards.art import render

    return render(b.key)


def _section_items(dname: str) -> tuple[list[Board], list[str], int]:
    """Boards, labels and the number of columns of one domain's section."""
    d = domain(dname)
    if d.partner is not None:  # shared art: rows this domain's concepts, columns the partner's
        partner = DOMAINS[d.partner].concepts
        bs = [BOARDS[board_key(d.name, c.key, o.key)] for c in d.concepts for o in partner]
        return bs, [b.name for b in bs], len(partner)
    bs = list(domain_boards(d.name))
    labels = [b.name for b in bs]
    if d.classes is not None:  # the instruction names a class: show each board's
        labels = [f"{b.name} ({class_of(d.name, b.concept)})" for b in bs]
    return bs, labels, min(8, len(bs))


def _title(d: Domain) -> str:
    """``Traffic: put carrot on <traffic> sign``; classes are listed (``<even|odd>``)."""
    placeholder = "|".join(sorted(d.classes)) if d.classes is not None else d.name.lower()
    return f"{d.name}: put carrot on " + d.phrase.format(name=f"<{placeholder}>")


def _render_sections(
    sections: Sequence[tuple[str, list[Image.Image], list[str], int]], thumb: int
) -> Image.Image:
    font = ImageFont.load_default(size=max(10, thumb // 10))
    title_font = ImageFont.load_default(size=max(14, thumb // 6))
    pad, label_h, title_h = thumb // 10, thumb // 6, thumb // 4
    cell_w, cell_h = thumb + pad, thumb + label_h + pad
    width = pad + max(cols for *_, cols in sections) * cell_w
    height = pad + sum(title_h + -(-len(imgs) // cols) * cell_h for _, imgs, _, cols in sections)
    sheet = Image.new("RGB", (width, height), SHEET_BG)
    draw = ImageDraw.Draw(sheet)
    y = pad
    for title, imgs, labels, cols in sections:
        draw.text((pad, y), title, fill=TEXT_RGB, font=title_font)
        y += title_h
        for i, (img, label) in enumerate(zip(imgs, labels)):
            x0 = pad + (i % cols) * cell_w
            y0 = y + (i // cols) * cell_h
            sheet.paste(img.resize((thumb, thumb), Image.LANCZOS), (x0, y0))
            tw = draw.textlength(label, font=font)
            f = font
            if tw > cell_w - 2:  # shrink long labels to fit the cell
                f = ImageFont.load_default(size=max(8, int(font.size * (cell_w - 2) / tw)))
                tw = draw.textlength(label, font=f)
            draw.text((x0 + (thumb - tw) / 2, y0 + thumb + 2), label, fill=TEXT_RGB, font=f)
        y += -(-len(imgs) // cols) * cell_h
    return sheet


def contact_sheet(
    domains: Iterable[str] | None = None,
    out: Path | str = "boards_sheet.png",
    *,
    thumb: int = 128,
    source: str = "files",
) -> Path:
    """Write a labelled contact sheet of the boards and return its path.

    Args:
        domains: domain names to show (default: all eight, in catalogue order); one section per
            domain, each board with its concept name under it. Shape and Color show the same 112
            boards, by shape rows and by colour rows.
        out: PNG file to write (parent folders are created).
        thumb: side of each board thumbnail in pixels.
        source: ``"files"`` shows the shipped PNGs (what the scene uses); ``"render"`` draws the
            boards afresh from the code (to preview edits before a build).
    """
    names = [domain(d).name for d in (domains if domains is not None else DOMAINS)]
    sections = []
    for dname in names:
        bs, labels, cols = _section_items(dname)
        sections.append((_title(DOMAINS[dname]), [_load(b, source) for b in bs], labels, cols))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _render_sections(sections, thumb).save(out, format="PNG", optimize=True)
    return out


def write_domain_sheets(
    out_dir: Path | str, *, thumb: int = 128, source: str = "files"
) -> list[Path]:
    """One sheet per domain, ``<out_dir>/boards_<domain>.png`` (lower-case domain name)."""
    out_dir = Path(out_dir)
    return [
        contact_sheet([d], out_dir / f"boards_{d.lower()}.png", thumb=thumb, source=source)
        for d in DOMAINS
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", default="docs/img", help="folder for boards_<domain>.png (default docs/img)"
    )
    ap.add_argument("--domain", action="append", help="only these domains (repeatable)")
    ap.add_argument("--thumb", type=int, default=128)
    ap.add_argument(
        "--render", action="store_true", help="draw from code instead of reading the PNGs"
    )
    args = ap.parse_args(argv)
    src = "render" if args.render else "files"
    for d in args.domain or list(DOMAINS):
        print(
            contact_sheet(
                [d],
                Path(args.out) / f"boards_{domain(d).name.lower()}.png",
                thumb=args.thumb,
                source=src,
            )
        )


if __name__ == "__main__":
    main()
