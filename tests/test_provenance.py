"""provenance.json: written as a run starts, finished with its wall time; the run that made the
work stays on top and later runs are added; a refused run leaves nothing of its own; secrets are
kept out; weight hashes cached by path, size and modification time."""

from __future__ import annotations

import hashlib
import json
import os
import sys

import pytest

from mathlens.errors import MathlensError
from mathlens.provenance import file_sha256, read_provenance, recorded, traced
from mathlens.runs import RunFolder


def test_a_run_is_recorded_at_its_start_and_finished_with_its_wall_time(tmp_path):
    folder = tmp_path / "run"
    with recorded(folder, "eval", {"id": "m"}, [{"name": "b", "source": "x", "sha256": "h"}]):
        during = read_provenance(folder)
        assert during["kind"] == "eval" and "wall_s" not in during and during["model"] == {"id": "m"}
    done = read_provenance(folder)
    assert done["ended"] == "finished" and done["wall_s"] >= 0 and done["data"][0]["sha256"] == "h"
    assert {"torch", "mathlens"} <= set(done["packages"]) and done["device"]["cores"] >= 1
    with recorded(folder, "eval", {"id": "m"}):  # resumed: the run that made the work stays on top
        pass
    again = read_provenance(folder)
    assert {k: v for k, v in again.items() if k != "resumed"} == done
    assert [r["ended"] for r in again["resumed"]] == ["finished"] and again["resumed"][0]["model"] == {"id": "m"}


def test_a_refused_run_leaves_no_trace_of_its_own_and_a_crash_is_said(tmp_path):
    folder = tmp_path / "run"
    with recorded(folder, "eval", {"id": "first"}):
        pass
    first = read_provenance(folder)
    with pytest.raises(MathlensError), recorded(folder, "eval", {"id": "other"}):
        raise MathlensError("holds work made with other settings")
    after = read_provenance(folder)
    assert {k: v for k, v in after.items() if k != "resumed"} == first
    assert after["resumed"][-1]["ended"] == "MathlensError: holds work made with other settings"
    with pytest.raises(MathlensError), recorded(tmp_path / "runs" / "typo", "eval"):
        raise MathlensError("unknown backend")
    assert not (tmp_path / "runs").exists()  # a mistyped command leaves no folder behind
    with pytest.raises(RuntimeError), recorded(folder, "eval"):
        raise RuntimeError("out of memory")
    crashed = read_provenance(folder)["resumed"][-1]
    assert crashed["ended"] == "RuntimeError" and crashed["wall_s"] >= 0


def test_secrets_stay_out_only_the_main_process_writes_and_starting_over_starts_afresh(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mathlens", "eval", "--api-key", "sk-1", "--hf-token=hf_2", "--n", "4"])
    with recorded(tmp_path / "a", "eval"):
        pass
    assert read_provenance(tmp_path / "a")["command"] == ["mathlens", "eval", "--api-key", "***", "--hf-token=***",
                                                          "--n", "4"]  # fmt: skip
    monkeypatch.setenv("RANK", "1")  # another process of the same launch
    with recorded(tmp_path / "b", "finetune"):
        pass
    assert not (tmp_path / "b").exists()
    monkeypatch.delenv("RANK")
    folder = RunFolder(tmp_path / "a", {"n": 4}, work=("samples.jsonl",))
    with recorded(folder.path, "eval", {"id": "new"}):
        folder.open(overwrite=True)  # --overwrite: the old run's work and record go
    assert read_provenance(folder.path)["model"] == {"id": "new"} and "resumed" not in read_provenance(folder.path)


def test_weights_are_hashed_once_per_file_version(tmp_path):
    weights, cache = tmp_path / "model.safetensors", tmp_path / "hashes.json"
    weights.write_bytes(b"w" * 1000)
    assert file_sha256(weights, cache) == hashlib.sha256(b"w" * 1000).hexdigest()[:16]
    key = next(iter(json.loads(cache.read_text())))
    cache.write_text(json.dumps({key: "from-the-cache"}))
    assert file_sha256(weights, cache) == "from-the-cache"  # not read again
    weights.write_bytes(b"v" * 1000)
    os.utime(weights, ns=(1, 1))  # another version of the file: hashed anew
    assert file_sha256(weights, cache) == hashlib.sha256(b"v" * 1000).hexdigest()[:16]


def test_traced_entry_points_record_in_the_folder_their_arguments_name(tmp_path):
    @traced("toy", lambda a: a["out"], lambda a: {"id": a["model"]})
    def train(model: str, out, steps: int = 3) -> int:
        assert read_provenance(out)["model"] == {"id": model}
        return steps

    assert train("m", tmp_path / "t") == 3
    assert read_provenance(tmp_path / "t")["kind"] == "toy" and read_provenance(tmp_path / "t")["ended"] == "finished"
