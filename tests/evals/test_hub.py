"""Named benchmarks from their public hub sources, read from folders the tests write in the hub's
layout (a README whose YAML names configs and splits, data files under them); no network."""

from __future__ import annotations

import json

import pytest

from mathlens.errors import MathlensError
from mathlens.evals import hub
from mathlens.evals.hub import HUB_SOURCES, HubSource
from mathlens.evals.problems import LOADERS, load_benchmark

pytest.importorskip("datasets")


def hub_folder(root, config: str, split: str, rows: list[dict]):
    """A dataset repository as the hub holds one: ``README.md`` declaring ``config``/``split``."""
    root.mkdir(parents=True)
    (root / config).mkdir()
    (root / config / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "README.md").write_text(
        f"---\nconfigs:\n- config_name: {config}\n  data_files:\n  - split: {split}\n    path: {config}/{split}.jsonl\n---\n"
    )
    return root


@pytest.fixture
def no_local_copy(monkeypatch, tmp_path):
    monkeypatch.delenv("MATHLENS_BENCHMARKS", raising=False)
    monkeypatch.setenv("MATHLENS_SHARED_DATA", str(tmp_path / "no-shared-folder"))


def test_every_named_benchmark_has_a_hub_source_but_college_math():
    assert set(HUB_SOURCES) == set(LOADERS) - {"college_math"}
    assert HUB_SOURCES["gsm8k"].describe() == "hf:openai/gsm8k:main@test"


def test_without_a_local_copy_a_name_loads_from_its_hub_source(no_local_copy, monkeypatch, tmp_path):
    repo = hub_folder(tmp_path / "gsm8k-hub", "main", "test", [{"question": "2+2?", "answer": "so\n#### 4"}])
    monkeypatch.setitem(HUB_SOURCES, "gsm8k", HubSource(str(repo), "test", "main"))
    (problem,) = load_benchmark("gsm8k")
    assert (problem.id, problem.question, problem.answer, problem.source) == ("0", "2+2?", "4", "gsm8k")


def test_hub_fields_are_renamed_for_our_loader(no_local_copy, monkeypatch, tmp_path):
    """minerva's hub copy has `question` and `answer` where the harness file has `problem` and `solution`."""
    repo = hub_folder(tmp_path / "minerva-hub", "default", "test", [{"question": "Speed?", "answer": "3 \\times 10^8"}])
    monkeypatch.setitem(HUB_SOURCES, "minerva_math", HubSource(str(repo), "test", "default", {"question": "problem"}))
    (problem,) = load_benchmark("minerva_math")
    assert (problem.question, problem.answer) == ("Speed?", "3 \\times 10^8")


def test_a_local_copy_takes_precedence(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "hub_rows", lambda name: pytest.fail("went to the hub"))
    local = tmp_path / "local" / "aime25"
    local.mkdir(parents=True)
    (local / "test.jsonl").write_text(json.dumps({"problem": "p", "answer": 7, "id": "a"}) + "\n")
    monkeypatch.setenv("MATHLENS_BENCHMARKS", str(tmp_path / "local"))
    assert [p.answer for p in load_benchmark("aime25")] == ["7"]


def test_a_folder_the_user_names_must_hold_the_set(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "hub_rows", lambda name: pytest.fail("went to the hub"))
    with pytest.raises(MathlensError, match=r"aime25/test.jsonl: cannot read \(no such file\)"):
        load_benchmark("aime25", tmp_path)


def test_unreachable_hub_is_one_error_naming_both_ways(no_local_copy, monkeypatch, tmp_path):
    monkeypatch.setitem(HUB_SOURCES, "aime24", HubSource(str(tmp_path / "nowhere"), "train"))
    with pytest.raises(MathlensError) as err:
        load_benchmark("aime24")
    message = str(err.value)
    assert "\n" not in message and "no local copy" in message and "--data-dir" in message
    assert f"hf:{tmp_path / 'nowhere'}@train" in message


def test_college_math_says_it_needs_a_local_copy(no_local_copy):
    with pytest.raises(MathlensError, match="college_math has no public hub source"):
        load_benchmark("college_math")
