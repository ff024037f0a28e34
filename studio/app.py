"""Starting the desktop app: Qt, the database, the main window, the asyncio loop (qasync).

The database is opened before the window exists: a refusal (newer file, not a database, data
folder not writable) is shown in a dialog and the app exits with the file untouched.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def _qt_app():
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("StoryStudio")
    QCoreApplication.setApplicationName("Story Studio")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    return app


def settings_for(data_dir: Path):
    """Window state lives beside the database, so each data folder remembers its own layout."""
    from PySide6.QtCore import QSettings

    return QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)


def build_main_window(data_dir: Path):
    """Open the database (migrating it), import the sample on first run, build the window."""
    from studio.services import portability
    from studio.store.database import Database
    from studio.ui.main_window import MainWindow

    db = Database.open(data_dir)
    portability.ensure_sample_on_first_run(db)
    window = MainWindow(db, settings_for(data_dir))
    # Everything built so far (Qt, SQLAlchemy, Alembic, the window) lives as long as the app.
    # Freezing it keeps the garbage collector from walking ~100k objects on every full pass —
    # a 50 ms pause of the whole process, UI thread included, on this machine.
    gc.freeze()
    return window


def _smoke_analyser() -> bool:
    from studio.services import analysis_process

    content = {"manuscript": {"chapters": [{"id": "c1", "title": "One", "scenes": [
        {"id": "s1", "title": "A", "segments": [
            {"id": "g1", "text": "“We sail at dawn,” said Ada, smiling with joy."}]}]}]}}
    try:
        result = analysis_process.run(content)
    except Exception as exc:  # noqa: BLE001 — reported as a smoke failure
        print(f"smoke: analyser error: {exc}", flush=True)
        return False
    return result.get("words", 0) > 0 and bool(result.get("emotions"))


def _smoke_audio() -> bool:
    import math
    import struct

    from studio.formats import audio

    frames = b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(8000))
    try:
        return audio.inspect(audio.wav_bytes(frames, 8000, 1), "smoke.wav").duration > 0.9
    except Exception as exc:  # noqa: BLE001 — reported as a smoke failure
        print(f"smoke: audio error: {exc}", flush=True)
        return False


def _smoke_exports(db, story_id: int) -> bool:
    import tempfile

    from studio.services import format_io

    try:
        with tempfile.TemporaryDirectory() as folder:
            for fmt, ext in (("docx", "docx"), ("epub", "epub"), ("pdf", "pdf")):
                out = format_io.export(db, story_id, fmt, Path(folder) / f"smoke.{ext}")
                if out.stat().st_size < 1000:
                    return False
        return True
    except Exception as exc:  # noqa: BLE001 — reported as a smoke failure
        print(f"smoke: export error: {exc} ({exc.__cause__ or exc!r})", flush=True)
        return False


def run_app(data_dir: Path, smoke: bool = False, timing: bool = False) -> int:
    from studio.domain.errors import StudioError

    app = _qt_app()
    # A logout or `kill` while the window is still being built must not kill the process
    # half-way: remember it, and close the window the normal way once the loop runs.
    early_quit: list[int] = []
    catchable = hasattr(signal, "SIGTERM") and sys.platform != "win32"
    if catchable:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda number, _frame: early_quit.append(number))
    from studio.ui.theme import follow_system_theme

    follow_system_theme(app)
    t_qt = time.perf_counter()
    try:
        window = build_main_window(data_dir)
    except StudioError as exc:
        if smoke or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            raise
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Story Studio cannot open its database", str(exc))
        raise
    t_window = time.perf_counter()
    window.show()
    window.start()

    import qasync

    # One asyncio loop on top of Qt's, for the network work of later features (httpx).
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window.start_marketplace()  # runs once the loop does
    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    outcome = {"ok": True}

    async def smoke_check() -> None:
        """Wait on the real loop until the story is open, report, close the window."""
        deadline = time.perf_counter() + 20
        while window.document is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        t_open = time.perf_counter()
        outcome["ok"] = window.document is not None
        if timing:  # flushed now, so a benchmark can timestamp the moment the story is open
            print(f"qt_ready_ms={1000 * (t_qt - T0):.0f} window_built_ms="
                  f"{1000 * (t_window - T0):.0f} story_open_ms={1000 * (t_open - T0):.0f}",
                  flush=True)
        print(f"smoke: main window built, story open: {outcome['ok']}", flush=True)
        # The installer must carry the spelling dictionaries too (package data).
        from studio.services.spelling import get_speller

        spelling_ok = get_speller("en").is_correct("lighthouse")
        outcome["ok"] = outcome["ok"] and spelling_ok
        print(f"smoke: spelling dictionary: {'ok' if spelling_ok else 'MISSING'}", flush=True)
        # …and the marketplace client (httpx, keyring, the outbox): it starts with the loop.
        deadline = time.perf_counter() + 10
        while window.marketplace.status is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        client_ok = window.marketplace.status is not None
        outcome["ok"] = outcome["ok"] and client_ok
        print(f"smoke: marketplace client: {'ok' if client_ok else 'NOT STARTED'}", flush=True)
        # …the analyser's child process (multiprocessing in a frozen build) and its lexicon…
        analyser_ok = await asyncio.to_thread(_smoke_analyser)
        outcome["ok"] = outcome["ok"] and analyser_ok
        print(f"smoke: analyser (child process): {'ok' if analyser_ok else 'FAILED'}",
              flush=True)
        # …and audio decoding for voice samples (miniaudio's compiled module).
        audio_ok = _smoke_audio()
        outcome["ok"] = outcome["ok"] and audio_ok
        print(f"smoke: audio decoding: {'ok' if audio_ok else 'FAILED'}", flush=True)
        # …and the export formats' package data (python-docx's template, ebooklib, Qt's PDF).
        exports_ok = window.document is not None and _smoke_exports(window.db,
                                                                     window.document.story_id)
        outcome["ok"] = outcome["ok"] and exports_ok
        print(f"smoke: exports (docx, epub, pdf): {'ok' if exports_ok else 'FAILED'}",
              flush=True)
        window.close()

    async def main() -> None:
        if smoke:
            await smoke_check()
        else:
            await quit_event.wait()

    if catchable:
        # A logout or `kill` closes the window the normal way: pending edits are flushed.
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, window.close)
        if early_quit:
            loop.call_soon(window.close)

    try:
        with loop:
            loop.run_until_complete(main())
    finally:
        window.runner.shutdown()
        window.db.close()
    return 0 if outcome["ok"] else 1
