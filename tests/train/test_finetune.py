"""Fine-tuning a Hugging Face causal LM, on a tiny randomly initialised GPT-2 built right here."""

import json

import pytest

transformers = pytest.importorskip("transformers")

from mathlens.config import resolve
from mathlens.formats import make_format
from mathlens.lab.export import export_rows
from mathlens.lab.lengthgen import LengthGenConfig, run_lengthgen
from mathlens.records import write_jsonl
from mathlens.tasks import make_task
from mathlens.train.hf import FinetuneConfig, finetune, read_pairs


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rows = export_rows(make_task("addition"), make_format("direct"), [1, 2], 40, seed=0, chat=True)
    path = tmp_path_factory.mktemp("data") / "direct.jsonl"
    write_jsonl(path, rows)
    return path


@pytest.mark.parametrize("lora", [False, True])
def test_finetune_loss_falls_and_the_model_reloads(tiny_model, data, tmp_path, lora):
    lr = 1e-2 if lora else 3e-3
    cfg = FinetuneConfig(
        str(tiny_model), str(data), str(tmp_path / "ft"), lora=lora, steps=40, batch_size=8, lr=lr, warmup_steps=2
    )
    losses = finetune(cfg, progress=False).losses
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ft")  # merged: loads without peft
    assert reloaded.config.n_layer == 2
    log = json.loads((tmp_path / "ft" / "finetune_log.json").read_text())
    assert log["config"]["lora"] is lora
    made = json.loads((tmp_path / "ft" / "provenance.json").read_text())  # where the model came from
    assert made["kind"] == "finetune" and made["ended"] == "finished" and made["model"]["id"] == str(tiny_model)
    assert made["data"][0]["source"] == str(data.resolve()) and "model.safetensors" in made["model"]["weights"]["files"]


def test_bad_rows_are_named(tmp_path):
    from mathlens.errors import MathlensError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "1+1=", "completion": "2"}\n{"question": "?"}\n')
    with pytest.raises(MathlensError, match="bad.jsonl:2: expected fields 'prompt' and 'completion'"):
        read_pairs(path)


def test_lengthgen_evaluates_a_hugging_face_model(tiny_model, tmp_path):
    cfg = resolve(
        LengthGenConfig,
        backend_model=str(tiny_model),
        formats="direct,tir",
        test_digits="1-2",
        n_test=3,
        max_tokens=8,
        out=str(tmp_path),
    )
    result = run_lengthgen(cfg, progress=False)
    assert set(result["curves"]["tir"]) == {1, 2}
    rows = [json.loads(line) for line in (tmp_path / "direct" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(isinstance(r["completion"], str) for r in rows)


def test_finetune_resumes_from_its_last_checkpoint(tiny_model, data, tmp_path):
    out = tmp_path / "ft"
    first = FinetuneConfig(
        str(tiny_model), str(data), str(out), steps=4, batch_size=4, lr=1e-3, warmup_steps=1, save_steps=2
    )
    finetune(first, progress=False)
    assert sorted(p.name for p in (out / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    longer = FinetuneConfig(**{**first.__dict__, "steps": 6, "resume": True})
    result = finetune(longer, progress=False)
    log = json.loads((out / "finetune_log.json").read_text())
    assert log["resumed_from"].endswith("checkpoint-4") and len(result.losses) == 6


def test_finetune_reports_to_tensorboard_and_keeps_its_log_history(tiny_model, data, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "ft"
    cfg = FinetuneConfig(str(tiny_model), str(data), str(out), steps=3, batch_size=4, lr=1e-3, warmup_steps=1,
                         report_to="tensorboard")  # fmt: skip
    losses = finetune(cfg, progress=False).losses
    events = sorted(out.rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event files under the output folder"
    accumulator = EventAccumulator(str(events[0].parent))
    accumulator.Reload()
    assert [e.value for e in accumulator.Scalars("train/loss")] == pytest.approx(losses, rel=1e-5)
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows if "loss" in r] == losses and [r["step"] for r in rows if "loss" in r] == [1, 2, 3]


SCRIPT = """
import hashlib, json, sys
from accelerate import PartialState
from mathlens.train.hf import FinetuneConfig, finetune

model, data, out = sys.argv[1:4]
result = finetune(FinetuneConfig(model, data, out, steps=4, batch_size=4, lr=1e-3, warmup_steps=1), progress=False)
state = PartialState()
weights = b"".join(p.detach().cpu().numpy().tobytes() for p in result.model.parameters())
with open(f"{out}/rank{state.process_index}.json", "w") as f:
    json.dump({"processes": state.num_processes, "backend": state.backend, "sha": hashlib.sha256(weights).hexdigest()}, f)
"""


def test_two_processes_under_accelerate_launch_train_one_model(tiny_model, data, tmp_path):
    """Data parallel on the CPU (gloo), as `accelerate launch` runs it on several GPUs."""
    import os
    import subprocess
    import sys

    script, out = tmp_path / "train.py", tmp_path / "ddp"
    script.write_text(SCRIPT)
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    launch += [
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "29517",
    ]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*launch, str(script), str(tiny_model), str(data), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["processes"] == 2 and r["backend"] == "gloo" for r in ranks)
    assert ranks[0]["sha"] == ranks[1]["sha"]  # gradients were all-reduced: one model
    assert transformers.AutoModelForCausalLM.from_pretrained(out).config.n_layer == 2
