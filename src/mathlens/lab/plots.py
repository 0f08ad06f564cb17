"""Pictures of results: the accuracy heatmap over the grid, the square-size sweep, length
generalization, easy-to-hard rounds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from ..tasks import Task  # noqa: E402
from .splits import Square  # noqa: E402

# correct / wrong, for trained cells (pale) and held-out cells (strong)
COLORS = {
    ("train", True): (0.80, 0.92, 0.80),
    ("train", False): (0.98, 0.70, 0.65),
    ("test", True): (0.10, 0.55, 0.20),
    ("test", False): (0.75, 0.05, 0.10),
}
EMPTY = (1.0, 1.0, 1.0)


def heatmap(
    rows: Sequence[dict],
    task: Task,
    squares: Sequence[Square],
    path: str | Path,
    title: str = "",
) -> Path:
    """Every grid cell coloured by correct/wrong, held-out cells in strong colours, squares outlined."""
    xs, ys = task.extent()
    image = np.full((len(ys), len(xs), 3), EMPTY)
    for r in rows:
        x, y = task.coord(tuple(r["operands"]))
        image[y - ys.start, x - xs.start] = COLORS[(r["split"], bool(r["correct"]))]
    fig, ax = plt.subplots(figsize=(6.4, 6.4 * min(1.0, len(ys) / len(xs)) + 0.8))
    extent = (xs.start - 0.5, xs.stop - 0.5, ys.start - 0.5, ys.stop - 0.5)
    ax.imshow(image, origin="lower", extent=extent, interpolation="nearest", aspect="equal")
    _outline(ax, squares)
    names = {"chicken_rabbit": ("legs / 2", "heads")}
    xlabel, ylabel = names.get(task.name, ("a", "b"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or task.name)
    labels = {
        ("train", True): "train, correct",
        ("train", False): "train, wrong",
        ("test", True): "held out, correct",
        ("test", False): "held out, wrong",
    }
    handles = [Patch(color=COLORS[k], label=v) for k, v in labels.items()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4, fontsize=7, frameon=False)
    return _save(fig, path)


def mean_heatmap(
    rows_by_seed: Sequence[Sequence[dict]], task: Task, squares: Sequence[Square], path: str | Path, title: str = ""
) -> Path:
    """Share of seeds that answer each cell right (white 0, dark 1), squares outlined."""
    xs, ys = task.extent()
    hits = np.zeros((len(ys), len(xs)))
    seen = np.zeros_like(hits)
    for rows in rows_by_seed:
        for r in rows:
            x, y = task.coord(tuple(r["operands"]))
            hits[y - ys.start, x - xs.start] += bool(r["correct"])
            seen[y - ys.start, x - xs.start] += 1
    share = np.where(seen > 0, hits / np.maximum(seen, 1), np.nan)
    fig, ax = plt.subplots(figsize=(6.4, 6.4 * min(1.0, len(ys) / len(xs)) + 0.6))
    extent = (xs.start - 0.5, xs.stop - 0.5, ys.start - 0.5, ys.stop - 0.5)
    shown = ax.imshow(share, origin="lower", extent=extent, interpolation="nearest", cmap="Greens", vmin=0, vmax=1)
    _outline(ax, squares)
    fig.colorbar(shown, ax=ax, shrink=0.8, label=f"share of {len(rows_by_seed)} seeds right")
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    ax.set_title(title or task.name, fontsize=9)
    return _save(fig, path)


def _outline(ax, squares: Sequence[Square]) -> None:
    for sq in squares:
        (cx, cy), rad = sq.center, sq.radius
        ax.add_patch(
            Rectangle((cx - rad - 0.5, cy - rad - 0.5), 2 * rad + 1, 2 * rad + 1, fill=False, lw=1.5, ec="black")
        )


def sweep_plot(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Test accuracy against square side (one line per centre, or per ``group`` where rows name
    one: several sweeps compared); with several centres, a second panel against centre (one line
    per side)."""
    by_center: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_center[r.get("group") or f"centre {r['center']}"].append(r)
    several = len({r["center"] for r in rows}) > 1
    fig, axes = plt.subplots(1, 2 if several else 1, figsize=(11 if several else 6, 4.2), squeeze=False)
    ax = axes[0][0]
    for center, group in by_center.items():
        group = sorted(group, key=lambda r: r["side"])
        ax.errorbar(
            [r["side"] for r in group],
            [r["test_acc"] for r in group],
            yerr=_spread(group),
            marker="o",
            capsize=3,
            label=center,
        )
        for r in group:  # each seed's run, faint, so that the spread is seen and not only summarised
            seeds = r.get("test_by_seed") or []
            if len(seeds) > 1:
                ax.scatter([r["side"]] * len(seeds), seeds, s=8, c="grey", alpha=0.5, zorder=1)
    for name, group in by_center.items():  # each line's control, where it has one
        controls = sorted((r for r in group if r.get("random_acc") is not None), key=lambda r: r["side"])
        if controls:
            ax.plot(
                [r["side"] for r in controls],
                [r["random_acc"] for r in controls],
                ls="--",
                marker="x",
                c="grey",
                label=f"random cells, same count ({name})" if len(by_center) > 1 else "random cells, same count",
            )
    ax.set_xlabel("side of the held-out square (cells)")
    ax.set_ylabel("accuracy on held-out cells")
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if several:
        ax2 = axes[0][1]
        centers = list(dict.fromkeys(r["center"] for r in rows))
        sweeps = list(dict.fromkeys(r.get("sweep", "") for r in rows))  # several sweeps compared: one line each
        for sweep in sweeps:
            for side in sorted({r["side"] for r in rows}):
                acc = {r["center"]: r["test_acc"] for r in rows if r["side"] == side and r.get("sweep", "") == sweep}
                label = f"side {side}" + (f", {Path(sweep).name}" if len(sweeps) > 1 else "")
                ax2.plot(range(len(centers)), [acc.get(c, np.nan) for c in centers], marker="o", label=label)
        ax2.set_xticks(range(len(centers)), centers, rotation=30, fontsize=8)
        ax2.set_xlabel("centre of the held-out square")
        ax2.set_ylim(-0.03, 1.03)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8)
    fig.suptitle(title or "Leave-Square-Out: accuracy inside the square")
    return _save(fig, path)


def _spread(rows: Sequence[dict]) -> np.ndarray | None:
    """Error bars from each row's 95% interval (``test_lo``/``test_hi``), None without one."""
    if not all(r.get("test_lo") is not None for r in rows):
        return None
    lo = [r["test_acc"] - r["test_lo"] for r in rows]
    hi = [r["test_hi"] - r["test_acc"] for r in rows]
    return np.clip(np.array([lo, hi]), 0, None)


def position_map(rows: Sequence[dict], task: Task, path: str | Path, title: str = "") -> Path:
    """Held-out accuracy by the square's centre on the grid: one tile per centre (its square
    drawn to scale, coloured by the mean over seeds, labelled mean and interval), one panel per size."""
    sides = sorted({r["side"] for r in rows})
    fig, axes = plt.subplots(1, len(sides), figsize=(5.6 * len(sides), 5.4), squeeze=False)
    xs, ys = task.extent()
    cmap = plt.get_cmap("RdYlGn")
    for ax, side in zip(axes[0], sides):
        for r in (r for r in rows if r["side"] == side):
            cx, cy = (int(v) for v in r["center"].split(","))
            half = side / 2
            ax.add_patch(Rectangle((cx - half, cy - half), side, side, color=cmap(r["test_acc"]), alpha=0.85, lw=0))
            label = f"{r['test_acc']:.0%}"
            if r.get("test_lo") is not None and len(r.get("seeds", [])) > 1:
                label += f"\n[{max(0, r['test_lo']):.0%}, {min(1, r['test_hi']):.0%}]"
            ax.text(cx, cy, label, ha="center", va="center", fontsize=8)
        ax.set_xlim(xs.start - 0.5, xs.stop - 0.5)
        ax.set_ylim(ys.start - 0.5, ys.stop - 0.5)
        ax.set_aspect("equal")
        ax.set_xlabel("a (centre of the held-out square)")
        ax.set_ylabel("b")
        ax.set_title(f"side {side}", fontsize=9)
        ax.grid(alpha=0.2)
    fig.colorbar(plt.cm.ScalarMappable(cmap=cmap), ax=axes[0].tolist(), shrink=0.7, label="held-out accuracy")
    fig.suptitle(title or "held-out accuracy by centre")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def lengthgen_plot(
    curves: dict[str, dict[int, float]],
    train_digits: Sequence[int],
    path: str | Path,
    title: str = "",
    intervals: dict | None = None,
) -> Path:
    """Accuracy against operand digits, one line per format, the trained digit counts shaded;
    ``intervals`` (format → digits → lo/hi over seeds) drawn as bands. Curves named
    ``scheme/format`` get one panel per scheme, each format in the same colour throughout;
    ``format mixed`` (the mixed-length test) is dashed in its format's colour."""
    panels: dict[str, list[str]] = {}
    for name in curves:
        panels.setdefault(name.split("/")[0] if "/" in name else "", []).append(name)
    # a mixed-length curve is drawn in its format's colour, dashed
    base = lambda name: name.split("/")[-1].removesuffix(" mixed")  # noqa: E731
    formats = list(dict.fromkeys(base(name) for name in curves))
    colours = {f: f"C{i}" for i, f in enumerate(formats)}
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 if cols == 1 else 4.2 * cols, 4.2 if rows == 1 else 3.4 * rows),
                             squeeze=False, sharey=True)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (panel, names) in zip(axes.flat, panels.items()):
        for d in train_digits:
            ax.axvspan(d - 0.5, d + 0.5, color="#dddddd", lw=0)
        for name in names:
            acc, fmt = curves[name], base(name)
            xs = sorted(acc)
            style = "--" if name.endswith(" mixed") else "-"
            ax.plot(xs, [acc[x] for x in xs], marker="o", ls=style, label=fmt, color=colours[fmt])
            if intervals and name in intervals:
                band = intervals[name]
                ax.fill_between(xs, [band[x]["lo"] for x in xs], [band[x]["hi"] for x in xs], color=colours[fmt], alpha=0.15)
        ax.set_xlabel("digits per operand")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        if panel:
            ax.set_title(panel, fontsize=10)
    axes[0][0].set_ylabel("exact-match accuracy")
    handles = [plt.Line2D([], [], color=colours[f], marker="o") for f in formats]
    labels = [*formats, "trained lengths"]
    handles.append(Patch(color="#dddddd"))
    if any(name.endswith(" mixed") for name in curves):
        handles.append(plt.Line2D([], [], color="grey", ls="--"))
        labels.append("second operand shorter")
    axes[0][0].legend(handles, labels, fontsize=8)
    if len(panels) > 1:
        fig.suptitle(title or "Length generalization by answer format and position scheme")
    else:
        axes[0][0].set_title(title or "Length generalization by answer format")
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def climb_plot(summary: dict, path: str | Path) -> Path:
    """``climb.png``: one panel per arm, accuracy against digits, one line per round (mean over
    seeds, later rounds darker); the seed's trained lengths shaded, 90% dotted."""
    path = Path(path)
    mean, cfg = summary["mean"], summary["config"]
    arms = [arm for arm in cfg["arms"] if mean.get(arm)]
    if not arms:
        return path
    fig, axes = plt.subplots(1, len(arms), figsize=(3.4 * len(arms), 3.4), sharey=True, squeeze=False)
    colors = plt.get_cmap("viridis_r")
    rounds = max(len(mean[arm]) for arm in arms)
    for ax, arm in zip(axes[0], arms):
        for r, by_digits in enumerate(mean[arm]):
            xs = sorted(int(d) for d in by_digits)
            ax.plot(xs, [by_digits[str(d)]["mean"] for d in xs], marker=".", color=colors(0.1 + 0.85 * r / max(1, rounds - 1)),
                    label="seed" if r == 0 else f"round {r}")  # fmt: skip
        ax.axvspan(0.5, cfg["seed_digits"] + 0.5, color="0.92", zorder=0)
        ax.axhline(0.9, color="0.5", linestyle=":", linewidth=1)
        ax.set(title=arm, xlabel="digits per operand", ylim=(-0.02, 1.02), xticks=range(1, cfg["test_digits"] + 1, 2))
    axes[0][0].set_ylabel(f"exact answers (mean over {len(summary['seeds'])} seeds)")
    axes[0][-1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
