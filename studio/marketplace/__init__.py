"""The Story Studio marketplace: a FastAPI app (``create_app``) with its own database.

It shares only ``studio.domain`` with the desktop app; the desktop knows it through HTTP.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(settings=None):  # lazy import: the CLI and tests import this package cheaply
    from studio.marketplace.app import create_app as _create_app

    return _create_app(settings)
