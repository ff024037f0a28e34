"""Panels of the open story, in tab order.  Only panels that work are listed here."""

from studio.ui.panels.analysis_panel import AnalysisPanel
from studio.ui.panels.bible_panel import BiblePanel
from studio.ui.panels.chapter_graph_panel import ChapterGraphPanel
from studio.ui.panels.manuscript_panel import ManuscriptPanel
from studio.ui.panels.marketplace_panel import MarketplacePanel
from studio.ui.panels.modules_panel import ModulesPanel
from studio.ui.panels.voice_panel import VoicePanel

PANELS = [ModulesPanel, ManuscriptPanel, BiblePanel, ChapterGraphPanel, MarketplacePanel,
          AnalysisPanel, VoicePanel]
