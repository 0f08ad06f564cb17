"""The evaluation harness end to end: backends, the OpenAI round trip, TIR, resuming, metrics.

Only the tests of the hf backend need transformers: they reach it through the ``tiny_model``
and ``hf_backend`` fixtures, which skip without it; the rest (tiny and stub backends, the
OpenAI client, prompts, metrics) run everywhere.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mathlens.backends import Conversation, Sampling, as_text, cut_at_stop
from mathlens.backends.openai import OpenAIBackend
from mathlens.backends.serve import make_server
from mathlens.errors import MathlensError
from mathlens.evals.prompts import TEMPLATES, load_template
from mathlens.evals.report import summarize
from mathlens.evals.run import EvalConfig, run_eval
from mathlens.records import read_sample_rows


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "mini.jsonl"
    rows = [
        {"question": f"What is {a} + {b}?", "answer": a + b, "subject": subject}
        for a, b, subject in [(2, 3, "small"), (10, 7, "large"), (4, 4, "small")]
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def hf_backend(tiny_model):
    pytest.importorskip("transformers")
    from mathlens.backends.hf import HFBackend

    return HFBackend(str(tiny_model), batch_size=2)


def test_cot_eval_with_the_hf_backend_writes_samples_and_metrics(tiny_model, problems, tmp_path, hf_backend):
    cfg = EvalConfig(
        backend="hf",
        model=str(tiny_model),
        benchmark=str(problems),
        n=2,
        temperature=0.8,
        max_tokens=12,
        out=str(tmp_path),
    )
    metrics = run_eval(cfg, progress=False, backend=hf_backend)
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert [r["gold"] for r in rows] == ["5", "17", "8"]
    assert all(
        len(r["samples"]) == 2 and {"completion", "pred", "correct", "how"} <= set(r["samples"][0]) for r in rows
    )
    assert set(metrics["mini"]) == {"problems", "k", "pass@1", "pass@1_ci95", "pass@2", "maj@2", "samples",
                                    "unanswered", "truncated", "tool_timeouts"}  # fmt: skip
    assert metrics["mini"]["problems"] == 3
    # Each row says how it was made: the prompt the model read, its length, and per sample why
    # decoding ended and how many tokens it took (a random model rarely stops within 12).
    samples = [s for r in rows for s in r["samples"]]
    assert all(r["prompt"].endswith(r["question"] + "\n") or r["question"] in r["prompt"] for r in rows)
    assert all(r["prompt_tokens"] == len(hf_backend.tokenizer(r["prompt"], add_special_tokens=False)["input_ids"])
               for r in rows)  # fmt: skip
    assert all(s["finish_reason"] in ("stop", "length") and 1 <= s["tokens"] <= 12 for s in samples)
    assert all(s["tokens"] == 12 for s in samples if s["finish_reason"] == "length")
    assert metrics["mini"]["truncated"] == sum(s["finish_reason"] == "length" for s in samples) > 0
    assert metrics["mini"]["unanswered"] == sum(s["pred"] is None for s in samples)
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    by_subject = json.loads((tmp_path / "metrics_by_subject.json").read_text())
    assert {k: v["problems"] for k, v in by_subject.items()} == {"mini/small": 2, "mini/large": 1}
    assert not (tmp_path / "metrics_by_level.json").exists()  # no problem has a level


def test_every_eval_folder_holds_its_provenance_and_two_evals_compare_paired(tiny_model, problems, tmp_path,
                                                                              hf_backend):  # fmt: skip
    import hashlib
    import subprocess

    from mathlens.evals.report import compare_runs
    from mathlens.provenance import problems_sha256

    outs = [tmp_path / "greedy", tmp_path / "sampled"]
    for out, temperature in zip(outs, (0.0, 1.0)):
        cfg = EvalConfig(backend="hf", model=str(tiny_model), benchmark=str(problems), n=4, temperature=temperature,
                         max_tokens=6, out=str(out))  # fmt: skip
        run_eval(cfg, progress=False, backend=hf_backend)
    prov = json.loads((outs[0] / "provenance.json").read_text())
    assert prov["kind"] == "eval" and prov["ended"] == "finished" and prov["wall_s"] > 0
    weights = prov["model"]["weights"]["files"]["model.safetensors"]
    assert weights == hashlib.sha256((tiny_model / "model.safetensors").read_bytes()).hexdigest()[:16]
    assert prov["model"]["chat_template_sha256"] is None  # this tokenizer has no chat template
    (data,) = prov["data"]
    rows = [json.loads(line) for line in problems.read_text().splitlines()]
    assert data["source"] == str(problems.resolve()) and data["problems"] == 3
    assert data["sha256"] == problems_sha256([(str(i), r["question"], str(r["answer"])) for i, r in enumerate(rows)])
    assert {"torch", "transformers", "mathlens"} <= set(prov["packages"]) and prov["device"]["cores"] >= 1
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert prov["commit"] is None or prov["commit"]["sha"] == head
    compared = compare_runs(outs)
    (paired,) = compared["paired"]
    assert paired["problems"] == 3 and len(paired["ci95"]) == 2 and paired["ci95"][0] <= paired["diff"] <= paired["ci95"][1]
    assert compared["provenance"]["sampled"]["weights_sha256"] == weights


def test_a_killed_run_resumes_without_repeating_or_losing_problems(tiny_model, problems, tmp_path, hf_backend):
    cfg = EvalConfig(
        backend="hf", model=str(tiny_model), benchmark=str(problems), max_tokens=4, chunk=1, out=str(tmp_path)
    )
    run_eval(cfg, progress=False, backend=hf_backend)
    lines = (tmp_path / "samples.jsonl").read_text().splitlines()
    # As if killed while writing the third line: two whole lines and half of the third.
    (tmp_path / "samples.jsonl").write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][:10])
    run_eval(cfg, progress=False, backend=hf_backend)
    again = (tmp_path / "samples.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in again] == [json.loads(line)["id"] for line in lines]


class FixedCodeBackend:
    """Writes a program first; once it sees the real output, states it boxed."""

    name = "stub"

    def generate(self, prompts, sampling):
        out = []
        for p in prompts:
            if p.endswith("```\n") and "```output\n" in p:
                out.append(["So the sum is \\boxed{" + p.split("```output\n")[-1].split("\n")[0] + "}."])
            else:
                out.append([cut_at_stop("```python\nprint(2 + 3)\n```\n```output\n99\n```", sampling.stop, keep=True)])
        return out


def test_tir_eval_runs_the_code_in_the_sandbox_and_records_the_calls(problems, tmp_path):
    cfg = EvalConfig(backend="stub", model="stub", benchmark=str(problems), mode="tir", limit=1, out=str(tmp_path))
    metrics = run_eval(cfg, progress=False, backend=FixedCodeBackend())
    (row,) = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    (sample,) = row["samples"]
    assert sample["tool_calls"] == [{"code": "print(2 + 3)\n", "output": "5"}]
    assert sample["correct"] and sample["pred"] == "5" and metrics["mini"]["pass@1"] == 1.0


@contextmanager
def serving(backend):
    """``mathlens serve`` over ``backend`` on a free port of 127.0.0.1; yields its /v1 address."""
    server = make_server(backend, "tiny", port=0)
    try:
        yield server.start()
    finally:
        server.shutdown()
        server.server_close()


def test_the_openai_backend_round_trips_through_mathlens_serve(hf_backend):
    with serving(hf_backend) as url:
        client = OpenAIBackend("tiny", base_url=url, concurrency=2)
        prompts = ["What is 2 + 3?", "Say 7.", "1+1="]
        greedy = Sampling(n=1, temperature=0.0, max_tokens=8)
        assert client.generate(prompts, greedy) == hf_backend.generate(prompts, greedy)
        assert [len(c) for c in client.generate(prompts, Sampling(n=3, temperature=1.0, max_tokens=4))] == [3, 3, 3]


def test_the_chat_api_sends_messages_and_the_server_renders_them(hf_backend):
    messages = ({"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 3?"})
    greedy = Sampling(n=1, temperature=0.0, max_tokens=8)
    with serving(hf_backend) as url:
        chat = OpenAIBackend("tiny", base_url=url, api="chat")
        assert chat.generate([Conversation(messages)], greedy) == hf_backend.generate([as_text(list(messages))], greedy)
        # continuing an assistant reply: the server renders the turns, then the reply so far
        continued = chat.generate([Conversation(messages, reply="The sum")], greedy)
        assert continued == hf_backend.generate([as_text(list(messages)) + "The sum"], greedy)
        with pytest.raises(MathlensError, match="api='chat'"):
            OpenAIBackend("tiny", base_url=url).generate([Conversation(messages)], greedy)


def test_tir_eval_over_the_chat_api_continues_the_reply_after_each_tool_output(problems, tmp_path):
    with serving(FixedCodeBackend()) as url:
        cfg = EvalConfig(
            backend="openai",
            model="tiny",
            base_url=url,
            api="chat",
            benchmark=str(problems),
            mode="tir",
            limit=2,
            out=str(tmp_path),
        )
        metrics = run_eval(cfg, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert [r["samples"][0]["tool_calls"] for r in rows] == [[{"code": "print(2 + 3)\n", "output": "5"}]] * 2
    assert [r["samples"][0]["pred"] for r in rows] == ["5", "5"] and metrics["mini"]["pass@1"] == 0.5


def flaky_server(failures: int, status: int):
    """A server that answers ``status`` ``failures`` times, then a real completion."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.path)
            ok = len(seen) > failures
            body = json.dumps(
                {"choices": [{"index": 0, "text": "42", "finish_reason": "length"}]} if ok else {}
            ).encode()
            self.send_response(200 if ok else status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def test_the_openai_backend_retries_429_and_5xx_with_back_off():
    server, seen = flaky_server(failures=2, status=429)
    try:
        client = OpenAIBackend("m", base_url=f"http://127.0.0.1:{server.server_port}/v1", backoff=0.01)
        assert client.generate(["q"], Sampling()) == [["42"]] and len(seen) == 3
    finally:
        server.shutdown()
        server.server_close()
    server, seen = flaky_server(failures=100, status=503)
    try:
        client = OpenAIBackend("m", base_url=f"http://127.0.0.1:{server.server_port}/v1", retries=2, backoff=0.01)
        with pytest.raises(MathlensError, match="gave up after 3 tries"):
            client.generate(["q"], Sampling())
    finally:
        server.shutdown()
        server.server_close()


def test_prompt_templates_by_name_and_from_a_file(tmp_path):
    cot = TEMPLATES["qwen25-math-cot"].messages("1+1?")
    assert cot[0] == {
        "role": "system",
        "content": "Please reason step by step, and put your final answer within \\boxed{}.",
    }
    assert "integrate natural language reasoning with programs" in TEMPLATES["qwen25-math-tir"].system
    assert len(TEMPLATES["fewshot-cot"].messages("q", fewshot_as_turns=True)) == 5
    (one,) = TEMPLATES["fewshot-cot"].messages("q")  # by default shots and question are one user turn
    assert one["content"].startswith("Question: There are 15 trees") and one["content"].endswith("Question: q\nAnswer:")
    path = tmp_path / "mine.yaml"
    path.write_text("system: Be brief.\nuser: 'Q: {question}'\nstop: '###'\n")
    assert load_template(str(path)).stop == ("###",)
    assert load_template(str(path)).messages("2+2?") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: 2+2?"},
    ]
    path.write_text("user: no placeholder\n")
    with pytest.raises(MathlensError, match="must contain"):
        load_template(str(path))


def test_summarize_counts_majority_over_equivalent_answers(tmp_path):
    path = tmp_path / "samples.jsonl"
    row = {"benchmark": "b", "id": "1", "question": "half?", "gold": "0.5", "samples": []}
    row["samples"] = [
        {"completion": "1/2", "pred": "1/2", "correct": True},
        {"completion": "3", "pred": "3", "correct": False},
        {"completion": "\\frac12", "pred": "\\frac12", "correct": True},
    ]
    path.write_text(json.dumps(row) + "\n")
    summary = summarize(path)["b"]
    assert summary.pop("pass@1_ci95") == pytest.approx([2 / 3, 2 / 3])
    assert summary == pytest.approx({"problems": 1, "k": 3, "pass@1": 2 / 3, "pass@3": 1.0, "maj@3": 1.0,
                                     "samples": 3, "unanswered": 0, "truncated": 0, "tool_timeouts": 0})  # fmt: skip
    for sample, reward in zip(row["samples"], [0.1, 0.9, 0.2]):
        sample["reward"] = reward
    path.write_text(json.dumps(row) + "\n")
    assert summarize(path)["b"]["rm@3"] == 0.0  # the reward model picked "3"


def test_bootstrap_interval_brackets_the_mean():
    from mathlens.grading.metrics import bootstrap_ci

    lo, hi = bootstrap_ci([1, 0] * 50)
    assert lo < 0.5 < hi and hi - lo < 0.3


def test_the_eval_verb_runs_cot_and_tir_and_prints_the_table(tiny_model, problems, tmp_path):
    from typer.testing import CliRunner

    from mathlens.cli import app

    for mode in ("cot", "tir"):
        args = ["eval", "--backend", "hf", "--model", str(tiny_model), "--benchmark", str(problems)]
        args += ["--mode", mode, "--max-tokens", "6", "--max-tool-calls", "1", "--quiet", "--out", str(tmp_path / mode)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "mini" in result.output and "pass@1" in result.output
        assert len((tmp_path / mode / "samples.jsonl").read_text().splitlines()) == 3


def test_an_eval_without_out_gets_a_folder_named_for_it_and_never_reuses_one(tiny_model, problems, tmp_path,
                                                                             monkeypatch):  # fmt: skip
    from datetime import date

    from typer.testing import CliRunner

    from mathlens.cli import app

    monkeypatch.chdir(tmp_path)
    args = ["eval", "--backend", "hf", "--model", str(tiny_model), "--benchmark", str(problems), "-n", "2",
            "--temperature", "0.7", "--max-tokens", "4", "--quiet"]  # fmt: skip
    for _ in range(2):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    name = f"{tiny_model.name}-{problems.stem}-cot-n2-t0.7-{date.today():%Y%m%d}"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [name, f"{name}-2"]
    assert f"run folder: runs/{name}-2" in result.output
    assert all((tmp_path / "runs" / n / "samples.jsonl").is_file() for n in (name, f"{name}-2"))


def test_word_problems_train_a_tiny_model_that_the_tiny_backend_evaluates(tmp_path):
    from mathlens.evals.words import WordsConfig, train_word_model, word_problems

    rows = word_problems(50, seed=1)
    assert all(str(eval(r["solution"].split(" = ")[0].replace("\\boxed", ""))) == r["answer"] for r in rows)
    ckpt = train_word_model(WordsConfig(str(tmp_path), n_train=64, n_test=4, steps=3, n_layer=1, n_embd=32), False)
    cfg = EvalConfig(
        backend="tiny", model=str(ckpt), benchmark=str(tmp_path / "test.jsonl"), prompt="plain", n=2,
        temperature=0.8, max_tokens=8, out=str(tmp_path / "eval"),
    )  # fmt: skip
    metrics = run_eval(cfg, progress=False)
    assert metrics["test"]["problems"] == 4 and metrics["test"]["k"] == 2
    world = WordsConfig(str(tmp_path / "w"), n_train=8, n_test=2, steps=2, n_layer=1, n_embd=32, levels=(3,), style="tir")
    train_word_model(world, False)
    test_rows = [json.loads(line) for line in (tmp_path / "w" / "test.jsonl").read_text().splitlines()]
    assert [r["level"] for r in test_rows] == [3, 3] and all("```python" in r["solution"] for r in test_rows)


@pytest.mark.parametrize("kind", ["hf-greedy", "tiny-sampled", "tiny-tir-sampled"])
def test_killing_eval_mid_run_and_rerunning_gives_the_same_metrics(kind, tiny_ckpt, tmp_path, request):
    """A real `mathlens eval` process is killed once samples start to land, then run again:
    greedy, sampled (n 4, temperature 0.8) and TIR sampled. Only the hf case asks for the hf
    fixtures (and so for transformers)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    bench = tmp_path / "twelve.jsonl"
    bench.write_text(
        "".join(json.dumps({"question": f"What is {i} + {i}?", "answer": 2 * i}) + "\n" for i in range(12))
    )
    hf_backend = request.getfixturevalue("hf_backend") if kind == "hf-greedy" else None
    if kind == "hf-greedy":
        settings = dict(backend="hf", model=str(request.getfixturevalue("tiny_model")), max_tokens=40)
    else:
        settings = dict(backend="tiny", model=str(tiny_ckpt), max_tokens=40, n=4, temperature=0.8, prompt="plain")
        settings |= {"mode": "tir"} if kind == "tiny-tir-sampled" else {}
    args = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items() if k != "n"]
    args += ["-n", str(settings.get("n", 1)), "--benchmark", str(bench)]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mathlens.cli", "eval", *args, "--chunk", "2", "--quiet", "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples = killed / "samples.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and samples.read_text().count("\n") >= 1:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    partial = samples.read_text().count("\n")
    assert 1 <= partial < 12, f"{partial} lines: the run was not caught in the middle"
    cfg = EvalConfig(**settings, benchmark=str(bench), out=str(killed))
    given = hf_backend
    resumed = run_eval(cfg, progress=False, backend=given)
    whole = run_eval(EvalConfig(**{**cfg.__dict__, "out": str(tmp_path / "whole")}), progress=False, backend=given)
    assert resumed == whole
    ids = [json.loads(line)["id"] for line in samples.read_text().splitlines()]
    assert sorted(ids, key=int) == [str(i) for i in range(12)]  # none lost, none twice
    by_id = lambda path: sorted(path.read_text().splitlines(), key=lambda line: int(json.loads(line)["id"]))  # noqa: E731
    assert by_id(samples) == by_id(tmp_path / "whole" / "samples.jsonl")  # the very same samples


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    """A random tiny GPT checkpoint: its samples at temperature are varied, so any dependence shows."""
    import string

    import torch

    from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig, save_checkpoint

    torch.manual_seed(0)
    tok = CharTokenizer.from_texts([string.ascii_letters + string.digits + " +?.\n\\{}"])
    model = GPT(GPTConfig(tok.vocab_size, 128, ModelConfig(1, 2, 32)))
    path = tmp_path_factory.mktemp("tiny") / "ckpt.pt"
    state = {"model": model.state_dict(), "model_config": model.config.to_dict(), "tokenizer": tok.to_dict()}
    save_checkpoint(path, state)
    return path


@pytest.fixture(scope="module")
def ten(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "ten.jsonl"
    path.write_text("".join(json.dumps({"question": f"What is {i} + {i}?", "answer": 2 * i}) + "\n" for i in range(10)))
    return path


def test_samples_do_not_depend_on_the_chunk(tiny_ckpt, ten, tmp_path):
    """Each sample is seeded by (run seed, problem, index) and says so; --chunk changes nothing."""
    base = dict(backend="tiny", model=str(tiny_ckpt), benchmark=str(ten), prompt="plain", n=4, temperature=0.8)
    runs = {}
    for chunk in (1, 7):
        run_eval(EvalConfig(**base, max_tokens=12, chunk=chunk, out=str(tmp_path / str(chunk))), progress=False)
        runs[chunk] = (tmp_path / str(chunk) / "samples.jsonl").read_text()
    assert runs[1] == runs[7]
    rows = [json.loads(line) for line in runs[1].splitlines()]
    assert all(isinstance(s["seed"], int) for r in rows for s in r["samples"])
    assert len({s["completion"] for s in rows[0]["samples"]}) > 1  # it really sampled


def test_a_run_folder_refuses_samples_of_other_settings(tiny_ckpt, ten, tmp_path):
    cfg = EvalConfig(
        backend="tiny",
        model=str(tiny_ckpt),
        benchmark=str(ten),
        prompt="plain",
        max_tokens=4,
        limit=3,
        out=str(tmp_path),
    )
    run_eval(cfg, progress=False)
    with pytest.raises(MathlensError, match=r"other settings \(n 1 → 2, temperature 0.0 → 0.7\).*--overwrite"):
        run_eval(EvalConfig(**{**cfg.__dict__, "n": 2, "temperature": 0.7}), progress=False)
    run_eval(EvalConfig(**{**cfg.__dict__, "limit": 5}), progress=False)  # more problems, same settings: fine
    again = run_eval(EvalConfig(**{**cfg.__dict__, "n": 2, "temperature": 0.7, "overwrite": True}), progress=False)
    assert again["ten"]["k"] == 2 and again["ten"]["problems"] == 3
    with pytest.raises(MathlensError, match=r"other settings \(chat_template 'auto' → 'off'\)"):
        run_eval(EvalConfig(**{**cfg.__dict__, "n": 2, "temperature": 0.7, "chat_template": "off"}), progress=False)
    # a folder written before the prompting settings existed resumes: a missing one had its default
    saved = json.loads((tmp_path / "config.json").read_text())
    for key in ("chat_template", "fewshot_as_turns", "system", "stop", "model_args"):
        del saved[key]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    run_eval(EvalConfig(**{**cfg.__dict__, "n": 2, "temperature": 0.7}), progress=False)


def test_a_bad_eval_writes_nothing(tmp_path):
    with pytest.raises(MathlensError, match="unknown backend 'bogus'"):
        run_eval(EvalConfig(backend="bogus", model="m", benchmark=str(tmp_path / "x.jsonl"), out=str(tmp_path / "run")))
    with pytest.raises(MathlensError):
        run_eval(
            EvalConfig(backend="tiny", model="m", benchmark=str(tmp_path / "missing.jsonl"), out=str(tmp_path / "run"))
        )
    assert not (tmp_path / "run").exists()


def test_summarize_counts_unanswered_truncated_and_timed_out_samples(tmp_path):
    path = tmp_path / "samples.jsonl"
    slow = {"code": "while True: pass", "output": "TimeoutError: timed out after 5 s"}
    rows = [{"benchmark": "b", "id": "1", "question": "q", "gold": "2", "samples": [
        {"completion": "2", "pred": "2", "correct": True, "finish_reason": "stop", "tokens": 3},
        {"completion": "so", "pred": None, "correct": False, "finish_reason": "length", "tokens": 8},
        {"completion": "x", "pred": None, "correct": False, "tool_calls": [slow, {"code": "1", "output": "1"}]},
    ]}, {"benchmark": "c", "id": "1", "question": "q", "gold": "2", "samples": [
        {"completion": "2", "pred": "2", "correct": True, "finish_reason": "length", "tokens": 8}]}]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = summarize(path)
    counts = {name: {k: m[k] for k in ("samples", "unanswered", "truncated", "tool_timeouts")} for name, m in summary.items()}
    assert counts == {"b": {"samples": 3, "unanswered": 2, "truncated": 1, "tool_timeouts": 1},
                      "c": {"samples": 1, "unanswered": 0, "truncated": 1, "tool_timeouts": 0}}  # fmt: skip
    again = read_sample_rows(path)  # the fields travel through the one reader and writer unchanged
    assert [[(s.finish_reason, s.tokens, s.to_dict().get("tokens")) for s in r.samples] for r in again] == [
        [("stop", 3, 3), ("length", 8, 8), (None, None, None)], [("length", 8, 8)]]
