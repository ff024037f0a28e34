"""Real main windows on real data folders, offscreen."""

from __future__ import annotations

import pytest

from studio.app import build_main_window


@pytest.fixture
def make_window(qtbot, data_dir):
    made = []

    def make(wait_for_story: bool = True):
        window = build_main_window(data_dir)
        qtbot.addWidget(window)
        window.show()
        window.start()
        made.append(window)
        if wait_for_story:
            qtbot.waitUntil(lambda: window.document is not None, timeout=10_000)
        return window

    yield make
    for window in made:
        if window.isVisible():
            window.close()
        window.runner.shutdown()
        window.db.close()


def settle(qtbot, window, timeout: int = 10_000) -> None:
    """Wait until every queued save has landed and the status bar says so."""
    qtbot.waitUntil(lambda: window.runner.is_idle() and (
        window.document is None or window.document.state == "saved"), timeout=timeout)
