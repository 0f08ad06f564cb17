"""The lab through any backend: an LSO grid or a length split answered by a model that is
called, not trained here (a tiny checkpoint, an HF model, vLLM, an OpenAI-style server).

Prompts are the run's format with k demonstrations from the training cells in front, as the
paper's in-context rule-following experiment with GPT-3.5 does: the rule once (code, words
or pseudo-code), then k solved examples, then the question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..backends import Backend, make_backend
from ..formats import Format, make_format
from ..backends.chat import backend_tokenizer, prompting_record, render, uses_chat_template
from ..records import Example
from ..tasks import Task
from .configs import ProbeConfig
from .predict import SHOT_BREAK, complete


def probe_format(name: str, probe: ProbeConfig, rule_style: str | None = None) -> Format:
    """The format as a called model reads it: the rule spelled out in the prompt for a
    pretrained model (code style), compact and unstated for a tiny checkpoint."""
    if name != "rule":
        return make_format(name)
    style = rule_style or ("compact" if probe.backend == "tiny" else "code")
    return make_format(name, style=style, rule_text=probe.rule_text)


def open_backend(probe: ProbeConfig, device: str = "auto") -> Backend:
    options: dict = {}
    if probe.backend == "openai":
        options = {"base_url": probe.base_url, "api": probe.api}
    elif probe.backend == "tiny":
        options = {"device": device}
    elif probe.backend == "hf":
        options = {"batch_size": probe.gen_batch_size, "model_args": probe.model_args}
    elif probe.backend == "vllm":
        options = {"model_args": probe.model_args}
    return make_backend(probe.backend, probe.backend_model, **options)


def prompting(backend: Backend, probe: ProbeConfig) -> dict:
    """What the cells' prompts were made with (``prompting.json`` beside the run's metrics)."""
    stop = () if chat_used(backend, probe) or not probe.shots else (SHOT_BREAK,)
    return prompting_record(backend_tokenizer(backend), probe.chat_template, f"lab {probe.shots}-shot", stop, probe.system,
                            probe.fewshot_as_turns)  # fmt: skip


def chat_used(backend: Backend, probe: ProbeConfig) -> bool:
    return uses_chat_template(backend_tokenizer(backend), probe.chat_template)


def demos_for(pool: Sequence[tuple[int, int]], k: int, seed: int, operands: tuple[int, int]) -> list[tuple[int, int]]:
    """k demonstrations for one question, seeded by the question (its own pair never among them)."""
    if not k:
        return []
    rng = random.Random(f"{seed}:{operands[0]},{operands[1]}")
    choices = [p for p in pool if tuple(p) != tuple(operands)]
    return rng.sample(choices, min(k, len(choices)))


def shot_prompt(fmt: Format, task: Task, demos: Sequence[tuple[int, int]], a: int, b: int) -> str:
    """The few-shot text a completion model continues: the rule, the solved demonstrations, the question."""
    solved = "".join(fmt.question(task, x, y) + fmt.target(task, x, y) + SHOT_BREAK for x, y in demos)
    return fmt.statement(task) + solved + fmt.question(task, a, b)


def shot_messages(
    fmt: Format, task: Task, demos: Sequence[tuple[int, int]], a: int, b: int, probe: ProbeConfig
) -> list[dict]:
    """The same prompt as a chat: one user turn, or with ``fewshot_as_turns`` each
    demonstration a user/assistant pair (the rule opens the first user turn)."""
    system = [{"role": "system", "content": probe.system}] if probe.system else []
    if not probe.fewshot_as_turns:
        return system + [{"role": "user", "content": shot_prompt(fmt, task, demos, a, b)}]
    turns: list[dict] = []
    for x, y in demos:
        turns += [{"role": "user", "content": fmt.question(task, x, y)},
                  {"role": "assistant", "content": fmt.target(task, x, y)}]  # fmt: skip
    turns.append({"role": "user", "content": fmt.question(task, a, b)})
    turns[0] = {"role": "user", "content": fmt.statement(task) + turns[0]["content"]}
    return system + turns


# A chat model may talk before it answers ("The sum is 68."): room for that, besides the target.
TALK_TOKENS = 48


def probe_examples(
    backend: Backend,
    task: Task,
    fmt: Format,
    examples: Sequence[Example],
    pool: Sequence[tuple[int, int]],
    probe: ProbeConfig,
    seed: int,
) -> list[dict]:
    """``complete``'s rows for ``examples``, each with its prompt and, with several samples,
    ``hits`` (right samples) and ``pass1``; ``correct`` is pass@k."""
    demos = [demos_for(pool, probe.shots, seed, e.operands) for e in examples]
    prompts = [shot_prompt(fmt, task, d, *e.operands) for d, e in zip(demos, examples)]
    longest = max(len(fmt.target(task, *e.operands)) for e in examples)
    chat = chat_used(backend, probe)
    if chat:
        tokenizer = backend_tokenizer(backend)
        rendered = [render(shot_messages(fmt, task, d, *e.operands, probe), tokenizer, probe.chat_template)
                    for d, e in zip(demos, examples)]  # fmt: skip
    else:  # exactly the few-shot text: the model continues it as a completion
        rendered = [(probe.system + "\n\n" if probe.system else "") + p for p in prompts]
    done = complete(
        backend,
        rendered,
        fmt,
        probe.max_tokens or longest + 2 + (TALK_TOKENS if chat else 0),
        samples=probe.n,
        temperature=probe.temperature,
        seed=seed,
        few_shot=probe.shots > 0 and not chat,  # a chat turn ends at the model's end of turn
    )
    for e, prompt, row in zip(examples, rendered, done):
        row["prompt"] = prompt
        preds = row.get("preds", [row["pred"]])
        row["hits"] = sum(p == e.answer for p in preds)
        row["correct"] = row["hits"] > 0
        if probe.n > 1:
            row["pass1"] = row["hits"] / len(preds)
    return done


def probed_model(cfg) -> dict | None:
    """The provenance of the pretrained model a lab run probes or fine-tunes (``cfg.probe``);
    None where the run trains its own tiny model."""
    from ..provenance import model_record

    if cfg.finetune.base_model:
        return model_record(cfg.finetune.base_model, "hf", fine_tuned=True)
    return model_record(cfg.probe.backend_model, cfg.probe.backend)
