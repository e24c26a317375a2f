"""Model access for the diagnostics: one table of families, one forward pass that returns what
every diagnostic reads (per-layer hidden states, the last token's attention, where the visual
tokens sit and on which patch grid).

Families (``FAMILIES``):

- ``prismatic``: OpenVLA-7B (SFT / Align) and PrismaticVLM, ``trust_remote_code``. The
  processor gives ``input_ids`` without image tokens; the model's forward runs the vision
  backbone, the projector, and inserts the patch embeddings right after BOS in the Llama input,
  so visual tokens sit at positions ``1 .. n`` of the language model's sequence, ``n`` being
  the sequence growth (``len(hidden) - len(input_ids)``). Grid: square, ``sqrt(n)`` (16 x 16 at
  224 px with 14 px patches). Geometry from ``image_processor.image_resize_strategy``.
- ``llava``: HF-native ``LlavaForConditionalGeneration`` (LLaVA-1.5). The processor expands
  ``<image>`` into one token per patch; visual tokens are where ``input_ids ==
  config.image_token_id``. Grid: CLIP's crop size / patch size (24 x 24 at 336 px).
- ``qwen2.5-vl``: HF-native ``Qwen2_5_VLForConditionalGeneration`` (and Qwen2-VL). Visual tokens
  are the ``<|image_pad|>`` ids; grid = ``image_grid_thw`` / ``spatial_merge_size`` (tokens are
  2 x 2 merged 14 px patches, in raster order), the whole frame resized.

Attention weights need the eager implementation (sdpa and flash attention return none). Models
are loaded with ``attn_implementation="eager"``; :func:`ensure_attention_weights` checks a real
forward and switches a model that still returns none, or refuses it with one line.

Layer numbering: ``attentions[l]`` is decoder block ``l`` (0-based, as the paper's 15-18 of 32);
``hidden[l]`` is the residual stream *entering* block ``l`` (``hidden[0]`` = input embeddings,
``hidden[n_layers]`` = after the last block), as transformers' ``hidden_states`` tuple.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlthink.diagnostics.patch_grid import Geometry, center_crop_box, full_box, letterbox_box
from vlthink.diagnostics.rundir import DiagnosticsError

log = logging.getLogger(__name__)


# --- geometry per family ----------------------------------------------------------------------


def _prismatic_geometry(processor, hw: tuple[int, int], inputs, n_visual: int) -> Geometry:
    strategy = getattr(processor.image_processor, "image_resize_strategy", "resize-naive")
    boxes = {
        "resize-naive": full_box,
        "letterbox": letterbox_box,
        "resize-crop": lambda h, w: center_crop_box(h, w, (min(h, w),) * 2, None),
    }
    if strategy not in boxes:
        raise DiagnosticsError(
            f"unknown Prismatic image_resize_strategy {strategy!r}; known: {', '.join(boxes)}"
        )
    side = math.isqrt(n_visual)
    if side * side != n_visual:
        raise DiagnosticsError(
            f"{n_visual} visual tokens are not a square grid; is this a "
            "Prismatic/OpenVLA checkpoint with a fused or square backbone?"
        )
    return Geometry(hw, boxes[strategy](*hw), (side, side))


def _size(size) -> dict:
    """An image processor's size setting as a plain dict (it may be an int, a dict, a SizeDict)."""
    if isinstance(size, int):
        return {"shortest_edge": size}
    if isinstance(size, dict):
        return size
    keys = ("height", "width", "shortest_edge", "longest_edge")
    return {k: getattr(size, k) for k in keys if getattr(size, k, None) is not None}


def _clip_geometry(processor, hw: tuple[int, int], inputs, n_visual: int) -> Geometry:
    ip = processor.image_processor
    size = _size(ip.size)
    patch = processor.patch_size
    if getattr(ip, "do_center_crop", False):
        crop = _size(ip.crop_size)
        crop_hw = (crop["height"], crop["width"])
        box = center_crop_box(*hw, crop_hw, size.get("shortest_edge"))
    else:
        crop_hw = (size["height"], size["width"])
        box = full_box(*hw)
    return Geometry(hw, box, (crop_hw[0] // patch, crop_hw[1] // patch))


def _qwen_geometry(processor, hw: tuple[int, int], inputs, n_visual: int) -> Geometry:
    _, gh, gw = (int(v) for v in inputs["image_grid_thw"][0])
    merge = processor.image_processor.merge_size
    return Geometry(hw, full_box(*hw), (gh // merge, gw // merge))


# --- the family table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """How one model family is loaded and where its visual tokens sit."""

    name: str
    model_types: tuple[str, ...]  # config.model_type values
    remote_code: bool  # trust_remote_code (the class comes from the checkpoint's auto_map)
    visual: str  # "after-bos" (Prismatic) | "image-token" (ids == config.image_token_id)
    chat: bool  # prompt through the processor's chat template (else `prompt` below)
    prompt: str  # the text around a question for non-chat models
    geometry: Callable[..., Geometry]
    checkpoints: tuple[str, ...]  # the real checkpoints this row is written for


FAMILIES: tuple[Family, ...] = (
    Family(
        "prismatic",
        ("openvla", "prismatic"),
        True,
        "after-bos",
        False,
        "In: {question}\nOut:",
        _prismatic_geometry,
        ("openvla/openvla-7b", "Prismatic prism-dinosiglip-224px+7b"),
    ),
    Family(
        "llava",
        ("llava",),
        False,
        "image-token",
        True,
        "{question}",
        _clip_geometry,
        ("llava-hf/llava-1.5-7b-hf",),
    ),
    Family(
        "qwen2.5-vl",
        ("qwen2_5_vl", "qwen2_vl"),
        False,
        "image-token",
        True,
        "{question}",
        _qwen_geometry,
        ("Qwen/Qwen2.5-VL-7B-Instruct",),
    ),
)


def family_of(model_type: str, path: str) -> Family:
    for fam in FAMILIES:
        if model_type in fam.model_types:
            return fam
    known = ", ".join(f"{f.name} ({'/'.join(f.model_types)})" for f in FAMILIES)
    raise DiagnosticsError(
        f"{path}: model_type {model_type!r} is not a family the diagnostics "
        f"know; known: {known}. Add a row to vlthink.diagnostics.models.FAMILIES"
    )


# --- loading ----------------------------------------------------------------------------------


def resolve_model(model: str) -> str:
    """A checkpoint folder or hub id, or a policy name / TOML whose `checkpoint` names one."""
    p = Path(model).expanduser()
    if p.is_dir():
        return str(p)
    from vlthink.policies.registry import PolicyConfigError, read_policy

    try:
        pf = read_policy(model)
    except PolicyConfigError as exc:
        if "/" in model and not p.exists() and model.count("/") == 1:
            return model  # a hub id (owner/name); transformers reports if it cannot load it
        raise DiagnosticsError(f"--model {model!r}: not a checkpoint folder, and {exc}") from None
    ckpt = pf.settings.get("checkpoint")
    if not ckpt:
        raise DiagnosticsError(
            f"--model {model!r} ({pf.source}) has no `checkpoint`: the diagnostics read hidden "
            "states and attention in process, which a REST `endpoint` cannot give; pass a "
            'checkpoint folder or a policy file with `checkpoint = "/path"`'
        )
    return str(ckpt)


def _model_class(path: str, family: Family, config):
    import transformers

    if family.remote_code:
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        auto_map = getattr(config, "auto_map", None) or {}
        for key in (
            "AutoModelForVision2Seq",
            "AutoModelForImageTextToText",
            "AutoModelForCausalLM",
        ):
            if key in auto_map:
                return get_class_from_dynamic_module(auto_map[key], path)
        raise DiagnosticsError(f"{path}: config.json has no auto_map entry for a model class")
    # transformers < 4.46 (OpenVLA's pinned 4.40) has no AutoModelForImageTextToText
    auto = getattr(transformers, "AutoModelForImageTextToText", None)
    return auto or transformers.AutoModelForVision2Seq


@dataclass
class LoadedModel:
    """A model, its processor, its family, and how many decoder blocks it has."""

    path: str
    family: Family
    model: Any
    processor: Any
    n_layers: int
    device: Any
    dtype: Any

    def describe(self) -> dict[str, Any]:
        cfg = self.model.config
        return {
            "path": self.path,
            "family": self.family.name,
            "model_type": cfg.model_type,
            "n_layers": self.n_layers,
            "attn_implementation": _attn_impls(self.model),
            "dtype": str(self.dtype).replace("torch.", ""),
            "device": str(self.device),
        }


def _attn_impls(model) -> str:
    """The attention implementations of the model and its language model (e.g. 'eager')."""
    names = {
        getattr(m.config, "_attn_implementation", None)
        for m in model.modules()
        if hasattr(m, "config") and hasattr(m.config, "_attn_implementation")
    }
    return ",".join(sorted(n for n in names if n)) or "unknown"


def _device_dtype(device: str, dtype: str):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        dtype = "bfloat16" if str(device).startswith("cuda") else "float32"
    return torch.device(device), getattr(torch, dtype)


@dataclass
class ModelRef:
    """A checkpoint known by its config only; the weights load on first :meth:`load`, so a run
    whose settings are refused, or whose items are all done, never pays for loading them."""

    path: str
    family: Family
    n_layers: int
    device: str = "auto"
    dtype: str = "auto"
    attn_implementation: str = "eager"
    prompt: str | None = None  # non-chat families: replaces the family's prompt ({question})
    _loaded: LoadedModel | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """What identifies the model in a run's settings (a resume must match it)."""
        return {"model": self.path, "prompt": self.prompt or self.family.prompt}

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "family": self.family.name,
            "n_layers": self.n_layers,
            "attn_implementation": self.attn_implementation,
            "dtype": self.dtype,
            "device": self.device,
        }

    def load(self) -> LoadedModel:
        if self._loaded is None:
            self._loaded = _load_weights(self)
        return self._loaded


def model_ref(
    model: str, device: str = "auto", dtype: str = "auto", attn_implementation: str = "eager"
) -> ModelRef:
    """Resolve ``--model`` and read its config: family and depth, no weights."""
    from transformers import AutoConfig

    path = resolve_model(model)
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=True)
    except (OSError, ValueError) as exc:
        raise DiagnosticsError(
            f"--model {path}: cannot read its config ({exc}); pass a transformers checkpoint folder"
        ) from None
    family = family_of(config.model_type, path)
    text_cfg = getattr(config, "text_config", config)
    return ModelRef(
        path, family, int(text_cfg.num_hidden_layers), device, dtype, attn_implementation
    )


def _load_weights(ref: ModelRef) -> LoadedModel:
    import transformers
    from transformers import AutoConfig, AutoProcessor

    config = AutoConfig.from_pretrained(ref.path, trust_remote_code=True)
    dev, dt = _device_dtype(ref.device, ref.dtype)
    cls = _model_class(ref.path, ref.family, config)
    # the keyword is `dtype` from transformers 5 on, `torch_dtype` before (OpenVLA pins 4.40)
    dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    net = cls.from_pretrained(
        ref.path,
        trust_remote_code=ref.family.remote_code,
        **{dtype_kw: dt},
        attn_implementation=ref.attn_implementation,
    )
    net.to(dev).eval()
    processor = AutoProcessor.from_pretrained(ref.path, trust_remote_code=ref.family.remote_code)
    family = dataclasses.replace(ref.family, prompt=ref.prompt) if ref.prompt else ref.family
    return LoadedModel(ref.path, family, net, processor, ref.n_layers, dev, dt)


def load_model(
    model: str, device: str = "auto", dtype: str = "auto", attn_implementation: str = "eager"
) -> LoadedModel:
    """Load a checkpoint of a known family (eager attention unless told otherwise)."""
    return model_ref(model, device, dtype, attn_implementation).load()
