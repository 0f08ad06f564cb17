"""The one run-folder guard: settings compared (nested ones by their leaves), work found, torn tails cut;
and the places that use it refuse to mix settings."""

import json
from dataclasses import replace

import pytest

from mathlens.errors import MathlensError
from mathlens.runs import RunFolder, changed_settings


def test_a_folder_with_work_refuses_other_settings_and_says_which(tmp_path):
    RunFolder(tmp_path, {"n": 4, "world": {"a": 1, "b": 2}, "out": "x"}, ["n", "world"], ("samples.jsonl",)).open()
    (tmp_path / "samples.jsonl").write_text("")
    again = RunFolder(tmp_path, {"n": 4, "world": {"a": 1, "b": 3}, "out": "y"}, ["n", "world"], ("samples.jsonl",))
    with pytest.raises(MathlensError, match=r"other settings \(world.b 2 → 3\)"):
        again.open()
    again.open(overwrite=True)  # starts over: the work goes, the new settings stay
    assert not (tmp_path / "samples.jsonl").exists() and json.loads((tmp_path / "config.json").read_text())["world"]["b"] == 3


def test_a_setting_an_older_folder_lacks_had_its_default(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"n": 4}))
    assert RunFolder(tmp_path, {"n": 4, "stop": []}, defaults={"stop": []}).changes() == []
    assert RunFolder(tmp_path, {"n": 4, "stop": ["\n"]}, defaults={"stop": []}).changes() == ["stop [] → ['\\n']"]
    assert changed_settings({"steps": 5, "lr": 1.0}, {"steps": 9, "lr": 1.0}, ignore=("steps",)) == []


def test_done_keys_cut_a_torn_tail(tmp_path):
    folder = RunFolder(tmp_path, {})
    (tmp_path / "samples.jsonl").write_text('{"id": 1}\n{"id": 2}\n{"id": ')
    assert folder.done_keys("samples.jsonl", lambda row: row["id"]) == {1, 2}
    assert (tmp_path / "samples.jsonl").read_text().endswith("}\n")


def test_resuming_an_lso_folder_made_with_other_settings_is_refused(tmp_path):
    from mathlens.config import resolve
    from mathlens.lab import LSOConfig, run_lso

    small = dict(range="0-11", center="6,6", radius="2", steps=5, control=False, out=str(tmp_path))
    run_lso(resolve(LSOConfig, **small), progress=False)
    with pytest.raises(MathlensError, match=r"other settings \(train.lr"):
        run_lso(resolve(LSOConfig, **small, lr=0.5, resume=True), progress=False)
    again = run_lso(resolve(LSOConfig, **small, resume=True), progress=False)  # the same: read back, not redone
    assert again == json.loads((tmp_path / "metrics.json").read_text())


def test_a_corpus_folder_refuses_a_run_of_other_settings(tmp_path):
    from mathlens.corpus import CorpusConfig
    from mathlens.corpus.pipeline import Run

    Run(CorpusConfig(out=str(tmp_path), cycles=2)).record("read", {"done": True})
    Run(CorpusConfig(out=str(tmp_path), cycles=2, executor=replace(CorpusConfig().executor, tasks=4)))  # not compared
    with pytest.raises(MathlensError, match=r"other settings \(cycles 2 → 3\)"):
        Run(CorpusConfig(out=str(tmp_path), cycles=3))
