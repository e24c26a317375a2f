"""Tiny models with random or crafted weights, built locally (no download): action models for
the in-process adapter tests, vision-language models for the representation-diagnostics tests.

``build_tiny_openvla(folder)`` writes a ``trust_remote_code`` checkpoint shaped like OpenVLA's:
``config.json`` with an ``auto_map`` (``AutoConfig``, ``AutoModelForVision2Seq``,
``AutoProcessor``), a modeling file whose ``predict_action(**inputs, unnorm_key, do_sample=False)``
runs a small transformer over image patches + prompt tokens, decodes 7 tokens greedily among
the last 256 ids of the vocabulary and de-tokenises them OpenVLA's way (256 bins over [-1, 1],
token id -> ``vocab_size - id``, un-normalised with ``norm_stats[unnorm_key]`` q01/q99), and a
processor (a word-level tokenizer built with ``tokenizers`` + an image resize/normalise).
``batch_predict=False`` makes ``predict_action`` read only the first sample, as OpenVLA's does.

``build_tiny_llava(folder)`` saves a LLaVA (CLIP vision tower + Llama text model) made from a
config with random weights, with a ``LlavaProcessor`` and a chat template.

``build_tiny_prismatic(folder)`` writes a ``trust_remote_code`` checkpoint laid out like
OpenVLA-7B / PrismaticVLM: ``config.json`` (``model_type = "openvla"``, an ``auto_map`` with
``AutoConfig``, ``AutoModelForVision2Seq``, ``AutoImageProcessor``, ``AutoProcessor``, a
``text_config`` for a Llama), ``modeling_prismatic.py`` whose model has the real attribute names
(``vision_backbone.featurizer`` a ViT with ``patch_embed`` / ``blocks`` /
``get_intermediate_layers``, ``projector`` an MLP, ``language_model`` a ``LlamaForCausalLM``
built with the config's attention implementation) and the real forward: patch features of the
second-to-last ViT block -> projector -> inserted after BOS in the Llama input embeddings, with
``output_attentions`` / ``output_hidden_states`` passed through; and a ``PrismaticProcessor``
(a tokenizer that adds BOS + an image processor with ``image_resize_strategy = "resize-naive"``
to 224 x 224). 224 px / 14 px patches = the real 16 x 16 grid of 256 visual tokens.

``craft="target"`` sets weights so that, in every Llama layer, the last token attends only to
visual tokens whose patch is red (R = 255, G = 0): the ViT blocks are identities, the patch
embedding measures mean (R - G) / 2, the projector turns it into one "redness" channel plus a
constant channel, and q/k read the text tokens' constant channel and the redness channel on the
lowest-frequency rotary pair (rope_theta = 1e12, so positions do not move the scores).
``craft="uniform"`` zeroes every query: all scores are equal, attention is uniform over the
prefix. The residual stream is left unchanged by every layer (o_proj = down_proj = 0), so all
layers see the same inputs.

``build_tiny_llava_crafted(folder, craft=...)`` reuses ``build_tiny_llava``'s config:
``craft="visual-uniform"`` makes the last token attend uniformly to the image tokens only (a
constant key channel on every projector output), which checks where the visual tokens sit;
``craft="target"`` makes it attend to mostly-red patches through CLIP, which checks the centre
crop and the row-major order of the grid.

The session fixtures at the end build the diagnostics checkpoints once; a test module lists this
module in ``pytest_plugins`` to use them. PYTEST_DONT_REWRITE: the module holds no asserts, and
a test module that imports it before another registers it as a plugin would otherwise get
pytest's "already imported, cannot be rewritten" warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

WORDS = (
    "in : what action should the robot take to put pick up open close place the carrot spoon "
    "on towel plate red square blue star drawer can ? out do you see answer yes or no . if , "
    "specify position left center right ' user assistant"
).split()

_TINYVLA_CONFIG = """
from transformers import PretrainedConfig


class TinyVLAConfig(PretrainedConfig):
    model_type = "tinyvla"

    def __init__(self, text_vocab_size=64, n_action_bins=256, hidden_size=32, num_layers=2,
                 num_heads=2, image_size=224, patch_size=32, norm_stats=None, batch_predict=True,
                 **kwargs):
        self.text_vocab_size = text_vocab_size
        self.n_action_bins = n_action_bins
        self.vocab_size = text_vocab_size + n_action_bins
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.image_size = image_size
        self.patch_size = patch_size
        self.norm_stats = norm_stats or {}
        self.batch_predict = batch_predict
        super().__init__(**kwargs)
"""

_TINYVLA_MODELING = """
import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_tinyvla import TinyVLAConfig


class TinyVLAForActionPrediction(PreTrainedModel):
    config_class = TinyVLAConfig
    base_model_prefix = "tinyvla"

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.patch = nn.Conv2d(3, h, config.patch_size, config.patch_size)
        self.embed = nn.Embedding(config.vocab_size, h)
        self.pos = nn.Embedding(512, h)
        layer = nn.TransformerEncoderLayer(h, config.num_heads, 2 * h, dropout=0.0, batch_first=True)
        self.body = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(h, config.vocab_size)
        bins = np.linspace(-1, 1, config.n_action_bins)
        self.bin_centers = (bins[:-1] + bins[1:]) / 2.0
        self.post_init()

    def forward(self, input_ids, attention_mask, pixel_values):
        img = self.patch(pixel_values).flatten(2).transpose(1, 2)  # (B, P, h)
        n_img = img.shape[1]
        pos_txt = (attention_mask.long().cumsum(1) - 1).clamp(min=0) + n_img
        txt = self.embed(input_ids) + self.pos(pos_txt)
        img = img + self.pos(torch.arange(n_img, device=img.device))[None]
        x = torch.cat([img, txt], 1)
        pad = torch.cat([torch.zeros(img.shape[:2], dtype=torch.bool, device=x.device),
                         attention_mask == 0], 1)
        L = x.shape[1]
        causal = torch.triu(torch.ones(L, L, dtype=torch.bool, device=x.device), 1)
        return self.head(self.body(x, mask=causal, src_key_padding_mask=pad))

    @torch.no_grad()
    def predict_action(self, input_ids=None, attention_mask=None, pixel_values=None,
                       unnorm_key=None, do_sample=False, temperature=1.0, **kwargs):
        if not self.config.batch_predict:  # like OpenVLA: the first sample only
            input_ids, attention_mask, pixel_values = input_ids[:1], attention_mask[:1], pixel_values[:1]
        nb = self.config.n_action_bins
        ids, mask = input_ids, attention_mask
        for _ in range(7):
            logits = self.forward(ids, mask, pixel_values)[:, -1, -nb:].float()
            if do_sample:
                nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1)
            else:
                nxt = logits.argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt + self.config.vocab_size - nb], 1)
            mask = torch.cat([mask, torch.ones_like(nxt)], 1)
        tokens = ids[:, -7:].cpu().numpy()
        discretized = np.clip(self.config.vocab_size - tokens - 1, 0, self.bin_centers.shape[0] - 1)
        normalized = self.bin_centers[discretized]
        stats = self.config.norm_stats[unnorm_key]["action"]
        lo, hi = np.asarray(stats["q01"]), np.asarray(stats["q99"])
        m = np.asarray(stats.get("mask", [True] * 7), dtype=bool)
        actions = np.where(m, 0.5 * (normalized + 1) * (hi - lo) + lo, normalized)
        return actions[0] if not self.config.batch_predict else actions
"""

_TINYVLA_PROCESSING = """
import json
import os

import numpy as np
import torch
from transformers import AutoTokenizer, BatchFeature, ProcessorMixin


class TinyVLAProcessor(ProcessorMixin):
    # like OpenVLA's PrismaticProcessor: a ProcessorMixin holding a tokenizer and image transform
    attributes = []

    def __init__(self, tokenizer, image_size):
        self.tokenizer = tokenizer
        self.image_size = image_size

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        with open(os.path.join(path, "config.json")) as f:
            size = json.load(f)["image_size"]
        return cls(AutoTokenizer.from_pretrained(path, trust_remote_code=True), size)

    def __call__(self, text, images, return_tensors="pt", padding=False, **kwargs):
        if not isinstance(text, (list, tuple)):
            text, images = [text], [images]
        enc = self.tokenizer(list(text), padding=padding or "longest", return_tensors="pt")
        px = [np.asarray(im.convert("RGB").resize((self.image_size, self.image_size)), np.float32)
              for im in images]
        pixel_values = (torch.tensor(np.stack(px)).permute(0, 3, 1, 2) / 127.5) - 1.0
        return BatchFeature({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                             "pixel_values": pixel_values})
"""


def _word_tokenizer(extra_special=()):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>", *extra_special]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(specials + WORDS))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        additional_special_tokens=list(extra_special),
    )


def build_tiny_openvla(folder, batch_predict=True, seed=0):
    import torch

    from vlthink.policies.conventions import BRIDGE_ORIG_ACTION_STATS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configuration_tinyvla.py").write_text(_TINYVLA_CONFIG)
    (folder / "modeling_tinyvla.py").write_text(_TINYVLA_MODELING)
    (folder / "processing_tinyvla.py").write_text(_TINYVLA_PROCESSING)
    tok = _word_tokenizer()
    tok.save_pretrained(folder)
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "configuration_tinyvla", folder / "configuration_tinyvla.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cfg = mod.TinyVLAConfig(
        text_vocab_size=len(tok),
        batch_predict=batch_predict,
        # the paper's checkpoints carry "sft" statistics; any numbers do for a random model
        norm_stats={k: {"action": BRIDGE_ORIG_ACTION_STATS} for k in ("bridge_orig", "sft")},
    )
    cfg.auto_map = {
        "AutoConfig": "configuration_tinyvla.TinyVLAConfig",
        "AutoModelForVision2Seq": "modeling_tinyvla.TinyVLAForActionPrediction",
        "AutoProcessor": "processing_tinyvla.TinyVLAProcessor",
    }
    cfg.architectures = ["TinyVLAForActionPrediction"]
    cfg.save_pretrained(folder)
    # weights: build the model class from the written file and save a random init
    sys.path.insert(0, str(folder.parent))
    try:
        pkg = folder.name
        (folder / "__init__.py").write_text("")
        model_mod = importlib.import_module(f"{pkg}.modeling_tinyvla")
        torch.manual_seed(seed)
        model_mod.TinyVLAForActionPrediction(cfg).save_pretrained(folder)
    finally:
        sys.path.remove(str(folder.parent))
        for name in [m for m in sys.modules if m == pkg or m.startswith(pkg + ".")]:
            del sys.modules[name]
        (folder / "__init__.py").unlink()
    return folder


CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }} : {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image> {% else %}{{ c['text'] }} {% endif %}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %}assistant : {% endif %}"
)


def build_tiny_llava(folder, seed=0):
    import torch
    from transformers import (
        AutoModelForImageTextToText,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaProcessor,
    )

    folder = Path(folder)
    tok = _word_tokenizer(extra_special=("<image>",))
    image_token = tok.convert_tokens_to_ids("<image>")
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    cfg = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=image_token,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(cfg)
    model.save_pretrained(folder)
    improc = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    proc = LlavaProcessor(
        image_processor=improc,
        tokenizer=tok,
        patch_size=8,
        vision_feature_select_strategy="default",
        chat_template=CHAT_TEMPLATE,
        num_additional_image_tokens=1,
    )
    proc.save_pretrained(folder)
    return folder


if __name__ == "__main__":  # pragma: no cover - manual check
    import sys

    print(
        build_tiny_openvla(Path(sys.argv[1]) / "vla"), build_tiny_llava(Path(sys.argv[1]) / "llava")
    )
    print(json.dumps(json.load(open(Path(sys.argv[1]) / "vla" / "config.json"))["auto_map"]))


# ==== vision-language models for the diagnostics tests ==========================================

REDNESS_GAIN = 3.0  # q/k gains; with RMSNorm scaling the target score is ~50, others 0

_PRISMATIC_CONFIG = """
from transformers import LlamaConfig, PretrainedConfig


class PrismaticConfig(PretrainedConfig):
    model_type = "prismatic"

    def __init__(self, vision_backbone_id="tiny-vit-224px", llm_backbone_id="tiny-llama",
                 arch_specifier="gelu-mlp", use_fused_vision_backbone=False,
                 image_resize_strategy="resize-naive", text_config=None, llm_max_length=512,
                 pad_token_id=0, pad_to_multiple_of=64, image_size=224, patch_size=14,
                 vision_dim=32, vision_depth=3, vision_heads=2, **kwargs):
        self.vision_backbone_id = vision_backbone_id
        self.llm_backbone_id = llm_backbone_id
        self.arch_specifier = arch_specifier
        self.use_fused_vision_backbone = use_fused_vision_backbone
        self.image_resize_strategy = image_resize_strategy
        self.image_sizes = [image_size]
        self.image_size, self.patch_size = image_size, patch_size
        self.vision_dim, self.vision_depth = vision_dim, vision_depth
        self.vision_heads = vision_heads
        if not isinstance(text_config, LlamaConfig):
            text_config = LlamaConfig(**(text_config or {}))
        self.text_config = text_config
        self.llm_max_length = llm_max_length
        self.pad_to_multiple_of = pad_to_multiple_of
        super().__init__(pad_token_id=pad_token_id, **kwargs)

    def to_dict(self):
        out = super().to_dict()
        out["text_config"] = self.text_config.to_dict()
        return out


class OpenVLAConfig(PrismaticConfig):
    model_type = "openvla"

    def __init__(self, norm_stats=None, n_action_bins=256, **kwargs):
        self.norm_stats, self.n_action_bins = norm_stats, n_action_bins
        super().__init__(**kwargs)
"""

_PRISMATIC_MODELING = '''
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn
from transformers import AutoModelForCausalLM, PreTrainedModel
from transformers.modeling_outputs import ModelOutput

from .configuration_prismatic import OpenVLAConfig, PrismaticConfig


class PatchEmbed(nn.Module):  # timm's names: proj, patch_size, grid_size
    def __init__(self, image_size, patch_size, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch_size, patch_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (image_size // patch_size, image_size // patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)
        self.heads = heads

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5, -1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))


class TinyViT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.patch_embed = PatchEmbed(cfg.image_size, cfg.patch_size, cfg.vision_dim)
        n = self.patch_embed.grid_size[0] * self.patch_embed.grid_size[1]
        self.pos_embed = nn.Parameter(torch.zeros(1, n, cfg.vision_dim))
        self.blocks = nn.ModuleList(
            Block(cfg.vision_dim, cfg.vision_heads) for _ in range(cfg.vision_depth))
        self.embed_dim = cfg.vision_dim

    def get_intermediate_layers(self, x, n):
        x = self.patch_embed(x) + self.pos_embed
        out = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in n:
                out.append(x)
        return out


class PrismaticVisionBackbone(nn.Module):
    """Like Prismatic's: the featurizer's second-to-last block output is the patch feature."""

    def __init__(self, cfg):
        super().__init__()
        self.featurizer = TinyViT(cfg)
        self.embed_dim = cfg.vision_dim

    def forward(self, pixel_values):
        second_to_last = len(self.featurizer.blocks) - 2
        return self.featurizer.get_intermediate_layers(pixel_values, n={second_to_last})[0]


class PrismaticProjector(nn.Module):
    def __init__(self, vision_dim, llm_dim):
        super().__init__()
        self.fc1, self.act_fn1 = nn.Linear(vision_dim, llm_dim), nn.GELU()
        self.fc2 = nn.Linear(llm_dim, llm_dim)

    def forward(self, x):
        return self.fc2(self.act_fn1(self.fc1(x)))


@dataclass
class PrismaticCausalLMOutputWithPast(ModelOutput):
    loss: Optional[torch.FloatTensor] = None
    logits: torch.FloatTensor = None
    hidden_states: Optional[tuple] = None
    attentions: Optional[tuple] = None
    projector_features: Optional[torch.FloatTensor] = None


class PrismaticPreTrainedModel(PreTrainedModel):
    config_class = PrismaticConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _supports_flash_attn_2 = True

    def _init_weights(self, module):
        pass


class PrismaticForConditionalGeneration(PrismaticPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.vision_backbone = PrismaticVisionBackbone(config)
        self.llm_dim = config.text_config.hidden_size
        self.projector = PrismaticProjector(config.vision_dim, self.llm_dim)
        self.language_model = AutoModelForCausalLM.from_config(
            config.text_config, attn_implementation=config._attn_implementation)
        self.vocab_size = config.text_config.vocab_size
        self.pad_token_id = config.pad_token_id
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def forward(self, input_ids=None, attention_mask=None, pixel_values=None, labels=None,
                inputs_embeds=None, past_key_values=None, use_cache=None, output_attentions=None,
                output_hidden_states=None, output_projector_features=None, return_dict=None):
        patch_features = self.vision_backbone(pixel_values)
        projected = self.projector(patch_features)
        embeds = self.get_input_embeddings()(input_ids)
        mm_embeds = torch.cat([embeds[:, :1], projected, embeds[:, 1:]], dim=1)
        mm_mask = None
        if attention_mask is not None:
            patch_mask = torch.ones(projected.shape[:2], dtype=attention_mask.dtype,
                                    device=attention_mask.device)
            mm_mask = torch.cat([attention_mask[:, :1], patch_mask, attention_mask[:, 1:]], dim=1)
        out = self.language_model(input_ids=None, attention_mask=mm_mask, inputs_embeds=mm_embeds,
                                  use_cache=False, output_attentions=output_attentions,
                                  output_hidden_states=output_hidden_states, return_dict=True)
        return PrismaticCausalLMOutputWithPast(
            logits=out.logits, hidden_states=out.hidden_states,
            attentions=out.attentions,
            projector_features=projected if output_projector_features else None)


class OpenVLAForActionPrediction(PrismaticForConditionalGeneration):
    config_class = OpenVLAConfig
'''

_PRISMATIC_PROCESSING = """
import numpy as np
import torch
from PIL import Image
from transformers import AutoTokenizer, BatchFeature, ImageProcessingMixin, ProcessorMixin


class PrismaticImageProcessor(ImageProcessingMixin):
    model_input_names = ["pixel_values"]

    def __init__(self, use_fused_vision_backbone=False, image_resize_strategy="resize-naive",
                 input_sizes=None, interpolations=None, means=None, stds=None, **kwargs):
        self.use_fused_vision_backbone = use_fused_vision_backbone
        self.image_resize_strategy = image_resize_strategy
        self.input_sizes = input_sizes or [(3, 224, 224)]
        self.interpolations = interpolations or ["bicubic"]
        self.means = means or [(0.5, 0.5, 0.5)]
        self.stds = stds or [(0.5, 0.5, 0.5)]
        super().__init__(**kwargs)

    def apply_transform(self, img):
        _, h, w = self.input_sizes[0]
        if self.image_resize_strategy == "letterbox":
            side = max(img.size)
            canvas = Image.new("RGB", (side, side), tuple(int(255 * m) for m in self.means[0]))
            canvas.paste(img, ((side - img.size[0]) // 2, (side - img.size[1]) // 2))
            img = canvas
        x = np.asarray(img.convert("RGB").resize((w, h), Image.BICUBIC), np.float32) / 255.0
        x = (x - np.asarray(self.means[0], np.float32)) / np.asarray(self.stds[0], np.float32)
        return torch.from_numpy(x).permute(2, 0, 1)

    def __call__(self, images, return_tensors=None, **kwargs):
        images = images if isinstance(images, list) else [images]
        pixel_values = torch.stack([self.apply_transform(i) for i in images])
        return BatchFeature({"pixel_values": pixel_values})


class PrismaticProcessor(ProcessorMixin):
    attributes = ["image_processor", "tokenizer"]
    image_processor_class = "AutoImageProcessor"
    tokenizer_class = "AutoTokenizer"

    def __init__(self, image_processor=None, tokenizer=None, **kwargs):
        self.image_processor, self.tokenizer = image_processor, tokenizer

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        import json
        import os

        with open(os.path.join(path, "preprocessor_config.json")) as f:
            cfg = json.load(f)
        cfg.pop("image_processor_type", None)
        cfg.pop("auto_map", None)
        cfg.pop("processor_class", None)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
        return cls(PrismaticImageProcessor(**cfg), tokenizer)

    def __call__(self, text, images, padding=False, truncation=None, max_length=None,
                 return_tensors="pt"):
        pixel_values = self.image_processor(images, return_tensors=return_tensors)["pixel_values"]
        enc = self.tokenizer(text, return_tensors=return_tensors, padding=padding,
                             truncation=truncation, max_length=max_length)
        return BatchFeature({**enc, "pixel_values": pixel_values})
"""


def _load_module(folder: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _bos_tokenizer():
    """The word-level test tokenizer with a post-processor that adds BOS, as Llama's does."""
    from tokenizers import processors

    tok = _word_tokenizer()
    bos = tok.bos_token
    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.bos_token_id)]
    )
    return tok


def _text_config(tok) -> dict:
    return dict(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        rope_parameters={"rope_type": "default", "rope_theta": 1e12},
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )


def build_tiny_prismatic(
    folder, craft: str | None = None, seed: int = 0, resize_strategy: str = "resize-naive"
) -> Path:
    """Write a tiny OpenVLA/Prismatic-layout checkpoint (see the module docstring)."""
    import json

    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configuration_prismatic.py").write_text(_PRISMATIC_CONFIG)
    (folder / "modeling_prismatic.py").write_text(_PRISMATIC_MODELING)
    (folder / "processing_prismatic.py").write_text(_PRISMATIC_PROCESSING)
    tok = _bos_tokenizer()
    tok.save_pretrained(folder)
    cfg_mod = _load_module(folder, "configuration_prismatic")
    cfg = cfg_mod.OpenVLAConfig(
        text_config=_text_config(tok),
        pad_token_id=tok.pad_token_id,
        image_resize_strategy=resize_strategy,
    )
    cfg.auto_map = {
        "AutoConfig": "configuration_prismatic.OpenVLAConfig",
        "AutoModelForVision2Seq": "modeling_prismatic.OpenVLAForActionPrediction",
    }
    cfg.architectures = ["OpenVLAForActionPrediction"]
    cfg.save_pretrained(folder)
    pre = {
        "image_processor_type": "PrismaticImageProcessor",
        "processor_class": "PrismaticProcessor",
        "auto_map": {
            "AutoImageProcessor": "processing_prismatic.PrismaticImageProcessor",
            "AutoProcessor": "processing_prismatic.PrismaticProcessor",
        },
        "use_fused_vision_backbone": False,
        "image_resize_strategy": resize_strategy,
        "input_sizes": [[3, 224, 224]],
        "interpolations": ["bicubic"],
        "means": [[0.5, 0.5, 0.5]],
        "stds": [[0.5, 0.5, 0.5]],
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(pre, indent=2))
    (folder / "processor_config.json").write_text(
        json.dumps(
            {
                "processor_class": "PrismaticProcessor",
                "auto_map": {"AutoProcessor": "processing_prismatic.PrismaticProcessor"},
            }
        )
    )
    sys.path.insert(0, str(folder.parent))
    pkg = folder.name
    try:
        (folder / "__init__.py").write_text("")
        mod = importlib.import_module(f"{pkg}.modeling_prismatic")
        torch.manual_seed(seed)
        cfg._attn_implementation = "eager"
        model = mod.OpenVLAForActionPrediction(cfg)
        if craft:
            CRAFTS[craft](model)
        model.save_pretrained(folder)
    finally:
        sys.path.remove(str(folder.parent))
        for name in [m for m in sys.modules if m == pkg or m.startswith(pkg + ".")]:
            del sys.modules[name]
        (folder / "__init__.py").unlink()
    return folder


def _freeze_residual(layers) -> None:
    """Make every decoder layer leave the residual stream unchanged (o_proj = down_proj = 0)."""
    for layer in layers:
        for lin in (layer.self_attn.o_proj, layer.mlp.down_proj):
            lin.weight.zero_()
            if lin.bias is not None:
                lin.bias.zero_()


def _craft_prismatic_target(model) -> None:
    """Last-token attention goes to red patches only (see the module docstring)."""
    import torch

    with torch.no_grad():
        vit = model.vision_backbone.featurizer
        for p in vit.parameters():
            p.zero_()
        for blk in vit.blocks:  # LayerNorm weights back to 1 (their output is unused anyway)
            blk.norm1.weight.fill_(1.0)
            blk.norm2.weight.fill_(1.0)
        k = vit.patch_embed.proj.weight  # (D, 3, p, p); channel 0 = mean(R - G) / 2 over the patch
        area = k.shape[2] * k.shape[3]
        k[0, 0] = 1.0 / (2 * area)
        k[0, 1] = -1.0 / (2 * area)
        proj = model.projector
        for p in proj.parameters():
            p.zero_()
        proj.fc1.weight[0, 0] = 4.0  # GELU(4 f): ~4 on red, 0 elsewhere
        proj.fc2.weight[1, 0] = 0.25  # channel 1: redness in [0, 1]
        proj.fc2.bias[2] = 1.0  # channel 2: constant, so a non-red patch is not a zero vector
        lm = model.language_model.model
        lm.embed_tokens.weight.zero_()
        lm.embed_tokens.weight[:, 0] = 1.0  # every text token: channel 0
        _freeze_residual(lm.layers)
        for layer in lm.layers:
            att = layer.self_attn
            hd = att.head_dim
            att.q_proj.weight.zero_()
            att.k_proj.weight.zero_()
            for h in range(att.q_proj.weight.shape[0] // hd):  # lowest-frequency rotary dim
                att.q_proj.weight[h * hd + hd - 1, 0] = REDNESS_GAIN
            for h in range(att.k_proj.weight.shape[0] // hd):
                att.k_proj.weight[h * hd + hd - 1, 1] = REDNESS_GAIN


def _craft_uniform(model) -> None:
    """All queries zero: every score equal, attention uniform over the causal prefix."""
    import torch

    lm = (
        model.language_model.model
        if hasattr(model, "language_model") and hasattr(model.language_model, "model")
        else model.model.language_model
    )
    with torch.no_grad():
        _freeze_residual(lm.layers)
        for layer in lm.layers:
            layer.self_attn.q_proj.weight.zero_()
            if layer.self_attn.q_proj.bias is not None:
                layer.self_attn.q_proj.bias.zero_()


CRAFTS = {"target": _craft_prismatic_target, "uniform": _craft_uniform}


def _craft_llava_visual(model) -> None:
    """The last token attends uniformly to the image tokens only: the projector outputs a constant
    channel (1) on every image token, text embeddings carry a query channel (0), q reads 0,
    k reads 1."""
    import torch

    with torch.no_grad():
        mm = model.model.multi_modal_projector
        for p in mm.parameters():
            p.zero_()
        mm.linear_2.bias[1] = 1.0
        lm = model.model.language_model
        lm.embed_tokens.weight.zero_()
        lm.embed_tokens.weight[:, 0] = 1.0
        _freeze_residual(lm.layers)
        _query_key(lm.layers)


def _craft_llava_target(model) -> None:
    """The last token attends only to image tokens whose patch is mostly red, through CLIP: the
    patch embedding measures mean (R - G) / 2, a position embedding of -0.5 makes it a signed
    "more than half red" score, CLIP's pre-layernorm turns the sign into +-sqrt(D - 1) on
    channel 0, the encoder layers are identities, the projector keeps the positive side as a
    redness channel; the Llama is crafted as for the Prismatic target model."""
    import torch

    with torch.no_grad():
        vis = model.model.vision_tower  # CLIPVisionModel: embeddings, pre_layrnorm, encoder
        emb = vis.embeddings
        emb.class_embedding.zero_()
        emb.position_embedding.weight.zero_()
        emb.position_embedding.weight[:, 0] = -0.5
        k = emb.patch_embedding.weight  # (D, 3, p, p)
        k.zero_()
        area = k.shape[2] * k.shape[3]
        k[0, 0] = 1.0 / (2 * area)
        k[0, 1] = -1.0 / (2 * area)
        for layer in vis.encoder.layers:
            for lin in (layer.self_attn.out_proj, layer.mlp.fc2):
                lin.weight.zero_()
                lin.bias.zero_()
        d = emb.embed_dim
        mm = model.model.multi_modal_projector
        for p in mm.parameters():
            p.zero_()
        mm.linear_1.weight[0, 0] = 1.0
        mm.linear_2.weight[1, 0] = 1.0 / (d - 1) ** 0.5  # redness ~1 on red patches, ~0 elsewhere
        mm.linear_2.bias[2] = 1.0
        lm = model.model.language_model
        lm.embed_tokens.weight.zero_()
        lm.embed_tokens.weight[:, 0] = 1.0
        _freeze_residual(lm.layers)
        _query_key(lm.layers)


def _query_key(layers) -> None:
    """q reads channel 0 (every text token), k reads channel 1, on the lowest-frequency rotary
    pair of every head."""
    for layer in layers:
        att = layer.self_attn
        hd = att.head_dim
        att.q_proj.weight.zero_()
        att.k_proj.weight.zero_()
        for h in range(att.q_proj.weight.shape[0] // hd):
            att.q_proj.weight[h * hd + hd - 1, 0] = REDNESS_GAIN
        for h in range(att.k_proj.weight.shape[0] // hd):
            att.k_proj.weight[h * hd + hd - 1, 1] = REDNESS_GAIN


def build_tiny_llava_crafted(folder, craft: str, seed: int = 0) -> Path:
    """The tiny LLaVA of build_tiny_llava, with rope_theta = 1e12 and crafted attention weights."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    folder = build_tiny_llava(folder, seed=seed)
    cfg = AutoConfig.from_pretrained(folder)
    cfg.text_config.rope_parameters = {"rope_type": "default", "rope_theta": 1e12}
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(cfg)
    crafts = {
        "visual-uniform": _craft_llava_visual,
        "uniform": _craft_uniform,
        "target": _craft_llava_target,
    }
    crafts[craft](model)
    model.save_pretrained(folder)
    return folder


# --- pytest fixtures (a test module lists this module in `pytest_plugins` to use them) -----------


@pytest.fixture(scope="session")
def tiny_prismatic_dir(tmp_path_factory):
    """A random-weight tiny Prismatic/OpenVLA checkpoint."""
    return build_tiny_prismatic(tmp_path_factory.mktemp("diag") / "prism_random")


@pytest.fixture(scope="session")
def tiny_prismatic_target_dir(tmp_path_factory):
    """The tiny Prismatic whose last token attends to red patches only."""
    return build_tiny_prismatic(tmp_path_factory.mktemp("diag") / "prism_target", craft="target")


@pytest.fixture(scope="session")
def tiny_prismatic_uniform_dir(tmp_path_factory):
    """The tiny Prismatic with uniform attention (all queries zero)."""
    return build_tiny_prismatic(tmp_path_factory.mktemp("diag") / "prism_uniform", craft="uniform")


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory):
    """The tiny LLaVA whose last token attends uniformly to the image tokens only."""
    return build_tiny_llava_crafted(
        tmp_path_factory.mktemp("diag") / "llava_visual", "visual-uniform"
    )


QWEN_SPECIALS = ("<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|video_pad|>")
QWEN_CHAT = (
    "{% for m in messages %}{{ m['role'] }} : {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|> "
    "{% else %}{{ c['text'] }} {% endif %}{% endfor %}{% endfor %}"
    "{% if add_generation_prompt %}assistant : {% endif %}"
)


def build_tiny_qwen25vl(folder, craft: str | None = None, seed: int = 0) -> Path:
    """A Qwen2.5-VL (window-attention ViT with 2 x 2 patch merging + Qwen2 text model with
    M-RoPE) from a config with random weights, its processor (dynamic resolution: a 640 x 480
    frame becomes 16 x 12 merged tokens with max_pixels = 448 * 336) and a chat template."""
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
    )

    folder = Path(folder)
    tok = _word_tokenizer(extra_special=QWEN_SPECIALS)
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}
    vision = dict(
        depth=2,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=32,
        patch_size=14,
        spatial_merge_size=2,
        temporal_patch_size=2,
        window_size=112,
        fullatt_block_indexes=[1],
    )
    text = dict(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    cfg = Qwen2_5_VLConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    if craft:
        CRAFTS[craft](model)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


class TinyQwenProcessor:
    """What ``Qwen2_5_VLProcessor`` does for one image, for this environment: transformers'
    Qwen2.5-VL processor insists on a video processor, which needs torchvision (not installed
    here). Real ``Qwen2VLImageProcessor`` + the tokenizer; each ``<|image_pad|>`` is expanded
    to ``prod(image_grid_thw) / merge_size**2`` tokens, as the real processor does."""

    def __init__(self, folder):
        from transformers import AutoTokenizer, Qwen2VLImageProcessor

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.image_processor = Qwen2VLImageProcessor(
            min_pixels=56 * 56,
            max_pixels=448 * 336,
            patch_size=14,
            merge_size=2,
            temporal_patch_size=2,
        )
        self.chat_template = QWEN_CHAT

    def apply_chat_template(self, messages, add_generation_prompt=False, tokenize=False):
        return self.tokenizer.apply_chat_template(
            messages,
            chat_template=self.chat_template,
            add_generation_prompt=add_generation_prompt,
            tokenize=tokenize,
        )

    def __call__(self, text, images, return_tensors="pt"):
        from transformers import BatchFeature

        vis = self.image_processor(images=images, return_tensors=return_tensors)
        n = int(vis["image_grid_thw"][0].prod()) // self.image_processor.merge_size**2
        text = [t.replace("<|image_pad|>", "<|image_pad|>" * n) for t in text]
        enc = self.tokenizer(text, return_tensors=return_tensors)
        return BatchFeature({**enc, **vis})


def load_tiny_qwen(folder):
    """The tiny Qwen2.5-VL as a diagnostics LoadedModel (eager attention, TinyQwenProcessor)."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from vlthink.diagnostics.models import LoadedModel, family_of

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        folder, attn_implementation="eager"
    ).eval()
    return LoadedModel(
        str(folder),
        family_of(model.config.model_type, str(folder)),
        model,
        TinyQwenProcessor(folder),
        model.config.text_config.num_hidden_layers,
        torch.device("cpu"),
        torch.float32,
    )
