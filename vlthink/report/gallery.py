"""The episode gallery: per env, a card per episode (first and last frame, the video where one
was recorded, the instruction and the outcome), failures first, filterable by outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vlthink.report import media, outcomes
from vlthink.report.html import esc, img, tag
from vlthink.report.media import MediaSink, Video
from vlthink.report.runs import Run, RunSet


@dataclass
class Card:
    run: Run
    row: dict[str, Any]
    outcome: str

    def sort_key(self) -> tuple:
        order = outcomes.GALLERY_ORDER
        rank = order.index(self.outcome) if self.outcome in order else len(order)
        return (rank, self.run.label, int(self.row["seed"]), int(self.row["episode"]))


def _badge(name: str) -> str:
    return tag("span", esc(name), cls="badge", style=f"background:{outcomes.COLORS[name]}")


def _details(card: Card) -> str:
    r = card.row
    task = r.get("task") or {}
    facts = [f"{card.run.label}", f"seed {r['seed']} · episode {r['episode']}"]
    if task.get("target_position"):
        facts.append(f"target {task['target_position']}")
    if r.get("placed_on"):
        facts.append(f"ended on {r['placed_on']}")
    for key in ("grasped", "dropped"):
        if key in r:
            facts.append(f"{key} {'yes' if r[key] else 'no'}")
    if r.get("answer"):
        facts.append(f"answer: {str(r['answer'])[:120]}")
    if r.get("error"):
        facts.append(f"error: {str(r['error'])[:200]}")
    return (
        _badge(card.outcome)
        + tag("div", esc(r.get("instruction") or ""), cls="instr")
        + tag("div", esc(" · ".join(facts)))
    )


def _media(card: Card, sink: MediaSink, video: Video | None) -> str:
    if video is None:
        return tag("div", "no video recorded for this episode", cls="note")
    try:
        first, last = media.first_last(video)
    except ValueError as exc:
        return tag("div", esc(str(exc)), cls="note")
    thumbs = [sink.bytes(media.jpeg(f), "image/jpeg", ".jpg") for f in (first, last)]
    frames = "".join(
        tag("figure", img(src, name) + esc(name))
        for src, name in zip(thumbs, ("first frame", "last frame"))
    )
    url = sink.file(video.path, video.mime)
    if video.is_mp4:
        player = tag(
            "video",
            "",
            src=url,
            controls=True,
            muted=True,
            loop=True,
            preload="metadata",
            poster=thumbs[0],
            cls="episode-video",
        )
    else:
        player = img(url, "episode (animated GIF)", cls="episode-anim")
    return tag("div", tag("figure", player + "episode") + frames, cls="frames")


def _filters(names: list[str]) -> str:
    boxes = "".join(
        tag("label", f'<input type="checkbox" value="{esc(n)}" checked> ' + _badge(n))
        for n in names
    )
    return tag("div", "Show: " + boxes, cls="filters")


def gallery_section(runset: RunSet, sink: MediaSink, per_env: int) -> str:
    """Cards per env; at most ``per_env`` per run and env (failures first, so they are kept)."""
    envs = sorted({e for run in runset.all_runs for e in run.envs()})
    seen: set[str] = set()
    sections = []
    for env in envs:
        cards, hidden = [], 0
        for run in runset.all_runs:
            probe = run.kind == "probe"
            mine = sorted(
                (Card(run, r, outcomes.outcome(r, probe)) for r in run.rows if r["env"] == env),
                key=Card.sort_key,
            )
            hidden += max(0, len(mine) - per_env)
            cards += mine[:per_env]
        cards.sort(key=Card.sort_key)
        html_cards = []
        for c in cards:
            seen.add(c.outcome)
            body = _details(c) + _media(c, sink, media.find_video(c.run.path, c.row))
            html_cards.append(
                tag(
                    "div",
                    body,
                    cls="card",
                    data_outcome=c.outcome,
                    data_env=env,
                    data_run=c.run.label,
                )
            )
        more = (
            tag("p", f"{hidden} more episode(s) not shown (--gallery-per-env).", cls="note")
            if hidden
            else ""
        )
        sections.append(
            tag(
                "section",
                tag("h3", esc(env)) + tag("div", "".join(html_cards), cls="cards") + more,
                cls="gallery",
                data_env=env,
            )
        )
    order = [n for n in outcomes.GALLERY_ORDER if n in seen]
    return tag("h2", "Episodes") + _filters(order) + "".join(sections)
