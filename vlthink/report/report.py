"""``vlthink report``: run directories -> one HTML page of charts, episodes and provenance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from vlthink import store
from vlthink.report import answer_section, effects, gallery, leaderboard, numbers, provenance
from vlthink.report.html import page
from vlthink.report.media import MediaSink
from vlthink.report.runs import ReportError, load_runs

GALLERY_PER_ENV = 24  # cards per run and env; failures come first, so they are the ones kept


def build_report(
    run_dirs: Sequence[Path | str],
    out: Path | str = "report.html",
    baseline: Path | str | None = None,
    media_dir: bool = False,
    board_dir: Path | str | None = "default",
    gallery_per_env: int = GALLERY_PER_ENV,
) -> Path:
    """Write the report page; returns its path.

    ``media_dir``: False embeds every image and video in the page (one self-contained file);
    True writes them into ``<out stem>_files/`` beside it (smaller page, same offline use).
    ``board_dir``: the leaderboard folder whose reported rows are drawn beside ours.
    """
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"--out {out} should end in .html. Fix: --out {out.with_suffix('.html')}")
    runset = load_runs(run_dirs, baseline)
    boards = leaderboard.default_dir() if board_dir == "default" else board_dir
    out.parent.mkdir(parents=True, exist_ok=True)
    sink = MediaSink(out, out.with_name(out.stem + "_files") if media_dir else None)
    body = "".join(
        [
            provenance.warnings_box(runset),
            numbers.success_section(runset, sink, Path(boards) if boards else None),
            effects.effects_section(runset, sink),
            numbers.summary_tables(runset),
            numbers.failure_section(runset, sink),
            numbers.position_section(runset, sink),
            numbers.probe_section(runset, sink),
            answer_section.answer_section(runset, sink),
            gallery.gallery_section(runset, sink, gallery_per_env),
            provenance.provenance_section(runset),
        ]
    )
    names = ", ".join(r.label for r in runset.all_runs)
    sub = f"{names} · written {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
    return store.atomic_write(out, page("vlthink report", sub, body))
