"""Shared by the AI-provider UI tests: the qasync loop over pytest-qt's Qt loop, the fake
OpenAI server (a real HTTP subprocess, ``tests/providers/fakes.py``) and a way to point the
studio at it."""

from __future__ import annotations

from pathlib import Path


from studio.providers.base import Capability
from studio.services import providers as provider_service
from tests.providers.fakes import (  # noqa: F401  (fixtures)
    OPENAI_KEY, _openai_fake_server, openai_fake,
)

SHOTS = Path("/tmp/shots")




def use_fake_for_text(db, fake, name: str = "Fake OpenAI") -> int:
    """Configure the fake as an OpenAI-compatible provider (key in the keyring) and make it
    the default for text generation; its id."""
    settings = dict(fake.config(model="gpt-4o-mini").settings)
    config = provider_service.save_provider(db, "openai", name, settings, key=OPENAI_KEY)
    provider_service.set_default(db, Capability.TEXT.value, config.id)
    return config.id


def shot(widget, name: str) -> Path:
    """Save a picture of ``widget`` (after pending layout and show events) to look at."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    widget.grab().save(str(path))
    return path
