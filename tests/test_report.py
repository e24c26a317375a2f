"""`vlthink report` end to end: two small real runs (oracle, oracle-random; a VL-Think and an OOD
env; videos recorded), the page built from them and opened in a real headless Chromium."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vlthink import cli
from vlthink.harness import rundir
from vlthink.report import build_report, media
from vlthink.report.browser import find_chromium, load_page

ENVS = ["VLThink-Shape-v0", "VLThink-OOD-Plate-v0"]
EPISODES = 2
POLICIES = ("oracle", "oracle-random")

needs_browser = pytest.mark.skipif(
    find_chromium() is None, reason="no chromium (bash .ci/setup --test installs it)"
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The two runs, made once for the module, side by side (one process each)."""
    root = tmp_path_factory.mktemp("report-runs")
    out = {p: root / p for p in POLICIES}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vlthink.harness.cli",
                "--policy",
                p,
                "--suite",
                *ENVS,
                "--episodes",
                str(EPISODES),
                "--record-video",
                "--out",
                str(out[p]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for p in POLICIES
    ]
    for p, proc in zip(POLICIES, procs):
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{p}: exit {proc.returncode}\n{err[-3000:]}"
    return out


def _videos(run_dir: Path, suffix: str) -> list[Path]:
    return sorted((run_dir / "videos").rglob(f"*{suffix}"))


def _groups(run_dirs) -> set[tuple[str, str]]:
    out = set()
    for d in run_dirs:
        manifest, rows = rundir.load_run(d)
        out |= {
            (manifest["tasks"][r["env"]]["suite"], manifest["tasks"][r["env"]]["group"])
            for r in rows
        }
    return out


# JavaScript run in the page: what the DOM holds and whether each video actually plays.
JS = {
    "groups": "[...document.querySelectorAll('figure.chart[data-kind=group]')]"
    ".map(f => [f.dataset.suite, f.dataset.group, f.dataset.series])",
    "videos": """Promise.all([...document.querySelectorAll('video')].map(v => new Promise(ok => {
        const done = () => ok({ready: v.readyState, error: v.error && v.error.code,
                               duration: v.duration, width: v.videoWidth});
        if (v.readyState >= 2) return done();
        v.addEventListener('loadeddata', done); v.addEventListener('error', done);
        v.load(); setTimeout(done, 15000);
    })))""",
    "anims": "document.querySelectorAll('img.episode-anim').length",
    "broken_images": "[...document.images].filter(i => !i.complete || i.naturalWidth == 0)"
    ".map(i => i.alt)",
    "outcomes": "[...document.querySelectorAll('section.gallery')].map(s => "
    "[...s.querySelectorAll('.card')].map(c => c.dataset.outcome))",
    "filtered": """(() => {
        const box = document.querySelector('.filters input[value=success]');
        box.checked = false; box.dispatchEvent(new Event('change'));
        const shown = c => c.style.display !== 'none';
        const cards = [...document.querySelectorAll('.card')];
        const r = {success_shown: cards.filter(c => c.dataset.outcome == 'success' && shown(c))
                   .length, others_shown: cards.filter(c => c.dataset.outcome != 'success'
                   && shown(c)).length};
        box.checked = true; box.dispatchEvent(new Event('change'));
        return r; })()""",
}


def _not_blank(png: bytes) -> None:
    im = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert im.std() > 20, f"screenshot looks blank (pixel SD {im.std():.1f})"
    assert (im < 200).mean() > 0.05, "screenshot is almost all white"


def _check_page(page: Path, run_dirs, expect_mp4: int, expect_gif: int = 0) -> dict:
    res = load_page(page, JS)
    assert res.errors == [], res.errors
    _not_blank(res.screenshot)
    v = res.values
    assert {(s, g) for s, g, _ in v["groups"]} == _groups(run_dirs)
    assert len(v["groups"]) == len(_groups(run_dirs))  # one chart per env group, no more
    assert len(v["videos"]) == expect_mp4
    for info in v["videos"]:  # decoded by the browser: frames, a size and a duration
        assert info["error"] is None and info["ready"] >= 2 and info["width"] > 0, info
        assert info["duration"] > 1.0, info
    assert v["anims"] == expect_gif
    assert v["broken_images"] == []
    assert v["filtered"]["success_shown"] == 0
    return v


@needs_browser
def test_report_opens_in_headless_chromium(runs, tmp_path):
    dirs = [runs[p] for p in POLICIES]
    mp4s = sum(len(_videos(d, ".mp4")) for d in dirs)
    assert mp4s == len(POLICIES) * len(ENVS) * EPISODES  # every episode was recorded
    page = tmp_path / "report.html"
    assert cli.main(["report", *map(str, dirs), "--out", str(page)]) == 0
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: opens offline
    v = _check_page(page, dirs, expect_mp4=mp4s)
    assert v["filtered"]["others_shown"] == sum(x != "success" for s in v["outcomes"] for x in s)
    for section in v["outcomes"]:  # failures first in every env's gallery
        ranks = [x == "success" for x in section]
        assert ranks == sorted(ranks), section
    series = {g: s for _, g, s in v["groups"]}
    assert "oracle|measured" in series["Shape"] and "oracle-random|measured" in series["Shape"]
    # the paper's OOD numbers sit beside ours, labelled as reported; VL-Think has none
    assert re.search(r"\(paper\)\|reported", series["Semantic"])
    assert "reported" not in series["Shape"]
    assert "fewer than the paper&#x27;s 128" in html or "fewer than the paper's 128" in html


@needs_browser
def test_media_beside_the_page(runs, tmp_path):
    dirs = [runs[p] for p in POLICIES]
    page = build_report(dirs, tmp_path / "out" / "r.html", media_dir=True)
    html = page.read_text()
    assert "data:video" not in html and "data:image/png" not in html
    srcs = re.findall(r'(?:src|poster)="([^"]+)"', html)
    assert srcs and all(s.startswith("r_files/") for s in srcs)
    assert all((page.parent / s).is_file() for s in srcs)
    assert len([s for s in srcs if s.endswith(".mp4")]) == sum(
        len(_videos(d, ".mp4")) for d in dirs
    )
    _check_page(page, dirs, expect_mp4=sum(len(_videos(d, ".mp4")) for d in dirs))


def _gif_copy(src: Path, dst: Path) -> Path:
    """The run as the older recorder left it: the same episodes, each video a GIF."""
    shutil.copytree(src, dst)
    for mp4 in _videos(dst, ".mp4"):
        first, last = media.first_last(media.Video(mp4, "video/mp4"))
        frames = [Image.fromarray(f) for f in (first, last)]
        frames[0].save(mp4.with_suffix(".gif"), save_all=True, append_images=frames[1:])
        mp4.unlink()
    return dst


@needs_browser
def test_gif_runs_show_animated_images(runs, tmp_path):
    old = _gif_copy(runs["oracle-random"], tmp_path / "gif-run")
    gifs = _videos(old, ".gif")
    page = build_report([old], tmp_path / "gif.html")
    _check_page(page, [old], expect_mp4=0, expect_gif=len(gifs))
    mp4 = _videos(runs["oracle-random"], ".mp4")[0]
    a = media.first_last(media.Video(mp4, "video/mp4"))
    b = media.first_last(
        media.Video(old / mp4.relative_to(runs["oracle-random"]).with_suffix(".gif"), "image/gif")
    )
    assert a[0].shape == b[0].shape and a[1].shape == b[1].shape


def test_baseline_p_values_and_provenance(runs, tmp_path):
    page = build_report([runs["oracle"]], tmp_path / "b.html", baseline=runs["oracle-random"])
    html = page.read_text()
    assert "oracle-random (baseline)|baseline" in html  # the baseline drawn beside the run
    assert "McNemar p (n)" in html and "exact)" in html
    manifest, _ = rundir.load_run(runs["oracle"])
    assert manifest["command"] in html and manifest["render_device"] in html


def _copy(src: Path, dst: Path, manifest_edit=None, rows_edit=None) -> Path:
    shutil.copytree(src, dst)
    if manifest_edit:
        m = json.loads((dst / "manifest.json").read_text())
        manifest_edit(m)
        (dst / "manifest.json").write_text(json.dumps(m))
    if rows_edit:
        lines = (dst / "episodes.jsonl").read_text().splitlines()
        (dst / "episodes.jsonl").write_text("\n".join(rows_edit(lines)) + "\n")
    return dst


def test_provenance_difference_is_warned(runs, tmp_path):
    other = _copy(
        runs["oracle-random"],
        tmp_path / "other",
        manifest_edit=lambda m: m.update(render_device="NVIDIA H100"),
    )
    html = build_report([runs["oracle"], other], tmp_path / "w.html").read_text()
    warn = html.split('id="warnings"')[1].split("</div>")[0]
    assert "differ in render device" in warn and "NVIDIA H100" in warn


def _set_protocol(m):
    m["protocol_version"] = "vlthink-1"


def _corrupt(lines):
    return [lines[0], "{not json", *lines[1:]]


BAD = {
    "missing": (lambda runs, tmp: tmp / "nope", "is not a directory"),
    "empty dir": (
        lambda runs, tmp: (tmp / "empty").mkdir() or tmp / "empty",
        "not a vlthink-eval run directory",
    ),
    "corrupt rows": (
        lambda runs, tmp: _copy(runs["oracle"], tmp / "c", rows_edit=_corrupt),
        "line 2: not valid JSON",
    ),
    "protocols": (
        lambda runs, tmp: _copy(runs["oracle"], tmp / "p", manifest_edit=_set_protocol),
        "scene protocol 'vlthink-1'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(runs, tmp_path, capsys, case):
    make, expected = BAD[case]
    bad = make(runs, tmp_path)
    rc = cli.main(
        ["report", str(runs["oracle-random"]), str(bad), "--out", str(tmp_path / "x.html")]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("vlthink report: error:"), err
    assert expected in err and "Fix:" in err, err
    assert not (tmp_path / "x.html").exists()


def test_probe_runs_get_confusion_charts(runs, tmp_path):
    """The oracle-random run's rows, answered as a probe would (yes, always on the left)."""

    def as_probe(lines):
        out = []
        for line in lines:
            r = json.loads(line)
            r.update(
                said_yes=True,
                position="left",
                absent_correct=False,
                answer="Yes, on the left.",
                success_once=r["task"].get("target_position") == "left",
            )
            out.append(json.dumps(r))
        return out

    probe = _copy(
        runs["oracle-random"],
        tmp_path / "probe",
        rows_edit=as_probe,
        manifest_edit=lambda m: m["policy"].update(kind="probe", name="yes-probe"),
    )
    html = build_report([probe], tmp_path / "probe.html").read_text()
    for kind in ("probe-yesno", "probe-position", "probe-rates"):
        assert f'data-kind="{kind}"' in html
    assert "Yes, on the left." in html
    assert 'data-kind="choice"' not in html  # where an object ended means nothing for a probe
