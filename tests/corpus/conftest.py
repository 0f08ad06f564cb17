"""The small corpus the corpus tests share, written from this machine's own docstrings (math:
sympy and numpy; general: Python's library), so that no test needs data from outside. Nothing
here imports datatrove or fastText: the modules that need them skip without them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mathlens.corpus.sources import GENERAL_MODULES, MATH_MODULES, docstring_pages, near_copy, write_pages, write_warc

QUOTED = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?"


@pytest.fixture(scope="session")
def pages() -> dict[str, list[dict]]:
    math = list(docstring_pages(MATH_MODULES, "docs.math.example", "math", 15))
    general = list(docstring_pages(GENERAL_MODULES, "docs.python.example/library", "general", 15, min_chars=200))
    rng = random.Random(0)
    rng.shuffle(math)
    rng.shuffle(general)
    return {"math": math, "general": general}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, pages) -> Path:
    """seed/ (a third of each kind), pool/ (the rest as 2 JSONL shards and a WARC file, plus two
    planted copies and a page quoting a benchmark problem), heldout.jsonl, bench.jsonl, and
    truth.json (every pool page's label and what was planted)."""
    root = tmp_path_factory.mktemp("corpus")
    math, general = pages["math"], pages["general"]
    write_pages(root / "seed" / "positives.jsonl", math[:40])
    write_pages(root / "seed" / "negatives.jsonl", general[:40])
    write_pages(root / "heldout.jsonl", math[40:60] + general[40:60])
    pool = math[60:] + general[60:]
    long = [p for p in math[60:] if len(p["text"].split()) > 150][:2]
    rng = random.Random(1)
    pool += [{**long[0], "url": "https://mirror.example/exact"},
             {**long[1], "url": "https://mirror.example/near", "text": near_copy(long[1]["text"], rng)},
             {"url": "https://docs.math.example/forum/q1", "text": f"Homework help. {QUOTED} I am stuck.",
              "label": "math", "source": "contaminated"}]
    for i, p in enumerate(pool):
        p["id"] = f"doc-{i}"
    write_warc(root / "pool" / "crawl.warc.gz", pool[:20])
    write_pages(root / "pool" / "part-0.jsonl.gz", pool[20::2], labelled=False)
    write_pages(root / "pool" / "part-1.jsonl.gz", pool[21::2], labelled=False)
    (root / "bench.jsonl").write_text(json.dumps({"question": QUOTED, "answer": "72"}) + "\n")
    (root / "copies.json").write_text(json.dumps({"exact": [long[0]["url"], "https://mirror.example/exact"],
                                                  "near": [long[1]["url"], "https://mirror.example/near"]}))
    truth = {p["url"]: {"label": p["label"], "source": p["source"], "planted": None, "copy_of": None} for p in pool}
    truth["https://mirror.example/exact"].update(planted="exact", copy_of=long[0]["url"])
    truth["https://mirror.example/near"].update(planted="near", copy_of=long[1]["url"])
    (root / "truth.json").write_text(json.dumps(truth))  # as build-demo writes it, for `corpus report --truth`
    return root


def config(corpus: Path, out: Path, **extra):
    """A CorpusConfig over the ``corpus`` fixture (datatrove and fastText are imported by the
    test modules that use it, which skip without them)."""
    from mathlens.corpus import pipeline as pl

    knobs = dict(inputs=(str(corpus / "pool"),), positives=str(corpus / "seed" / "positives.jsonl"),
                 negatives=str(corpus / "seed" / "negatives.jsonl"), heldout=str(corpus / "heldout.jsonl"),
                 out=str(out), decontaminate=(str(corpus / "bench.jsonl"),))
    return pl.CorpusConfig(**{**knobs, **extra})
