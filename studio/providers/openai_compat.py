"""OpenAI-compatible text and embeddings: OpenAI itself and the local servers that speak its
API (Ollama ``http://localhost:11434/v1``, LM Studio ``http://localhost:1234/v1``, llama.cpp's
``llama-server``, vLLM…).

``POST /chat/completions`` for text, ``POST /embeddings`` for vectors, ``GET /models`` for the
connection test.  The key, when there is one, goes only in ``Authorization: Bearer``; local
servers need none.  Costs are estimated from the per-million-token prices the author entered
(0 by default, as for a local server); a server that reports no usage gets an estimate of
four characters a token.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import httpx

from studio.providers import errors as E
from studio.providers.base import (
    Capability, EmbeddingResult, Message, ProviderConfig, ProviderKind, Setting, TextResult,
    Usage,
)
from studio.providers.http import DEFAULT_RETRIES, HttpProvider, service_message

KIND_ID = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
EMBED_BATCH = 256  # inputs per /embeddings request (the API takes up to 2048)


def estimate_tokens(text: str) -> int:
    """About four characters a token (English prose); at least 1 for a non-empty text."""
    return math.ceil(len(text) / 4)


def as_count(value: Any) -> int | None:
    """A token count from a usage field, or None when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def error_code(response: httpx.Response) -> str:
    """OpenAI's ``error.code`` (or ``error.type``), '' when the body has none."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(error, Mapping):
        return ""
    return str(error.get("code") or error.get("type") or "")


def models_message(provider: HttpProvider, data: Any, model: str) -> str:
    """The connection test's message from a ``GET /models`` answer."""
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise provider.bad("the model list has no “data” array")
    ids = [str(item.get("id")) for item in items if isinstance(item, Mapping) and item.get("id")]
    count = f"{len(ids)} model{'s' if len(ids) != 1 else ''}"
    if not model:
        return f"Connected: {count} available."
    if model in ids:
        return f"Connected: {count} available, including “{model}”."
    return (f"Connected: {count} available, but “{model}” is not among them — check the "
            "model name (a local server lists only the models it has loaded or pulled).")


class OpenAICompatProvider(HttpProvider):
    """Chat completions and embeddings over the OpenAI wire format."""

    service = "the OpenAI-compatible server"

    def __init__(self, config: ProviderConfig, key: str | None,
                 transport: httpx.AsyncBaseTransport | None = None):
        if not config.get("base_url"):
            config = ProviderConfig(config.kind, config.name,
                                    {**config.settings, "base_url": DEFAULT_BASE_URL}, config.id)
        super().__init__(config, key, transport)
        self.model = str(config.get("model", "gpt-4o-mini"))
        self.embedding_model = str(config.get("embedding_model", "text-embedding-3-small"))

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _error_for(self, response: httpx.Response) -> E.ProviderError:
        if response.status_code == 429 and error_code(response) == "insufficient_quota":
            # Not a rate limit: waiting does not help, the account has no credit left.
            msg = service_message(response, self._key).rstrip(".")
            return E.Refused(f"{self.name()} says the account's quota is used up: {msg}.", 429)
        return super()._error_for(response)

    def _cost(self, input_tokens: int, output_tokens: int, input_price: str) -> float:
        return (input_tokens * self.config.number(input_price)
                + output_tokens * self.config.number("price_output_per_1m")) / 1e6

    # --- the calls ---

    async def test_connection(self) -> str:
        data = await self.request("GET", "/models")
        return models_message(self, data, self.model)

    async def _chat(self, body: dict[str, Any]) -> Any:
        """POST the chat, adapting once per parameter a newer model refuses (reasoning models
        want ``max_completion_tokens`` and only their default temperature)."""
        while True:  # each pass drops one parameter, so this ends
            try:
                return await self.request("POST", "/chat/completions", json_body=body)
            except E.Refused as exc:
                text = str(exc)
                if "max_tokens" in body and "max_completion_tokens" in text:
                    body["max_completion_tokens"] = body.pop("max_tokens")
                elif "temperature" in body and "temperature" in text and exc.status == 400:
                    body.pop("temperature")
                else:
                    raise

    async def generate_text(self, messages: Sequence[Message], *, max_tokens: int = 512,
                            temperature: float = 0.8) -> TextResult:
        body = {"model": self.model,
                "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
                "max_tokens": int(max_tokens), "temperature": float(temperature)}
        data = await self._chat(body)
        choices = data.get("choices") if isinstance(data, Mapping) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise self.bad("no “choices” in the chat answer")
        message = choices[0].get("message")
        if not isinstance(message, Mapping):
            raise self.bad("the first choice has no “message”")
        text = message.get("content")
        if text is None:
            refusal = message.get("refusal")
            if isinstance(refusal, str) and refusal.strip():
                raise E.Refused(f"{self.name()} declined: {E.redact(refusal, self._key)}", 200)
            text = ""
        if not isinstance(text, str):
            raise self.bad("the message content is not text")
        finish = choices[0].get("finish_reason")
        usage = data.get("usage") if isinstance(data.get("usage"), Mapping) else {}
        tokens_in = as_count(usage.get("prompt_tokens"))
        tokens_out = as_count(usage.get("completion_tokens"))
        if tokens_in is None:
            tokens_in = sum(estimate_tokens(str(m.get("content", ""))) for m in messages)
        if tokens_out is None:
            tokens_out = estimate_tokens(text)
        model = str(data.get("model") or self.model)
        return TextResult(text, Usage(Capability.TEXT.value, model, tokens_in, tokens_out,
                                      cost=self._cost(tokens_in, tokens_out,
                                                      "price_input_per_1m")),
                          finish_reason=str(finish or ""))

    async def embed(self, texts: Sequence[str]) -> EmbeddingResult:
        texts = list(texts)
        vectors: list[list[float]] = []
        tokens = 0
        model = self.embedding_model
        for start in range(0, len(texts), EMBED_BATCH):
            batch = texts[start:start + EMBED_BATCH]
            data = await self.request("POST", "/embeddings",
                                      json_body={"model": self.embedding_model, "input": batch})
            vectors.extend(self._vectors(data, len(batch)))
            usage = data.get("usage") if isinstance(data.get("usage"), Mapping) else {}
            used = as_count(usage.get("prompt_tokens"))
            tokens += used if used is not None else sum(map(estimate_tokens, batch))
            model = str(data.get("model") or model)
        price = ("price_embedding_per_1m" if self.config.get("price_embedding_per_1m")
                 not in (None, "") else "price_input_per_1m")
        return EmbeddingResult(vectors, Usage(Capability.EMBEDDINGS.value, model, tokens,
                                              cost=self._cost(tokens, 0, price)))

    def _vectors(self, data: Any, count: int) -> list[list[float]]:
        items = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            raise self.bad("no “data” array in the embeddings answer")
        if len(items) != count:
            raise self.bad(f"{len(items)} embeddings for {count} texts")
        found: dict[int, list[float]] = {}
        size = None
        for position, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise self.bad("an embedding entry is not an object")
            index = item.get("index", position)
            vector = item.get("embedding")
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count \
                    or index in found:
                raise self.bad(f"an embedding has a wrong index ({index!r})")
            if not isinstance(vector, list) or not vector or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    and math.isfinite(v) for v in vector):
                raise self.bad("an embedding is not a list of numbers")
            if size is not None and len(vector) != size:
                raise self.bad("the embeddings have different lengths")
            size = len(vector)
            found[index] = [float(v) for v in vector]
        return [found[i] for i in range(count)]


def _create(config: ProviderConfig, key: str | None) -> OpenAICompatProvider:
    return OpenAICompatProvider(config, key)


SETTINGS = (
    Setting("base_url", "Base URL", "url", DEFAULT_BASE_URL, required=True,
            help="The API root, ending in /v1. OpenAI: https://api.openai.com/v1 · Ollama: "
                 "http://localhost:11434/v1 · LM Studio: http://localhost:1234/v1 · "
                 "llama.cpp server: http://localhost:8080/v1"),
    Setting("model", "Model", "text", "gpt-4o-mini", required=True,
            help="The chat model, e.g. gpt-4o-mini, or a local model name such as llama3.1"),
    Setting("embedding_model", "Embedding model", "text", "text-embedding-3-small",
            help="e.g. text-embedding-3-small, or nomic-embed-text on Ollama"),
    Setting("price_input_per_1m", "Price per 1M input tokens", "number", 0,
            help="For the cost estimate; 0 for a local server"),
    Setting("price_output_per_1m", "Price per 1M output tokens", "number", 0,
            help="For the cost estimate; 0 for a local server"),
    Setting("price_embedding_per_1m", "Price per 1M embedding tokens", "number", "",
            help="Empty: the input token price is used"),
    Setting("timeout", "Timeout (seconds)", "number", 60,
            help="How long to wait for an answer (a local model on a CPU may need more)"),
    Setting("retries", "Retries", "int", DEFAULT_RETRIES,
            help="Retries after a timeout, a dropped connection, 429 or a 5xx error"),
)

KIND = ProviderKind(
    id=KIND_ID, label="OpenAI-compatible",
    capabilities=frozenset({Capability.TEXT, Capability.EMBEDDINGS}),
    settings=SETTINGS, create=_create, needs_key=True, key_optional=True,
    description="OpenAI, or a local server with the same API (Ollama, LM Studio, llama.cpp, "
                "vLLM): text generation and embeddings. Local servers need no key.")
