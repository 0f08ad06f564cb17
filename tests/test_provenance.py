"""provenance.json: written as a run starts, finished with its wall time, kept across resumes,
left as it was by a refused run; weight hashes cached by path, size and modification time."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from mathlens.errors import MathlensError
from mathlens.provenance import file_sha256, read_provenance, recorded, traced


def test_a_run_is_recorded_at_its_start_and_finished_with_its_wall_time(tmp_path):
    folder = tmp_path / "run"
    with recorded(folder, "eval", {"id": "m"}, [{"name": "b", "source": "x", "sha256": "h"}]):
        during = read_provenance(folder)
        assert during["kind"] == "eval" and "wall_s" not in during and during["model"] == {"id": "m"}
    done = read_provenance(folder)
    assert done["ended"] == "finished" and done["wall_s"] >= 0 and done["data"][0]["sha256"] == "h"
    assert {"torch", "mathlens"} <= set(done["packages"]) and done["device"]["cores"] >= 1
    with recorded(folder, "eval"):  # resumed: the earlier start is kept, in short
        pass
    again = read_provenance(folder)
    assert again["earlier"] == [{k: done[k] for k in ("started", "wall_s", "ended", "commit")}]


def test_a_refused_run_leaves_the_folder_as_it_was_and_a_crash_is_said(tmp_path):
    folder = tmp_path / "run"
    with recorded(folder, "eval", {"id": "first"}):
        pass
    first = read_provenance(folder)
    with pytest.raises(MathlensError), recorded(folder, "eval", {"id": "other"}):
        raise MathlensError("holds work made with other settings")
    assert read_provenance(folder) == first
    with pytest.raises(MathlensError), recorded(tmp_path / "typo", "eval"):
        raise MathlensError("unknown backend")
    assert not (tmp_path / "typo").exists()  # a mistyped command leaves no folder behind
    with pytest.raises(RuntimeError), recorded(folder, "eval"):
        raise RuntimeError("out of memory")
    crashed = read_provenance(folder)
    assert crashed["ended"] == "RuntimeError" and crashed["wall_s"] >= 0


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
