"""The improvement loop's settings: one YAML file (``configs/improve.yaml``), flags over it.

Sections are nested dataclasses whose keys are unique across sections, so a key may also be
given flat (``steps: 500`` or ``--steps 500``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backends.chat import check_mode
from ..config import setting
from ..errors import MathlensError
from ..tracking import check_report_to
from ..tasks.word_problems import STYLES

KNOBS = ("all", "ops")  # what a level turns in the word world: everything, or the number of operations
TRAINABLE = ("tiny", "hf", "vllm")  # backends whose model the loop can fine-tune and reload


@dataclass(frozen=True)
class WorldSpec:
    """Where problems come from: the word-problem world, or JSONL files (question, answer)."""

    n_seed: int = 300  # labelled solutions the tiny seed policy learns from
    seed_levels: tuple[int, ...] = (1, 2)  # the easy problems the seed policy is taught
    seed_distractors: bool = True
    n_pool: int = 1000  # training problems sampled every round (their answers only verify)
    n_heldout: int = 400
    levels: tuple[int, ...] = (1, 2, 3, 4)  # levels of the pool and the held-out split
    pool_file: str | None = None  # JSONL with question and answer (answer may be empty: vote)
    heldout_file: str | None = None
    # GRPO's own queries, as the report keeps an RL set apart from the SFT data: problems the
    # policy has never trained on, filtered by its pass rate. 0: GRPO uses the round's pool samples.
    n_rl: int = 2000
    rl_file: str | None = None  # JSONL (question, answer) instead of generating them
    # all: a level adds an operation, bigger numbers and a distractor | ops: only the operation
    # (tasks.word_problems.ONE_KNOB), so the step from one level to the next is one new thing.
    knob: str = "all"
    high: int = 10  # the largest number at level 1 (at every level with knob ops)
    recite: bool = False  # TIR: a program recites each sentence as a comment above its line
    # Each round's pool (and GRPO's queries) fresh at the frontier level instead of one pool of
    # every level: one above the seed's levels, moved up after a round that solved advance_at of them.
    frontier: bool = False
    advance_at: float = 0.5  # the share of a frontier pool's problems with a right sample that moves it up
    # The share of pool, held-out and GRPO problems that tell an addition in a sentence the seed
    # never read (tasks.word_problems.TRAP): problems the policy's majority gets wrong one way.
    trap: float = 0.0


@dataclass(frozen=True)
class SamplingSpec:
    k: int = 8  # samples per training problem
    temperature: float = 1.0
    top_p: float = 1.0  # the whole distribution: rejection sampling feeds on the rare right answer
    max_tokens: int = 96
    max_tool_calls: int = 2
    hf_sample_batch: int = 32  # hf: prompts generated together (a CPU makes ~2x the tokens/s at 32 as at 8)


@dataclass(frozen=True)
class DataSpec:
    max_per_problem: int = 2
    min_agreement: float = 0.5  # problems without a reference: the majority's share of votes
    per_bucket: int | None = None  # N: at most N rows per pass-rate bucket (always-solved left out); None: all
    accumulate: bool = True  # train on every round's data so far, not this round's alone
    # Benchmark names or JSONL files, beside the held-out split; `mathlens improve` reads them and
    # passes their problems to run_loop as eval_texts.
    decontaminate: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingSpec:
    init: str = "previous"  # previous: go on from the last round's model; seed: start from round 0's
    # false: rounds sample, train the reward model and evaluate, but the policy is round 0's
    # throughout (a best-of-k study of the reward model on a policy that does not move).
    sft: bool = True
    seed_steps: int = 800  # tiny: optimizer steps of the seed policy (round 0)
    steps: int = setting("tiny: optimizer steps of each later round.", default=600)
    batch_size: int = 32
    lr: float = 3e-3  # tiny: the seed's rate; later rounds use lr * later_lr_frac
    later_lr_frac: float = 0.5
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    positions: str = "rope"  # rope lets a small model copy numbers wherever they sit in the question
    hf_lr: float = 2e-5  # hf: SFT learning rate through TRL
    hf_epochs: float = 1.0
    hf_batch_size: int = 8


@dataclass(frozen=True)
class RewardSpec:
    """The reward model each round trains on its pool samples (from the round's sampling policy)."""

    rm: bool = True  # train one; it scores held-out samples (rm@k, ranking accuracy) and pool samples
    rm_steps: int = 150
    rm_problems_per_step: int = 8
    rm_lr: float = 1e-3
    rm_select: bool = True  # among a problem's verified solutions, keep the highest-rewarded first


GRPO_WHEN = ("none", "last", "every")  # not "off": YAML reads that as false


@dataclass(frozen=True)
class GRPOSpec:
    """Reinforcement learning after a round's SFT, with the round's reward model in the reward."""

    grpo: str = "last"  # none | last (the last round only) | every (every round after round 0)
    grpo_steps: int = 100
    grpo_problems_per_step: int = 8
    group_size: int = 8
    grpo_temperature: float = 1.0
    grpo_lr: float = 1e-4
    clip: float = 0.2
    beta: float = 0.04  # KL penalty to the policy GRPO starts from
    grpo_updates: int = 2  # optimizer steps per batch of rollouts
    loss_type: str = "grpo"  # grpo | dapo (tiny); TRL takes its own names (grpo, dapo, dr_grpo, bnpo)
    min_correct: int = 2  # the problems kept: min..max right of k samples (the rl queries, or the pool's)
    max_correct: int = 5


@dataclass(frozen=True)
class EvaluationSpec:
    eval_n: int = 8  # samples per held-out problem: pass@1 is their mean, maj@k their vote, rm@k the RM's pick
    eval_temperature: float = 0.7


@dataclass(frozen=True)
class LoopConfig:
    out: str = setting("Loop folder (round-r/ per round); a killed loop resumes.", default="runs/improve")
    rounds: int = setting("Rounds after the seed round 0.", default=3)
    seed: int = setting("Seeds the world, sampling and training.", default=0)
    backend: str = setting("How the policy is sampled and trained: tiny, hf or vllm.", default="tiny")
    model: str = setting(
        "hf/vllm: the starting checkpoint (hub id, folder, .gguf or packaged name).", "none: tiny, trained here", default=""
    )
    model_args: str = ""  # hf/vllm sampling: loading options (models.hf.ModelArgs)
    chat_template: str = "auto"  # hf/vllm: how questions are rendered, in sampling, SFT, the RM and GRPO alike
    mode: str = setting(  # tir: the policy writes the program, the sandbox computes | cot: it computes itself
        "tir (the sandbox runs the policy's program) or cot.", default="tir"
    )
    device: str = "auto"
    report_to: str = setting(  # not compared when a loop resumes: watching changes nothing it computes
        "Live curves of every training (policy, reward model, GRPO): none, tensorboard (event files under each "
        "training's folder) or wandb.", default="none",
    )  # fmt: skip
    world: WorldSpec = field(default_factory=WorldSpec)
    sampling: SamplingSpec = field(default_factory=SamplingSpec)
    data: DataSpec = field(default_factory=DataSpec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    reward: RewardSpec = field(default_factory=RewardSpec)
    rl: GRPOSpec = field(default_factory=GRPOSpec)

    def __post_init__(self) -> None:
        if self.backend not in TRAINABLE:
            raise MathlensError(
                f"backend {self.backend!r}: the loop fine-tunes its policy every round, so it needs a model "
                f"it can train and reload ({', '.join(TRAINABLE)}); evaluate API models with `mathlens eval`"
            )
        if self.backend != "tiny" and not self.model:
            raise MathlensError(f"backend {self.backend}: --model names the starting checkpoint")
        if self.mode not in STYLES:
            raise MathlensError(f"mode {self.mode!r}: choose cot or tir")
        check_mode(self.chat_template)
        check_report_to(self.report_to)
        if self.training.init not in ("previous", "seed"):
            raise MathlensError(f"init {self.training.init!r}: choose previous or seed")
        if self.rounds < 0 or self.sampling.k < 1 or self.evaluation.eval_n < 1:
            raise MathlensError("rounds must be >= 0, k and eval_n >= 1")
        if self.rl.grpo not in GRPO_WHEN:
            raise MathlensError(f"grpo {self.rl.grpo!r}: choose {', '.join(GRPO_WHEN)}")
        if not set(self.world.seed_levels) | set(self.world.levels) <= {1, 2, 3, 4}:
            raise MathlensError("levels go from 1 to 4")
        if not self.training.sft and self.rl.grpo != "none":
            raise MathlensError("sft false keeps round 0's policy: it cannot run GRPO (grpo: none)")
        w = self.world
        if not (0 <= w.advance_at <= 1 and 0 <= w.trap <= 1) or w.high < 2:
            raise MathlensError(f"advance_at {w.advance_at} and trap {w.trap} are shares from 0 to 1; high {w.high} at least 2")
        if self.world.knob not in KNOBS:
            raise MathlensError(f"knob {self.world.knob!r}: choose {' or '.join(KNOBS)}")
        if self.world.frontier and (self.world.pool_file is not None or self.world.rl_file is not None):
            raise MathlensError("frontier draws each round's pool from the word world: it cannot read pool_file or rl_file")
