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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A character-level tokenizer and a 2-layer GPT-2, saved as any hub model would be."""
    pytest.importorskip("transformers")
    from mathlens.models.hf import save_random_char_gpt2

    # frozen random embeddings this wide still let LoRA adapters move the logits
    return save_random_char_gpt2(tmp_path_factory.mktemp("tiny-gpt2"), init_range=0.3)
