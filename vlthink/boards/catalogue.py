"""The VL-Think board catalogue: the one place where domains, concepts and boards are listed.

A *domain* is a family of concepts that one instruction template names ("put carrot on
{name} sign"); a *board* is one printed PNG that the scene lays on the table. Most domains have
one board per concept. Shape and Color share their art: each of the 112 boards
``shape_<shape>_<color>`` is one shape filled in one colour, so the Shape task asks for a shape
and the Color task for a colour, and the env picks distractor boards that differ in the other
attribute as it likes (see :func:`shape_board`). Parity boards are the numerals 1–8; the task
names a parity class ("even number"), see :data:`PARITY_CLASSES`.

Everything here is data; the drawings live in :mod:`vlthink.boards.art`, the PNGs and their
manifest in :func:`vlthink.paths.boards_dir` (built by ``python -m vlthink.boards.build``).
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vlthink.errors import UnknownNameError
from vlthink.paths import boards_dir

ART_VERSION = "1.0.0"
"""Version of the board art. Bump it whenever any drawing changes (results cite it)."""


@dataclass(frozen=True)
class Concept:
    key: str  # file-safe slug, e.g. "no_entry", "red"
    name: str  # words used in instructions, e.g. "no entry"


@dataclass(frozen=True)
class Domain:
    """One row of the domain table: its concepts, how instructions name them, its art."""

    name: str  # "Shape", "Color", "Traffic", ...
    concepts: tuple[Concept, ...]
    phrase: str  # instruction phrase template for a concept, e.g. "{name} sign"
    family: str  # art family: sub-folder and board-key prefix ("traffic"; "shape" for Shape×Color)
    partner: str | None = None  # the other attribute of shared two-attribute art (Shape <-> Color)
    classes: Mapping[str, frozenset[str]] | None = None  # instructions name a class (Parity)

    def concept(self, key_or_name: str) -> Concept:
        """The concept with this key ("no_entry") or instruction name ("no entry")."""
        for c in self.concepts:
            if key_or_name in (c.key, c.name):
                return c
        raise UnknownNameError(
            f"unknown {self.name} concept {key_or_name!r}; known: "
            + ", ".join(c.key for c in self.concepts)
        )

    def instruction(self, key_or_name: str) -> str:
        """The task instruction for a concept, e.g. ``put carrot on no entry sign``."""
        if self.classes is not None:
            raise UnknownNameError(
                f"{self.name} instructions name a class ({' | '.join(self.classes)}): "
                f"use instruction({self.name!r}, class)"
            )
        return "put carrot on " + self.phrase.format(name=self.concept(key_or_name).name)

    def class_instruction(self, cls: str) -> str:
        """The instruction naming a class of concepts, e.g. ``put carrot on even number``."""
        if self.classes is None or cls not in self.classes:
            known = ", ".join(self.classes or ())
            raise UnknownNameError(f"unknown {self.name} class {cls!r}; known: {known}")
        return "put carrot on " + self.phrase.format(name=cls)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.concepts)


@dataclass(frozen=True)
class Board:
    """One printed board: a PNG under ``boards_dir()``."""

    key: str  # unique across all domains, e.g. "traffic_no_entry", "shape_star_red"
    family: str  # the art family / sub-folder: "shape", "traffic", "laundry", ...
    domain: str  # owning domain ("Shape" for the shared Shape×Color boards)
    concept: str  # concept key within the domain (the shape key for Shape×Color boards)
    name: str  # concept name (for Shape×Color boards: "red star")
    color: str | None = None  # colour key, Shape×Color boards only

    @property
    def file(self) -> str:
        """Path of the PNG relative to ``boards_dir()`` (always with forward slashes)."""
        return f"{self.family}/{self.key}.png"

    @property
    def path(self) -> pathlib.Path:
        return boards_dir() / self.file


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _concepts(names: Iterable[str]) -> tuple[Concept, ...]:
    return tuple(Concept(_slug(n), n) for n in names)


# ---------------------------------------------------------------------------------------------
# The facts (from the paper). Order matters only for display.
# ---------------------------------------------------------------------------------------------

SHAPES: tuple[str, ...] = (
    "trapezoid", "triangle", "right triangle", "rectangle", "square", "parallelogram",
    "pentagon", "hexagon", "heptagon", "circle", "heart", "star", "arrow", "cross",
)  # fmt: skip

COLORS: tuple[str, ...] = ("black", "red", "green", "blue", "orange", "purple", "yellow", "brown")

COLOR_RGB: Mapping[str, tuple[int, int, int]] = {
    "black": (28, 28, 30),
    "red": (214, 32, 38),
    "green": (34, 150, 62),
    "blue": (32, 84, 204),
    "orange": (247, 132, 22),
    "purple": (128, 52, 164),
    "yellow": (250, 212, 18),
    "brown": (126, 76, 36),
}
"""Fill colour of each colour concept (sRGB), chosen so the eight stay distinct at 80 px."""

TRAFFIC: tuple[str, ...] = (
    "ahead only", "falling rocks", "loose chippings", "max speed", "minimum speed", "no U-turn",
    "no entry", "no left turn", "no overtaking", "no right turn", "no stopping",
    "no through road", "no waiting", "road narrows right", "road works", "roundabout",
    "sharp route deviation", "steep downwards", "steep upwards", "stop give way",
    "turn left ahead", "uneven road", "wild animals", "yield",
)  # fmt: skip

LAUNDRY: tuple[str, ...] = (
    "any solvent", "bleach allowed", "cold wash", "do not bleach", "do not dryclean",
    "do not iron", "do not wash", "dryclean", "hand wash", "hot wash", "iron",
    "machine wash delicate", "machine wash permanent press", "machine wash",
    "non chlorine bleach", "warm wash", "wet cleaning",
)  # fmt: skip

WEATHER: tuple[str, ...] = (
    "clear night", "cloudy", "rainy", "snowing", "storm", "sunny", "sunrise", "windy",
    "windy and cloudy",
)  # fmt: skip

ARROWS: tuple[str, ...] = ("up", "down", "left", "right")

PUBLIC_INFO: tuple[str, ...] = (
    "disabled access", "escalator", "fire escape", "hairdresser", "information", "no dogs",
    "no entry", "no parking", "no smoking", "recycle", "stairs", "taxi", "telephone", "toilets",
)  # fmt: skip

NUMERALS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8")

PARITY_CLASSES: Mapping[str, frozenset[str]] = {
    "odd": frozenset({"1", "3", "5", "7"}),
    "even": frozenset({"2", "4", "6", "8"}),
}
"""The Parity task's target classes: concept keys (numerals) of each class."""

DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("Shape", _concepts(SHAPES), "{name}", "shape", partner="Color"),
        Domain("Color", _concepts(COLORS), "{name}", "shape", partner="Shape"),
        Domain("Traffic", _concepts(TRAFFIC), "{name} sign", "traffic"),
        Domain("Laundry", _concepts(LAUNDRY), "{name} icon", "laundry"),
        Domain("Weather", _concepts(WEATHER), "{name} icon", "weather"),
        Domain("Arrow", _concepts(ARROWS), "arrow {name} sign", "arrow"),
        Domain("PublicInfo", _concepts(PUBLIC_INFO), "{name} sign", "public"),
        Domain("Parity", _concepts(NUMERALS), "{name} number", "parity", classes=PARITY_CLASSES),
    )
}

FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(d.family for d in DOMAINS.values()))


def _build_boards() -> dict[str, Board]:
    out: dict[str, Board] = {}
    for shape in DOMAINS["Shape"].concepts:  # the shared art: every shape in every colour
        for color in DOMAINS["Color"].concepts:
            key = f"shape_{shape.key}_{color.key}"
            name = f"{color.name} {shape.name}"
            out[key] = Board(key, "shape", "Shape", shape.key, name, color.key)
    for d in DOMAINS.values():
        if d.partner is None:
            for c in d.concepts:
                key = f"{d.family}_{c.key}"
                out[key] = Board(key, d.family, d.name, c.key, c.name)
    return out


BOARDS: dict[str, Board] = _build_boards()
"""Every board, by key (188 in all)."""


# ---------------------------------------------------------------------------------------------
# Look-ups
# ---------------------------------------------------------------------------------------------


def domain(name: str) -> Domain:
    """The domain called ``name`` (case-insensitive: "traffic", "PublicInfo" …)."""
    if name in DOMAINS:
        return DOMAINS[name]
    for d in DOMAINS.values():
        if d.name.lower() == name.lower():
            return d
    raise UnknownNameError(f"unknown domain {name!r}; known: {', '.join(DOMAINS)}")


def board(key: str) -> Board:
    """The board with this key, e.g. ``board("traffic_no_entry")``."""
    try:
        return BOARDS[key]
    except KeyError:
        raise UnknownNameError(
            f"unknown board {key!r}; known boards are <family>_<concept> with families "
            f"{', '.join(FAMILIES)} (e.g. shape_star_red, traffic_no_entry; "
            f"see vlthink.boards.catalogue.BOARDS)"
        ) from None


def board_path(board_key: str) -> pathlib.Path:
    """Path of the PNG for a board key (under :func:`vlthink.paths.boards_dir`)."""
    return board(board_key).path


def shape_board(shape: str, color: str) -> str:
    """Key of the board showing ``shape`` filled in ``color`` (keys or names), e.g.
    ``shape_board("right triangle", "red") == "shape_right_triangle_red"``."""
    s = DOMAINS["Shape"].concept(shape)
    c = DOMAINS["Color"].concept(color)
    return f"shape_{s.key}_{c.key}"


def board_key(domain_name: str, concept: str, other: str | None = None) -> str:
    """Key of the board for a concept of a domain.

    Most domains need only the concept: ``board_key("Traffic", "no entry") ==
    "traffic_no_entry"``. Shape and Color boards carry two attributes, so ``other`` names the
    second one: the colour for Shape, the shape for Color
    (``board_key("Shape", "star", "red") == board_key("Color", "red", "star") ==
    "shape_star_red"``; :func:`shape_board` says the same more plainly).
    """
    d = domain(domain_name)
    if d.partner is not None:
        if other is None:
            raise UnknownNameError(
                f"{d.name} boards need both a shape and a colour: use shape_board(shape, color)"
            )
        attributes = {d.name: concept, d.partner: other}
        return shape_board(attributes["Shape"], attributes["Color"])
    return f"{d.family}_{d.concept(concept).key}"


def domain_boards(domain_name: str) -> tuple[Board, ...]:
    """All boards a domain's episodes draw from (Shape and Color: the same 112 boards)."""
    family = domain(domain_name).family
    return tuple(b for b in BOARDS.values() if b.family == family)


def parity_instruction(parity: str) -> str:
    """``put carrot on even number`` / ``put carrot on odd number``."""
    return DOMAINS["Parity"].class_instruction(parity)


def parity_of(numeral: str) -> str:
    """ "odd" or "even" for a Parity concept key ("1" … "8")."""
    DOMAINS["Parity"].concept(numeral)
    return class_of("Parity", numeral)


def class_of(domain_name: str, concept: str) -> str:
    """The class (of a domain whose instructions name classes) a concept key belongs to."""
    d = domain(domain_name)
    return next(cls for cls, members in (d.classes or {}).items() if concept in members)


def instruction(domain_name: str, concept: str) -> str:
    """The instruction naming a concept: ``instruction("Arrow", "up") == "put carrot on arrow up
    sign"``; where instructions name a class (Parity) the concept is the class ("even")."""
    d = domain(domain_name)
    if d.classes is not None:
        return d.class_instruction(concept)
    return d.instruction(concept)
