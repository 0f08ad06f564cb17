"""The lab's experiment configs: every knob of an LSO run and of a length-generalization run.

Kept apart from the runs (and free of torch) so that the CLI shows their defaults at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..config import parse_digits, parse_int_map, parse_ints, parse_names, parse_pairs, parse_span, parsed, setting
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
    is: pass@k; pass@1 is reported too). Each field's help is its ``--flag``'s.
    """

    backend: str = setting("With --model: how it is called.", default="hf")
    backend_model: str | None = setting(
        "Evaluate this model instead of training: a tiny ckpt.pt, an HF folder or id, or the served model's name.",
        default=None,
    )
    base_url: str = setting("openai backend: the server's /v1 address.", default="http://127.0.0.1:8000/v1")
    api: str = setting("openai backend: which endpoint.", default="completions")
    shots: int = setting("With --model: solved training examples before each question.", default=0)
    rule_text: str | None = setting(
        "With --model, rule format: how the prompt states the rule.", "code (compact for tiny)", default=None
    )
    n: int = setting("With --model: answers per question (1: greedy; more: pass@k and pass@1).", default=1)
    temperature: float = setting("With --model and --n > 1: sampling temperature.", default=0.7)
    max_tokens: int | None = setting(  # a token holds at least one character
        "With --model: new tokens per answer.", "longest target + 2", default=None
    )
    train_cells: int | None = setting(
        "With --model: evaluate at most this many training cells (seeded sample).", "all", default=None
    )
    model_args: str = ""  # hf, vllm: dtype=…,revision=…,device_map=…,trust_remote_code=… (help: cli.common)
    gen_batch_size: int = setting("With --backend hf: prompts per generate call.", default=32)
    chat_template: str = "auto"  # auto | on | off: off sends the few-shot text exactly, as a completion
    fewshot_as_turns: bool = False  # with a chat template: each demonstration a user/assistant pair
    system: str | None = None  # a system prompt, with a chat template

    def __post_init__(self) -> None:
        if self.shots < 0 or self.n < 1 or self.gen_batch_size < 1:
            raise MathlensError(
                f"shots={self.shots}, n={self.n}, gen_batch_size={self.gen_batch_size}: shots ≥ 0, n ≥ 1, batch ≥ 1"
            )
        check_mode(self.chat_template)

    @property
    def active(self) -> bool:
        return self.backend_model is not None


@dataclass(frozen=True)
class FinetuneSpec:
    """Fine-tune a pretrained Hugging Face model on the training cells instead of training a
    tiny one (``--finetune MODEL``), as the paper fine-tunes GPT-2 and Llama-2: prompt ``a+b=``,
    target the answer, loss on the target only; then every cell is answered greedily. The
    budget is the run's ``train`` (``--lr``, ``--batch-size``, ``--seed``; ``--steps`` unless
    ``--epochs`` is given)."""

    base_model: str | None = setting(
        "Fine-tune this pretrained model (hub id, folder, .gguf or smollm2-135m-instruct) instead of training a tiny one.",
        "none: a tiny model from scratch", default=None,
    )  # fmt: skip
    epochs: float | None = setting("With --finetune: passes over the training cells (overrides --steps).", "none", default=None)
    lora: bool = setting("With --finetune: LoRA adapters on every linear layer instead of full fine-tuning.", default=False)
    lora_r: int = setting("With --finetune --lora: the adapters' rank.", default=16)
    train_layers: int | None = setting(
        "With --finetune: train only the top N blocks in full (the rest and the embeddings frozen).", "all", default=None
    )
    bf16: str = setting("With --finetune: bf16 compute: auto (where the GPU has it), on or off.", default="auto")
    processes: int = setting(
        "With --finetune: train under accelerate launch on this many processes, one per GPU (--batch-size is "
        "split among them).", default=1,
    )  # fmt: skip

    def __post_init__(self) -> None:
        if self.processes < 1:
            raise MathlensError(f"processes={self.processes}: at least 1")

    @property
    def active(self) -> bool:
        return self.base_model is not None


def check_one_model(probe: ProbeConfig, finetune: FinetuneSpec) -> None:
    """A lab run either evaluates a model as it is or fine-tunes one, not both."""
    if finetune.active and probe.active:
        raise MathlensError("--finetune trains a model and --model evaluates one as it is: choose one")


@dataclass(frozen=True)
class LSOConfig:
    """Every knob of an LSO run; each is also a CLI flag and a key of ``--config`` YAML."""

    task: str = setting("The arithmetic task.", default="addition")
    format: str = setting("Answer format (rule: the compact RFFT trace).", default="direct")
    range: tuple[int, int] | None = parsed(
        parse_span, "Operand range low-high, inclusive.", default=None,
        default_text="the task's: 0-99, 0-112 for mod_addition",
    )  # fmt: skip
    center: tuple[tuple[int, int], ...] = parsed(
        parse_pairs, "Square centre x,y; several: '20,20;70,70'.", default=((50, 50),)
    )
    radius: tuple[int, ...] = parsed(  # a sweep's list of sizes
        parse_ints, "Half side r (side 2r+1), one per centre or one for all; a sweep's: the sizes.", default=(10,)
    )
    modulus: int | None = setting("Modulus of mod_addition.", "113", default=None)
    base: int | None = setting("Base of base_addition.", "9", default=None)
    data: str | None = setting("A paper split folder (train.json, test.json) to use as it is.", "none", default=None)
    control: bool = setting("Also train on a random split with as many test cells.", default=True)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=lambda: LSO_TRAIN)  # its seed also seeds init and the control split
    probe: ProbeConfig = field(default_factory=ProbeConfig)  # with a model: evaluate it, train nothing
    finetune: FinetuneSpec = field(default_factory=FinetuneSpec)  # with a base model: fine-tune it, not a tiny one
    seeds: tuple[int, ...] = parsed(
        parse_ints, "Several seeds, e.g. 0,1,2: one run each, mean and 95% interval.", default=()
    )
    workers: int | None = setting("Runs in parallel.", "one per core with --seeds", default=None)
    lattice: int = setting("sweep: centres on an n×n lattice over the grid (the position sweep), not --center.", default=0)
    device: str = setting("auto, cpu or cuda: where the tiny model trains and decodes.", default="auto")
    out: str = setting("Output folder.", default="runs/lso")
    resume: bool = setting("Continue from the checkpoints in --out after a kill; finished runs are read back.", default=False)

    def __post_init__(self) -> None:
        check_one_model(self.probe, self.finetune)


@dataclass(frozen=True)
class Scheme:
    """A position scheme for length generalization: the tiny model's positions, and for two
    schemes the way numbers are written (``lengthgen --schemes``)."""

    positions: str = "rope"
    random_positions: bool = False  # learned positions from a random start (Ruoss et al. 2023)
    abacus: bool = False  # digit places, shifted in training to reach the test lengths (McLeish et al. 2024)
    reverse: bool = False  # direct answers least significant digit first (Lee et al. 2023)
    hints: bool = False  # a place marker before every digit, from a random letter in training (Zhou et al. 2023)
    couple: bool = False  # (place, slot) ids from the text, numbers reversed (Cho et al. 2024; formats.coupling)


SCHEMES = {
    "rope": Scheme(),
    "nope": Scheme(positions="none"),
    "random": Scheme(positions="learned", random_positions=True),
    # Abacus on rotary positions: with NoPE a rule trace had not fitted after 600 steps (2% of
    # training sums right), more than this machine's budget gives each pair.
    "abacus": Scheme(abacus=True, reverse=True),
    "hints": Scheme(hints=True),
    # Position coupling: direct, scratchpad and the compact rule; every number reversed.
    "coupled": Scheme(positions="coupled", couple=True),
}


def scheme_model(shape: ModelConfig, name: str, offset: int) -> ModelConfig:
    """``shape`` under position scheme ``name``; Abacus and coupled positions shift places in
    training by up to ``offset`` (the longest test length past the longest trained one, plus
    one), so that every place the tests reach has been trained."""
    scheme = SCHEMES[name]
    return replace(
        shape,
        positions=scheme.positions,
        random_positions=scheme.random_positions,
        abacus=scheme.abacus,
        abacus_offset=offset if scheme.abacus else 0,
        coupled_offset=offset if scheme.couple else 0,
    )


PRETRAIN_ARMS = ("rule", "own", "none")


@dataclass(frozen=True)
class PretrainSpec:
    """Generic skills first, as a pretrained model has them (``lab.generic``): one tiny model
    trained on traced list programs (copy, reverse, interleave, pick the larger digit: no
    addition, no carry) over lists longer than the sums it will fine-tune on; then each format
    fine-tuned on the sums from that checkpoint, with the generic data replayed. Each field's
    help is its ``--flag``'s."""

    pretrain: tuple[str, ...] = parsed(
        parse_names, "Pretraining arms, each run with every format (out/ARM/FORMAT): rule (generic programs in the "
        "rule trace's syntax, one checkpoint for every format), own (in each format's own syntax), none (from scratch).",
        "none: no pretraining", default=(),
    )  # fmt: skip
    pretrain_digits: tuple[int, ...] = parsed(
        parse_digits, "List lengths of the generic programs.", "1-10", default=tuple(range(1, 11))
    )
    pretrain_n: int = setting("Generic problems per list length.", default=600)
    pretrain_steps: int = setting("Optimizer steps of the generic pretraining.", default=8000)
    replay: float = setting("Share of each fine-tune's examples that are generic problems, replayed.", default=0.2)
    gate: float = setting(
        "Go/no-go: generic traces right at the two longest list lengths before any fine-tune.", default=0.95
    )

    def __post_init__(self) -> None:
        unknown = [a for a in self.pretrain if a not in PRETRAIN_ARMS]
        if unknown:
            raise MathlensError(f"pretrain arms {', '.join(unknown)}: not one of {', '.join(PRETRAIN_ARMS)}")
        if not 0 <= self.replay < 1 or not 0 <= self.gate <= 1:
            raise MathlensError(f"replay={self.replay}, gate={self.gate}: replay in [0, 1), gate in [0, 1]")
        if self.pretrain and (len(self.pretrain_digits) < 2 or min(self.pretrain_digits) < 1):
            raise MathlensError(f"pretrain_digits {self.pretrain_digits}: two or more list lengths, from 1")

    @property
    def active(self) -> bool:
        return bool(self.pretrain)


LENGTHGEN_TRAIN = TrainConfig(steps=3000, batch_size=64, lr=1e-3, warmup_steps=100, weight_decay=0.0, eval_every=500)


@dataclass(frozen=True)
class LengthGenConfig:
    """Every knob of a length-generalization run; each is also a CLI flag and a YAML key."""

    task: str = setting("The arithmetic task.", default="addition")
    base: int | None = setting("Base of base_addition.", "9", default=None)
    train_digits: tuple[int, ...] = parsed(parse_digits, "Digit counts to train on: 1-3, or with a gap 1-3,5.", default=(1, 2, 3))
    test_digits: tuple[int, ...] = parsed(parse_digits, "Digit counts to test on.", default=tuple(range(1, 9)))
    formats: tuple[str, ...] = parsed(parse_names, "Formats, one model each.", default=("direct", "scratchpad", "rule", "tir"))
    n_train: int = setting("Training problems per digit count.", default=2000)
    n_test: int = setting("Test problems per digit count.", default=100)
    n_mixed: int = setting(
        "Also this many mixed-length test problems per digit count (the second operand shorter); curves 'FORMAT mixed'.",
        default=0,
    )
    # learned positions cannot reach lengths never seen in training
    model: ModelConfig = field(default_factory=lambda: ModelConfig(n_layer=3, positions="rope"))
    train: TrainConfig = field(default_factory=lambda: LENGTHGEN_TRAIN)
    # Per-format step counts overriding train.steps, e.g. {direct: 1000}. Traces fit suddenly:
    # the scratchpad sits at a loss plateau for ~1,300 steps, then drops to ~0 (3 layers, lr 1e-3).
    steps_by_format: dict[str, int] = parsed(
        parse_int_map, "Per-format steps overriding --steps, e.g. direct=1000.", default_factory=dict
    )
    device: str = setting("auto, cpu or cuda: where the tiny models train and decode.", default="auto")
    out: str = setting("Output folder.", default="runs/lengthgen")
    resume: bool = setting("Continue from the checkpoints in --out after a kill; finished runs are read back.", default=False)
    probe: ProbeConfig = field(default_factory=ProbeConfig)  # with a model: evaluate it, train nothing
    finetune: FinetuneSpec = field(default_factory=FinetuneSpec)  # with a base model: fine-tune it, not tiny ones
    seeds: tuple[int, ...] = parsed(
        parse_ints, "Several seeds, e.g. 0,1,2: one run each, mean and 95% interval.", default=()
    )
    workers: int | None = setting("Runs in parallel.", "one per core with --seeds", default=None)
    rule_style: str | None = setting(  # as `export` writes for pretrained models
        "How a rule trace is recited (compact suits tiny models, code pretrained ones).",
        "compact; code with --model", default=None,
    )  # fmt: skip
    # Position schemes, each run with every format (out/SCHEME/FORMAT); empty: `model` as it is.
    schemes: tuple[str, ...] = parsed(
        parse_names, "Position schemes, each run with every format (random: offsets; abacus: digit places, with "
        "reversed direct answers; hints: index hints; coupled: position coupling, numbers reversed).",
        "none: the model as --positions sets it", default=(),
    )  # fmt: skip
    generic: PretrainSpec = field(default_factory=PretrainSpec)  # generic pretraining arms (lab.pretrain)

    def __post_init__(self) -> None:
        unknown = [s for s in self.schemes if s not in SCHEMES]
        if unknown:
            raise MathlensError(f"schemes {', '.join(unknown)}: not one of {', '.join(SCHEMES)}")
        if self.model.positions == "coupled" and "coupled" not in self.schemes:
            raise MathlensError("positions: coupled reads ids its format gives: use --schemes coupled, not --positions")
        if self.schemes and (self.probe.active or self.finetune.active):
            raise MathlensError("schemes change how the tiny model is trained; drop them with --model or --finetune")
        check_one_model(self.probe, self.finetune)
        if self.generic.active and (self.schemes or self.probe.active or self.finetune.active):
            raise MathlensError("--pretrain trains tiny models on rotary positions: drop --schemes, --model and --finetune")
        if "own" in self.generic.pretrain:
            from .generic import SYNTAXES

            other = [f for f in self.formats if f not in SYNTAXES]
            if other:
                raise MathlensError(f"--pretrain own renders generic programs as {', '.join(SYNTAXES)} only, not {', '.join(other)}")
        for what in ("train_digits", "test_digits"):
            digits = getattr(self, what)
            if not digits or min(digits) < 1:
                raise MathlensError(f"{what} {digits}: digit counts start at 1")

    def train_config(self, name: str) -> TrainConfig:
        return replace(self.train, steps=self.steps_by_format.get(name, self.train.steps))

    def scheme_model(self, name: str) -> ModelConfig:
        """The model under scheme ``name``, its places shifted to reach the longest test sum."""
        return scheme_model(self.model, name, max(self.test_digits) - max(self.train_digits) + 1)
