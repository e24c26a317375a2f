"""One pipeline for every procedural catalogue: spec row -> parts -> files -> actor.

:mod:`.objects` and :mod:`.receptacles` each keep their shape functions and spec rows and hand
them to a :class:`Catalogue` with what is their own: how a row is drawn into parts (``draw``),
the geometry they report beyond :func:`.parts.resting_geometry` (``describe``) and the physics
their actors get beyond friction and density (``physics``). Looking a name up, caching the parts
and the geometry, writing the files and building the actor are done here, the same way for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from vlthink.assets.actors import build_actor
from vlthink.assets.parts import Part, asset_dir, resting_geometry, write_asset
from vlthink.errors import UnknownNameError


class Row(Protocol):
    """What the pipeline reads from a spec row (``ObjectSpec``, ``ReceptacleSpec``)."""

    name: str
    split: str
    density: float  # kg/m³ over the convex pieces
    friction: float


S = TypeVar("S", bound=Row)


@dataclass(frozen=True)
class Drawn:
    """A row drawn: its parts in the catalogue's frame, and any geometry only the drawing knows
    (a receptacle's support region), added to the entry's geometry as it is."""

    parts: tuple[Part, ...]
    geometry: dict = field(default_factory=dict)


class Catalogue(Generic[S]):
    """One kind of asset (``noun``: "object"): its rows by name, its files in ``asset_dir(folder)``.

    ``draw(row)`` makes the entry's parts (once per name and process: deterministic);
    ``describe(row, parts)`` returns the kind's own geometry keys; ``physics`` are the extra
    keyword arguments of :func:`.actors.build_actor` every actor of the kind gets."""

    def __init__(
        self,
        noun: str,
        folder: str,
        specs: dict[str, S],
        *,
        draw: Callable[[S], Drawn],
        describe: Callable[[S, list[Part]], dict],
        physics: Mapping[str, float],
    ):
        self.noun, self.folder = noun, folder
        self.specs = specs
        self.physics = dict(physics)
        self._draw, self._describe = draw, describe
        self._drawn = cache(lambda name: self._draw(self.spec(name)))
        self._geometry = cache(self._measure)

    def spec(self, name: str) -> S:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(self.specs)
            raise UnknownNameError(f"unknown {self.noun} {name!r}; known: {known}") from None

    def names(self, split: str) -> tuple[str, ...]:
        """The names in ``split`` ("train" or "ood"), in catalogue order."""
        return tuple(n for n, row in self.specs.items() if row.split == split)

    def parts(self, name: str) -> tuple[Part, ...]:
        """The entry's parts, centred on its bounding box (in memory; deterministic)."""
        return self._drawn(name).parts

    def geometry(self, name: str) -> dict:
        """:func:`.parts.resting_geometry` of the entry's parts, then the kind's own keys
        (``describe``'s, then the drawing's); computed once per name."""
        return self._geometry(name)

    def _measure(self, name: str) -> dict:
        drawn = self._drawn(name)
        parts = list(drawn.parts)
        return {
            **resting_geometry(parts),
            **self._describe(self.spec(name), parts),
            **drawn.geometry,
        }

    def files(self, name: str) -> tuple[Path, Path]:
        """Paths (visual GLB, collision OBJ) of the entry in the cache, written if missing."""
        return write_asset(list(self.parts(name)), asset_dir(self.folder), name)

    def build(
        self,
        scene,
        name: str,
        *,
        kinematic: bool = False,
        initial_pose=None,
        actor_name: str | None = None,
    ):
        """Build the named entry as a ManiSkill actor (dynamic unless ``kinematic``).

        ``initial_pose`` (sapien.Pose) places its bounding-box centre; to rest it on a table top
        at height ``z_table``, use ``z = z_table + spec.half_height`` with an upright orientation
        (any yaw). ``actor_name`` defaults to the entry's name (ManiSkill needs unique names)."""
        spec = self.spec(name)
        visual, collision = self.files(name)
        return build_actor(
            scene,
            actor_name or name,
            visual,
            collision,
            friction=spec.friction,
            density=spec.density,
            kinematic=kinematic,
            initial_pose=initial_pose,
            **self.physics,
        )
