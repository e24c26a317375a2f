"""Ray executor pieces that need no Ray (the end-to-end Ray run is in test_harness_run.py)."""

from vlthink.harness import ray_executor
from vlthink.harness.episodes import plan_episodes


def test_chunks_keep_order_size_and_never_mix_envs():
    keys = plan_episodes(["A-v0", "B-v0"], 5, [0])
    cs = ray_executor.chunks(keys, 2)
    assert [len(c) for c in cs] == [2, 2, 1, 2, 2, 1]
    assert all(len({k.env_id for k in c}) == 1 for c in cs)
    assert [k for c in cs for k in c] == keys


def test_missing_ray_is_a_clear_user_error(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **kw):
        if name == "ray":
            raise ImportError("no ray")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    try:
        ray_executor._import_ray()
    except ray_executor.HarnessError as exc:
        assert "pip install 'vlthink[ray]'" in str(exc)
    else:
        raise AssertionError("expected a HarnessError")
