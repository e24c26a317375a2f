"""``vlthink diagnose attention``: does the model look at the board the question names?

Per VL-Think scene (the first frame, as the VLM probe sees it) and per chosen decoder block, the
last prompt token's head-averaged attention over the visual tokens of

    Do you see {target}?          (the "raw" map)

and that map divided patch-wise by the one for ``Describe the scene briefly.`` (the paper's
"ratio" map). Both are renormalised to sum 1 over the visual tokens. Every patch gets the label
of the region covering the largest share of it (target, distractor boards, robot, carrot,
background; from segmentation, mapped through the processor's resize/crop), and per map:

- ``mass_<region>``: attention on the patches of that region (they sum to 1);
- ``area_target``: the target's share of patches; ``lift_target = mass_target / area_target``
  (1.0 = no better than uniform attention);
- ``pointing``: 1 when the most-attended patch is a target patch;
- ``visual_share``: share of the last token's whole attention that went to visual tokens.

Layer ``mean`` averages the chosen blocks' maps (the paper shows layers 15-18 of 32).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlthink.diagnostics.forward import Pass
from vlthink.diagnostics.patch_grid import REGIONS, patch_labels, region_shares

QUESTION = "Do you see {target}?"
DESCRIBE = "Describe the scene briefly."
RATIO_EPS = 1e-6  # added to the "describe" map before dividing (attention is a probability)
PAPER_LAYERS = (15, 18)  # 0-based blocks of OpenVLA-7B's 32 the paper averages
PAPER_DEPTH = 32


def paper_layers(n_layers: int) -> list[int]:
    """The paper's blocks 15-18 of 32, scaled to a model of ``n_layers`` blocks."""
    lo = PAPER_LAYERS[0] * n_layers // PAPER_DEPTH
    hi = PAPER_LAYERS[1] * n_layers // PAPER_DEPTH
    return list(range(lo, min(hi, n_layers - 1) + 1))


@dataclass(frozen=True)
class MapScore:
    """The numbers of one attention map against one scene's regions."""

    masses: dict[str, float]
    area_target: float
    lift_target: float
    pointing: int
    soft_target: float  # sum of attention x target share of each patch (no labelling)


def score_map(amap: np.ndarray, shares: np.ndarray) -> MapScore:
    """Score a (rows, cols) map summing to 1 against (regions, rows, cols) patch shares."""
    labels = patch_labels(shares)
    masses = {r: float(amap[labels == i].sum()) for i, r in enumerate(REGIONS)}
    area = float((labels == 0).mean())
    lift = masses["target"] / area if area > 0 else float("nan")
    top = np.unravel_index(int(np.argmax(amap)), amap.shape)
    return MapScore(masses, area, lift, int(labels[top] == 0), float((amap * shares[0]).sum()))


def ratio_map(asked: np.ndarray, describe: np.ndarray) -> np.ndarray:
    """The paper's map: attention for the question over attention for "describe", renormalised."""
    r = asked / (describe + RATIO_EPS)
    return r / r.sum()


def scene_maps(asked: Pass, describe: Pass, layers: list[int]) -> dict[tuple[str, str], np.ndarray]:
    """{(layer label, "raw"|"ratio"): map} for the chosen blocks and their mean."""
    out: dict[tuple[str, str], np.ndarray] = {}
    raws, ratios = [], []
    for layer in layers:
        raw = asked.visual_attention(layer)
        rat = ratio_map(raw, describe.visual_attention(layer))
        out[(str(layer), "raw")], out[(str(layer), "ratio")] = raw, rat
        raws.append(raw)
        ratios.append(rat)
    out[("mean", "raw")] = np.mean(raws, 0)
    out[("mean", "ratio")] = ratio_map(
        out[("mean", "raw")], np.mean([describe.visual_attention(layer) for layer in layers], 0)
    )
    return out


def scene_rows(
    maps: dict[tuple[str, str], np.ndarray], shares: np.ndarray, asked: Pass, layers: list[int]
) -> list[dict]:
    """One row per (layer, map) with the scores of :func:`score_map`."""
    rows = []
    for (layer, kind), amap in maps.items():
        s = score_map(amap, shares)
        share = (
            np.mean([asked.visual_share(layer) for layer in layers])
            if layer == "mean"
            else asked.visual_share(int(layer))
        )
        rows.append(
            {
                "layer": layer,
                "map": kind,
                **{f"mass_{k}": v for k, v in s.masses.items()},
                "area_target": s.area_target,
                "lift_target": s.lift_target,
                "pointing": s.pointing,
                "soft_target": s.soft_target,
                "visual_share": float(share),
            }
        )
    return rows


def shares_for(scene_masks: dict[str, np.ndarray], asked: Pass) -> np.ndarray:
    return region_shares(scene_masks, asked.geometry)
