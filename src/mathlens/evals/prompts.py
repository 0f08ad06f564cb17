"""Prompt templates by name: the Qwen2.5-Math CoT and TIR system prompts, a few-shot CoT, or a file.

A template gives chat messages; ``backends.as_text`` turns them into the text a completion
model reads, through the tokenizer's chat template when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import MathlensError


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str = ""
    user: str = "{question}"
    shots: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (question, answer) pairs

    def messages(self, question: str) -> list[dict]:
        out = [{"role": "system", "content": self.system}] if self.system else []
        for q, a in self.shots:
            out += [{"role": "user", "content": self.user.format(question=q)}, {"role": "assistant", "content": a}]
        return out + [{"role": "user", "content": self.user.format(question=question)}]


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
    "fewshot-cot": PromptTemplate("fewshot-cot", user="Question: {question}\nAnswer:", shots=FEW_SHOT),
    "plain": PromptTemplate("plain"),
}


def load_template(name_or_path: str) -> PromptTemplate:
    """A template by name, or a YAML file with ``system``, ``user`` (containing {question}) and ``shots``."""
    if name_or_path in TEMPLATES:
        return TEMPLATES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise MathlensError(f"unknown prompt template {name_or_path!r}: one of {', '.join(TEMPLATES)}, or a YAML file")
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise MathlensError(f"{path}: not valid YAML ({err})") from None
    unknown = set(spec) - {"system", "user", "shots"}
    if unknown:
        raise MathlensError(f"{path}: unknown key {min(unknown)!r} (system, user, shots)")
    user = spec.get("user", "{question}")
    if "{question}" not in user:
        raise MathlensError(f"{path}: 'user' must contain {{question}}")
    shots = tuple((s["question"], s["answer"]) for s in spec.get("shots", []))
    return PromptTemplate(path.stem, spec.get("system", ""), user, shots)
