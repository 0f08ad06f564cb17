"""Step ⑤: synthesis. A model writes a problem grounded in each document, then solves it
``samples`` times; the problem is kept when a majority of the answers agree (``maj_at_k``, the
harness's vote with equivalent answers grouped), with its document as provenance. Problems an
evaluation set contaminates are dropped. Rows come out in the improvement loop's shape
(``question``, ``answer``, ``solution``), ready for RFT/SFT."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..backends import Backend, Sampling
from ..grading import equivalent, final_answer, maj_at_k
from ..decontam import Index


@dataclass(frozen=True)
class SynthTemplates:
    question: str
    answer: str
    max_chars: int = 2000

    @classmethod
    def load(cls, path: str | Path) -> SynthTemplates:
        from .rate import template_fields

        data = template_fields(path, {"question": "{text}", "answer": "{question}"})
        return cls(data["question"], data["answer"], int(data.get("max_chars", 2000)))


@dataclass(frozen=True)
class SynthConfig:
    samples: int = 4  # answers per problem; the vote needs a majority of them
    agree: float = 0.5  # the majority answer's share must exceed this
    temperature: float = 0.7
    question_tokens: int = 256
    answer_tokens: int = 512
    seed: int = 0


def synthesize(backend: Backend, docs: Sequence[dict], templates: SynthTemplates, cfg: SynthConfig,
               index: Index | None = None) -> tuple[list[dict], dict]:
    """Verified problems from ``docs`` (dicts with ``id``, ``text`` and ``url``) and the counts of
    each way one was lost."""
    prompts = [templates.question.replace("{text}", d["text"][: templates.max_chars]) for d in docs]
    questions = [c[0].strip() for c in backend.generate(
        prompts, Sampling(max_tokens=cfg.question_tokens, stop=("\n\n",), seed=cfg.seed), [str(d["id"]) for d in docs])]
    counts = {"documents": len(docs), "no_question": 0, "contaminated": 0, "no_majority": 0, "kept": 0}
    asked = []
    for doc, question in zip(docs, questions):
        if not question:
            counts["no_question"] += 1
        elif index is not None and index.match(question):
            counts["contaminated"] += 1
        else:
            asked.append((doc, question))
    sampling = Sampling(n=cfg.samples, temperature=cfg.temperature, max_tokens=cfg.answer_tokens, seed=cfg.seed)
    solutions = backend.generate([templates.answer.replace("{question}", q) for _, q in asked], sampling,
                                 [str(d["id"]) for d, _ in asked]) if asked else []
    rows = []
    for (doc, question), samples in zip(asked, solutions):
        answers = [final_answer(s) for s in samples]
        winner = maj_at_k(answers, len(answers))
        votes = sum(a is not None and (a == winner or equivalent(a, winner)) for a in answers) if winner else 0
        if winner is None or votes / len(answers) <= cfg.agree:
            counts["no_majority"] += 1
            continue
        solution = next(s for s, a in zip(samples, answers) if a is not None and (a == winner or equivalent(a, winner)))
        rows.append({"question": question, "answer": winner, "solution": solution.strip(), "votes": votes,
                     "samples": len(answers), "source_id": doc["id"], "source_url": doc.get("url")})
        counts["kept"] += 1
    return rows, counts
