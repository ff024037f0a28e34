"""Marketplace errors, each with a message an author understands as it is.

The client (``studio.sync.client``) turns every failure of an HTTP exchange into one of these:

========================  ====================================================================
``Offline``               nothing answered: no connection, DNS, timeout, the connection closed
                          mid-transfer.  Worth retrying later.
``SignInRequired``        401 after one automatic token refresh failed (or no sign-in at all).
``QuotaExceeded``         the server's 403 ``code: quota_exceeded`` (items or storage).
``ConflictError``         409: already done, taken, in use, nothing to fork…
``Refused``               any other 4xx, carrying the server's ``detail`` sentence.
``ServerFault``           5xx, or a body that is not the JSON expected.  Worth retrying later.
``Cancelled``             the caller stopped a download (its progress callback raised it).
========================  ====================================================================

Every class keeps what the server said (``status``, ``code``, ``detail``, ``body``) for code
that needs more than the message.
"""

from __future__ import annotations

from typing import Any

from studio.domain.errors import StudioError


class MarketplaceError(StudioError):
    """Base of every marketplace failure; ``str(exc)`` is fit to show to the author."""

    #: Whether trying the same request again later may succeed (the outbox backs off).
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, code: str = "",
                 detail: str = "", body: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body or {}


class Offline(MarketplaceError):
    retryable = True


class SignInRequired(MarketplaceError):
    pass


class QuotaExceeded(MarketplaceError):
    """Over a quota: ``quota`` is "items" or "storage"; ``limit`` and ``usage`` as the server
    counts them (items, or bytes)."""

    @property
    def quota(self) -> str | None:
        return self.body.get("quota")

    @property
    def limit(self) -> int | None:
        return self.body.get("limit")

    @property
    def usage(self) -> int | None:
        return self.body.get("usage")


class ConflictError(MarketplaceError):
    pass


class Refused(MarketplaceError):
    """A 4xx the author can act on: the message is the server's ``detail`` sentence.
    ``retry_after`` (seconds) is set for 429 Too Many Requests."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerFault(MarketplaceError):
    retryable = True


class Cancelled(MarketplaceError):
    pass
