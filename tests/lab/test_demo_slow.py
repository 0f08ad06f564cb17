"""The demo's promise, end to end (minutes of training: run with `pytest -m slow`)."""

import pytest

from mathlens.config import resolve
from mathlens.lab.lso import LSOConfig, run_lso


@pytest.mark.slow
def test_demo_shows_the_hole(tmp_path):
    cfg = resolve(LSOConfig, "configs/demo.yaml", out=str(tmp_path))
    m = run_lso(cfg, progress=False)
    assert m["train_acc"] >= 0.99
    assert m["test_acc"] <= 0.60
    assert m["random_acc"] >= 0.95
