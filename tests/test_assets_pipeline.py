"""Objects and receptacles go through one pipeline, :class:`vlthink.assets.catalogue.Catalogue`:
lookup, cached parts and geometry, files in the kind's cache folder. Pure trimesh, no scene."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vlthink.assets import objects as obj
from vlthink.assets import receptacles as rec
from vlthink.assets.catalogue import Catalogue, Drawn
from vlthink.assets.parts import Part, box, centred, resting_geometry
from vlthink.errors import UnknownNameError


def test_objects_and_receptacles_are_served_by_the_same_catalogue_class():
    for catalogue, specs in ((obj.CATALOGUE, obj.OBJECTS), (rec.CATALOGUE, rec.RECEPTACLES)):
        assert type(catalogue) is Catalogue
        assert catalogue.specs is specs
    pairs = [
        (obj.object_spec, rec.receptacle_spec),
        (obj.object_parts, rec.receptacle_parts),
        (obj.object_files, rec.receptacle_files),
        (obj.build_object, rec.build_receptacle),
    ]
    for of_objects, of_receptacles in pairs:
        assert of_objects.__func__ is of_receptacles.__func__
        assert (of_objects.__self__, of_receptacles.__self__) == (obj.CATALOGUE, rec.CATALOGUE)
    assert obj.OBJECTS_TRAIN + obj.OBJECTS_HELDOUT == tuple(obj.OBJECTS)
    assert rec.RECEPTACLES_TRAIN + rec.RECEPTACLES_HELDOUT == tuple(rec.RECEPTACLES)


@pytest.mark.parametrize(
    ("lookup", "noun", "known"),
    [
        (obj.object_spec, "object", obj.OBJECTS),
        (obj.object_parts, "object", obj.OBJECTS),
        (obj.object_files, "object", obj.OBJECTS),
        (rec.receptacle_spec, "receptacle", rec.RECEPTACLES),
        (rec.receptacle_parts, "receptacle", rec.RECEPTACLES),
        (rec.receptacle_files, "receptacle", rec.RECEPTACLES),
    ],
)
def test_an_unknown_name_raises_one_error_naming_every_known_one(lookup, noun, known):
    with pytest.raises(UnknownNameError) as caught:
        lookup("spaceship")
    message = str(caught.value)
    assert message.startswith(f"unknown {noun} 'spaceship'; known: ")
    assert message.endswith(", ".join(known))


def test_an_unknown_name_builds_no_actor():
    with pytest.raises(UnknownNameError, match="unknown object 'spaceship'"):
        obj.build_object(None, "spaceship")
    with pytest.raises(UnknownNameError, match="unknown receptacle 'spaceship'"):
        rec.build_receptacle(None, "spaceship")


@dataclass(frozen=True)
class Block:
    name: str
    split: str
    height: float
    density: float = 700.0
    friction: float = 0.5


def _block_catalogue(drawn: list[str]) -> Catalogue[Block]:
    def draw(row: Block) -> Drawn:
        drawn.append(row.name)
        parts = [Part(box((0.04, 0.02, row.height), centre=(0.1, 0, 0)), (200, 0, 0))]
        return Drawn(tuple(centred(parts)), {"drawn_height": row.height})

    rows = [Block("low", "train", 0.01), Block("tall", "ood", 0.03)]
    return Catalogue(
        "block",
        "blocks",
        {row.name: row for row in rows},
        draw=draw,
        describe=lambda row, parts: {"top": float(parts[0].mesh.bounds[1, 2])},
        physics={"angular_damping": 1.0},
    )


def test_a_catalogue_draws_each_row_once_and_adds_its_own_geometry_to_the_resting_one():
    drawn: list[str] = []
    blocks = _block_catalogue(drawn)
    assert blocks.names("train") == ("low",) and blocks.names("ood") == ("tall",)
    parts = blocks.parts("tall")
    assert blocks.parts("tall") is parts and drawn == ["tall"]
    geometry = blocks.geometry("tall")
    assert geometry == {
        **resting_geometry(list(parts)),
        "top": pytest.approx(0.015),
        "drawn_height": 0.03,
    }
    assert list(geometry)[-2:] == ["top", "drawn_height"]
    assert geometry["half_size"] == pytest.approx((0.02, 0.01, 0.015))  # centred on its box
    assert drawn == ["tall"]


def test_a_catalogue_writes_its_files_into_its_own_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VLTHINK_CACHE", str(tmp_path))
    visual, collision = _block_catalogue([]).files("low")
    assert (visual, collision) == (
        tmp_path / "ood" / "blocks" / "low.glb",
        tmp_path / "ood" / "blocks" / "low.collision.obj",
    )
    assert visual.read_bytes()[:4] == b"glTF"
    corners = [line for line in collision.read_text().splitlines() if line.startswith("v ")]
    assert len(corners) == 8  # one convex piece: the box
