"""A reward model scores inside run_eval: every sample carries its reward as written, and every
metrics table (overall and per subject) has rm@k."""

import json

import pytest

from mathlens.errors import MathlensError
from mathlens.evals import EvalConfig, run_eval


class TwoAnswers:
    """One right and one wrong answer to every sum, the wrong one first."""

    name = "stub"

    def generate(self, prompts, sampling):
        out = []
        for p in prompts:
            a, b = (int(x) for x in p.split("What is ")[-1].split("?")[0].split(" + "))
            out.append([f"\\boxed{{{a + b + 1}}}", f"so \\boxed{{{a + b}}}"][: sampling.n])
        return out


class LongerIsBetter:
    def score(self, questions, completions):
        return [float(len(c)) for c in completions]


@pytest.fixture
def problems(tmp_path):
    path = tmp_path / "mini.jsonl"
    rows = [{"question": f"What is {a} + {b}?", "answer": a + b, "subject": s} for a, b, s in [(2, 3, "x"), (1, 1, "y")]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_rewards_are_written_with_the_samples_and_every_table_has_rm_at_k(problems, tmp_path):
    cfg = EvalConfig(backend="stub", model="stub", benchmark=str(problems), n=2, rm="rm-folder", prompt="plain",
                     out=str(tmp_path / "run"))  # fmt: skip
    metrics = run_eval(cfg, progress=False, backend=TwoAnswers(), scorer=LongerIsBetter())
    rows = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert all("reward" in s for row in rows for s in row["samples"])
    assert metrics["mini"]["rm@2"] == 1.0 and metrics["mini"]["maj@2"] < 1.0
    by_subject = json.loads((tmp_path / "run" / "metrics_by_subject.json").read_text())
    assert all(m["rm@2"] == 1.0 for m in by_subject.values())


def test_an_rm_without_its_scorer_is_an_error_before_any_sampling(problems, tmp_path):
    cfg = EvalConfig(backend="stub", model="stub", benchmark=str(problems), rm="rm-folder", out=str(tmp_path / "run"))
    with pytest.raises(MathlensError, match="pass its scorer"):
        run_eval(cfg, progress=False, backend=TwoAnswers())
    assert not (tmp_path / "run").exists()
