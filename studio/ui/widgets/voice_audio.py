"""The Voices panel's one player and one recorder, on the Qt side of ``studio.ui.audio_io``.

``audio_io`` is plain Python whose calls can block for seconds (an audio server that does not
answer), whose callbacks arrive on the audio thread, and which reports what it is doing only
when polled.  This wrapper makes it fit a window:

- every blocking call (finding devices, opening the output or the microphone, closing it,
  the system voice speaking into a WAV) runs on one worker thread of its own — never on the
  UI thread, and never on the service runner, whose thread must stay free for saving;
- answers come back through queued signals, so slots run on the UI thread;
- a 10 Hz timer polls the play position, the recording's elapsed time and level while
  something plays or records (``tick``);
- there is one of each for the whole panel, so starting a sound stops the one before, in any
  tab (``playingChanged`` carries a key saying *what* plays, so each tab can show its own
  Play/Stop state).

No audio device is a normal state here: ``output_problem`` / ``capture_problem`` say why in a
sentence the tabs show next to their disabled buttons.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

PROBING = "Looking for audio devices…"
NO_TTS = ("This computer has no text-to-speech engine Story Studio can use, so the system "
          "voice cannot preview lines here; provider voices still work.")
TICK_MS = 100


class _Bridge(QObject):
    """Worker thread → UI thread (queued connections)."""

    probed = Signal(object, object, object)   # output problem, capture problem, tts problem
    started = Signal(str, float)              # key, duration
    finished = Signal(str, object)            # key, error text or None
    failed = Signal(str, object)              # key, exception
    recordStarted = Signal(object)            # exception or None
    recordStopped = Signal(object)            # WAV bytes, or an exception


def _tts_problem() -> str | None:
    """None when the system voice can speak; else the sentence ``system_tts`` gives."""
    try:
        from studio.providers import system_tts
    except ImportError:
        return NO_TTS
    try:
        return system_tts.available()
    except Exception as exc:  # noqa: BLE001 - an engine that fails to load is "none"
        return f"{NO_TTS} ({exc})"


class VoiceAudio(QObject):
    playingChanged = Signal(str)     # what plays now ("" when nothing does)
    devicesChanged = Signal()        # the problems below were (re)read
    recordingChanged = Signal(bool)
    recorded = Signal(bytes)         # a take, as WAV
    failed = Signal(str)             # a sentence: playing or recording did not work
    tick = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.output_problem: str | None = PROBING
        self.capture_problem: str | None = PROBING
        self._tts_problem: str | None = PROBING
        self.probed = False
        self.playing_key = ""
        self._current_key = ""  # what the player was last asked to play (worker thread)
        self.recording = False
        self._player = None
        self._recorder = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="voice-audio")
        self._bridge = _Bridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.probed.connect(self._on_probed, queued)
        self._bridge.started.connect(self._on_started, queued)
        self._bridge.finished.connect(self._on_finished, queued)
        self._bridge.failed.connect(self._on_failed, queued)
        self._bridge.recordStarted.connect(self._on_record_started, queued)
        self._bridge.recordStopped.connect(self._on_record_stopped, queued)
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._probing = False
        app = QCoreApplication.instance()
        if app is not None:  # a take or a sound in progress ends with the app
            app.aboutToQuit.connect(self.shutdown)

    # --- what works here ---

    def refresh_devices(self) -> None:
        """Look for speakers, a microphone and a system voice (on the worker thread)."""
        if self._probing:
            return
        self._probing = True
        bridge = self._bridge

        def probe() -> None:
            try:
                from studio.ui import audio_io

                out = audio_io.audio_problem("playback")
                cap = audio_io.audio_problem("capture")
            except Exception as exc:  # noqa: BLE001 - reported as the reason, never raised
                out = cap = f"Audio is not available: {exc}"
            tts = _tts_problem()
            try:
                bridge.probed.emit(out, cap, tts)
            except RuntimeError:  # the panel is gone
                pass

        self._pool.submit(probe)

    def _on_probed(self, out: str | None, cap: str | None, tts: str | None) -> None:
        self._probing = False
        self.probed = True
        self.output_problem, self.capture_problem, self._tts_problem = out, cap, tts
        self.devicesChanged.emit()

    def device_words(self) -> str:
        """One sentence about what cannot be done here ("" when everything works): the
        note beside the Record buttons."""
        out, cap = self.output_problem, self.capture_problem
        if out == PROBING or cap == PROBING:
            return PROBING
        if out and cap:
            return ("No audio device was found (no microphone, no speakers or headphones), so "
                    "recording and playing are not possible here. You can import WAV, FLAC, "
                    "Ogg Vorbis or MP3 files, and provider voices still render to files.")
        return cap or out or ""

    def tts_problem(self) -> str | None:
        """Why the system voice cannot preview here (None: it can)."""
        return self._tts_problem or self.output_problem

    # --- playing ---

    def _player_obj(self):
        if self._player is None:
            from studio.ui import audio_io

            self._player = audio_io.Player(on_finished=self._finished_cb)
        return self._player

    def _finished_cb(self, error: str | None) -> None:
        """On a worker thread of audio_io: hand over to the UI thread."""
        try:
            self._bridge.finished.emit(self._current_key, error)
        except RuntimeError:
            pass

    def play_file(self, path: Path | str, key: str) -> None:
        self._play(lambda player: player.play_file(path), key)

    def play_bytes(self, data: bytes, key: str, name: str = "") -> None:
        self._play(lambda player: player.play_bytes(data, name), key)

    def _play(self, start: Callable[[Any], None], key: str) -> None:
        if self.output_problem:
            self.failed.emit(self.output_problem)
            return
        bridge = self._bridge

        def work() -> None:
            try:
                player = self._player_obj()
                self._current_key = key
                start(player)
                bridge.started.emit(key, float(player.duration))
            except Exception as exc:  # noqa: BLE001 - shown to the author
                try:
                    bridge.failed.emit(key, exc)
                except RuntimeError:
                    pass

        self._pool.submit(work)

    def _on_started(self, key: str, _duration: float) -> None:
        self.playing_key = key
        self.playingChanged.emit(key)
        self._timer.start()

    def _on_finished(self, key: str, error: str | None) -> None:
        if key != self.playing_key:
            return  # an earlier sound, stopped because another started
        self.playing_key = ""
        self.playingChanged.emit("")
        if not self.recording:
            self._timer.stop()
        if error:
            self.failed.emit(str(error))

    def _on_failed(self, key: str, exc: BaseException) -> None:
        from studio.ui.widgets.voice_common import describe

        if key == self.playing_key:
            self.playing_key = ""
            self.playingChanged.emit("")
        self.failed.emit(describe(exc))

    def stop(self) -> None:
        """Stop playing (a no-op when nothing plays)."""
        if self._player is not None:
            self._player.stop()
        if self.playing_key:
            self.playing_key = ""
            self.playingChanged.emit("")

    def position(self) -> float:
        return float(self._player.position) if self._player is not None and \
            self.playing_key else 0.0

    def speak(self, text: str, params: Any = None,
              on_error: Callable[[BaseException], None] | None = None,
              key: str = "tts") -> None:
        """Say ``text`` with the system voice, shaped by a template's rate and pitch."""
        problem = self.tts_problem()
        if problem:
            self.failed.emit(problem)
            return
        bridge = self._bridge
        rate = float(getattr(params, "rate", 1.0) or 1.0)
        pitch = float(getattr(params, "pitch", 0.0) or 0.0)

        def work() -> None:
            try:
                from studio.providers import system_tts

                # Template values as they are: a speed factor and semitones.
                result = system_tts.speak_to_wav(text, rate=rate, pitch=pitch)
                data = result if isinstance(result, (bytes, bytearray)) else \
                    Path(result).read_bytes()
                player = self._player_obj()
                self._current_key = key
                player.play_bytes(bytes(data), "preview.wav")
                bridge.started.emit(key, float(player.duration))
            except Exception as exc:  # noqa: BLE001 - shown to the author
                try:
                    bridge.failed.emit(key, exc)
                except RuntimeError:
                    pass

        self._pool.submit(work)

    # --- recording ---

    def start_recording(self) -> None:
        if self.recording:
            return
        if self.capture_problem:
            self.failed.emit(self.capture_problem)
            return
        self.stop()
        bridge = self._bridge

        def work() -> None:
            try:
                from studio.ui import audio_io

                if self._recorder is None:
                    self._recorder = audio_io.Recorder()
                self._recorder.start()
                bridge.recordStarted.emit(None)
            except Exception as exc:  # noqa: BLE001 - shown to the author
                bridge.recordStarted.emit(exc)

        self._pool.submit(work)

    def _on_record_started(self, exc: BaseException | None) -> None:
        from studio.ui.widgets.voice_common import describe

        if exc is not None:
            self.failed.emit(describe(exc))
            return
        self.recording = True
        self.recordingChanged.emit(True)
        self._timer.start()

    def stop_recording(self) -> None:
        """Stop; the take arrives through ``recorded`` (or ``failed``)."""
        if not self.recording or self._recorder is None:
            return
        recorder, bridge = self._recorder, self._bridge

        def work() -> None:
            try:
                bridge.recordStopped.emit(recorder.stop())
            except Exception as exc:  # noqa: BLE001 - shown to the author
                bridge.recordStopped.emit(exc)

        self._pool.submit(work)

    def _on_record_stopped(self, result: Any) -> None:
        from studio.ui.widgets.voice_common import describe

        self.recording = False
        self.recordingChanged.emit(False)
        if not self.playing_key:
            self._timer.stop()
        if isinstance(result, BaseException):
            self.failed.emit(describe(result))
        else:
            self.recorded.emit(bytes(result))

    def elapsed(self) -> float:
        return float(self._recorder.elapsed) if self._recorder is not None and \
            self.recording else 0.0

    def level(self) -> float:
        return float(self._recorder.level) if self._recorder is not None and \
            self.recording else 0.0

    def _tick(self) -> None:
        if self.recording and self._recorder is not None and self._recorder.is_full:
            self.stop_recording()
        self.tick.emit()

    def shutdown(self) -> None:
        """Stop everything (the app closes)."""
        self.stop()
        if self.recording and self._recorder is not None:
            self._recorder.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
