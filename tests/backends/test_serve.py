"""``mathlens serve`` through the real clients that talk to OpenAI-compatible servers: the official
``openai`` package and lm-evaluation-harness's ``local-completions`` model, on 127.0.0.1."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import torch

from mathlens.backends.base import Sampling, as_text
from mathlens.backends.serve import make_server
from mathlens.backends.tiny import TinyBackend
from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig

openai = pytest.importorskip("openai")
pytest.importorskip("fastapi")

ALPHABET = "0123456789+=-*/ ?.,abcdefghijklmnopqrstuvwxyz\n"


@pytest.fixture(scope="module")
def backend() -> TinyBackend:
    """A random one-layer character GPT: enough to check every byte the server returns."""
    torch.manual_seed(0)
    tok = CharTokenizer.from_texts([ALPHABET])
    model = GPT(GPTConfig(tok.vocab_size, 64, ModelConfig(1, 2, 32))).eval()
    return TinyBackend(model, tok, mix_lengths=True)  # as `mathlens serve` makes it


@pytest.fixture(scope="module")
def url(backend):
    server = make_server(backend, "tiny", port=0)
    address = server.start()
    yield address
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def client(url):
    return openai.OpenAI(base_url=url, api_key="unused", max_retries=0)


def test_completions_match_the_backend_with_n_stop_and_usage(client, backend):
    greedy = client.completions.create(model="tiny", prompt=["1+1=", "2*3="], max_tokens=6, temperature=0)
    direct = backend.generate(["1+1=", "2*3="], Sampling(max_tokens=6))
    assert [c.text for c in greedy.choices] == [d[0] for d in direct]
    assert greedy.usage.prompt_tokens == 8 and greedy.usage.completion_tokens == sum(len(c.text) for c in greedy.choices)
    sampled = client.completions.create(model="tiny", prompt="1+1=", max_tokens=8, n=3, temperature=1.0, seed=5)
    assert len(sampled.choices) == 3 and [c.index for c in sampled.choices] == [0, 1, 2]
    again = client.completions.create(model="tiny", prompt="1+1=", max_tokens=8, n=3, temperature=1.0, seed=5)
    assert [c.text for c in again.choices] == [c.text for c in sampled.choices]  # a seed fixes the samples
    text = sampled.choices[0].text
    if len(text) > 2:  # a stop string ends the text and is not returned
        stopped = client.completions.create(
            model="tiny", prompt="1+1=", max_tokens=8, temperature=1.0, seed=5, stop=[text[2]]
        )
        assert stopped.choices[0].text == text[: text.index(text[2])] and stopped.choices[0].finish_reason == "stop"


def test_logprobs_and_echo_are_the_models_own(client, backend):
    out = client.completions.create(model="tiny", prompt="3+4=", max_tokens=3, temperature=0, logprobs=2, echo=True)
    lp = out.choices[0].logprobs
    assert out.choices[0].text.startswith("3+4=") and lp.tokens[:4] == list("3+4=")
    assert lp.token_logprobs[0] is None and lp.text_offset[:3] == [0, 1, 2]
    ids = backend.scorer.encode(out.choices[0].text)
    with torch.no_grad():
        logits = backend.model(torch.tensor([ids]))[0][0].log_softmax(-1)
    expected = [float(logits[i - 1, ids[i]]) for i in range(1, len(ids))]
    assert lp.token_logprobs[1:] == pytest.approx(expected, abs=1e-5)
    assert all(len(top) == 2 and max(top.values()) >= lp.token_logprobs[i + 1] - 1e-6
               for i, top in enumerate(lp.top_logprobs[1:]))
    # greedy: every generated token is the likeliest one
    assert all(lp.token_logprobs[i] == pytest.approx(max(lp.top_logprobs[i].values())) for i in range(4, len(ids)))


def test_streaming_gives_the_same_text_for_both_endpoints(client):
    whole = client.completions.create(model="tiny", prompt="5-2=", max_tokens=6, temperature=0).choices[0].text
    chunks = list(client.completions.create(model="tiny", prompt="5-2=", max_tokens=6, temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole
    messages = [{"role": "user", "content": "what is 2+2?"}]
    said = client.chat.completions.create(model="tiny", messages=messages, max_tokens=6, temperature=0)
    stream = client.chat.completions.create(
        model="tiny", messages=messages, max_tokens=6, temperature=0, stream=True, stream_options={"include_usage": True}
    )
    events = list(stream)
    assert "".join(e.choices[0].delta.content or "" for e in events if e.choices) == said.choices[0].message.content
    assert events[-1].usage.total_tokens == said.usage.total_tokens


def test_chat_renders_turns_and_returns_logprobs(client, backend):
    messages = [{"role": "system", "content": "be brief."}, {"role": "user", "content": "2+2?"}]
    out = client.chat.completions.create(
        model="tiny", messages=messages, max_tokens=5, temperature=0, n=2, logprobs=True, top_logprobs=3
    )
    direct = backend.generate([as_text(messages)], Sampling(max_tokens=5))[0][0]
    assert [c.message.content for c in out.choices] == [direct, direct]
    content = out.choices[0].logprobs.content
    assert "".join(t.token for t in content) == direct and all(len(t.top_logprobs) == 3 for t in content)
    assert out.usage.prompt_tokens == len(as_text(messages))


BAD = {
    "n below 1": ("/completions", {"prompt": "1", "n": 0}, "n"),
    "max_tokens past the context": ("/completions", {"prompt": "1", "max_tokens": 10**8}, "context is 64 tokens"),
    "prompt past the context": ("/completions", {"prompt": "1" * 1_000_000}, "context is 64 tokens"),
    "logprobs above 20": ("/completions", {"prompt": "1", "logprobs": 50}, "logprobs"),
    "temperature below 0": ("/completions", {"prompt": "1", "temperature": -1}, "temperature"),
    "no prompt": ("/completions", {"max_tokens": 3}, "prompt"),
    "chat without messages": ("/chat/completions", {"model": "tiny"}, "messages"),
    "chat with a bad role": ("/chat/completions", {"messages": [{"role": "robot", "content": "x"}]}, "role"),
    "continue without an assistant turn": (
        "/chat/completions",
        {"messages": [{"role": "user", "content": "x"}], "continue_final_message": True},
        "assistant message last",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_requests_are_400_with_a_json_error(url, case):
    path, body, said = BAD[case]
    response = httpx.post(url + path, json=body, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and said in error["message"]


def test_a_request_past_the_work_cap_is_400_naming_the_cap_and_what_was_asked(url):
    """One request may ask for at most 256 completions (prompts × n) by default: 10,000 prompts
    are refused before any decoding, with OpenAI's error shape."""
    response = httpx.post(url + "/completions", json={"prompt": ["1"] * 10_000, "max_tokens": 1}, timeout=60)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"] == (
        "this request asks for 10000 completions; the server takes at most 256 per request (--max-request-work)"
    )
    assert error["type"] == "invalid_request_error" and error["param"] == "prompt"
    many = httpx.post(url + "/completions", json={"prompt": ["1+1="] * 8, "n": 64, "max_tokens": 1}, timeout=60)
    assert many.status_code == 400 and "asks for 512 completions (8 prompts × n=64)" in many.json()["error"]["message"]


def test_a_request_at_the_work_cap_is_served(url):
    response = httpx.post(url + "/completions", json={"prompt": ["1+1="] * 128, "n": 2, "max_tokens": 1}, timeout=120)
    assert response.status_code == 200, response.text
    choices = response.json()["choices"]
    assert len(choices) == 256 and [c["index"] for c in choices] == list(range(256))


def test_the_work_cap_is_set_by_make_server_and_counts_n_in_chat(backend):
    server = make_server(backend, "tiny", port=0, max_request_work=3)
    try:
        url = server.start()
        chat = {"messages": [{"role": "user", "content": "2+2?"}], "max_tokens": 2}
        refused = httpx.post(url + "/chat/completions", json=chat | {"n": 4}, timeout=60)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "n"
        assert refused.json()["error"]["message"] == (
            "this request asks for 4 completions; the server takes at most 3 per request (--max-request-work)"
        )
        served = httpx.post(url + "/chat/completions", json=chat | {"n": 3}, timeout=60)
        assert served.status_code == 200 and len(served.json()["choices"]) == 3
        three = httpx.post(url + "/completions", json={"prompt": ["1", "2", "3"], "max_tokens": 1}, timeout=60)
        assert three.status_code == 200 and len(three.json()["choices"]) == 3
        four = httpx.post(url + "/completions", json={"prompt": ["1", "2", "3", "4"], "max_tokens": 1}, timeout=60)
        assert four.status_code == 400 and "asks for 4 completions" in four.json()["error"]["message"]
    finally:
        server.shutdown()
        server.server_close()


def test_malformed_json_and_unknown_routes_are_json_errors(url):
    broken = httpx.post(url + "/completions", content=b"{oops", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"]
    assert httpx.get(url + "/nowhere").status_code == 404 and "error" in httpx.get(url + "/nowhere").json()


def test_concurrent_requests_share_backend_calls_and_keep_their_samples(url, backend):
    def ask(i: int) -> str:
        body = {"prompt": f"{i}+{i}=", "max_tokens": 6, "temperature": 1.0, "seed": i}
        return httpx.post(url + "/completions", json=body, timeout=60).json()["choices"][0]["text"]

    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(ask, range(32)))
    alone = [ask(i) for i in range(32)]
    assert together == alone  # a sample depends on its request, not on what it was batched with
    batches = httpx.get(url.removesuffix("/v1") + "/stats").json()["batches"]
    assert max(batches) > 1  # concurrent requests were decoded in one call


def test_the_remote_tokenizer_endpoints_lm_eval_reads(url):
    root = url.removesuffix("/v1")
    tokens = httpx.post(root + "/tokenize", json={"prompt": "12+3"}).json()["tokens"]
    assert len(tokens) == 4 and httpx.post(root + "/detokenize", json={"tokens": tokens}).json()["prompt"] == "12+3"
    assert httpx.get(root + "/tokenizer_info").json()["model_max_length"] == 64


def test_lm_eval_local_completions_runs_a_loglikelihood_task(url, backend, tmp_path):
    """lm-evaluation-harness scores each choice through /v1/completions (echo + logprobs): its
    log-likelihoods must be the model's, computed here directly."""
    lm_eval = pytest.importorskip("lm_eval")
    from lm_eval.tasks import TaskManager

    docs = [{"question": "1+1=", "choices": ["2", "3"], "answer": 0}, {"question": "2+2=", "choices": ["5", "4"], "answer": 1}]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "task.yaml").write_text(
        "task: mathlens_sums\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {tmp_path / 'docs.jsonl'}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        "doc_to_text: '{{question}}'\ndoc_to_choice: '{{choices}}'\ndoc_to_target: '{{answer}}'\n"
        "metric_list:\n  - metric: acc\n"
    )
    results = lm_eval.simple_evaluate(
        model="local-completions",
        model_args=f"model=tiny,base_url={url}/completions,tokenizer_backend=remote,num_concurrent=1,max_retries=1",
        tasks=["mathlens_sums"],
        task_manager=TaskManager(include_path=str(tmp_path)),
        log_samples=True,
    )
    samples = results["samples"]["mathlens_sums"]
    assert len(samples) == 2
    for sample in samples:
        doc = sample["doc"]
        for choice, resp in zip(doc["choices"], sample["resps"]):
            ctx, cont = backend.scorer.encode(doc["question"]), backend.scorer.encode(" " + choice)
            scores = backend.scorer.score(ctx + cont)
            assert resp[0][0] == pytest.approx(sum(s.logprob for s in scores[len(ctx):]), abs=1e-4)
    assert 0.0 <= results["results"]["mathlens_sums"]["acc,none"] <= 1.0


def test_an_hf_model_serves_logprobs_and_usage_from_its_own_tokenizer(tiny_model):
    from mathlens.backends.hf import HFBackend

    hf = HFBackend(str(tiny_model))
    server = make_server(hf, "gpt2", port=0)
    try:
        client = openai.OpenAI(base_url=server.start(), api_key="unused", max_retries=0)
        out = client.completions.create(model="gpt2", prompt="12+3=", max_tokens=4, temperature=0, logprobs=1, echo=True)
    finally:
        server.shutdown()
        server.server_close()
    ids = hf.tokenizer(out.choices[0].text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = hf.model(input_ids=torch.tensor([ids])).logits[0].log_softmax(-1)
    lp = out.choices[0].logprobs.token_logprobs
    assert lp[0] is None and lp[1:] == pytest.approx([float(logits[i - 1, ids[i]]) for i in range(1, len(ids))], abs=1e-4)
    assert out.usage.prompt_tokens == len(hf.tokenizer("12+3=", add_special_tokens=False)["input_ids"])
