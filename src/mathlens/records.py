"""The records every stage passes on, each defined once, and JSON Lines in and out, with errors
that name file, line and field.

- ``Example``: one cell of an arithmetic task, what the tiny trainer learns from.
- ``SampleRow`` with its ``Sample`` list: one problem's graded samples, the line of
  ``samples.jsonl`` that eval, the improvement loop, regrade, report, RFT, the reward model and
  GRPO all read. ``read_sample_rows`` is the one reader (it validates, and says what it skips),
  ``SampleRow.to_dict`` the one writer's form.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .errors import MathlensError


@dataclass(frozen=True)
class Example:
    id: int
    task: str
    operands: tuple[int, int]
    prompt: str
    target: str
    answer: str
    split: str  # "train" or "test"
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["operands"] = list(self.operands)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "") -> Example:
        missing = [k for k in ("id", "task", "operands", "prompt", "target", "answer", "split") if k not in d]
        if missing:
            raise MathlensError(f"{where}: missing field {missing[0]!r}")
        ops = d["operands"]
        if not (isinstance(ops, list) and len(ops) == 2 and all(isinstance(x, int) for x in ops)):
            raise MathlensError(f"{where}: field 'operands' must be a list of two integers, not {ops!r}")
        for key in ("prompt", "target", "answer", "split"):
            if not isinstance(d[key], str):
                raise MathlensError(f"{where}: field {key!r} must be a string, not {d[key]!r}")
        return cls(
            d["id"], d["task"], (ops[0], ops[1]), d["prompt"], d["target"], d["answer"], d["split"], d.get("meta", {})
        )


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    """Write all rows, atomically: a crash leaves the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(tmp, path)


def read_jsonl(
    path: str | Path, torn_tail: bool = False, on_torn: Callable[[str], None] | None = None
) -> Iterator[tuple[str, dict]]:
    """Yield (``file:line``, object) for every non-blank line.

    ``torn_tail``: a last line with no newline that is not valid JSON (what a kill mid-write
    leaves) is skipped instead of being an error; ``on_torn`` hears its ``file:line``.
    """
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as err:
        raise MathlensError(f"{path}: cannot read ({err.strerror})") from None
    with f:  # streamed: samples files grow large
        for n, raw in enumerate(f, 1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise MathlensError(f"{where}: not UTF-8 text (byte {err.start + 1} of the line)") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                if torn_tail and not raw.endswith(b"\n"):  # only the last line can lack its newline
                    if on_torn is not None:
                        on_torn(where)
                    return
                raise MathlensError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(obj, dict):
                raise MathlensError(f"{where}: expected a JSON object, not {type(obj).__name__}")
            yield where, obj


def read_json(path: str | Path) -> object:
    """A whole JSON file, with a one-line error naming the file (and the line) where it cannot be read."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except OSError as err:
        raise MathlensError(f"{path}: cannot read ({err.strerror})") from None
    except json.JSONDecodeError as err:
        raise MathlensError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None


def read_examples(path: str | Path) -> list[Example]:
    return [Example.from_dict(obj, where) for where, obj in read_jsonl(path)]


# ---------------------------------------------------------------- graded samples


def say_torn(where: str) -> None:
    """What a reader says when it leaves out a torn last line (a killed run's half-written row)."""
    print(f"mathlens: skipped {where}: a torn last line (a run killed mid-write)", file=sys.stderr)


@dataclass
class Sample:
    """One sampled solution: its text, the grader's verdict and what else a stage added
    (a reward model's score, the seed that drew it, the tool calls a TIR sample made, why its
    decoding ended and how many tokens the model wrote). Keys this record does not know ride
    along in ``extra`` and are written back as they came."""

    completion: str
    pred: str | None = None
    correct: bool | None = None  # None: not graded yet
    how: str = ""
    reward: float | None = None
    seed: int | None = None
    tool_calls: list[dict] | None = None
    extra: dict = field(default_factory=dict)
    finish_reason: str | None = None  # "stop" (a stop string or end of text) or "length" (ran out of tokens)
    tokens: int | None = None  # tokens the model wrote (tool outputs not counted)

    def to_dict(self) -> dict:
        d: dict = {"completion": self.completion}
        if self.correct is not None:
            d.update(pred=self.pred, correct=self.correct, how=self.how)
        for key in ("reward", "seed", "tool_calls", "finish_reason", "tokens"):
            if (value := getattr(self, key)) is not None:
                d[key] = value
        return d | self.extra

    @classmethod
    def from_dict(cls, d: dict, where: str, graded: bool = True) -> Sample:
        if not isinstance(d, dict) or not isinstance(d.get("completion"), str):
            raise MathlensError(f"{where}: needs a 'completion' string")
        if graded and not isinstance(d.get("correct"), bool):
            raise MathlensError(f"{where}: not graded (no 'correct')")
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            d["completion"], d.get("pred"), d.get("correct"), d.get("how", ""), d.get("reward"), d.get("seed"),
            d.get("tool_calls"), {k: v for k, v in d.items() if k not in known}, d.get("finish_reason"), d.get("tokens"),
        )


@dataclass
class SampleRow:
    """One problem and all its samples together (maj@k and rm@k need the group): a line of
    ``samples.jsonl``. ``gold`` is the reference answer, "" (or None) where there is none;
    ``prompt`` what the model read (the rendered text; a chat API's messages as JSON), so a row
    says how it was made; ``prompt_tokens`` its length where the run had a tokenizer."""

    benchmark: str
    id: str
    question: str
    gold: str | None
    samples: list[Sample]
    meta: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    prompt: str | None = None
    prompt_tokens: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.benchmark, self.id

    @property
    def pass_rate(self) -> float | None:
        """The share of the graded samples that are right; None if none is graded."""
        graded = [s.correct for s in self.samples if s.correct is not None]
        return sum(graded) / len(graded) if graded else None

    def to_dict(self) -> dict:
        made = {k: v for k in ("prompt", "prompt_tokens") if (v := getattr(self, k)) is not None}
        return {"benchmark": self.benchmark, "id": self.id, "question": self.question, "gold": self.gold,
                "meta": self.meta, **made, "samples": [s.to_dict() for s in self.samples]} | self.extra  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict, where: str, graded: bool = True, benchmark: str = "") -> SampleRow:
        if "gold" not in d or not isinstance(d.get("samples"), list):
            raise MathlensError(f"{where}: a sample line needs 'gold' and a list 'samples'")
        if "id" not in d or not isinstance(d.get("question"), str):
            raise MathlensError(f"{where}: a sample line needs an 'id' and a 'question' string")
        samples = [Sample.from_dict(s, f"{where}: samples[{i}]", graded) for i, s in enumerate(d["samples"])]
        known = {"benchmark", "id", "question", "gold", "meta", "samples", "prompt", "prompt_tokens"}
        return cls(str(d.get("benchmark") or benchmark), str(d["id"]), d["question"], d["gold"], samples,
                   dict(d.get("meta") or {}), {k: v for k, v in d.items() if k not in known}, d.get("prompt"),
                   d.get("prompt_tokens"))  # fmt: skip


def read_sample_rows(path: str | Path, graded: bool = True, quiet: bool = False) -> list[SampleRow]:
    """Every problem's samples in a ``samples.jsonl``; a torn last line is left out (and said,
    unless ``quiet``), anything else that is not a sample line is an error naming its line.
    ``graded``: every sample must carry a verdict. A row without ``benchmark`` gets the file's name."""
    path = Path(path)
    try:
        return [SampleRow.from_dict(d, where, graded, path.stem)
                for where, d in read_jsonl(path, torn_tail=True, on_torn=None if quiet else say_torn)]  # fmt: skip
    except MathlensError as err:
        if graded and "not graded" in str(err):
            raise MathlensError(f"{err}; run `mathlens grade {path}` first") from None
        raise


def write_sample_rows(path: str | Path, rows: Iterable[SampleRow]) -> None:
    """All rows, atomically (``write_jsonl``)."""
    write_jsonl(path, (row.to_dict() for row in rows))


def append_sample_rows(sink, rows: Iterable[SampleRow]) -> None:
    """Rows onto an open file, on disk before this returns: a kill loses only what was in flight."""
    for row in rows:
        sink.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
    sink.flush()
    os.fsync(sink.fileno())


def cut_torn_tail(path: str | Path) -> None:
    """Drop a partial last line (a kill mid-write) so appending goes on from a whole line."""
    path = Path(path)
    if path.exists():
        data = path.read_bytes()
        keep = data[: data.rfind(b"\n") + 1]
        if len(keep) != len(data):
            path.write_bytes(keep)
