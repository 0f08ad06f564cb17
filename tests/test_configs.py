"""Every shipped config resolves, and its split is valid (no training needed)."""

from pathlib import Path

import pytest

from mathlens.config import resolve
from mathlens.lso import LSOConfig, build_split

from .conftest import SHARED

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_resolves_to_a_valid_split(path, paper_dir):
    cfg = resolve(LSOConfig, path)
    if "," in cfg.radius and ";" not in cfg.center:  # a sweep: check each size
        radii = cfg.radius.split(",")
    else:
        radii = [cfg.radius]
    for radius in radii:
        if cfg.data:  # configs name the data as seen from the repo root: ../shared/data/…
            cfg = LSOConfig(**{**cfg.__dict__, "data": cfg.data.replace("../shared/data", str(SHARED))})
        _, split, examples = build_split(LSOConfig(**{**cfg.__dict__, "radius": radius}))
        assert split.train and split.test and len(examples) == len(split.train) + len(split.test)
