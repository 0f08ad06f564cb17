"""Rejection-sampled training data: verified or voted, distinct, capped, code that ran."""

from __future__ import annotations

import json
import subprocess
import sys

from mathlens.improve import RFTConfig, rft_rows
from mathlens.improve.rft import code_ran, vote
from mathlens.records import Sample, SampleRow


def sample(completion: str, pred: str | None, correct: bool | None = None, **extra) -> Sample:
    s = {"completion": completion, "pred": pred, **extra}
    return Sample.from_dict(s if correct is None else {**s, "correct": correct}, "test", graded=False)


def as_row(d: dict) -> SampleRow:
    d = {"id": "1", "benchmark": "b", **d}
    return SampleRow.from_dict(d | {"samples": [s.to_dict() | {"pred": s.pred} for s in d["samples"]]}, "test", graded=False)


def test_only_verified_distinct_solutions_are_kept_up_to_the_cap():
    row = {"benchmark": "b", "id": "1", "question": "2+3?", "gold": "5", "samples": [
        sample("It is 5.", "5", True),
        sample("it is  5.", "5", True),  # the same text but for case and spacing
        sample("It is 6.", "6", False),
        sample("Two and three: 5.", "5", True),
        sample("Count up: 5.", "5", True),
        sample("So \\boxed{5}.", "5", True),
    ]}  # fmt: skip
    rows = list(rft_rows([as_row(row)], RFTConfig(max_per_problem=3, round=2, sampler="m", temperature=0.8)))
    assert [r["completion"] for r in rows] == ["It is 5.", "Two and three: 5.", "Count up: 5."]
    assert all(r["prompt"] == "2+3?" for r in rows)
    assert rows[0]["provenance"] == {"round": 2, "sampler": "m", "temperature": 0.8, "pass_rate": 0.8333,
                                     "label": "verified"}  # fmt: skip


def test_without_a_reference_the_majority_labels_when_it_agrees_enough():
    samples = [sample("a", "1/2"), sample("b", "0.5"), sample("c", "\\frac{1}{2}"), sample("d", "3"), sample("e", None)]
    assert vote(samples) == ("1/2", 0.6)  # equivalent answers vote together; a missing one votes for none
    row = {"question": "half?", "gold": None, "samples": samples}
    kept = list(rft_rows([as_row(row)], RFTConfig(min_agreement=0.6)))
    assert [r["completion"] for r in kept] == ["a", "b", "c"]
    assert kept[0]["provenance"]["label"] == "vote" and kept[0]["provenance"]["vote_share"] == 0.6
    assert list(rft_rows([as_row(row)], RFTConfig(min_agreement=0.7))) == []  # too little agreement


def test_tir_solutions_whose_code_failed_are_dropped():
    ok = sample("```python\nprint(5)\n```\n```output\n5\n```\n5", "5", True, tool_calls=[{"code": "print(5)", "output": "5"}])
    failed = sample("...", "5", True, tool_calls=[{"code": "print(y)", "output": "NameError: name 'y' is not defined"}])
    assert code_ran(ok) and not code_ran(failed)
    row = {"question": "q", "gold": "5", "samples": [failed, ok]}
    assert [r["completion"] for r in rft_rows([as_row(row)], RFTConfig())] == [ok.completion]
    assert len(list(rft_rows([as_row(row)], RFTConfig(require_code_ran=False)))) == 2


def test_the_cli_writes_sft_rows_mathlens_finetune_reads(tmp_path):
    samples = tmp_path / "samples.jsonl"
    rows = [{"id": str(i), "question": f"{i}+1?", "gold": str(i + 1),
             "samples": [sample(f"{i + 1}", str(i + 1), True), sample("0", "0", False)]} for i in range(3)]  # fmt: skip
    samples.write_text("".join(json.dumps(as_row(r).to_dict()) + "\n" for r in rows))
    (tmp_path / "config.json").write_text(json.dumps({"model": "ckpt.pt", "temperature": 0.7}))
    out = tmp_path / "rft.jsonl"
    done = subprocess.run([sys.executable, "-m", "mathlens.cli", "rft", "--samples", str(samples), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["prompt"], r["completion"]) for r in written] == [("0+1?", "1"), ("1+1?", "2"), ("2+1?", "3")]
    assert written[0]["provenance"]["sampler"] == "ckpt.pt" and "3 solutions from 3 problems" in " ".join(done.stdout.split())
