"""The case-or-rule lab: splits (Leave-Square-Out, length), runs that train tiny models and
probe them cell by cell, easy-to-hard rounds in which a tiny model labels longer sums itself
(``climb``), the paper's own split files, plots and exports for fine-tuning.

    from mathlens.lab import LSOConfig, run_lso
    metrics = run_lso(LSOConfig(radius=(10,), out="runs/lso"))

Names load on first use (``lazy.py``), so reading a config does not import torch.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_WHERE = {
    "LSOConfig": "configs",
    "LengthGenConfig": "configs",
    "ProbeConfig": "configs",
    "Scheme": "configs",
    "run_lso": "lso",
    "run_sweep": "lso",
    "run_lengthgen": "lengthgen",
    "ClimbConfig": "climb",
    "run_climb": "climb",
    "leave_square_out": "splits",
    "random_split": "splits",
    "Square": "splits",
    "load_paper_split": "paper_data",
    "export_rows": "export",
    "export_jsonl": "export",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
