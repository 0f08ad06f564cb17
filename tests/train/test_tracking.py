"""--report-to: the tiny trainer's curves in TensorBoard and W&B hold the JSON log's numbers;
the choice is checked, and a run resumed with another choice is the same run."""

import json
import struct
import time
from pathlib import Path

import pytest
import torch

from mathlens.errors import MathlensError
from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig
from mathlens.records import Example
from mathlens.train import TrainConfig, train


def tiny_run(out: Path, report_to: str, steps: int = 30, resume: bool = False) -> list[dict]:
    """A 1-layer GPT on a few sums; the train_log.jsonl rows it wrote."""
    examples = [Example(i, "addition", (a, b), f"{a}+{b}=", str(a + b), "", "train")
                for i, (a, b) in enumerate((a, b) for a in range(6) for b in range(6))]  # fmt: skip
    tok = CharTokenizer.from_texts(e.prompt + e.target for e in examples)
    torch.manual_seed(0)
    model = GPT(GPTConfig(tok.vocab_size, 16, ModelConfig(1, 2, 16)))
    cfg = TrainConfig(steps=steps, batch_size=8, lr=3e-3, warmup_steps=2, eval_every=0, checkpoint_every=10,
                      report_to=report_to)  # fmt: skip
    train(model, tok, examples, cfg, out, resume=resume, progress=False)
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


def tensorboard_losses(folder: Path) -> dict[int, float]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {e.step: e.value for e in events.Scalars("loss")}


def test_tensorboard_holds_the_logged_losses(tmp_path):
    log = tiny_run(tmp_path, "tensorboard")
    assert [e["step"] for e in log] == [10, 20, 30]
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    seen = tensorboard_losses(tmp_path / "tb")
    assert seen == {e["step"]: pytest.approx(e["loss"], abs=1e-6) for e in log}


def wandb_history(run_file: Path) -> list[dict]:
    """The history rows of an offline run's ``.wandb`` file: W&B's record log (a 7-byte header,
    then LevelDB-style records, CRC, length and kind before each, in 32 KiB blocks) of protobuf
    ``Record``s. wandb no longer ships a reader of its own, so the test reads it."""
    from wandb.proto import wandb_internal_pb2

    data, rows, pos, pending = run_file.read_bytes(), [], 7, b""
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's tail too short for a header is padding
            pos += 32768 - pos % 32768
            continue
        length, kind = struct.unpack("<HB", data[pos + 4 : pos + 7])
        if pos + 7 + length > len(data):
            break  # a record still being written
        pending += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            if record.WhichOneof("record_type") == "history":
                rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                             for item in record.history.item})  # fmt: skip
    return rows


def test_wandb_offline_keeps_the_logged_losses(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for name in ("DIR", "CACHE_DIR", "CONFIG_DIR", "DATA_DIR", "ARTIFACT_DIR"):
        monkeypatch.setenv(f"WANDB_{name}", str(tmp_path / "wandb-home"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    log = tiny_run(tmp_path / "run", "wandb")
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    run_file = next(runs[0].glob("run-*.wandb"))
    for _ in range(100):  # wandb's service may still be writing the file when finish() returns
        history = wandb_history(run_file)
        if len(history) == len(log):
            break
        time.sleep(0.1)
    assert {row["_step"]: row["loss"] for row in history} == {e["step"]: e["loss"] for e in log}


def test_a_run_resumed_with_another_choice_goes_on(tmp_path):
    tiny_run(tmp_path, "none", steps=20)
    assert not (tmp_path / "tb").exists()
    log = tiny_run(tmp_path, "tensorboard", steps=30, resume=True)  # watching is not a setting of the work
    assert [e["step"] for e in log] == [10, 20, 30]
    assert tensorboard_losses(tmp_path / "tb") == {30: pytest.approx(log[-1]["loss"], abs=1e-6)}


def test_run_folders_do_not_compare_the_choice(tmp_path):
    from dataclasses import replace

    from mathlens.improve.config import LoopConfig
    from mathlens.improve.loop import _check_folder
    from mathlens.lab.configs import LSOConfig
    from mathlens.lab.lso import run_folder

    cfg = LSOConfig(out=str(tmp_path / "lso"))
    run_folder(tmp_path / "lso", cfg).open()
    (tmp_path / "lso" / "metrics.json").write_text("{}")  # the folder holds work
    watched = replace(cfg, train=replace(cfg.train, report_to="tensorboard"))
    assert run_folder(tmp_path / "lso", watched).changes() == []
    faster = replace(cfg, train=replace(cfg.train, lr=1.0))
    assert run_folder(tmp_path / "lso", faster).changes() == ["train.lr 0.003 → 1.0"]
    loop = LoopConfig(out=str(tmp_path / "loop"))
    _check_folder(tmp_path / "loop", loop)
    _check_folder(tmp_path / "loop", replace(loop, report_to="tensorboard"))  # no error: the same loop, watched
    with pytest.raises(MathlensError, match="other settings"):
        _check_folder(tmp_path / "loop", replace(loop, seed=1))


def test_the_choice_is_checked(monkeypatch):
    with pytest.raises(MathlensError, match="report_to 'tb': choose none, tensorboard, wandb"):
        TrainConfig(report_to="tb")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(MathlensError, match="--report-to wandb needs wandb: pip install wandb"):
        TrainConfig(report_to="wandb")
