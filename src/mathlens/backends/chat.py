"""How chat messages become the text a completion model reads, the one place that decides it.

``chat_template``:
- ``off``: exactly the text. One message is its content as it is; several (a system prompt,
  few-shot turns) are joined the way lm-evaluation-harness joins a few-shot prompt: an answer
  after its question with a space, everything else with a blank line.
- ``on``: the tokenizer's chat template (an error when it has none).
- ``auto``: the chat template when the tokenizer has one (instruct models), else plain turns,
  the layout the tiny models are trained on (``plain_turns``).

Every run records what it used (``prompting_record``): the template, the mode, a hash of the
chat template that rendered the prompts and the stop strings, so that two runs can be told apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ..errors import MathlensError

CHAT_TEMPLATE_MODES = ("auto", "on", "off")


def check_mode(mode: str) -> str:
    if mode not in CHAT_TEMPLATE_MODES:
        raise MathlensError(f"chat template {mode!r}: one of {', '.join(CHAT_TEMPLATE_MODES)}")
    return mode


def backend_tokenizer(backend: Any) -> Any:
    """The backend's tokenizer where it can render chat (hf, vllm), else None (tiny, openai)."""
    tokenizer = getattr(backend, "tokenizer", None)
    return tokenizer if hasattr(tokenizer, "apply_chat_template") else None


def has_chat_template(tokenizer: Any) -> bool:
    return tokenizer is not None and hasattr(tokenizer, "apply_chat_template") and bool(
        getattr(tokenizer, "chat_template", None)
    )


def uses_chat_template(tokenizer: Any, mode: str = "auto") -> bool:
    """Whether prompts go through the chat template under ``mode``."""
    check_mode(mode)
    if mode == "on" and not has_chat_template(tokenizer):
        raise MathlensError(
            "--chat-template on: this model's tokenizer has no chat template, or the backend renders none "
            "(use auto or off; the openai backend applies the server's template with --api chat)"
        )
    return mode == "on" or (mode == "auto" and has_chat_template(tokenizer))


def plain_turns(messages: Sequence[dict]) -> str:
    """Turns one after another, a newline after each answer: what the tiny models read."""
    parts = [m["content"] if m["role"] != "assistant" else m["content"] + "\n" for m in messages]
    return "\n\n".join(parts) + "\n"


def raw_text(messages: Sequence[dict]) -> str:
    """The messages as one text and nothing more (``--chat-template off``)."""
    out = ""
    for i, m in enumerate(messages):
        if i:
            out += " " if m["role"] == "assistant" else "\n\n"
        out += m["content"]
    return out


def render(messages: Sequence[dict], tokenizer: Any = None, mode: str = "auto") -> str:
    """The prompt text for ``messages`` under ``mode``; a chat template ends with the
    assistant's turn opened, so the model answers as itself."""
    if uses_chat_template(tokenizer, mode):
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return raw_text(messages) if mode == "off" else plain_turns(messages)


def template_hash(tokenizer: Any) -> str | None:
    """A short hash of the tokenizer's chat template (None when it has none)."""
    if not has_chat_template(tokenizer):
        return None
    template = tokenizer.chat_template
    text = template if isinstance(template, str) else repr(sorted(template.items()) if isinstance(template, dict) else template)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prompting_record(
    tokenizer: Any, mode: str, template: str | None = None, stop: Sequence[str] = (), system: str | None = None,
    fewshot_as_turns: bool = False,
) -> dict:
    """What a run's prompts were made with, for its config.json or metrics.json."""
    used = tokenizer is not None and uses_chat_template(tokenizer, mode)
    return {
        "template": template,
        "chat_template": mode,
        "chat_template_used": used,
        "chat_template_sha256": template_hash(tokenizer) if used else None,
        "fewshot_as_turns": fewshot_as_turns,
        "system": system,
        "stop": list(stop),
    }
