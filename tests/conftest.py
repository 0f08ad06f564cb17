import os
from pathlib import Path

import pytest

# The shared data sits beside the checkout (../shared/data); MATHLENS_SHARED_DATA overrides.
SHARED = Path(os.environ.get("MATHLENS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PAPER = SHARED / "case_or_rule"


@pytest.fixture(scope="session")
def paper_dir() -> Path:
    if not PAPER.is_dir():
        pytest.skip(f"the paper's split files are not at {PAPER}")
    return PAPER


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED
