"""One forward pass of a VLM on (image, question), reduced to what the diagnostics read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlthink.diagnostics.models import LoadedModel
from vlthink.diagnostics.patch_grid import Geometry
from vlthink.diagnostics.rundir import DiagnosticsError


@dataclass
class Pass:
    """The parts of one forward pass the diagnostics use (numpy, float32)."""

    hidden: np.ndarray  # (n_layers + 1, L, D): residual stream entering each block, then the output
    attn_last: np.ndarray | None  # (n_layers, L): last token's head-averaged attention per block
    visual: np.ndarray  # (n,) positions of the visual tokens, row-major over the grid
    geometry: Geometry
    token_ids: np.ndarray  # (L,) the language model's sequence; -1 where patches were inserted

    def visual_attention(self, layer: int) -> np.ndarray:
        """(rows, cols) attention of the last token on the visual tokens, renormalised to sum 1."""
        a = self.attn_last[layer, self.visual]
        return (a / a.sum()).reshape(self.geometry.grid)

    def visual_share(self, layer: int) -> float:
        """Share of the last token's attention that goes to visual tokens at all."""
        return float(self.attn_last[layer, self.visual].sum() / self.attn_last[layer].sum())


def _inputs(lm: LoadedModel, image: np.ndarray, question: str):
    from PIL import Image

    pil = Image.fromarray(np.asarray(image, np.uint8))
    if lm.family.chat:
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}
        ]
        text = lm.processor.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        inputs = lm.processor(text=[text], images=[pil], return_tensors="pt")
    else:
        inputs = lm.processor(lm.family.prompt.format(question=question), pil, return_tensors="pt")
    out = {}
    for k, v in inputs.items():
        if hasattr(v, "to"):
            v = v.to(lm.device)
            if v.is_floating_point():
                v = v.to(lm.dtype)
        out[k] = v
    return out


def _visual_positions(
    lm: LoadedModel, ids: np.ndarray, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the visual tokens, the LM sequence's ids with -1 at inserted patches)."""
    if lm.family.visual == "after-bos":
        n = seq_len - len(ids)
        if n <= 0:
            raise DiagnosticsError(
                f"{lm.path}: the sequence did not grow by any visual tokens; "
                "is this a Prismatic/OpenVLA checkpoint?"
            )
        return np.arange(1, 1 + n), np.r_[ids[:1], np.full(n, -1), ids[1:]]
    cfg = lm.model.config
    token = getattr(cfg, "image_token_id", None)
    token = getattr(cfg, "image_token_index", None) if token is None else token
    return np.nonzero(ids == token)[0], ids


def attention_missing(attentions, n_layers: int) -> bool:
    """True when a forward gave no usable attention weights (sdpa/flash give None or ())."""
    return (
        attentions is None
        or len(attentions) != n_layers
        or any(a is None or not hasattr(a, "shape") for a in attentions)
    )


def run_pass(lm: LoadedModel, image: np.ndarray, question: str, attention: bool = False) -> Pass:
    """Forward (image, question); hidden states always, the last token's attention if asked."""
    import torch

    inputs = _inputs(lm, image, question)
    with torch.no_grad():
        out = lm.model(
            **inputs, output_hidden_states=True, output_attentions=attention, return_dict=True
        )
    hidden = np.stack([h[0].float().cpu().numpy() for h in out.hidden_states])
    ids = inputs["input_ids"][0].cpu().numpy()
    visual, token_ids = _visual_positions(lm, ids, hidden.shape[1])
    geo = lm.family.geometry(lm.processor, tuple(np.asarray(image).shape[:2]), inputs, len(visual))
    if geo.n_patches != len(visual):
        raise DiagnosticsError(
            f"{lm.path}: {len(visual)} visual tokens but a {geo.grid[0]}x"
            f"{geo.grid[1]} patch grid; the processor's settings do not match "
            "the family's geometry in vlthink.diagnostics.models"
        )
    attn = None
    if attention:
        if attention_missing(out.attentions, lm.n_layers):
            raise DiagnosticsError(
                f"{lm.path}: the forward returned no attention weights "
                f"(attn_implementation {_impl(lm)}); load it with eager attention"
            )
        attn = np.stack([a[0, :, -1, :].float().mean(0).cpu().numpy() for a in out.attentions])
    return Pass(hidden, attn, visual, geo, token_ids)


def _impl(lm: LoadedModel) -> str:
    return lm.describe()["attn_implementation"]


def returns_attention(lm: LoadedModel, probe_hw=(64, 64)) -> bool:
    """Whether a real forward (a grey frame, a one-word question) returns attention weights."""
    import torch

    inputs = _inputs(lm, np.full((*probe_hw, 3), 127, np.uint8), "ok")
    with torch.no_grad():
        out = lm.model(**inputs, output_attentions=True, return_dict=True)
    return not attention_missing(out.attentions, lm.n_layers)


def ensure_attention_weights(lm: LoadedModel, policy: str = "switch") -> str:
    """Check on a real forward that attention weights come back; if not, switch the model (and
    its sub-models) to eager (``policy="switch"``) or refuse (``"refuse"``).

    Returns what was done ("eager" or "switched <impl> -> eager")."""
    if returns_attention(lm):
        return "eager"
    before = _impl(lm)
    if policy == "refuse":
        raise DiagnosticsError(
            f"{lm.path} computes attention with {before!r}, which returns no attention "
            "weights; rerun without `--attn refuse` to switch it to eager, or load it with "
            "attn_implementation='eager'"
        )
    for module in [lm.model, *lm.model.modules()]:
        if hasattr(module, "set_attn_implementation") and hasattr(module, "config"):
            try:
                module.set_attn_implementation("eager")
            except (ValueError, AttributeError):
                pass  # a sub-model that cannot switch; the check below decides
    if not returns_attention(lm):
        raise DiagnosticsError(
            f"{lm.path} returns no attention weights ({before!r}) and could not be switched to "
            "eager attention; the attention diagnostic cannot read this model"
        )
    return f"switched {before} -> eager"


def phrase_position(lm: LoadedModel, token_ids: np.ndarray, phrase: str) -> int:
    """Position of the last token of the last occurrence of ``phrase`` in the sequence."""
    tok = getattr(lm.processor, "tokenizer", lm.processor)
    best = -1
    for variant in (" " + phrase, phrase):
        sub = tok(variant, add_special_tokens=False)["input_ids"]
        n = len(sub)
        for i in range(len(token_ids) - n, -1, -1):
            if n and list(token_ids[i : i + n]) == list(sub):
                best = max(best, i + n - 1)
                break
    if best < 0:
        raise DiagnosticsError(
            f"the object name {phrase!r} was not found among the prompt's "
            "tokens; check the prompt template"
        )
    return best
