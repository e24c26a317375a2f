"""``vlthink diagnose {attention,embeddings,probe}``: argument parsing and dispatch.

Every subcommand takes ``--model`` (a checkpoint folder, a hub id, or a policy name / TOML with
``checkpoint``) and ``--out`` (a run directory; rerunning the same command resumes it).
Problems with the input end in one line naming the problem and the fix, exit code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vlthink.diagnostics.rundir import DiagnosticsError

SUITE_ALIASES = ("vl-think", "all")


def resolve_envs(names: list[str]) -> list[str]:
    """VL-Think env ids from ids, domain names (``Traffic``) or ``vl-think``."""
    import vlthink

    known = list(vlthink.VL_THINK_TASKS)
    by_domain = {e.split("-")[1].lower(): e for e in known}
    out: list[str] = []
    for name in names:
        if name.lower() in SUITE_ALIASES:
            out += known
        elif name in known:
            out.append(name)
        elif name.lower() in by_domain:
            out.append(by_domain[name.lower()])
        else:
            raise DiagnosticsError(
                f"--envs {name!r}: not a VL-Think env; use one of "
                f"{', '.join(known)}, a domain name, or vl-think"
            )
    return list(dict.fromkeys(out))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="checkpoint folder, hub id, or policy name/TOML")
    p.add_argument("--out", required=True, help="run directory (rerun to resume)")
    p.add_argument("--layers", type=int, nargs="+", help="layers to read (default: the paper's)")
    p.add_argument("--episodes", type=int, default=8, help="scenes per env (default 8)")
    p.add_argument("--seed", type=int, default=0, help="first scene seed, and the CV/probe seed")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto", choices=("auto", "bfloat16", "float16", "float32"))
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--prompt-template",
        help="non-chat models (Prismatic): text around the question, with {question} "
        "(default: OpenVLA's 'In: {question}\\nOut:')",
    )


def _features_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--envs", nargs="+", default=["vl-think"], help="VL-Think envs (default all)")
    src.add_argument("--images", help="image folder DIR/<class>/*.jpg instead of VL-Think scenes")
    p.add_argument("--max-per-class", type=int, help="image folder: at most N images per class")
    p.add_argument("--question", default="Do you see {object}?")


def add_diagnose_parser(sub) -> None:
    """Register ``diagnose`` and its three subcommands on the ``vlthink`` parser."""
    d = sub.add_parser(
        "diagnose", help="attention, embedding separability and linear probes of a VLM/VLA"
    )
    dsub = d.add_subparsers(dest="diagnostic", required=True)
    p = dsub.add_parser("attention", help="last-token attention on the target board, per layer")
    _common(p)
    p.add_argument("--envs", nargs="+", default=["vl-think"], help="VL-Think envs (default all)")
    p.add_argument("--figures", type=int, default=3, help="overlay rows per domain (default 3)")
    p.add_argument(
        "--attn",
        choices=("switch", "refuse"),
        default="switch",
        help="a model that returns no attention weights: switch it to eager, or refuse",
    )
    p.add_argument("--question", default="Do you see {target}?")
    p.add_argument("--describe", default="Describe the scene briefly.")
    p.set_defaults(func=_attention)
    p = dsub.add_parser("embeddings", help="k-NN accuracy, silhouette and t-SNE of hidden states")
    _common(p)
    _features_args(p)
    p.add_argument("--modes", nargs="+", default=["token", "vision"], choices=("token", "vision"))
    p.set_defaults(func=_embeddings)
    p = dsub.add_parser(
        "probe", help="linear probe (logistic regression) on frozen visual features"
    )
    _common(p)
    _features_args(p)
    p.add_argument("--test-share", type=float, default=0.3)
    p.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (default 1.0)")
    p.set_defaults(func=_probe)


def _check(args) -> None:
    if args.episodes < 1:
        raise DiagnosticsError(f"--episodes {args.episodes}: give at least 1")
    if (
        getattr(args, "test_share", 0.5) is not None
        and not 0 < getattr(args, "test_share", 0.5) < 1
    ):
        raise DiagnosticsError(f"--test-share {args.test_share}: give a share between 0 and 1")
    question = getattr(args, "question", "")
    if question and "{" not in question:
        raise DiagnosticsError(
            f"--question {question!r}: put the object's placeholder in it, "
            "e.g. 'Do you see {object}?'"
        )


def _load(args):
    from vlthink.diagnostics.models import model_ref

    if args.prompt_template is not None and "{question}" not in args.prompt_template:
        raise DiagnosticsError(
            f"--prompt-template {args.prompt_template!r}: put {{question}} where the question goes"
        )
    ref = model_ref(args.model, device=args.device, dtype=args.dtype)
    ref.prompt = args.prompt_template.replace("\\n", "\n") if args.prompt_template else None
    return ref


def _attention(args) -> int:
    from vlthink.diagnostics.attention_run import AttentionSettings, run_attention

    _check(args)
    if "{target}" not in args.question:
        raise DiagnosticsError("--question must contain {target}, e.g. 'Do you see {target}?'")
    s = AttentionSettings(
        envs=resolve_envs(args.envs),
        episodes=args.episodes,
        first_seed=args.seed,
        layers=args.layers,
        question=args.question,
        describe=args.describe,
        figures_per_domain=args.figures,
        attn=args.attn,
    )
    run = run_attention(_load(args), s, Path(args.out), progress=not args.no_progress)
    print(f"wrote {run.path}/attention_summary.csv ({len(run.rows())} scenes)")
    return 0


def _feature_settings(args):
    from vlthink.diagnostics.features import FeatureSettings

    _check(args)
    if "{object}" not in args.question:
        raise DiagnosticsError("--question must contain {object}, e.g. 'Do you see {object}?'")
    envs = [] if args.images else resolve_envs(args.envs)
    return FeatureSettings(
        envs=envs,
        images=args.images,
        episodes=args.episodes,
        first_seed=args.seed,
        layers=args.layers,
        modes=tuple(getattr(args, "modes", ("vision",))),
        question=args.question,
        max_per_class=args.max_per_class,
    )


def _embeddings(args) -> int:
    from vlthink.diagnostics.embeddings import run_embeddings

    s = _feature_settings(args)
    run = run_embeddings(
        _load(args), s, Path(args.out), seed=args.seed, progress=not args.no_progress
    )
    print(f"wrote {run.path}/embeddings_scores.csv")
    return 0


def _probe(args) -> int:
    from vlthink.diagnostics.probe import run_probe

    s = _feature_settings(args)
    run = run_probe(
        _load(args),
        s,
        Path(args.out),
        seed=args.seed,
        test_share=args.test_share,
        c=args.C,
        progress=not args.no_progress,
    )
    print(f"wrote {run.path}/probe_scores.csv")
    return 0
