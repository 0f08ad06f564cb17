"""Every shipped config resolves, and its split is valid (no training needed)."""

from dataclasses import replace
from pathlib import Path

import pytest

from mathlens.config import resolve
from mathlens.lab.lso import LSOConfig, build_split

from ..conftest import SHARED

ALL = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
CONFIGS = [p for p in ALL if not p.name.startswith(("lengthgen", "improve", "climb"))]  # LSO configs


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_resolves_to_a_valid_split(path, paper_dir):
    cfg = resolve(LSOConfig, path)
    if len(cfg.radius) > len(cfg.center):  # a sweep: check each size
        radii = [(r,) for r in cfg.radius]
    else:
        radii = [cfg.radius]
    for radius in radii:
        if cfg.data:  # configs name the data as seen from the repo root: ../shared/data/…
            cfg = replace(cfg, data=cfg.data.replace("../shared/data", str(SHARED)))
        _, split, examples = build_split(replace(cfg, radius=radius))
        assert split.train and split.test and len(examples) == len(split.train) + len(split.test)


def test_lengthgen_config_resolves_and_builds_its_problems():
    from mathlens.formats import make_format
    from mathlens.lab.lengthgen import LengthGenConfig, length_examples
    from mathlens.tasks import make_task

    (path,) = [p for p in ALL if p.name == "lengthgen_formats.yaml"]
    cfg = resolve(LengthGenConfig, path)
    assert cfg.formats == ("direct", "scratchpad", "rule", "tir") and not cfg.schemes
    assert cfg.steps_by_format == {"scratchpad": 2500, "rule": 1200, "tir": 1500} and cfg.train.steps == 3000
    schemes = resolve(LengthGenConfig, path.with_name("lengthgen.yaml"))
    assert schemes.schemes == ("rope", "abacus", "hints") and schemes.test_digits == tuple(range(1, 7))
    assert (cfg.model.n_layer, cfg.model.positions) == (3, "rope")
    examples = length_examples(make_task(cfg.task), make_format("direct"), replace(cfg, n_train=5, n_test=2))
    assert {e.meta["digits"] for e in examples if e.split == "test"} == set(range(1, 9))
