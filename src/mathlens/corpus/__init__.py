"""The math pre-training corpus pipeline of the Qwen2.5-Math report, on datatrove.

Recall math documents with a fastText classifier (in cycles that retrain on what the last one
found), widen the pool by the domains and URL paths where recalled pages cluster, remove exact
and near duplicates, rate quality with an LLM (and a fast classifier trained on its ratings),
synthesize question/answer pairs verified by majority vote, and decontaminate everything
against the evaluation sets. Every step that touches each document is a datatrove pipeline
step, so one config runs on a laptop (local executor) and on a cluster (Ray, Slurm).

    from mathlens.corpus import CorpusConfig, run_corpus
    stats = run_corpus(CorpusConfig(inputs=("data/pool",), decontaminate=(), out="runs/corpus"))

Names load on first use (``lazy.py``): reading a config imports neither datatrove nor fastText.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_WHERE = {
    "CorpusConfig": "pipeline",
    "run_corpus": "pipeline",
    "read_docs": "pipeline",
    "load_stats": "report",
    "funnel": "report",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
