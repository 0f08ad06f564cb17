"""Bad input to any verb: one line on stderr, exit code 2, no traceback, nothing written."""

import json
import socket
import subprocess
import sys

import pytest
import torch

GRADED = {
    "id": 1,
    "question": "q",
    "gold": "1",
    "benchmark": "b",
    "samples": [{"completion": "1", "pred": "1", "correct": True}],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "ungraded.jsonl").write_text(json.dumps({**GRADED, "samples": [{"completion": "1"}]}) + "\n")
    (d / "broken.jsonl").write_text(json.dumps(GRADED) + "\n{oops\n" + json.dumps(GRADED) + "\n")
    (d / "graded.jsonl").write_text(json.dumps(GRADED) + "\n")
    (d / "array.jsonl").write_text("[1, 2]\n")
    (d / "latin.jsonl").write_bytes(b'{"question": "caf\xe9", "answer": 1}\n')
    (d / "null.jsonl").write_text('{"question": "q", "answer": null}\n')
    (d / "empty.jsonl").write_text("")
    (d / "ok.py").write_text("print(1)\n")
    (d / "bad.yaml").write_text("task: addition\nn_layers: 3\n")
    return d


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mathlens.cli", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


EVAL = ["eval", "--backend", "tiny", "--model", "missing.pt", "--benchmark"]
CASES = {
    "report-ungraded": (["report", "{d}/ungraded.jsonl"], "not graded"),
    "report-broken-line": (["report", "{d}/broken.jsonl"], "broken.jsonl:2: not valid JSON"),
    "report-by-bogus": (["report", "{d}/graded.jsonl", "--by", "bogus"], "no problem has a 'bogus' field"),
    "eval-array-line": ([*EVAL, "{d}/array.jsonl"], "array.jsonl:1: expected a JSON object"),
    "eval-not-utf8": ([*EVAL, "{d}/latin.jsonl"], "latin.jsonl:1: not UTF-8"),
    "eval-null-answer": ([*EVAL, "{d}/null.jsonl"], "field 'answer' is null"),
    "eval-empty": ([*EVAL, "{d}/empty.jsonl"], "no problems in it"),
    "eval-bogus-backend": (
        ["eval", "--backend", "bogus", "--model", "m", "--benchmark", "{d}/missing.jsonl"],
        "unknown backend 'bogus'",
    ),
    "grade-not-utf8": (["grade", "{d}/latin.jsonl"], "latin.jsonl:1: not UTF-8"),
    "sandbox-timeout": (["sandbox", "run", "--timeout", "-1", "{d}/ok.py"], "--timeout must be more than 0"),
    "lso-positions": (["lso", "--positions", "bogus", "--out", "{d}/lso-run"], "positions must be one of learned, rope, none"),
    "lso-config-key": (["lso", "--config", "{d}/bad.yaml", "--out", "{d}/lso-run"], "did you mean 'n_layer'"),
    "sweep-radius": (
        ["sweep", "--range", "0-19", "--center", "10,10", "--radius", "1,60", "--out", "{d}/sweep-run"],
        "as large as the grid",
    ),
    "finetune-no-data": (
        ["finetune", "--model", "./nope", "--data", "{d}/missing.jsonl"],
        "missing.jsonl: cannot read",
    ),
}
if not torch.cuda.is_available():
    CASES["lengthgen-cuda"] = (["lengthgen", "--device", "cuda", "--out", "{d}/lg-run"], "no GPU")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_2(case, files):
    args, message = CASES[case]
    result = run(*(a.format(d=files) for a in args), cwd=files)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mathlens: error: "), result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not any((files / name).exists() for name in ("lso-run", "sweep-run", "lg-run", "runs")), (
        "wrote before failing"
    )


def test_serve_on_a_port_in_use_says_so_before_loading(files):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--backend", "tiny", "--model", "missing.pt", "--port", port)
    assert result.returncode == 2 and f"127.0.0.1:{port}: cannot listen" in result.stderr, result.stderr


def test_a_syntax_error_names_its_line(files):
    (files / "syntax.py").write_text("x = 1\nprint(x\n")
    result = run("sandbox", "run", files / "syntax.py")
    shown = result.stdout + result.stderr  # the output a notebook cell would show
    assert result.returncode == 1 and "SyntaxError: '(' was never closed (line 2)" in shown, shown


def test_a_named_benchmark_with_no_copy_and_no_hub_names_both_ways(files, tmp_path):
    """A fresh clone: no shared folder beside it, no hub. One line names the hub source and --data-dir;
    with --data-dir at a copy, the run gets as far as the backend (whose model is missing here)."""
    env = {**__import__("os").environ, "MATHLENS_SHARED_DATA": str(tmp_path / "none"), "HF_HUB_OFFLINE": "1"}
    env.pop("MATHLENS_BENCHMARKS", None)
    cmd = [sys.executable, "-m", "mathlens.cli", *EVAL, "math_test500", "--out", str(tmp_path / "run")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=files, env=env)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "hf:HuggingFaceH4/MATH-500@test" in result.stderr and "--data-dir" in result.stderr
    assert not (tmp_path / "run").exists()

    copy = tmp_path / "copy" / "math_test500"
    copy.mkdir(parents=True)
    (copy / "test.jsonl").write_text(json.dumps({"problem": "1+1?", "solution": "\\boxed{2}", "answer": "2"}) + "\n")
    result = subprocess.run([*cmd, "--data-dir", str(copy.parent)], capture_output=True, text=True, timeout=120,
                            cwd=files, env=env)
    assert result.returncode == 2 and "missing.pt" in result.stderr, result.stderr
