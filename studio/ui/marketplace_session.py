"""The app's connection to a marketplace: who is signed in, the HTTP client, and the outbox
drainer running on the Qt loop (qasync).

Network calls are coroutines on the asyncio loop that qasync runs on top of Qt's, so the UI
never waits on the network; database work goes through the window's service runner (one worker
thread), awaited here as futures.  Tokens come from and go to the OS keyring only.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.services import marketplace_accounts as accounts
from studio.store.database import Database
from studio.ui.runner import ServiceRunner


class MarketplaceSession(QObject):
    statusChanged = Signal(object)  # studio.sync.outbox status
    signedInChanged = Signal(str)  # username, "" when signed out
    outboxChanged = Signal()

    def __init__(self, db: Database, runner: ServiceRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.server: accounts.ServerInfo | None = None
        self.status = None
        self._clients: dict[str, Any] = {}
        self._drainer = None
        self._drain_task: asyncio.Task | None = None

    # --- plumbing ---------------------------------------------------------------------------

    def run_db(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Run a service call on the runner thread; a future of its result on this loop."""
        return self.runner.future(fn, *args)

    @property
    def url(self) -> str:
        return self.server.url if self.server else accounts.DEFAULT_URL

    @property
    def username(self) -> str | None:
        return self.server.username if self.server else None

    def client(self, url: str | None = None):
        from studio.sync.client import MarketplaceClient
        from studio.sync.credentials import KeyringTokenSource

        url = url or self.url
        if url not in self._clients:
            username = self.username if url == self.url else None
            tokens = KeyringTokenSource(url, username) if username else None
            self._clients[url] = MarketplaceClient(url, tokens=tokens)
        return self._clients[url]

    def _forget_client(self, url: str) -> None:
        client = self._clients.pop(url, None)
        if client is not None:
            asyncio.ensure_future(client.aclose())

    # --- start, sign in, sign out ----------------------------------------------------------

    async def start(self) -> None:
        """Load the default server and start draining the outbox in the background."""
        self.server = await self.run_db(accounts.default_server, self.db)
        self.signedInChanged.emit(self.username or "")
        from studio.services.marketplace_ops import HANDLERS
        from studio.sync.operations import SENDERS
        from studio.sync.outbox import Handler, OutboxDrainer

        handlers = {kind: Handler(prepare, SENDERS[kind], complete)
                    for kind, (prepare, complete) in HANDLERS.items() if kind in SENDERS}
        self._drainer = OutboxDrainer(run_db=self.run_db, db=self.db,
                                      client_for=self.client, handlers=handlers,
                                      on_status=self._on_status)
        self._on_status(self._drainer.status)
        self._drain_task = asyncio.ensure_future(self._drainer.run_forever())

    def _on_status(self, status) -> None:
        self.status = status
        self.statusChanged.emit(status)
        self.outboxChanged.emit()

    def wake(self, retry_backoff: bool = False) -> None:
        """Drain now (``retry_backoff``: also when a failure's back-off has not ended)."""
        if self._drainer is not None:
            self._drainer.wake(retry_backoff=retry_backoff)

    async def sign_in(self, url: str, username: str, password: str, create: bool) -> None:
        from studio.sync.credentials import save_tokens

        server = await self.run_db(accounts.add_server, self.db, url, "", True)
        self._forget_client(server.url)
        from studio.sync.client import MarketplaceClient

        anonymous = MarketplaceClient(server.url)
        try:
            if create:
                await anonymous.register(username, password)
            tokens = await anonymous.login(username, password)
        finally:
            await anonymous.aclose()
        await self.run_db(save_tokens, server.url, username, tokens)
        self.server = await self.run_db(accounts.set_signed_in, self.db, server.url, username)
        self._forget_client(server.url)
        self.signedInChanged.emit(username)
        self.wake()

    async def sign_out(self) -> None:
        from studio.sync.credentials import delete_tokens

        if self.server is None or not self.username:
            return
        url, username = self.server.url, self.username
        try:
            await self.client(url).logout()
        except Exception:  # noqa: BLE001 - signing out locally must work offline too
            pass
        await self.run_db(delete_tokens, url, username)
        self.server = await self.run_db(accounts.set_signed_in, self.db, url, None)
        self._forget_client(url)
        self.signedInChanged.emit("")

    async def close(self) -> None:
        if self._drain_task is not None:
            self._drain_task.cancel()
        for url in list(self._clients):
            client = self._clients.pop(url)
            await client.aclose()
