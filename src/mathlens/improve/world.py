"""The loop's problems on disk: the seed policy's labelled set, the training pool, the held-out
split, and GRPO's queries (``rl``) where the loop runs GRPO on problems of its own.

Generated once from the word-problem world (``tasks.word_problems``) with seeds apart from each
other, or read from the JSONL files a config names (``question`` and ``answer`` per line; an
empty answer is labelled by vote). Later rounds and resumed loops read the same files.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MathlensError
from ..records import read_jsonl, write_jsonl
from ..tasks.word_problems import WorldConfig, word_problems
from .config import LoopConfig

NAMES = ("seed", "pool", "heldout")


def world_files(cfg: LoopConfig, out: Path) -> dict[str, Path]:
    """Paths of ``seed.jsonl``, ``pool.jsonl`` and ``heldout.jsonl`` under ``out``, written if absent."""
    w = cfg.world
    names = NAMES + (("rl",) if rl_queries(cfg) else ())
    paths = {name: out / f"{name}.jsonl" for name in names}
    if all(p.exists() for p in paths.values()):
        return paths
    if (w.pool_file is None) != (w.heldout_file is None):
        raise MathlensError("pool_file and heldout_file go together: give both, or neither for the word world")
    if w.pool_file is not None:
        rows = {"seed": [], "pool": _read_problems(w.pool_file, "pool"), "heldout": _read_problems(w.heldout_file, "heldout")}
    else:
        rows = {
            "seed": word_problems(w.n_seed, cfg.seed * 3 + 1, w.seed_levels, cfg.mode,
                                  WorldConfig(distractors=w.seed_distractors), prefix="s"),  # fmt: skip
            "pool": word_problems(w.n_pool, cfg.seed * 3 + 2, w.levels, cfg.mode, prefix="p"),
            "heldout": word_problems(w.n_heldout, cfg.seed * 3 + 3, w.levels, cfg.mode, prefix="h"),
        }
    if "rl" in paths:
        rows["rl"] = (_read_problems(w.rl_file, "rl") if w.rl_file is not None
                      else word_problems(w.n_rl, 10_000 + cfg.seed, w.levels, cfg.mode, prefix="r"))  # fmt: skip
    for name, path in paths.items():
        write_jsonl(path, rows[name])
    return paths


def rl_queries(cfg: LoopConfig) -> bool:
    """Whether GRPO draws its problems from a query set of its own (else from the round's pool samples)."""
    return cfg.rl.grpo != "none" and (cfg.world.n_rl > 0 or cfg.world.rl_file is not None)


def _read_problems(path: str, prefix: str) -> list[dict]:
    rows = []
    for where, row in read_jsonl(path):
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            raise MathlensError(f"{where}: field 'question' must be a non-empty string")
        answer = row.get("answer", "")
        rows.append({"id": str(row.get("id", f"{prefix}{len(rows)}")), "question": row["question"],
                     "answer": "" if answer is None else str(answer)})  # fmt: skip
    if not rows:
        raise MathlensError(f"{path}: no problems")
    return rows
