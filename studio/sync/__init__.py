"""The studio's side of the marketplace: HTTP client, outbox drainer, keyring credentials.

Qt-free and free of SQL of its own: the client speaks only ``/v1`` HTTP; the drainer reaches
the local database through ``studio.store.repositories.outbox`` in functions it runs off the
event loop; tokens live only in the OS keyring (``credentials``).
"""

from studio.sync.errors import (  # noqa: F401
    Cancelled, ConflictError, MarketplaceError, Offline, QuotaExceeded, Refused, ServerFault,
    SignInRequired,
)
