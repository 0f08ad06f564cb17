"""Math benchmarks as one record: ``Problem(id, question, answer, source, meta)``, gold parsed.

One loader per benchmark of the Qwen2.5-Math evaluation data (their field names differ:
GSM8K's answer is after ``####``, Minerva's is the solution's last ``\\boxed{}``, OlympiadBench
has a list, MMLU-STEM an index into the choices, …). Any other JSONL with ``question`` and
``answer`` fields loads too, by path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MathlensError
from ..grading import last_boxed
from ..records import read_jsonl

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Problem:
    id: str
    question: str
    answer: str  # the gold answer, parsed: what a correct prediction must be equivalent to
    source: str
    meta: dict = field(default_factory=dict)


def _number(value) -> str:
    """27.0 → "27", 2.5 → "2.5", "18" → "18"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _strip_math(text: str) -> str:
    text = str(text).strip()
    return text[1:-1].strip() if len(text) > 1 and text[0] == text[-1] == "$" else text


def _gsm8k(row: dict) -> tuple[str, str, dict]:
    return row["question"], row["answer"].split("####")[-1].strip().replace(",", ""), {}


def _math(row: dict) -> tuple[str, str, dict]:
    answer = row.get("answer") or last_boxed(row["solution"]) or ""
    return row["problem"], answer, {"level": row.get("level"), "subject": row.get("subject")}


def _minerva(row: dict) -> tuple[str, str, dict]:
    return row["problem"], last_boxed(row["solution"]) or "", {"subject": row.get("type")}


def _answer(row: dict, key: str = "answer") -> object:
    """``row[key]``, which must hold something: a null gold would grade "None" as right."""
    if row[key] is None:
        raise ValueError(f"field {key!r} is null")
    return row[key]


def _problem_answer(row: dict) -> tuple[str, str, dict]:
    return row.get("problem") or row["question"], _strip_math(_number(_answer(row))), {}


def _gaokao(row: dict) -> tuple[str, str, dict]:
    question, answer, meta = _problem_answer(row)
    if not answer:  # two rows carry the answer at the end of the question instead
        m = re.search(r"\s*answers?\s*:\s*(.+?)\s*$", question, re.IGNORECASE)
        if m:
            question, answer = question[: m.start()], _strip_math(m.group(1))
    return question, answer, meta


def _olympiad(row: dict) -> tuple[str, str, dict]:
    answers = [_strip_math(a) for a in row["final_answer"]]
    meta = {k: row.get(k) for k in ("subfield", "answer_type", "unit", "is_multiple_answer")}
    question = row["question"] if not row.get("context") else f"{row['context']}\n{row['question']}"
    return question, ", ".join(answers), {**meta, "subject": row.get("subfield")}


def _college(row: dict) -> tuple[str, str, dict]:
    return row["question"], _strip_math(row["answer"]), {"subject": row.get("data_topic")}


def _svamp(row: dict) -> tuple[str, str, dict]:
    return f"{row['Body'].strip()} {row['Question'].strip()}", _number(row["Answer"]), {"type": row.get("Type")}


def _asdiv(row: dict) -> tuple[str, str, dict]:
    answer = re.sub(r"\s*\([^()]*\)\s*$", "", str(row["answer"])).strip()  # "9 (apples)" → "9"
    return f"{row['body'].strip()} {row['question'].strip()}", answer, {"type": row.get("solution_type")}


def _mawps(row: dict) -> tuple[str, str, dict]:
    return row["input"], _number(row["target"]), {}


def _mmlu(row: dict) -> tuple[str, str, dict]:
    choices = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(row["choices"]))
    return f"{row['question']}\n{choices}", LETTERS[int(row["answer"])], {"subject": row.get("type")}


def _sat(row: dict) -> tuple[str, str, dict]:
    return f"{row['question']}\n{row['options']}", str(row["Answer"]).strip(), {}


def _plain(row: dict) -> tuple[str, str, dict]:
    question = row.get("question") or row.get("problem")
    if question is None:
        raise KeyError("question")
    meta = {k: row[k] for k in ("subject", "level") if k in row}  # for per-subject / per-level tables
    return question, _strip_math(_number(_answer(row))), meta


LOADERS: dict[str, Callable[[dict], tuple[str, str, dict]]] = {
    "gsm8k": _gsm8k,
    "math_test500": _math,
    "minerva_math": _minerva,
    "aime24": _problem_answer,
    "aime25": _problem_answer,
    "amc23": _problem_answer,
    "gaokao2023en": _gaokao,
    "olympiadbench": _olympiad,
    "college_math": _college,
    "svamp": _svamp,
    "asdiv": _asdiv,
    "mawps": _mawps,
    "cmath": _problem_answer,
    "mmlu_stem": _mmlu,
    "sat_math": _sat,
}


def benchmarks_dir(data_dir: str | Path | None = None) -> Path:
    """Where the benchmark folders are: the argument, $MATHLENS_BENCHMARKS, or shared data beside us."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("MATHLENS_BENCHMARKS"):
        return Path(os.environ["MATHLENS_BENCHMARKS"])
    shared = os.environ.get("MATHLENS_SHARED_DATA")
    return Path(shared) / "benchmarks" if shared else Path("../shared/data/benchmarks")


def _hub_rows(spec: str) -> tuple[list[dict], Callable[[dict], tuple[str, str, dict]], str]:
    """``hf:REPO_OR_DIR[:CONFIG][@SPLIT]`` through ``datasets.load_dataset`` (the ``hub`` extra).

    The rows are read with the loader of the benchmark the repository is named after
    (``openai/gsm8k`` → the GSM8K loader), else as plain question/answer rows.
    """
    try:
        import datasets
    except ImportError:
        raise MathlensError("hf: benchmarks need datasets: pip install 'mathlens[hub]'") from None
    body, _, split = spec[3:].partition("@")
    repo, _, config = body.partition(":")
    try:
        rows = datasets.load_dataset(repo, config or None, split=split or "test")
    except Exception as exc:  # noqa: BLE001 - datasets raises many kinds; the user needs the message
        raise MathlensError(f"{spec}: cannot load ({type(exc).__name__}: {exc})") from None
    base = Path(repo.rstrip("/")).name.lower()
    loader = next((f for key, f in LOADERS.items() if key == base or key.startswith(base)), _plain)
    return [dict(r) for r in rows], loader, base


def load_benchmark(name: str, data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """A benchmark by name (``gsm8k``, …) from ``data_dir``, a JSONL file by path, or ``hf:REPO``."""
    if name.startswith("hf:"):
        rows, loader, source = _hub_rows(name)
        problems = []
        for i, row in enumerate(rows[:limit] if limit is not None else rows):
            try:
                question, answer, meta = loader(row)
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise MathlensError(f"{name} row {i}: missing or bad field {exc}") from None
            problems.append(Problem(str(row.get("id", row.get("idx", i))), question, answer, source, meta))
        return problems
    if name in LOADERS:
        path, loader = benchmarks_dir(data_dir) / name / "test.jsonl", LOADERS[name]
    elif name.endswith(".jsonl") or Path(name).is_file():
        path, loader = Path(name), _plain
    else:
        raise MathlensError(f"unknown benchmark {name!r}: one of {', '.join(LOADERS)}, or a .jsonl path")
    if not path.is_file():
        raise MathlensError(f"{path}: cannot read (no such file); set --data-dir or MATHLENS_BENCHMARKS")
    problems = []
    for where, row in read_jsonl(path):
        try:
            question, answer, meta = loader(row)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise MathlensError(f"{where}: missing or bad field {exc}") from None
        lineno = int(where.rsplit(":", 1)[1])
        pid = str(row.get("id", row.get("idx", row.get("ID", lineno - 1))))
        problems.append(Problem(pid, question, answer, Path(name).stem if loader is _plain else name, meta))
        if limit is not None and len(problems) >= limit:
            break
    if not problems:
        raise MathlensError(f"{path}: no problems in it")
    return problems
