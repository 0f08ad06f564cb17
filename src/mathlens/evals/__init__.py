"""The evaluation harness: math benchmarks, prompt templates, resumable eval runs, reports,
and a word-problem world small enough to evaluate on a laptop.

    from mathlens.evals import EvalConfig, run_eval, summarize
    metrics = run_eval(EvalConfig(backend="hf", model="smollm2-135m-instruct", benchmark="gsm8k", limit=20))

Names load on first use (``lazy.py``): reading a config imports no model stack.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_WHERE = {
    "EvalConfig": "config",
    "run_eval": "run",
    "Problem": "problems",
    "load_benchmark": "problems",
    "PromptTemplate": "prompts",
    "load_template": "prompts",
    "read_samples": "report",
    "summarize": "report",
    "loop_rounds": "report",
    "WordsConfig": "words",
    "word_problems": "words",
    "train_word_model": "words",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
