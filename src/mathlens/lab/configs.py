"""The lab's experiment configs: every knob of an LSO run and of a length-generalization run.

Kept apart from the runs (and free of torch) so that the CLI shows their defaults at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..config import parse_digits, parse_int_map, parse_ints, parse_names, parse_pairs, parse_span, parsed
from ..backends.chat import check_mode
from ..errors import MathlensError
from ..models.shape import ModelConfig
from ..train.core import TrainConfig

# The LSO runs' training defaults (the README's figures were measured with them).
# No weight decay: decay pushes a tiny model towards the digit rule (it fills the hole
# from the rim, 40-70% held-out accuracy instead of 15-40%); see the README's sweep notes.
LSO_TRAIN = TrainConfig(steps=2500, batch_size=128, lr=3e-3, warmup_steps=100, weight_decay=0.0, eval_every=500)


@dataclass(frozen=True)
class ProbeConfig:
    """Evaluate a model the harness can call instead of training one (``--backend``, ``--model``).

    Each cell's prompt is rendered in the run's format (the rule in it as code, words or
    pseudo-code), after ``shots`` demonstrations drawn from the training cells; ``samples``
    answers per cell, greedy for one, at ``temperature`` for more (a cell is right when any
    is: pass@k; pass@1 is reported too).
    """

    backend: str = "hf"  # tiny, hf, vllm or openai
    backend_model: str | None = None  # a tiny ckpt.pt, an HF folder or id, or the served model's name
    base_url: str = "http://127.0.0.1:8000/v1"  # openai
    api: str = "completions"  # openai: completions or chat
    shots: int = 0
    rule_text: str | None = None  # rule format: code, natural, pseudo or none; None: code (compact for tiny)
    samples: int = 1
    temperature: float = 0.7  # when samples > 1
    max_tokens: int | None = None  # None: the longest target's characters plus 2 (a token holds at least one)
    train_cells: int | None = None  # at most this many training cells evaluated (seeded); None: all
    model_args: str = ""  # hf, vllm: dtype=…,revision=…,device_map=…,trust_remote_code=…
    gen_batch_size: int = 32  # hf: prompts per generate call
    chat_template: str = "auto"  # auto | on | off: off sends the few-shot text exactly, as a completion
    fewshot_as_turns: bool = False  # with a chat template: each demonstration a user/assistant pair
    system: str | None = None  # a system prompt, with a chat template

    def __post_init__(self) -> None:
        if self.shots < 0 or self.samples < 1 or self.gen_batch_size < 1:
            raise MathlensError(
                f"shots={self.shots}, samples={self.samples}, gen_batch_size={self.gen_batch_size}: "
                "shots ≥ 0, samples ≥ 1, batch ≥ 1"
            )
        check_mode(self.chat_template)

    @property
    def active(self) -> bool:
        return self.backend_model is not None


@dataclass(frozen=True)
class LSOConfig:
    """Every knob of an LSO run; each is also a CLI flag and a key of ``--config`` YAML."""

    task: str = "addition"
    format: str = "direct"  # direct, scratchpad, rule (compact RFFT trace) or tir
    range: tuple[int, int] | None = parsed(parse_span, default=None)  # inclusive; None: the task's (0-99, mod 0-112)
    center: tuple[tuple[int, int], ...] = parsed(parse_pairs, default=((50, 50),))
    radius: tuple[int, ...] = parsed(parse_ints, default=(10,))  # half side per centre, or one for all; a sweep's list
    modulus: int | None = None  # mod_addition
    base: int | None = None  # base_addition
    data: str | None = None  # a paper split folder, used as it is instead of the generator
    control: bool = True  # also train on a random split with as many test cells
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=lambda: LSO_TRAIN)  # its seed also seeds init and the control split
    probe: ProbeConfig = field(default_factory=ProbeConfig)  # with a model: evaluate it, train nothing
    seeds: tuple[int, ...] = parsed(parse_ints, default=())  # one run per seed (train.seed), mean and 95% interval
    workers: int | None = None  # runs in parallel; None: one per core
    lattice: int = 0  # sweep: centres on an n×n lattice over the grid instead of `center`
    device: str = "auto"  # auto, cpu or cuda: where the tiny model trains and decodes
    out: str = "runs/lso"
    resume: bool = False  # continue from checkpoints; finished runs are read back, not redone


@dataclass(frozen=True)
class Scheme:
    """A position scheme for length generalization: the tiny model's positions, and for two
    schemes the way numbers are written (``lengthgen --schemes``)."""

    positions: str = "rope"
    random_positions: bool = False  # learned positions from a random start (Ruoss et al. 2023)
    abacus: bool = False  # digit places, shifted in training to reach the test lengths (McLeish et al. 2024)
    reverse: bool = False  # direct answers least significant digit first (Lee et al. 2023)
    hints: bool = False  # a place marker before every digit, from a random letter in training (Zhou et al. 2023)


SCHEMES = {
    "rope": Scheme(),
    "nope": Scheme(positions="none"),
    "random": Scheme(positions="learned", random_positions=True),
    # Abacus on rotary positions: with NoPE a rule trace had not fitted after 600 steps (2% of
    # training sums right), more than this machine's budget gives each pair.
    "abacus": Scheme(abacus=True, reverse=True),
    "hints": Scheme(hints=True),
}


LENGTHGEN_TRAIN = TrainConfig(steps=3000, batch_size=64, lr=1e-3, warmup_steps=100, weight_decay=0.0, eval_every=500)


@dataclass(frozen=True)
class LengthGenConfig:
    """Every knob of a length-generalization run; each is also a CLI flag and a YAML key."""

    task: str = "addition"
    base: int | None = None  # base_addition
    train_digits: tuple[int, ...] = parsed(parse_digits, default=(1, 2, 3))  # "1-5", or with a gap "1-3,5"
    test_digits: tuple[int, ...] = parsed(parse_digits, default=tuple(range(1, 9)))
    formats: tuple[str, ...] = parsed(parse_names, default=("direct", "scratchpad", "rule", "tir"))
    n_train: int = 2000  # problems per trained digit count
    n_test: int = 100  # problems per tested digit count
    # learned positions cannot reach lengths never seen in training
    model: ModelConfig = field(default_factory=lambda: ModelConfig(n_layer=3, positions="rope"))
    train: TrainConfig = field(default_factory=lambda: LENGTHGEN_TRAIN)
    # Per-format step counts overriding train.steps, e.g. {direct: 1000}. Traces fit suddenly:
    # the scratchpad sits at a loss plateau for ~1,300 steps, then drops to ~0 (3 layers, lr 1e-3).
    steps_by_format: dict[str, int] = parsed(parse_int_map, default_factory=dict)
    device: str = "auto"  # auto, cpu or cuda: where the tiny models train and decode
    out: str = "runs/lengthgen"
    resume: bool = False
    probe: ProbeConfig = field(default_factory=ProbeConfig)  # with a model: evaluate it, train nothing
    seeds: tuple[int, ...] = parsed(parse_ints, default=())  # one run per seed (train.seed), mean and 95% interval
    workers: int | None = None  # runs in parallel; None: one per core
    rule_style: str | None = None  # compact (tiny models) or code (pretrained ones, as `export` writes)
    # Position schemes, each run with every format (out/SCHEME/FORMAT); empty: `model` as it is.
    schemes: tuple[str, ...] = parsed(parse_names, default=())

    def __post_init__(self) -> None:
        unknown = [s for s in self.schemes if s not in SCHEMES]
        if unknown:
            raise MathlensError(f"schemes {', '.join(unknown)}: not one of {', '.join(SCHEMES)}")
        if self.schemes and self.probe.active:
            raise MathlensError("schemes change how the tiny model is trained; drop them with --model")
        for what in ("train_digits", "test_digits"):
            digits = getattr(self, what)
            if not digits or min(digits) < 1:
                raise MathlensError(f"{what} {digits}: digit counts start at 1")

    def train_config(self, name: str) -> TrainConfig:
        return replace(self.train, steps=self.steps_by_format.get(name, self.train.steps))

    def scheme_model(self, name: str) -> ModelConfig:
        """The model under scheme ``name``; Abacus shifts places far enough in training that
        the longest test sum's places have all been trained."""
        scheme = SCHEMES[name]
        offset = max(self.test_digits) - max(self.train_digits) + 1 if scheme.abacus else 0
        return replace(
            self.model,
            positions=scheme.positions,
            random_positions=scheme.random_positions,
            abacus=scheme.abacus,
            abacus_offset=offset,
        )
