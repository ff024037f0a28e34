"""Guards against a broken Qt binding release that would crash authors mid-sentence.

PySide6 6.12.0 on CPython 3.11 loses one reference to ``None`` on every Qt call that returns
``void`` (and to ``True``/``False`` on bool results); after some hundred keystrokes ``None``'s
count reaches zero and Python aborts.  pyproject excludes that release; this test fails if the
installed binding has the same fault.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    fired = Signal(int)


def test_void_qt_calls_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText(str(i % 3))
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references in 2000 setText calls"


def test_signal_emit_keeps_bools_alive(qtbot):
    emitter = _Emitter()
    got = []
    emitter.fired.connect(got.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(2000):
        emitter.fired.emit(i)
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert len(got) == 2000
    assert after[0] >= before[0] - 50 and after[1] >= before[1] - 50
