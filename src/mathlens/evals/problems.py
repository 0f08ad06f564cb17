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
from . import hub
from .hub import HUB_SOURCES, load_rows

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
    answer = row.get("answer") or last_boxed(row["solution"]) or ""  # the hub copy gives the answer itself
    return row["problem"], answer, {"subject": row.get("type")}


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
    return _local_dir(data_dir)[0]


def _local_dir(data_dir: str | Path | None) -> tuple[Path, bool]:
    """The folder, and whether the user named it (then a missing set is an error, not a download)."""
    if data_dir is not None:
        return Path(data_dir), True
    if os.environ.get("MATHLENS_BENCHMARKS"):
        return Path(os.environ["MATHLENS_BENCHMARKS"]), True
    shared = os.environ.get("MATHLENS_SHARED_DATA")
    return (Path(shared) / "benchmarks" if shared else Path("../shared/data/benchmarks")), False


def _loader_for(repo: str) -> tuple[Callable[[dict], tuple[str, str, dict]], str]:
    """``hf:`` rows are read with the loader of the benchmark the repository is named after
    (``openai/gsm8k`` → the GSM8K loader), else as plain question/answer rows."""
    base = Path(repo.rstrip("/")).name.lower()
    return next((f for key, f in LOADERS.items() if key == base or key.startswith(base)), _plain), base


def _file_rows(path: Path):
    """(where, row, position) for each line; a row without an id is known by its line index."""
    for where, row in read_jsonl(path):
        yield where, row, int(where.rsplit(":", 1)[1]) - 1


def _numbered(spec: str, rows: list[dict]):
    """(where, row, position) for rows from the hub: ``spec row i`` names errors."""
    return ((f"{spec} row {i}", row, i) for i, row in enumerate(rows))


def _problems(rows, loader, source: str, limit: int | None) -> list[Problem]:
    """``rows`` yields (where, row, position); ``where`` (``file:line``, ``spec row i``) names errors."""
    problems = []
    for where, row, i in rows:
        try:
            question, answer, meta = loader(row)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise MathlensError(f"{where}: missing or bad field {exc}") from None
        pid = str(row.get("id", row.get("idx", row.get("ID", i))))
        problems.append(Problem(pid, question, answer, source, meta))
        if limit is not None and len(problems) >= limit:
            break
    return problems


def _hub_problems(name: str, limit: int | None, local: Path) -> list[Problem]:
    if name not in HUB_SOURCES:
        raise MathlensError(
            f"{local}: no such file, and {name} has no public hub source; "
            f"pass --data-dir DIR holding {name}/test.jsonl or set MATHLENS_BENCHMARKS"
        )
    source = HUB_SOURCES[name]
    try:
        rows = hub.hub_rows(name)
    except MathlensError as exc:
        raise MathlensError(
            f"{name}: no local copy ({local}) and {exc} [{source.describe()}]; "
            f"pass --data-dir DIR holding {name}/test.jsonl or set MATHLENS_BENCHMARKS"
        ) from None
    return _problems(_numbered(source.describe(), rows), LOADERS[name], name, limit)


def load_benchmark(name: str, data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """A benchmark by name (``gsm8k``, …), a JSONL file by path, or ``hf:REPO[:CONFIG][@SPLIT]``.

    A named set is read from the local folder (``data_dir``, $MATHLENS_BENCHMARKS, or the shared
    data beside the checkout) when it is there, else from its public hub source (``hub.py``),
    downloaded and cached by ``datasets``. A folder the user named must hold the set.
    """
    return load_benchmark_from(name, data_dir, limit)[0]


def load_benchmark_from(name: str, data_dir: str | Path | None = None,
                        limit: int | None = None) -> tuple[list[Problem], str]:  # fmt: skip
    """``load_benchmark``, and where the problems came from (the file, or the hub source): a
    run's provenance names it."""
    if name.startswith("hf:"):
        body, _, split = name[3:].partition("@")
        repo, _, config = body.partition(":")
        loader, base = _loader_for(repo)
        rows = load_rows(repo, config or None, split or "test")
        problems, where = _problems(_numbered(name, rows), loader, base, limit), name
    elif name in LOADERS:
        folder, named = _local_dir(data_dir)
        path = folder / name / "test.jsonl"
        if not path.is_file() and named:
            raise MathlensError(f"{path}: cannot read (no such file); the folder given by --data-dir "
                                f"or MATHLENS_BENCHMARKS must hold {name}/test.jsonl")
        if path.is_file():
            problems, where = _problems(_file_rows(path), LOADERS[name], name, limit), path
        else:
            problems, where = _hub_problems(name, limit, path), HUB_SOURCES[name].describe()
    elif name.endswith(".jsonl") or Path(name).is_file():
        path = Path(name)
        if not path.is_file():
            raise MathlensError(f"{path}: cannot read (no such file)")
        problems, where = _problems(_file_rows(path), _plain, path.stem, limit), path
    else:
        raise MathlensError(f"unknown benchmark {name!r}: one of {', '.join(LOADERS)}, or a .jsonl path")
    if not problems:
        raise MathlensError(f"{where}: no problems in it")
    return problems, str(where)
