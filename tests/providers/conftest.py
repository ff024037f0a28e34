"""Fixtures of the provider tests: the fake services (``fakes.py``) and fast retries."""

from __future__ import annotations

import pytest

from studio.providers import http
from tests.providers.fakes import (  # noqa: F401  (fixtures)
    _a1111_fake_server, _elevenlabs_fake_server, _openai_fake_server, a1111_fake,
    elevenlabs_fake, openai_fake, openai_images_fake,
)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Retries wait 20 ms, 40 ms… instead of half a second and more."""
    monkeypatch.setattr(http, "BACKOFF", 0.02)
