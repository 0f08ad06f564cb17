"""The loop's problems on disk: the seed policy's labelled set, the training pool, the held-out
split, and GRPO's queries (``rl``) where the loop runs GRPO on problems of its own.

Generated once from the word-problem world (``tasks.word_problems``) with seeds apart from each
other, or read from the JSONL files a config names (``question`` and ``answer`` per line; an
empty answer is labelled by vote). Later rounds and resumed loops read the same files.

With ``frontier``, a round's pool and GRPO's queries are drawn fresh, at one level, into the
round's own folder: the loop climbs the word world as ``mathlens climb`` climbs in length.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..errors import MathlensError
from ..records import read_jsonl, write_jsonl
from ..tasks.word_problems import ONE_KNOB, WorldConfig, word_problems
from .config import LoopConfig

NAMES = ("seed", "pool", "heldout")


def world_files(cfg: LoopConfig, out: Path) -> dict[str, Path]:
    """Paths of ``seed.jsonl``, ``pool.jsonl`` and ``heldout.jsonl`` under ``out``, written if absent."""
    w = cfg.world
    world = world_config(cfg)
    names = ("seed", "heldout") if w.frontier else NAMES + (("rl",) if rl_queries(cfg) else ())
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
                                  replace(world, distractors=w.seed_distractors, trap=0.0), prefix="s"),  # fmt: skip
            "pool": word_problems(w.n_pool, cfg.seed * 3 + 2, w.levels, cfg.mode, world, prefix="p"),
            "heldout": word_problems(w.n_heldout, cfg.seed * 3 + 3, w.levels, cfg.mode, world, prefix="h"),
        }
    if "rl" in paths:
        rows["rl"] = (_read_problems(w.rl_file, "rl") if w.rl_file is not None
                      else word_problems(w.n_rl, 10_000 + cfg.seed, w.levels, cfg.mode, world, prefix="r"))  # fmt: skip
    for name, path in paths.items():
        write_jsonl(path, rows[name])
    return paths


def world_config(cfg: LoopConfig) -> WorldConfig:
    """What a level turns (everything, or only the number of operations) and how often a problem
    holds a trap sentence."""
    world = ONE_KNOB if cfg.world.knob == "ops" else WorldConfig()
    return replace(world, base_high=cfg.world.high, trap=cfg.world.trap, recite=cfg.world.recite)


def frontier_level(cfg: LoopConfig, out: Path, r: int) -> int:
    """The level round ``r``'s frontier pool is drawn at: one above the seed's levels, up one
    after each earlier round in which at least ``advance_at`` of its pool's problems had a right
    sample, never past the top level. Read from the rounds' data reports, so a resumed loop
    draws the same levels."""
    w = cfg.world
    level = min(max(w.seed_levels) + 1, max(w.levels))
    for earlier in range(1, r):
        report = json.loads((out / f"round-{earlier}" / "data_report.json").read_text())
        if report["solved_share"] >= w.advance_at:
            level = min(level + 1, max(w.levels))
    return level


def round_files(cfg: LoopConfig, out: Path, r: int, files: dict[str, Path], grpo: bool = False) -> dict[str, Path]:
    """Round ``r``'s problem files: the world's, or with ``frontier`` a pool (and where the round
    runs GRPO, its queries) of fresh problems at the round's frontier level in ``round-r/``, written once."""
    if not cfg.world.frontier or r == 0:
        return files
    w, folder = cfg.world, out / f"round-{r}"
    level = frontier_level(cfg, out, r)
    own = {"pool": (folder / "pool.jsonl", w.n_pool, 20_000)}
    if grpo and rl_queries(cfg):  # GRPO's own queries: the same level, problems no round trains on
        own["rl"] = (folder / "rl.jsonl", w.n_rl, 30_000)
    for name, (path, n, base) in own.items():
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            write_jsonl(path, word_problems(n, base + 100 * r + cfg.seed, (level,), cfg.mode, world_config(cfg),
                                            prefix=f"{name[0]}{r}-"))  # fmt: skip
    return {**files, **{name: path for name, (path, _, _) in own.items()}}


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
