"""The Analysis panel's reading tabs: Overview, Insights and Summaries.

These are the tabs an author *reads* rather than sorts: a few large numbers, the insights in
words, and summaries set like prose.  Summaries are shown one part at a time (the whole story's
stretches, or one chapter's scenes) so a 1M-word story never lays out megabytes of rich text on
the UI thread at once.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFrame, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
    QScrollArea, QSplitter, QTextBrowser, QVBoxLayout, QWidget,
)

from studio.ui.widgets.analysis_charts import EmotionStrip
from studio.ui.widgets.analysis_models import (
    LEFT, ROW_ROLE, Column, ResultIndex, RowsModel, as_dict, as_list, dot_icon, fmt_float,
    fmt_int, fmt_percent, text,
)
from studio.ui.widgets.analysis_tables import fit_columns, hint, make_table, selected_row

# Scene summaries of the whole story are shown on one page up to this many scenes.
WHOLE_STORY_SCENES = 300
TOP_INSIGHTS = 6

_SEVERITY: dict[str, tuple[int, str, str]] = {
    # severity → (rank, colour, label)
    "critical": (0, "#c0392b", "Important"), "high": (0, "#c0392b", "Important"),
    "error": (0, "#c0392b", "Important"), "important": (0, "#c0392b", "Important"),
    "warning": (1, "#e67e22", "Worth a look"), "warn": (1, "#e67e22", "Worth a look"),
    "medium": (1, "#e67e22", "Worth a look"),
    "notice": (2, "#3d7fc1", "Note"), "info": (2, "#3d7fc1", "Note"),
    "low": (2, "#3d7fc1", "Note"), "note": (2, "#3d7fc1", "Note"),
}
_OTHER = (3, "#9aa0a6", "Note")


def severity(insight: dict) -> tuple[int, str, str]:
    return _SEVERITY.get(text(insight.get("severity")).lower(), _OTHER)


def humanise(kind: str) -> str:
    words = kind.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else ""


def insight_place(insight: dict, index: ResultIndex) -> str:
    """Where an insight points, in the author's words ("3. The Ball · Supper")."""
    target = as_dict(insight.get("target"))
    scene = target.get("scene") or target.get("scene_uid")
    chapter = target.get("chapter") or (index.scene_chapter(scene) if scene else "")
    parts = []
    if chapter:
        n = index.chapter_number(chapter)
        title = index.chapter_title(chapter)
        parts.append(f"{n}. {title}" if n and not title.startswith("Chapter ") else title)
    if scene:
        parts.append(index.scene_title(scene) or "a scene")
    if not parts and target.get("character"):
        parts.append(text(target.get("name") or target.get("character")))
    if not parts and (target.get("from_chapter") or target.get("to_chapter")):
        parts.append(f"{index.chapter_title(target.get('from_chapter'))} to "
                     f"{index.chapter_title(target.get('to_chapter'))}")
    return " · ".join(parts) or "The whole story"


def _rank(insights: list[dict]) -> list[dict]:
    return sorted((i for i in insights if isinstance(i, dict)), key=lambda i: severity(i)[0])


# --- Overview --------------------------------------------------------------------------------

class _Stat(QFrame):
    """One number with its caption, large enough to read across the room."""

    def __init__(self, caption: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("analysisStat")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#analysisStat { background: palette(base); border: 1px solid "
                           "palette(mid); border-radius: 6px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.setSpacing(2)
        self.value = QLabel("—")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.7)
        font.setWeight(QFont.Weight.DemiBold)
        self.value.setFont(font)
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: palette(placeholder-text);")
        lay.addWidget(self.value)
        lay.addWidget(self.caption)

    def set(self, value: str, tip: str = "") -> None:
        self.value.setText(value)
        self.setToolTip(tip)


class OverviewTab(QScrollArea):
    """The story's numbers, its emotional mix, its leading themes and the top insights."""

    insightActivated = Signal(dict)
    allInsightsRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("analysisOverview")
        lay = QVBoxLayout(body)
        lay.setContentsMargins(16, 14, 16, 16)
        lay.setSpacing(10)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(10)
        self.stats: dict[str, _Stat] = {}
        captions = [("words", "words"), ("chapters", "chapters"), ("scenes", "scenes"),
                    ("cast", "characters found"), ("dialogue", "of the words in dialogue"),
                    ("sentence", "words a sentence"), ("scene_words", "words a scene"),
                    ("readability", "reading ease")]
        for i, (key, caption) in enumerate(captions):
            stat = _Stat(caption)
            self.stats[key] = stat
            grid.addWidget(stat, i // 4, i % 4)
        lay.addLayout(grid)
        lay.addSpacing(6)
        lay.addWidget(self._heading("Emotional mix"))
        self.strip = EmotionStrip()
        lay.addWidget(self.strip)
        lay.addSpacing(6)
        lay.addWidget(self._heading("Leading themes"))
        self.themes = QLabel()
        self.themes.setObjectName("overviewThemes")
        self.themes.setWordWrap(True)
        lay.addWidget(self.themes)
        lay.addSpacing(6)
        head = QHBoxLayout()
        head.addWidget(self._heading("Top insights"))
        head.addStretch(1)
        self.all_button = QPushButton("See all insights")
        self.all_button.setObjectName("allInsights")
        self.all_button.setFlat(True)
        self.all_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.all_button.setStyleSheet("color: palette(link);")
        self.all_button.clicked.connect(self.allInsightsRequested)
        head.addWidget(self.all_button)
        lay.addLayout(head)
        self.top = QWidget()
        self.top.setObjectName("topInsights")
        self.top_layout = QVBoxLayout(self.top)
        self.top_layout.setContentsMargins(0, 0, 0, 0)
        self.top_layout.setSpacing(8)
        self._top_rows: list[QWidget] = []
        lay.addWidget(self.top)
        lay.addStretch(1)
        self.setWidget(body)

    @staticmethod
    def _heading(words: str) -> QLabel:
        label = QLabel(words)
        font = QFont(label.font())
        font.setWeight(QFont.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        label.setFont(font)
        return label

    def set_result(self, result: dict, index: ResultIndex) -> None:
        pacing = as_dict(result.get("pacing"))
        story = as_dict(pacing.get("story"))
        cast = [c for c in as_list(result.get("cast")) if isinstance(c, dict)]
        known = sum(1 for c in cast if c.get("in_bible"))
        self.stats["words"].set(fmt_int(result.get("words", story.get("words"))))
        self.stats["chapters"].set(fmt_int(result.get("chapters", len(index.chapters))))
        self.stats["scenes"].set(fmt_int(result.get("scenes", len(index.scenes))))
        self.stats["cast"].set(fmt_int(len(cast)), f"{known} of them in the scene bible")
        self.stats["dialogue"].set(fmt_percent(story.get("dialogue_ratio")))
        self.stats["sentence"].set(fmt_float(story.get("mean_sentence_words")))
        self.stats["scene_words"].set(fmt_int(story.get("mean_scene_words")))
        self.stats["readability"].set(
            fmt_float(story.get("readability"), 0),
            "Flesch reading ease: higher reads more easily; 60–70 is plain English")
        self.strip.set_shares(as_dict(as_dict(result.get("emotions")).get("shares")))
        keywords = [text(k.get("term")) for k in as_list(as_dict(result.get("themes")).get(
            "keywords")) if isinstance(k, dict) and k.get("term")]
        self.themes.setText("  ·  ".join(keywords[:12]) if keywords
                            else "No themes stood out.")
        insights = _rank(as_list(result.get("insights")))
        for row in self._top_rows:
            row.deleteLater()
        self._top_rows = []
        for insight in insights[:TOP_INSIGHTS]:
            self._add_top(insight, index)
        if not insights:
            self._add_top(None, index)
        self.all_button.setText(f"See all {len(insights)} insights" if insights else "")
        self.all_button.setVisible(bool(insights))

    def _add_top(self, insight: dict | None, index: ResultIndex) -> None:
        """One insight: a coloured dot, the message, and where it is (a link that opens it
        in the Insights tab)."""
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(10)
        dot = QLabel()
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        if insight is None:
            label.setText("Nothing to point out — the story reads evenly.")
        else:
            colour = severity(insight)[1]
            dot.setPixmap(dot_icon(QColor(colour)).pixmap(12, 12))
            place = html.escape(insight_place(insight, index))
            label.setText(f"{html.escape(text(insight.get('message')))}<br>"
                          f"<a href='show' style='color: palette(link)'>{place}</a>")
            label.linkActivated.connect(lambda _l, i=insight: self.insightActivated.emit(i))
        line.addWidget(dot, 0, Qt.AlignmentFlag.AlignTop)
        line.addWidget(label, 1)
        self.top_layout.addWidget(row)
        self._top_rows.append(row)


# --- Insights --------------------------------------------------------------------------------

class InsightsTab(QWidget):
    """Every insight, most important first; double-click (or "Go to") opens its place."""

    insightActivated = Signal(dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = ResultIndex(None)
        self._icons = {rank: dot_icon(QColor(colour)) for rank, colour, _ in
                       set(_SEVERITY.values()) | {_OTHER}}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 10, 10, 10)
        lay.setSpacing(8)
        self.count = QLabel()
        self.count.setObjectName("insightCount")
        lay.addWidget(self.count)
        self.model = RowsModel([
            Column("Severity", lambda r: float(severity(r)[0]), lambda r: severity(r)[2],
                   icon=lambda r: self._icons[severity(r)[0]], width=120),
            Column("Kind", lambda r: humanise(text(r.get("kind"))), width=150),
            Column("Where", lambda r: insight_place(r, self.index), width=220),
            Column("What the analyser noticed", lambda r: text(r.get("message")), align=LEFT,
                   cell_tooltip=lambda r: text(r.get("message"))),
        ])
        self.table = make_table(self.model, "insightTable")
        self.table.doubleClicked.connect(
            lambda i: self.insightActivated.emit(i.data(ROW_ROLE) or {}))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        lay.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.detail = QLabel()
        self.detail.setObjectName("insightDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom.addWidget(self.detail, 1)
        self.go_button = QPushButton("Go to the place")
        self.go_button.setObjectName("insightGo")
        self.go_button.setEnabled(False)
        self.go_button.clicked.connect(self._go)
        bottom.addWidget(self.go_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(bottom)

    def set_result(self, result: dict, index: ResultIndex) -> None:
        self.index = index
        insights = _rank(as_list(result.get("insights")))
        self.model.set_rows(insights)
        fit_columns(self.table)
        self.count.setText(f"{len(insights)} insight{'s' if len(insights) != 1 else ''} — "
                           "double-click one to open its place in the manuscript."
                           if insights else "Nothing to point out — the story reads evenly.")
        self._selection_changed()

    def select(self, insight: dict) -> None:
        row = self.model.row_of(lambda r: r is insight or r == insight)
        if row >= 0:
            from studio.ui.widgets.analysis_tables import select_row

            select_row(self.table, row)

    def navigable(self, insight: dict) -> bool:
        target = as_dict(insight.get("target"))
        return bool(target.get("scene") or target.get("scene_uid") or target.get("chapter")
                    or target.get("from_chapter")
                    or self.index.character_scene(target.get("character_id"))
                    or self.index.character_scene(target.get("character")))

    def _selection_changed(self, *_args) -> None:
        row = selected_row(self.table)
        if row is None:
            self.detail.setText("")
            self.go_button.setEnabled(False)
            return
        self.detail.setText(f"<b>{html.escape(humanise(text(row.get('kind'))))}</b> — "
                            f"{html.escape(insight_place(row, self.index))}<br>"
                            f"{html.escape(text(row.get('message')))}")
        self.go_button.setEnabled(self.navigable(row))

    def _go(self) -> None:
        row = selected_row(self.table)
        if row is not None:
            self.insightActivated.emit(row)


# --- Summaries -------------------------------------------------------------------------------

_PAGE_CSS = """
h2 { font-size: 13pt; font-weight: 600; margin-top: 22px; margin-bottom: 8px; }
h3 { font-size: 11pt; font-weight: 600; margin-top: 14px; margin-bottom: 3px; }
p { margin-top: 0; margin-bottom: 10px; line-height: 150%; }
.range { color: #80868b; font-size: 9.5pt; margin-bottom: 4px; }
"""
MEASURE_EM = 50  # a readable line: about 75 characters of text


class ReadingPage(QTextBrowser):
    """A text browser that keeps lines to a readable length, centred, however wide it is."""

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._set_measure()

    def _set_measure(self, force: bool = False) -> None:
        em = self.fontMetrics().horizontalAdvance("M")
        side = max(16.0, (self.viewport().width() - MEASURE_EM * em) / 2)
        frame = self.document().rootFrame()
        fmt = frame.frameFormat()
        if force or abs(fmt.leftMargin() - side) > 1:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            fmt.setTopMargin(8)
            fmt.setBottomMargin(24)
            frame.setFrameFormat(fmt)

    def show_html(self, text: str) -> None:
        """Replace the page (a new document starts with no margins: set them again)."""
        self.setHtml(text)
        self._set_measure(force=True)


class SummariesTab(QWidget):
    """Summaries set for reading: the story in stretches, then each chapter scene by scene.
    A list on the left picks the part; one part is laid out at a time."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = ResultIndex(None)
        self._result: dict = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 10, 10, 10)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.parts = QListWidget()
        self.parts.setObjectName("summaryParts")
        self.parts.setStyleSheet("QListWidget::item { padding: 5px 4px; }")
        self.parts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.parts.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.parts.currentRowChanged.connect(self._show_part)
        split.addWidget(self.parts)
        self.page = ReadingPage()
        self.page.setObjectName("summaryPage")
        self.page.setOpenLinks(False)
        self.page.document().setDefaultStyleSheet(_PAGE_CSS)
        font = QFont(self.page.font())
        font.setPointSizeF(max(11.0, font.pointSizeF() * 1.1))
        self.page.document().setDefaultFont(font)
        split.addWidget(self.page)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 4)
        split.setSizes([220, 760])
        lay.addWidget(split)
        self.empty = hint("")
        lay.addWidget(self.empty)
        self.empty.hide()

    def set_result(self, result: dict, index: ResultIndex) -> None:
        self.index = index
        self._result = result
        summaries = as_dict(result.get("summaries"))
        scenes = as_dict(summaries.get("scenes"))
        self._by_chapter: dict[str, list[tuple[str, str]]] = {}
        for s in index.scenes:
            uid = text(s.get("scene"))
            if scenes.get(uid):
                self._by_chapter.setdefault(text(s.get("chapter")), []).append(
                    (text(s.get("title")), text(scenes[uid])))
        self._stretches = [s for s in as_list(summaries.get("stretches"))
                           if isinstance(s, dict)]
        self.parts.blockSignals(True)
        self.parts.clear()
        self.parts.addItem("The whole story")
        self._keys: list[str | None] = [None]
        for c in index.chapters:
            key = text(c.get("chapter"))
            n = index.chapter_number(key)
            item = QListWidgetItem(f"{n}. {index.chapter_title(key)}")
            item.setToolTip(index.chapter_title(key))
            if key not in self._by_chapter:
                item.setForeground(QColor("#9aa0a6"))
            self.parts.addItem(item)
            self._keys.append(key)
        self.parts.blockSignals(False)
        self.parts.setCurrentRow(0)
        self._show_part(0)

    def clear(self) -> None:
        self.parts.clear()
        self.page.clear()

    def _show_part(self, row: int) -> None:
        if not 0 <= row < len(getattr(self, "_keys", [])):
            return
        key = self._keys[row]
        out: list[str] = []
        if key is None:
            out.append("<h2>The story in stretches</h2>")
            for s in self._stretches:
                span = f"{self.index.chapter_title(s.get('from_chapter'))} – " \
                       f"{self.index.chapter_title(s.get('to_chapter'))}"
                title = text(s.get("title"))
                out.append(f"<h3>{html.escape(title or span)}</h3>")
                if title:
                    out.append(f"<p class='range'>{html.escape(span)}</p>")
                out.append(f"<p>{html.escape(text(s.get('summary')))}</p>")
            if not self._stretches:
                out.append("<p class='range'>No stretch summaries in this analysis.</p>")
            if len(self.index.scenes) <= WHOLE_STORY_SCENES:
                for c in self.index.chapters:
                    out += self._chapter_html(text(c.get("chapter")))
            else:
                out.append("<p class='range'>Pick a chapter on the left for its scene "
                           "summaries.</p>")
        else:
            out += self._chapter_html(key, empty_note=True)
        self.page.show_html("\n".join(out))

    def _chapter_html(self, key: str, empty_note: bool = False) -> list[str]:
        scenes = self._by_chapter.get(key, [])
        if not scenes and not empty_note:
            return []
        n = self.index.chapter_number(key)
        out = [f"<h2>{n}. {html.escape(self.index.chapter_title(key))}</h2>"]
        for title, summary in scenes:
            if title:
                out.append(f"<h3>{html.escape(title)}</h3>")
            out.append(f"<p>{html.escape(summary)}</p>")
        if not scenes:
            out.append("<p class='range'>No scene summaries for this chapter (its scenes may "
                       "be too short to summarise).</p>")
        return out
