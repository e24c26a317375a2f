"""Episode identity: what an episode *is*, independent of how a run schedules it.

An episode is the triple ``(env_id, episode, seed)``:

* ``env_id``  - the Gymnasium id (``VLThink-Traffic-v0``),
* ``episode`` - its index inside one (env, seed) cell, ``0 .. episodes-1``,
* ``seed``    - the run seed given on the command line (``--seed 0 1 2`` makes three cells per env).

The simulator is reset with :func:`episode_seed` of that triple, a stable hash (SHA-256 of a
canonical text form, first 4 bytes big-endian, so it fits ``numpy.random.RandomState``), never
Python's salted ``hash()``.  Because the scene is derived from the triple alone, two runs with the
same ``--seed`` see identical scenes whatever ``--workers``, executor, order or sharding.

``SEEDING`` names this derivation; it is part of the harness protocol (see
:data:`HARNESS_PROTOCOL`), so runs made under another derivation refuse to be paired or published
together.

Sharding (``--shard I/N``) assigns an episode to a shard by the same kind of hash, so a shard's
membership does not depend on the order episodes are listed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from vlthink.envs.ids import ANSWER_GROUPS

SEEDING = "sha256-v1"
#: Bumped whenever the meaning of an episode row changes (seed derivation, step budget, fields).
HARNESS_PROTOCOL = f"harness-1/{SEEDING}"


class EpisodeKey(NamedTuple):
    env_id: str
    episode: int
    seed: int

    def label(self) -> str:
        return f"{self.env_id}#{self.episode}@seed{self.seed}"


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def episode_seed(env_id: str, episode: int, seed: int) -> int:
    """The simulator seed of episode ``episode`` of ``env_id`` under run seed ``seed``.

    Stable across processes, machines and Python versions: ``sha256("env\\x1fepisode\\x1fseed")``,
    first four bytes as an unsigned big-endian integer (0 <= value < 2**32).
    """
    if not isinstance(episode, int) or episode < 0:
        raise ValueError(f"episode index must be a non-negative int, got {episode!r}")
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if env_id in ANSWER_GROUPS:  # episodes 2k, 2k+1: one pair's two orientations (s >> 1, s & 1)
        pair = int.from_bytes(_digest("vlthink-episode", env_id, episode // 2, seed)[:4], "big")
        return (pair & ~1) | (episode & 1)
    return int.from_bytes(_digest("vlthink-episode", env_id, episode, seed)[:4], "big")


def iter_episodes(
    env_ids: Iterable[str], episodes: int, seeds: Iterable[int]
) -> Iterator[EpisodeKey]:
    """Every episode of a run, one at a time, in a canonical order (env, seed, episode)."""
    seeds = list(seeds)
    for env_id in env_ids:
        for s in seeds:
            for ep in range(episodes):
                yield EpisodeKey(env_id, ep, s)


def plan_episodes(env_ids: Iterable[str], episodes: int, seeds: Iterable[int]) -> list[EpisodeKey]:
    """Every episode of a run as a list (a run itself walks :func:`iter_episodes`)."""
    return list(iter_episodes(env_ids, episodes, seeds))


def shard_of(key: EpisodeKey, num_shards: int) -> int:
    """The shard (0-based) an episode belongs to; independent of listing order."""
    if num_shards < 1:
        raise ValueError("num_shards must be >= 1")
    return int.from_bytes(_digest("vlthink-shard", *key)[:8], "big") % num_shards


def select_shard(keys: Iterable[EpisodeKey], index: int, num_shards: int) -> list[EpisodeKey]:
    """The episodes of shard ``index`` of ``num_shards`` (keys keep their given order)."""
    return list(iter_shard(keys, index, num_shards))


def iter_shard(keys: Iterable[EpisodeKey], index: int, num_shards: int) -> Iterator[EpisodeKey]:
    """:func:`select_shard`, one key at a time."""
    if not 0 <= index < num_shards:
        raise ValueError(f"shard index {index} out of range for {num_shards} shards")
    return (k for k in keys if shard_of(k, num_shards) == index)


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"I/N"`` (1-based on the command line, as people count) into ``(I-1, N)``."""
    try:
        i_s, n_s = text.split("/")
        i, n = int(i_s), int(n_s)
    except ValueError:
        raise ValueError(f"--shard takes I/N, e.g. 1/4; got {text!r}") from None
    if n < 1 or not 1 <= i <= n:
        raise ValueError(f"--shard {text}: need 1 <= I <= N")
    return i - 1, n
