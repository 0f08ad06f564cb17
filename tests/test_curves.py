"""`mathlens plot`: the logs the trainers write, drawn a panel per quantity, several runs overlaid."""

import json

import pytest
import torch
from typer.testing import CliRunner

from mathlens.cli import app
from mathlens.curves import labels, plot_logs, read_log
from mathlens.errors import MathlensError
from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig
from mathlens.records import Example
from mathlens.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny_log(tmp_path_factory):
    """A real train_log.jsonl of the tiny trainer (30 steps of a 1-layer GPT on sums)."""
    out = tmp_path_factory.mktemp("tiny")
    examples = [Example(i, "addition", (a, b), f"{a}+{b}=", str(a + b), "", "train")
                for i, (a, b) in enumerate((a, b) for a in range(5) for b in range(5))]  # fmt: skip
    tok = CharTokenizer.from_texts(e.prompt + e.target for e in examples)
    torch.manual_seed(0)
    model = GPT(GPTConfig(tok.vocab_size, 16, ModelConfig(1, 2, 16)))
    train(model, tok, examples, TrainConfig(steps=30, batch_size=8, warmup_steps=2, eval_every=0), out, progress=False)
    return out / "train_log.jsonl"


def test_a_tiny_training_log_draws_its_loss_from_the_command_line(tiny_log):
    result = CliRunner().invoke(app, ["plot", str(tiny_log)])
    assert result.exit_code == 0, result.output
    png = tiny_log.parent / "curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{png}: loss of 1 log" in " ".join(result.output.split())
    assert [row["step"] for row in read_log(tiny_log)] == [10, 20, 30]


def test_logs_of_several_kinds_are_overlaid_a_panel_per_quantity(tiny_log, tmp_path):
    trl = tmp_path / "hf-grpo" / "grpo_log.json"  # as grpo_hf writes it: TRL's log rows under "log"
    trl.parent.mkdir()
    rows = [{"loss": 0.01 * s, "reward": -0.5 + 0.1 * s, "kl": 0.001 * s, "rewards/shaped_reward/mean": 0.1, "step": s}
            for s in (1, 2, 3)]  # fmt: skip
    trl.write_text(json.dumps({"config": {}, "log": rows, "resumed_from": None}))
    drawn = plot_logs([tiny_log, trl], tmp_path / "both.png")
    assert drawn.panels == ("loss", "reward", "kl") and drawn.path.stat().st_size > 1000
    assert labels([tiny_log, trl]) == [tiny_log.parent.name, "hf-grpo"]


def test_a_finetune_summary_and_same_named_folders(tmp_path):
    for r in (1, 2):
        folder = tmp_path / f"round-{r}" / "model"
        folder.mkdir(parents=True)
        (folder / "finetune_log.json").write_text(json.dumps({"config": {}, "losses": [2.0, 1.5, 1.2]}))
    paths = [tmp_path / f"round-{r}" / "model" / "finetune_log.json" for r in (1, 2)]
    assert read_log(paths[0]) == [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}, {"step": 3, "loss": 1.2}]
    assert labels(paths) == ["round-1/model", "round-2/model"]
    assert plot_logs(paths).path == tmp_path / "round-1" / "model" / "curves.png"


def test_a_file_that_is_not_a_log_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "train_log.jsonl"
    bad.write_text('{"step": 1, "loss": 2.0}\nnot json\n')
    with pytest.raises(MathlensError, match=r"train_log.jsonl:2: not valid JSON"):
        read_log(bad)
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"id": "1", "question": "q"}\n')
    with pytest.raises(MathlensError, match=r"samples.jsonl: not a training log \(no row has loss, reward"):
        read_log(samples)
    other = tmp_path / "config.json"
    other.write_text('{"model": "m"}')
    result = CliRunner().invoke(app, ["plot", str(other)])
    assert result.exit_code == 2 and "config.json: not a training log" in result.output
