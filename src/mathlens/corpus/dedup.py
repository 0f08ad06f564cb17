"""Step ③: exact then near-duplicate removal, as datatrove's stages (exact: signatures, find,
filter; MinHash: signatures, buckets, clusters, filter). Only the stage lists and the LSH shape
are ours: a Jaccard threshold becomes the (bands, rows) split that datasketch's MinHashLSH picks
for it, so the threshold is the one knob a user sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from datatrove.utils.word_tokenizers import WordTokenizer

from .text import normalize

_WORD, _LINE = re.compile(r"\w+"), re.compile(r"[^\n]+")


@dataclass(frozen=True)
class DedupConfig:
    threshold: float = 0.7  # Jaccard similarity of 5-gram sets above which two pages are near-duplicates
    n_grams: int = 5
    num_perm: int = 112  # hashes per document (bands × rows)
    seed: int = 1


class Words(WordTokenizer):
    """Words as runs of letters and digits, for the 5-word shingles. datatrove's English tokenizer
    is spaCy's, a large dependency for splitting on spaces; shingles need nothing more."""

    def __init__(self) -> None:
        super().__init__("en")

    def word_tokenize(self, text: str) -> list[str]:
        return _WORD.findall(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip()]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _LINE.finditer(text)]


def normalized_text(doc) -> str:  # the exact-dedup content: case, spacing and symbols spacing ignored
    return normalize(doc.text, max_chars=None)


def lsh_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimizing false positives + negatives around ``threshold``."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def minhash_config(cfg: DedupConfig):
    from datatrove.pipeline.dedup.minhash import MinhashConfig

    bands, rows = lsh_shape(cfg.threshold, cfg.num_perm)
    return MinhashConfig(n_grams=cfg.n_grams, num_buckets=bands, hashes_per_bucket=rows, seed=cfg.seed)


def exact_stages(read, write, folder: str | Path, removed_writer) -> list[tuple[str, list, int | None]]:
    """(name, steps, tasks) per stage; tasks None means the pipeline's own count."""
    from datatrove.pipeline.dedup.exact_dedup import (
        ExactDedupConfig,
        ExactDedupFilter,
        ExactDedupSignature,
        ExactFindDedups,
    )

    config = ExactDedupConfig(content_getter=normalized_text)
    folder = str(folder)  # datatrove takes str paths, not Path
    return [
        ("exact-signatures", [read(), ExactDedupSignature(f"{folder}/sigs", config)], None),
        ("exact-find", [ExactFindDedups(f"{folder}/sigs", f"{folder}/dups", config)], 1),
        ("exact-filter", [read(), ExactDedupFilter(f"{folder}/dups", config, exclusion_writer=removed_writer()), write()],
         None),
    ]


def minhash_stages(read, write, folder: str | Path, cfg: DedupConfig, removed_writer) -> list[tuple[str, list, int | None]]:
    from datatrove.pipeline.dedup.minhash import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    config = minhash_config(cfg)
    folder = str(folder)
    return [
        ("minhash-signatures", [read(), MinhashDedupSignature(f"{folder}/sigs", config, language=Words())], None),
        ("minhash-buckets", [MinhashDedupBuckets(f"{folder}/sigs", f"{folder}/buckets", config=config)],
         config.num_buckets),
        ("minhash-clusters", [MinhashDedupCluster(f"{folder}/buckets", f"{folder}/remove", config=config)], 1),
        ("minhash-filter", [read(), MinhashDedupFilter(f"{folder}/remove", exclusion_writer=removed_writer()), write()],
         None),
    ]
