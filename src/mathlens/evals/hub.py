"""Where each named benchmark lives on the Hugging Face hub, and reading it from there.

The project ships no benchmark data (it holds only what we wrote). As lm-evaluation-harness
does, each name maps to a public dataset (repository, config, split) and to the fields our
loader for that benchmark reads; ``datasets`` downloads and caches it. A local copy
(``--data-dir`` / ``$MATHLENS_BENCHMARKS``) takes precedence: see ``problems.load_benchmark``.

The sources and their field names come from the datasets' cards: the hub cannot be reached
from where this was written, so none was downloaded here (the tests read a folder they write in
the hub's layout). ``college_math`` has no public hub copy we know of; it needs a local copy.
Counts and problem sets can differ from the Qwen2.5-Math harness files (MATH-500 is not the
harness's ``math_test500``); the README's provenance table says where.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import MathlensError


@dataclass(frozen=True)
class HubSource:
    repo: str
    split: str
    config: str | None = None
    rename: dict[str, str] = field(default_factory=dict)  # hub field → the field our loader reads
    licence: str = "as published"
    gold: str = "`answer`"  # how the gold is read, for the README's provenance table

    def describe(self) -> str:
        return f"hf:{self.repo}{':' + self.config if self.config else ''}@{self.split}"


HUB_SOURCES: dict[str, HubSource] = {
    "gsm8k": HubSource("openai/gsm8k", "test", "main", licence="MIT", gold="after `####` in `answer`"),
    "math_test500": HubSource("HuggingFaceH4/MATH-500", "test", licence="MIT"),
    "minerva_math": HubSource("math-ai/minervamath", "test", rename={"question": "problem"}),
    "aime24": HubSource("HuggingFaceH4/aime_2024", "train"),
    "aime25": HubSource("math-ai/aime25", "test"),
    "amc23": HubSource("math-ai/amc23", "test"),
    "gaokao2023en": HubSource("MARIO-Math-Reasoning/Gaokao2023-Math-En", "train", licence="MIT"),
    "olympiadbench": HubSource(
        "Hothan/OlympiadBench", "train", "OE_TO_maths_en_COMP", licence="Apache-2.0",
        gold="`final_answer` (a list, joined)",
    ),
    "svamp": HubSource("ChilleD/SVAMP", "train+test", licence="MIT", gold="`Answer` (number)"),
    "asdiv": HubSource("EleutherAI/asdiv", "validation", licence="CC BY-NC 4.0", gold="`answer`, unit dropped"),
    "mawps": HubSource("MU-NLPC/Calc-mawps", "test", rename={"question": "input", "result_float": "target"}, licence="MIT"),
    "cmath": HubSource("weitianwen/cmath", "test", rename={"golden": "answer"}, licence="CC BY 4.0"),
    "mmlu_stem": HubSource("TIGER-Lab/MMLU-STEM", "test", rename={"subject": "type"}, licence="MIT", gold="`answer` index → letter"),
    "sat_math": HubSource("mcaleste/sat_multiple_choice_math_may_23", "train", gold="`Answer` (letter)"),
}


@contextmanager
def _quiet_hub():
    """huggingface_hub logs every retry; the user gets one line from us instead."""
    loggers = [logging.getLogger(name) for name in ("huggingface_hub", "datasets", "fsspec", "urllib3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def load_rows(repo: str, config: str | None, split: str, rename: dict[str, str] | None = None) -> list[dict]:
    """Rows of a hub dataset (or a local folder in the hub's layout), cached by ``datasets``."""
    try:
        import datasets
    except ImportError:
        raise MathlensError("loading from the hub needs datasets: pip install 'mathlens[hub]'") from None
    try:
        with _quiet_hub():
            rows = datasets.load_dataset(repo, config, split=split)
    except Exception as exc:  # noqa: BLE001 - datasets raises many kinds; one line says which
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MathlensError(f"cannot load {repo} from the hub ({type(exc).__name__}: {reason})") from None
    rename = rename or {}
    return [{rename.get(k, k): v for k, v in dict(row).items()} for row in rows]


def hub_rows(name: str) -> list[dict]:
    """The rows of a named benchmark from its hub source, with its fields renamed for our loader."""
    source = HUB_SOURCES[name]
    return load_rows(source.repo, source.config, source.split, source.rename)
