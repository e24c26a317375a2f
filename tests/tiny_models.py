"""Tiny models with random weights, built locally (no download), for the in-process adapter tests.

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
"""

import json
from pathlib import Path

WORDS = (
    "in : what action should the robot take to put pick up open close place the carrot spoon "
    "on towel plate red square blue star drawer can ? out do you see answer yes or no . if , "
    "specify position left center right ' user assistant"
).split()

_CONFIG = """
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

_MODELING = """
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

_PROCESSING = """
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
    (folder / "configuration_tinyvla.py").write_text(_CONFIG)
    (folder / "modeling_tinyvla.py").write_text(_MODELING)
    (folder / "processing_tinyvla.py").write_text(_PROCESSING)
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
