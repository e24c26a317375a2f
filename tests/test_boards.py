"""The board art: catalogue facts, shipped files vs manifest, determinism, and that the drawings
point/read the way their names say."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import PIL
import pytest
from PIL import Image

from vlthink.boards import build, catalogue
from vlthink.paths import boards_dir

# -- catalogue ----------------------------------------------------------------------------------


def test_domain_counts_are_the_papers():
    counts = {name: len(d.concepts) for name, d in catalogue.DOMAINS.items()}
    assert counts == {
        "Shape": 14, "Color": 8, "Traffic": 24, "Laundry": 17, "Weather": 9,
        "Arrow": 4, "PublicInfo": 14, "Parity": 8,
    }  # fmt: skip
    assert len(catalogue.BOARDS) == 14 * 8 + 24 + 17 + 9 + 4 + 14 + 8


def test_keys_unique_and_file_safe():
    for d in catalogue.DOMAINS.values():
        keys = [c.key for c in d.concepts]
        names = [c.name for c in d.concepts]
        assert len(set(keys)) == len(keys) and len(set(names)) == len(names), d.name
        assert all(k.replace("_", "").isalnum() and k == k.lower() for k in keys), keys
    files = [b.file for b in catalogue.BOARDS.values()]
    assert len(set(files)) == len(files)
    assert catalogue.board_key("Traffic", "no entry") == "traffic_no_entry"
    assert catalogue.board_key("PublicInfo", "no entry") == "public_no_entry"


def test_lookups_and_instructions():
    assert catalogue.shape_board("right triangle", "red") == "shape_right_triangle_red"
    assert (
        catalogue.board_key("Color", "red", "star")
        == catalogue.board_key("Shape", "star", "red")
        == "shape_star_red"
    )
    assert catalogue.instruction("Shape", "star") == "put carrot on star"
    assert catalogue.instruction("Color", "purple") == "put carrot on purple"
    assert catalogue.instruction("Traffic", "no U-turn") == "put carrot on no U-turn sign"
    assert catalogue.instruction("Laundry", "hot wash") == "put carrot on hot wash icon"
    assert catalogue.instruction("Arrow", "up") == "put carrot on arrow up sign"
    assert catalogue.instruction("Parity", "even") == "put carrot on even number"
    assert catalogue.PARITY_CLASSES["even"] == {"2", "4", "6", "8"} and catalogue.PARITY_CLASSES[
        "odd"
    ] == {"1", "3", "5", "7"}
    assert (
        len(catalogue.domain_boards("Color")) == 112
        and len(catalogue.domain_boards("Traffic")) == 24
    )
    assert catalogue.board_path("arrow_up") == boards_dir() / "arrow" / "arrow_up.png"


def test_unknown_names_say_what_is_known():
    with pytest.raises(KeyError, match="Traffic"):
        catalogue.domain("Traffik")
    with pytest.raises(KeyError, match="no_entry"):
        catalogue.DOMAINS["Traffic"].concept("no parking")
    with pytest.raises(KeyError, match="shape_star_red"):
        catalogue.board_path("traffic_no_parking")
    with pytest.raises(KeyError, match="even"):
        catalogue.parity_instruction("prime")


# -- shipped files ------------------------------------------------------------------------------


def test_shipped_files_match_manifest():
    m = build.verify()
    assert m["art_version"] == catalogue.ART_VERSION
    assert {e["key"] for e in m["boards"]} == set(catalogue.BOARDS)


def test_every_board_is_a_square_rgb_png():
    for b in catalogue.BOARDS.values():
        with Image.open(b.path) as im:
            assert im.format == "PNG" and im.mode == "RGB" and im.size == (512, 512), b.key


def test_verify_names_the_stale_file(tmp_path):
    root = tmp_path / "boards"
    shutil.copytree(boards_dir(), root)
    victim = root / catalogue.BOARDS["laundry_hot_wash"].file
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(
        build.BoardsOutOfDate, match=r"laundry_hot_wash\.png.*python -m vlthink\.boards\.build"
    ):
        build.verify(root)
    victim.unlink()
    with pytest.raises(build.BoardsOutOfDate, match="missing"):
        build.verify(root)


SAMPLE = [
    "shape_star_red",
    "traffic_stop_give_way",
    "laundry_hot_wash",
    "parity_7",
    "public_recycle",
]


def test_build_is_deterministic(tmp_path):
    m1 = build.build(tmp_path / "a", SAMPLE)
    m2 = build.build(tmp_path / "b", SAMPLE)
    for key in SAMPLE:
        f = catalogue.BOARDS[key].file
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), key
    assert m1 == m2
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (
        tmp_path / "b" / "manifest.json"
    ).read_bytes()
    # and the code still draws what is shipped (pixels; PNG bytes may differ across zlib builds)
    shipped = json.loads((boards_dir() / "manifest.json").read_text())
    if shipped["pillow"] != PIL.__version__:
        pytest.skip(
            f"shipped art was drawn with Pillow {shipped['pillow']}, this is {PIL.__version__}"
        )
    want = {e["key"]: e["pixels_sha256"] for e in shipped["boards"]}
    for e in m1["boards"]:
        assert e["pixels_sha256"] == want[e["key"]], (
            f"{e['key']} drawing changed: rebuild and bump ART_VERSION"
        )


def test_png_has_no_metadata_chunks():
    data = catalogue.BOARDS["arrow_up"].path.read_bytes()
    assert b"tIME" not in data and b"tEXt" not in data and b"iTXt" not in data
    assert (
        hashlib.sha256(data).hexdigest()
        == {e["key"]: e["sha256"] for e in build.load_manifest()["boards"]}["arrow_up"]
    )


# -- the drawings mean what they say -----------------------------------------------------------


def _ink(key: str) -> np.ndarray:
    """Boolean mask of dark (black) pixels of a shipped board."""
    a = np.asarray(Image.open(catalogue.board_path(key)).convert("RGB")).astype(int)
    return (a < 90).all(axis=2)


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    return xs.mean() / mask.shape[1], ys.mean() / mask.shape[0]


def test_arrows_point_where_they_say():
    # the arrowhead is the widest part: find the row (column) of greatest ink width
    for key, axis, head_first in (
        ("arrow_up", 1, True),
        ("arrow_down", 1, False),
        ("arrow_left", 0, True),
        ("arrow_right", 0, False),
    ):
        ink = _ink(key)
        width = ink.sum(axis=axis)
        widest = int(np.argmax(width))
        assert (widest < ink.shape[0] / 2) == head_first, key
        # and the tip is a point: the extreme line of ink is narrow
        nz = np.nonzero(width)[0]
        tip = nz[0] if head_first else nz[-1]
        assert width[tip] < 0.1 * width[widest], key


def test_numerals_are_upright():
    h = 512
    seven = _ink("parity_7")
    assert seven[: int(0.3 * h)].sum() > 2 * seven[int(0.7 * h) :].sum()  # the 7's bar is on top
    six = _ink("parity_6")
    assert _centroid(six)[1] > 0.5  # a 6's bowl is at the bottom (a 9 would be the other way)
    one = _ink("parity_1")
    rows = np.nonzero(one.any(axis=1))[0]
    assert (
        0.1 < rows[0] / h < 0.2 and 0.8 < rows[-1] / h < 0.9
    )  # glyphs span y 0.2 … 0.8 (+ stroke)


def test_turns_and_slopes_are_not_mirrored():
    xl, _ = _centroid(_ink("traffic_no_left_turn"))
    xr, _ = _centroid(_ink("traffic_no_right_turn"))
    assert xl < 0.5 < xr
    band = slice(int(0.62 * 512), int(0.77 * 512))  # below the "10%": only the wedge
    xd, _ = _centroid(_ink("traffic_steep_downwards")[band])
    xu, _ = _centroid(_ink("traffic_steep_upwards")[band])
    assert xd < 0.5 < xu  # descending = high side on the left
    a = np.asarray(
        Image.open(catalogue.board_path("traffic_turn_left_ahead")).convert("RGB")
    ).astype(int)
    white = (a > 230).all(axis=2)
    white[:, :40] = white[:, -40:] = False  # ignore the margin outside the disc
    white[:40] = white[-40:] = False
    assert _centroid(white)[0] < 0.5


@pytest.mark.parametrize(
    "key,dots",
    [
        ("laundry_cold_wash", 1),
        ("laundry_warm_wash", 2),
        ("laundry_hot_wash", 3),
        ("laundry_machine_wash", 0),
    ],
)
def test_wash_temperature_dots(key, dots):
    row = _ink(key)[int(0.575 * 512), int(0.3 * 512) : int(0.7 * 512)].astype(int)
    runs = int((np.diff(row) == 1).sum())
    assert runs == dots
