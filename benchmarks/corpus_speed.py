"""Corpus pipeline speed: documents per second per stage with 1 and 2 workers (2 tasks each),
and the near-dedup stages against datasketch's MinHashLSH in one process (the peer a small
project would reach for). Runs on the demo corpus (`mathlens corpus build-demo`), without the
rater and synthesizer (their speed is the model's). Medians of ``--repeats`` runs.

    python benchmarks/corpus_speed.py [--data runs/corpus-demo/data --repeats 3]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from mathlens.cli.corpus import evaluation_problems
from mathlens.corpus.dedup import DedupConfig, lsh_shape
from mathlens.corpus.evaluate import shingles
from mathlens.corpus.executors import ExecutorConfig
from mathlens.corpus.pipeline import CorpusConfig, read_docs, run_corpus
from mathlens.corpus.sources import build_demo_corpus
from mathlens.evals.problems import benchmarks_dir

STAGES = ("cycle-1-recall", "cycle-1-expand", "exact-filter", "minhash-filter", "decontaminate")
NEAR = ("minhash-signatures", "minhash-buckets", "minhash-clusters", "minhash-filter")


def run_once(data: Path, workers: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="corpus-speed-"))
    cfg = CorpusConfig(inputs=(str(data / "pool"),), positives=str(data / "seed" / "positives.jsonl"),
                       negatives=str(data / "seed" / "negatives.jsonl"), out=str(out), cycles=1,
                       executor=ExecutorConfig(tasks=2, workers=workers))
    stats = run_corpus(cfg, evaluation_problems(cfg.decontaminate), progress=False)
    near_in = stats["minhash-filter"]["docs_in"]
    result = {s: stats[s]["docs_per_s"] for s in STAGES}
    result["near_dedup"] = near_in / sum(stats[s]["seconds"] for s in NEAR)
    result["texts"] = [d["text"] for d in read_docs(out / "dedup" / "exact" / "kept")]
    shutil.rmtree(out)
    return result


def datasketch_dedup(texts: list[str], cfg: DedupConfig = DedupConfig()) -> float:
    """Documents/s of MinHash + LSH in one process over the same documents and shingles."""
    from datasketch import MinHash, MinHashLSH

    bands, rows = lsh_shape(cfg.threshold, cfg.num_perm)
    start = time.perf_counter()
    lsh = MinHashLSH(num_perm=bands * rows, params=(bands, rows))
    kept = 0
    for i, text in enumerate(texts):
        m = MinHash(num_perm=bands * rows, seed=cfg.seed)
        m.update_batch([" ".join(g).encode() for g in shingles(text, cfg.n_grams)])
        if not lsh.query(m):
            lsh.insert(str(i), m)
            kept += 1
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="a build-demo folder (default: built afresh)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="corpus-data-"))
    if args.data is None:
        build_demo_corpus(data, benchmarks_dir())
    figures = {}
    for workers in (1, 2):
        runs = [run_once(data, workers) for _ in range(args.repeats)]
        for key in (*STAGES, "near_dedup"):
            figures[f"{key}_w{workers}"] = statistics.median(r[key] for r in runs)
            print(f"{key:>16} workers={workers}: {figures[f'{key}_w{workers}']:8.1f} docs/s")
    peer = statistics.median(datasketch_dedup(runs[0]["texts"]) for _ in range(args.repeats))
    print(f"datasketch MinHashLSH, one process: {peer:.1f} docs/s")
    line = {f"{k.replace('-', '_')}_per_s": round(v, 1) for k, v in figures.items()}
    line.update(peer_near_dedup_per_s=round(peer, 1), ratio=round(figures["near_dedup_w2"] / peer, 3))
    print(" ".join(f"{k}={v}" for k, v in line.items()))


if __name__ == "__main__":
    main()
