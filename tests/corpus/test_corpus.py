"""The corpus pipeline on the small corpus of conftest.py (this machine's own docstrings):
fastText recall, expansion, WARC reading, exact and MinHash dedup, decontamination, rating and
its classifier, synthesis, the language filter with a local model, executors (local with 2
tasks, a local Ray runtime) and resume."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

import pytest

pytest.importorskip("datatrove")
pytest.importorskip("fasttext")

from mathlens.backends import Sampling  # noqa: E402
from mathlens.corpus import pipeline as pl  # noqa: E402
from mathlens.corpus.dedup import lsh_shape  # noqa: E402
from mathlens.corpus.expand import ExpandConfig, group_rates  # noqa: E402
from mathlens.corpus.rate import QualityConfig, Template, cohen_kappa, parse_score, rate, train_quality  # noqa: E402
from mathlens.corpus.recall import RecallConfig, best_threshold, train_recall  # noqa: E402
from mathlens.corpus.synth import SynthConfig, SynthTemplates, synthesize  # noqa: E402
from mathlens.corpus.text import normalize, path_prefix  # noqa: E402
from mathlens.errors import MathlensError  # noqa: E402
from mathlens.improve import EvalText, Index  # noqa: E402

from .conftest import QUOTED, config  # noqa: E402


def run_corpus(cfg: pl.CorpusConfig, progress: bool = False) -> dict:
    return pl.run_corpus(cfg, [EvalText("bench", QUOTED)], progress)


def urls(folder: Path) -> set[str]:
    return {d["metadata"]["url"] for d in pl.read_docs(folder)}


def test_normalization_splits_symbols_and_urls_group_by_folder():
    assert normalize("Solve $x^2+1=0$.\n\tNow") == "solve $ x ^ 2 + 1 = 0 $ . now"
    assert path_prefix("https://A.org/math/algebra/p1") == "a.org/math"
    assert path_prefix("https://a.org/p1") == "a.org" and path_prefix("https://a.org/a/b/p", 2) == "a.org/a/b"


def test_recall_classifier_separates_math_from_prose_on_held_out_pages(tmp_path, pages):
    math, general = pages["math"], pages["general"]
    model = train_recall([p["text"] for p in math[:60]], [p["text"] for p in general[:60]], tmp_path,
                         RecallConfig(heldout=0.25))
    assert 0.0 < model.threshold < 1.0 and model.metrics["heldout"] == 30
    assert model.metrics["f1"] >= 0.8, model.metrics
    again = train_recall([p["text"] for p in math[:60]], [p["text"] for p in general[:60]], tmp_path / "b",
                         RecallConfig(heldout=0.25))
    assert again.threshold == model.threshold  # one fastText thread and a seed: the same model
    with pytest.raises(MathlensError, match="both classes"):
        train_recall(["x"], [], tmp_path / "c")


def test_threshold_is_the_best_f1_cut():
    cut, figures = best_threshold([0.1, 0.4, 0.6, 0.9], [False, False, True, True])
    assert cut == 0.6 and figures["f1"] == 1.0


def test_groups_with_many_recalled_pages_are_expanded():
    docs = [{"url": f"https://a.example/math/p{i}", "recalled": i < 4} for i in range(6)]
    docs += [{"url": f"https://a.example/blog/p{i}", "recalled": i < 1} for i in range(6)]
    docs += [{"url": "https://b.example/x/p", "recalled": False}]
    rows = {r["group"]: r for r in group_rates(docs, ExpandConfig(rate=0.5, depth=1, min_docs=5))}
    assert rows["a.example/math"]["expanded"] and rows["a.example/math"]["rate"] == pytest.approx(4 / 6)
    assert not rows["a.example/blog"]["expanded"]
    assert rows["a.example"]["pages"] == 12 and not rows["a.example"]["expanded"]  # 5 of 12 recalled
    assert rows["b.example"]["pages"] == 1 and "b.example/x" not in rows  # too small a folder to judge


def test_lsh_shape_follows_the_threshold():
    strict, loose = lsh_shape(0.9, 112), lsh_shape(0.5, 112)
    assert strict[0] * strict[1] <= 112 and strict[1] > loose[1]  # more rows per band: a stricter match


def test_pipeline_reads_warc_recalls_dedups_and_decontaminates(tmp_path, corpus):
    stats = run_corpus(config(corpus, tmp_path), progress=False)
    read = list(pl.read_docs(tmp_path / "read"))
    warc = [json.loads(line) for p in (tmp_path / "read").glob("warc0-*.jsonl.gz") for line in gzip.open(p, "rt")]
    assert len(read) == stats["read"]["docs_out"] >= 90 and len(warc) == 20, "the WARC file's pages are read"
    # trafilatura took the text out of the HTML; the record's URL is the page's
    assert all("<p>" not in d["text"] and d["metadata"]["url"].startswith("https://") for d in warc)
    heldout = stats["cycle-2-recall"]["heldout"]
    assert heldout["precision"] >= 0.8 and heldout["recall"] >= 0.8, heldout
    kept = urls(tmp_path / "cycle-2" / "kept")
    copies = json.loads((corpus / "copies.json").read_text())
    for kind in ("exact", "near"):
        pair = copies[kind]
        if set(pair) <= kept:  # both reached dedup: exactly one survives
            assert len(set(pair) & urls(tmp_path / "clean")) == 1, kind
    assert "https://docs.math.example/forum/q1" in urls(tmp_path / "dedup" / "near" / "kept")
    assert "https://docs.math.example/forum/q1" not in urls(tmp_path / "clean")
    assert urls(tmp_path / "contaminated") == {"https://docs.math.example/forum/q1"}
    assert (tmp_path / "funnel.png").stat().st_size > 5_000
    assert all(stats[s]["done"] for s in stats)


def test_a_finished_run_is_not_redone(tmp_path, corpus, monkeypatch):
    cfg = config(corpus, tmp_path, cycles=1)
    first = run_corpus(cfg, progress=False)

    def no_rerun(*args, **kwargs):
        raise AssertionError("a finished stage ran again")

    monkeypatch.setattr(pl, "run_steps", no_rerun)  # run_corpus calls pl.run_corpus, which looks it up here
    assert run_corpus(cfg, progress=False) == first


def test_killed_stage_resumes_without_redoing_finished_tasks(tmp_path, corpus):
    """datatrove's completion markers under our logging folder: a task that finished before the
    kill is skipped, the other one runs."""
    from datatrove.executor import LocalPipelineExecutor

    from mathlens.corpus.executors import ExecutorConfig, run_steps

    steps = lambda: [pl.jsonl_reader(corpus / "pool", "*.jsonl*"), pl.jsonl_writer(tmp_path / "out")]  # noqa: E731
    LocalPipelineExecutor(steps(), tasks=2, local_tasks=1, logging_dir=str(tmp_path / "logs")).run()  # rank 0 only
    done = tmp_path / "out" / "00000.jsonl.gz"
    before = done.stat().st_mtime_ns
    assert not (tmp_path / "out" / "00001.jsonl.gz").exists()
    run_steps(steps(), tmp_path / "logs", ExecutorConfig(tasks=2))
    assert done.stat().st_mtime_ns == before and (tmp_path / "out" / "00001.jsonl.gz").exists()


def test_local_two_tasks_and_ray_give_the_same_documents(tmp_path, corpus):
    pytest.importorskip("ray")
    from mathlens.corpus.executors import ExecutorConfig

    local = run_corpus(config(corpus, tmp_path / "local", cycles=1), progress=False)
    ray_stats = run_corpus(config(corpus, tmp_path / "ray", cycles=1, executor=ExecutorConfig(kind="ray", tasks=2)),
                              progress=False)
    import ray

    ray.shutdown()
    assert urls(tmp_path / "local" / "clean") == urls(tmp_path / "ray" / "clean")
    assert local["decontaminate"]["docs_out"] == ray_stats["decontaminate"]["docs_out"] > 0


class KeywordRater:
    """A stand-in model for the rating and synthesis logic (the prompt's words decide the reply);
    the pipeline's runs use real backends."""

    name = "keywords"

    def generate(self, prompts, sampling: Sampling, keys=None):
        replies = []
        for prompt in prompts:
            if prompt.startswith("R:"):
                reply = " 4" if any(w in prompt for w in ("integral", "matrix", "polynomial", "Return", "sympy")) else " 1"
            elif prompt.startswith("Q:"):
                reply = QUOTED if "quote" in prompt else ("" if "empty" in prompt else f"What is {len(prompt) % 7} + 2?")
            else:
                number = prompt.split("What is ")[-1].split(" ")[0] if "What is" in prompt else "0"
                answers = [f"The answer is {int(number) + 2}." if number.isdigit() else "The answer is 1."] * 3
                answers += ["The answer is 99."]
                if "What is 3" in prompt:
                    answers = [f"The answer is {k}." for k in range(4)]  # no majority
                reply = answers
            replies.append(reply if isinstance(reply, list) else [reply] * sampling.n)
        return replies


def test_quality_classifier_learns_the_raters_call(tmp_path, pages):
    texts = [p["text"] for p in pages["math"][:60] + pages["general"][:60]]
    ratings = rate(KeywordRater(), texts, Template("R:{text}\nS:", 400))
    assert set(ratings) <= {1, 4}
    summary = train_quality(texts, ratings, tmp_path, QualityConfig(heldout=0.3))
    assert summary["heldout"] == 36 and summary["agreement"] >= 0.7, summary
    assert parse_score(" 3 out of 5") == 3 and parse_score("no idea") is None
    assert cohen_kappa([True, False], [True, False]) == 1.0
    with pytest.raises(MathlensError, match="both kinds"):
        train_quality(texts[:3], [4, 4, 4], tmp_path / "b", QualityConfig())


def test_synthesis_keeps_majority_answers_with_provenance_and_drops_contaminated():
    docs = [{"id": f"d{i}", "text": t, "url": f"https://x.example/{i}"}
            for i, t in enumerate(["a page", "please quote this", "an empty page", "another page here"])]
    index = Index([EvalText("bench", QUOTED)])
    attempts = []
    rows, counts = synthesize(KeywordRater(), docs, SynthTemplates("Q:{text}\nP:", "A:{question}\n"),
                              SynthConfig(samples=4), index, attempts)
    assert counts["contaminated"] == 1 and counts["no_question"] == 1
    # every document's attempt is logged with its verdict, the lost ones too
    verdicts = sorted(a["verdict"] for a in attempts)
    assert len(attempts) == 4 and verdicts.count("kept") == counts["kept"] and "contaminated" in verdicts
    assert counts["kept"] + counts["no_majority"] == 2 and counts["kept"] == len(rows) >= 1
    for row in rows:
        assert row["votes"] == 3 and row["samples"] == 4 and row["source_url"].startswith("https://x.example/")
        assert row["answer"] == str(int(row["question"].split(" ")[2]) + 2)


def test_templates_are_checked_when_read(tmp_path):
    bad = tmp_path / "rate.yaml"
    bad.write_text("template: no hole here\n")
    with pytest.raises(MathlensError, match="holding"):
        Template.load(bad)
    assert "{text}" in Template.load("configs/corpus/rate.yaml").template


def test_language_filter_reads_a_local_model(tmp_path, pages):
    """datatrove's LanguageFilter downloads lid.176; ours takes a model file on disk."""
    from datatrove.data import Document

    from mathlens.corpus.language import LocalLanguageFilter
    from mathlens.corpus.recall import fit_fasttext

    english = [p["text"] for p in pages["general"][:50]]
    rows = [("__label__en", t) for t in english] + [("__label__xx", codecs.encode(t, "rot13")) for t in english]
    fit_fasttext(rows, RecallConfig()).save_model(str(tmp_path / "lid.bin"))
    step = LocalLanguageFilter(str(tmp_path / "lid.bin"), languages=["en"], language_threshold=0.5)
    docs = [Document(text=pages["math"][0]["text"], id="en"), Document(text=codecs.encode(english[0], "rot13"), id="xx")]
    kept = list(step.run(iter(docs)))
    assert [d.id for d in kept] == ["en"] and kept[0].metadata["language"] == "en"


def test_bad_inputs_are_one_line_errors(tmp_path, corpus):
    broken = tmp_path / "seed.jsonl"
    broken.write_text('{"text": "fine"}\n{"title": 3}\n')
    with pytest.raises(MathlensError, match=r"seed.jsonl:2: field 'text'"):
        pl.read_texts(broken)
    with pytest.raises(MathlensError, match="no evaluation problems"):
        pl.run_corpus(config(corpus, tmp_path / "y"), progress=False)
    with pytest.raises(MathlensError, match="input folder not found"):
        run_corpus(config(corpus, tmp_path / "x", inputs=(str(tmp_path / "nowhere"),)), progress=False)


def test_cli_trains_recalls_and_reports(tmp_path, corpus):
    from typer.testing import CliRunner

    from mathlens.cli import app

    runner = CliRunner()
    seed = corpus / "seed"
    done = runner.invoke(app, ["corpus", "train-recall", "--positive", str(seed / "positives.jsonl"), "--negative",
                               str(seed / "negatives.jsonl"), "--out", str(tmp_path / "model")])
    assert done.exit_code == 0 and "threshold" in done.output, done.output
    done = runner.invoke(app, ["corpus", "recall", str(corpus / "pool"), "--model", str(tmp_path / "model"), "--out",
                               str(tmp_path / "recalled"), "--workers", "1"])
    assert done.exit_code == 0, done.output
    kept = list(pl.read_docs(tmp_path / "recalled" / "kept"))
    assert kept and all(d["metadata"]["recalled"] for d in kept)
    missing = runner.invoke(app, ["corpus", "report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no corpus run here" in missing.output
