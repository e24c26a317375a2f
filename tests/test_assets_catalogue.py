"""The OOD suite's receptacles, table looks and overlay textures follow the original's catalogue
(``/work/shared/paper/original-assets.md``): names per split, sizes within 10 % per axis,
densities, 16 + 5 table looks, overlays = table looks 2..17. Pure numpy and trimesh, no scene."""

from __future__ import annotations

import numpy as np
import pytest

from vlthink.assets import ASSET_VERSION
from vlthink.assets import overlay_textures as ov
from vlthink.assets import receptacles as rec
from vlthink.assets import table_looks as tables
from vlthink.assets.parts import collision_pieces

# The original's receptacles: name -> (size x, y, z in cm at scale 1, density kg/m³).
ORIGINAL_RECEPTACLES = {
    "plate": ((11.0, 11.0, 0.6), 1003),
    "cloth": ((11.0, 11.0, 0.9), 6975),
    "carpet": ((11.0, 9.4, 0.4), 2815),
    "newspaper": ((8.1, 11.6, 0.4), 2278),
    "sheet metal": ((11.1, 9.4, 0.3), 2389),
    "drawing tablet": ((11.3, 8.4, 0.4), 2868),
    "tomato slice": ((11.0, 11.0, 0.4), 3089),
    "pizza": ((11.0, 11.0, 0.7), 3862),
    "flat bowl": ((11.0, 11.0, 1.2), 4847),
    "gramophone disk": ((11.0, 11.0, 0.3), 2193),
    "frying pan": ((11.0, 11.0, 0.8), 5104),
    "mouse pad": ((11.0, 11.0, 0.6), 3332),
    "cutting board": ((12.6, 11.0, 0.3), 3107),
    "chess board": ((11.0, 11.0, 0.6), 6368),
    "manhole cover": ((11.0, 11.0, 0.4), 3743),
    "envelope": ((11.0, 8.0, 0.3), 1824),
    "notepad": ((11.0, 8.0, 0.4), 3087),
}
HELDOUT_TABLES = ("glass table", "green table", "pink desk", "stone table", "dining table")


def test_receptacle_names_per_split():
    assert rec.RECEPTACLES_TRAIN == ("plate",)
    assert rec.RECEPTACLES_HELDOUT == tuple(ORIGINAL_RECEPTACLES)[1:]
    assert [s.split for s in rec.RECEPTACLES.values()] == ["train"] + ["ood"] * 16


@pytest.mark.parametrize("name", list(ORIGINAL_RECEPTACLES))
def test_receptacle_size_and_density(name):
    size_cm, density = ORIGINAL_RECEPTACLES[name]
    spec = rec.receptacle_spec(name)
    built = 2 * np.array(spec.half_size)  # m, the visual bounding box
    # Collision pieces span the same box (objects rest on what the camera shows).
    pieces = collision_pieces(list(rec.receptacle_parts(name)))
    lo = np.min([h.bounds[0] for h in pieces], axis=0)
    hi = np.max([h.bounds[1] for h in pieces], axis=0)
    for extent in (built, hi - lo):
        np.testing.assert_allclose(extent, np.array(size_cm) / 100, rtol=0.10)
    assert spec.density == density
    # The support region lies on the top, inside the bounding box.
    hx, hy, hz = spec.half_size
    sx, sy = spec.support_half_extents
    assert 0.03 <= sx <= hx + 1e-9 and 0.03 <= sy <= hy + 1e-9
    assert -hz < spec.support_z <= hz + 1e-9


def test_flat_receptacles_support_their_whole_top():
    # A flat thing (one convex piece): objects rest on its top face, all of it.
    for name in ("newspaper", "chess board", "envelope", "plate", "flat bowl", "frying pan"):
        spec = rec.receptacle_spec(name)
        hx, hy, hz = spec.half_size
        assert spec.support_z == pytest.approx(hz, abs=1e-6)
        assert spec.support_half_extents == pytest.approx((hx, hy), abs=1e-6)


def test_receptacle_top_textures_are_distinct():
    tops = {n: next(p.texture for p in rec.receptacle_parts(n) if p.texture is not None)
            for n in rec.RECEPTACLES}  # fmt: skip
    means = {n: t.reshape(-1, 3).mean(0) for n, t in tops.items()}
    names = list(tops)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            same_size = tops[a].shape == tops[b].shape
            diff = np.abs(tops[a].astype(float) - tops[b]).mean() if same_size else np.inf
            assert diff > 20 or np.abs(means[a] - means[b]).max() > 20, (a, b)


def test_table_looks_follow_the_original():
    assert len(tables.TABLE_LOOKS) == 21 and len(set(tables.TABLE_LOOKS)) == 21
    assert tables.TABLE_LOOKS_TRAIN == tuple(tables.TABLE_LOOKS)[:16]
    assert tables.TABLE_LOOKS_HELDOUT == HELDOUT_TABLES
    assert tables.DEFAULT_LOOK == tuple(tables.TABLE_LOOKS)[0]
    # The named ones of the original's training tables are there under their names.
    named = ("blue plastic table", "tv cabinet", "picnic table", "desk", "yellow desk",
             "pink table", "grass table", "colorful desk")  # fmt: skip
    assert set(named) <= set(tables.TABLE_LOOKS_TRAIN)
    img = tables.table_texture(tables.DEFAULT_LOOK)
    assert img.ndim == 3 and img.shape[0] == img.shape[1] and img.dtype == np.uint8


def test_overlays_are_table_looks_2_to_17():
    assert ov.OVERLAY_TEXTURES == tuple(tables.TABLE_LOOKS)[1:17]
    assert ov.OVERLAY_SIZE == 1024
    name = ov.OVERLAY_TEXTURES[5]
    assert np.array_equal(ov.overlay_texture(name, 128), tables.table_texture(name, 128))
    with pytest.raises(KeyError, match="unknown overlay"):
        ov.overlay_texture(tables.DEFAULT_LOOK)  # table 1 has no texture in the original


def test_asset_version():
    assert ASSET_VERSION == "2.2.0"
