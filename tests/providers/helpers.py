"""Helpers of the provider tests: run one provider call on a fresh event loop."""

from __future__ import annotations

import asyncio
import traceback
from typing import Any, Awaitable, Callable

from studio.providers import registry
from studio.providers.base import Provider, ProviderConfig


def call(config: ProviderConfig, key: str | None,
         fn: Callable[[Provider], Awaitable[Any]]) -> Any:
    """``fn(provider)`` with a provider made from ``config`` (closed afterwards)."""
    async def go():
        provider = registry.create(config, key)
        try:
            return await fn(provider)
        finally:
            await provider.aclose()
    return asyncio.run(go())


def everything_said(exc: BaseException) -> str:
    """All an exception could show: the message, repr and args of it and of every exception
    chained to it (cause or context, even a suppressed one)."""
    said, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        said += [str(exc), repr(exc), *map(repr, exc.args),
                 *traceback.format_exception_only(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(said)
