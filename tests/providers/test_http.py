"""The shared HTTP plumbing (``studio.providers.http``) against a real fake server: retries,
Retry-After, timeouts, cancellation, error mapping and that the key never leaks."""

from __future__ import annotations

import asyncio
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from studio.providers import errors as E
from studio.providers import http
from studio.providers.base import ProviderConfig
from studio.providers.http import HttpProvider, _retry_after, service_message
from tests.providers.fakes import OPENAI_KEY, closed_port_url
from tests.providers.helpers import call, everything_said

HELLO = [{"role": "user", "content": "hello there"}]
RATE_LIMIT = {"error": {"message": "Rate limit reached for gpt-4o-mini on requests per min "
                                   "(RPM): Limit 3, Used 3, Requested 1.",
                        "type": "requests", "param": None, "code": "rate_limit_exceeded"}}


def text(p):
    return p.generate_text(HELLO, max_tokens=50)


def test_429_with_retry_after_waits_then_succeeds(openai_fake):
    openai_fake.fail_next(429, RATE_LIMIT, {"Retry-After": "0.3"})
    start = time.monotonic()
    result = call(openai_fake.config(retries=2), OPENAI_KEY, text)
    assert result.text == "Echo: hello there"
    assert time.monotonic() - start >= 0.3  # the service's wait, not the 20 ms backoff
    assert len(openai_fake.requests) == 2


def test_429_with_a_huge_retry_after_fails_at_once(openai_fake):
    openai_fake.fail_next(429, RATE_LIMIT, {"Retry-After": "3600"})
    start = time.monotonic()
    with pytest.raises(E.RateLimited) as caught:
        call(openai_fake.config(retries=3), OPENAI_KEY, text)
    assert time.monotonic() - start < 2
    assert caught.value.retry_after == 3600
    assert "Rate limit reached" in str(caught.value) and "3600" in str(caught.value)
    assert len(openai_fake.requests) == 1


def test_429_without_retries_left(openai_fake):
    openai_fake.fail_next(429, RATE_LIMIT)
    with pytest.raises(E.RateLimited) as caught:
        call(openai_fake.config(retries=0), OPENAI_KEY, text)
    assert caught.value.retry_after is None and caught.value.retryable


def test_500_is_retried(openai_fake):
    openai_fake.fail_next(500, {"error": {"message": "The server had an error while processing "
                                                     "your request.", "type": "server_error"}},
                          times=2)
    result = call(openai_fake.config(retries=2), OPENAI_KEY, text)
    assert result.text == "Echo: hello there"
    assert len(openai_fake.requests) == 3


def test_500_until_retries_run_out(openai_fake):
    openai_fake.fail_next(503, "<html>Bad gateway</html>", times=3)
    with pytest.raises(E.ServiceFault) as caught:
        call(openai_fake.config(retries=1), OPENAI_KEY, text)
    assert "503" in str(caught.value) and "Bad gateway" in str(caught.value)
    assert len(openai_fake.requests) == 2


def test_malformed_json_is_bad_response_not_retried(openai_fake):
    openai_fake.malformed_next()
    with pytest.raises(E.BadResponse, match="not valid JSON"):
        call(openai_fake.config(retries=2), OPENAI_KEY, text)
    assert len(openai_fake.requests) == 1


def test_truncated_body_is_bad_response(openai_fake):
    openai_fake.truncate_next()
    with pytest.raises(E.BadResponse, match="cut off"):
        call(openai_fake.config(retries=2), OPENAI_KEY, text)


def test_a_hang_times_out_quickly(openai_fake):
    openai_fake.hang_next(10)
    start = time.monotonic()
    with pytest.raises(E.TimedOut, match="0.5 s"):
        call(openai_fake.config(timeout=0.5, retries=0), OPENAI_KEY, text)
    assert time.monotonic() - start < 2


def test_a_timeout_is_retried(openai_fake):
    openai_fake.hang_next(10)
    result = call(openai_fake.config(timeout=0.5, retries=1), OPENAI_KEY, text)
    assert result.text == "Echo: hello there"
    assert len(openai_fake.requests) == 2


def test_unreachable_port():
    config = ProviderConfig("openai", "Nowhere", {"base_url": closed_port_url() + "/v1",
                                                  "retries": 1})
    start = time.monotonic()
    with pytest.raises(E.Unreachable, match="cannot be reached"):
        call(config, OPENAI_KEY, text)
    assert time.monotonic() - start < 2


def test_a_base_url_without_scheme_is_unreachable_with_a_hint():
    config = ProviderConfig("openai", "Typo", {"base_url": "localhost:11434/v1", "retries": 0})
    with pytest.raises(E.Unreachable, match="http:// or https://"):
        call(config, None, text)


def test_a_redirect_is_not_followed(openai_fake):
    openai_fake.respond_next(status=301, body="", headers={"Location": "https://elsewhere/"})
    with pytest.raises(E.BadResponse, match="redirect"):
        call(openai_fake.config(), OPENAI_KEY, text)


def test_cancelling_the_task_cancels_the_call_promptly(openai_fake):
    openai_fake.hang_next(10)

    async def go():
        async with HttpProviderFor(openai_fake) as provider:
            task = asyncio.create_task(text(provider))
            for _ in range(200):
                await asyncio.sleep(0.02)
                if await asyncio.to_thread(lambda: openai_fake.requests):
                    break
            start = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - start

    assert asyncio.run(go()) < 0.5
    deadline = time.monotonic() + 5
    while not openai_fake.requests[-1].disconnected:  # the server saw the connection close
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_cancelling_during_a_retry_wait(openai_fake, monkeypatch):
    monkeypatch.setattr(http, "BACKOFF", 30.0)
    openai_fake.fail_next(500, {"error": {"message": "boom"}})

    async def go():
        async with HttpProviderFor(openai_fake, retries=2) as provider:
            task = asyncio.create_task(text(provider))
            await asyncio.sleep(0.5)  # the 500 came back; the task sleeps before its retry
            start = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - start

    assert asyncio.run(go()) < 0.5
    assert len(openai_fake.requests) == 1


def HttpProviderFor(fake, **settings):
    from studio.providers.openai_compat import OpenAICompatProvider
    return OpenAICompatProvider(fake.config(**settings), OPENAI_KEY)


# --- the key never leaks ---

ECHO = {"error": {"message": "Something failed for key {sent_key} (Bearer {sent_key})",
                  "type": "server_error", "code": None}}


@pytest.mark.parametrize("status, exc_type", [
    (400, E.Refused), (403, E.AuthFailed), (404, E.Refused), (429, E.RateLimited),
    (500, E.ServiceFault), (502, E.ServiceFault)])
def test_the_key_never_appears_in_a_message_even_when_echoed(openai_fake, status, exc_type):
    openai_fake.fail_next(status, ECHO, times=3)
    with pytest.raises(exc_type) as caught:
        call(openai_fake.config(retries=0), OPENAI_KEY, text)
    said = everything_said(caught.value)
    assert OPENAI_KEY not in said
    assert "Something failed for key •••" in said
    assert openai_fake.requests[-1].headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_the_key_is_not_echoed_in_a_plain_text_error(openai_fake):
    openai_fake.fail_next(500, "upstream said: key={sent_key}")
    with pytest.raises(E.ServiceFault) as caught:
        call(openai_fake.config(retries=0), OPENAI_KEY, text)
    assert OPENAI_KEY not in everything_said(caught.value)


def test_a_wrong_key_is_auth_failed_with_the_service_message(openai_fake):
    wrong = "sk-wrong-key-abcdef123456"
    with pytest.raises(E.AuthFailed) as caught:
        call(openai_fake.config(retries=2), wrong, text)
    said = everything_said(caught.value)
    assert "Incorrect API key provided: •••" in said and wrong not in said
    assert "401" in said and "Settings" in said
    assert len(openai_fake.requests) == 1  # a refused key is not retried


def test_the_key_is_sent_only_as_a_header(openai_fake):
    call(openai_fake.config(), OPENAI_KEY, text)
    sent = openai_fake.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert OPENAI_KEY not in repr(sent.query) + repr(sent.json) + sent.path
    assert sent.headers["user-agent"].startswith("StoryStudio/")


def test_a_pasted_newline_around_the_key_is_dropped(openai_fake):
    result = call(openai_fake.config(), f"  {OPENAI_KEY}\n", text)
    assert result.text == "Echo: hello there"


@pytest.mark.parametrize("key", ["sk-with-“quotes”-1234", "sk-bad\nnewline-1234"])
def test_a_key_that_cannot_be_sent_is_auth_failed(openai_fake, key):
    with pytest.raises(E.AuthFailed) as caught:
        call(openai_fake.config(), key, text)
    assert key not in everything_said(caught.value)
    assert "sk-bad" not in everything_said(caught.value)


# --- units ---

def _response(status=200, headers=None, **kw) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, **kw)


def test_retry_after_forms():
    assert _retry_after(_response(headers={"Retry-After": "7"})) == 7
    assert _retry_after(_response(headers={"Retry-After": "-3"})) == 0
    assert _retry_after(_response()) is None
    assert _retry_after(_response(headers={"Retry-After": "soon"})) is None
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    wait = _retry_after(_response(headers={"Retry-After": format_datetime(when, usegmt=True)}))
    assert 100 < wait <= 121


@pytest.mark.parametrize("body, expected", [
    ({"error": {"message": "Bad model", "type": "x"}}, "Bad model"),
    ({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, "Invalid API key"),
    ({"detail": "Not Found"}, "Not Found"),
    ({"error": "RuntimeError", "errors": "CUDA out of memory"}, "RuntimeError"),
    ({"detail": [{"loc": ["body", "name"], "msg": "field required"}]}, "field required"),
])
def test_service_message_shapes(body, expected):
    assert service_message(_response(400, json=body)) == expected


def test_service_message_of_a_text_body():
    assert service_message(_response(502, text="<html>Bad gateway</html>")) == \
        "<html>Bad gateway</html>"


def test_the_base_class_offers_nothing():
    async def go():
        async with HttpProvider(ProviderConfig("x", "Bare", {"base_url": "http://h"}),
                                None) as provider:
            for coro in (provider.test_connection(), provider.generate_text(HELLO),
                         provider.embed(["a"]), provider.speak("a", "v"),
                         provider.clone_voice("n", []), provider.generate_image("a", None)):
                with pytest.raises(E.Unsupported, match="Bare does not offer"):
                    await coro
    asyncio.run(go())


def test_a_long_echo_is_redacted_before_it_is_cut_short(openai_fake):
    for filler in range(280, 300):  # wherever the 300-character cut falls within the key
        openai_fake.fail_next(400, {"error": {"message": "x" * filler + " {sent_key}"}})
        with pytest.raises(E.Refused) as caught:
            call(openai_fake.config(retries=0), OPENAI_KEY, text)
        assert OPENAI_KEY[:12] not in everything_said(caught.value)


def test_messages_end_with_one_full_stop(openai_fake):
    with pytest.raises(E.AuthFailed) as caught:
        call(openai_fake.config(), None, text)
    assert ".." not in str(caught.value)


# --- on the app's loop (qasync over Qt) ---

@pytest.fixture
def qasync_loop(qapp):
    import qasync
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


def test_calls_and_cancellation_on_the_qt_loop(qasync_loop, openai_fake):
    async def go():
        async with HttpProviderFor(openai_fake, timeout=0.5, retries=1) as provider:
            openai_fake.fail_next(429, RATE_LIMIT, {"Retry-After": "0.1"})
            first = await text(provider)
            openai_fake.hang_next(10)
            task = asyncio.ensure_future(text(provider))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            openai_fake.hang_next(10, times=2)
            with pytest.raises(E.TimedOut):
                await text(provider)
            return first

    assert qasync_loop.run_until_complete(go()).text == "Echo: hello there"
