"""How well a run did on a corpus whose truth is known (the demo's truth.json): the recall
classifier on the labelled held-out part, the kept set against the labels, dedup against the
planted copies (and its false positives, judged by exact Jaccard), and the planted
contaminated pages."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from .pipeline import read_docs
from .recall import precision_recall
from .report import load_stats

_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def nearest_jaccard(docs: dict[str, set]) -> dict[str, float]:
    """Each document's highest exact Jaccard similarity to any other (an inverted index over
    shingles limits the pairs compared to those sharing one)."""
    by_shingle: dict[tuple, list[str]] = defaultdict(list)
    for url, grams in docs.items():
        for g in grams:
            by_shingle[g].append(url)
    best = {}
    for url, grams in docs.items():
        others = {o for g in grams for o in by_shingle[g] if o != url}
        best[url] = max((len(grams & docs[o]) / len(grams | docs[o]) for o in others), default=0.0)
    return best


def urls(folder: Path) -> list[str]:
    return [d.get("metadata", {}).get("url", "") for d in read_docs(folder)] if folder.is_dir() else []


def evaluate(out: str | Path, truth_path: str | Path, threshold: float | None = None) -> dict:
    out = Path(out)
    truth: dict[str, dict] = json.loads(Path(truth_path).read_text())
    stats = load_stats(out)
    cycles = sorted(int(k.split("-")[1]) for k in stats if k.startswith("cycle-") and k.endswith("-recall"))
    figures: dict = {"classifier_heldout": {f"cycle {c}": stats[f"cycle-{c}-recall"].get("heldout") for c in cycles}}
    last_kept = out / f"cycle-{cycles[-1]}" / "kept"
    kept = set(urls(last_kept))
    labels = {u: t["label"] == "math" for u, t in truth.items()}
    pool = [u for u in truth if not truth[u].get("source", "").startswith("contaminated")]
    figures["recalled_vs_labels"] = precision_recall([u in kept for u in pool], [labels[u] for u in pool])
    # dedup: the planted pairs whose two pages both reached dedup
    removed = set(urls(out / "dedup" / "exact" / "removed")) | set(urls(out / "dedup" / "near" / "removed"))
    pairs = [(u, t["copy_of"], t["planted"]) for u, t in truth.items() if t.get("planted") and u in kept
             and t["copy_of"] in kept]
    found = {kind: [u in removed or o in removed for u, o, k in pairs if k == kind] for kind in ("exact", "near")}
    figures["dedup"] = {f"{kind}_pairs": len(v) for kind, v in found.items()}
    figures["dedup"].update({f"{kind}_recall": (sum(v) / len(v) if v else None) for kind, v in found.items()})
    texts = {d.get("metadata", {}).get("url", ""): shingles(d["text"]) for d in read_docs(last_kept)}
    nearest = nearest_jaccard(texts)
    cut = threshold if threshold is not None else json.loads((out / "config.json").read_text())["dedup"]["threshold"]
    in_pairs = {u for u, o, _ in pairs} | {o for _, o, _ in pairs}
    unique = [u for u in texts if u not in in_pairs and nearest[u] < cut]
    figures["dedup"].update(false_positives=sum(u in removed for u in unique), unique_documents=len(unique),
                            false_positive_rate=(sum(u in removed for u in unique) / len(unique) if unique else None),
                            removed=len(removed), jaccard_cut=cut)
    planted = [u for u, t in truth.items() if t.get("source", "").startswith("contaminated")]
    final = set(urls(out / "clean"))
    figures["contamination"] = {"planted": len(planted), "reached_decontamination": len(set(urls(out / "dedup" / "near" / "kept")) & set(planted)),
                                "removed_by_decontamination": len(set(urls(out / "contaminated")) & set(planted)),
                                "left_in_output": sum(u in final for u in planted)}
    return figures
