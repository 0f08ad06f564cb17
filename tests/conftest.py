import os
import string
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
    transformers = pytest.importorskip("transformers")
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    path = tmp_path_factory.mktemp("tiny-gpt2")
    chars = string.ascii_letters + string.digits + string.punctuation + " \n"
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    config = transformers.GPT2Config(
        vocab_size=len(vocab),
        n_positions=256,
        n_embd=64,
        n_layer=2,
        n_head=2,
        eos_token_id=1,
        pad_token_id=0,
        initializer_range=0.3,  # frozen random embeddings this wide still let LoRA adapters move the logits
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
