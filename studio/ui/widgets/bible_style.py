"""The Style guide tab of the bible editor (``bible_editor.py``).

Four free-text fields that steer every generated illustration, narration and continuation.
The series' values show as placeholders: a field left empty here inherits them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.widgets.bible_fields import (
    CommitLine, CommitText, form_layout, form_row, mute, prune, put, section, series_placeholder,
)

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.widgets.bible_editor import BibleEditor


class StylePage(QWidget):
    FIELDS = (("genre", "Genre", "e.g. literary mystery", False),
              ("tone", "Tone", "e.g. quiet, salt-worn, tender under the dread", True),
              ("visual_style", "Visual style", "Palette, light, framing for illustrations…", True),
              ("narrative_style", "Narrative style", "Point of view, tense, rhythm…", True))

    def __init__(self, host: "BibleEditor"):
        super().__init__()
        self.host = host
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 8)
        form = form_layout()
        self.fields: dict[str, CommitLine | CommitText] = {}
        for key, label, placeholder, multi in self.FIELDS:
            field = CommitText(placeholder, 4) if multi else CommitLine(placeholder, 200)
            field.setObjectName(f"style_{key}")
            field.committed.connect(lambda t, k=key: self._set(k, t))
            self.fields[key] = field
            form_row(form, label, field)
        lay.addLayout(form)
        lay.addStretch(1)
        hint = QLabel("The style guide steers every generated illustration, narration and "
                      "continuation — keep it short and concrete.")
        hint.setWordWrap(True)
        mute(hint)
        form.addRow("", hint)

    def load(self) -> None:
        style = self.host.bible_data.get("style_guide") or {}
        series = self.host.inherited_data.get("style_guide") or {}
        for key, _label, placeholder, _multi in self.FIELDS:
            field = self.fields[key]
            field.load(style.get(key))
            field.setPlaceholderText(series_placeholder(placeholder, series.get(key)))
            field.setReadOnly(self.host.read_only)

    def _set(self, key: str, text: str) -> None:
        def mutate(bible: dict[str, Any]) -> None:
            put(section(bible, "style_guide"), key, text if text.strip() else "")
            prune(bible, "style_guide")
        self.host.commit(mutate)

    def flush(self) -> None:
        for field in self.fields.values():
            if field.pending():
                field.commit()
