"""Fingerprint the procedural object and receptacle catalogues: run before and after a refactor.

Writes every object's and receptacle's files into a fresh cache folder (``VLTHINK_CACHE`` is set
to a temporary one before vlthink is imported) and prints, as JSON, the sha256 of every file
written, each entry's geometry dict, its spec row (everything but the shape function, named
instead) and the physics that ``build_object``/``build_receptacle`` hand to ``build_actor``.
Two runs on unchanged assets print the same JSON, so a ``diff`` of the outputs is the check::

    python3 bench/asset_fingerprint.py > /tmp/before.json   # on the old code
    python3 bench/asset_fingerprint.py > /tmp/after.json    # on the new code
    diff /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path


def _plain(value):
    """A JSON-able copy: tuples as lists, numpy scalars as floats, callables by name."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    if hasattr(value, "item"):
        return value.item()
    return value


def _row(spec) -> dict:
    return _plain({f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)})


def _physics(build, name: str) -> dict:
    """The keyword arguments ``build`` passes to ``build_actor`` (captured, no scene needed)."""
    seen = {}

    def capture(scene, actor_name, visual, collision, **kwargs):
        seen.update(actor_name=actor_name, visual=Path(visual).name, **kwargs)

    # Wherever the catalogue code looks build_actor up (its own module's global).
    modules = [m for n, m in list(sys.modules.items()) if n.startswith("vlthink.assets")]
    patched = [(m, m.build_actor) for m in modules if hasattr(m, "build_actor")]
    for module, _ in patched:
        module.build_actor = capture
    try:
        build(None, name)
    finally:
        for module, original in patched:
            module.build_actor = original
    return _plain(seen)


def _parts_digest(parts) -> str:
    """sha256 of the in-memory parts at full precision (the files round to float32)."""
    h = hashlib.sha256()
    for p in parts:
        for mesh in [p.mesh, *p.hull_pieces]:
            h.update(mesh.vertices.tobytes())
            h.update(mesh.faces.tobytes())
        h.update(repr((p.color, p.collide, p.roughness, p.metallic)).encode())
        if p.texture is not None:
            h.update(p.texture.tobytes())
    return h.hexdigest()


def _entries(specs: dict, parts, files, build) -> dict:
    out = {}
    for name, spec in specs.items():
        paths = files(name)
        out[name] = {
            "parts": _parts_digest(parts(name)),
            "files": {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(paths[0].parent.glob(f"{paths[0].stem.split('.')[0]}.*"))
            },
            "geometry": _plain(spec.geometry()),
            "spec": _row(spec),
            "physics": _physics(build, name),
        }
    return out


def fingerprint() -> dict:
    from vlthink.assets import objects, receptacles

    return {
        "objects": _entries(
            objects.OBJECTS,
            objects.object_parts,
            objects.object_files,
            objects.build_object,
        ),
        "objects_split": [list(objects.OBJECTS_TRAIN), list(objects.OBJECTS_HELDOUT)],
        "receptacles": _entries(
            receptacles.RECEPTACLES,
            receptacles.receptacle_parts,
            receptacles.receptacle_files,
            receptacles.build_receptacle,
        ),
        "receptacles_split": [
            list(receptacles.RECEPTACLES_TRAIN),
            list(receptacles.RECEPTACLES_HELDOUT),
        ],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VLTHINK_CACHE"] = tmp
        print(json.dumps(fingerprint(), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
