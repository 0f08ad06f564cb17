"""Step ①: the fastText recall classifier — math against general text — and the datatrove step
that scores a corpus with it.

As the Qwen2.5-Math report does: a classifier trained on math seed data against general text,
a held-out part of the seed data to choose the threshold on (the one with the best F1 there),
and recall cycles that retrain on the last cycle's high-confidence documents as new positives.
fastText itself does the learning; this module only feeds it normalized lines.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from datatrove.pipeline.base import PipelineStep

from ..errors import MathlensError
from .text import normalize

MATH, OTHER = "__label__math", "__label__other"


@dataclass(frozen=True)
class RecallConfig:
    heldout: float = 0.2  # share of the seed data kept out of training to choose the threshold on
    epoch: int = 10
    lr: float = 0.5
    dim: int = 64
    word_ngrams: int = 2
    min_count: int = 1
    seed: int = 0
    confident: float = 0.9  # a recalled document scoring this or more is a positive of the next cycle


@dataclass
class RecallModel:
    path: str
    threshold: float
    metrics: dict  # on the held-out seed part: precision, recall, f1 at the threshold; counts

    def save(self, folder: Path) -> Path:
        target = folder / "recall.json"
        target.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return target

    @classmethod
    def load(cls, folder_or_json: str | Path) -> RecallModel:
        path = Path(folder_or_json)
        path = path / "recall.json" if path.is_dir() else path
        if not path.is_file():
            raise MathlensError(f"{path}: no recall model here (train one with `mathlens corpus train-recall`)")
        return cls(**json.loads(path.read_text()))


def load_fasttext(path: str | Path):
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # its load warning is about an old format
    return fasttext.load_model(str(path))


def label_scores(model, texts: Sequence[str], label: str) -> list[float]:
    """P(label) per text under a two-label fastText model. Asks for the top label only:
    fastText's k>1 probabilities are unreliable in the 0.9.2 binding (both labels equal)."""
    if not texts:
        return []
    labels, probs = model.predict([normalize(t) for t in texts], k=1)
    return [float(p[0]) if lab[0] == label else 1.0 - float(p[0]) for lab, p in zip(labels, probs)]


def math_scores(model, texts: Sequence[str]) -> list[float]:
    return label_scores(model, texts, MATH)


def best_threshold(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, dict]:
    """The cut with the highest F1 on labelled scores (ties: the higher cut), and its figures."""
    best = (0.5, {"precision": 0.0, "recall": 0.0, "f1": 0.0})
    for cut in sorted(set(scores)):
        figures = precision_recall([s >= cut for s in scores], labels)
        if figures["f1"] >= best[1]["f1"]:
            best = (cut, figures)
    return best


def precision_recall(predicted: Sequence[bool], labels: Sequence[bool]) -> dict:
    tp = sum(p and y for p, y in zip(predicted, labels))
    fp = sum(p and not y for p, y in zip(predicted, labels))
    fn = sum(y and not p for p, y in zip(predicted, labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def fit_fasttext(rows: Sequence[tuple[str, str]], cfg: RecallConfig):
    """A supervised fastText model on (label, text) rows, texts normalized."""
    import fasttext

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for label, text in rows:
            f.write(f"{label} {normalize(text)}\n")
    try:  # one thread: fastText's threads race on shared weights, and runs must repeat by seed
        return fasttext.train_supervised(
            f.name, epoch=cfg.epoch, lr=cfg.lr, dim=cfg.dim, wordNgrams=cfg.word_ngrams, minCount=cfg.min_count,
            thread=1, seed=cfg.seed, verbose=0,
        )
    finally:
        Path(f.name).unlink()


def train_recall(positives: Sequence[str], negatives: Sequence[str], folder: str | Path,
                 cfg: RecallConfig = RecallConfig()) -> RecallModel:
    """Train on ``1 - heldout`` of the seed texts, choose the threshold on the rest; writes
    ``model.bin`` and ``recall.json`` to ``folder``."""
    if not positives or not negatives:
        raise MathlensError(f"train-recall needs both classes: {len(positives)} positives, {len(negatives)} negatives")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [(t, True) for t in positives] + [(t, False) for t in negatives]
    random.Random(cfg.seed).shuffle(rows)
    cut = max(1, int(len(rows) * cfg.heldout)) if cfg.heldout > 0 else 0
    held, train = rows[:cut], rows[cut:]
    model = fit_fasttext([(MATH if is_math else OTHER, text) for text, is_math in train], cfg)
    model.save_model(str(folder / "model.bin"))
    if held:
        threshold, figures = best_threshold(math_scores(model, [t for t, _ in held]), [y for _, y in held])
    else:
        threshold, figures = 0.5, {}
    metrics = {**figures, "train": len(train), "heldout": len(held), "positives": len(positives),
               "negatives": len(negatives)}
    result = RecallModel(str((folder / "model.bin").resolve()), threshold, metrics)
    result.save(folder)
    return result


class FastTextStep(PipelineStep):
    """A datatrove step that scores documents with a fastText model in batches and keeps those
    ``judge`` keeps. The model is loaded in the worker: a fastText model does not pickle."""

    type = "🔢 - MATH"

    def __init__(self, model_path: str, threshold: float = 0.5, batch: int = 256) -> None:
        super().__init__()
        self.model_path, self.threshold, self.batch = model_path, threshold, batch
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = load_fasttext(self.model_path)
        return self._model

    def scores(self, texts: list[str]) -> list[float]:
        raise NotImplementedError

    def judge(self, doc, score: float) -> bool:
        raise NotImplementedError

    def run(self, data, rank: int = 0, world_size: int = 1):
        batch = []
        for doc in data:
            batch.append(doc)
            if len(batch) >= self.batch:
                yield from self._judged(batch)
                batch = []
        yield from self._judged(batch)

    def _judged(self, docs):
        with self.track_time("batch"):
            scores = self.scores([d.text for d in docs])
        for doc, score in zip(docs, scores):
            self.stat_update("total")
            if self.judge(doc, score):
                yield doc


class MathRecall(FastTextStep):
    """Scores each document's P(math) into ``metadata["math_score"]`` and ``metadata["recalled"]``;
    with ``drop`` the unrecalled are dropped, else forwarded (meta expansion needs them)."""

    name = "🎣 fastText recall"

    def __init__(self, model_path: str, threshold: float, drop: bool = False, batch: int = 256) -> None:
        super().__init__(model_path, threshold, batch)
        self.drop = drop

    def scores(self, texts: list[str]) -> list[float]:
        return math_scores(self.model, texts)

    def judge(self, doc, score: float) -> bool:
        doc.metadata["math_score"] = round(score, 6)
        doc.metadata["recalled"] = score >= self.threshold
        self.stat_update("recalled" if doc.metadata["recalled"] else "not_recalled")
        return doc.metadata["recalled"] or not self.drop
