"""The whole corpus run: read → recall cycles (score, expand) → exact and near dedup →
decontaminate → LLM rating and the quality classifier → synthesis. Each document-level stage is
a datatrove pipeline under the configured executor; the few steps that need the whole picture
(training fastText, choosing expanded groups, the LLM calls on a sample) run here between them.

A killed run started again with the same ``out`` skips finished datatrove tasks (their
completion markers) and the stages recorded in stats.json as done.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..decontam import EvalText, Index
from ..errors import MathlensError
from ..provenance import traced
from ..runs import RunFolder
from ..progress import progress_bar
from .dedup import DedupConfig, exact_stages, minhash_stages
from .executors import ExecutorConfig, logs_into, run_steps
from .expand import ExpandConfig, MetaExpansion, group_rates
from .rate import QualityConfig, QualityFilter, Template, rate, train_quality
from .recall import MathRecall, RecallConfig, RecallModel, load_fasttext, math_scores, precision_recall, train_recall
from .synth import SynthConfig, SynthTemplates, synthesize


@dataclass(frozen=True)
class ModelStage:
    """A backend model for the rater or the synthesizer; no model: the stage is skipped."""

    backend: str = "tiny"
    model: str | None = None
    base_url: str = "http://127.0.0.1:8000/v1"
    api: str = "completions"
    template: str = "configs/corpus/rate.yaml"
    max_docs: int = 200  # synthesis: documents (best rated first) to write problems from
    model_args: str = ""  # hf/vllm: loading options (models.hf.ModelArgs)
    batch_size: int = 16  # hf: prompts per generate call


@dataclass(frozen=True)
class CorpusConfig:
    """Every knob of `mathlens corpus run` (YAML: nested mappings per step)."""

    inputs: tuple[str, ...] = ("data/corpus/pool",)  # folders of *.jsonl[.gz] and *.warc[.gz]
    positives: str = "data/corpus/seed/positives.jsonl"  # math seed text (JSONL, a `text` field)
    negatives: str = "data/corpus/seed/negatives.jsonl"  # general text
    heldout: str | None = None  # labelled JSONL (metadata.label math/general): precision and recall
    out: str = "runs/corpus"
    cycles: int = 2
    recall: RecallConfig = field(default_factory=RecallConfig)
    expand: ExpandConfig = field(default_factory=ExpandConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    decontaminate: tuple[str, ...] = ("gsm8k", "math_test500")  # benchmark names or JSONL files
    data_dir: str | None = None  # local benchmark copies (else the shared data, else the hub)
    rater: ModelStage = field(default_factory=ModelStage)
    quality: QualityConfig = field(default_factory=QualityConfig)
    synthesizer: ModelStage = field(default_factory=lambda: ModelStage(template="configs/corpus/synth.yaml"))
    synthesis: SynthConfig = field(default_factory=SynthConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)

    def __post_init__(self) -> None:
        if self.cycles < 1:
            raise MathlensError(f"cycles={self.cycles}: at least 1")


def read_docs(folder: str | Path) -> Iterator[dict]:
    """Every document datatrove wrote under ``folder`` (``*.jsonl.gz``), in file order."""
    for path in sorted(Path(folder).rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def read_texts(path: str | Path) -> list[dict]:
    """A JSONL file of documents (``text``; ``metadata`` optional); errors name file and line."""
    path = Path(path)
    if not path.is_file():
        raise MathlensError(f"{path}: cannot read (no such file)")
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise MathlensError(f"{path}:{n}: not JSON ({err.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise MathlensError(f"{path}:{n}: field 'text' must be a string")
            rows.append(row)
    return rows


class Run:
    """One corpus run's folders, stage statistics and executor."""

    def __init__(self, cfg: CorpusConfig) -> None:
        self.cfg, self.out = cfg, Path(cfg.out)
        settings = asdict(cfg)  # how many tasks and workers run a stage does not change what it makes
        compared = [k for k in settings if k not in ("out", "executor")]
        RunFolder(self.out, settings, compared, ("stats.json",)).open(hint="use another out, or delete the folder")
        self.stats_path = self.out / "stats.json"
        self.stats: dict = json.loads(self.stats_path.read_text()) if self.stats_path.is_file() else {}
        self.evaluation: list[EvalText] = []

    def stage(self, name: str, steps: list, tasks: int | None = None, docs_in: Path | None = None,
              docs_out: Path | None = None, **extra) -> dict:
        """Run datatrove ``steps`` (skipped when stats.json says the stage finished) and record
        documents and bytes in and out, seconds, documents per second."""
        if self.stats.get(name, {}).get("done"):
            return self.stats[name]
        start = time.perf_counter()
        run_steps(steps, self.out / "logs" / name, self.cfg.executor, tasks)
        seconds = time.perf_counter() - start
        entry = {"done": True, "seconds": round(seconds, 2), "tasks": tasks or self.cfg.executor.tasks,
                 "workers": self.cfg.executor.workers, **extra}
        if docs_in is not None:
            entry.update(docs_in=count_docs(docs_in), bytes_in=folder_bytes(docs_in))
            entry["docs_per_s"] = round(entry["docs_in"] / max(seconds, 1e-9), 1)
        if docs_out is not None:
            entry.update(docs_out=count_docs(docs_out), bytes_out=folder_bytes(docs_out))
        return self.record(name, entry)

    def record(self, name: str, entry: dict) -> dict:
        self.stats[name] = entry
        self.stats_path.write_text(json.dumps(self.stats, indent=2) + "\n")
        return entry


def count_docs(folder: Path) -> int:
    return sum(1 for _ in read_docs(folder))


def count_docs_matching(folder: Path, pattern: str) -> int:
    return sum(sum(1 for _ in gzip.open(p, "rt")) for p in folder.glob(pattern))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*.jsonl.gz"))


def jsonl_reader(folder: Path, pattern: str = "*.jsonl.gz"):
    from datatrove.pipeline.readers import JsonlReader

    return JsonlReader(str(folder), glob_pattern=pattern)


def jsonl_writer(folder: Path, name: str = "${rank}.jsonl.gz"):
    from datatrove.pipeline.writers import JsonlWriter

    return JsonlWriter(str(folder), output_filename=name)


@traced("corpus", lambda a: a["cfg"].out)
def run_corpus(cfg: CorpusConfig, evaluation: Sequence[EvalText] = (), progress: bool = True) -> dict:
    """The whole pipeline; returns (and writes to OUT/stats.json) every stage's figures.
    ``evaluation``: the problems of ``cfg.decontaminate`` (``evaluation_problems`` reads them)."""
    if cfg.decontaminate and not evaluation:
        raise MathlensError(f"decontaminate names {', '.join(cfg.decontaminate)} but no evaluation problems came")
    run = Run(cfg)
    run.evaluation = list(evaluation)
    out = run.out
    with logs_into(out / "logs" / "datatrove.log") as terminal, progress_bar(progress, terminal) as bar:
        total = 3 + cfg.cycles + (cfg.rater.model is not None) + (cfg.synthesizer.model is not None)
        task = bar.add_task("corpus", total=total, info="")

        def advance(what: str) -> None:
            bar.update(task, advance=1, info=what)

        read = read_inputs(run)
        advance("read")
        kept = read
        positives = [r["text"] for r in read_texts(cfg.positives)]
        negatives = [r["text"] for r in read_texts(cfg.negatives)]
        for cycle in range(1, cfg.cycles + 1):
            kept, confident = recall_cycle(run, cycle, read, positives, negatives)
            positives = positives + confident  # the next cycle's classifier learns from what this one found
            advance(f"cycle {cycle}")
        near = dedup(run, kept)
        advance("dedup")
        clean = decontaminate(run, near)
        advance("decontaminate")
        final = clean
        if cfg.rater.model is not None:
            final = rate_stage(run, clean)
            advance("quality")
        if cfg.synthesizer.model is not None:
            synth_stage(run, final)
            advance("synthesis")
    from .report import funnel, funnel_plot

    funnel_plot(funnel(run.stats), out / "funnel.png")
    return run.stats


def dedup(run: Run, kept: Path) -> Path:
    """Exact then near duplicates (datatrove's stages); the removed pages are kept apart."""
    exact, near = run.out / "dedup" / "exact", run.out / "dedup" / "near"
    passes = (
        (kept, exact, exact_stages(lambda: jsonl_reader(kept), lambda: jsonl_writer(exact / "kept"), exact,
                                   lambda: jsonl_writer(exact / "removed"))),
        (exact / "kept", near, minhash_stages(lambda: jsonl_reader(exact / "kept"), lambda: jsonl_writer(near / "kept"),
                                              near, run.cfg.dedup, lambda: jsonl_writer(near / "removed"))),
    )
    for source, folder, stages in passes:
        for name, steps, tasks in stages:
            counted = name.endswith("-filter")  # the stage that reads documents and writes the survivors
            run.stage(name, steps, tasks, docs_in=source if counted else None,
                      docs_out=folder / "kept" if counted else None)
    return near / "kept"


def decontaminate(run: Run, near: Path) -> Path:
    from .decontam import Decontaminate

    clean = run.out / "clean"
    step = Decontaminate(run.evaluation, jsonl_writer(run.out / "contaminated"))
    run.stage("decontaminate", [jsonl_reader(near), step, jsonl_writer(clean)], docs_in=near, docs_out=clean,
              against=list(run.cfg.decontaminate))
    return clean


def read_inputs(run: Run) -> Path:
    """JSONL and WARC inputs (HTML through trafilatura) into one folder of JSONL shards."""
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    target = run.out / "read"
    for i, folder in enumerate(run.cfg.inputs):
        if not Path(folder).is_dir():
            raise MathlensError(f"{folder}: input folder not found")
        jsonl = sorted(Path(folder).glob("*.jsonl*"))
        warc = sorted(Path(folder).glob("*.warc*"))
        if not jsonl and not warc:
            raise MathlensError(f"{folder}: holds no *.jsonl, *.jsonl.gz, *.warc or *.warc.gz file")
        if jsonl:
            run.stage(f"read-jsonl-{i}", [jsonl_reader(Path(folder), "*.jsonl*"), jsonl_writer(target, f"jsonl{i}-${{rank}}.jsonl.gz")])
        if warc:
            run.stage(f"read-warc-{i}", [WarcReader(str(folder), glob_pattern="*.warc*"), Trafilatura(favour_precision=True),
                                         jsonl_writer(target, f"warc{i}-${{rank}}.jsonl.gz")])
            if not count_docs_matching(target, f"warc{i}-*.jsonl.gz"):
                raise MathlensError(f"{folder}: no text came out of {len(warc)} WARC file(s); see "
                                    f"{run.out / 'logs' / 'datatrove.log'} (is trafilatura installed with lxml_html_clean?)")

    run.record("read", {**run.stats.get("read", {}), "done": True, "docs_out": count_docs(target),
                        "bytes_out": folder_bytes(target)})
    return target


def recall_cycle(run: Run, cycle: int, read: Path, positives: list[str], negatives: list[str]) -> tuple[Path, list[str]]:
    """Train, score every document, expand by groups; the kept folder and the confident texts."""
    cfg, folder = run.cfg, run.out / f"cycle-{cycle}"
    model_dir = folder / "model"
    model = RecallModel.load(model_dir) if (model_dir / "recall.json").is_file() else train_recall(
        positives, negatives, model_dir, cfg.recall)
    heldout = heldout_figures(model, cfg.heldout) if cfg.heldout else None
    scored, kept = folder / "scored", folder / "kept"
    run.stage(f"cycle-{cycle}-recall", [jsonl_reader(read), MathRecall(model.path, model.threshold), jsonl_writer(scored)],
              docs_in=read, docs_out=scored, threshold=model.threshold, seed_figures=model.metrics, heldout=heldout)
    docs = [{"url": d.get("metadata", {}).get("url", ""), "recalled": d["metadata"]["recalled"],
             "score": d["metadata"]["math_score"], "text": d["text"]} for d in read_docs(scored)]
    groups = group_rates(docs, cfg.expand)
    (folder / "expansion.json").write_text(json.dumps(groups, indent=2) + "\n")
    entry = run.stage(f"cycle-{cycle}-expand", [jsonl_reader(scored), MetaExpansion(groups, cfg.expand), jsonl_writer(kept)],
                      docs_in=scored, docs_out=kept, recalled=sum(d["recalled"] for d in docs),
                      expanded_groups=[g["group"] for g in groups if g["expanded"]])
    entry.setdefault("expanded_docs", entry.get("docs_out", 0) - entry["recalled"])
    run.record(f"cycle-{cycle}-expand", entry)
    confident = [d["text"] for d in docs if d["recalled"] and d["score"] >= cfg.recall.confident]
    return kept, confident


def heldout_figures(model: RecallModel, path: str) -> dict:
    """The classifier's precision and recall at its threshold on labelled documents it never saw."""
    rows = read_texts(path)
    labels = [r.get("metadata", {}).get("label") == "math" for r in rows]
    scores = math_scores(load_fasttext(model.path), [r["text"] for r in rows])
    figures = precision_recall([s >= model.threshold for s in scores], labels)
    return {**figures, "documents": len(rows), "math": sum(labels)}


def open_model(stage: ModelStage):
    from ..backends import make_backend

    options: dict = {}
    if stage.backend == "openai":
        options = {"base_url": stage.base_url, "api": stage.api}
    elif stage.backend == "hf":
        options = {"model_args": stage.model_args, "batch_size": stage.batch_size}
    elif stage.backend == "vllm":
        options = {"model_args": stage.model_args}
    return make_backend(stage.backend, stage.model, **options)


def rate_stage(run: Run, clean: Path) -> Path:
    """The LLM rates a seeded sample; fastText learns its keep/drop call and filters every document."""
    cfg, folder = run.cfg, run.out / "quality"
    rated = folder / "kept"
    if run.stats.get("quality", {}).get("done"):
        return rated
    docs = list(read_docs(clean))
    sample = random.Random(cfg.quality.seed).sample(docs, min(cfg.quality.sample, len(docs)))
    start = time.perf_counter()
    ratings = rate(open_model(cfg.rater), [d["text"] for d in sample], Template.load(cfg.rater.template))
    llm_seconds = time.perf_counter() - start
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "ratings.jsonl").open("w") as f:
        for d, r in zip(sample, ratings):
            f.write(json.dumps({"id": d["id"], "url": d.get("metadata", {}).get("url"), "rating": r}) + "\n")
    summary = train_quality([d["text"] for d in sample], ratings, folder / "classifier", cfg.quality)
    run.stage("quality", [jsonl_reader(clean), QualityFilter(summary["model"]), jsonl_writer(rated)], docs_in=clean,
              docs_out=rated, llm_rated=len(sample), llm_seconds=round(llm_seconds, 2),
              llm_docs_per_s=round(len(sample) / max(llm_seconds, 1e-9), 2), classifier=summary)
    return rated


def synth_stage(run: Run, rated: Path) -> None:
    cfg, folder = run.cfg, run.out / "synthesis"
    if run.stats.get("synthesis", {}).get("done"):
        return
    docs = sorted(read_docs(rated), key=lambda d: -d.get("metadata", {}).get("quality_score", 0.0))
    docs = [{"id": d["id"], "text": d["text"], "url": d.get("metadata", {}).get("url")}
            for d in docs[: cfg.synthesizer.max_docs]]
    start = time.perf_counter()
    attempts: list[dict] = []
    rows, counts = synthesize(open_model(cfg.synthesizer), docs, SynthTemplates.load(cfg.synthesizer.template),
                              cfg.synthesis, Index(run.evaluation), attempts)
    seconds = time.perf_counter() - start
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "attempts.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in attempts))
    run.record("synthesis", {"done": True, "seconds": round(seconds, 2), "docs_in": len(docs), "docs_out": len(rows),
                             "docs_per_s": round(len(docs) / max(seconds, 1e-9), 2), **counts})


