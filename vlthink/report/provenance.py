"""The provenance section: what each run is (command, versions, render device, protocol,
asset set)."""

from __future__ import annotations

from vlthink.harness.rundir import asset_label
from vlthink.report.html import esc, table, tag
from vlthink.report.runs import Run, RunSet

# (label, how to read it from a run) in the order the table shows them.
FIELDS = (
    ("directory", lambda r: str(r.path)),
    ("policy", lambda r: f"{r.policy} ({r.kind})"),
    ("command", lambda r: r.manifest.get("command")),
    ("episodes", lambda r: f"{r.finished} finished of {r.planned} planned"),
    ("seeds", lambda r: " ".join(map(str, (r.manifest.get("plan") or {}).get("seeds", [])))),
    ("scene protocol", lambda r: r.manifest.get("protocol_version")),
    ("asset set", lambda r: asset_label(r.manifest)),
    ("harness protocol", lambda r: r.manifest.get("harness_protocol")),
    ("sim backend", lambda r: (r.manifest.get("plan") or {}).get("sim_backend")),
    ("render device", lambda r: r.manifest.get("render_device")),
    (
        "versions",
        lambda r: ", ".join(
            f"{k} {v}" for k, v in sorted((r.manifest.get("versions") or {}).items())
        ),
    ),
    ("git commit", lambda r: r.manifest.get("git_commit")),
    ("created / updated", lambda r: f"{r.manifest.get('created')} / {r.manifest.get('updated')}"),
)


def warnings_box(runset: RunSet) -> str:
    if not runset.warnings:
        return ""
    items = "".join(tag("li", esc(w)) for w in runset.warnings)
    return tag(
        "div",
        tag("strong", "Check before comparing:") + tag("ul", items),
        cls="warn",
        id="warnings",
    )


def provenance_section(runset: RunSet) -> str:
    runs: list[Run] = runset.all_runs
    header = ["", *[r.label for r in runs]]
    rows = [[label, *[get(r) for r in runs]] for label, get in FIELDS]
    return tag("h2", "Provenance") + table(header, rows)
