"""How each OOD object comes to rest on the table, alone, dropped from its build pose.

    MS_ASSET_DIR=/work/shared/maniskill python bench/check_rest.py

For every object: placed 2 mm above the table in its build pose (as an episode places it), then
the physics runs for 1.5 s; printed every 0.25 s: horizontal drift (mm), height change (mm) and
tilt from upright (degrees). An object still changing after 0.5 s (the settle before step 0)
would be moving when a policy sees the first frame, and where it stops would depend on history.
Session 1's meshes: the avocado rocked between 83 and 96 degrees, the potato rolled 22 mm to 66
degrees; with the flat collision base (``vlthink.assets.parts.flat_base``) every object stays
within a few degrees, the carrot leaning ~8 degrees onto its tip.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("MS_ASSET_DIR", "/work/shared/maniskill")
import gymnasium as gym  # noqa: E402

import vlthink  # noqa: E402,F401
from vlthink.assets.objects import object_spec  # noqa: E402
from vlthink.envs.ood.placement import DROP_GAP  # noqa: E402
from vlthink.scene.widowx import TABLE_TOP_Z  # noqa: E402

SPOT = (-0.16, 0.0)  # m, the centre of the training grid
STEPS, STEP_S = 6, 0.25  # reports, seconds between them


def main() -> int:
    env = gym.make("VLThink-OOD-MultiCarrot-v0", obs_mode="state_dict")  # holds all 25 objects
    base = env.unwrapped
    env.reset(seed=0)
    named = base._named_actors()
    print(f"{'object':15s} " + " ".join(f"{STEP_S * (k + 1):>14.2f}s" for k in range(STEPS)))
    print(f"{'':15s} " + " ".join(f"{'mm/mm/deg':>15s}" for _ in range(STEPS)))
    for actor, name in named[: len(base.objects)]:
        for other, other_name in named:
            base.placement.set_rows(other, [base.placement.parked_pose(other_name)])
        z = TABLE_TOP_Z + object_spec(name).half_height
        base.placement.set_rows(actor, [[*SPOT, z + DROP_GAP, 1.0, 0.0, 0.0, 0.0]])
        base.placement.same_sleep_state([0], [{name: None}], named)
        cells = []
        for _ in range(STEPS):
            base._settle(STEP_S)
            p = actor.pose.raw_pose[0].numpy()
            w, x, y, zq = p[3:]
            tilt = np.degrees(2 * np.arccos(min(1.0, np.sqrt(w * w + zq * zq))))
            cells.append(
                f"{1000 * np.hypot(p[0] - SPOT[0], p[1] - SPOT[1]):5.1f}/"
                f"{1000 * (p[2] - z):4.1f}/{tilt:4.1f}"
            )
        print(f"{name:15s} " + " ".join(f"{c:>15s}" for c in cells))
    env.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
