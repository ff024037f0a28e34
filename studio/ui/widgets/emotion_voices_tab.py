"""The Voices panel's My emotion voices tab: voices cloned from the author's samples by a
voice provider, one per emotion, with their training status; train, re-train, remove.

Training is a network call that may take a while and may fail for reasons the author can fix
(a sample too short, the quota used up, a wrong key).  The service stores the voice as
"training" first, so the list shows it at once; the tab then shows it ready with the
provider's voice id, or failed with the provider's own message.  With no voice provider set up
the tab says how to add one, with a button that opens the providers dialog.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QVBoxLayout, QWidget,
)

from studio.ui.dialogs.train_voice_dialog import TrainVoiceDialog
from studio.ui.timefmt import relative_time
from studio.ui.widgets.analysis_models import emotion_icon
from studio.ui.widgets.voice_common import (
    VOICE_HOW_TO, button, cap, describe, hint, ListTableModel, Note, VoiceHost,
)

from studio.ui.widgets.voice_samples_tab import aware
from studio.ui.widgets.voice_templates_tab import table

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Voice", "Emotion", "Status", "Provider", "Provider voice id", "Samples", "Updated",
           "Problem")
STATUS_COLOUR = {"training": "#b7791f", "ready": "#2f855a", "failed": "#b3261e"}
STATUS_WORDS = {"training": "Training…", "ready": "Ready", "failed": "Failed"}


class VoicesModel(ListTableModel):
    columns = COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        v = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [v.name, cap(v.emotion), STATUS_WORDS.get(v.status, cap(v.status)),
                    v.provider_name or "—", v.provider_voice_id or "—",
                    str(len(v.sample_uids)),
                    relative_time(aware(v.updated_at)) if v.updated_at else "",
                    v.error if v.status == "failed" else ""][col]
        if role == Qt.ItemDataRole.ForegroundRole and col in (2, 7):
            return QColor(STATUS_COLOUR.get(v.status, "#666666"))
        if role == Qt.ItemDataRole.DecorationRole and col == 1:
            return emotion_icon(v.emotion)
        if role == Qt.ItemDataRole.ToolTipRole and v.error:
            return v.error
        return None

    def row_of(self, uid: str) -> int:
        return next((i for i, v in enumerate(self.rows) if v.uid == uid), -1)


class EmotionVoicesTab(QWidget):
    def __init__(self, host: VoiceHost, audio: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.host = host
        self.audio = audio
        self.dialog: TrainVoiceDialog | None = None
        self.tasks: dict[str, asyncio.Task] = {}
        self.has_provider: bool | None = None
        self._build()
        host.voicesChanged.connect(self._show_voices)
        # While a voice trains, the list is read again now and then (the row is stored first).
        self._poll = QTimer(self, interval=700)
        self._poll.timeout.connect(self.refresh)

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.train_button = button("Train…", "trainVoice",
                                   "Clone a voice for an emotion from your samples",
                                   self.train_new)
        self.retrain_button = button("Re-train", "retrainVoice",
                                     "Train the selected voice again with its samples",
                                     self.retrain_selected)
        self.remove_button = button("Remove", "removeVoice",
                                    "Remove the selected voice from Story Studio",
                                    self.remove_selected)
        for b in (self.train_button, self.retrain_button, self.remove_button):
            bar.addWidget(b)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.note = Note("voicesNote")
        lay.addWidget(self.note)

        self.how_to = QFrame()
        self.how_to.setObjectName("voiceHowTo")
        self.how_to.setFrameShape(QFrame.Shape.StyledPanel)
        hlay = QVBoxLayout(self.how_to)
        text = QLabel(VOICE_HOW_TO)
        text.setWordWrap(True)
        hlay.addWidget(text)
        row = QHBoxLayout()
        self.providers_button = button("Open AI providers…", "openVoiceProviders",
                                       "Settings, AI providers (Ctrl+Alt+P)",
                                       self.host.show_providers)
        row.addWidget(self.providers_button)
        row.addStretch(1)
        hlay.addLayout(row)
        self.how_to.hide()
        lay.addWidget(self.how_to)

        self.model = VoicesModel(self)
        self.view = table(self.model, "voicesTable")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())
        lay.addWidget(self.view, 1)
        self.empty = hint("No emotion voices yet. Record or import a few samples in an "
                          "emotion (My samples), then Train… makes a voice from them that "
                          "narrations can use for that emotion.", "voicesEmpty")
        lay.addWidget(self.empty)
        self.detail = QLabel()
        self.detail.setObjectName("voiceDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.detail)
        self._selected()

    # --- loading ---

    def refresh(self) -> None:
        from studio.providers.base import Capability
        from studio.services import emotion_voices
        from studio.services import providers as provider_service

        def both(db):
            found = provider_service.provider_for(db, Capability.VOICE_CLONE.value)
            return emotion_voices.list_voices(db), bool(found and found[0].id)

        self.host.run(both, then=self._loaded, on_error=self.note.fail)

    def _loaded(self, answer: tuple) -> None:
        voices, has_provider = answer
        self.has_provider = has_provider
        self.how_to.setVisible(not has_provider)
        self.host.set_voices(voices)  # → _show_voices
        if not self.tasks:
            self._poll.stop()

    def _show_voices(self, voices: list) -> None:
        keep = self.selected()
        self.model.set_rows(voices)
        at = self.model.row_of(keep.uid) if keep is not None else -1
        if at < 0 and voices:
            at = 0
        if at >= 0:
            self.view.selectRow(at)
        self.empty.setVisible(not voices)
        self._selected()

    def selected(self) -> Any:
        index = self.view.currentIndex() if hasattr(self, "view") else QModelIndex()
        return self.model.rows[index.row()] if index.isValid() and \
            index.row() < len(self.model.rows) else None

    def _selected(self) -> None:
        v = self.selected()
        busy = v is not None and (v.uid in self.tasks or v.status == "training")
        self.train_button.setEnabled(self.host.document is not None)
        self.retrain_button.setEnabled(v is not None and not busy)
        self.remove_button.setEnabled(v is not None and not busy)
        if v is None:
            self.detail.setText("")
            return
        words = f"<b>{_esc(v.name)}</b> voices {_esc(v.emotion)}. "
        if v.status == "ready":
            words += (f"Ready: {_esc(v.provider_name or 'the provider')} voice id "
                      f"<code>{_esc(v.provider_voice_id or '')}</code>. Narrations with the "
                      "voice type “my emotion voices” use it for this emotion.")
        elif v.status == "training":
            words += "Training with the voice provider…"
        else:
            words += (f"<span style='color:#b3261e'>Training failed: {_esc(v.error)}</span> "
                      "Fix what it says, then Re-train.")
        self.detail.setText(words)

    # --- training ---

    def train_new(self) -> None:
        from studio.services import voice_samples

        self.host.run(voice_samples.list_samples, then=self._open_train,
                      on_error=self.note.fail)

    def _open_train(self, samples: list) -> None:
        if not samples:
            self.note.say("Import or record a sample first (My samples): a voice is cloned "
                          "from your own recordings.", error=True)
            return
        dialog = TrainVoiceDialog(self.host.templates, samples, self)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._train(dialog.values()))
        dialog.open()

    def _train(self, v: dict) -> None:
        from studio.services import emotion_voices

        doc = self.host.document
        if doc is None:
            return
        key = f"new:{v['name']}"
        coro = emotion_voices.train(self.host.run_db, doc.db, v["name"], v["emotion"],
                                    v["sample_uids"], v["template_uid"])
        self._start(key, coro, f"Training “{v['name']}” with the voice provider…")

    def retrain_selected(self) -> None:
        from studio.services import emotion_voices

        v = self.selected()
        doc = self.host.document
        if v is None or doc is None:
            return
        coro = emotion_voices.retrain(self.host.run_db, doc.db, v.uid)
        self._start(v.uid, coro, f"Training “{v.name}” again…")

    def _start(self, key: str, coro: Any, words: str) -> None:
        task = self.host.start(coro, then=lambda info: self._trained(key, info),
                               on_error=lambda exc: self._failed(key, exc),
                               on_cancel=lambda: self._failed(key, None))
        if task is None:
            return
        self.tasks[key] = task
        self.note.say(words)
        self._poll.start()
        QTimer.singleShot(150, self.refresh)  # the "training" row, at once
        self._selected()

    def _trained(self, key: str, info: Any) -> None:
        self.tasks.pop(key, None)
        if getattr(info, "status", "") == "ready":
            self.note.say(f"“{info.name}” is ready: provider voice id "
                          f"{info.provider_voice_id}.")
        else:
            self.note.say(f"Training “{getattr(info, 'name', '')}” failed: "
                          f"{getattr(info, 'error', '')}", error=True)
        self.refresh()

    def _failed(self, key: str, exc: BaseException | None) -> None:
        self.tasks.pop(key, None)
        if exc is None:
            self.note.say("Training cancelled.")
        else:
            self.note.say(describe(exc), error=True)
        self.refresh()

    def stop_work(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()

    # --- removing ---

    def remove_selected(self) -> None:
        v = self.selected()
        if v is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Remove voice",
                          f"Remove “{v.name}” from Story Studio? Narrations that use it go "
                          f"back to their suggested voices. The copy at "
                          f"{v.provider_name or 'the provider'} is not deleted (remove it "
                          "there too if you want it gone).",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setObjectName("removeVoiceQuestion")
        box.button(QMessageBox.StandardButton.Yes).setText("Remove")
        self.last_question = box
        box.finished.connect(lambda r: self._remove(v) if r == QMessageBox.StandardButton.Yes
                             else None)
        box.open()

    def _remove(self, v: Any) -> None:
        from studio.services import emotion_voices

        self.host.run(emotion_voices.remove, v.uid,
                      then=lambda _r: (self.note.say(f"“{v.name}” removed."), self.refresh()),
                      on_error=self.note.fail)


def _esc(text: Any) -> str:
    import html

    return html.escape(str(text or ""))
