"""The Voices panel: the story heard aloud.

Five tabs, each its own widget module so every file stays readable:

- **Templates** (``voice_templates_tab``): the voice modulation templates, permanent reference
  data (supersede or hide, never delete), new ones from the story's analysis, a preview in the
  system voice, the marketplace;
- **My samples** (``voice_samples_tab``): the author's recordings with their waveforms —
  import, record, play, trim, delete;
- **My emotion voices** (``emotion_voices_tab``): voices cloned from the samples by a voice
  provider — train, re-train, remove;
- **Narrations** (``narrations_tab``): per paragraph of the story, the voice and the emotion
  (undoable), preview, a resumable render, exports for studios;
- **Roleplay** (``roleplay_tab``): one character's dialogue lines, recorded or rendered.

The panel itself only wires them together: a ``VoiceHost`` (the runner, the open story, the
shared lists, the window's status bar) and one ``VoiceAudio`` (the only player and recorder, so
two things never play at once).  Templates, samples and emotion voices belong to the author, not
to the story; narrations and roleplays *refer to* the open story.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from studio.ui.panels.base import Panel
from studio.ui.widgets.emotion_voices_tab import EmotionVoicesTab
from studio.ui.widgets.narrations_tab import NarrationsTab
from studio.ui.widgets.roleplay_tab import RoleplayTab
from studio.ui.widgets.voice_audio import VoiceAudio
from studio.ui.widgets.voice_common import VoiceHost
from studio.ui.widgets.voice_samples_tab import SamplesTab
from studio.ui.widgets.voice_templates_tab import TemplatesTab


REPROBE_S = 30.0


class VoicePanel(Panel):
    title = "Voices"
    object_name = "voicePanel"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.host = VoiceHost(self)
        self.audio = VoiceAudio(self)
        self._probed_at = -REPROBE_S
        self._loaded_for: object = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("voiceTabs")
        self.tabs.setDocumentMode(True)
        self.templates = TemplatesTab(self.host, self.audio)
        self.samples = SamplesTab(self.host, self.audio)
        self.voices = EmotionVoicesTab(self.host, self.audio)
        self.narrations = NarrationsTab(self.host, self.audio)
        self.roleplay = RoleplayTab(self.host, self.audio)
        for tab, name in ((self.templates, "Templates"), (self.samples, "My samples"),
                          (self.voices, "My emotion voices"), (self.narrations, "Narrations"),
                          (self.roleplay, "Roleplay")):
            self.tabs.addTab(tab, name)
        lay.addWidget(self.tabs)
        self.narrate_action: QAction | None = None
        # Tabs read the store when they are first looked at after a story opened, not all
        # five at once for a panel the author may never open.
        self._stale: set[QWidget] = set()
        self.tabs.currentChanged.connect(lambda _i: self._refresh_shown())
        self.audio.failed.connect(self._audio_failed)

    def _refresh_shown(self) -> None:
        tab = self.tabs.currentWidget()
        if tab in self._stale and self.isVisible() and self.document is not None:
            self._stale.discard(tab)
            tab.refresh()

    def refresh(self) -> None:
        """Read every tab afresh when next shown (the one in view now)."""
        self._stale = {self.tabs.widget(i) for i in range(self.tabs.count())}
        self._refresh_shown()

    def _audio_failed(self, words: str) -> None:
        note = getattr(self.tabs.currentWidget(), "note", None)
        if note is not None and self.isVisible():
            note.say(words, error=True)

    def story_actions(self, window: QWidget) -> list[QAction]:
        """Story → Narrate Story: this panel, on its Narrations tab."""
        action = QAction("&Narrate Story", window)
        action.setObjectName("actNarrate")
        action.setToolTip("Choose voices for the story's paragraphs and render it as audio")
        action.triggered.connect(lambda: self._narrate_from_menu(window))
        action.setEnabled(self.document is not None)
        self.narrate_action = action
        return [action]

    def _narrate_from_menu(self, window: QWidget) -> None:
        show = getattr(window, "show_panel", None)
        if show is not None:
            show(self)
        self.tabs.setCurrentWidget(self.narrations)

    def set_document(self, document) -> None:
        self.audio.stop()
        self.narrations.stop_work()
        self.roleplay.stop_work()
        self.voices.stop_work()
        super().set_document(document)
        if self.narrate_action is not None:
            self.narrate_action.setEnabled(document is not None)

    def on_reloaded(self) -> None:
        """A story opened (or was restored): every tab reads afresh (the author's own lists
        too: a restore may have come with a new data folder's content)."""
        self.host.set_document(self.document)
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Devices come and go (a headset plugged in): look again when the panel is shown,
        # at most every half minute (on the audio worker, never on this thread).
        if time.monotonic() - self._probed_at > REPROBE_S:
            self._probed_at = time.monotonic()
            self.audio.refresh_devices()
        self._refresh_shown()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        self.audio.stop()
