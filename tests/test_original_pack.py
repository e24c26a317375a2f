"""The original asset pack, without the real pack: a small synthetic pack in the original layout,
made here (trimesh meshes, model_db.json files, pictures), fetched, verified, loaded and rendered.

The pack is checked against a list made from it (``VLTHINK_ORIGINAL_EXPECTED``), as the real
pack is against the shipped ``files.tsv``."""

from __future__ import annotations

import http.server
import io
import json
import shutil
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from vlthink.assets.original import asset_set_id, pack
from vlthink.assets.original.assets import UNVERIFIED_VAR
from vlthink.assets.original.fetch import download, fetch
from vlthink.assets.original.pack import PackError, check, files_of, list_hash, write_expected

SUBDIR = pack.PACK_SUBDIR


# ---- the synthetic pack ------------------------------------------------------------------------
def _box_obj(extents) -> bytes:
    return trimesh.creation.box(extents=extents).export(file_type="obj").encode()


def _board_glb(rgb) -> bytes:
    box = trimesh.creation.box(extents=(0.11, 0.11, 0.006))
    uv = (box.vertices[:, :2] - box.vertices[:, :2].min(0)) / 0.11
    img = Image.new("RGB", (16, 16), rgb)
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=img)
    return box.export(file_type="glb")


def _png(size, rgb) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, format="PNG")
    return out.getvalue()


def _meshes(root: Path, folder: str, names, extents_of) -> None:
    db = {}
    for i, name in enumerate(names):
        key = "001_carrot_simpler" if name == "carrot" else f"{i + 1:03d}_{name}_1"
        ext = np.asarray(extents_of(i))
        db[key] = {
            "name": "zuchinni" if name == "zucchini" else name,
            "bbox": {"min": list(-ext / 2), "max": list(ext / 2)},
            "scales": [1.0],
            "density": 500 + 10 * i,
        }
        (root / folder / key).mkdir(parents=True)
        (root / folder / key / "collision.obj").write_bytes(_box_obj(ext))
        (root / folder / key / "textured.obj").write_bytes(_box_obj(ext))
    (root / folder / "model_db.json").write_text(json.dumps(db))


TABLE_RGB = [(10 * i + 40, 200 - 5 * i, 90) for i in range(21)]


def _tables(root: Path) -> None:
    from vlthink.assets.table_looks import TABLE_LOOKS

    db = {}
    for i, _ in enumerate(TABLE_LOOKS):
        picture = f"{i + 1:03d}_table_{i}.png"
        db[picture] = {"name": "table", "texture": f"{i + 1:03d}.png", "mix": float(i > 0)}
        for sub in ("imgs", "textures"):
            (root / "more_table" / sub).mkdir(parents=True, exist_ok=True)
        (root / "more_table" / "imgs" / picture).write_bytes(_png((64, 48), TABLE_RGB[i]))
        (root / "more_table" / "textures" / f"{i + 1:03d}.png").write_bytes(
            _png((32, 32), (255, 0, 255))
        )
    (root / "more_table" / "model_db.json").write_text(json.dumps(db))


def _boards(root: Path) -> None:
    from vlthink.assets.original.loader import BOARD_DIRS
    from vlthink.boards.catalogue import BOARDS

    glb, collision = _board_glb((250, 20, 20)), _box_obj((0.11, 0.11, 0.006))
    for family, folder in BOARD_DIRS.items():
        db = {}
        for i, b in enumerate(x for x in BOARDS.values() if x.family == family):
            key = f"{i + 1:03d}_{b.key}"
            row = {"name": b.name, "density": 6368, "scales": [1.0]}
            if family == "shape":
                row |= {"shape": b.concept, "color": b.color}
            elif family == "parity":
                row |= {"number": int(b.concept)}
            else:
                row |= {"sign": b.concept.replace("_", " ")}
            db[key] = row
            (root / folder / "shapes" / key).mkdir(parents=True)
            (root / folder / "shapes" / key / "collision.obj").write_bytes(collision)
            (root / folder / "shapes" / key / "textured.glb").write_bytes(glb)
        (root / folder / "model_db.json").write_text(json.dumps(db))


def make_pack(root: Path) -> Path:
    """A synthetic pack at ``root``; returns its expected list (a files.tsv of its own)."""
    from vlthink.assets.objects import OBJECTS
    from vlthink.assets.receptacles import RECEPTACLES

    # every other object longer across y than along x: the loader turns it a quarter
    _meshes(
        root, "more_carrot", OBJECTS, lambda i: (0.06, 0.03, 0.03) if i % 2 else (0.03, 0.06, 0.03)
    )
    _meshes(root, "more_plate", RECEPTACLES, lambda i: (0.11, 0.10, 0.006))
    _tables(root)
    _boards(root)
    return write_expected(files_of(root), root.parent / f"{root.name}.tsv")


@pytest.fixture(autouse=True)
def _verified(monkeypatch):
    """Verification on, as a user's shell has it: a developer's VLTHINK_ORIGINAL_UNVERIFIED=1
    (set to run on a copy of the pack that lacks its largest files) must not turn these off."""
    monkeypatch.delenv(UNVERIFIED_VAR, raising=False)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[Path, Path]:
    """(a clone-like folder holding the pack at its place in the repository, its list)."""
    clone = tmp_path_factory.mktemp("clone")
    tsv = make_pack(clone / SUBDIR)
    (clone / "README.md").write_text("not part of the pack")
    return clone, tsv


@pytest.fixture
def expected_list(synthetic, monkeypatch):
    monkeypatch.setenv(pack.EXPECTED_VAR, str(synthetic[1]))
    return pack.read_expected(synthetic[1])


# ---- fetch and verification --------------------------------------------------------------------
def test_fetch_from_a_clone_installs_exactly_the_pack_and_it_verifies(
    synthetic, expected_list, tmp_path
):
    dest = fetch(tmp_path / "pack", str(synthetic[0]))
    assert not check(dest, expected_list)
    assert not (dest / "README.md").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["pack"]  # no temporary folder left


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_fetch_from_an_archive_file_takes_only_the_pack_folder(
    synthetic, expected_list, tmp_path, kind
):
    archive = tmp_path / f"BlindVLA.{kind}"
    top = "BlindVLA-cc61329"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            for p in sorted(synthetic[0].rglob("*")):
                z.write(p, f"{top}/{p.relative_to(synthetic[0]).as_posix()}")
    else:
        with tarfile.open(archive, "w:gz") as t:
            t.add(synthetic[0], arcname=top)
    dest = fetch(tmp_path / "pack", str(archive))
    assert not check(dest, expected_list)


def _cli(*args) -> int:
    from vlthink.cli import main

    return main(["assets", "fetch", "original", *map(str, args)])


def _broken_copy(synthetic, tmp_path, breakage) -> tuple[Path, str]:
    src = tmp_path / "src"
    shutil.copytree(synthetic[0] / SUBDIR, src)
    return src, breakage(src)


def _flip_a_byte(src: Path) -> str:
    path = src / "more_plate" / "003_carpet_1" / "collision.obj"
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    return "more_plate/003_carpet_1/collision.obj"


def _delete_a_file(src: Path) -> str:
    (src / "more_table" / "imgs" / "007_table_6.png").unlink()
    return "more_table/imgs/007_table_6.png"


@pytest.mark.parametrize("breakage", [_flip_a_byte, _delete_a_file], ids=["corrupt", "missing"])
def test_a_corrupt_or_missing_file_is_one_line_naming_it_exit_2_and_no_pack_left(
    synthetic, expected_list, tmp_path, capsys, breakage
):
    src, named = _broken_copy(synthetic, tmp_path, breakage)
    rc = _cli("--from", src, "--to", tmp_path / "out" / "pack")
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and named in err and "fix:" in err
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-made, not even a temp folder


def test_a_failed_fetch_keeps_the_pack_that_was_there(synthetic, expected_list, tmp_path):
    dest = fetch(tmp_path / "pack", str(synthetic[0]))
    src, _ = _broken_copy(synthetic, tmp_path, _flip_a_byte)
    with pytest.raises(PackError):
        fetch(dest, str(src))
    assert not check(dest, expected_list)


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = b""
    ranges: list[str] = []

    def do_GET(self):
        start = 0
        asked = self.headers.get("Range")
        type(self).ranges.append(asked)
        if asked:
            start = int(asked.split("=")[1].split("-")[0])
        body = self.payload[start:]
        self.send_response(206 if asked else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_download_resumes_where_an_interrupted_one_stopped(tmp_path):
    payload = np.random.default_rng(0).bytes(300_000)
    _RangeHandler.payload, _RangeHandler.ranges = payload, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = tmp_path / "archive.tar.gz"
        (tmp_path / "archive.tar.gz.part").write_bytes(payload[:123_456])
        url = f"http://127.0.0.1:{server.server_address[1]}/archive.tar.gz"
        download(url, target, progress=False)
    finally:
        server.shutdown()
    assert target.read_bytes() == payload
    assert _RangeHandler.ranges == ["bytes=123456-"]
    assert not (tmp_path / "archive.tar.gz.part").exists()


# ---- loading -----------------------------------------------------------------------------------
@pytest.fixture
def installed(synthetic, expected_list, tmp_path, monkeypatch) -> Path:
    dest = fetch(tmp_path / "pack", str(synthetic[0]))
    monkeypatch.setenv(pack.ENV_VAR, str(dest))
    return dest


def test_the_loader_reads_meshes_at_their_db_density_in_vlthink_s_frame(installed):
    from vlthink.assets.sets import asset_set

    assets = asset_set("original")
    bread = assets.object_spec("bread")  # the 3rd: 3 cm along x, 6 cm across y in the pack
    assert bread.density == 520.0 and bread.quarter_turn
    assert bread.half_size == pytest.approx((0.03, 0.015, 0.015))
    assert bread.half_height == pytest.approx(0.015)
    assert bread.grasp_point == pytest.approx((0.0, 0.0), abs=1e-4)
    assert assets.object_spec("zucchini").key == "006_zucchini_1"
    assert assets.receptacle_spec("cloth").support_z == pytest.approx(0.003)
    assert assets.object_spec("carrot").visual.name == "textured.obj"


def test_the_loader_gives_camera_size_table_pictures_overlays_with_their_mix_and_every_board(
    installed,
):
    from vlthink.assets.sets import asset_set
    from vlthink.assets.table_looks import TABLE_LOOKS
    from vlthink.boards.catalogue import BOARDS

    assets = asset_set("original")
    looks = list(TABLE_LOOKS)
    picture = assets.table_picture(looks[4])
    assert picture.shape == (480, 640, 3) and tuple(picture[240, 320]) == TABLE_RGB[4]
    assert assets.overlay_mix(looks[0]) == 0.0 and assets.overlay_mix(looks[3]) == 1.0
    assert tuple(assets.overlay_texture(looks[3])[0, 0]) == (255, 0, 255)
    board = assets.board_texture(next(iter(BOARDS)))["image"]
    assert tuple(board[0, 0]) == (250, 20, 20)
    assert len(assets._boards) == len(BOARDS)


def _quadrant_glb(path: Path, v_of_y) -> None:
    """A board GLB whose texture is white with a red top-right quadrant, mapped through UVs
    u = x across the board and v = ``v_of_y(y)`` (trimesh's convention, origin bottom-left)."""
    box = trimesh.creation.box(extents=(0.11, 0.11, 0.006))
    x, y = box.vertices[:, 0], box.vertices[:, 1]
    uv = np.c_[(x + 0.055) / 0.11, v_of_y((y + 0.055) / 0.11)]
    img = np.full((32, 32, 3), 255, np.uint8)
    img[:16, 16:] = (255, 0, 0)
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(img))
    path.mkdir(parents=True)
    (path / "textured.glb").write_bytes(box.export(file_type="glb"))


def _red_corner(image: np.ndarray) -> str:
    red = (image[..., 0] > 200) & (image[..., 1] < 50)
    rows, cols = np.nonzero(red)
    return (
        ("top" if rows.mean() < 16 else "bottom") + "-" + ("left" if cols.mean() < 16 else "right")
    )


def test_a_board_picture_is_read_through_its_uvs_not_pasted_as_stored(tmp_path):
    from vlthink.assets.original.loader import board_texture

    # The slab's picture runs rows along +x and columns along +y. The real pack's boards map
    # u to x and v to -y (a transposed picture, stored turned so that it reads upright).
    _quadrant_glb(tmp_path / "as_the_pack", lambda t: 1.0 - t)
    _quadrant_glb(tmp_path / "v_along_y", lambda t: t)
    assert _red_corner(board_texture(tmp_path / "as_the_pack")) == "bottom-left"
    assert _red_corner(board_texture(tmp_path / "v_along_y")) == "bottom-right"


def test_the_slab_shows_a_board_picture_as_sapien_shows_the_board_s_own_glb(tmp_path):
    import sapien
    from transforms3d.euler import euler2quat

    from vlthink.assets.original.loader import board_texture
    from vlthink.scene.meshes import textured_slab_obj

    _quadrant_glb(tmp_path / "board", lambda t: 1.0 - t)
    Image.fromarray(board_texture(tmp_path / "board")).save(tmp_path / "read.png")
    scene = sapien.Scene()
    scene.set_ambient_light([1, 1, 1])
    dark = sapien.render.RenderMaterial(base_color=[0.05, 0.05, 0.05, 1])
    scene.add_ground(altitude=-0.01, render_material=dark)  # boards stand out
    glb = scene.create_actor_builder()
    glb.add_visual_from_file(str(tmp_path / "board" / "textured.glb"))
    glb.build_kinematic(name="glb").set_pose(sapien.Pose([0, -0.08, 0]))  # as the original
    slab = scene.create_actor_builder()
    material = sapien.render.RenderMaterial()
    material.base_color_texture = sapien.render.RenderTexture2D(str(tmp_path / "read.png"))
    mesh = textured_slab_obj((0.055, 0.055, 0.003), "board")
    slab.add_visual_from_file(str(mesh), material=material)
    slab.build_kinematic(name="slab").set_pose(sapien.Pose([0, 0.08, 0]))
    camera = scene.add_camera("top", 512, 256, 0.6, 0.01, 10)
    camera.entity.set_pose(sapien.Pose([0, 0, 0.5], euler2quat(0, np.pi / 2, 0)))  # down
    scene.update_render()
    camera.take_picture()
    rgb = camera.get_picture("Color")[..., :3]
    board, red = rgb[..., 0] > 0.6, (rgb[..., 0] > 0.6) & (rgb[..., 1] < 0.3)
    shift = np.argwhere(board[:, 256:]).min(0) - np.argwhere(board[:, :256]).min(0)
    one, other = red[:, :256], np.roll(red[:, 256:], -shift, axis=(0, 1))
    assert one.sum() > 500  # a quarter of the board, seen
    assert (other != one).sum() < 0.02 * one.sum()  # the same quarter, where the GLB shows it


def test_an_incomplete_pack_is_refused_naming_what_is_missing(installed, monkeypatch):
    from vlthink.assets.sets import asset_set

    (installed / "more_carrot" / "003_bread_1" / "textured.obj").unlink()
    with pytest.raises(PackError, match="missing: more_carrot/003_bread_1/textured.obj"):
        asset_set("original", root=installed)


def test_a_visual_missing_from_a_pack_opened_unverified_is_named_with_its_folder(
    installed, monkeypatch
):
    from vlthink.assets.original.loader import PackLayoutError
    from vlthink.assets.sets import asset_set

    (installed / "more_carrot" / "003_bread_1" / "textured.obj").unlink()
    monkeypatch.setenv("VLTHINK_ORIGINAL_UNVERIFIED", "1")
    bread = asset_set("original").object_spec("bread")
    with pytest.raises(PackLayoutError, match="003_bread_1: no visual"):
        _ = bread.visual


def test_an_incomplete_pack_opened_unverified_is_labelled_so_in_its_asset_set_id(
    installed, expected_list, monkeypatch
):
    (installed / "more_table" / "textures" / "005.png").unlink()
    monkeypatch.setenv("VLTHINK_ORIGINAL_UNVERIFIED", "1")
    recorded = asset_set_id("original")["assets_hash"]
    assert recorded.startswith("unverified-")
    assert recorded != "unverified-" + list_hash(expected_list)


def test_the_asset_set_id_records_the_verified_contents_hash(installed, expected_list):
    assert asset_set_id("original") == {
        "assets": "original",
        "assets_hash": list_hash(expected_list),
    }
    assert asset_set_id("vlthink")["assets"] == "vlthink"
    with pytest.raises(PackError, match="unknown asset set"):
        asset_set_id("photos")


def test_the_shipped_list_names_every_file_of_the_real_pack():
    files = pack.shipped_files()
    assert len(files) == 515
    assert {f.path.split("/")[0] for f in files} >= {"more_carrot", "more_plate", "more_table"}
    assert all(len(f.blob_sha1) == 40 for f in files)


# ---- envs on the synthetic pack ----------------------------------------------------------------
def _first_frame(env, seed: int) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    return env.unwrapped.camera_images(obs)[0].copy()


def test_an_ood_env_renders_the_pack_and_the_same_seed_gives_the_same_first_frame(installed):
    import gymnasium as gym

    import vlthink.envs  # noqa: F401
    from vlthink.assets.table_looks import TABLE_LOOKS

    env = gym.make("VLThink-OOD-Train-v0", assets="original")
    try:
        first = _first_frame(env, 3)
        look = env.unwrapped.task_info()[0]["table_look"]
        _first_frame(env, 8)
        again = _first_frame(env, 3)
        env.step(env.action_space.sample())
    finally:
        env.close()
    assert np.array_equal(first, again)
    # the background is the look's picture, shown as it is (its top-left corner: no robot there)
    assert tuple(first[2, 2]) == TABLE_RGB[list(TABLE_LOOKS).index(look)]


def test_a_vl_think_env_takes_its_carrot_and_boards_from_the_pack(installed):
    import gymnasium as gym

    import vlthink.envs  # noqa: F401

    env = gym.make("VLThink-Traffic-v0", assets="original")
    try:
        frame = _first_frame(env, 0)
        _, _, _, _, info = env.step(env.action_space.sample())
        carrot_half = env.unwrapped._carrot_half_z
    finally:
        env.close()
    assert carrot_half == pytest.approx(0.015)  # the synthetic carrot is a 6 x 3 x 3 cm box
    red = (frame[..., 0] > 200) & (frame[..., 1] < 60) & (frame[..., 2] < 60)
    assert red.sum() > 1000  # three boards in the pack's (red) board texture
    assert "success" in info
