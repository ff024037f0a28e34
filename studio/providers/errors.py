"""What can go wrong when the studio asks an AI, voice or image service for something.

Every provider call raises one of these (never an ``httpx`` exception, never a ``KeyError`` from
a malformed answer), each with a message an author can act on.  Messages never contain the
key: ``redact`` is applied to everything that comes back from the wire before it is shown.
"""

from __future__ import annotations

from studio.domain.errors import StudioError


class ProviderError(StudioError):
    """A provider call failed; nothing was written (callers store results only on success)."""

    retryable = False


class KeyMissing(ProviderError):
    """The provider needs a key and none is in the keyring."""


class AuthFailed(ProviderError):
    """The service refused the key (401/403)."""


class Unreachable(ProviderError):
    """No answer: connection refused, DNS failure, TLS failure, connection dropped."""

    retryable = True


class TimedOut(ProviderError):
    """The service did not answer within the provider's timeout."""

    retryable = True


class RateLimited(ProviderError):
    """429: too many requests (``retry_after`` seconds, when the service said)."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceFault(ProviderError):
    """5xx: the service failed on its side."""

    retryable = True


class Refused(ProviderError):
    """Another 4xx: the request was refused (bad model name, text too long, quota…)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class BadResponse(ProviderError):
    """The answer was not what the API promises (not JSON, truncated, fields missing)."""


class Unsupported(ProviderError):
    """The provider does not offer that capability."""


class Cancelled(ProviderError):
    """The author cancelled the call."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (4+ characters) replaced, so keys never reach a message."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "•••")
    return text
