"""Frozen features for ``diagnose embeddings`` and ``diagnose probe``, from VL-Think boards or
an image folder, stored per item in the run directory (so a rerun only computes new items).

Items
    VL-Think (``--envs``): every board of every first frame (seed ``first_seed + i``); its class
    is the concept the board shows in that domain (Shape: the shape, Color: the colour, Parity:
    the numeral), its group the seed (the probe splits by seed).
    Image folder (``--images DIR``): ``DIR/<class>/*.{jpg,jpeg,png}``, class = folder name
    (underscores read as spaces in the prompt), group = the file.

Modes
    ``token``: the paper's t-SNE feature, the hidden state of the last token of the object name
    in ``Do you see {object}?``. It embeds a prompt token, so it partly reflects the text itself.
    ``vision``: the mean hidden state of the visual tokens, weighted by the share of each patch
    the board covers (the whole image for a folder). In a causal model the visual tokens come
    before the question, so this feature does not depend on the prompt at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlthink.diagnostics.forward import phrase_position, run_pass
from vlthink.diagnostics.models import LoadedModel, ModelRef
from vlthink.diagnostics.patch_grid import patch_shares
from vlthink.diagnostics.rundir import DiagnosticsError, RunDir

QUESTION = "Do you see {object}?"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MODES = ("token", "vision")


@dataclass
class FeatureSettings:
    envs: list[str]
    images: str | None = None
    episodes: int = 8
    first_seed: int = 0
    layers: list[int] | None = None
    modes: tuple[str, ...] = MODES
    question: str = QUESTION
    max_per_class: int | None = None  # image folder: at most this many files per class


def board_concept(domain: str, board_key: str) -> tuple[str, str]:
    """(class, phrase naming it) of a board in a domain's scenes."""
    from vlthink.boards import catalogue

    b = catalogue.board(board_key)
    d = catalogue.domain(domain)
    if domain == "Color":
        c = d.concept(b.color)
        return c.key, c.name
    if domain == "Parity":
        return b.concept, f"number {b.name}"
    return b.concept, d.phrase.format(name=d.concept(b.concept).name)


def _features(
    lm: LoadedModel,
    image: np.ndarray,
    phrase: str,
    weights: np.ndarray | None,
    s: FeatureSettings,
    layers: list[int],
) -> dict[str, np.ndarray]:
    """{"token": (layers, D), "vision": (layers, D)} for one image and object phrase."""
    p = run_pass(lm, image, s.question.format(object=phrase))
    out = {}
    if "token" in s.modes:
        pos = phrase_position(lm, p.token_ids, phrase)
        out["token"] = p.hidden[layers, pos]
    if "vision" in s.modes:
        w = np.ones(len(p.visual)) if weights is None else patch_shares(weights, p.geometry).ravel()
        if w.sum() <= 0:
            raise DiagnosticsError(
                "a board covers no patch of the model's input (hidden or "
                "cropped away); it cannot give a vision feature"
            )
        out["vision"] = np.einsum("p,lpd->ld", w / w.sum(), p.hidden[layers][:, p.visual])
    return {k: v.astype(np.float32) for k, v in out.items()}


def image_items(folder: str, max_per_class: int | None) -> list[tuple[str, str, Path]]:
    """(key, class, file) of every image under DIR/<class>/, sorted."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DiagnosticsError(f"--images {folder}: not a folder; give DIR with DIR/<class>/*.jpg")
    items = []
    for cls_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(f for f in cls_dir.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        items += [(f"{cls_dir.name}/{f.name}", cls_dir.name, f) for f in files[:max_per_class]]
    classes = {c for _, c, _ in items}
    if len(classes) < 2:
        raise DiagnosticsError(
            f"--images {folder}: found {len(classes)} class folder(s) with "
            "images; give DIR/<class>/*.jpg with at least 2 classes"
        )
    return items


def collect(
    lm: ModelRef, s: FeatureSettings, layers: list[int], run: RunDir, progress: bool = True
) -> None:
    """Compute the features of every item not yet in the run directory (the weights load only
    if there is one)."""
    if s.images:
        _collect_images(lm, s, layers, run, progress)
    else:
        _collect_scenes(lm, s, layers, run, progress)


def _collect_images(lm, s, layers, run, progress) -> None:
    from PIL import Image
    from tqdm import tqdm

    todo = [it for it in image_items(s.images, s.max_per_class) if not run.is_done(it[0])]
    for key, cls, path in tqdm(todo, desc="features", unit="image", disable=not progress):
        try:
            image = np.asarray(Image.open(path).convert("RGB"))
        except OSError as exc:
            raise DiagnosticsError(f"{path}: not a readable image ({exc}); remove it") from None
        feats = _features(lm.load(), image, cls.replace("_", " "), None, s, layers)
        run.add(key, {"domain": "images", "class": cls, "group": key}, feats)


def _collect_scenes(lm, s, layers, run, progress) -> None:
    from tqdm import tqdm

    from vlthink.diagnostics.scenes import scenes_to_do

    todo = [
        (e, s.first_seed + i)
        for e in s.envs
        for i in range(s.episodes)
        if not run.is_done(f"{e}/{s.first_seed + i}/done")
    ]
    bar = tqdm(total=len(todo), desc="features", unit="scene", disable=not progress)
    for env_id, seed, scene in scenes_to_do(s.envs, todo):
        for pos, key in scene.task["boards"].items():
            item = f"{env_id}/{seed}/{pos}"
            if run.is_done(item):
                continue
            cls, phrase = board_concept(scene.domain, key)
            feats = _features(lm.load(), scene.image, phrase, scene.boards[pos], s, layers)
            run.add(
                item,
                {
                    "domain": scene.domain,
                    "class": cls,
                    "group": seed,
                    "position": pos,
                    "board": key,
                },
                feats,
            )
        run.add(f"{env_id}/{seed}/done", {"marker": True})
        bar.update(1)
    bar.close()


def load(
    run: RunDir, mode: str, layer_index: int
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{domain: (features, classes, groups)} of every finished item, for one mode and layer."""
    out: dict[str, list] = {}
    for r in run.rows():
        if r.get("marker"):
            continue
        x = run.arrays(r["key"])[mode][layer_index]
        out.setdefault(r["domain"], []).append((x, r["class"], r["group"]))
    return {
        d: (
            np.stack([a for a, _, _ in v]),
            np.array([c for _, c, _ in v]),
            np.array([g for _, _, g in v]),
        )
        for d, v in out.items()
    }


def default_layers(n_layers: int) -> list[int]:
    """The paper's t-SNE layers 1, 10, 20 (of 32), scaled to the model (hidden-state indices)."""
    return sorted({min(n_layers, max(1, round(k * n_layers / 32))) for k in (1, 10, 20)})
