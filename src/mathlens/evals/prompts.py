"""Prompt templates by name: the Qwen2.5-Math CoT and TIR system prompts, a few-shot CoT, or a file.

A template gives chat messages; ``backends.as_text`` turns them into the text a completion
model reads, through the tokenizer's chat template when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..backends.chat import raw_text
from ..errors import MathlensError


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str = ""
    user: str = "{question}"
    shots: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (question, answer) pairs
    stop: tuple[str, ...] = field(default_factory=tuple)  # where an answer ends (a base model goes on)

    def messages(self, question: str, fewshot_as_turns: bool = False, system: str | None = None) -> list[dict]:
        """The chat for ``question``: the system prompt (``system`` replaces the template's),
        then the shots as alternating turns (``fewshot_as_turns``, lm-evaluation-harness's
        multiturn) or, by default, shots and question as one user turn."""
        system = self.system if system is None else system
        out = [{"role": "system", "content": system}] if system else []
        turns: list[dict] = []
        for q, a in self.shots:
            turns += [{"role": "user", "content": self.user.format(question=q)}, {"role": "assistant", "content": a}]
        turns.append({"role": "user", "content": self.user.format(question=question)})
        if len(turns) > 1 and not fewshot_as_turns:
            turns = [{"role": "user", "content": raw_text(turns)}]
        return out + turns


FEW_SHOT = (
    (
        (
            "There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are "
            "done, there will be 21 trees. How many trees did the grove workers plant today?"
        ),
        (
            "There are 15 trees originally. Then there were 21 trees after some more were planted. "
            "So there must have been 21 - 15 = 6. The answer is $\\boxed{6}$."
        ),
    ),
    (
        "If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
        "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is $\\boxed{5}$.",
    ),
)

TEMPLATES = {
    "qwen25-math-cot": PromptTemplate(
        "qwen25-math-cot", system="Please reason step by step, and put your final answer within \\boxed{}."
    ),
    "qwen25-math-tir": PromptTemplate(
        "qwen25-math-tir",
        system="Please integrate natural language reasoning with programs to solve the problem above, "
        "and put your final answer within \\boxed{}.",
    ),
    "fewshot-cot": PromptTemplate(
        "fewshot-cot", user="Question: {question}\nAnswer:", shots=FEW_SHOT, stop=("\n\nQuestion:",)
    ),
    "plain": PromptTemplate("plain"),
}


def load_template(name_or_path: str) -> PromptTemplate:
    """A template by name, or a YAML file with ``system``, ``user`` (containing {question}),
    ``shots`` and ``stop`` (a string or a list)."""
    if name_or_path in TEMPLATES:
        return TEMPLATES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise MathlensError(f"unknown prompt template {name_or_path!r}: one of {', '.join(TEMPLATES)}, or a YAML file")
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise MathlensError(f"{path}: not valid YAML ({err})") from None
    unknown = set(spec) - {"system", "user", "shots", "stop"}
    if unknown:
        raise MathlensError(f"{path}: unknown key {min(unknown)!r} (system, user, shots, stop)")
    user = spec.get("user", "{question}")
    if "{question}" not in user:
        raise MathlensError(f"{path}: 'user' must contain {{question}}")
    shots = tuple((s["question"], s["answer"]) for s in spec.get("shots", []))
    stop = spec.get("stop", [])
    stop = (stop,) if isinstance(stop, str) else tuple(stop)
    return PromptTemplate(path.stem, spec.get("system", ""), user, shots, stop)
