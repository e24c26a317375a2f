"""Contact sheets of the OOD suite's assets, for the README and for looking at them.

``assets_sheet(out)`` writes two PNGs into ``out``: ``ood_objects.png`` (every object and
receptacle rendered in SAPIEN from above at an angle, labelled with name and split) and
``ood_textures.png`` (the 21 table looks and the 16 overlays). SAPIEN renders on the CPU here
(Mesa lavapipe), so a sheet takes a minute or two.

    python -m vlthink.sheets.assets docs/img
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vlthink import geometry

CELL = 240  # pixels per rendered cell side
LABEL_H = 22  # pixels of caption under each cell
BACKGROUND = (0.62, 0.62, 0.6)  # neutral grey ground, linear RGB
SPLIT_COLOR = {"train": (40, 110, 40), "ood": (170, 60, 20)}


def _font(size: int):
    for path in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default()


def _look_at(eye, target):
    """sapien.Pose of a camera at ``eye`` looking at ``target``."""
    import sapien

    return sapien.Pose(eye, geometry.look_at_quat(eye, target))


def render_assets(files: list[tuple[Path, float]], size: int = CELL) -> list[np.ndarray]:
    """Render each (visual file, radius in m) alone on a grey ground; returns uint8 RGB images.

    The camera looks down at 50° from the -x side (like the benchmark's tabletop camera) at a
    distance that frames a sphere of the given radius.
    """
    import sapien

    scene = sapien.Scene()
    scene.set_ambient_light([0.45, 0.45, 0.45])
    scene.add_directional_light([0.4, 0.3, -1], [0.9, 0.9, 0.85])
    scene.add_directional_light([-0.5, -0.6, -0.4], [0.25, 0.25, 0.3])
    ground = sapien.render.RenderMaterial(base_color=[*BACKGROUND, 1], roughness=0.9)
    scene.add_ground(0.0, render_material=ground)
    fovy = np.deg2rad(35)
    cam = scene.add_camera("sheet", size, size, fovy, 0.01, 10.0)
    images = []
    for visual, radius in files:
        b = scene.create_actor_builder()
        b.add_visual_from_file(str(visual))
        entity = b.build_kinematic(name=visual.stem)
        lo_z = _min_z(visual)
        entity.set_pose(sapien.Pose([0, 0, -lo_z]))
        dist = 1.6 * max(radius, 0.03) / np.tan(fovy / 2)
        el = np.deg2rad(50)
        az = np.deg2rad(200)  # from the -x side, a little to the left, like the table camera
        eye = np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)]) * dist
        cam.entity.set_pose(_look_at(eye, [0, 0, 0.01]))
        scene.update_render()
        cam.take_picture()
        rgb = cam.get_picture("Color")[..., :3]
        images.append((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
        scene.remove_entity(entity)
    return images


def _min_z(visual: Path) -> float:
    import trimesh

    return float(trimesh.load(visual, force="scene").bounds[0, 2])


def _grid(cells: list[tuple[np.ndarray, str, str | None]], cols: int, title: str) -> Image.Image:
    """Lay out (image, caption, split) cells in a grid under a title."""
    cw, ch = cells[0][0].shape[1], cells[0][0].shape[0]
    rows = -(-len(cells) // cols)
    title_h = 34
    sheet = Image.new("RGB", (cols * cw, title_h + rows * (ch + LABEL_H)), (250, 250, 248))
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 6), title, fill=(20, 20, 20), font=_font(20))
    font = _font(14)
    for i, (img, caption, split) in enumerate(cells):
        x, y = (i % cols) * cw, title_h + (i // cols) * (ch + LABEL_H)
        sheet.paste(Image.fromarray(img).convert("RGB"), (x, y))
        color = SPLIT_COLOR.get(split, (20, 20, 20))
        text = caption if split is None else f"{caption} ({split})"
        draw.text((x + 6, y + ch + 3), text, fill=color, font=font)
    return sheet


def objects_sheet() -> Image.Image:
    from vlthink.assets.objects import OBJECTS, object_files
    from vlthink.assets.receptacles import RECEPTACLES, receptacle_files

    objs = [(object_files(n)[0], float(np.linalg.norm(s.half_size))) for n, s in OBJECTS.items()]
    recs = [
        (receptacle_files(n)[0], float(np.linalg.norm(s.half_size))) for n, s in RECEPTACLES.items()
    ]
    images = render_assets(objs + recs)
    labels = [(n, s.split) for n, s in OBJECTS.items()] + [
        (n, s.split) for n, s in RECEPTACLES.items()
    ]
    cells = [(img, n, split) for img, (n, split) in zip(images, labels)]
    return _grid(
        cells,
        cols=7,
        title="OOD suite: 25 objects (16 train / 9 held out) and "
        "17 receptacles (1 train / 16 held out)",
    )


def textures_sheet(size: int = 160) -> Image.Image:
    from vlthink.assets.overlay_textures import OVERLAY_TEXTURES, overlay_texture
    from vlthink.assets.table_looks import TABLE_LOOKS, TABLE_LOOKS_TRAIN, table_texture

    cells = []
    for name in TABLE_LOOKS:
        split = "train" if name in TABLE_LOOKS_TRAIN else "ood"
        img = Image.fromarray(np.asarray(table_texture(name))).resize((size, size))
        cells.append((np.asarray(img), name, split))
    for name in OVERLAY_TEXTURES:
        img = Image.fromarray(overlay_texture(name, 512)).resize((size, size))
        cells.append((np.asarray(img), f"overlay: {name}", None))
    return _grid(
        cells,
        cols=8,
        title="OOD suite: 21 table looks (16 train / 5 held out) and 16 overlay textures",
    )


def assets_sheet(out: Path) -> list[Path]:
    """Write ``ood_objects.png`` and ``ood_textures.png`` into the folder ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "ood_objects.png", out / "ood_textures.png"]
    objects_sheet().save(paths[0], optimize=True)
    textures_sheet().save(paths[1], optimize=True)
    return paths


if __name__ == "__main__":
    for p in assets_sheet(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
        print(p)
