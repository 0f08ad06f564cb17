"""Step ⑤: synthesis. A model writes a problem grounded in each document, then solves it
``samples`` times; the problem is kept when a majority of the answers agree (``maj_at_k``, the
harness's vote with equivalent answers grouped), with its document as provenance. Problems an
evaluation set contaminates are dropped. Rows come out in the improvement loop's shape
(``question``, ``answer``, ``solution``), ready for RFT/SFT."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..backends import Backend, Sampling, cut_at_stop
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
               index: Index | None = None, attempts: list | None = None) -> tuple[list[dict], dict]:
    """Verified problems from ``docs`` (dicts with ``id``, ``text`` and ``url``) and the counts of
    each way one was lost; ``attempts`` (a list) receives every document's question, sampled
    answers and verdict, kept or not, so a run shows what its synthesizer wrote."""
    attempts = [] if attempts is None else attempts
    prompts = [templates.question.replace("{text}", d["text"][: templates.max_chars]) for d in docs]
    # No stop string while decoding: an instruct model may open its turn with a blank line
    # (SmolLM2 does), which would end the question before it began; it is cut after.
    replies = backend.generate(prompts, Sampling(max_tokens=cfg.question_tokens, seed=cfg.seed), [str(d["id"]) for d in docs])
    questions = [cut_at_stop(c[0].lstrip(), ("\n\n",)).strip() for c in replies]
    counts = {"documents": len(docs), "no_question": 0, "contaminated": 0, "no_majority": 0, "kept": 0}
    asked = []
    for doc, question in zip(docs, questions):
        lost = "no_question" if not question else "contaminated" if index is not None and index.match(question) else None
        if lost:
            counts[lost] += 1
            attempts.append({"source_url": doc.get("url"), "question": question, "verdict": lost})
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
        attempt = {"source_url": doc.get("url"), "question": question, "answers": answers, "votes": votes}
        if winner is None or votes / len(answers) <= cfg.agree:
            counts["no_majority"] += 1
            attempts.append(attempt | {"verdict": "no_majority", "first_solution": samples[0].strip()})
            continue
        attempts.append(attempt | {"verdict": "kept"})
        solution = next(s for s, a in zip(samples, answers) if a is not None and (a == winner or equivalent(a, winner)))
        rows.append({"question": question, "answer": winner, "solution": solution.strip(), "votes": votes,
                     "samples": len(answers), "source_id": doc["id"], "source_url": doc.get("url")})
        counts["kept"] += 1
    return rows, counts
