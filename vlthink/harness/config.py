"""What a run is asked to do, typed and resolved once: :class:`EvalConfig`.

``vlthink-eval`` parses its argv into one (:mod:`vlthink.harness.cli`), ``vlthink.evaluate``
builds one from its keywords (:mod:`vlthink.harness.api`); both hand it to the run pipeline
(:mod:`vlthink.harness.pipeline`). :meth:`EvalConfig.build` resolves everything that does not
need the policy: suite names into env ids and their task table, ``--protocol`` into a run size,
``--shard I/N`` into a pair, and refuses bad combinations with one line naming the fix. What
needs the policy (its traits, the observation mode) is resolved once by the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlthink.assets.sets import ASSET_SETS, DEFAULT_ASSETS
from vlthink.harness import episodes
from vlthink.harness.results import HarnessError
from vlthink.harness.rundir import PAPER_EPISODES, PAPER_SEEDS, RunPlan

DEFAULT_EPISODES = 128
DEFAULT_SEEDS = (0,)  # one seed by default; the paper's size is --protocol paper
#: --protocol name -> (episodes per cell, seeds) it stands for.
PROTOCOL_PRESETS = {"paper": (PAPER_EPISODES, PAPER_SEEDS)}
#: Run seeds a user may give: what ``numpy.random.RandomState`` and the simulators accept.
SEED_RANGE = (0, 2**31 - 1)
OBS_MODES = ("auto", "rgb", "state_dict")
SIM_BACKENDS = ("cpu", "gpu")
EXECUTORS = ("local", "ray")
ALTERNATIVES = ("greater", "less", "two-sided")
ADJUSTMENTS = ("holm", "bh")  # as vlthink.harness.stats.ADJUSTMENTS
VIDEO_OF = ("all", "failures")


def check_seed(seed: Any) -> int:
    """A run seed, or a ValueError saying which seeds are allowed."""
    low, high = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, int) or not low <= seed <= high:
        raise ValueError(f"a run seed is an integer from {low} to {high}, got {seed!r}")
    return seed


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation, as asked for and resolved (everything but what needs the policy)."""

    policy_spec: str  # the --policy value: a name, a .toml path or an import string
    suite: tuple[str, ...]  # as given: suite names and env ids (labels, the command)
    env_ids: tuple[str, ...]
    tasks: Mapping[str, Mapping[str, str]]  # env id -> suite, group
    episodes: int
    seeds: tuple[int, ...]
    sim_backend: str = "cpu"
    num_envs: int = 1
    shard: tuple[int, int] | None = None  # (0-based index, count)
    workers: int = 1
    in_flight: int = 1  # episodes each worker keeps in flight (RunOptions.in_flight)
    executor: str = "local"
    episode_timeout: float = 300.0
    max_policy_failures: int = 3
    retry_errors: bool = False
    obs_mode: str = "auto"  # as asked; the pipeline resolves "auto" against the policy
    assets: str = DEFAULT_ASSETS  # the asset set the scenes are drawn with (vlthink.assets.sets)
    stop_after: int | None = None
    out: Path | None = None
    baseline: Path | None = None
    alternative: str = "greater"
    adjustment: str = "holm"  # adjusted p-values of a baseline comparison: holm or bh
    stop_when_decided: bool = False  # play in blocks against the baseline, stop once decided
    alpha: float = 0.05  # the sequential test's error rate
    block: int = 16  # episodes per env between the sequential test's looks
    record_video: bool = False
    video_of: str = "all"
    video_first: int | None = None
    progress: bool = True
    argv: tuple[str, ...] = field(default=(), compare=False)  # the command line, for the record

    @property
    def plan(self) -> RunPlan:
        num_envs = self.num_envs if self.sim_backend == "gpu" else 1
        return RunPlan(
            self.env_ids, self.episodes, self.seeds, self.sim_backend, num_envs, self.shard
        )

    def command(self) -> str:
        """The command that reproduces this run (identity options only)."""
        command = self.plan.command(self.policy_spec, self.suite)
        return command + (f" --assets {self.assets}" if self.assets != DEFAULT_ASSETS else "")

    def default_out(self, policy_name: str) -> Path:
        """Where the run goes without ``--out`` (a run on another asset set goes elsewhere)."""
        out = self.plan.default_out(policy_name, self.suite)
        return out if self.assets == DEFAULT_ASSETS else out.with_name(f"{out.name}-{self.assets}")

    @classmethod
    def build(
        cls,
        policy_spec: str,
        suite: str | Sequence[str] = ("vl-think",),
        episodes: int | None = None,
        seeds: Sequence[int] | None = None,
        protocol: str | None = None,
        shard: str | None = None,
        **options: Any,
    ) -> EvalConfig:
        """The config of these inputs (``options``: the other fields by name); bad input is a
        :class:`HarnessError` with the line ``vlthink-eval`` prints."""
        specs = (suite,) if isinstance(suite, str) else tuple(suite)
        unknown = set(options) - _OPTION_NAMES
        if unknown:
            raise HarnessError(
                f"unknown option(s) {', '.join(sorted(unknown))}. "
                f"Fix: use one of {', '.join(sorted(_OPTION_NAMES))}"
            )
        _check_choices(options)
        _check_backend(options)
        _check_stopping(options, shard)
        env_ids, tasks = resolve_envs(specs)
        n, seed_list = run_size(episodes, seeds, protocol)
        return cls(
            policy_spec=str(policy_spec),
            suite=specs,
            env_ids=tuple(env_ids),
            tasks=tasks,
            episodes=n,
            seeds=seed_list,
            shard=_shard(shard),
            **options,
        )


_OPTION_NAMES = {
    f for f in EvalConfig.__dataclass_fields__ if f not in ("policy_spec", "suite", "env_ids")
} - {"tasks", "episodes", "seeds", "shard"}
#: option -> its allowed values (what argparse's ``choices`` says on the command line).
_CHOICES = {
    "obs_mode": OBS_MODES,
    "assets": ASSET_SETS,
    "sim_backend": SIM_BACKENDS,
    "executor": EXECUTORS,
    "alternative": ALTERNATIVES,
    "adjustment": ADJUSTMENTS,
    "video_of": VIDEO_OF,
}
#: options that count something: at least 1 when given.
_POSITIVE = ("workers", "in_flight", "num_envs", "max_policy_failures", "video_first", "block")


def _check_choices(options: Mapping[str, Any]) -> None:
    for name, allowed in _CHOICES.items():
        if name in options and options[name] not in allowed:
            raise HarnessError(
                f"{name}={options[name]!r} is not one of {', '.join(allowed)}. Fix: pick one"
            )
    for name in _POSITIVE:
        value = options.get(name)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise HarnessError(f"{name} must be an integer >= 1, got {value!r}")


def _check_backend(options: Mapping[str, Any]) -> None:
    backend = options.get("sim_backend", "cpu")
    if backend == "cpu" and options.get("num_envs", 1) != 1:
        raise HarnessError("--num-envs needs --sim-backend gpu; on the CPU use --workers")
    for name in ("workers", "in_flight"):
        if backend == "gpu" and options.get(name, 1) != 1:
            flag = "--" + name.replace("_", "-")
            raise HarnessError(
                f"{flag} is for the CPU backend; with --sim-backend gpu use --num-envs"
            )


def _check_stopping(options: Mapping[str, Any], shard: str | None) -> None:
    if not options.get("stop_when_decided"):
        return
    if options.get("baseline") is None:
        raise HarnessError(
            "--stop-when-decided compares against a baseline. Fix: add --baseline RUN_DIR"
        )
    if shard or options.get("executor", "local") != "local":
        raise HarnessError(
            "--stop-when-decided decides on the whole run; it cannot run sharded or on Ray. "
            "Fix: drop --shard / --executor ray"
        )
    alpha = options.get("alpha", 0.05)
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise HarnessError(f"--alpha must be between 0 and 1, got {alpha!r}")


def _shard(text: str | None) -> tuple[int, int] | None:
    try:
        return episodes.parse_shard(text) if text else None
    except ValueError as exc:
        raise HarnessError(str(exc)) from None


def resolve_envs(specs: Sequence[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Suite names / env ids -> env ids (in order, no repeats) and their suite/group table."""
    from vlthink.envs import ids  # not the registry: this process may never make an env

    try:
        env_ids = ids.resolve_suites(specs)
    except ids.UnknownEnvError as exc:
        raise HarnessError(f"{exc}. Fix: pass --suite with one of those") from None
    return env_ids, {i: dict(zip(("suite", "group"), ids.GROUPS[i])) for i in env_ids}


def run_size(
    episodes_: int | None, seeds: Sequence[int] | None, preset: str | None
) -> tuple[int, tuple[int, ...]]:
    """(episodes per cell, seeds) from --episodes / --seed / --protocol (a preset fixes both)."""
    if episodes_ is not None and (not isinstance(episodes_, int) or episodes_ < 1):
        raise HarnessError(f"episodes must be an integer >= 1, got {episodes_!r}")
    given_seeds = _seeds(seeds)
    if preset is None:
        n = episodes_ if episodes_ is not None else DEFAULT_EPISODES
        return n, given_seeds if given_seeds is not None else DEFAULT_SEEDS
    return _preset(preset, episodes_, given_seeds)


def _seeds(seeds: Sequence[int] | None) -> tuple[int, ...] | None:
    try:
        return None if seeds is None else tuple(check_seed(s) for s in seeds)
    except ValueError as exc:
        raise HarnessError(f"--seed: {exc}. Fix: pass seeds in that range") from None


def _preset(
    preset: str, episodes_: int | None, seeds: tuple[int, ...] | None
) -> tuple[int, tuple[int, ...]]:
    """A --protocol preset's size; an --episodes or --seed that says otherwise is refused."""
    if preset not in PROTOCOL_PRESETS:
        raise HarnessError(f"unknown --protocol {preset!r}; known: {', '.join(PROTOCOL_PRESETS)}")
    n, preset_seeds = PROTOCOL_PRESETS[preset]
    spelt = " ".join(map(str, preset_seeds))
    given = [
        f"{flag} {value}"
        for flag, value, wanted in (
            ("--episodes", episodes_, n),
            ("--seed", " ".join(map(str, seeds or [])), spelt),
        )
        if value not in (None, "", wanted)
    ]
    if given:
        raise HarnessError(
            f"--protocol {preset} means {n} episodes x seeds {spelt}; "
            f"it cannot be combined with {' and '.join(given)}. Fix: drop one of them."
        )
    return n, preset_seeds
