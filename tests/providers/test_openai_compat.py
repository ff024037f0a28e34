"""The OpenAI-compatible provider against a fake OpenAI server over real HTTP."""

from __future__ import annotations

import math

import pytest

from studio.providers import errors as E
from studio.providers import registry
from studio.providers.openai_compat import EMBED_BATCH, KIND
from tests.providers.fakes import OPENAI_KEY
from tests.providers.helpers import call, everything_said

MESSAGES = [{"role": "system", "content": "You are a terse narrator."},
            {"role": "user", "content": "Describe the harbour at dawn."}]
PRICES = {"price_input_per_1m": 2.5, "price_output_per_1m": 10}


def chat(p, **kw):
    return p.generate_text(MESSAGES, **kw)


def test_generate_text_sends_the_chat_and_reads_the_answer(openai_fake):
    openai_fake.configure(reply="Grey light spills over the moored boats.")
    result = call(openai_fake.config(**PRICES), OPENAI_KEY,
                  lambda p: chat(p, max_tokens=120, temperature=0.3))
    assert result.text == "Grey light spills over the moored boats."
    assert result.finish_reason == "stop"
    # the fake counts words + 3 per message for the prompt, words for the completion
    assert result.usage.input_tokens == (5 + 3) + (5 + 3)
    assert result.usage.output_tokens == 7
    assert result.usage.model == "gpt-4o-mini" and result.usage.capability == "text"
    assert result.usage.cost == pytest.approx((16 * 2.5 + 7 * 10) / 1e6)
    sent = openai_fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.json == {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 120,
                         "temperature": 0.3}


def test_finish_reason_length(openai_fake):
    openai_fake.configure(reply="one two three four five six")
    result = call(openai_fake.config(), OPENAI_KEY, lambda p: chat(p, max_tokens=4))
    assert result.text == "one two three four" and result.finish_reason == "length"


def test_missing_usage_is_estimated_from_characters(openai_fake):
    openai_fake.respond_next({"choices": [{"message": {"role": "assistant",
                                                       "content": "x" * 40},
                                           "finish_reason": "stop"}]})
    result = call(openai_fake.config(**PRICES), OPENAI_KEY, chat)
    chars_in = sum(len(m["content"]) for m in MESSAGES)
    assert result.usage.input_tokens == sum(math.ceil(len(m["content"]) / 4) for m in MESSAGES)
    assert abs(result.usage.input_tokens - chars_in / 4) <= 2
    assert result.usage.output_tokens == 10
    assert result.usage.cost == pytest.approx(
        (result.usage.input_tokens * 2.5 + 10 * 10) / 1e6)


def test_a_local_server_needs_no_key(openai_fake):
    openai_fake.reset(key=None)  # like Ollama or LM Studio
    result = call(openai_fake.config(), None, chat)
    assert result.text.startswith("Echo:") and result.usage.cost == 0
    assert "authorization" not in openai_fake.requests[-1].headers


def test_a_server_that_wants_a_key_says_so(openai_fake):
    with pytest.raises(E.AuthFailed, match="didn't provide an API key"):
        call(openai_fake.config(), None, chat)


def test_unknown_model_is_refused_with_the_service_message(openai_fake):
    with pytest.raises(E.Refused) as caught:
        call(openai_fake.config(model="gpt-9"), OPENAI_KEY, chat)
    assert caught.value.status == 404
    assert "The model `gpt-9` does not exist" in str(caught.value)


def test_insufficient_quota_is_not_retried_as_a_rate_limit(openai_fake):
    openai_fake.fail_next(429, {"error": {
        "message": "You exceeded your current quota, please check your plan and billing "
                   "details.", "type": "insufficient_quota", "param": None,
        "code": "insufficient_quota"}}, times=3)
    with pytest.raises(E.Refused, match="quota is used up.*exceeded your current quota"):
        call(openai_fake.config(retries=2), OPENAI_KEY, chat)
    assert len(openai_fake.requests) == 1


def test_a_reasoning_model_gets_max_completion_tokens_and_its_own_temperature(openai_fake):
    result = call(openai_fake.config(model="o3-mini"), OPENAI_KEY,
                  lambda p: chat(p, max_tokens=300, temperature=0.7))
    assert result.text.startswith("Echo:")
    final = openai_fake.requests[-1].json
    assert final["max_completion_tokens"] == 300
    assert "max_tokens" not in final and "temperature" not in final
    assert len(openai_fake.requests) == 3


@pytest.mark.parametrize("body, what", [
    ({"choices": []}, "choices"),
    ({"id": "x"}, "choices"),
    ({"choices": [{"finish_reason": "stop"}]}, "message"),
    ({"choices": [{"message": {"content": ["a", "b"]}}]}, "not text"),
    ([1, 2, 3], "choices"),
])
def test_a_chat_answer_of_the_wrong_shape_is_bad_response(openai_fake, body, what):
    openai_fake.respond_next(body)
    with pytest.raises(E.BadResponse, match=what):
        call(openai_fake.config(), OPENAI_KEY, chat)


def test_a_refusal_is_refused(openai_fake):
    openai_fake.respond_next({"choices": [{"message": {"role": "assistant", "content": None,
                                                       "refusal": "I can't help with that."},
                                           "finish_reason": "stop"}]})
    with pytest.raises(E.Refused, match="declined: I can't help with that"):
        call(openai_fake.config(), OPENAI_KEY, chat)


# --- embeddings ---

def test_embed_returns_one_vector_per_text_in_order(openai_fake):
    openai_fake.configure(shuffle_embeddings=True)  # answers in reverse: sorted by index
    texts = ["the harbour", "a lighthouse keeper", "rain"]
    result = call(openai_fake.config(price_input_per_1m=0.02), OPENAI_KEY,
                  lambda p: p.embed(texts))
    single = [call(openai_fake.config(), OPENAI_KEY, lambda p, t=t: p.embed([t])).vectors[0]
              for t in texts]
    assert result.vectors == single
    assert all(len(v) == 8 and all(isinstance(x, float) for x in v) for v in result.vectors)
    assert result.usage.input_tokens == 6 and result.usage.capability == "embeddings"
    assert result.usage.model == "text-embedding-3-small"
    assert result.usage.cost == pytest.approx(6 * 0.02 / 1e6)
    sent = openai_fake.requests[0]
    assert sent.path == "/v1/embeddings"
    assert sent.json == {"model": "text-embedding-3-small", "input": texts}


def test_embedding_price_of_its_own(openai_fake):
    result = call(openai_fake.config(price_input_per_1m=5, price_embedding_per_1m=0.1),
                  OPENAI_KEY, lambda p: p.embed(["one two"]))
    assert result.usage.cost == pytest.approx(2 * 0.1 / 1e6)


def test_embed_in_batches(openai_fake):
    texts = [f"text {i}" for i in range(EMBED_BATCH + 5)]
    result = call(openai_fake.config(), OPENAI_KEY, lambda p: p.embed(texts))
    assert len(result.vectors) == len(texts)
    assert [len(r.json["input"]) for r in openai_fake.requests] == [EMBED_BATCH, 5]
    assert result.usage.input_tokens == 2 * len(texts)


def test_embed_nothing_sends_nothing(openai_fake):
    result = call(openai_fake.config(), OPENAI_KEY, lambda p: p.embed([]))
    assert result.vectors == [] and openai_fake.requests == []


@pytest.mark.parametrize("data, what", [
    ([{"index": 0, "embedding": [0.1, 0.2]}], "1 embeddings for 2 texts"),
    ([{"index": 0, "embedding": [0.1, "x"]}, {"index": 1, "embedding": [0.1, 0.2]}],
     "not a list of numbers"),
    ([{"index": 0, "embedding": [0.1, True]}, {"index": 1, "embedding": [0.1, 0.2]}],
     "not a list of numbers"),
    ([{"index": 0, "embedding": []}, {"index": 1, "embedding": [0.1]}], "not a list of numbers"),
    ([{"index": 0, "embedding": [0.1]}, {"index": 0, "embedding": [0.2]}], "wrong index"),
    ([{"index": 0, "embedding": [0.1]}, {"index": 5, "embedding": [0.2]}], "wrong index"),
    ([{"index": 0, "embedding": [0.1]}, {"index": 1, "embedding": [0.2, 0.3]}],
     "different lengths"),
    ([{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": "AAAA"}],
     "not a list of numbers"),
    ("nope", "no “data” array"),
])
def test_embeddings_of_the_wrong_shape_are_bad_response(openai_fake, data, what):
    openai_fake.respond_next({"object": "list", "data": data, "model": "m"})
    with pytest.raises(E.BadResponse, match=what):
        call(openai_fake.config(), OPENAI_KEY, lambda p: p.embed(["a", "b"]))


# --- connection test, kind ---

def test_connection_names_the_models(openai_fake):
    message = call(openai_fake.config(), OPENAI_KEY, lambda p: p.test_connection())
    assert message == "Connected: 5 models available, including “gpt-4o-mini”."
    assert openai_fake.requests[-1].path == "/v1/models"


def test_connection_says_when_the_model_is_missing(openai_fake):
    openai_fake.configure(models=["llama3.1:8b"])
    message = call(openai_fake.config(model="llama3"), OPENAI_KEY,
                   lambda p: p.test_connection())
    assert message.startswith("Connected: 1 model available, but “llama3” is not among them")


def test_connection_with_a_wrong_key(openai_fake):
    with pytest.raises(E.AuthFailed) as caught:
        call(openai_fake.config(), "sk-nope-000000", lambda p: p.test_connection())
    assert "sk-nope-000000" not in everything_said(caught.value)


def test_the_kind():
    assert registry.kind("openai") is KIND
    assert KIND.label == "OpenAI-compatible" and KIND.key_optional
    defaults = KIND.defaults()
    assert defaults["base_url"] == "https://api.openai.com/v1"
    assert defaults["model"] == "gpt-4o-mini"
    assert defaults["embedding_model"] == "text-embedding-3-small"
    assert defaults["price_input_per_1m"] == 0 and defaults["price_output_per_1m"] == 0
    assert {"timeout", "retries"} <= set(defaults)
    help_text = next(s.help for s in KIND.settings if s.key == "base_url")
    assert "http://localhost:11434/v1" in help_text and "http://localhost:1234/v1" in help_text
