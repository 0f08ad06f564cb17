from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PAPER = SHARED / "case_or_rule"


@pytest.fixture(scope="session")
def paper_dir() -> Path:
    if not PAPER.is_dir():
        pytest.skip(f"the paper's split files are not at {PAPER}")
    return PAPER
