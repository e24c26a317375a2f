"""Contact sheets of the OOD suite's assets as the policy sees them, for the README and for looking.

``assets_sheet(out)`` writes three PNGs into the folder ``out``, all from one SAPIEN scene (the
WidowX table, the Bridge ``3rd_view_camera``, the default table look):

- ``objects.png``: each object alone at the grid centre (-0.16, 0), yaw 0: the policy's pixels
  (a window of the frame resized to 224×224, enlarged nearest-neighbour) beside the same spot of
  the camera's 640×480 frame;
- ``receptacles.png``: each receptacle at the same spot, the policy's pixels;
- ``table_looks.png``: the 21 table looks as the camera sees them (the backdrop's images,
  :mod:`vlthink.scene.backdrop`), numbered; looks 2..17 are also the Tex / Whole overlay
  textures (:mod:`vlthink.assets.overlay_textures`), so they are not drawn twice.

SAPIEN renders on the CPU here (Mesa lavapipe), so the full sheets take a minute; ``only`` renders
just the named objects and receptacles (a quick look at an edited asset).

    python -m vlthink.sheets.assets docs/img
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sapien
from PIL import Image, ImageDraw, ImageFont

from vlthink.assets.objects import OBJECTS, build_object
from vlthink.assets.overlay_textures import OVERLAY_TEXTURES
from vlthink.assets.receptacles import RECEPTACLES, build_receptacle
from vlthink.assets.table_looks import TABLE_LOOKS, TABLE_LOOKS_TRAIN
from vlthink.errors import UnknownNameError
from vlthink.scene import widowx

SPOT = (-0.16, 0.0)  # m, world xy: the centre of the OOD grid
POLICY_PX = 224  # side of the frame as a policy sees it
PARKED_Z = -2.0  # m: below the floor, out of view
LOOK_CELL = (256, 192)  # px (w, h) of a table look's cell: the 640×480 camera view, scaled
LABEL_H = 22  # px of caption under each cell
TITLE_H = 34  # px of title above the grid
SHEET_BG = (250, 250, 248)
SPLIT_COLOR = {"train": (40, 110, 40), "ood": (170, 60, 20)}


@dataclass(frozen=True)
class SheetKind:
    """How one catalogue is drawn: its specs, builder, the window of the policy's frame around
    each asset (px of the 224×224 frame), its enlargement, and whether the camera's own
    full-resolution pixels of the same spot sit beside it."""

    catalogue: dict
    build: Callable
    window: int
    zoom: int
    cols: int
    with_camera: bool
    title: str


KINDS = {
    "objects": SheetKind(
        OBJECTS,
        build_object,
        window=48,
        zoom=4,
        cols=5,
        with_camera=True,
        title="OOD objects at (-0.16, 0): the policy's 224x224 pixels (48 px windows, x4) "
        "| the camera's 640x480 frame",
    ),
    "receptacles": SheetKind(
        RECEPTACLES,
        build_receptacle,
        window=72,
        zoom=3,
        cols=6,
        with_camera=False,
        title="OOD receptacles at (-0.16, 0), Bridge camera at 224x224 (72 px windows, x3)",
    ),
}


def _font(size: int):
    return ImageFont.load_default(size=size)


def grid(cells: list[tuple[np.ndarray, str, str | None]], cols: int, title: str) -> Image.Image:
    """Lay out (image, caption, split) cells of one size in a grid under a title; a caption is
    coloured by its split (None: black)."""
    cw, ch = cells[0][0].shape[1], cells[0][0].shape[0]
    cols = min(cols, len(cells))
    rows = -(-len(cells) // cols)
    sheet = Image.new("RGB", (cols * cw, TITLE_H + rows * (ch + LABEL_H)), SHEET_BG)
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 6), title, fill=(20, 20, 20), font=_font(18))
    font = _font(13)
    for i, (img, caption, split) in enumerate(cells):
        x, y = (i % cols) * cw, TITLE_H + (i // cols) * (ch + LABEL_H)
        sheet.paste(Image.fromarray(img), (x, y))
        text = caption if split is None else f"{caption} ({split})"
        draw.text((x + 5, y + ch + 3), text, fill=SPLIT_COLOR.get(split, (20, 20, 20)), font=font)
    return sheet


def window_origin(centre: float, window: int, size: int) -> int:
    """First pixel of a ``window``-wide span centred on ``centre``, kept inside [0, size)."""
    return int(np.clip(round(centre) - window // 2, 0, size - window))


class AssetSheetEnv(widowx.WidowXTableEnv):
    """The WidowX table (robot, backdrop) with the named assets ({kind: [name]}) built kinematic
    and parked below the floor; ``env.things[kind, name]`` is an asset's actor."""

    def __init__(self, *args, names: dict[str, list[str]], **kwargs):
        self.names = names
        super().__init__(*args, **kwargs)

    def _load_scene(self, options: dict):
        self._load_table()
        self.things = {}
        for kind, names in self.names.items():
            for name in names:
                i = len(self.things)
                pose = sapien.Pose([0, 0, PARKED_Z - i])  # a metre apart: no contacts
                self.things[kind, name] = KINDS[kind].build(
                    self.scene, name, kinematic=True, initial_pose=pose, actor_name=f"sheet_{i}"
                )

    def _initialize_episode(self, env_idx, options: dict):
        self._reset_robot(env_idx)

    def evaluate(self):
        return {}


def _cell(env, actor, kind: SheetKind) -> np.ndarray:
    """The asset's window of the policy's frame, enlarged (and the camera's pixels beside it)."""
    obs = env.get_obs()
    frame = env.camera_images(obs)[0]
    seg = obs["sensor_data"][widowx.CAMERA_UID]["segmentation"][0, ..., 0].cpu().numpy()
    rows, cols = np.nonzero(seg == int(actor.per_scene_id[0]))
    if len(rows) == 0:
        raise RuntimeError(f"{actor.name} is not in the camera's view at {SPOT}")
    h, w = frame.shape[:2]
    small = np.asarray(Image.fromarray(frame).resize((POLICY_PX, POLICY_PX), Image.BILINEAR))
    r, c = rows.mean() * POLICY_PX / h, cols.mean() * POLICY_PX / w
    r0, c0 = (window_origin(v, kind.window, POLICY_PX) for v in (r, c))
    crop = Image.fromarray(small[r0 : r0 + kind.window, c0 : c0 + kind.window])
    side = kind.window * kind.zoom
    policy = np.asarray(crop.resize((side, side), Image.NEAREST))
    if not kind.with_camera:
        return policy
    R, C = window_origin(rows.mean(), side, h), window_origin(cols.mean(), side, w)
    return np.hstack([policy, frame[R : R + side, C : C + side]])


def kind_sheet(env: AssetSheetEnv, kind_name: str) -> Image.Image:
    """The sheet of one kind's assets in ``env``, each alone at ``SPOT`` in its build pose."""
    kind, cells = KINDS[kind_name], []
    for name in env.names[kind_name]:
        spec, actor = kind.catalogue[name], env.things[kind_name, name]
        actor.set_pose(sapien.Pose([*SPOT, widowx.TABLE_TOP_Z + spec.half_height]))
        cells.append((_cell(env, actor, kind), name, spec.split))
        actor.set_pose(sapien.Pose([0, 0, PARKED_Z]))
    return grid(cells, kind.cols, kind.title)


def table_looks_sheet(backdrop) -> Image.Image:
    """The 21 table looks as the Bridge camera sees them (``backdrop``'s images, what a frame
    shows behind the robot), numbered 1..21 as the overlays count them."""
    cells = []
    for number, name in enumerate(TABLE_LOOKS, start=1):
        img = Image.fromarray(backdrop.image(name)).resize(LOOK_CELL, Image.BILINEAR)
        split = "train" if name in TABLE_LOOKS_TRAIN else "ood"
        cells.append((np.asarray(img), f"{number}. {name}", split))
    first = list(TABLE_LOOKS).index(OVERLAY_TEXTURES[0]) + 1
    last = first + len(OVERLAY_TEXTURES) - 1
    held_out = len(TABLE_LOOKS) - len(TABLE_LOOKS_TRAIN)
    return grid(
        cells,
        cols=7,
        title=f"OOD table looks as the Bridge camera sees them ({len(TABLE_LOOKS_TRAIN)} train / "
        f"{held_out} held out); looks {first}..{last} are also the Tex / Whole overlay textures",
    )


def asset_sheets(names: dict[str, list[str]]) -> dict[str, Image.Image]:
    """{sheet name: sheet}: one per kind in ``names`` ({"objects": [...], "receptacles": [...]})
    that has names, and "table_looks"; all from one SAPIEN scene."""
    names = {k: list(v) for k, v in names.items() if v}
    env = AssetSheetEnv(names=names, obs_mode="rgb+segmentation", num_envs=1, render_mode=None)
    try:
        env.reset(seed=0)
        sheets = {kind: kind_sheet(env, kind) for kind in names}
        sheets["table_looks"] = table_looks_sheet(env.backdrop)
    finally:
        env.close()
    return sheets


def select(only: Iterable[str] | None = None) -> dict[str, list[str]]:
    """{"objects": names, "receptacles": names}: every asset, or just those in ``only``."""
    catalogues = {kind: list(k.catalogue) for kind, k in KINDS.items()}
    if only is None:
        return catalogues
    only = list(only)
    known = {n for names in catalogues.values() for n in names}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise UnknownNameError(
            f"unknown asset(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return {kind: [n for n in names if n in only] for kind, names in catalogues.items()}


def assets_sheet(out: Path, only: Iterable[str] | None = None) -> list[Path]:
    """Write ``objects.png``, ``receptacles.png`` (the sheets that have assets in ``only``, all
    when None) and ``table_looks.png`` into the folder ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, sheet in asset_sheets(select(only)).items():
        paths.append(out / f"{name}.png")
        sheet.save(paths[-1], optimize=True)
    return paths


if __name__ == "__main__":
    for p in assets_sheet(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
        print(p)
