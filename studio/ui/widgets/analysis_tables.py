"""The Analysis panel's table tabs: Cast, Emotions, Themes and Pacing.

Each tab takes the whole result (``set_result``) and shows its part through ``RowsModel``s, so
a story of thousands of scenes is shown by a model reset, never by building items.  The tabs
never call services: they say what the author asked for through signals (add this character
to the bible, set this scene's emotion, show this scene) and the panel does it, undoably.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter, QTableView,
    QTabWidget, QVBoxLayout, QWidget,
)

from studio.ui.widgets.analysis_charts import (
    BarDelegate, ChapterLengthChart, EmotionStrip, SharesDelegate,
)
from studio.ui.widgets.analysis_models import (
    RIGHT, ROW_ROLE, Column, ResultIndex, RowsModel, as_dict, as_list, emotion_icon,
    emotion_label, fmt_float, fmt_int, fmt_percent, number, text,
)

# Rows measured when fitting column widths: enough to be right, bounded for huge stories.
FIT_ROWS = 80
MAX_TEXT_COLUMN = 240


def fmt_amount(value) -> str:
    """A count as a count, a 0–1 share as a percent (the analyser may give either)."""
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return fmt_percent(value)
    return fmt_int(value)


def fmt_readability(value) -> str:
    return fmt_float(value, 0)


def make_table(model: RowsModel, name: str) -> QTableView:
    """A sortable, read-only, row-selecting table styled the same way in every tab."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(QFontMetrics(view.font()).height() + 12)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    stretchy = [c for c, col in enumerate(model.columns) if col.stretch]
    header.setStretchLastSection(not stretchy)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the story's order at first
    view.setSortingEnabled(True)
    for c in stretchy:
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
    for c, col in enumerate(model.columns):
        if col.bar:
            view.setItemDelegateForColumn(c, BarDelegate(view))
        elif col.shares:
            view.setItemDelegateForColumn(c, SharesDelegate(view))
    return view


def fit_columns(view: QTableView) -> None:
    """Fit columns to the header and the first rows, within what each column asked for: a
    bar column gets its asked width (the bar needs room, not the text), a text column grows
    to its content up to ``MAX_TEXT_COLUMN`` (longer titles are elided, with a tooltip).

    Measured here with font metrics on the display strings: Qt's ``resizeColumnToContents``
    asks the delegate for every cell's size hint (~20 ms for a 1 000-scene table)."""
    model: RowsModel = view.model()  # type: ignore[assignment]
    fm = QFontMetrics(view.font())
    header_fm = QFontMetrics(view.horizontalHeader().font())
    rows = model.rows[:FIT_ROWS]
    for c, col in enumerate(model.columns):
        if col.stretch:
            continue
        floor = max(col.width, header_fm.horizontalAdvance(col.header) + 28)
        if col.bar or col.shares:
            view.setColumnWidth(c, floor)
            continue
        shown = (col.display or (lambda r, get=col.value: text(get(r))))
        widest = max((fm.horizontalAdvance(shown(r)) for r in rows), default=0)
        if col.icon is not None:
            widest += view.iconSize().width() + 8 if view.iconSize().isValid() else 24
        view.setColumnWidth(c, max(floor, min(widest + 20, MAX_TEXT_COLUMN)))


def selected_row(view: QTableView) -> dict | None:
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    return rows[0].data(ROW_ROLE) if rows else None


def select_row(view: QTableView, row: int) -> None:
    if row < 0:
        return
    index = view.model().index(row, 0)
    view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows)
    view.scrollTo(index)


def hint(words: str, name: str = "") -> QLabel:
    label = QLabel(words)
    label.setWordWrap(True)
    label.setProperty("muted", True)
    label.setStyleSheet("color: palette(placeholder-text);")
    if name:
        label.setObjectName(name)
    return label


def _page(margins: int = 10) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    lay = QVBoxLayout(page)
    lay.setContentsMargins(margins, margins, margins, margins)
    lay.setSpacing(8)
    return page, lay


# --- Cast ------------------------------------------------------------------------------------

class CastTab(QWidget):
    """Who the analyser found, how much they appear and speak, and whether the bible knows
    them; a character missing from the bible is one click from being added."""

    addToBibleRequested = Signal(dict)
    sceneRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = ResultIndex(None)
        page, lay = _page()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(page)
        self.model = RowsModel([
            Column("Name", lambda r: text(r.get("name")), width=150,
                   cell_tooltip=self._aliases_tip),
            Column("In bible", lambda r: "Yes" if r.get("in_bible") else "Not yet",
                   muted=lambda r: not r.get("in_bible"), width=70,
                   tooltip="Whether the scene bible has this character (name or alias)"),
            Column("Mentions", lambda r: number(r.get("mentions")),
                   lambda r: fmt_int(r.get("mentions")), RIGHT, bar=True, width=90,
                   tooltip="Times the name or an alias occurs in the prose"),
            Column("Dialogue", lambda r: number(r.get("dialogue_lines")),
                   lambda r: fmt_int(r.get("dialogue_lines")), RIGHT, bar=True, width=90,
                   tooltip="Lines of dialogue the prose gives to the character"),
            Column("Interiority", lambda r: number(r.get("interiority")),
                   lambda r: fmt_amount(r.get("interiority")), RIGHT, width=80,
                   tooltip="Times the prose is inside their head: they think, feel, "
                           "wonder, remember"),
            Column("Dominant emotion", lambda r: text(r.get("dominant_emotion")),
                   lambda r: emotion_label(r.get("dominant_emotion")),
                   icon=lambda r: emotion_icon(r.get("dominant_emotion")), width=130),
            Column("First appears", self._first_key, self._first_text, stretch=True,
                   cell_tooltip=self._first_text,
                   tooltip="The chapter where the character is first named"),
        ])
        self.summary = QLabel()
        self.summary.setObjectName("castSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.table = make_table(self.model, "castTable")
        self.table.doubleClicked.connect(self._activated)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        lay.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.selection_label = QLabel("Select a character.")
        self.selection_label.setObjectName("castSelection")
        actions.addWidget(self.selection_label, 1)
        self.add_button = QPushButton("Add to scene bible")
        self.add_button.setObjectName("addToBible")
        self.add_button.setToolTip("Add the selected character, with the aliases the analyser "
                                   "found, to this book's scene bible (undoable)")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self._add)
        actions.addWidget(self.add_button)
        lay.addLayout(actions)

    def _aliases_tip(self, row: dict) -> str:
        aliases = [text(a) for a in as_list(row.get("aliases")) if a]
        return f"Also called: {', '.join(aliases)}" if aliases else ""

    def _first_key(self, row: dict) -> float:
        chapter = row.get("first_chapter") or self.index.scene_chapter(row.get("first_scene"))
        return float(self.index.chapter_number(chapter) or 10**9)

    def _first_text(self, row: dict) -> str:
        chapter = row.get("first_chapter") or self.index.scene_chapter(row.get("first_scene"))
        if not chapter:
            return "—"
        n = self.index.chapter_number(chapter)
        title = self.index.chapter_title(chapter)
        return f"{n}. {title}" if n and title and not title.startswith("Chapter ") else title

    def set_result(self, result: dict, index: ResultIndex) -> None:
        self.index = index
        cast = [c for c in as_list(result.get("cast")) if isinstance(c, dict)]
        self.model.set_rows(cast)
        fit_columns(self.table)
        known = sum(1 for c in cast if c.get("in_bible"))
        missing = len(cast) - known
        if not cast:
            self.summary.setText("No characters found — names the prose attributes speech "
                                 "to, and the bible's names, show up here.")
        elif missing:
            self.summary.setText(f"{len(cast)} characters found: {known} in the scene bible, "
                                 f"{missing} not yet. Select one to add it to the bible.")
        else:
            self.summary.setText(f"{len(cast)} characters found, all in the scene bible.")
        self._selection_changed()

    def mark_in_bible(self, name: str, char_id: str | None) -> None:
        """Show the outcome of an add (or of its undo) without re-analysing."""
        row = self.model.row_of(lambda r: text(r.get("name")) == name)
        if row < 0:
            return
        data = dict(self.model.rows[row], in_bible=char_id is not None)
        data["id"] = char_id
        self.model.update_row(row, data)
        self._selection_changed()

    def _selection_changed(self, *_args) -> None:
        row = selected_row(self.table)
        if row is None:
            self.selection_label.setText("Select a character to add them to the bible or "
                                         "double-click to read their first scene.")
            self.add_button.setEnabled(False)
            return
        name = text(row.get("name"))
        if row.get("in_bible"):
            self.selection_label.setText(f"{name} is in the scene bible.")
        else:
            self.selection_label.setText(f"{name} is not in the scene bible yet.")
        self.add_button.setEnabled(not row.get("in_bible") and bool(name))

    def _add(self) -> None:
        row = selected_row(self.table)
        if row is not None and not row.get("in_bible"):
            self.addToBibleRequested.emit(row)

    def _activated(self, index) -> None:
        row = index.data(ROW_ROLE) or {}
        scene = text(row.get("first_scene")) or self.index.first_scene_of(
            row.get("first_chapter"))
        if scene:
            self.sceneRequested.emit(scene)


# --- Emotions --------------------------------------------------------------------------------

class EmotionsTab(QWidget):
    """The emotional colour of every scene; the scene's dominant emotion can become its
    recorded emotion, and a voice template can be suggested from it."""

    sceneSelected = Signal(str)
    setEmotionRequested = Signal(str, str)   # scene uid, emotion
    voiceRequested = Signal(str, str)        # scene uid, emotion
    sceneRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = ResultIndex(None)
        page, lay = _page()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(page)
        self.lexicon = QLabel()
        self.lexicon.setObjectName("emotionLexicon")
        lay.addWidget(self.lexicon)
        self.strip = EmotionStrip()
        lay.addWidget(self.strip)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.model = RowsModel([
            Column("#", lambda r: float(self._order.get(text(r.get("scene")), 0)),
                   lambda r: str(self._order.get(text(r.get("scene")), "")), RIGHT, width=44),
            Column("Chapter", lambda r: float(self.index.chapter_number(r.get("chapter"))),
                   lambda r: self.index.chapter_title(r.get("chapter")), width=140,
                   cell_tooltip=lambda r: self.index.chapter_title(r.get("chapter"))),
            Column("Scene", lambda r: text(r.get("title")) or self.index.scene_title(
                r.get("scene")), width=110),
            Column("Dominant", lambda r: text(r.get("dominant")),
                   lambda r: emotion_label(r.get("dominant")),
                   icon=lambda r: emotion_icon(r.get("dominant")), width=120),
            Column("Intensity", lambda r: number(r.get("intensity")),
                   lambda r: fmt_float(number(r.get("intensity")) * 100, 1), RIGHT, bar=True,
                   width=80, tooltip="Emotion words per hundred words"),
            Column("Mix", lambda r: as_dict(r.get("counts")), lambda r: "", shares=True,
                   stretch=True, tooltip="The scene's emotion words by emotion"),
        ])
        self._order: dict[str, int] = {}
        self.table = make_table(self.model, "emotionScenes")
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(
            lambda i: self.sceneRequested.emit(text((i.data(ROW_ROLE) or {}).get("scene"))))
        self.views.addTab(self.table, "By scene")
        self.characters = RowsModel([
            Column("Character", lambda r: text(r.get("name")), width=160),
            Column("Dominant", lambda r: text(r.get("dominant")),
                   lambda r: emotion_label(r.get("dominant")),
                   icon=lambda r: emotion_icon(r.get("dominant")), width=130),
            Column("Mix", lambda r: as_dict(r.get("shares")), lambda r: "", shares=True,
                   stretch=True, tooltip="The emotion words near the character, by emotion"),
        ])
        self.character_table = make_table(self.characters, "emotionCharacters")
        self.views.addTab(self.character_table, "By character")
        self.views.currentChanged.connect(self._selection_changed)
        lay.addWidget(self.views, 1)
        bar = QHBoxLayout()
        self.selection_label = QLabel()
        self.selection_label.setObjectName("emotionSelection")
        self.selection_label.setWordWrap(True)
        bar.addWidget(self.selection_label, 1)
        self.set_button = QPushButton("Set as scene emotion")
        self.set_button.setObjectName("setSceneEmotion")
        self.set_button.setToolTip("Record the dominant emotion as the scene's emotion "
                                   "(used by narration and illustration; undoable)")
        self.set_button.clicked.connect(lambda: self._emit(self.setEmotionRequested))
        self.voice_button = QPushButton("Suggest voice template")
        self.voice_button.setObjectName("suggestVoice")
        self.voice_button.setToolTip("Note the voice template that suits the dominant emotion "
                                     "as the scene's narration default (undoable)")
        self.voice_button.clicked.connect(lambda: self._emit(self.voiceRequested))
        bar.addWidget(self.set_button)
        bar.addWidget(self.voice_button)
        lay.addLayout(bar)
        self.notes = hint("", "emotionNotes")
        lay.addWidget(self.notes)
        self._selection_changed()

    def set_result(self, result: dict, index: ResultIndex) -> None:
        self.index = index
        emotions = as_dict(result.get("emotions"))
        scenes = [s for s in as_list(emotions.get("scenes")) if isinstance(s, dict)]
        self._order = {text(s.get("scene")): i for i, s in enumerate(scenes, 1)}
        self.model.set_rows(scenes)
        fit_columns(self.table)
        self.characters.set_rows(as_list(emotions.get("characters")))
        fit_columns(self.character_table)
        self.strip.set_shares(as_dict(emotions.get("shares")))
        size = emotions.get("lexicon_size")
        self.lexicon.setText("Across the story" + (
            f" — read with {fmt_int(size)} emotion words" if size else ""))
        self._selection_changed()

    def selected_scene(self) -> dict | None:
        return selected_row(self.table)

    def select_scene(self, scene_uid: str) -> None:
        select_row(self.table, self.model.row_of(lambda r: text(r.get("scene")) == scene_uid))

    def show_notes(self, scene_uid: str, notes: dict) -> None:
        """What the scene has recorded now (after loading, an action or its undo)."""
        row = self.selected_scene()
        if row is None or text(row.get("scene")) != scene_uid:
            return
        emotion = notes.get("emotion")
        voice = notes.get("voice_template")
        self.notes.setText(f"Recorded for this scene — emotion: {emotion_label(emotion)}"
                           f"  ·  voice template: {text(voice) or '—'}")

    def _selection_changed(self, *_args) -> None:
        on_scenes = self.views.currentWidget() is self.table
        for widget in (self.selection_label, self.set_button, self.voice_button, self.notes):
            widget.setVisible(on_scenes)
        row = self.selected_scene()
        has = row is not None and bool(row.get("dominant"))
        self.set_button.setEnabled(has)
        self.voice_button.setEnabled(has)
        if row is None:
            self.selection_label.setText("Select a scene to record its emotion or suggest a "
                                         "voice for it; double-click to read it.")
            self.notes.setText("")
            return
        title = text(row.get("title")) or self.index.scene_title(row.get("scene"))
        dominant = row.get("dominant")
        self.selection_label.setText(
            f"“{title}” — mostly {emotion_label(dominant).lower()}" if dominant
            else f"“{title}” — no emotion words found")
        if dominant:
            self.set_button.setText(f"Set “{emotion_label(dominant)}” as scene emotion")
        else:
            self.set_button.setText("Set as scene emotion")
        self.notes.setText("Reading what the scene has recorded…")
        self.sceneSelected.emit(text(row.get("scene")))

    def _emit(self, signal) -> None:
        row = self.selected_scene()
        if row is not None and row.get("dominant"):
            signal.emit(text(row.get("scene")), text(row.get("dominant")))


# --- Themes ----------------------------------------------------------------------------------

class ThemesTab(QWidget):
    """What the story keeps returning to: weighted keywords and recurring phrases."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        page, lay = _page()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(page)
        split = QSplitter(Qt.Orientation.Horizontal)
        left, llay = _page(0)
        llay.addWidget(QLabel("<b>Keywords</b>"))
        llay.addWidget(hint("The words that carry the story: used often in the chapters "
                            "that use them, unlike everyday words found everywhere."))
        self.keywords = RowsModel([
            Column("Keyword", lambda r: text(r.get("term")), width=140),
            Column("Weight", lambda r: number(r.get("score")),
                   lambda r: fmt_float(r.get("score"), 2), RIGHT, bar=True, width=150),
            Column("Uses", lambda r: number(r.get("count")), lambda r: fmt_int(r.get("count")),
                   RIGHT, width=70, stretch=True),
        ])
        self.keyword_table = make_table(self.keywords, "themeKeywords")
        llay.addWidget(self.keyword_table, 1)
        split.addWidget(left)
        right, rlay = _page(0)
        rlay.addWidget(QLabel("<b>Motifs</b>"))
        rlay.addWidget(hint("Phrases that come back again and again."))
        self.motifs = RowsModel([
            Column("Phrase", lambda r: text(r.get("phrase")), stretch=True),
            Column("Times", lambda r: number(r.get("count")), lambda r: fmt_int(r.get("count")),
                   RIGHT, bar=True, width=120),
        ])
        self.motif_table = make_table(self.motifs, "themeMotifs")
        rlay.addWidget(self.motif_table, 1)
        self.no_motifs = hint("No phrase comes back often enough to count as a motif.",
                              "noMotifs")
        rlay.addWidget(self.no_motifs)
        rlay.addStretch(0)
        split.addWidget(right)
        split.setSizes([520, 420])
        lay.addWidget(split, 1)

    def set_result(self, result: dict, _index: ResultIndex) -> None:
        themes = as_dict(result.get("themes"))
        self.keywords.set_rows(as_list(themes.get("keywords")))
        self.motifs.set_rows(as_list(themes.get("motifs")))
        fit_columns(self.keyword_table)
        fit_columns(self.motif_table)
        self.motif_table.setVisible(bool(self.motifs.rows))
        self.no_motifs.setVisible(not self.motifs.rows)


# --- Pacing ----------------------------------------------------------------------------------

class PacingTab(QWidget):
    """Length, dialogue and readability by chapter and by scene, with chapter lengths drawn:
    sagging middles and rushed endings show as shapes."""

    sceneRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = ResultIndex(None)
        page, lay = _page()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(page)
        self.story_line = QLabel()
        self.story_line.setObjectName("pacingStory")
        self.story_line.setWordWrap(True)
        lay.addWidget(self.story_line)
        split = QSplitter(Qt.Orientation.Vertical)
        self.chart = ChapterLengthChart()
        self.chart.setToolTip("")
        split.addWidget(self.chart)
        self.tables = QTabWidget()
        self.tables.setDocumentMode(True)
        self.chapters = RowsModel([
            Column("#", lambda r: float(self.index.chapter_number(r.get("chapter"))),
                   lambda r: str(self.index.chapter_number(r.get("chapter")) or ""), RIGHT,
                   width=44),
            Column("Chapter", lambda r: text(r.get("title")) or self.index.chapter_title(
                r.get("chapter")), stretch=True),
            Column("Words", lambda r: number(r.get("words")), lambda r: fmt_int(r.get("words")),
                   RIGHT, bar=True, width=120),
            Column("Scenes", lambda r: number(r.get("scenes")),
                   lambda r: fmt_int(r.get("scenes")), RIGHT, width=70),
            Column("Dialogue", lambda r: number(r.get("dialogue_ratio")),
                   lambda r: fmt_percent(r.get("dialogue_ratio")), RIGHT, bar=True, width=90,
                   tooltip="Share of the words inside quotation marks"),
            Column("Readability", lambda r: number(r.get("readability")),
                   lambda r: fmt_readability(r.get("readability")), RIGHT, width=96,
                   tooltip="Flesch reading ease: higher reads more easily (60–70 is plain "
                           "English)"),
        ])
        self.chapter_table = make_table(self.chapters, "pacingChapters")
        self.chapter_table.selectionModel().selectionChanged.connect(self._chapter_selected)
        self.chapter_table.doubleClicked.connect(
            lambda i: self.sceneRequested.emit(self.index.first_scene_of(
                (i.data(ROW_ROLE) or {}).get("chapter"))))
        self.tables.addTab(self.chapter_table, "By chapter")
        self.scenes = RowsModel([
            Column("Chapter", lambda r: float(self.index.chapter_number(r.get("chapter"))),
                   lambda r: self.index.chapter_title(r.get("chapter")), width=150),
            Column("Scene", lambda r: text(r.get("title")), stretch=True),
            Column("Words", lambda r: number(r.get("words")), lambda r: fmt_int(r.get("words")),
                   RIGHT, bar=True, width=100),
            Column("Dialogue", lambda r: number(r.get("dialogue_ratio")),
                   lambda r: fmt_percent(r.get("dialogue_ratio")), RIGHT, bar=True, width=90),
            Column("Sentences", lambda r: number(r.get("sentences")),
                   lambda r: fmt_int(r.get("sentences")), RIGHT, width=84),
            Column("Words / sentence", lambda r: number(r.get("mean_sentence_words")),
                   lambda r: fmt_float(r.get("mean_sentence_words")), RIGHT, width=120,
                   cell_tooltip=lambda r: f"Spread (SD): {fmt_float(r.get('sentence_sd'))}"),
            Column("Readability", lambda r: number(r.get("readability")),
                   lambda r: fmt_readability(r.get("readability")), RIGHT, width=96),
        ])
        self.scene_table = make_table(self.scenes, "pacingScenes")
        self.scene_table.doubleClicked.connect(
            lambda i: self.sceneRequested.emit(text((i.data(ROW_ROLE) or {}).get("scene"))))
        self.tables.addTab(self.scene_table, "By scene")
        split.addWidget(self.tables)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        lay.addWidget(split, 1)
        self.chart.chapterClicked.connect(self._chart_clicked)

    def set_result(self, result: dict, index: ResultIndex) -> None:
        self.index = index
        pacing = as_dict(result.get("pacing"))
        chapters = [c for c in as_list(pacing.get("chapters")) if isinstance(c, dict)]
        self.chapters.set_rows(chapters)
        self.scenes.set_rows(as_list(pacing.get("scenes")))
        fit_columns(self.chapter_table)
        fit_columns(self.scene_table)
        self.chart.set_chapters([(text(c.get("title")) or index.chapter_title(c.get("chapter")),
                                  number(c.get("words"))) for c in chapters])
        story = as_dict(pacing.get("story"))
        parts = [f"{fmt_int(story.get('words', result.get('words')))} words"]
        if story.get("mean_scene_words") is not None:
            parts.append(f"{fmt_int(story.get('mean_scene_words'))} words a scene on average")
        if story.get("mean_sentence_words") is not None:
            parts.append(f"{fmt_float(story.get('mean_sentence_words'))} words a sentence")
        if story.get("dialogue_ratio") is not None:
            parts.append(f"{fmt_percent(story.get('dialogue_ratio'))} dialogue")
        if story.get("readability") is not None:
            parts.append(f"reading ease {fmt_readability(story.get('readability'))}")
        self.story_line.setText("  ·  ".join(parts))

    def _chart_clicked(self, i: int) -> None:
        self.tables.setCurrentWidget(self.chapter_table)
        self.chapter_table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        select_row(self.chapter_table, i)

    def _chapter_selected(self, *_args) -> None:
        row = selected_row(self.chapter_table)
        if row is not None:
            self.chart.select(self.chapters.natural_index(row))
