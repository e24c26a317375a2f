"""Figures of the diagnostics: attention heat-map overlays and t-SNE scatter plots (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vlthink.diagnostics.patch_grid import Geometry

OVERLAY_ALPHA = 0.85  # opacity of the heat map where it peaks (it fades to 0 where the map is 0)
FIG_DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def map_on_frame(amap: np.ndarray, geo: Geometry) -> np.ndarray:
    """(H, W) the patch map painted back onto frame pixels (NaN outside the model's box)."""
    h, w = geo.frame_hw
    x0, y0, x1, y1 = geo.box
    rows, cols = geo.grid
    cx = np.floor(((np.arange(w) + 0.5) - x0) / (x1 - x0) * cols).astype(int)
    cy = np.floor(((np.arange(h) + 0.5) - y0) / (y1 - y0) * rows).astype(int)
    out = np.full((h, w), np.nan)
    okx, oky = (cx >= 0) & (cx < cols), (cy >= 0) & (cy < rows)
    out[np.ix_(oky, okx)] = amap[np.ix_(cy[oky], cx[okx])]
    return out


def _heat_rgba(heat: np.ndarray, plt) -> np.ndarray:
    """Colour by value (turbo, scaled to the map's peak), opacity rising with the value, so
    the frame shows through where the model does not look."""
    norm = np.nan_to_num(heat / np.nanmax(heat), nan=0.0)
    rgba = plt.get_cmap("turbo")(norm)
    rgba[..., 3] = OVERLAY_ALPHA * np.sqrt(norm)
    return rgba


def _outline(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(bool)
    edge = np.zeros_like(m)
    edge[1:-1, 1:-1] = m[1:-1, 1:-1] & ~(m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:])
    return edge


def attention_sheet(panels: list[dict], out: Path, title: str) -> Path:
    """One row per scene: the frame with the target outlined, then each named map as an overlay.

    A panel is {"image", "target", "geometry", "maps": {name: (rows, cols)}, "label"}."""
    plt = _plt()
    names = list(panels[0]["maps"])
    fig, axes = plt.subplots(
        len(panels),
        1 + len(names),
        squeeze=False,
        figsize=(3.2 * (1 + len(names)), 2.5 * len(panels)),
    )
    for r, p in enumerate(panels):
        frame = p["image"].copy()
        edge = _outline(p["target"])
        frame[edge] = (0, 255, 0)
        axes[r, 0].imshow(frame)
        axes[r, 0].set_title(p["label"], fontsize=8)
        for c, name in enumerate(names, start=1):
            heat = map_on_frame(p["maps"][name], p["geometry"])
            ax = axes[r, c]
            ax.imshow(p["image"])
            ax.imshow(_heat_rgba(heat, plt))
            ys, xs = np.nonzero(edge)
            ax.scatter(xs, ys, s=0.05, c="lime")
            ax.set_title(name + (f"  {p['scores'][name]}" if "scores" in p else ""), fontsize=8)
        for ax in axes[r]:
            ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=FIG_DPI)
    plt.close(fig)
    return out


def tsne_sheet(
    points: dict[str, np.ndarray], labels: np.ndarray, out: Path, title: str, scores: dict[str, str]
) -> Path:
    """One scatter per panel (e.g. per layer) of 2-D points coloured by class."""
    plt = _plt()
    names = list(points)
    classes = sorted(set(labels.tolist()))
    cmap = plt.get_cmap("tab20" if len(classes) > 10 else "tab10")
    fig, axes = plt.subplots(1, len(names), squeeze=False, figsize=(4.2 * len(names), 4.2))
    for ax, name in zip(axes[0], names):
        xy = points[name]
        for i, cls in enumerate(classes):
            sel = labels == cls
            ax.scatter(xy[sel, 0], xy[sel, 1], s=10, color=cmap(i % cmap.N), label=str(cls))
        ax.set_title(f"{name}\n{scores.get(name, '')}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, -1].legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=1.5)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=FIG_DPI)
    plt.close(fig)
    return out
