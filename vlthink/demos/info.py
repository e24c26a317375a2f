"""``vlthink demos info DATASET``: what a dataset holds, and a contact sheet of first frames.

The dataset is verified first (:mod:`vlthink.demos.verify`): a damaged one is refused with one
line per problem rather than summarised from what is left of it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from vlthink.demos import layout, reader
from vlthink.harness.rundir import asset_label

THUMB = (160, 120)  # px, width x height of one first frame on the sheet (a quarter of 640x480)
SHEET_COLUMNS = 10
MAX_THUMBS = 200


def _counts(title: str, counter: Counter, width: int = 100) -> list[str]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    items = ", ".join(f"{k or '-'} {v}" for k, v in ranked)
    lines, line = [f"{title} ({len(counter)}):"], "  "
    for part in items.split(", "):
        if len(line) + len(part) > width:
            lines.append(line.rstrip())
            line = "  "
        line += part + ", "
    lines.append(line.rstrip(", "))
    return lines


def summary(root: Path) -> tuple[list[str], list[dict]]:
    from vlthink.demos.verify import check_dataset

    check_dataset(root)  # DamagedDataset (exit 2) naming every problem and its fix
    info, episodes = reader.open_dataset(root)
    sides = [reader.sidecar(root, e["episode_index"]) for e in episodes]
    lengths = [e["length"] for e in episodes]
    from vlthink.demos.store import attempts_ledger

    ledger, _ = attempts_ledger(root).read(repair=False)  # a torn line: skipped
    kept = sum(1 for r in ledger if r["demo"]["kept"])
    recording = Path(root) / layout.RECORDING_FILE  # v3.0 keeps it out of info.json
    vl = info.get("vlthink") or (json.loads(recording.read_text()) if recording.exists() else {})
    lines = [
        f"dataset {root}: LeRobot {info['codebase_version']}, {info['fps']} fps, "
        f"robot {info['robot_type']}",
        f"recorded by: {vl.get('command', '?')}",
        f"processing: {vl.get('processing')}",
        f"asset set: {asset_label(vl)}",
        f"episodes {info['total_episodes']}, frames {info['total_frames']} (per episode min "
        f"{min(lengths, default=0)}, mean {np.mean(lengths) if lengths else 0:.1f}, max "
        f"{max(lengths, default=0)}), tasks {info['total_tasks']}",
        f"success {sum(s['success'] for s in sides)}/{len(sides)}; attempts {len(ledger)}, "
        f"kept {kept}, not kept {len(ledger) - kept} "
        f"({sum(1 for r in ledger if r.get('error'))} errored)",
        f"idle steps dropped {sum(s['cut'] - len(s['kept_steps']) for s in sides)} of "
        f"{sum(s['cut'] for s in sides)} executed",
    ]
    lines += _counts("envs", Counter(s["env_id"] for s in sides))
    for key, title in (
        ("object", "objects"),
        ("receptacle", "receptacles"),
        ("table_look", "table looks"),
    ):
        lines += _counts(title, Counter(str(s["task"].get(key) or "") for s in sides))
    return lines, sides


def contact_sheet(root: Path, sides: list[dict], out: Path | None = None) -> Path:
    """First frames of the first MAX_THUMBS episodes, labelled with index and object."""
    from PIL import Image, ImageDraw

    out = Path(out) if out is not None else Path(root) / layout.SHEET_FILE
    n = min(len(sides), MAX_THUMBS)
    rows = max(1, (n + SHEET_COLUMNS - 1) // SHEET_COLUMNS)
    w, h = THUMB
    sheet = Image.new("RGB", (SHEET_COLUMNS * w, rows * (h + 14)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, side in enumerate(sides[:n]):
        frame = reader.episode_frames(root, side["episode_index"], 1)[0]
        x, y = (i % SHEET_COLUMNS) * w, (i // SHEET_COLUMNS) * (h + 14)
        sheet.paste(Image.fromarray(frame).resize(THUMB), (x, y))
        label = f"{side['episode_index']} {side['task'].get('object') or ''}"[:26]
        draw.text((x + 2, y + h + 1), label, fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
