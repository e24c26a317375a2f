"""Why an episode ended as it did: one outcome per row, decided by one ordered table.

The first rule that matches names the outcome.  ``grasped``/``dropped`` are optional row fields
(rows of envs that report a grasp); without them a failure is split only by where the object
ended (``placed_on``), and :func:`has_grasp_info` says so, so the page can state it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    name: str
    color: str  # one colour per outcome, the same in charts and gallery badges
    test: Callable[[Row], bool]


# Order matters: an error is never a success; a wrong board beats "dropped" because the board
# the object ended on is what the benchmark measures (the harness sets dropped only when the
# object ended on no board at all).
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("error", "#7f7f7f", lambda r: bool(r.get("error"))),
    Outcome("success", "#2ca02c", lambda r: bool(r.get("success_once"))),
    Outcome("never grasped", "#9467bd", lambda r: r.get("grasped") is False),
    Outcome("wrong board", "#d62728", lambda r: r.get("placed_on") == "distractor"),
    Outcome("dropped", "#ff7f0e", lambda r: r.get("dropped") is True),
    Outcome("nowhere", "#8c564b", lambda r: r.get("placed_on") in ("none", None)),
    Outcome("failed", "#bcbd22", lambda r: True),  # e.g. on the target once, not at the end
)
PROBE_OUTCOMES: tuple[Outcome, ...] = (
    Outcome("error", "#7f7f7f", lambda r: bool(r.get("error"))),
    Outcome("success", "#2ca02c", lambda r: bool(r.get("success_once"))),
    Outcome("wrong position", "#d62728", lambda r: bool(r.get("said_yes"))),
    Outcome("said no", "#8c564b", lambda r: True),
)
COLORS = {o.name: o.color for o in OUTCOMES + PROBE_OUTCOMES}
# Gallery order: what needs looking at first.
GALLERY_ORDER = (
    "error",
    "never grasped",
    "dropped",
    "wrong board",
    "wrong position",
    "nowhere",
    "said no",
    "failed",
    "success",
)


def outcome(row: Row, probe: bool = False) -> str:
    for rule in PROBE_OUTCOMES if probe else OUTCOMES:
        if rule.test(row):
            return rule.name
    raise AssertionError("the last rule matches every row")


def has_grasp_info(rows: list[Row]) -> bool:
    return any("grasped" in r for r in rows)


def names(probe: bool, rows: list[Row]) -> list[str]:
    """The outcomes a chart of these rows shows, in table order."""
    if probe:
        return [o.name for o in PROBE_OUTCOMES]
    skip = set() if has_grasp_info(rows) else {"never grasped", "dropped"}
    return [o.name for o in OUTCOMES if o.name not in skip]
