"""The tables in the docs are made from the rows that carry the behaviour, and stay current."""

from __future__ import annotations

import subprocess
import sys

from vlthink.envs import registry, vl_think
from vlthink.envs.ood import variants
from vlthink.paths import REPO_DIR


def test_the_task_tables_in_the_docs_are_made_from_the_rows():
    readme = (REPO_DIR / "docs" / "tasks.md").read_text()
    assert vl_think.markdown_table() in readme, "regenerate with vl_think.markdown_table()"
    assert variants.markdown_table() in readme, "regenerate with variants.markdown_table()"


def test_variants_docstring_table_is_made_from_the_rows():
    assert variants.rst_table() in variants.__doc__, "regenerate with variants.rst_table()"


def test_every_row_is_registered_once_with_its_summary():
    assert [t.domain for t in vl_think.TASKS] == [i.group for i in registry.VL_THINK_TASKS.values()]
    assert [v.name for v in variants.VARIANTS] == [
        i.env_id.split("-")[2] for i in registry.OOD_TASKS.values()
    ]
    assert all(i.summary for i in {**registry.VL_THINK_TASKS, **registry.OOD_TASKS}.values())


def test_import_registers_the_ids_without_importing_the_envs():
    """``import vlthink`` is cheap (the harness's parent starts its workers right after it);
    the first ``gym.make`` imports the envs and builds the same wrappers as ManiSkill's
    registration."""
    code = (
        "import sys, vlthink, gymnasium as gym\n"
        "heavy = [m for m in ('torch', 'sapien', 'mani_skill') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "spec = gym.spec('VLThink-OOD-Train-v0')\n"
        "assert spec.max_episode_steps == 80 and spec.disable_env_checker\n"
        "env = gym.make('VLThink-Shape-v0', obs_mode='state_dict')\n"
        "print(env, len(vlthink.OOD_TASKS), len(vlthink.VL_THINK_TASKS))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.split()
    # what ManiSkill's own registration gives (its TimeLimit wrapper outside the order check)
    assert out[0] == "<TimeLimitWrapper<OrderEnforcing<VLThinkShapeEnv<VLThink-Shape-v0>>>>"
    assert out[1:] == ["14", "8"]


def test_the_id_list_and_the_task_tables_must_agree(monkeypatch):
    from vlthink.envs import ids

    registry.check_ids()  # as shipped
    wrong_axis = {**ids.GROUPS, "VLThink-OOD-PosChangeTo-v0": ("ood", "Vision")}
    missing = dict(list(ids.GROUPS.items())[:-1])
    for groups in (wrong_axis, missing):
        monkeypatch.setattr(ids, "GROUPS", groups)
        try:
            registry.check_ids()
        except RuntimeError as exc:
            assert "VLThink-OOD-PosChangeTo-v0" in str(exc) and "vlthink.envs.ids" in str(exc)
        else:
            raise AssertionError(f"{groups} was not noticed")


def test_envs_command_prints_every_row():
    out = subprocess.run(
        [sys.executable, "-m", "vlthink.cli", "envs"], capture_output=True, text=True, timeout=180
    ).stdout
    for info in {**registry.VL_THINK_TASKS, **registry.OOD_TASKS}.values():
        assert info.env_id in out and info.summary in out


def test_resolve_suites_expands_suites_in_order_without_repeats():
    ids = registry.resolve_suites(["VLThink-Parity-v0", "vl-think", "ood"])
    assert ids[0] == "VLThink-Parity-v0" and len(ids) == len(set(ids)) == 22
    assert registry.resolve_suites(["all"]) == [*registry.VL_THINK_TASKS, *registry.OOD_TASKS]


def test_unknown_suite_names_the_spec_its_close_matches_and_the_valid_ones():
    try:
        registry.resolve_suites(["VLThink-Trafic-v0"])
    except registry.UnknownEnvError as exc:
        assert isinstance(exc, ValueError)
        msg = str(exc)
        assert "'VLThink-Trafic-v0'" in msg and "did you mean VLThink-Traffic-v0" in msg
        assert "vl-think, ood, all" in msg and "VLThink-OOD-Train-v0" in msg
    else:
        raise AssertionError("no UnknownEnvError")


def test_the_layout_table_in_the_docs_names_every_package():
    readme = (REPO_DIR / "docs" / "layout.md").read_text()
    layout = readme[readme.index("# Layout of the repository") :]
    packages = [p.parent.name for p in (REPO_DIR / "vlthink").glob("*/__init__.py")]
    missing = [name for name in packages if f"`vlthink/{name}/`" not in layout]
    assert packages and not missing, f"add a row to the layout table (docs/layout.md) for {missing}"
