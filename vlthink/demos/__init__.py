"""Expert demonstrations as LeRobot datasets: ``vlthink demos`` (record, replay, info, convert).

Recording runs on the harness's executor (:mod:`vlthink.harness.executor`): workers, batched
policy calls, classified failures. Each finished attempt is processed (idle steps dropped, cut
after success, successes only: :mod:`.processing`), staged as its own files, and committed to
the dataset in attempt order, so the same command always yields the same dataset whatever the
number of workers (:mod:`.store`). The layout written is LeRobot's published v2.1 one
(:mod:`.layout`, the default: openpi reads it) or, with ``--format v3.0``, v3.0 (:mod:`.layout30`,
:mod:`.store30`: lerobot >= 0.4 reads it); videos are H.264 (:mod:`vlthink.video`).
"""
