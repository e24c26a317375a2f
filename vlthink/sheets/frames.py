"""Pictures of what the envs show: first frames of seeded episodes, laid out as a contact sheet."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CAPTION_H = 22  # px of caption above each frame
CAPTION_PT = 12  # font size of a caption, shrunk when it would not fit the frame's width


def caption_font(draw: ImageDraw.ImageDraw, text: str, width: int) -> ImageFont.ImageFont:
    """The caption font, at the largest size up to CAPTION_PT whose ``text`` fits ``width``."""
    size = CAPTION_PT
    while size > 7 and draw.textlength(text, font=ImageFont.load_default(size=size)) > width:
        size -= 1
    return ImageFont.load_default(size=size)


def first_frame(env, seed: int) -> tuple[np.ndarray, dict]:
    """The Bridge camera frame after reset(seed) and the episode's task facts."""
    obs, _ = env.reset(seed=seed)
    base = env.unwrapped
    return base.camera_images(obs)[0], base.task_info()[0]


def first_frames_sheet(
    env_ids: Iterable[str], seeds: Iterable[int], out: Path, scale: float = 0.5
) -> Path:
    """One row per env, one column per seed, each frame captioned with its instruction."""
    import gymnasium as gym

    from vlthink.envs import register_all

    register_all()  # the ids, for gym.make

    rows = []
    seeds = list(seeds)
    for env_id in env_ids:
        env = gym.make(env_id)
        tiles = []
        for seed in seeds:
            frame, info = first_frame(env, seed)
            img = Image.fromarray(frame).resize(
                (int(frame.shape[1] * scale), int(frame.shape[0] * scale))
            )
            cap = Image.new("RGB", (img.width, img.height + CAPTION_H), "white")
            cap.paste(img, (0, CAPTION_H))
            where = f" [{info['target_position']}]" if info.get("target_position") else ""
            text = f"{env_id} s{seed}: {info['instruction']}{where}"
            draw = ImageDraw.Draw(cap)
            draw.text((4, 4), text, fill="black", font=caption_font(draw, text, cap.width - 8))
            tiles.append(np.asarray(cap))
        env.close()
        rows.append(np.concatenate(tiles, axis=1))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    return out
