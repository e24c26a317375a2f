"""What the harness does with each kind of failure: a table, :data:`DISPOSITION`.

A row is an episode's own outcome; a failure that is not the episode's doing never becomes a
row. The kinds are the worker protocol's (:data:`vlthink.harness.protocol.FAILURE_KINDS`) plus
``policy``.
"""

from __future__ import annotations

import enum


class Disposition(enum.Enum):
    RECORD = "recorded"  # the episode's own outcome: a row with the error (``--retry-errors``)
    LEAVE = "left"  # not the episode's doing: no row; the next run of the command runs it
    RETRY_ONCE = "retried"  # run again once in this run; recorded if it fails the same way
    STOP = "stop"  # nothing more can run: stop now, leave the episode


#: What the harness does with each kind of failure, and why.
DISPOSITION: dict[str, Disposition] = {
    # The env cannot be made (missing robot asset, broken install): every episode of it would
    # fail the same way, and none of that is a policy's score.
    "env_build": Disposition.STOP,
    "worker_start": Disposition.STOP,
    # An exception inside reset/step of a built env follows from the episode's seed (a layout
    # that cannot be placed, a physics blow-up): reproducible, so it is the episode's outcome.
    "env_reset": Disposition.RECORD,
    "env_step": Disposition.RECORD,
    # A step that never returns within --episode-timeout is, like an exception, the episode's.
    "timeout": Disposition.RECORD,
    # A policy call that failed (server down, malformed reply) says nothing about the episode.
    "policy": Disposition.LEAVE,
    # A worker process can be lost to the machine (OOM killer, a signal); once is bad luck,
    # twice on the same episode is the episode's.
    "worker_died": Disposition.RETRY_ONCE,
}
