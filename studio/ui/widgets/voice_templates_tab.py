"""The Voices panel's Templates tab: the voice modulation templates, new ones, successors,
hiding, the emotions the story's analysis found that no template voices yet, a spoken preview
and the marketplace.

Templates are shared reference data and **permanent** (narrations point at them), so the tab
offers no Delete: a template is superseded (a successor takes its place in the lists; the old
one keeps sounding the same wherever it is used) or hidden.  The note beside the table says so,
so the missing button reads as a rule and not as an oversight.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel, QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt, Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout,
    QHeaderView, QLabel, QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from studio.ui.dialogs.voice_template_dialog import VoiceTemplateDialog
from studio.ui.widgets.analysis_models import emotion_icon
from studio.ui.widgets.voice_common import (
    button, cap, describe, hint, ListTableModel, Note, VoiceHost,
)

Index = QModelIndex | QPersistentModelIndex
SOURCE_WORDS = {"builtin": "Built-in", "author": "Mine", "analysis": "From analysis",
                "marketplace": "Marketplace"}
PERMANENT_NOTE = ("Templates are permanent. Narrations point at them, so a template is never "
                  "deleted or changed in place: Supersede makes a successor that takes its "
                  "place in the lists (what already uses the old one keeps sounding the same), "
                  "and Hide takes one out of the lists.")
# What an author scans for first comes first; the numbers are also in the detail beside.
COLUMNS = ("Name", "Kind", "Emotion", "Source", "State", "Pitch", "Rate", "Volume", "Emphasis",
           "Stability", "Style")
NUMERIC = range(5, 11)


def state_words(t: Any, name_of: dict[str, str]) -> str:
    """"" for a current template (the usual case reads as nothing special)."""
    if t.superseded_by:
        return f"Superseded by {name_of.get(t.superseded_by, 'a newer template')}"
    return "Hidden" if t.hidden else ""


class TemplatesModel(ListTableModel):
    """The templates as rows; superseded and hidden ones are greyed."""

    columns = COLUMNS

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: dict[str, str] = {}

    def set_rows(self, rows: list) -> None:
        self._names = {t.uid: t.name for t in rows}  # before the views read the new rows
        super().set_rows(rows)

    def cell(self, t: Any, column: int) -> str:
        p = t.params
        return [t.name, cap(t.kind), cap(t.emotion) or "—",
                SOURCE_WORDS.get(t.source, cap(t.source)), state_words(t, self._names),
                f"{p.pitch:+.1f} st", f"{p.rate:.2f}x", f"{p.volume:.2f}x", cap(p.emphasis),
                f"{p.stability:.2f}", f"{p.style:.2f}"][column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(t, col)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return emotion_icon(t.emotion)
        if role == Qt.ItemDataRole.ForegroundRole and (t.hidden or t.superseded_by):
            return QColor("#8a8d91")
        if role == Qt.ItemDataRole.FontRole and (t.hidden or t.superseded_by) and col == 0:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return t.sample_line or None
        return None

    def row_of(self, uid: str) -> int:
        return next((i for i, t in enumerate(self.rows) if t.uid == uid), -1)


def table(model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(QFontMetrics(view.font()).height() + 12)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                | Qt.AlignmentFlag.AlignVCenter)
    return view


class ProposalsBox(QGroupBox):
    """Emotions the latest analysis found that no template voices, each with a button."""

    createRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("From analysis", parent)
        self.setObjectName("templateProposals")
        lay = QVBoxLayout(self)
        self.intro = hint("")
        lay.addWidget(self.intro)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(0, 1)
        lay.addLayout(self.grid)
        self.buttons: dict[str, QPushButton] = {}
        self.show_rows(None)

    def show_rows(self, rows: list[dict] | None) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons = {}
        if rows is None:
            self.intro.setText("Open a story to see the emotions its analysis found.")
            return
        message = str(getattr(rows, "message", "") or "")
        if not rows:
            self.intro.setText(message or "Every emotion the story's latest analysis found "
                               "has a template. (Analyse the story again after big changes.)")
            return
        self.intro.setText((message + " " if message else "") +
                           "The story's latest analysis found these emotions; no template "
                           "voices them yet.")
        for i, row in enumerate(rows):
            emotion = str(row.get("emotion") or "")
            scenes = int(row.get("scenes") or 0)
            example = str(row.get("example") or "")
            words = f"<b>{cap(emotion)}</b>"
            if scenes:
                words += f" · {scenes} scene{'s' if scenes != 1 else ''}"
            if example:
                words += f", e.g. “{_esc(example)}”"
            label = QLabel(words)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            self.grid.addWidget(label, i, 0)
            b = button("Create template", f"adopt_{emotion}",
                       f"A template for {emotion}, with starting values you can supersede "
                       "later", lambda e=emotion: self.createRequested.emit(e))
            self.buttons[emotion] = b
            self.grid.addWidget(b, i, 1)


class TemplatesTab(QWidget):
    def __init__(self, host: VoiceHost, audio: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.host = host
        self.audio = audio
        self.dialog: VoiceTemplateDialog | None = None
        self.market_dialog: Any = None
        self.marketplace_ok = False
        self._build()
        host.templatesChanged.connect(self._show_templates)

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.new_button = button("New…", "newTemplate", "Make a voice template of your own",
                                 self.new_template)
        self.supersede_button = button(
            "Supersede…", "supersedeTemplate",
            "Make a successor of the selected template (the original is kept as it is)",
            self.supersede_selected)
        self.hide_button = button("Hide", "hideTemplate",
                                  "Take the selected template out of the lists (or back in)",
                                  self.toggle_hidden)
        self.preview_button = button("Preview", "previewTemplate",
                                     "Hear the sample line with this computer's voice",
                                     self.preview_selected)
        self.share_button = button("Share to marketplace…", "shareTemplate",
                                   "Publish the selected template for other authors",
                                   self.share_selected)
        self.take_button = button("Take from marketplace…", "takeTemplate",
                                  "Add templates other authors shared", self.take_from_market)
        for b in (self.new_button, self.supersede_button, self.hide_button,
                  self.preview_button):
            bar.addWidget(b)
        bar.addSpacing(12)
        bar.addWidget(self.share_button)
        bar.addWidget(self.take_button)
        bar.addStretch(1)
        self.show_all = QCheckBox("Show hidden and superseded")
        self.show_all.setObjectName("showHiddenTemplates")
        self.show_all.toggled.connect(lambda _on: self._show_templates(self.host.templates))
        bar.addWidget(self.show_all)
        lay.addLayout(bar)
        self.note = Note("templatesNote")
        lay.addWidget(self.note)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.model = TemplatesModel(self)
        self.view = table(self.model, "templatesTable")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())
        self.view.doubleClicked.connect(lambda _i: self.supersede_selected())
        split.addWidget(self.view)

        side = QWidget()
        side.setMinimumWidth(280)
        side.setMaximumWidth(360)
        slay = QVBoxLayout(side)
        slay.setContentsMargins(8, 0, 0, 0)
        self.detail = QLabel()
        self.detail.setObjectName("templateDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        slay.addWidget(self.detail)
        self.preview_note = hint("", "previewNote")
        slay.addWidget(self.preview_note)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        slay.addWidget(line)
        self.permanent_note = hint(PERMANENT_NOTE, "permanentNote")
        slay.addWidget(self.permanent_note)
        self.proposals = ProposalsBox()
        self.proposals.createRequested.connect(self.adopt)
        slay.addWidget(self.proposals)
        slay.addStretch(1)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self._selected()

    # --- loading ---

    def refresh(self) -> None:
        """Templates (all of them: the check box filters locally) and the proposals."""
        from studio.services import voice_templates

        def both(db, story_id):
            templates = voice_templates.list_templates(db, include_hidden=True,
                                                       include_superseded=True)
            proposals = voice_templates.proposals(db, story_id) if story_id else None
            return templates, proposals

        self.marketplace_ok = self.host.marketplace() is not None and \
            hasattr(voice_templates, "publish_template")
        self.host.run(both, self.host.story_id, then=self._loaded, on_error=self.note.fail)

    def _loaded(self, answer: tuple) -> None:
        templates, proposals = answer
        self.host.set_templates(templates)  # → _show_templates
        self.proposals.show_rows(proposals if self.host.story_id else None)

    def _show_templates(self, templates: list) -> None:
        keep = self.selected()
        rows = list(templates) if self.show_all.isChecked() else \
            [t for t in templates if not t.hidden and not t.superseded_by]
        self.model.set_rows(rows)
        self.view.resizeColumnsToContents()
        at = self.model.row_of(keep.uid) if keep is not None else -1
        if at >= 0:
            self.view.selectionModel().setCurrentIndex(
                self.model.index(at, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        self._selected()

    def select(self, uid: str) -> None:
        at = self.model.row_of(uid)
        if at < 0 and not self.show_all.isChecked():
            self.show_all.setChecked(True)
            at = self.model.row_of(uid)
        if at >= 0:
            self.view.selectRow(at)
            self.view.scrollTo(self.model.index(at, 0))

    def selected(self) -> Any:
        index = self.view.currentIndex() if hasattr(self, "view") else QModelIndex()
        return self.model.rows[index.row()] if index.isValid() and \
            index.row() < len(self.model.rows) else None

    def _selected(self) -> None:
        t = self.selected()
        have_doc = self.host.document is not None
        self.new_button.setEnabled(have_doc)
        self.supersede_button.setEnabled(t is not None and not t.superseded_by)
        self.hide_button.setEnabled(t is not None)
        self.hide_button.setText("Show" if t is not None and t.hidden else "Hide")
        tts = self.audio.tts_problem() if self.audio is not None else "No audio"
        self.preview_button.setEnabled(t is not None and not tts)
        self.preview_note.setText(f"Preview is not available here: {tts}" if tts else "")
        self.preview_note.setVisible(bool(tts))
        self.share_button.setVisible(self.marketplace_ok)
        self.take_button.setVisible(self.marketplace_ok)
        self.share_button.setEnabled(t is not None and t.source not in ("builtin",
                                                                         "marketplace")
                                     and not t.superseded_by)
        if t is None:
            self.detail.setText("<p style='color:palette(placeholder-text)'>Select a template "
                                "to see how it sounds.</p>")
            return
        p = t.params
        line = t.sample_line or "(no sample line)"
        state = state_words(t, {x.uid: x.name for x in self.host.templates})
        self.detail.setText(
            f"<p style='font-size:13pt'><b>{_esc(t.name)}</b></p>"
            f"<p>{cap(t.kind)}{' · ' + cap(t.emotion) if t.emotion else ''} · "
            f"{SOURCE_WORDS.get(t.source, cap(t.source))}</p>"
            f"<p><i>{_esc(line)}</i></p>"
            f"<p>Pitch {p.pitch:+.1f} semitones, rate {p.rate:.2f}x, volume {p.volume:.2f}x, "
            f"{p.emphasis} emphasis; stability {p.stability:.2f}, style {p.style:.2f}, "
            f"similarity {p.similarity:.2f}.</p>"
            + (f"<p><b>{_esc(state)}.</b></p>" if state else ""))

    # --- actions ---

    def new_template(self, emotion: str = "") -> None:
        self._open_dialog(VoiceTemplateDialog(self, emotion=emotion))

    def supersede_selected(self) -> None:
        t = self.selected()
        if t is None:
            return
        if t.superseded_by:
            self.note.say(f"“{t.name}” is already superseded; supersede its successor.")
            return
        self._open_dialog(VoiceTemplateDialog(self, old=t))

    def _open_dialog(self, dialog: VoiceTemplateDialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._dialog_done(dialog))
        dialog.open()

    def _dialog_done(self, dialog: VoiceTemplateDialog) -> None:
        from studio.services import voice_templates

        v = dialog.values()
        if dialog.old is not None:
            old = dialog.old
            self.host.run(lambda db: voice_templates.supersede(
                db, old.uid, name=v["name"], params=v["params"],
                sample_line=v["sample_line"], emotion=v["emotion"]),
                then=lambda new: self._made(new, f"“{new.name}” now takes the place of "
                                                 f"“{old.name}”."),
                on_error=lambda exc: self._dialog_failed(dialog, exc))
        else:
            self.host.run(lambda db: voice_templates.create(
                db, v["name"], v["kind"], v["emotion"], v["params"], v["sample_line"]),
                then=lambda new: self._made(new, f"Template “{new.name}” created."),
                on_error=lambda exc: self._dialog_failed(dialog, exc))

    def _dialog_failed(self, dialog: VoiceTemplateDialog, exc: BaseException) -> None:
        """The service refused: the dialog comes back with what was typed and the reason."""
        dialog.show_problem(describe(exc))
        dialog.open()

    def _made(self, template: Any, words: str, select: bool = True) -> None:
        self.note.say(words)
        self.refresh()
        uid = getattr(template, "uid", None)
        if uid and select:
            self.host.run(lambda _db: None, then=lambda _r: self.select(uid))

    def toggle_hidden(self) -> None:
        from studio.services import voice_templates

        t = self.selected()
        if t is None:
            return
        hidden = not t.hidden
        self.host.run(voice_templates.hide, t.uid, hidden,
                      then=lambda _r: self._made(t, f"“{t.name}” is hidden from the lists "
                                                 "(Show hidden and superseded finds it)."
                                                 if hidden else f"“{t.name}” is shown again.",
                                                 select=not hidden),
                      on_error=self.note.fail)

    def adopt(self, emotion: str) -> None:
        from studio.services import voice_templates

        self.host.run(voice_templates.adopt, emotion,
                      then=lambda t: self._made(t, f"Template “{getattr(t, 'name', emotion)}” "
                                                   f"created for {emotion}; supersede it to "
                                                   "tune how it sounds."),
                      on_error=self.note.fail)

    def preview_selected(self) -> None:
        t = self.selected()
        if t is None or self.audio is None:
            return
        line = t.sample_line or f"This is how {t.name} sounds."
        self.audio.speak(line, t.params, on_error=self.note.fail)
        self.note.say(f"Speaking “{t.name}” with this computer's voice…")

    # --- marketplace ---

    def share_selected(self) -> None:
        """Queue the selected template for the marketplace (the outbox sends it)."""
        from studio.ui.dialogs.voice_market_dialogs import ShareTemplateDialog

        t = self.selected()
        session = self.host.marketplace()
        if t is None or session is None:
            return
        dialog = ShareTemplateDialog(t, session.url, self)
        self.market_dialog = dialog
        dialog.accepted.connect(lambda: self._share(t, session, dialog.values()))
        dialog.open()

    def _share(self, t: Any, session: Any, v: dict) -> None:
        from studio.services import voice_templates

        def queued(_entry: Any) -> None:
            self.note.say(f"“{t.name}” is queued for the marketplace; it goes out with the "
                          "next sync (the status bar shows the outbox).")
            wake = getattr(session, "wake", None)
            if wake is not None:
                wake()

        self.host.run(lambda db: voice_templates.publish_template(
            db, t.uid, session.url, v["licence"], description=v["description"],
            tags=v["tags"]), then=queued, on_error=self.note.fail)

    def take_from_market(self) -> None:
        from studio.ui.dialogs.voice_market_dialogs import TakeTemplateDialog

        session = self.host.marketplace()
        if session is None:
            return
        dialog = TakeTemplateDialog(session, self)
        self.market_dialog = dialog
        dialog.accepted.connect(lambda: self._take(session, dialog.chosen()))
        dialog.open()

    def _take(self, session: Any, remote_id: str | None) -> None:
        from studio.services import voice_templates

        doc = self.host.document
        if not remote_id or doc is None:
            return
        self.note.say("Taking the template from the marketplace…")
        self.host.start(voice_templates.take_from_marketplace(session, self.host.run_db,
                                                              doc.db, remote_id),
                        then=lambda t: self._made(t, f"“{t.name}” taken from the marketplace "
                                                     "and kept here for good."),
                        on_error=self.note.fail)


def _esc(text: str) -> str:
    import html

    return html.escape(str(text))

