"""``improve.png``: held-out pass@1 (with its interval), maj@k and rm@k by round, the policy before
GRPO where a round ran it, and pass@1 per level (with its interval)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402


def plot_rounds(rounds: list[dict], path: str | Path) -> Path:
    """Two panels: the overall metrics by round, and pass@1 of each difficulty level by round."""
    path = Path(path)
    if not rounds:
        return path
    xs = [r["round"] for r in rounds]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    pass1 = [r["pass@1"] for r in rounds]
    low = [p - r["pass@1_ci95"][0] for p, r in zip(pass1, rounds)]
    high = [r["pass@1_ci95"][1] - p for p, r in zip(pass1, rounds)]
    left.errorbar(xs, pass1, yerr=[low, high], marker="o", capsize=4, label="pass@1 (95% interval)")
    k = rounds[0]["k"]
    if f"maj@{k}" in rounds[0]:
        left.plot(xs, [r[f"maj@{k}"] for r in rounds], marker="s", label=f"maj@{k}")
    rm = [(x, r[f"rm@{k}"]) for x, r in zip(xs, rounds) if f"rm@{k}" in r]
    if rm:
        left.plot(*zip(*rm), marker="D", label=f"rm@{k} (the round's reward model)")
    sft = [(x - 0.15, r["before_grpo"]) for x, r in zip(xs, rounds) if "before_grpo" in r]
    if sft:
        p = [m["pass@1"] for _, m in sft]
        err = [[v - m["pass@1_ci95"][0] for v, (_, m) in zip(p, sft)], [m["pass@1_ci95"][1] - v for v, (_, m) in zip(p, sft)]]
        left.errorbar([x for x, _ in sft], p, yerr=err, marker="o", mfc="white", capsize=4, linestyle="none",
                      label="pass@1 after SFT, before GRPO")  # fmt: skip
    if f"pass@{k}" in rounds[0] and k > 1:
        left.plot(xs, [r[f"pass@{k}"] for r in rounds], marker="^", linestyle=":", label=f"pass@{k}")
    low_y, high_y = left.get_ylim()  # the rounds differ by points: zoom in, not to (0, 1)
    left.set(xlabel="round", ylabel="held-out accuracy", ylim=(max(0, low_y - 0.1), min(1, high_y + 0.02)), xticks=xs,
             title="held-out problems")  # fmt: skip
    left.legend(loc="lower right", fontsize=8)
    levels = sorted({lvl for r in rounds for lvl in r.get("by_level", {})}, key=str)
    for lvl in levels:
        ys = [r.get("by_level", {}).get(lvl) for r in rounds]
        cis = [r.get("by_level_ci95", {}).get(lvl) for r in rounds]
        if all(y is not None and ci for y, ci in zip(ys, cis)):  # rounds written with intervals
            err = [[y - ci[0] for y, ci in zip(ys, cis)], [ci[1] - y for y, ci in zip(ys, cis)]]
            right.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"level {lvl}")
        else:
            right.plot(xs, ys, marker="o", label=f"level {lvl}")
    right.set(xlabel="round", ylabel="pass@1", ylim=(0, 1), xticks=xs, title="by difficulty level")
    if levels:
        right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_by_k(curves: dict[str, dict], path: str | Path) -> Path:
    """``by_k.png``: accuracy of each way of picking one answer (vote, reward model's best,
    reward-weighted vote, rule verifier's vote) against k, a panel per problem set (all, trap …)."""
    path = Path(path)
    parts = [(name, by_k) for name, by_k in curves.items() if by_k]
    if not parts:
        return path
    fig, axes = plt.subplots(1, len(parts), figsize=(4.5 * len(parts), 3.6), squeeze=False)
    for ax, (name, by_k) in zip(axes[0], parts):
        ks = sorted(by_k, key=int)
        for pick, style in (("maj", "s-"), ("rm", "D-"), ("rm-vote", "o--"), ("rule-vote", "^:")):
            ys = [by_k[k].get(f"{pick}@{k}") for k in ks]
            if all(y is not None for y in ys):
                ax.plot([int(k) for k in ks], ys, style, label=f"{pick}@k")
        ax.set(xscale="log", xticks=[int(k) for k in ks], xticklabels=ks, xlabel="k (samples per problem)",
               ylabel="held-out accuracy", title=name)  # fmt: skip
        ax.minorticks_off()
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
