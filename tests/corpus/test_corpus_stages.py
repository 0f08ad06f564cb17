"""The corpus stages that call a model, and the corpus commands, through the CLI.

`mathlens corpus run` runs once (module fixture) on the shared docstring corpus with rating and
synthesis on: the model behind both is ``FixedCurator``, a real Backend whose replies the
prompt decides, so what the stages make from them is known; everything else (the sample, the
ratings file, the fastText quality classifier and its filter, the synthesis vote, its
decontamination, the stats) is the pipeline's own. `corpus report --truth` scores that run;
`build-demo` and `toy-model` run on small inputs.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("datatrove")
pytest.importorskip("fasttext")

from typer.testing import CliRunner  # noqa: E402

from mathlens.backends import Sampling  # noqa: E402
from mathlens.backends.base import BackendBase  # noqa: E402
from mathlens.cli import app  # noqa: E402
from mathlens.corpus import pipeline as pl  # noqa: E402

from .conftest import QUOTED  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MAX_CHARS = 3000  # what the rater sees of a page
SYNTH_CHARS = 2000  # what the synthesizer sees of a page (SynthTemplates' default)


def stars(text: str) -> int:
    """The fixed rater's score in the run: pages with worked examples are worth keeping (4),
    others not (1)."""
    return 4 if "examples" in text[:MAX_CHARS].lower() else 1


def quotes(head: str) -> bool:
    """Whether the fixed synthesizer answers a page's ``Q:`` prompt with the benchmark problem
    (about a third of the pages, fixed by their text)."""
    return sum(map(ord, head)) % 3 == 0


def addend(question: str) -> int:
    return int(question.split("What is ")[1].split(" ")[0])


class FixedCurator(BackendBase):
    """Rates (``R:`` prompts), asks (``Q:``) and answers (``A:``) by fixed rules; replies open
    with a blank line, as SmolLM2's do, which the stages must see past."""

    name = "fixed"

    def __init__(self, rule=stars) -> None:
        self.rule = rule
        self.calls: list[tuple[str, Sampling]] = []

    def generate(self, prompts: list[str], sampling: Sampling, keys=None) -> list[list[str]]:
        replies = []
        for prompt in prompts:
            kind, text = prompt[:2], prompt[2:]
            if kind == "R:":
                replies.append([f"\n {self.rule(text.removesuffix(chr(10) + 'S:'))} of 5"] * sampling.n)
            elif kind == "Q:":
                question = QUOTED if quotes(text.removesuffix("\nP:")) else f"What is {len(text) % 50} + 2?"
                replies.append([f"\n{question}\n\nAnd more text after the question."] * sampling.n)
            else:  # three of four answers agree: a majority
                right = f"Adding them up.\nThe answer is {addend(prompt) + 2 if 'What is ' in prompt else 72}."
                replies.append([right] * (sampling.n - 1) + ["The answer is 0."])
        self.calls += [(prompts[0][:2], sampling)] if prompts else []
        return replies


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus):
    """`mathlens corpus run --config` with rating and synthesis through a FixedCurator."""
    root = tmp_path_factory.mktemp("run")
    (root / "rate.yaml").write_text(yaml.safe_dump({"template": "R:{text}\nS:", "max_chars": MAX_CHARS}))
    (root / "synth.yaml").write_text(yaml.safe_dump({"question": "Q:{text}\nP:", "answer": "A:{question}\n"}))
    config = {
        "inputs": [str(corpus / "pool")], "positives": str(corpus / "seed" / "positives.jsonl"),
        "negatives": str(corpus / "seed" / "negatives.jsonl"), "heldout": str(corpus / "heldout.jsonl"),
        "out": str(root / "out"), "cycles": 1, "decontaminate": [str(corpus / "bench.jsonl")],
        "rater": {"backend": "fixed", "model": "fixed", "template": str(root / "rate.yaml")},
        "quality": {"sample": 400, "keep_at": 3},
        "synthesizer": {"backend": "fixed", "model": "fixed", "template": str(root / "synth.yaml"), "max_docs": 12},
        "synthesis": {"samples": 4, "agree": 0.5},
        "executor": {"kind": "local", "tasks": 2, "workers": 2},
    }
    (root / "corpus.yaml").write_text(yaml.safe_dump(config))
    curator = FixedCurator()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pl, "open_model", lambda stage: curator)
        done = CliRunner().invoke(app, ["corpus", "run", "--config", str(root / "corpus.yaml"), "--quiet"])
    assert done.exit_code == 0, done.output
    out = root / "out"
    return {"out": out, "output": done.output, "curator": curator, "stats": json.loads((out / "stats.json").read_text())}


def docs(folder: Path) -> dict[str, dict]:
    return {d["id"]: d for d in pl.read_docs(folder)}


def test_the_run_prints_every_stage_and_draws_the_funnel(run):
    for stage in ("read", "cycle-1-recall", "cycle-1-expand", "exact-filter", "minhash-filter", "decontaminate",
                  "quality", "synthesis"):
        assert stage in run["output"] and run["stats"][stage]["done"], stage
    assert (run["out"] / "funnel.png").stat().st_size > 5_000


def test_the_rater_rates_every_clean_page_greedily_from_its_first_line(run):
    clean = docs(run["out"] / "clean")
    rows = [json.loads(line) for line in (run["out"] / "quality" / "ratings.jsonl").read_text().splitlines()]
    assert len(rows) == len(clean) == run["stats"]["quality"]["llm_rated"]  # sample 400 > pages: all of them
    assert {r["id"] for r in rows} == set(clean)
    assert all(r["rating"] == stars(clean[r["id"]]["text"]) for r in rows)  # " 4 of 5" after a blank line: 4
    (kind, sampling), *_ = run["curator"].calls
    assert kind == "R:" and sampling.temperature == 0 and sampling.n == 1


def test_the_quality_stage_keeps_the_pages_its_classifier_scores_at_half_or_more(run):
    """The classifier trained on the ratings (here on too few pages to learn much: the filter's
    judgement is tested on its own below) scores every clean page; the stage keeps those at 0.5."""
    from mathlens.corpus.rate import keep_scores
    from mathlens.corpus.recall import load_fasttext

    clean, kept = docs(run["out"] / "clean"), docs(run["out"] / "quality" / "kept")
    quality = run["stats"]["quality"]
    scores = keep_scores(load_fasttext(quality["classifier"]["model"]), [d["text"] for d in clean.values()])
    assert set(kept) == {i for i, score in zip(clean, scores) if score >= 0.5}
    assert all(kept[i]["metadata"]["quality_score"] == pytest.approx(s, abs=1e-5) for i, s in zip(clean, scores)
               if i in kept)
    assert quality["docs_in"] == len(clean) and quality["docs_out"] == len(kept) >= 12
    summary = quality["classifier"]
    assert summary["parsed"] == summary["rated"] == len(clean) and summary["train"] + summary["heldout"] == len(clean)
    assert summary["llm_keep_share"] == pytest.approx(sum(stars(d["text"]) >= 3 for d in clean.values()) / len(clean))


def test_the_quality_filter_drops_pages_the_rater_rated_low(tmp_path, pages):
    """Rated through a backend, a classifier learns the rater's call on 120 pages; the filter
    step then keeps the math pages it never saw and drops the general ones."""
    from datatrove.data import Document

    from mathlens.corpus.rate import QualityConfig, QualityFilter, Template, rate, train_quality

    math, general = pages["math"], pages["general"]
    good = {p["text"][:MAX_CHARS] for p in math}
    rater = FixedCurator(rule=lambda text: 4 if text in good else 1)
    texts = [p["text"] for p in math[:60] + general[:60]]
    ratings = rate(rater, texts, Template("R:{text}\nS:", MAX_CHARS))
    assert ratings == [4] * 60 + [1] * 60
    summary = train_quality(texts, ratings, tmp_path, QualityConfig())
    unseen = [Document(text=p["text"], id=f"math-{i}") for i, p in enumerate(math[60:90])]
    unseen += [Document(text=p["text"], id=f"general-{i}") for i, p in enumerate(general[60:90])]
    kept = [d.id for d in QualityFilter(summary["model"]).run(iter(unseen))]
    n_math, n_general = len(math[60:90]), len(general[60:90])
    assert n_math >= 10 and n_general >= 10
    assert sum(k.startswith("math") for k in kept) >= 0.8 * n_math, kept
    assert sum(k.startswith("general") for k in kept) <= 0.2 * n_general, kept


def test_synthesis_asks_about_the_best_rated_pages_and_keeps_voted_uncontaminated_problems(run):
    kept = docs(run["out"] / "quality" / "kept")
    best = sorted(kept.values(), key=lambda d: -d["metadata"]["quality_score"])[:12]
    folder = run["out"] / "synthesis"
    attempts = [json.loads(line) for line in (folder / "attempts.jsonl").read_text().splitlines()]
    assert sorted(a["source_url"] for a in attempts) == sorted(d["metadata"]["url"] for d in best)
    quoting = [d for d in best if quotes(d["text"][:SYNTH_CHARS])]
    synthesis = run["stats"]["synthesis"]
    assert 0 < len(quoting) < 12, "the test needs quoted and fresh questions"
    assert synthesis["docs_in"] == 12 and synthesis["contaminated"] == len(quoting)
    assert sorted(a["source_url"] for a in attempts if a["verdict"] == "contaminated") == sorted(
        d["metadata"]["url"] for d in quoting)
    rows = [json.loads(line) for line in (folder / "qa.jsonl").read_text().splitlines()]
    assert len(rows) == synthesis["kept"] == synthesis["docs_out"] == 12 - len(quoting) > 0
    for row in rows:  # the question cut at the blank line; the answer the majority's, with its provenance
        assert row["question"].startswith("What is ") and row["question"].endswith("+ 2?")
        assert row["answer"] == str(addend(row["question"]) + 2) and row["votes"] == 3 and row["samples"] == 4
        assert row["source_id"] in kept and QUOTED not in row["question"]


def test_report_with_the_truth_scores_the_run(run, corpus):
    done = CliRunner().invoke(app, ["corpus", "report", str(run["out"]), "--truth", str(corpus / "truth.json")])
    assert done.exit_code == 0, done.output
    figures = json.loads((run["out"] / "evaluation.json").read_text())
    assert figures["contamination"] == {"planted": 1, "reached_decontamination": 1, "removed_by_decontamination": 1,
                                        "left_in_output": 0}
    recalled = figures["recalled_vs_labels"]
    assert recalled["precision"] >= 0.8 and recalled["recall"] >= 0.8, recalled
    assert figures["classifier_heldout"]["cycle 1"] == run["stats"]["cycle-1-recall"]["heldout"]
    assert figures["dedup"]["exact_pairs"] + figures["dedup"]["near_pairs"] >= 1
    assert "quality" in done.output and '"contamination"' in done.output


def test_toy_model_trains_a_curator_the_tiny_backend_runs(tmp_path, corpus, monkeypatch):
    from mathlens.backends.tiny import TinyBackend

    monkeypatch.chdir(REPO)  # the command reads configs/corpus/tiny_*.yaml
    done = CliRunner().invoke(app, ["corpus", "toy-model", "--seed-dir", str(corpus / "seed"), "--out",
                                    str(tmp_path / "toy"), "--steps", "3", "--quiet"])
    assert done.exit_code == 0, done.output
    ckpt = tmp_path / "toy" / "ckpt.pt"
    assert done.output.strip() == str(ckpt) and ckpt.is_file()
    (reply,) = TinyBackend(str(ckpt), device="cpu").generate(["R:Integrals of x\nS:"], Sampling(max_tokens=3))
    assert len(reply) == 1 and isinstance(reply[0], str)


def test_toy_examples_rate_every_page_and_teach_the_problems_printed_on_them():
    from mathlens.corpus.rate import Template
    from mathlens.corpus.synth import SynthTemplates
    from mathlens.corpus.toy import toy_examples

    pages = [{"text": "Problem 1. What is 2 + 3?\nAnswer: 5", "metadata": {"label": "math"}},
             {"text": "Integrals, in general.", "metadata": {"label": "math"}},
             {"text": "Release notes of 2024-01-02, 3.4.5", "metadata": {"label": "general"}},
             {"text": "Just prose.", "metadata": {"label": "general"}}]
    rows = toy_examples(pages, Template("R:{text}\nS:", 48), SynthTemplates("Q:{text}\nP:", "A:{question}\n", 100))
    assert [t for _, t in rows[:4]] == [" 4", " 3", " 1", " 0"]
    assert rows[4:] == [("Q:Problem 1. What is 2 + 3?\nAnswer: 5\nP:", " What is 2 + 3?"),
                        ("A:What is 2 + 3?\n", "The answer is 5.")]


# ---------------------------------------------------------------- build-demo

BENCHMARK_ROWS = {  # each benchmark's raw fields, as the shared data holds them
    "college_math": lambda i: {"question": f"Differentiate x^{i}.", "answer": f"{i}x^{i - 1}", "data_topic": "calc.diff"},
    "svamp": lambda i: {"Body": f"Ann has {i} apples.", "Question": "How many now?", "Answer": float(i)},
    "asdiv": lambda i: {"body": f"Tom has {i} pens.", "question": "How many pens?", "answer": str(i)},
    "mawps": lambda i: {"input": f"Sue ran {i} miles. How far?", "target": i},
    "olympiadbench": lambda i: {"question": f"Prove {i} > 0.", "solution": [f"{i} is positive."], "subfield": "Algebra"},
    "gsm8k": lambda i: {"question": f"Bob bought {i} pencils for 3 dollars each. What did he pay?",
                        "answer": f"#### {3 * i}"},
    "math_test500": lambda i: {"problem": f"Find the remainder of {i}^2 divided by 7.", "answer": str(i * i % 7),
                               "subject": "Number Theory"},
}


def test_build_demo_assembles_pool_seed_heldout_and_truth(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    bench = tmp_path / "benchmarks"
    for name, row in BENCHMARK_ROWS.items():
        (bench / name).mkdir(parents=True)
        (bench / name / "test.jsonl").write_text("".join(json.dumps(row(i)) + "\n" for i in range(1, 41)))
    out = tmp_path / "data"
    done = CliRunner().invoke(app, ["corpus", "build-demo", "--out", str(out), "--data-dir", str(bench)])
    assert done.exit_code == 0, done.output
    counts = json.loads((out / "counts.json").read_text())
    assert done.output.split() == [f"{k}={v}" for k, v in counts.items()]
    shards = sorted((out / "pool").glob("part-*.jsonl.gz"))
    jsonl = [json.loads(line) for path in shards for line in gzip.open(path, "rt")]
    with (out / "pool" / "crawl.warc.gz").open("rb") as f:
        warc = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(f) if r.rec_type == "response"]
    assert len(shards) == 4 and len(warc) == counts["warc"] and len(jsonl) + len(warc) == counts["pool"]
    assert all(set(d["metadata"]) == {"url"} for d in jsonl)  # pool pages carry their URL only
    truth = json.loads((out / "truth.json").read_text())
    pool_urls = {d["metadata"]["url"] for d in jsonl} | set(warc)
    assert set(truth) == pool_urls and sum(t["label"] == "math" for t in truth.values()) == counts["pool_math"]
    planted = [t for t in truth.values() if t["planted"]]
    assert sum(t["planted"] == "exact" for t in planted) == 20 and sum(t["planted"] == "near" for t in planted) == 60
    assert all(t["copy_of"] in pool_urls for t in planted)
    quoted = [d["text"] for d in jsonl if truth[d["metadata"]["url"]]["source"].startswith("contaminated")]
    assert sum(t["source"].startswith("contaminated") for t in truth.values()) == 30
    assert all(("Bob bought" in q or "Find the remainder" in q) for q in quoted)
    heldout = [json.loads(line) for line in (out / "heldout.jsonl").read_text().splitlines()]
    positives = [json.loads(line) for line in (out / "seed" / "positives.jsonl").read_text().splitlines()]
    negatives = [json.loads(line) for line in (out / "seed" / "negatives.jsonl").read_text().splitlines()]
    held_urls, seed_urls = {h["metadata"]["url"] for h in heldout}, {p["metadata"]["url"] for p in positives + negatives}
    assert len(heldout) == counts["heldout"] and not held_urls & pool_urls and not held_urls & seed_urls
    assert not seed_urls & pool_urls
    assert len(positives) == counts["seed_positives"] and {p["metadata"]["label"] for p in positives} == {"math"}
    labelled = positives + heldout  # exercises from every benchmark, a few to a page
    sources = {t["source"] for t in truth.values()} | {p["metadata"]["source"] for p in labelled}
    assert set(BENCHMARK_ROWS) - {"gsm8k", "math_test500"} <= sources
    college = [p["text"] for p in labelled if p["metadata"]["source"] == "college_math"]
    assert college and all(t.startswith("Problem 1. Differentiate x^") and "\nAnswer: " in t for t in college)


def test_build_demo_without_benchmarks_says_in_one_line_what_it_needs(tmp_path):
    done = CliRunner().invoke(app, ["corpus", "build-demo", "--out", str(tmp_path / "data"), "--data-dir",
                                    str(tmp_path / "empty")])
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit), done.exception  # no traceback
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mathlens: error: ") and "college_math/test.jsonl" in lines[0]
    assert not (tmp_path / "data").exists()
