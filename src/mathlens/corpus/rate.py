"""Step ④: quality. An instruct model rates a sample of documents 0-5 from an editable prompt;
a fastText classifier trained on those ratings (as FineWeb-Edu distils its LLM annotator)
scores every document, since an LLM call per document does not scale. Its agreement with the
LLM on ratings it never trained on is reported."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


from ..backends import Backend, Sampling
from ..config import read_yaml
from ..errors import MathlensError
from .recall import FastTextStep, RecallConfig, fit_fasttext, label_scores

KEEP, DROP = "__label__keep", "__label__drop"
_SCORE = re.compile(r"[0-5]")


@dataclass(frozen=True)
class Template:
    template: str
    max_chars: int = 2000

    @classmethod
    def load(cls, path: str | Path) -> Template:
        data = template_fields(path, {"template": "{text}"})
        return cls(data["template"], int(data.get("max_chars", 2000)))

    def render(self, text: str) -> str:
        return self.template.replace("{text}", text[: self.max_chars])


def template_fields(path: str | Path, holes: dict[str, str]) -> dict:
    """A prompt YAML's fields, each of ``holes``' keys a string holding its placeholder."""
    data = read_yaml(path)
    for key, hole in holes.items():
        if not isinstance(data.get(key), str) or hole not in data[key]:
            raise MathlensError(f"{path}: field {key!r} must be a string holding {hole}")
    return data


def parse_score(reply: str) -> int | None:
    """The first digit 0-5 of the reply (the prompt ends in "Score:"), or None."""
    match = _SCORE.search(reply)
    return int(match.group()) if match else None


def first_line(reply: str) -> str:
    """The reply's first line with text: an instruct model often opens its turn with a newline
    (SmolLM2 does after "Score:"), which a stop at the first newline would leave empty."""
    return next((line for line in reply.splitlines() if line.strip()), "")


def rate(backend: Backend, texts: Sequence[str], template: Template, max_tokens: int = 8) -> list[int | None]:
    """One greedy rating per text, read from the reply's first line with text; None where it holds no score."""
    replies = backend.generate([template.render(t) for t in texts], Sampling(max_tokens=max_tokens, stop=("\n\n",)))
    return [parse_score(first_line(r[0])) for r in replies]


@dataclass(frozen=True)
class QualityConfig:
    sample: int = 400  # documents the LLM rates
    keep_at: int = 3  # a rating of this or more is worth keeping
    heldout: float = 0.25  # rated documents kept out of the classifier's training, to measure agreement
    seed: int = 0


def train_quality(texts: Sequence[str], ratings: Sequence[int | None], folder: Path, cfg: QualityConfig) -> dict:
    """fastText keep/drop on the rated texts; agreement with the LLM on the held-out rated part."""
    rows = [(t, r >= cfg.keep_at) for t, r in zip(texts, ratings) if r is not None]
    if len({keep for _, keep in rows}) < 2:
        raise MathlensError(f"the rater kept {'all' if rows and rows[0][1] else 'none'} of {len(rows)} parsed "
                            "ratings: a classifier needs both kinds")
    random.Random(cfg.seed).shuffle(rows)
    cut = int(len(rows) * cfg.heldout)
    held, train = rows[:cut], rows[cut:]
    model = fit_fasttext([(KEEP if keep else DROP, text) for text, keep in train], RecallConfig(seed=cfg.seed))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_model(str(folder / "quality.bin"))
    predicted = [s >= 0.5 for s in keep_scores(model, [t for t, _ in held])]
    truth = [k for _, k in held]
    agreement = sum(p == y for p, y in zip(predicted, truth)) / len(held) if held else None
    summary = {"model": str((folder / "quality.bin").resolve()), "rated": len(ratings), "parsed": len(rows),
               "train": len(train), "heldout": len(held), "agreement": agreement, "kappa": cohen_kappa(predicted, truth),
               "llm_keep_share": sum(k for _, k in rows) / len(rows)}
    (folder / "quality.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def keep_scores(model, texts: Sequence[str]) -> list[float]:
    return label_scores(model, texts, KEEP)


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Agreement beyond chance of two keep/drop decisions."""
    n = len(a)
    if not n:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if chance == 1 else (observed - chance) / (1 - chance)


class QualityFilter(FastTextStep):
    """Keeps documents the quality classifier scores at ``threshold`` or more (score in metadata)."""

    name = "⭐ quality classifier"

    def scores(self, texts: list[str]) -> list[float]:
        return keep_scores(self.model, texts)

    def judge(self, doc, score: float) -> bool:
        doc.metadata["quality_score"] = round(score, 6)
        self.stat_update("kept" if score >= self.threshold else "dropped")
        return score >= self.threshold
