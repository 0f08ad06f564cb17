import pytest

from mathlens.backends.tools import sandbox_runner, solve_with_tools
from mathlens.formats import make_format
from mathlens.sandbox import Sandbox
from mathlens.tasks import make_task


@pytest.fixture(scope="module")
def run():
    with Sandbox(workers=2, timeout=2.0) as box:
        yield sandbox_runner(box)


@pytest.mark.parametrize(
    "task_name", ["addition", "subtraction", "multiplication", "mod_addition", "base_addition", "linear"]
)
def test_tir_programs_print_the_answer_when_really_run(task_name, run):
    task, fmt = make_task(task_name), make_format("tir")
    cases = [(0, 0), (59, 13), (7, 98), (112, 100)]
    outputs = run([[fmt.program(task, a, b)] for a, b in cases])
    assert outputs == [task.answer(a, b) for a, b in cases]


def stub_model(texts, rows):
    """Emits fixed code, then makes up a wrong output; after a real output, copies it as the answer."""
    out = []
    for t in texts:
        if t.endswith("```\n") and "```output\n" in t:
            out.append(t.split("```output\n")[-1].split("\n")[0])
        else:
            out.append("```python\nprint(6*7)\n```\n```output\n41\n```\n41")
    return out


def test_tool_loop_runs_the_code_and_reads_the_answer(run):
    samples = solve_with_tools(stub_model, ["q1", "q2"], run)
    for s in samples:
        assert s.calls == [{"code": "print(6*7)\n", "output": "42"}]
        assert s.completion == "```python\nprint(6*7)\n```\n```output\n42\n```\n42"


def test_the_mask_covers_exactly_the_injected_output(run):
    """What RFT and GRPO train on: the model's own tokens, never the interpreter's."""
    (s,) = solve_with_tools(stub_model, ["q"], run)
    mask = s.sampled_mask()
    injected = "".join(c for c, sampled in zip(s.completion, mask) if not sampled)
    assert injected == "42\n```\n"
    assert s.completion[: mask.index(False)].endswith("```output\n") and all(mask[mask.index(False) + 7 :])
    ids, token_mask = s.token_mask(lambda text: [ord(c) for c in text])
    assert "".join(map(chr, ids)) == s.completion and token_mask == mask


def test_tool_loop_stops_after_max_calls(run):
    always_code = lambda texts, rows: ["```python\nprint(1)\n```\n```output\n" for _ in texts]
    (s,) = solve_with_tools(always_code, ["q"], run, max_calls=2)
    assert len(s.calls) == 2 and s.completion.count("```python") == 3


def test_later_calls_see_the_state_of_earlier_ones(run):
    """The second code block uses a name the first one defined, as in one notebook."""
    first = "```python\nx = 40\nprint(x)\n```\n```output\n"
    second = "```python\nprint(x + 2)\n```\n```output\n"
    model = lambda texts, rows: [second if "40" in t else first for t in texts]
    (s,) = solve_with_tools(model, ["q"], run, max_calls=2)
    assert [c["output"] for c in s.calls] == ["40", "42"]


@pytest.mark.parametrize("groups", [1, 2, 3])
def test_groups_take_turns_and_give_the_same_samples(run, groups):
    """Splitting the batch so one group decodes while another's code runs changes no sample."""
    first = "```python\nx = 40\nprint(x)\n```\n```output\n"
    second = "```python\nprint(x + 2)\n```\n```output\n"
    calls = []

    def model(texts, rows):
        calls.append(len(texts))
        return [second if "40" in t else first for t in texts]

    solved = solve_with_tools(model, [f"q{i}" for i in range(5)], run, max_calls=2, groups=groups)
    assert all([c["output"] for c in s.calls] == ["40", "42"] for s in solved)
    assert sum(calls) == 15 and len(calls) == 3 * groups  # 3 rounds for each group


def test_token_mask_with_a_hugging_face_tokenizer(tiny_model):
    """No token straddles model text and tool text, whatever the tokenizer."""
    transformers = pytest.importorskip("transformers")
    from mathlens.backends.tools import ToolSample

    tok = transformers.AutoTokenizer.from_pretrained(tiny_model)
    text = "```python\nprint(6*7)\n```\n```output\n42\n```\nThe answer is 42."
    start = text.index("42\n```")
    sample = ToolSample("q", text, injected=[(start, start + len("42\n```\n"))])
    ids, mask = sample.token_mask(lambda t: tok(t, add_special_tokens=False)["input_ids"])
    chars = tok.convert_ids_to_tokens(ids)  # one character per token: decode() would add spaces
    assert "".join(chars) == text and len(ids) == len(mask)
    assert "".join(c for c, m in zip(chars, mask) if not m) == "42\n```\n"
