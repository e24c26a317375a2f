"""In-process stand-ins for the harness's scheduling tests (no SAPIEN, milliseconds).

``ScriptedEpisodes`` speaks the worker protocol's env interface (:class:`EpisodeEnv`): an episode
succeeds when the policy pushed ``+x`` on the step its seed names, and ends (truncates) after
``length(seed)`` steps. Faults are a table keyed by episode seed or env id, so a test can make one
episode raise at step M, hang, kill its worker, or make a whole env id fail to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vlthink.harness.episodes import EpisodeKey, episode_seed
from vlthink.harness.worker import InProcessWorker, Ready, Stepped, Unresponsive
from vlthink.policies.base import Observation, PolicyBase

STEPS = 6
POSITIONS = ("left", "center", "right")


@dataclass(frozen=True)
class Fault:
    kind: str  # "raise" (env_step error), "raise_reset", "hang", "die"
    at_step: int = 0  # the step whose request faults (0 = the reset)
    times: int = 10**9  # how many times it happens (a "die" once, then fine: a lost worker)


@dataclass
class Faults:
    by_seed: dict[int, Fault] = field(default_factory=dict)
    build_fails: set[str] = field(default_factory=set)
    hits: dict[int, int] = field(default_factory=dict)

    def for_key(self, key: EpisodeKey, fault: Fault) -> Faults:
        self.by_seed[episode_seed(*key)] = fault
        return self

    def fire(self, seed: int, step: int) -> None:
        f = self.by_seed.get(seed)
        if f is None or f.at_step != step or self.hits.get(seed, 0) >= f.times:
            return
        self.hits[seed] = self.hits.get(seed, 0) + 1
        if f.kind in ("hang", "die"):
            raise Unresponsive("timeout" if f.kind == "hang" else "worker_died")
        raise RuntimeError(f"scripted {f.kind} at step {step}")


def target_step(seed: int) -> int:
    """The step on which the episode of this seed can be won."""
    return 1 + seed % (STEPS - 2)


def length(seed: int) -> int:
    """Episodes end after STEPS - 1 or STEPS steps, so that slots free at different times."""
    return STEPS - seed % 2


class ScriptedEpisodes:
    """``num_envs`` scripted episodes of one env id, in lock-step."""

    def __init__(self, env_id: str, num_envs: int = 1, faults: Faults | None = None):
        self.faults = faults or Faults()
        if env_id in self.faults.build_fails:
            raise FileNotFoundError(f"scripted build failure of {env_id}")
        self.env_id, self.num_envs = env_id, num_envs
        self.seeds: list[int] = []
        self.steps = 0
        self.closed = False

    def _obs(self, i: int) -> Observation:
        seed = self.seeds[i]
        image = np.full((32, 32, 3), seed % 251, np.uint8)
        image[:, : 4 * (seed % 8)] = 255  # something to see in a video
        return Observation(
            image=image,
            instruction=f"touch {seed % 7}",
            step=self.steps,
            privileged={"seed": np.array(seed)},
        )

    def reset(self, episode_seeds: list[int]) -> list[Ready]:
        self.seeds, self.steps = list(episode_seeds), 0
        for s in self.seeds:
            self.faults.fire(s, 0)
        return [
            Ready(
                self._obs(i),
                {
                    "instruction": f"touch {s % 7}",
                    "target": str(s % 7),
                    "target_position": POSITIONS[s % 3],
                    "absent": "nothing",
                },
            )
            for i, s in enumerate(self.seeds)
        ]

    def step(self, actions: np.ndarray) -> list[Stepped]:
        self.steps += 1
        actions = np.asarray(actions).reshape(self.num_envs, 7)
        out = []
        for i, s in enumerate(self.seeds):
            self.faults.fire(s, self.steps)
            hit = self.steps == target_step(s) and actions[i, 0] > 0
            grasped = self.steps < target_step(s)  # held until the step it can be won
            out.append(
                Stepped(self._obs(i), bool(hit), 1 if hit else 0, self.steps >= length(s), grasped)
            )
        return out

    def close(self) -> None:
        self.closed = True


def workers(k: int, faults: Faults | None = None) -> list[InProcessWorker]:
    faults = faults or Faults()
    return [
        InProcessWorker(lambda env_id, _obs_mode, _assets: ScriptedEpisodes(env_id, 1, faults))
        for _ in range(k)
    ]


class SeedPolicy(PolicyBase):
    """Pushes +x exactly on the step its episode's seed names: success iff it sees the step."""

    name = "seed-policy"
    uses_images = False

    def __init__(self, fail_calls: tuple[int, ...] = ()):
        self.calls = 0
        self.fail_calls = set(fail_calls)  # act() call numbers (1-based) that raise
        self.specs: dict[int, object] = {}
        self.resets = 0

    def reset(self, episodes):
        self.resets += 1
        self.specs = dict(enumerate(episodes))

    def act(self, observations):
        self.calls += 1
        if self.calls in self.fail_calls:
            raise ConnectionError("scripted policy server failure")
        return seed_actions(observations)


def seed_actions(observations) -> np.ndarray:
    """+x exactly on the step each observation's seed names."""
    out = np.zeros((len(observations), 7), np.float32)
    for j, o in enumerate(observations):
        if o is not None and o.step + 1 == target_step(int(o.privileged["seed"])):
            out[j, 0] = 1.0
    return out


class SlotSeedPolicy(SeedPolicy):
    per_slot_reset = True

    def reset_slots(self, slots, episodes):
        self.resets += 1
        self.specs.update(zip(slots, episodes))


class YesProbe(PolicyBase):
    """Says yes, on the left, to everything (a degenerate VLM)."""

    name = "yes-probe"
    kind = "probe"

    def probe(self, episodes, observations):
        return [
            {
                "success": e.task["target_position"] == "left",
                "said_yes": True,
                "position": "left",
                "absent_correct": False,
            }
            for e in episodes
        ]


class FreeSeedPolicy(SlotSeedPolicy):
    """The seed policy as a scripted one declares itself: the workers run free of each other."""

    batched_act = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_sizes: list[int] = []  # observations (not None) per act() call

    def act(self, observations):
        self.batch_sizes.append(sum(o is not None for o in observations))
        return super().act(observations)


class WorkerSeedPolicy(FreeSeedPolicy):
    """The seed policy as it runs in the worker: each episode gets a pickled copy of it.

    ``fail_seeds``: episodes (by seed) whose ``act`` raises on their second step.
    """

    runs_in_worker = True

    def __init__(self, fail_seeds: tuple[int, ...] = ()):
        super().__init__()
        self.fail_seeds = set(fail_seeds)

    def act(self, observations):
        for o in observations:
            if o is not None and o.step == 1 and int(o.privileged["seed"]) in self.fail_seeds:
                raise ConnectionError("scripted policy failure in the worker")
        return super().act(observations)


class Watch:
    """Counts requests in flight per worker (``TurnTaking`` slots share a worker)."""

    def __init__(self, lanes: int):
        self.lanes = lanes
        self.in_flight: dict[int, int] = {}
        self.most = 0  # the most requests one worker ever had in flight
        self.busy_while_acting: list[int] = []  # requests in flight at each act() call

    def sent(self, slot: int, delta: int) -> None:
        w = slot // self.lanes
        self.in_flight[w] = self.in_flight.get(w, 0) + delta
        self.most = max(self.most, self.in_flight[w])


@dataclass
class TurnTaking:
    """A worker that does its work when its reply is awaited, as a process does while the parent
    waits, taking ``seconds`` a request; an answer later than the deadline is a timeout."""

    inner: InProcessWorker
    slot: int
    watch: Watch
    seconds: float = 0.0
    _request: object = None

    def start(self) -> None:
        pass

    def wait_started(self) -> None:
        pass

    def send(self, request) -> None:
        self._request = request
        self.watch.sent(self.slot, +1)

    def has_reply(self) -> bool:
        return self._request is not None

    def handles(self) -> list:
        return []

    def receive(self, deadline: float):
        import time

        from vlthink.harness.worker import Failed

        request, self._request = self._request, None
        self.watch.sent(self.slot, -1)
        late = time.monotonic() + self.seconds > deadline
        time.sleep(max(0.0, min(self.seconds, deadline - time.monotonic())))
        if late:
            self.kill()
            return Failed("timeout", "no answer within the deadline")
        self.inner.send(request)
        return self.inner.receive(deadline)

    def kill(self) -> None:
        self.inner.kill()

    def ask_to_close(self) -> None:
        pass

    def close(self) -> None:
        self.inner.close()


def turn_taking(k: int, lanes: int, faults: Faults | None = None, seconds: float = 0.0):
    """``k`` workers of ``lanes`` slots each, and the watch that counts their requests."""
    watch = Watch(lanes)
    slots = [TurnTaking(w, i, watch, seconds) for i, w in enumerate(workers(k * lanes, faults))]
    return slots, watch


class ServerSeedPolicy(SlotSeedPolicy):
    """The seed policy as a model server's client declares itself: ``act`` may run in several
    threads at once, each call taking ``seconds``; counts how many ran at once."""

    concurrent_act = True

    def __init__(self, fail_calls: tuple[int, ...] = (), seconds: float = 0.005):
        import threading

        super().__init__(fail_calls)
        self.seconds = seconds
        self.now = self.most = 0
        self._lock = threading.Lock()

    def act(self, observations):
        import time

        with self._lock:
            self.now, self.calls = self.now + 1, self.calls + 1
            self.most, call = max(self.most, self.now), self.calls
        time.sleep(self.seconds)
        with self._lock:
            self.now -= 1
        if call in self.fail_calls:
            raise ConnectionError("scripted policy server failure")
        return seed_actions(observations)
