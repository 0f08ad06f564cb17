"""Every make target runs from the repository alone, or stops at once with one line that says
what it needs and how to get it.

The repository is cloned (its committed HEAD) into a temporary folder with nothing beside it:
no ``../shared`` data, no benchmark variables, the hub offline. For each target that reads data
the first ``mathlens`` command ``make -n`` prints is run there with the current environment's
``mathlens``, shrunk by its own options to seconds of work; a first step that is long training
even when shrunk (``improve``) is checked through its configs instead. Every target's configs
must name no path outside the repository, nor a benchmark by name (which resolves to the shared
data beside the checkout, or to the hub).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MATHLENS = Path(sys.executable).with_name("mathlens")

pytestmark = pytest.mark.skipif(
    not (shutil.which("git") and shutil.which("make") and MATHLENS.is_file() and (REPO / ".git").exists()),
    reason="needs git, make, a checkout and the mathlens script beside this python",
)

# Per target: the options that shrink its first step to seconds, and what a one-line error may
# say is missing (None: the step must succeed).
FIRST_STEPS = {
    "demo": (["--steps", "2", "--range", "0-19", "--center", "10,10", "--radius", "2", "--no-control", "--quiet"], None),
    "eval-demo": (["--n-train", "40", "--n-test", "4", "--steps", "2", "--quiet"], None),
    "lengthgen": (["--steps", "2", "--steps-by-format", "", "--n-train", "20", "--n-test", "2", "--formats", "direct",
                   "--schemes", "rope", "--quiet"], None),
    "sweep": (["--steps", "2", "--range", "0-19", "--center", "10,10", "--radius", "1", "--seeds", "0", "--quiet"], None),
    "sweep-sizes": (["--steps", "2", "--range", "0-19", "--center", "10,10", "--radius", "1", "--seeds", "0",
                     "--quiet"], None),
    "climb": (["--seeds", "0", "--rounds", "1", "--arms", "vote", "--schemes", "coupled", "--seed-min", "0",
               "--seed-steps", "2", "--steps", "2", "--n-round", "4", "--quiet"], None),
    "corpus-demo": ([], r"test\.jsonl.*(--data-dir|MATHLENS_BENCHMARKS)"),
}
CONFIG_TARGETS = ("demo", "eval-demo", "improve", "improve-climb", "improve-bestof", "improve-smollm2", "climb", "corpus-demo",
                  "lengthgen", "sweep", "sweep-sizes", "lso-smollm2", "lengthgen-smollm2", "incontext-smollm2")
BENCHMARK_KEYS = ("decontaminate", "benchmark", "benchmarks")  # values: benchmark names or JSONL files


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The repository's HEAD, alone in an empty folder."""
    root = tmp_path_factory.mktemp("fresh")
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(root / "repo")], check=True, timeout=120)
    assert not (root / "shared").exists()
    return root / "repo"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The environment of a fresh machine: no MATHLENS_* pointing at data, a cache of its own, no network."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MATHLENS_", "HF_"))}
    cache = tmp_path_factory.mktemp("cache")
    return clean | {"MATHLENS_CACHE": str(cache), "HF_HOME": str(cache / "hf"), "HF_HUB_OFFLINE": "1",
                    "HF_DATASETS_OFFLINE": "1", "PATH": f"{MATHLENS.parent}{os.pathsep}{clean.get('PATH', '')}"}


def commands(clone: Path, target: str) -> list[list[str]]:
    """The ``mathlens`` commands of ``target`` as make would run them (without building .venv)."""
    listed = subprocess.run(["make", "-n", "-o", ".venv/.installed", target], cwd=clone, capture_output=True,
                            text=True, check=True, timeout=60).stdout
    found = [shlex.split(line) for line in listed.splitlines() if re.search(r"(^|/)mathlens\s", line)]
    assert found, f"make -n {target} lists no mathlens command:\n{listed}"
    return found


def config_paths(command: list[str]) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == "--config"]


def outside_references(data, where: str = "") -> list[str]:
    """Values of a parsed YAML that reach outside the repository: ../ or absolute paths, ~, and
    benchmarks by name under the keys that take benchmark names or files."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += outside_references(value, f"{where}.{key}" if where else str(key))
            names = value if isinstance(value, list) else [value] if isinstance(value, str) else []
            if key in BENCHMARK_KEYS:
                found += [f"{where or key}: benchmark {n!r} by name" for n in names
                          if isinstance(n, str) and "/" not in n and not n.endswith(".jsonl")]
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += outside_references(value, f"{where}[{i}]")
    elif isinstance(data, str) and (data.startswith(("../", "/", "~")) or "/../" in data):
        found.append(f"{where}: {data!r}")
    return found


@pytest.mark.parametrize("target", list(FIRST_STEPS))
def test_the_first_step_runs_or_says_in_one_line_what_it_needs(clone, env, target):
    extra, needs = FIRST_STEPS[target]
    command = commands(clone, target)[0]
    command = [str(MATHLENS), *command[1:], *extra]
    done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, f"{shlex.join(command)}:\n{output[-3000:]}"
    if done.returncode == 0:
        return
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert needs is not None, f"{shlex.join(command)} failed in a fresh clone:\n{output[-3000:]}"
    assert len(lines) == 1 and lines[0].startswith("mathlens: error: "), output[-3000:]
    assert re.search(needs, lines[0]), f"the error does not say what is missing and how to get it: {lines[0]}"


@pytest.mark.parametrize("target", list(CONFIG_TARGETS))
def test_configs_of_a_target_reference_nothing_outside_the_repository(clone, target):
    configs = [path for command in commands(clone, target) for path in config_paths(command)]
    assert configs or target == "eval-demo", f"{target} reads no config: nothing to check"
    for path in configs:
        assert (clone / path).is_file(), f"{target}: {path} is not in the repository"
        bad = outside_references(yaml.safe_load((clone / path).read_text()))
        assert not bad, f"{path} reaches outside the repository: {bad}"


def test_the_config_check_finds_what_reaches_outside():
    """The check itself: each way out is reported, paths inside the repository are not."""
    config = {"out": "runs/x", "data_dir": "../shared/data/benchmarks", "model": "/opt/models/m.pt",
              "inputs": ["runs/a", "~/corpus"], "decontaminate": ["gsm8k", "runs/x/bench/gsm8k.jsonl"],
              "rater": {"template": "configs/corpus/rate.yaml", "model": "runs/a/../../../elsewhere"}}
    assert sorted(outside_references(config)) == sorted([
        "data_dir: '../shared/data/benchmarks'", "model: '/opt/models/m.pt'", "inputs[1]: '~/corpus'",
        "decontaminate: benchmark 'gsm8k' by name", "rater.model: 'runs/a/../../../elsewhere'"])
