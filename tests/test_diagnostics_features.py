"""`vlthink diagnose embeddings` and `probe` end to end: an image folder and VL-Think boards,
a tiny Prismatic checkpoint with random weights, resume and bad input."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vlthink.cli import main

CLASSES = {"red": (230, 20, 20), "blue": (20, 20, 230), "plate": (240, 240, 240)}  # words the
# tiny tokenizer knows, so each class name is its own token
PER_CLASS = 6

pytest_plugins = ("tiny_models",)  # the tiny-checkpoint fixtures


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name, colour in CLASSES.items():
        (root / name).mkdir()
        for i in range(PER_CLASS):
            img = np.full((96, 96, 3), 110, np.uint8)
            x, y, s = rng.integers(0, 40), rng.integers(0, 40), rng.integers(30, 56)
            img[y : y + s, x : x + s] = colour
            Image.fromarray(img).save(root / name / f"{i}.png")
    (root / "notes.txt").write_text("not a class folder")
    return root


def _rows(out):
    return (out / "items.jsonl").read_text().splitlines()


def test_embeddings_on_an_image_folder(tiny_prismatic_dir, image_dir, tmp_path):
    out = tmp_path / "emb"
    args = [
        "diagnose",
        "embeddings",
        "--model",
        str(tiny_prismatic_dir),
        "--out",
        str(out),
        "--images",
        str(image_dir),
        "--layers",
        "0",
        "2",
        "--no-progress",
    ]
    assert main(args) == 0
    scores = pd.read_csv(out / "embeddings_scores.csv").set_index(["mode", "layer"])
    assert set(scores.index) == {("token", 0), ("token", 2), ("vision", 0), ("vision", 2)}
    assert (scores["n"] == PER_CLASS * len(CLASSES)).all() and np.allclose(scores["chance"], 1 / 3)
    # the token mode embeds the class name itself: at layer 0 it separates perfectly by text alone
    assert scores.loc[("token", 0), "knn_accuracy"] == 1.0
    assert scores.loc[("vision", 0), "knn_accuracy"] > 0.8  # colours differ in pixels
    assert (out / "diagnostics_embeddings_images_vision.png").stat().st_size > 10_000
    n = len(_rows(out))
    lines = (out / "items.jsonl").read_text()
    (out / "items.jsonl").write_text(lines[: len(lines) - 25])  # a run killed mid-write
    assert main(args) == 0
    assert len(_rows(out)) == n and all(json.loads(r) for r in _rows(out))


def test_probe_on_an_image_folder(tiny_prismatic_dir, image_dir, tmp_path):
    out = tmp_path / "probe"
    assert (
        main(
            [
                "diagnose",
                "probe",
                "--model",
                str(tiny_prismatic_dir),
                "--out",
                str(out),
                "--images",
                str(image_dir),
                "--layers",
                "0",
                "--no-progress",
            ]
        )
        == 0
    )
    r = pd.read_csv(out / "probe_scores.csv").iloc[0]
    assert r["n_test"] == 2 * len(CLASSES) and r["n_train"] == 4 * len(CLASSES)
    assert r["ci_low"] <= r["top1"] <= r["ci_high"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["C"] == 1.0 and manifest["settings"]["modes"] == ["vision"]


def test_probe_on_vl_think_boards_splits_by_seed(tiny_prismatic_dir, tmp_path):
    out = tmp_path / "boards"
    assert (
        main(
            [
                "diagnose",
                "probe",
                "--model",
                str(tiny_prismatic_dir),
                "--out",
                str(out),
                "--envs",
                "Arrow",
                "--episodes",
                "3",
                "--layers",
                "0",
                "--no-progress",
            ]
        )
        == 0
    )
    rows = [json.loads(r) for r in _rows(out)]
    boards = [r for r in rows if not r.get("marker")]
    assert len(boards) == 9 and {r["position"] for r in boards} == {"left", "center", "right"}
    assert {r["class"] for r in boards} <= {"up", "down", "left", "right"}
    r = pd.read_csv(out / "probe_scores.csv").iloc[0]
    assert r["domain"] == "Arrow" and r["n_train"] == 6 and r["n_test"] == 3  # seeds 0, 1 | 2


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--images", "/nonexistent/dir"], "not a folder"),
        (["--envs", "Cooking"], "not a VL-Think env"),
        (["--question", "what is it?"], "placeholder"),
        (["--prompt-template", "USER: question"], "put {question}"),
        (["--episodes", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tiny_prismatic_dir, tmp_path, capsys, extra, message
):
    rc = main(
        [
            "diagnose",
            "embeddings",
            "--model",
            str(tiny_prismatic_dir),
            "--out",
            str(tmp_path / "x"),
            "--no-progress",
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and len(err.splitlines()) == 1


def test_a_policy_without_a_checkpoint_is_refused(tmp_path, capsys):
    rc = main(["diagnose", "attention", "--model", "openvla-sft", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and "no `checkpoint`" in err and "REST `endpoint`" in err


def test_prompt_template_reaches_the_model_and_the_settings(
    tiny_prismatic_dir, image_dir, tmp_path
):
    from vlthink.diagnostics.forward import run_pass
    from vlthink.diagnostics.models import model_ref

    ref = model_ref(str(tiny_prismatic_dir))
    assert ref.settings["prompt"] == "In: {question}\nOut:"  # OpenVLA's, the family default
    ref.prompt = "user : {question} assistant :"
    lm = ref.load()
    p = run_pass(lm, np.full((64, 64, 3), 100, np.uint8), "do you see red ?")
    words = lm.processor.tokenizer.convert_ids_to_tokens([int(i) for i in p.token_ids if i >= 0])
    assert words[-3:] == ["?", "assistant", ":"] and "user" in words
    out = tmp_path / "emb"
    base = [
        "diagnose",
        "embeddings",
        "--model",
        str(tiny_prismatic_dir),
        "--out",
        str(out),
        "--images",
        str(image_dir),
        "--modes",
        "vision",
        "--layers",
        "0",
        "--no-progress",
        "--max-per-class",
        "2",
    ]
    assert main(base) == 0 and len(_rows(out)) == 2 * len(CLASSES)
    assert main(base + ["--prompt-template", "user : {question}"]) == 2  # another protocol
    assert main(base[:-1] + ["3"]) == 0 and len(_rows(out)) == 3 * len(CLASSES)  # more items: ok
