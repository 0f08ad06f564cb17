"""The settings of an eval run (``mathlens eval``), apart from the run so that the CLI reads
them, help included, without loading torch."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..backends.chat import check_mode
from ..config import setting
from ..errors import MathlensError
from ..models.hf import ModelArgs

# Settings that change what a sample is: a run folder holds samples of one setting only.
SAMPLE_SETTINGS = (
    "backend",
    "model",
    "mode",
    "prompt",
    "n",
    "temperature",
    "top_p",
    "max_tokens",
    "max_tool_calls",
    "seed",
    "api",
    "model_args",
    "chat_template",
    "fewshot_as_turns",
    "system",
    "stop",
    "rm",
)


@dataclass
class EvalConfig:
    """Every knob of an eval run; each is a ``mathlens eval`` flag and a ``--config`` YAML key
    (its help, beside the default, is the flag's)."""

    backend: str = setting("How the model is called.", default="hf")
    model: str = setting(
        "Checkpoint (tiny: ckpt.pt); a hub id, HF folder, .gguf file or smollm2-135m-instruct; or the served model's name.",
        default="",
    )
    benchmark: str = setting("Comma-separated: gsm8k, math_test500, … or .jsonl files.", default="gsm8k")
    data_dir: str | None = setting(
        "Benchmark folders.", "$MATHLENS_BENCHMARKS, else ../shared/data/benchmarks", default=None
    )
    mode: str = setting("cot, or tir (the model's code runs in the sandbox).", default="cot")
    prompt: str | None = setting("Template name or YAML file.", "qwen25-math-cot, or -tir with --mode tir", default=None)
    n: int = setting("Samples per problem.", default=1)
    temperature: float = setting("0 is greedy.", default=0.0)
    top_p: float = setting("Nucleus sampling.", default=1.0)
    max_tokens: int = setting("New tokens per generation call.", default=1024)
    max_tool_calls: int = setting("TIR: tool calls per sample.", default=4)
    limit: int | None = setting("First N problems of each benchmark.", "all", default=None)
    seed: int = setting("Sampling seed.", default=0)
    chunk: int = setting("Problems per generate call and per write to samples.jsonl.", default=32)
    base_url: str = setting("openai backend: the server's /v1 address.", default="http://127.0.0.1:8000/v1")
    concurrency: int = setting("openai backend: requests in flight.", default=16)
    api: str = setting(
        "openai backend: completions (prompt rendered here) or chat (the server's chat template).", default="completions"
    )
    api_key: str | None = setting(  # never written to config.json
        "openai backend: the API key.", "$OPENAI_API_KEY", default=None
    )
    model_args: str = ""  # hf and vllm: dtype=…,revision=…,device_map=…,trust_remote_code=…,attn_implementation=…
    batch_size: int = setting("hf backend: prompts per generate call (grouped by length).", default=8)
    chat_template: str = "auto"  # auto (the model's chat template if it has one) | on | off (exactly the text)
    fewshot_as_turns: bool = False  # shots as alternating user/assistant turns, not one user turn
    system: str | None = None  # replaces the template's system prompt ("" for none)
    stop: tuple[str, ...] = setting("A stop string (repeat for several), besides the template's.", "none", default=())
    rm: str | None = setting(
        "Reward model (`mathlens rm train`): score every sample, report rm@k.", "none", default=None
    )
    out: str = setting(
        "Run folder: samples.jsonl, metrics.json, metrics_by_subject/level.json, provenance.json; rerun with it to "
        "resume.", "a new runs/MODEL-BENCHMARK-MODE-nN-tT-DATE", default="")  # fmt: skip
    overwrite: bool = setting("Start --out over if it holds samples made with other settings.", default=False)

    def __post_init__(self) -> None:
        if self.mode not in ("cot", "tir"):
            raise MathlensError(f"mode {self.mode!r}: choose cot or tir")
        if not self.model:
            raise MathlensError("--model is required")
        if self.api not in ("completions", "chat"):
            raise MathlensError(f"api {self.api!r}: choose completions or chat")
        if self.n < 1 or self.chunk < 1 or self.batch_size < 1:
            raise MathlensError("n, chunk and batch size must be >= 1")
        check_mode(self.chat_template)
        self.stop = tuple(self.stop)

    def named_out(self) -> str:
        """``out``, or where none is given a new folder named for the run (never an old one)."""
        if self.out:
            return self.out
        from ..runs import fresh_run_dir, model_slug

        benchmarks = "+".join(Path(b.strip()).stem if b.strip().endswith(".jsonl") else b.strip()
                              for b in self.benchmark.split(","))  # fmt: skip
        return str(fresh_run_dir([model_slug(self.model), benchmarks, self.mode, f"n{self.n}", f"t{self.temperature:g}"]))

    def saved(self) -> dict:
        """The settings as config.json holds them (JSON types; the API key left out)."""
        return json.loads(json.dumps({k: v for k, v in asdict(self).items() if k != "api_key"}))

    def backend_options(self) -> dict:
        """What ``make_backend`` takes for this backend."""
        if self.backend == "openai":
            return {"base_url": self.base_url, "concurrency": self.concurrency, "api": self.api, "api_key": self.api_key}
        if self.backend == "hf":
            return {"batch_size": self.batch_size, "model_args": ModelArgs.parse(self.model_args)}
        if self.backend == "vllm":
            return {"model_args": ModelArgs.parse(self.model_args)}
        return {}
