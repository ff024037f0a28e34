"""Playing and recording through the system's audio, for the Voice panel.

Plain Python over `miniaudio` (no Qt, so it is tested without a window): the panel wraps the
callbacks in signals.  Three things shape it:

- **No device is normal.**  A server, a CI runner, a laptop with the microphone switched off:
  :func:`audio_problem` says so in a sentence the panel shows, and :class:`Player` /
  :class:`Recorder` raise :class:`AudioDeviceError` with a message — never a crash.  miniaudio's
  *null* backend (and ALSA's ``null`` plug-in) "works" by discarding everything; they are not
  counted as devices, or the app would pretend to play into nothing.
- **Opening a device can block** (a PulseAudio server that does not answer): every open,
  listing and close runs on a short-lived worker thread and the caller waits at most
  ``timeout`` seconds.  Playback and capture themselves run on miniaudio's own audio thread.
- **Callbacks arrive on the audio thread**: they only copy data and set flags; anything the UI
  shows is read by polling (``elapsed``, ``level``, ``is_playing``) or via the ``on_finished``
  callback, which the panel must marshal to the UI thread (a queued signal).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import miniaudio

from studio.domain.errors import StudioError
from studio.formats import audio

T = TypeVar("T")
OPEN_TIMEOUT = 5.0
PLAY_RATE = 44100
RECORD_RATE = 44100
MAX_RECORD_SECONDS = 300.0  # 5 min of mono 16-bit 44.1 kHz ≈ 26 MB, under audio.MAX_BYTES
_NULL_DEVICE_PREFIX = "Discard all samples"  # ALSA's "null" PCM: not a real device
_NOT_DEVICES = {miniaudio.Backend.NULL, miniaudio.Backend.CUSTOM}
FALLBACK_NOTE = "You can still import audio files, and provider voices still work."


class AudioDeviceError(StudioError):
    """No audio device, a busy one, or an audio system that does not answer."""


def real_backends() -> list[miniaudio.Backend]:
    """The compiled-in backends that talk to hardware (not the silent null one)."""
    return [b for b in miniaudio.get_enabled_backends() if b not in _NOT_DEVICES]


def _off_thread(fn: Callable[[], T], timeout: float, what: str,
                late: Callable[[T], None] | None = None) -> T:
    """Run ``fn`` on a daemon thread; wait at most ``timeout`` s.  A result that arrives after
    the caller gave up is passed to ``late`` (to close a device nobody will use)."""
    box: dict[str, Any] = {}
    lock = threading.Lock()

    def run() -> None:
        try:
            value = fn()
        except BaseException as exc:  # reported to the caller below
            with lock:
                box["error"] = exc
            return
        with lock:
            if box.get("abandoned"):
                if late is not None:
                    late(value)
                return
            box["value"] = value

    thread = threading.Thread(target=run, name=f"audio: {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    with lock:
        if "error" in box:
            raise box["error"]
        if "value" in box:
            return box["value"]
        box["abandoned"] = True
    raise AudioDeviceError(f"The audio system did not answer within {timeout:g} s while "
                           f"{what}. Check the sound settings, then try again. {FALLBACK_NOTE}")


def _device_names(infos: list[dict[str, Any]]) -> list[str]:
    names = []
    for info in infos:
        name = str(info.get("name", "")).strip()
        if name and not name.startswith(_NULL_DEVICE_PREFIX) and name not in names:
            names.append(name)
    return names


def audio_devices(timeout: float = OPEN_TIMEOUT) -> tuple[list[str], list[str]]:
    """(playback device names, capture device names); both empty when there is no audio
    system at all or it does not answer."""
    backends = real_backends()
    if not backends:
        return [], []

    def listing() -> tuple[list[str], list[str]]:
        devices = miniaudio.Devices(backends=backends)
        return _device_names(devices.get_playbacks()), _device_names(devices.get_captures())

    try:
        return _off_thread(listing, timeout, "listing audio devices")
    except (miniaudio.MiniaudioError, AudioDeviceError):
        return [], []


def audio_problem(kind: str = "both", timeout: float = OPEN_TIMEOUT) -> str | None:
    """None when audio can be played (``"playback"``), recorded (``"capture"``) or both;
    otherwise a sentence for the panel saying what is missing and what still works."""
    if kind not in ("both", "playback", "capture"):
        raise ValueError(f"kind must be both, playback or capture, not {kind!r}")
    if not real_backends():
        return ("This build of the audio library has no sound system to talk to, so Story "
                f"Studio cannot play or record here. {FALLBACK_NOTE}")
    playback, capture = audio_devices(timeout)
    no_out = kind in ("both", "playback") and not playback
    no_in = kind in ("both", "capture") and not capture
    if no_out and no_in:
        return ("No audio device was found (no speakers or headphones, no microphone), so "
                f"Story Studio cannot play or record here. {FALLBACK_NOTE}")
    if no_out:
        return ("No speakers or headphones were found, so audio cannot be played here. "
                "Provider voices still render to files you can play elsewhere.")
    if no_in:
        return ("No microphone was found, so recording is not possible here. You can import "
                "WAV, FLAC, Ogg Vorbis or MP3 files instead.")
    return None


def _open_error(exc: Exception, what: str) -> AudioDeviceError:
    detail = exc.args[0] if exc.args else str(exc)
    return AudioDeviceError(
        f"The {what} could not be opened ({detail}): there may be none, another app may be "
        f"using it, or access was refused. {FALLBACK_NOTE}")


def _close_quietly(device: miniaudio.AbstractDevice | None) -> None:
    if device is not None:
        try:
            device.close()
        except Exception:  # closing a device that already failed: nothing left to do
            pass


class _Playback:
    """The state of one sound being played (a new play gets a new one, so a late callback of
    the previous sound cannot touch the current sound's state)."""

    def __init__(self, duration: float):
        self.duration = duration
        self.done = threading.Event()
        self.stopped = False
        self.frames = 0
        self.error: str | None = None


class Player:
    """Plays one sound at a time; playing another stops the first.

    ``on_finished(error)`` is called on a worker thread when a sound ends, is stopped, or
    fails (not when another sound replaced it); ``error`` is None unless something went
    wrong mid-way."""

    def __init__(self, on_finished: Callable[[str | None], None] | None = None, *,
                 backends: list[miniaudio.Backend] | None = None,
                 timeout: float = OPEN_TIMEOUT):
        self.on_finished = on_finished
        self._backends = backends if backends is not None else real_backends()
        self._timeout = timeout
        self._current = _Playback(0.0)
        self._current.done.set()

    @property
    def is_playing(self) -> bool:
        return not self._current.done.is_set()

    @property
    def position(self) -> float:
        """Seconds played of the current (or last) sound."""
        return self._current.frames / PLAY_RATE

    @property
    def duration(self) -> float:
        return self._current.duration

    @property
    def error(self) -> str | None:
        """Why the last sound stopped early, if it did."""
        return self._current.error

    def play_bytes(self, data: bytes, name: str = "") -> None:
        """Play a WAV/FLAC/OGG/MP3 in memory.  Its header is checked first (AudioFormatError
        for a bad file); no device → AudioDeviceError.  Returns once playing has started."""
        info = audio.probe(data, name)
        self._start(lambda: miniaudio.stream_memory(
            data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=2,
            sample_rate=PLAY_RATE), info.duration)

    def play_file(self, path: str | os.PathLike[str]) -> None:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StudioError(f"“{path}” cannot be read: {exc.strerror or exc}.") from exc
        self.play_bytes(data, path.name)

    @staticmethod
    def _feed(source: Any, state: _Playback):
        """What the device pulls from: the decoder's frames until the end or a stop.  Errors
        become ``state.error`` — an exception here would land in the audio thread."""
        frames = yield b""
        try:
            while not state.done.is_set():
                chunk = source.send(frames)
                state.frames += len(chunk) // 2
                frames = yield chunk
        except StopIteration:
            pass
        except Exception as exc:
            state.error = f"Playing stopped part-way: the audio could not be decoded ({exc})."
        finally:
            state.done.set()

    def _start(self, make_stream: Callable[[], Any], duration: float) -> None:
        self.stop()
        if not self._backends:
            raise AudioDeviceError(audio_problem("playback") or "No audio output is available.")
        state = _Playback(duration)

        def open_and_start() -> miniaudio.PlaybackDevice:
            device = miniaudio.PlaybackDevice(
                output_format=miniaudio.SampleFormat.SIGNED16, nchannels=2,
                sample_rate=PLAY_RATE, backends=self._backends, app_name="Story Studio")
            try:
                feed = self._feed(make_stream(), state)
                next(feed)
                device.start(feed)
            except BaseException:
                _close_quietly(device)
                raise
            return device

        try:
            device = _off_thread(open_and_start, self._timeout, "opening the audio output",
                                 late=_close_quietly)
        except miniaudio.MiniaudioError as exc:
            raise _open_error(exc, "audio output") from None
        self._current = state
        threading.Thread(target=self._close_when_done, args=(device, state),
                         name="audio: player", daemon=True).start()

    def _close_when_done(self, device: miniaudio.PlaybackDevice, state: _Playback) -> None:
        # The feed ends on the audio thread, which cannot close its own device.
        state.done.wait()
        if not state.stopped:
            time.sleep(0.25)  # let the device play out what it already holds
        _close_quietly(device)
        # A sound replaced by a newer one reports nothing: its "finished" would otherwise
        # arrive after the new sound started and look like the new sound's end.
        if self.on_finished is not None and self._current is state:
            self.on_finished(state.error)

    def stop(self) -> None:
        """Stop now (a no-op when nothing plays); the device is closed on its worker."""
        self._current.stopped = True
        self._current.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the sound ends (for scripts and tests); True if it ended."""
        return self._current.done.wait(timeout)


class Recorder:
    """Records the default microphone into memory as 16-bit PCM (mono by default).

    Poll ``elapsed`` and ``level`` (0.0–1.0, the last block's peak) for the timer and meter;
    at ``max_seconds`` it stops keeping audio and ``is_full`` turns True."""

    def __init__(self, sample_rate: int = RECORD_RATE, channels: int = 1,
                 max_seconds: float = MAX_RECORD_SECONDS, *,
                 backends: list[miniaudio.Backend] | None = None,
                 timeout: float = OPEN_TIMEOUT):
        if not 8000 <= sample_rate <= 192000 or channels not in (1, 2) or max_seconds <= 0:
            raise ValueError("a recording needs 8–192 kHz, 1 or 2 channels and a time limit")
        self.sample_rate = sample_rate
        self.channels = channels
        self.max_frames = int(max_seconds * sample_rate)
        self._backends = backends if backends is not None else real_backends()
        self._timeout = timeout
        self._device: miniaudio.CaptureDevice | None = None
        self._chunks: list[bytes] = []
        self._frames = 0
        self._level = 0.0
        self._lock = threading.Lock()

    @property
    def is_recording(self) -> bool:
        return self._device is not None

    @property
    def is_full(self) -> bool:
        return self._frames >= self.max_frames

    @property
    def elapsed(self) -> float:
        return self._frames / self.sample_rate

    @property
    def level(self) -> float:
        return self._level

    def _sink(self):
        frame_bytes = 2 * self.channels
        while True:
            data = yield
            if not data:
                continue
            room = (self.max_frames - self._frames) * frame_bytes
            block = bytes(data[:max(0, room)])
            self._level = audio.pcm16_level(data)
            if block:
                with self._lock:
                    self._chunks.append(block)
                    self._frames += len(block) // frame_bytes

    def start(self) -> None:
        """Open the microphone and start recording (any previous take is discarded).
        No microphone, a busy one, or refused access → AudioDeviceError."""
        if self._device is not None:
            raise AudioDeviceError("Already recording: stop the current take first.")
        if not self._backends:
            raise AudioDeviceError(audio_problem("capture") or "No microphone is available.")
        self._chunks, self._frames, self._level = [], 0, 0.0

        def open_and_start() -> miniaudio.CaptureDevice:
            device = miniaudio.CaptureDevice(
                input_format=miniaudio.SampleFormat.SIGNED16, nchannels=self.channels,
                sample_rate=self.sample_rate, backends=self._backends,
                app_name="Story Studio")
            try:
                sink = self._sink()
                next(sink)
                device.start(sink)
            except BaseException:
                _close_quietly(device)
                raise
            return device

        try:
            self._device = _off_thread(open_and_start, self._timeout, "opening the microphone",
                                       late=_close_quietly)
        except miniaudio.MiniaudioError as exc:
            raise _open_error(exc, "microphone") from None

    def stop(self) -> bytes:
        """Stop and return the take as WAV bytes (a WAV of no frames if nothing came in,
        which importing refuses with a clear message)."""
        device, self._device = self._device, None
        if device is not None:
            try:
                _off_thread(lambda: _close_quietly(device), self._timeout,
                            "closing the microphone")
            except AudioDeviceError:
                pass  # the worker closes it when the audio system answers; the take is ours
        with self._lock:
            raw = b"".join(self._chunks)
        self._level = 0.0
        return audio.wav_bytes(raw, self.sample_rate, self.channels)
