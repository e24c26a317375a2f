"""A small random-weight LeRobot ACT policy for vlthink's observations, saved to a directory
(config, weights, pre/post-processors) as ``lerobot-eval --policy.path=DIR`` loads it; no hub."""

from __future__ import annotations

import json
from pathlib import Path


def save_tiny_act(out: Path, stats_file: Path) -> Path:
    """ACT with tiny dims and no pretrained backbone; normalised by ``stats_file`` (a v3.0
    dataset's ``meta/stats.json``, as vlthink writes it)."""
    import torch
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    torch.manual_seed(0)
    cfg = ACTConfig(
        input_features={
            "observation.state": PolicyFeature(FeatureType.STATE, (7,)),
            "observation.images.image": PolicyFeature(FeatureType.VISUAL, (3, 480, 640)),
        },
        output_features={"action": PolicyFeature(FeatureType.ACTION, (7,))},
        chunk_size=5,
        n_action_steps=5,
        dim_model=32,
        n_heads=2,
        dim_feedforward=64,
        n_encoder_layers=1,
        n_decoder_layers=1,
        use_vae=False,
        pretrained_backbone_weights=None,
        device="cpu",
    )
    policy = ACTPolicy(cfg)
    stats = {
        k: {s: torch.tensor(v) for s, v in d.items()}
        for k, d in json.loads(Path(stats_file).read_text()).items()
    }
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    out.mkdir(parents=True, exist_ok=True)
    policy.save_pretrained(out)
    pre.save_pretrained(out)
    post.save_pretrained(out)
    return out
