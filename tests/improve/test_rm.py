"""The tiny reward model: it learns to order a planted right/wrong pair, and `rm score` feeds `report`'s rm@k."""

import json
import random

import pytest
from typer.testing import CliRunner

from mathlens.cli import app
from mathlens.errors import MathlensError
from mathlens.improve.rm import RMConfig, load_reward_model, ranking_accuracy, score_rows, train_reward_model
from mathlens.models import ModelConfig, build_model, save_checkpoint
from mathlens.records import SampleRow, write_jsonl, write_sample_rows


def planted(n: int, seed: int) -> list[SampleRow]:
    """Problems whose right samples end 'ok' and wrong ones 'no' (shuffled, two of each)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a = rng.randint(1, 9)
        samples = [{"completion": f"{a}+{a}={2 * a} ok", "pred": str(2 * a), "correct": True},
                   {"completion": f"{a}+{a}={2 * a + 1} no", "pred": str(2 * a + 1), "correct": False},
                   {"completion": f"{a}*2={2 * a} ok", "pred": str(2 * a), "correct": True},
                   {"completion": f"{a}*2={a} no", "pred": str(a), "correct": False}]  # fmt: skip
        rng.shuffle(samples)
        rows.append(SampleRow.from_dict({"benchmark": "p", "id": str(i), "question": f"What is {a} twice?",
                                         "gold": str(2 * a), "meta": {}, "samples": samples}, "test"))  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("policy")
    texts = ["What is 9 twice?\n9*2=18 ok no+"]
    model, tok = build_model(texts, ModelConfig(1, 2, 32, "rope"), 0)
    save_checkpoint(folder / "ckpt.pt", {"model": model.state_dict(), "model_config": model.config.to_dict(),
                                          "tokenizer": tok.to_dict(), "extra": {}})  # fmt: skip
    return folder


def test_training_orders_a_planted_right_and_wrong_pair(policy, tmp_path):
    log = train_reward_model(policy, planted(40, 0), RMConfig(steps=60, problems_per_step=8, lr=3e-3), tmp_path,
                             progress=False)  # fmt: skip
    assert log["problems"] == 40 and log["losses"][-1] < log["losses"][0]
    held_out = planted(10, 1)
    score_rows(load_reward_model(tmp_path), held_out)
    assert ranking_accuracy(held_out)["pairwise_accuracy"] == 1.0


def test_rm_train_reports_its_loss_to_tensorboard(policy, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    samples = tmp_path / "samples.jsonl"
    write_sample_rows(samples, planted(8, 0))
    args = ["rm", "train", "--policy", str(policy), "--samples", str(samples), "--out", str(tmp_path / "rm"),
            "--steps", "3", "--problems-per-step", "4", "--report-to", "tensorboard", "--quiet"]  # fmt: skip
    trained = CliRunner().invoke(app, args)
    assert trained.exit_code == 0, trained.output
    events = EventAccumulator(str(tmp_path / "rm" / "tb"))
    events.Reload()
    from mathlens.models import load_checkpoint

    losses = load_checkpoint(tmp_path / "rm" / "rm.pt")["losses"]
    expected = {step: pytest.approx(loss, abs=1e-6) for step, loss in enumerate(losses, 1)}
    assert {e.step: e.value for e in events.Scalars("loss")} == expected


def test_samples_without_signal_are_an_error(policy, tmp_path):
    rows = planted(3, 0)
    for row in rows:
        for s in row.samples:
            s.correct = True
    with pytest.raises(MathlensError, match="nothing for a reward model to learn"):
        train_reward_model(policy, rows, RMConfig(steps=1), tmp_path, progress=False)


def test_rm_score_then_report_shows_rm_at_k(policy, tmp_path):
    runner = CliRunner()
    train_path, eval_path = tmp_path / "train.jsonl", tmp_path / "eval" / "samples.jsonl"
    write_sample_rows(train_path, planted(40, 0))
    write_sample_rows(eval_path, planted(10, 1))
    trained = runner.invoke(app, ["rm", "train", "--policy", str(policy), "--samples", str(train_path),
                                  "--out", str(tmp_path / "rm"), "--steps", "60", "--lr", "3e-3", "--quiet"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert json.loads((tmp_path / "rm" / "provenance.json").read_text())["kind"] == "rm"
    scored = runner.invoke(app, ["rm", "score", "--model", str(tmp_path / "rm"), "--samples", str(eval_path)])
    assert scored.exit_code == 0 and "right over wrong within a problem 100.0%" in scored.output
    assert all("reward" in s for line in eval_path.read_text().splitlines() for s in json.loads(line)["samples"])
    shown = runner.invoke(app, ["report", str(tmp_path / "eval")])
    assert shown.exit_code == 0 and "rm@4" in shown.output and "100.0%" in shown.output


def test_eval_with_a_reward_model_scores_as_it_samples(policy, tmp_path):
    runner = CliRunner()
    write_sample_rows(tmp_path / "train.jsonl", planted(20, 0))
    assert runner.invoke(app, ["rm", "train", "--policy", str(policy), "--samples", str(tmp_path / "train.jsonl"),
                               "--out", str(tmp_path / "rm"), "--steps", "5", "--quiet"]).exit_code == 0  # fmt: skip
    bench = tmp_path / "bench.jsonl"
    write_jsonl(bench, [{"question": f"What is {a} twice?", "answer": str(2 * a)} for a in range(1, 4)])
    result = runner.invoke(app, ["eval", "--backend", "tiny", "--model", str(policy / "ckpt.pt"), "--benchmark", str(bench),
                                 "--prompt", "plain", "-n", "2", "--temperature", "0.8", "--max-tokens", "6",
                                 "--rm", str(tmp_path / "rm"), "--out", str(tmp_path / "eval"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rm@2" in json.loads((tmp_path / "eval" / "metrics.json").read_text())["bench"]
    missing = runner.invoke(app, ["eval", "--backend", "tiny", "--model", str(policy / "ckpt.pt"), "--benchmark",
                                  str(bench), "--rm", str(tmp_path / "nowhere"), "--out", str(tmp_path / "e2")])  # fmt: skip
    assert missing.exit_code == 2 and not (tmp_path / "e2").exists()


def test_a_hugging_face_reward_model_behind_the_same_interface(tmp_path):
    """A random GPT-2 becomes a one-label sequence classifier, learns the planted order, scores like the tiny one."""
    pytest.importorskip("transformers")
    from mathlens.improve.rm_hf import HFScorer
    from mathlens.models.hf import save_random_char_gpt2

    save_random_char_gpt2(tmp_path / "policy")
    log = train_reward_model(str(tmp_path / "policy"), planted(40, 0), RMConfig(steps=40, problems_per_step=8, lr=1e-3),
                             tmp_path / "rm", progress=False)  # fmt: skip
    assert log["losses"][-1] < log["losses"][0]
    scorer = load_reward_model(tmp_path / "rm")
    assert isinstance(scorer, HFScorer) and scorer.model.config.num_labels == 1
    held_out = planted(10, 1)
    score_rows(scorer, held_out)
    assert ranking_accuracy(held_out)["pairwise_accuracy"] == 1.0
