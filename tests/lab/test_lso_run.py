"""A small end-to-end Leave-Square-Out run through the library and the CLI."""

import json

import pytest
from typer.testing import CliRunner

from mathlens.cli import app
from mathlens.config import resolve
from mathlens.lab.lso import LSOConfig, run_lso, run_sweep
from mathlens.records import read_examples

SMALL = dict(
    range="0-19",
    center="10,10",
    radius="2",
    n_layer=1,
    n_head=2,
    n_embd=32,
    steps=60,
    batch_size=64,
    lr=3e-3,
    warmup_steps=10,
    eval_every=30,
)


def test_lso_writes_every_artefact(tmp_path):
    cfg = resolve(LSOConfig, **SMALL, out=str(tmp_path), control=True)
    m = run_lso(cfg, progress=False)
    for name in (
        "heatmap.png",
        "metrics.json",
        "examples.jsonl",
        "predictions.jsonl",
        "ckpt.pt",
        "train_log.jsonl",
        "control/ckpt.pt",
    ):
        assert (tmp_path / name).exists(), name
    assert (m["n_train"], m["n_test"]) == (400 - 25, 25)
    for key in ("train_acc", "test_acc", "random_acc"):
        assert 0.0 <= m[key] <= 1.0
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["config"]["radius"] == [2] and saved["train_acc"] == m["train_acc"]
    examples = read_examples(tmp_path / "examples.jsonl")
    assert len(examples) == 400 and sum(e.split == "test" for e in examples) == 25
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 400
    assert sum(r["correct"] for r in rows if r["split"] == "train") / 375 == pytest.approx(m["train_acc"])
    assert {r["depth"] for r in rows if r["split"] == "test"} == {0, 1, 2}


def test_same_seed_same_numbers(tmp_path):
    a = run_lso(resolve(LSOConfig, **SMALL, out=str(tmp_path / "a"), control=False), progress=False)
    b = run_lso(resolve(LSOConfig, **SMALL, out=str(tmp_path / "b"), control=False), progress=False)
    assert a["train_acc"] == b["train_acc"] and a["acc_by_depth"] == b["acc_by_depth"]
    pa = (tmp_path / "a" / "predictions.jsonl").read_text()
    assert pa == (tmp_path / "b" / "predictions.jsonl").read_text()


def test_paper_folder_trains_as_it_is(tmp_path, paper_dir):
    folder = paper_dir / "addition" / "1hole_50-50_8_289_0-100"
    cfg = resolve(
        LSOConfig, data=str(folder), n_layer=1, n_head=2, n_embd=16, steps=2, control=False, out=str(tmp_path)
    )
    m = run_lso(cfg, progress=False)
    assert (m["n_train"], m["n_test"]) == (9711, 289)
    assert m["squares"] == ["(50,50) r=8"]


def test_sweep_draws_one_point_per_size_and_centre(tmp_path):
    cfg = resolve(
        LSOConfig, **{**SMALL, "steps": 5, "radius": "1,2", "center": "6,6;13,13"}, control=False, out=str(tmp_path)
    )
    rows = run_sweep(cfg, progress=False)
    assert [(r["center"], r["side"]) for r in rows] == [("6,6", 3), ("6,6", 5), ("13,13", 3), ("13,13", 5)]
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    assert len(json.loads((tmp_path / "sweep.json").read_text())["rows"]) == 4


def test_cli_lso_prints_the_summary(tmp_path):
    args = [
        "lso",
        "--range",
        "0-11",
        "--center",
        "6,6",
        "--radius",
        "1",
        "--steps",
        "3",
        "--n-layer",
        "1",
        "--n-embd",
        "16",
        "--n-head",
        "2",
        "--no-control",
        "--quiet",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "train_acc" in result.stdout and "heatmap.png" in result.stdout


def test_compare_draws_two_sweeps_that_differ_in_the_model_alone(tmp_path, capsys):
    from mathlens.lab.compare import main

    folders = []
    for width in (16, 32):
        folder = tmp_path / f"w{width}"
        knobs = {**SMALL, "steps": 3, "radius": "1,2", "n_embd": width}
        cfg = resolve(LSOConfig, **knobs, control=False, out=str(folder))
        run_sweep(cfg, progress=False)
        folders.append(str(folder))
    main([*folders, "--out", str(tmp_path / "sizes.png")])
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("| 1×")]
    assert [row.split(" | ")[1] for row in rows] == ["3 (1)", "5 (2)"] * 2, printed
    assert rows[0].startswith("| 1×16 |") and rows[2].startswith("| 1×32 |")  # each sweep named by its own model
    assert (tmp_path / "sizes.png").stat().st_size > 1000
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nothing"), "--out", str(tmp_path / "x.png")])
    assert "no sweep.json" in capsys.readouterr().err
