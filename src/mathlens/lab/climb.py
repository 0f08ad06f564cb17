"""Easy-to-hard rounds on length (Lee et al. 2025): a tiny model taught short sums labels sums one
digit longer with its own answers, keeps the labels a filter passes, trains on them, and so goes
one digit further each round.

The seed model learns 1..``seed_digits``-digit sums written reversed and zero-padded
(``formats.Padded``): the prompt fixes the answer's length, so a label of the wrong length is
wrong on sight. A pre-flight trains the seed under each position scheme in turn and keeps the
first that is right on at least ``seed_min`` of the sums at every trained length and on some
sums one digit longer: a seed that never gets a longer sum right has nothing to climb from.

Arms, each from the same seed model, with the same problems and the same steps each round:

- ``verified``: k samples a problem; kept, with its reference answer, when a sample gives it
  (the report's rejection sampling);
- ``vote``: the k samples' most common answer, kept when at least ``agreement`` of them give it
  and it has the length the prompt fixes (no reference needed);
- ``ensemble``: ``ensemble`` models trained apart from the start (the seed model and others
  from other initial weights and batch orders) each answer greedily; kept when at least
  ``ensemble_agreement`` of them agree, and all train on what is kept (Lee et al.'s remedy:
  one model's samples share its systematic errors, independently trained models less so);
- ``unfiltered``: the greedy answer, always kept;
- ``control``: the same steps on fresh sums of the seed's own lengths, with reference answers.

Round r labels ``n_round`` fresh sums one digit past the arm's frontier (the longest length it
has trained on); the frontier moves when the round kept at least ``advance_at`` of them, so a
filter that keeps almost nothing makes the next round try the same length again. The round
then trains ``steps`` steps from the arm's last model on half the newest labels and half
everything before (the seed's data and every earlier round's), and tests every length.

Everything stays in ``out/seed-S/``: the pre-flight's models, and per arm ``ARM/round-R/``
(``labels.jsonl``, the model, ``metrics.json``); a killed run resumes where it stopped.

Self-improvement (issue 30), but in the lab: it trains the lab's tiny models on the lab's sums
under its position schemes. ``improve.loop`` samples word problems through a sandbox and trains
a reward model each round; this labels sums with the model itself and compares filters on the
same problems, which is all it needs.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import parse_ints, parse_names, parsed, setting
from ..errors import MathlensError
from ..formats import Padded
from ..formats.numbers import answer_width
from ..provenance import traced
from ..records import Example, read_jsonl, write_jsonl
from ..runs import RunFolder
from ..tasks import make_task
from ..tracking import WATCH_ONLY, check_report_to
from .self_labels import Labelled, half_and_half, next_frontier, verified_label, vote_label

ARMS = ("verified", "vote", "ensemble", "unfiltered", "control")
FORMAT = Padded()
TASK = make_task("addition")


@dataclass(frozen=True)
class ClimbConfig:
    out: str = setting("Run folder (seed-S/ARM/round-R/); a killed run resumes.", default="runs/climb")
    seeds: tuple[int, ...] = parsed(parse_ints, "Seeds: one seed model and one run of every arm each.", default=(0, 1))
    rounds: int = setting("Rounds after the seed model.", default=6)
    arms: tuple[str, ...] = parsed(parse_names, f"Arms: {', '.join(ARMS)}.", default=ARMS)
    schemes: tuple[str, ...] = parsed(
        parse_names, "Position schemes the pre-flight tries in order (lab schemes).", default=("coupled", "abacus", "nope")
    )
    seed_digits: int = setting("The seed model learns 1..N-digit sums.", default=6)
    test_digits: int = setting("Each round tests 1..N-digit sums.", default=14)
    seed_min: float = setting("Pre-flight: the seed's accuracy needed at every trained length (0: no gate).", default=0.95)
    n_seed: int = 2000  # seed training sums per digit count (one digit: the 100 there are, less the tests)
    n_round: int = setting("Fresh sums each round labels.", default=1000)
    n_test: int = 100  # test sums per digit count
    k: int = 5  # samples a problem, for the verified and vote arms
    temperature: float = 0.7
    agreement: float = 0.6  # vote: the share of the k samples that must give the kept answer
    ensemble: int = setting("Models in the ensemble arm, trained apart from the start.", default=3)
    ensemble_agreement: float = setting("Ensemble: the share of its models that must agree on a kept label.", default=1.0)
    advance_at: float = 0.2  # the frontier moves when a round kept at least this share of its problems
    seed_steps: int = setting("Optimizer steps of the seed model.", default=3000)
    steps: int = setting("Optimizer steps of each round.", default=300)
    batch_size: int = 64
    lr: float = 2e-3  # the seed model's peak rate
    round_lr: float = 5e-4  # each round's, from the last round's weights
    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 128
    device: str = setting("auto, cpu or cuda: where the models train and decode.", default="auto")
    workers: int | None = setting("Runs in parallel.", "one per core", default=None)
    report_to: str = setting("Live curves of every model's training: none, tensorboard (its folder's tb/) or wandb.",
                             default="none")  # fmt: skip

    def __post_init__(self) -> None:
        from .configs import SCHEMES

        schemes = [s for s in SCHEMES if not SCHEMES[s].hints]  # hints rewrite the text, not the model
        unknown = [a for a in self.arms if a not in ARMS] + [s for s in self.schemes if s not in schemes]
        if unknown:
            raise MathlensError(f"{', '.join(unknown)}: arms are {', '.join(ARMS)}; schemes {', '.join(schemes)}")
        check_report_to(self.report_to)
        if not self.arms or not self.schemes or not self.seeds:
            raise MathlensError("give at least one arm, one scheme and one seed")
        if self.test_digits <= self.seed_digits or self.seed_digits < 1:
            raise MathlensError("test_digits must reach past seed_digits (the rounds test the longer sums)")
        shares = (self.agreement, self.ensemble_agreement, self.advance_at, self.seed_min)
        if not (all(0 <= v <= 1 for v in shares) and min(self.agreement, self.ensemble_agreement) > 0):
            raise MathlensError("agreement, ensemble_agreement, advance_at and seed_min are shares between 0 and 1")
        if min(self.rounds + 1, self.k, self.ensemble, self.n_round, self.n_test, self.steps, self.seed_steps) < 1:
            raise MathlensError("rounds may be 0; k, ensemble, n_round, n_test, steps and seed_steps must be at least 1")


# ---------------------------------------------------------------- problems and models


def sums(digits: int, n: int, key: str) -> list[tuple[int, int]]:
    """``n`` sums of two ``digits``-digit operands, seeded by ``key`` (the same for every arm)."""
    from .splits import numbers_with_digits

    rng, pool = random.Random(key), numbers_with_digits(digits)
    return [(rng.choice(pool), rng.choice(pool)) for _ in range(n)]


def control_sums(cfg: ClimbConfig, seed: int, r: int) -> list[tuple[int, int]]:
    """The control arm's round ``r``: ``n_round`` fresh sums spread over the seed's lengths."""
    pairs = [p for d in range(1, cfg.seed_digits + 1) for p in sums(d, cfg.n_round, f"control:{seed}:{r}:{d}")]
    return random.Random(f"climb-control:{seed}:{r}").sample(pairs, cfg.n_round)


def digits_of(a: int, b: int) -> int:
    """A sum's length: its longer operand's digits (the padded answer has one more)."""
    return answer_width(a, b) - 1


def example(i: int, a: int, b: int, target: str | None = None, split: str = "train") -> Example:
    """A padded sum as the trainer reads it; ``target``: a label other than the reference."""
    truth = FORMAT.target(TASK, a, b)
    return Example(i, TASK.name, (a, b), FORMAT.prompt(TASK, a, b), truth if target is None else target,
                   TASK.answer(a, b), split, {"digits": digits_of(a, b)})  # fmt: skip


def seed_and_test(cfg: ClimbConfig, seed: int) -> tuple[list[Example], list[Example]]:
    """The seed model's training sums (1..seed_digits) and the tests (1..test_digits), disjoint."""
    from .splits import length_split

    train, test = length_split(list(range(1, cfg.seed_digits + 1)), list(range(1, cfg.test_digits + 1)),
                               cfg.n_seed, cfg.n_test, seed)  # fmt: skip
    return ([example(i, a, b) for i, (a, b, _) in enumerate(train)],
            [example(i, a, b, split="test") for i, (a, b, _) in enumerate(test)])  # fmt: skip


def complete_sums(model, tokenizer, pairs: Sequence[tuple[int, int]], samples: int = 0, temperature: float = 0.0,
                  seed: int = 0) -> list[list[str]]:  # fmt: skip
    """The policy's answers to each sum: greedy (``samples`` 0) or ``samples`` draws at ``temperature``."""
    from ..backends import Sampling
    from ..backends.tiny import TinyBackend

    prompts = [FORMAT.prompt(TASK, a, b) for a, b in pairs]
    longest = max(answer_width(a, b) for a, b in pairs)
    sampling = Sampling(max(1, samples), temperature if samples else 0.0, max_tokens=longest + 2, seed=seed)
    outs = TinyBackend(model, tokenizer).generate(prompts, sampling)
    return [[text.strip() for text in group] for group in outs]


def accuracy(model, tokenizer, tests: Sequence[Example]) -> dict[int, float]:
    """Greedy exact match (the whole padded answer) per digit count."""
    answers = complete_sums(model, tokenizer, [tuple(e.operands) for e in tests])
    hits: dict[int, list[bool]] = {}
    for e, (answer,) in zip(tests, answers):
        hits.setdefault(e.meta["digits"], []).append(answer == e.target)
    return {d: sum(v) / len(v) for d, v in sorted(hits.items())}


def _train_config(cfg: ClimbConfig, steps: int, lr: float, seed: int):
    from ..train import TrainConfig

    return TrainConfig(steps=steps, batch_size=cfg.batch_size, lr=lr, warmup_steps=min(100, steps // 10),
                       weight_decay=0.0, eval_every=0, checkpoint_every=100, seed=seed,
                       report_to=cfg.report_to)  # fmt: skip


# ---------------------------------------------------------------- the pre-flight


def preflight(cfg: ClimbConfig, seed: int, progress: bool = True) -> dict:
    """Train the seed model under each scheme in turn until one passes; what each scored.
    Written to ``seed-S/preflight.json``; a finished pre-flight is read back."""
    base = Path(cfg.out) / f"seed-{seed}"
    path = base / "preflight.json"
    if path.exists():
        return json.loads(path.read_text())
    tried = []
    for name in cfg.schemes:
        scores = train_seed(cfg, seed, name, base / f"seed-{name}", seed, progress)
        trained = [scores[d] for d in range(1, cfg.seed_digits + 1)]
        passed = cfg.seed_min == 0 or (min(trained) >= cfg.seed_min and scores[cfg.seed_digits + 1] > 0)
        tried.append({"scheme": name, "accuracy": scores, "passed": passed})
        if passed:
            break
    result = {"seed": seed, "scheme": tried[-1]["scheme"] if tried[-1]["passed"] else None, "tried": tried}
    path.write_text(json.dumps(result, indent=1))
    return result


def train_seed(
    cfg: ClimbConfig, seed: int, scheme: str, folder: Path, model_seed: int, progress: bool
) -> dict[int, float]:
    """A seed model on seed ``seed``'s data under ``scheme``, its weights and batches drawn from
    ``model_seed``, into ``folder``; its accuracy per digit count (read back once written)."""
    from .configs import SCHEMES, scheme_model
    from ..models import ModelConfig, build_model, load_model, resolve_device
    from ..train import train

    if (folder / "seed.json").exists():
        return {int(d): v for d, v in json.loads((folder / "seed.json").read_text()).items()}
    train_rows, tests = seed_and_test(cfg, seed)
    texts = [e.prompt + e.target for e in train_rows + tests]
    offset = cfg.test_digits - cfg.seed_digits + 1
    shape = scheme_model(ModelConfig(cfg.n_layer, cfg.n_head, cfg.n_embd), scheme, offset)
    coupler = "direct" if SCHEMES[scheme].couple else ""  # padded answers take the direct answer's places
    model, tokenizer = build_model(texts, shape, model_seed, block_multiple=64, coupler=coupler)
    model.to(resolve_device(cfg.device))
    train(model, tokenizer, train_rows, _train_config(cfg, cfg.seed_steps, cfg.lr, model_seed), folder, resume=True,
          extra={"climb": "seed", "scheme": scheme}, progress=progress, description=f"seed {seed}: {folder.name}")  # fmt: skip
    model, tokenizer, _ = load_model(folder / "ckpt.pt", cfg.device)
    scores = accuracy(model, tokenizer, tests)
    (folder / "seed.json").write_text(json.dumps(scores, indent=1))
    return scores


# ---------------------------------------------------------------- one arm, every round


def label_round(
    models: Sequence, arm: str, pairs: Sequence[tuple[int, int]], cfg: ClimbConfig, key: int
) -> list[Labelled]:
    """Label ``pairs`` as ``arm`` does, with its ``(model, tokenizer)`` members (the control
    arm's labels are reference answers)."""
    truths = [FORMAT.target(TASK, a, b) for a, b in pairs]
    digits = [digits_of(a, b) for a, b in pairs]
    if arm == "control":
        return [Labelled(a, b, d, t, t, 1.0, True) for (a, b), d, t in zip(pairs, digits, truths)]
    if arm == "unfiltered":
        answers = complete_sums(*models[0], pairs)
        return [Labelled(a, b, d, s[0], t, 1.0, True) for (a, b), d, t, s in zip(pairs, digits, truths, answers)]
    if arm == "ensemble":  # one greedy answer from each member
        greedy = [[group[0] for group in complete_sums(*member, pairs)] for member in models]
        answers = [list(votes) for votes in zip(*greedy)]
    else:
        answers = complete_sums(*models[0], pairs, cfg.k, cfg.temperature, key)
    rows = []
    for (a, b), d, t, samples in zip(pairs, digits, truths, answers):
        if arm == "verified":
            label, share, kept = verified_label(samples, t)
        else:
            share_needed = cfg.ensemble_agreement if arm == "ensemble" else cfg.agreement
            label, share, kept = vote_label(samples, a, b, share_needed)
        rows.append(Labelled(a, b, d, label, t, share, kept))
    return rows


def run_arm(cfg: ClimbConfig, seed: int, arm: str, progress: bool = True) -> None:
    """Every round of one arm from the seed model the pre-flight kept (the ensemble: and its
    other members, trained here); finished rounds are read back."""
    from ..models import load_model
    from ..train import train

    base = Path(cfg.out) / f"seed-{seed}"
    scheme = json.loads((base / "preflight.json").read_text())["scheme"]
    members = cfg.ensemble if arm == "ensemble" else 1
    for m in range(1, members):
        train_seed(cfg, seed, scheme, base / f"seed-{scheme}-{m}", seed + 1000 * m, progress)
    starts = [base / (f"seed-{scheme}-{m}" if m else f"seed-{scheme}") / "ckpt.pt" for m in range(members)]
    before, tests = seed_and_test(cfg, seed)
    frontier = cfg.seed_digits
    for r in range(1, cfg.rounds + 1):
        folder = base / arm / f"round-{r}"
        outs = [folder] if members == 1 else [folder / f"model-{m}" for m in range(members)]
        folder.mkdir(parents=True, exist_ok=True)
        labels_path = folder / "labels.jsonl"
        if labels_path.exists():
            labels = [Labelled(**row) for _, row in read_jsonl(labels_path)]
        else:
            models = [load_model(start, cfg.device)[:2] for start in starts]
            longer = f"climb:{seed}:{r}:{frontier + 1}"  # the same problems for every arm
            pairs = control_sums(cfg, seed, r) if arm == "control" else sums(frontier + 1, cfg.n_round, longer)
            labels = label_round(models, arm, pairs, cfg, seed * 1000 + r)
            write_jsonl(labels_path, [asdict(row) for row in labels])
        newest = [example(i, x.a, x.b, x.label) for i, x in enumerate(labels) if x.kept]
        kept = sum(x.kept for x in labels)
        after = frontier if arm == "control" else next_frontier(frontier, kept, len(labels), cfg.advance_at)
        if not (folder / "metrics.json").exists():  # written last: a round with it is finished
            scores = []
            for m, (start, out) in enumerate(zip(starts, outs)):
                key = f"mix:{seed}:{arm}:{r}" + (f":{m}" if m else "")
                mix = half_and_half(newest, before, cfg.steps * cfg.batch_size, random.Random(key))
                model, tokenizer, _ = load_model(start, cfg.device)
                config = _train_config(cfg, cfg.steps, cfg.round_lr, seed * 1000 + r + 100 * m)
                train(model, tokenizer, mix, config, out, resume=True, extra={"climb": arm, "round": r, "scheme": scheme},
                      progress=progress, description=f"seed {seed}: {arm} round {r}")  # fmt: skip
                model.eval()
                scores.append(accuracy(model, tokenizer, tests))
            metrics = {
                "round": r, "labelled_digits": sorted({x.digits for x in labels}), "labelled": len(labels),
                "kept": kept, "kept_right": sum(x.kept and x.correct for x in labels),
                "frontier": after, "accuracy": scores[0], **({"members": scores} if members > 1 else {}),
            }  # fmt: skip
            (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
        before, frontier, starts = before + newest, after, [out / "ckpt.pt" for out in outs]


# ---------------------------------------------------------------- the whole run


@traced("climb", lambda a: a["cfg"].out)
def run_climb(cfg: ClimbConfig, progress: bool = True) -> dict:
    """The pre-flight for every seed, then every arm of every seed that passed; the summary
    (``climb.json``) and the plot (``climb.png``)."""
    from .seeds import run_parallel
    from .plots import climb_plot

    out = Path(cfg.out)
    settings = asdict(cfg)
    compared = [k for k in settings if k not in ("out", "rounds", "seeds", "arms", "device", "workers", *WATCH_ONLY)]
    RunFolder(out, settings, compared, defaults=asdict(ClimbConfig())).open(hint="use another --out")
    t0 = time.perf_counter()
    flights = run_parallel(preflight, [(cfg, s) for s in cfg.seeds], cfg.workers, progress, "seed models")
    ready = [f["seed"] for f in flights if f["scheme"]]
    if not ready:
        tried = "; ".join(f"{t['scheme']}: {_short(t['accuracy'])}" for t in flights[0]["tried"])
        raise MathlensError(f"no scheme passed the pre-flight (>= {cfg.seed_min:.0%} at 1-{cfg.seed_digits} digits, "
                            f"> 0 at {cfg.seed_digits + 1}): {tried}; train the seed longer (--seed-steps)")  # fmt: skip
    run_parallel(run_arm, [(cfg, s, arm) for s in ready for arm in cfg.arms], cfg.workers, progress, "arms")
    summary = summarize(cfg, out)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "climb.json").write_text(json.dumps(summary, indent=1))
    climb_plot(summary, out / "climb.png")
    return summary


def _short(scores: dict) -> str:
    return " ".join(f"{d}:{v:.0%}" for d, v in scores.items())


def summarize(cfg: ClimbConfig, out: Path) -> dict:
    """Per seed and arm, every finished round (round 0: the seed model); per arm and round, the
    mean accuracy per digit count over seeds with its 95% interval."""
    from .seeds import interval

    seeds: dict[int, dict] = {}
    for s in cfg.seeds:
        flight_path = out / f"seed-{s}" / "preflight.json"
        if not flight_path.exists():
            continue
        flight = json.loads(flight_path.read_text())
        if not flight["scheme"]:
            seeds[s] = {"preflight": flight, "arms": {}}
            continue
        seed_scores = flight["tried"][-1]["accuracy"]
        arms = {}
        for arm in cfg.arms:
            rounds = [{"round": 0, "frontier": cfg.seed_digits, "accuracy": seed_scores}]
            for r in range(1, cfg.rounds + 1):
                path = out / f"seed-{s}" / arm / f"round-{r}" / "metrics.json"
                if not path.exists():
                    break
                rounds.append(json.loads(path.read_text()))
            arms[arm] = rounds
        seeds[s] = {"preflight": flight, "scheme": flight["scheme"], "arms": arms}
    mean: dict[str, list[dict]] = {}
    for arm in cfg.arms:
        runs = [v["arms"][arm] for v in seeds.values() if arm in v["arms"]]
        finished = min((len(rounds) for rounds in runs), default=0)
        mean[arm] = [
            {str(d): interval([rounds[r]["accuracy"][str(d)] for rounds in runs]) for d in range(1, cfg.test_digits + 1)}
            for r in range(finished)
        ]
    return {"config": asdict(cfg), "seeds": {str(s): v for s, v in seeds.items()}, "mean": mean}
