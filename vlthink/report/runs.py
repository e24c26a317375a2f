"""Run directories as the report reads them: loaded, checked against each other, summarised.

Everything comes from :func:`vlthink.harness.rundir.load_run` and
:func:`vlthink.harness.summary.summarize`; the report never re-derives a number the summary gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vlthink.harness import rundir, summary
from vlthink.harness.results import HarnessError

PAPER_EPISODES = 128  # the paper's episodes per env (summed over seeds here)
# Fields that must agree for runs to be compared at all: a mismatch is an error, not a warning.
PROTOCOL_FIELDS = {
    "protocol_version": "scene protocol",
    "harness_protocol": "harness protocol (episode seeding)",
}
# Provenance that should agree; a difference is shown as a warning beside the numbers.
PROVENANCE_FIELDS = {
    "asset set": rundir.asset_label,
    "render device": lambda m: m.get("render_device"),
    "sim backend": lambda m: (m.get("plan") or {}).get("sim_backend"),
    **{
        f"{k} version": (lambda m, k=k: (m.get("versions") or {}).get(k))
        for k in ("vlthink", "sapien", "mani_skill", "mesa", "torch")
    },
}


class ReportError(HarnessError):
    """Bad input for a report: the message names the problem and the fix."""


@dataclass
class Run:
    """One run directory, loaded: its label in the report, manifest, rows and summary table."""

    path: Path
    label: str
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    table: pd.DataFrame
    is_baseline: bool = False
    finished: int = 0
    planned: int = 0

    @property
    def policy(self) -> str:
        return str((self.manifest.get("policy") or {}).get("name", "?"))

    @property
    def kind(self) -> str:
        return summary.policy_kind(self.manifest, self.rows)

    def envs(self) -> list[str]:
        return sorted({str(r["env"]) for r in self.rows})


@dataclass
class RunSet:
    runs: list[Run]
    baseline: Run | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def all_runs(self) -> list[Run]:
        """The runs in chart order: the baseline first, so every chart reads left to right."""
        return ([self.baseline] if self.baseline else []) + self.runs

    def tasks(self) -> dict[str, dict[str, str]]:
        """env id -> {suite, group}, over every run (manifests agree on a registered env)."""
        out: dict[str, dict[str, str]] = {}
        for run in self.all_runs:
            out.update(run.manifest.get("tasks") or {})
        return out


def _load(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = Path(path)
    if not path.is_dir():
        raise ReportError(
            f"{path} is not a directory. Fix: pass the --out directory of a vlthink-eval run."
        )
    try:
        manifest, rows = rundir.load_run(path)
    except HarnessError as exc:
        raise ReportError(str(exc)) from None
    if "plan" not in manifest:
        raise ReportError(
            f"{path}/manifest.json has no plan; it was not written by "
            "vlthink-eval. Fix: pass the --out directory of a run."
        )
    if not rows:
        raise ReportError(
            f"{path} holds no finished episode yet. Fix: let the run finish "
            f"(rerun its command: {manifest.get('command', '?')})."
        )
    return manifest, rows


def _labels(paths: Sequence[Path], policies: Sequence[str], asset_sets: Sequence[str]) -> list[str]:
    """The policy name, with its asset set where the runs are not all on one set, made unique
    with the folder name where two runs still share a label."""
    mixed = len(set(asset_sets)) > 1
    named = [f"{p} [{a}]" if mixed else p for p, a in zip(policies, asset_sets)]
    labels = []
    for path, name in zip(paths, named):
        same = sum(n == name for n in named) > 1
        labels.append(f"{name} ({Path(path).name})" if same else name)
    return labels


def check_protocols(dirs: Sequence[tuple[Path, dict[str, Any]]]) -> None:
    """Runs of different protocols see different scenes: refuse to put them on one page."""
    first, first_manifest = dirs[0]
    for path, manifest in dirs[1:]:
        for key, what in PROTOCOL_FIELDS.items():
            a, b = first_manifest.get(key), manifest.get(key)
            if a != b:
                raise ReportError(
                    f"{path} has {what} {b!r} but {first} has {a!r}: their scenes "
                    "differ, so their numbers are not comparable. Fix: rerun the older one "
                    f"with this package version ({manifest.get('command', '?')})."
                )


def provenance_warnings(runs: Sequence[Run]) -> list[str]:
    """Where the compared runs differ in provenance, or fall short of the paper's protocol."""
    out = []
    for what, get in PROVENANCE_FIELDS.items():
        values = {str(r.path): get(r.manifest) for r in runs}
        if len({str(v) for v in values.values()}) > 1:
            listing = "; ".join(f"{Path(p).name}: {v}" for p, v in values.items())
            out.append(f"the runs differ in {what} ({listing})")
    for run in runs:
        if run.finished < run.planned:
            out.append(
                f"{run.label}: incomplete, {run.finished} of {run.planned} planned "
                f"episodes finished (rerun: {run.manifest.get('command', '?')})"
            )
        errors = sum(1 for r in run.rows if r.get("error"))
        if errors:
            out.append(
                f"{run.label}: {errors} episode(s) ended in an error and count as "
                "failures (rerun with --retry-errors)"
            )
        per_env = pd.Series([r["env"] for r in run.rows]).value_counts()
        short = per_env[per_env < PAPER_EPISODES]
        if len(short):
            lo, hi = int(short.min()), int(short.max())
            span = f"{lo}" if lo == hi else f"{lo}–{hi}"
            out.append(
                f"{run.label}: {span} episodes per env on {len(short)} env(s), fewer "
                f"than the paper's {PAPER_EPISODES}: intervals are wide"
            )
    return out


def _make_run(path: Path, label: str, manifest: dict, rows: list, baseline: Run | None) -> Run:
    base = (baseline.manifest, baseline.rows) if baseline else None
    try:
        table = summary.summarize(
            manifest, rows, base, str(baseline.path) if baseline else "the baseline"
        )
    except HarnessError as exc:
        raise ReportError(str(exc)) from None
    finished, planned = rundir.completeness(manifest, rows)
    return Run(Path(path), label, manifest, rows, table, False, finished, planned)


def load_runs(paths: Sequence[Path | str], baseline: Path | str | None = None) -> RunSet:
    """Load and check the run directories of one report (and the baseline they are paired with)."""
    if not paths:
        raise ReportError("no run directory given. Fix: vlthink report RUN_DIR [RUN_DIR ...]")
    paths = [Path(p) for p in paths]
    loaded = [_load(p) for p in paths]
    base = _load(Path(baseline)) if baseline is not None else None
    check_protocols(
        [(p, m) for p, (m, _) in zip(paths, loaded)] + ([(Path(baseline), base[0])] if base else [])
    )
    base_run = None
    if base is not None:
        base_run = _make_run(Path(baseline), "", *base, None)
        base_run.label = f"{base_run.policy} (baseline)"
        base_run.is_baseline = True
    labels = _labels(
        paths,
        [str((m.get("policy") or {}).get("name", "?")) for m, _ in loaded],
        [rundir.asset_set_of(m)["assets"] for m, _ in loaded],
    )
    runs = [_make_run(p, label, m, r, base_run) for p, label, (m, r) in zip(paths, labels, loaded)]
    runset = RunSet(runs, base_run)
    runset.warnings = provenance_warnings(runset.all_runs)
    return runset
