"""The shared HTTP plumbing of every network provider: timeout, retries, error mapping.

One ``httpx.AsyncClient`` per provider instance.  ``request`` sends a call and:

- retries what may succeed later (connection failures, timeouts, 429, 5xx) up to
  ``retries`` times, waiting the service's ``Retry-After`` (capped at ``MAX_RETRY_AFTER``) or
  an exponential backoff — the waits are ``asyncio.sleep``, so cancelling the task stops them;
- maps failures to ``studio.providers.errors`` with the service's own message where it gave one
  (OpenAI ``{"error": {"message"}}``, ElevenLabs ``{"detail": {"message"}}`` or
  ``{"detail": "..."}``, A1111 ``{"detail"|"error"|"errors"}``), the key redacted;
- gives the body back as bytes (``raw=True``) or as a JSON value, a truncated or malformed body
  being ``BadResponse``.

The key is sent only in a header; it is never logged and never part of a message.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import ssl
import time
from typing import Any, Mapping

import httpx

from studio.providers import errors as E
from studio.providers.base import (
    EmbeddingResult, ImagePreset, ImageResult, Message, ProviderConfig, SpeechResult,
    TextResult, VoiceResult,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
MAX_RETRY_AFTER = 30.0
BACKOFF = 0.5  # first wait; doubles per retry
USER_AGENT = "StoryStudio/0.1"


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every provider (making one costs ~30 ms)."""
    return httpx.create_ssl_context()


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (a number of seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def service_message(response: httpx.Response, *secrets: str | None) -> str:
    """The error message the service put in its body, or a short excerpt of the body, with
    ``secrets`` redacted *before* it is cut short (a cut could keep half a key)."""
    try:
        data = response.json()
    except ValueError:
        return E.redact(response.text.strip(), *secrets)[:300]
    found: Any = data
    for path in (("error", "message"), ("detail", "message"), ("detail",), ("error",),
                 ("errors",), ("message",)):
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, str) and node.strip():
            return E.redact(node.strip(), *secrets)[:300]
        if node is not None and found is data:
            found = node
    if isinstance(found, list) and found and isinstance(found[0], Mapping):  # FastAPI
        return E.redact(str(found[0].get("msg") or found[0]), *secrets)[:300]
    return E.redact(json.dumps(found), *secrets)[:300]


class HttpProvider:
    """Base of the network providers: the client, ``request`` and ``Unsupported`` defaults."""

    service = "the service"

    def __init__(self, config: ProviderConfig, key: str | None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self._key = (key or "").strip() or None  # a pasted newline would break the header
        self.timeout = config.number("timeout", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT
        self.retries = int(config.number("retries", DEFAULT_RETRIES))
        base = str(config.get("base_url", "")).strip().rstrip("/")
        self.base_url = base
        self._client = httpx.AsyncClient(
            base_url=base, timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": USER_AGENT}, transport=transport, follow_redirects=False,
            verify=_ssl_context())

    # --- subclasses ---

    def auth_headers(self) -> dict[str, str]:
        return {}

    def name(self) -> str:
        return f"{self.config.name} ({self.base_url})" if self.base_url else self.config.name

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    # --- the call ---

    def _require_key(self) -> None:
        if not self._key:
            raise E.KeyMissing(f"{self.config.name} needs an API key. Add it in Settings → "
                               "AI providers (it is kept in your system keyring).")

    def _fail(self, exc: E.ProviderError) -> E.ProviderError:
        exc.args = (E.redact(str(exc), self._key),)
        return exc

    def _error_for(self, response: httpx.Response) -> E.ProviderError:
        msg = service_message(response, self._key).rstrip(".")
        status = response.status_code
        who = self.name()
        if status in (401, 403):
            return E.AuthFailed(f"{who} refused the key ({status}): {msg}. Check the key in "
                                "Settings → AI providers.")
        if status == 429:
            wait = _retry_after(response)
            hint = f" It asks to wait {wait:g} s." if wait is not None else ""
            return E.RateLimited(f"{who} is rate limiting requests (429): {msg}.{hint}", wait)
        if status >= 500:
            return E.ServiceFault(f"{who} failed on its side ({status}): {msg}.")
        if 300 <= status < 400:
            return E.BadResponse(f"{who} answered with a redirect ({status}); check the base URL.")
        return E.Refused(f"{who} refused the request ({status}): {msg}.", status)

    async def request(self, method: str, path: str, *, json_body: Any = None,
                      data: Mapping[str, Any] | None = None, files: Any = None,
                      params: Mapping[str, Any] | None = None, raw: bool = False,
                      headers: Mapping[str, str] | None = None, response: bool = False,
                      auth: bool = True) -> Any:
        """The answer's JSON value, its bytes (``raw``) or the whole ``httpx.Response``
        (``response``: status 2xx, body read).  ``auth=False`` leaves the key out (for a
        download from another host the service pointed to)."""
        attempt = 0
        want = "response" if response else "raw" if raw else "json"
        while True:
            try:
                return await self._once(method, path, json_body, data, files, params, want,
                                        headers, auth)
            except E.ProviderError as exc:
                if not exc.retryable or attempt >= self.retries:
                    raise
                wait = BACKOFF * (2 ** attempt)
                if isinstance(exc, E.RateLimited) and exc.retry_after is not None:
                    if exc.retry_after > MAX_RETRY_AFTER:
                        raise
                    wait = exc.retry_after
                attempt += 1
                log.info("%s: %s; retry %d of %d in %.1f s", self.config.name,
                         type(exc).__name__, attempt, self.retries, wait)
                await asyncio.sleep(wait)

    async def _once(self, method, path, json_body, data, files, params, want, headers,
                    auth=True) -> Any:
        all_headers = {**(self.auth_headers() if auth else {}), **(headers or {})}
        try:
            response = await self._client.request(method, path, json=json_body, data=data,
                                                  files=files, params=params,
                                                  headers=all_headers)
        except Exception as exc:  # noqa: BLE001 - mapped below, or raised as it is
            failure = self._transport_failure(exc)
            if failure is None:
                raise
        else:
            failure = None
        if failure is not None:
            # Raised outside the handler: no __context__ holding httpx's exception, whose
            # message may quote a header (the key) — even a suppressed context is reachable.
            raise self._fail(failure)
        if response.status_code >= 300:
            raise self._error_for(response)
        if want == "response":
            return response
        if want == "raw":
            return response.content
        try:
            return response.json()
        except ValueError:
            failure = E.BadResponse(
                f"{self.name()} sent an answer that is not valid JSON (truncated?).")
        raise self._fail(failure)

    def _transport_failure(self, exc: Exception) -> E.ProviderError | None:
        """Our error for a failure to send or to receive, None for anything else."""
        if isinstance(exc, UnicodeEncodeError):  # only the key can be non-ASCII in our headers
            return E.AuthFailed(f"The key of {self.config.name} contains characters that "
                                "cannot be sent (copied with quotes or spaces?). Paste it "
                                "again in Settings → AI providers.")
        if isinstance(exc, httpx.LocalProtocolError):  # e.g. a control character in the key
            return E.AuthFailed(f"The request to {self.name()} could not be sent: a header is "
                                "invalid (check the key in Settings → AI providers).")
        if isinstance(exc, httpx.RemoteProtocolError):
            if "message body" in str(exc):  # the headers came, the body was cut off
                return E.BadResponse(f"{self.name()} sent an answer that was cut off "
                                     "(truncated).")
            return E.Unreachable(f"{self.name()} closed the connection without answering.")
        if isinstance(exc, httpx.TimeoutException):
            return E.TimedOut(f"{self.name()} did not answer within {self.timeout:g} s.")
        if isinstance(exc, httpx.UnsupportedProtocol):
            return E.Unreachable(f"{self.config.name}: the base URL must start with http:// "
                                 "or https://.")
        if isinstance(exc, (httpx.TransportError, OSError)):
            reason = E.redact(str(exc).strip(), self._key) or type(exc).__name__
            return E.Unreachable(f"{self.name()} cannot be reached: {reason}.")
        return None

    def bad(self, what: str) -> E.BadResponse:
        return E.BadResponse(f"{self.name()} sent an unexpected answer: {what}.")

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- capabilities not offered (subclasses override what they do) ---

    def _unsupported(self, what: str) -> E.Unsupported:
        return E.Unsupported(f"{self.config.name} does not offer {what}.")

    async def test_connection(self) -> str:
        raise self._unsupported("a connection test")

    async def generate_text(self, messages: list[Message], *, max_tokens: int = 512,
                            temperature: float = 0.8) -> TextResult:
        raise self._unsupported("text generation")

    async def embed(self, texts: list[str]) -> EmbeddingResult:
        raise self._unsupported("embeddings")

    async def speak(self, text: str, voice_id: str,
                    settings: Mapping[str, Any] | None = None) -> SpeechResult:
        raise self._unsupported("speech")

    async def clone_voice(self, name: str, samples: list[tuple[str, bytes, str]],
                          description: str = "") -> VoiceResult:
        raise self._unsupported("voice cloning")

    async def generate_image(self, prompt: str, preset: ImagePreset) -> ImageResult:
        raise self._unsupported("image generation")
