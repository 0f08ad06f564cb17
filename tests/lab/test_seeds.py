"""Seeds: intervals over seeds, and runs per seed in parallel processes."""

import json

import pytest

from mathlens.config import resolve
from mathlens.lab.lso import LSOConfig, run_lso
from mathlens.lab.seeds import interval


def test_the_interval_is_students_t_and_stays_a_share():
    span = interval([0.2, 0.4, 0.6])
    assert span["mean"] == pytest.approx(0.4) and span["hi"] - span["mean"] == pytest.approx(4.303 * 0.2 / 3**0.5, abs=1e-3)
    assert interval([0.0, 1.0])["lo"] == 0.0 and interval([0.5])["lo"] == interval([0.5])["hi"] == 0.5


def test_lso_with_seeds_runs_each_in_parallel_and_reports_their_mean(tmp_path):
    cfg = resolve(
        LSOConfig, None, {"range": "0-9", "center": "5,5", "radius": 1, "control": False},
        steps=10, n_layer=1, n_embd=32, n_head=2, seeds="0,1", workers=2, out=str(tmp_path),
    )
    m = run_lso(cfg, progress=False)
    per_seed = [json.loads((tmp_path / f"seed-{s}" / "metrics.json").read_text()) for s in (0, 1)]
    assert [p["config"]["train"]["seed"] for p in per_seed] == [0, 1]
    assert m["train_acc"] == pytest.approx(sum(p["train_acc"] for p in per_seed) / 2)
    assert m["intervals"]["test_acc"]["n"] == 2 and (tmp_path / "heatmap.png").exists()
