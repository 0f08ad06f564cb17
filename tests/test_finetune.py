"""Fine-tuning a Hugging Face causal LM, on a tiny randomly initialised GPT-2 built right here."""

import json

import pytest

transformers = pytest.importorskip("transformers")

from mathlens.export import export_rows
from mathlens.finetune import FinetuneConfig, finetune, read_pairs
from mathlens.formats import make_format
from mathlens.lengthgen import LengthGenConfig, run_lengthgen
from mathlens.records import write_jsonl
from mathlens.tasks import make_task


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rows = export_rows(make_task("addition"), make_format("direct"), [1, 2], 40, seed=0, chat=True)
    path = tmp_path_factory.mktemp("data") / "direct.jsonl"
    write_jsonl(path, rows)
    return path


@pytest.mark.parametrize("lora", [False, True])
def test_finetune_loss_falls_and_the_model_reloads(tiny_model, data, tmp_path, lora):
    lr = 1e-2 if lora else 3e-3
    cfg = FinetuneConfig(
        str(tiny_model), str(data), str(tmp_path / "ft"), lora=lora, steps=40, batch_size=8, lr=lr, warmup_steps=2
    )
    losses = finetune(cfg, progress=False)
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ft")  # merged: loads without peft
    assert reloaded.config.n_layer == 2
    log = json.loads((tmp_path / "ft" / "finetune_log.json").read_text())
    assert log["config"]["lora"] is lora


def test_only_the_completion_is_learned(tiny_model):
    from mathlens.finetune import encode_pair

    tok = transformers.AutoTokenizer.from_pretrained(tiny_model)
    ids, labels = encode_pair(tok, "12+7=", "19", 100)
    assert len(ids) == len(labels) == 5 + 2 + 1
    assert labels[:5] == [-100] * 5 and labels[5:] == ids[5:] and ids[-1] == tok.eos_token_id


def test_bad_rows_are_named(tmp_path):
    from mathlens.errors import MathlensError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "1+1=", "completion": "2"}\n{"question": "?"}\n')
    with pytest.raises(MathlensError, match="bad.jsonl:2: expected fields 'prompt' and 'completion'"):
        read_pairs(path)


def test_lengthgen_evaluates_a_hugging_face_model(tiny_model, tmp_path):
    cfg = LengthGenConfig(
        model=str(tiny_model), formats="direct,tir", test_digits="1-2", n_test=3, max_new_tokens=8, out=str(tmp_path)
    )
    result = run_lengthgen(cfg, progress=False)
    assert set(result["curves"]["tir"]) == {1, 2}
    rows = [json.loads(line) for line in (tmp_path / "direct" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(isinstance(r["completion"], str) for r in rows)
