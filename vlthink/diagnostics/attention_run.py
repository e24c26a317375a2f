"""The ``diagnose attention`` run: VL-Think first frames -> attention scores, occlusion, figures.

Items are (env, seed) scenes, ``seed = first_seed + i`` for ``i < episodes``. Each finished scene
appends one row (its task, its robot occlusion per board, and one score row per (layer, map));
its maps go to ``features/`` for the figures. Written from all finished scenes at the end:

    attention_scenes.csv    one line per (scene, layer, map)
    attention_summary.csv   mean per (domain, layer, map) and over all domains ("all"), with
                            ``target_in_view``: the share of the target's pixels inside the
                            model's view (LLaVA-1.5's centre crop cuts off part of the right board)
    occlusion.csv           per layout and board position: robot occlusion of the first frame
    diagnostics_attention_<domain>.png   heat-map overlays of the first scenes of each domain
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlthink.diagnostics import attention as att
from vlthink.diagnostics.forward import ensure_attention_weights, run_pass
from vlthink.diagnostics.models import LoadedModel, ModelRef
from vlthink.diagnostics.patch_grid import Geometry, region_shares
from vlthink.diagnostics.rundir import RunDir, write_csv
from vlthink.diagnostics.scenes import occlusion, scenes_to_do

FIGURE_WIDTH_PX = 320  # frames are stored at this width for the overlays


@dataclass
class AttentionSettings:
    envs: list[str]
    episodes: int = 8
    first_seed: int = 0
    layers: list[int] | None = None  # None: the paper's 15-18 of 32, scaled to the model
    question: str = att.QUESTION
    describe: str = att.DESCRIBE
    figures_per_domain: int = 3
    attn: str = "switch"  # "switch" a model that returns no weights to eager, or "refuse"


def layout_name(n_boards: int) -> str:
    return f"{n_boards} boards"


def _scene_item(lm: LoadedModel, scene, s: AttentionSettings, layers: list[int]):
    masks = scene.region_masks()
    asked = run_pass(
        lm, scene.image, s.question.format(target=scene.task["target"]), attention=True
    )
    describe = run_pass(lm, scene.image, s.describe, attention=True)
    shares = region_shares(masks, asked.geometry)
    maps = att.scene_maps(asked, describe, layers)
    scores = att.scene_rows(maps, shares, asked, layers)
    occ = [dataclasses.asdict(o) for o in occlusion(scene, layout_name(len(scene.boards)))]
    row = {
        "env": scene.env_id,
        "domain": scene.domain,
        "seed": scene.seed,
        "target": scene.task["target"],
        "target_position": scene.target_position,
        "grid": list(asked.geometry.grid),
        "box": list(asked.geometry.box),
        "frame_hw": list(asked.geometry.frame_hw),
        "scores": scores,
        "occlusion": occ,
        "target_in_view": in_view(masks["target"], asked.geometry),
    }
    step = max(1, scene.image.shape[1] // FIGURE_WIDTH_PX)
    arrays = {
        "image": scene.image[::step, ::step],
        "target": masks["target"][::step, ::step],
        "map_raw": maps[("mean", "raw")],
        "map_ratio": maps[("mean", "ratio")],
        "step": np.array(step),
    }
    return row, arrays


def in_view(mask: np.ndarray, geo: Geometry) -> float:
    """Share of a mask's pixels inside the model's view (a centre crop can cut a board off)."""
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = geo.box
    inside = (xs + 0.5 >= x0) & (xs + 0.5 < x1) & (ys + 0.5 >= y0) & (ys + 0.5 < y1)
    return float(inside.mean()) if len(xs) else 0.0


def run_attention(ref: ModelRef, s: AttentionSettings, out: Path, progress: bool = True) -> RunDir:
    """Run (or resume) the attention diagnostic into ``out``; returns the run directory."""
    from tqdm import tqdm

    layers = s.layers if s.layers is not None else att.paper_layers(ref.n_layers)
    bad = [layer for layer in layers if not 0 <= layer < ref.n_layers]
    if bad:
        from vlthink.diagnostics.rundir import DiagnosticsError

        raise DiagnosticsError(
            f"--layers {bad}: {ref.path} has decoder blocks 0..{ref.n_layers - 1}"
        )
    settings = {**dataclasses.asdict(s), "layers": layers, **ref.settings}
    run = RunDir.open(out, "attention", settings, extra={"model": ref.describe()})
    todo = [
        (e, s.first_seed + i)
        for e in s.envs
        for i in range(s.episodes)
        if not run.is_done(f"{e}/{s.first_seed + i}")
    ]
    lm = ref.load() if todo else None
    if todo:
        outcome = ensure_attention_weights(lm, s.attn)  # 'eager' or 'switched sdpa -> eager'
    bar = tqdm(total=len(todo), desc="attention", unit="scene", disable=not progress)
    for env_id, seed, scene in scenes_to_do(s.envs, todo):
        row, arrays = _scene_item(lm, scene, s, layers)
        run.add(f"{env_id}/{seed}", {**row, "attention": outcome}, arrays)
        bar.update(1)
    bar.close()
    write_attention_outputs(run, s)
    return run


def write_attention_outputs(run: RunDir, s: AttentionSettings) -> None:
    """The CSVs and figures, from every finished scene of the run."""
    import pandas as pd

    rows = run.rows()
    flat = [
        {
            "env": r["env"],
            "domain": r["domain"],
            "seed": r["seed"],
            "target_position": r["target_position"],
            "target_in_view": r["target_in_view"],
            **sc,
        }
        for r in rows
        for sc in r["scores"]
    ]
    write_csv(run.path / "attention_scenes.csv", flat)
    df = pd.DataFrame(flat)
    metrics = [
        c
        for c in df.columns
        if c.startswith(("target_in", "mass_", "area_", "lift_", "pointing", "soft_", "visual_"))
    ]
    per = df.groupby(["domain", "layer", "map"], sort=False)[metrics].mean().reset_index()
    per.insert(3, "n", df.groupby(["domain", "layer", "map"], sort=False).size().values)
    pooled = df.groupby(["layer", "map"], sort=False)[metrics].mean().reset_index()
    pooled.insert(0, "domain", "all")
    pooled.insert(3, "n", df.groupby(["layer", "map"], sort=False).size().values)
    write_csv(run.path / "attention_summary.csv", pd.concat([per, pooled]).to_dict("records"))
    write_csv(run.path / "occlusion.csv", occlusion_summary(rows))
    _figures(run, rows, s)


def occlusion_summary(rows: list[dict]) -> list[dict]:
    """Per (layout, position): the robot's occlusion over all scenes (min = max when the robot
    starts identically every episode, which the table lets one check)."""
    import pandas as pd

    occ = pd.DataFrame([o for r in rows for o in r["occlusion"]])
    g = occ.groupby(["layout", "position"], sort=False)
    out = g.agg(
        scenes=("robot_share", "size"),
        silhouette_px=("silhouette_px", "mean"),
        visible_share=("visible_share", "mean"),
        robot_share=("robot_share", "mean"),
        robot_share_min=("robot_share", "min"),
        robot_share_max=("robot_share", "max"),
        other_share=("other_share", "mean"),
        visible_outside=("visible_outside", "max"),
    )
    return out.reset_index().to_dict("records")


def _figures(run: RunDir, rows: list[dict], s: AttentionSettings) -> None:
    from vlthink.diagnostics.figures import attention_sheet

    by_domain: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: (r["domain"], r["seed"])):
        by_domain.setdefault(r["domain"], []).append(r)
    for domain, rs in by_domain.items():
        panels = []
        for r in rs[: s.figures_per_domain]:
            a = run.arrays(r["key"])
            step = int(a["step"])
            h, w = a["image"].shape[:2]
            geo = Geometry((h, w), tuple(v / step for v in r["box"]), tuple(r["grid"]))
            mean = {(sc["map"]): sc for sc in r["scores"] if sc["layer"] == "mean"}
            panels.append(
                {
                    "image": a["image"],
                    "target": a["target"],
                    "geometry": geo,
                    "maps": {"raw": a["map_raw"], "ratio": a["map_ratio"]},
                    "scores": {
                        k: f"target {v['mass_target']:.2f} (x{v['lift_target']:.1f})"
                        for k, v in mean.items()
                    },
                    "label": f"seed {r['seed']}: {r['target']} ({r['target_position']})",
                }
            )
        attention_sheet(
            panels,
            run.path / f"diagnostics_attention_{domain.lower()}.png",
            f"{domain}: last-token attention, mean of the chosen layers",
        )
