"""First frames of some envs on both asset sets, side by side (the docs' comparison picture).

    VLTHINK_ORIGINAL_ASSETS=PACK python bench/original_frames.py --out docs/img/original_vs_vlthink.png

One row per env (default: Train, Plate, VisionImg, Tex05, Traffic), seed 0: vlthink's own art on
the left, the paper's original pack on the right; the same seed draws the same episode (object,
receptacle, look, cells) on both.
"""

from __future__ import annotations

import argparse
import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OFFLINE = os.path.join(os.path.dirname(_REPO), "shared", "maniskill")
if not os.environ.get("MS_ASSET_DIR") and os.path.isdir(_OFFLINE):
    os.environ["MS_ASSET_DIR"] = _OFFLINE
sys.path.insert(0, _REPO)

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

import vlthink.envs  # noqa: E402, F401

ENVS = ("OOD-Train", "OOD-Plate", "OOD-VisionImg", "OOD-Tex05", "Traffic")
SETS = ("vlthink", "original")
SCALE = 2  # frames shown at half size
LABEL_H = 22  # px of caption above each frame


def first_frame(env_id: str, assets: str, seed: int) -> tuple[np.ndarray, str]:
    env = gym.make(env_id, assets=assets)
    try:
        obs, _ = env.reset(seed=seed)
        return env.unwrapped.camera_images(obs)[0], env.unwrapped.task_info()[0]["instruction"]
    finally:
        env.close()


def sheet(envs, seed: int) -> Image.Image:
    w, h = 640 // SCALE, 480 // SCALE
    out = Image.new("RGB", (w * len(SETS), (h + LABEL_H) * len(envs)), "white")
    draw = ImageDraw.Draw(out)
    for row, name in enumerate(envs):
        env_id = f"VLThink-{name}-v0"
        for col, assets in enumerate(SETS):
            frame, instruction = first_frame(env_id, assets, seed)
            x, y = col * w, row * (h + LABEL_H)
            out.paste(Image.fromarray(frame).resize((w, h), Image.BILINEAR), (x, y + LABEL_H))
            draw.text((x + 4, y + 5), f"{name} · {assets} · {instruction}", fill="black")
            print(f"{env_id} {assets}: {instruction}", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("envs", nargs="*", default=list(ENVS), help="env names without VLThink-/-v0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="docs/img/original_vs_vlthink.png")
    args = ap.parse_args(argv)
    sheet(args.envs, args.seed).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
