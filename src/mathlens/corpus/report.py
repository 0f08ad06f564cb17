"""What a corpus run did: the funnel (documents left after each stage) and its picture."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_stats(out: str | Path) -> dict:
    path = Path(out) / "stats.json"
    if not path.is_file():
        from ..errors import MathlensError

        raise MathlensError(f"{path}: no corpus run here (run `mathlens corpus run` first)")
    return json.loads(path.read_text())


def funnel(stats: dict) -> list[tuple[str, int]]:
    """(stage, documents out) in pipeline order, for the stages the run has."""
    rows = [("read", stats.get("read", {}).get("docs_out"))]
    cycles = sorted(int(k.split("-")[1]) for k in stats if k.startswith("cycle-") and k.endswith("-expand"))
    for c in cycles:
        expand = stats[f"cycle-{c}-expand"]
        rows += [(f"cycle {c}: recalled", expand.get("recalled")), (f"cycle {c}: + expanded", expand.get("docs_out"))]
    rows += [("exact dedup", stats.get("exact-filter", {}).get("docs_out")),
             ("near dedup", stats.get("minhash-filter", {}).get("docs_out")),
             ("decontaminated", stats.get("decontaminate", {}).get("docs_out")),
             ("quality kept", stats.get("quality", {}).get("docs_out")),
             ("synthesized QA", stats.get("synthesis", {}).get("docs_out"))]
    return [(name, n) for name, n in rows if n is not None]


def funnel_plot(rows: list[tuple[str, int]], path: str | Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    names, counts = [r[0] for r in rows][::-1], [r[1] for r in rows][::-1]
    bars = ax.barh(names, counts, color=["#5b8def" if "QA" not in n else "#e8833a" for n in names])
    for bar, n in zip(bars, counts):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {n:,}", va="center", fontsize=9)
    ax.set_xlabel("documents (synthesized: question/answer pairs)")
    ax.set_title("Math corpus funnel")
    ax.set_xlim(0, max(counts) * 1.15 if counts else 1)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
