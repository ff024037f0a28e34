"""The publish dialog offers the server's three story visibilities, "Private" included
(issue 11: only the owner and the collaborators read a private story)."""

from __future__ import annotations

from pathlib import Path

from studio.services.publishing import VISIBILITIES
from studio.ui.dialogs.publish_dialog import PublishDialog

SHOTS = Path("/tmp/shots/issue11")


def test_publish_dialog_offers_private(qtbot):
    dialog = PublishDialog("The Lighthouse", genre="mystery")
    qtbot.addWidget(dialog)
    box = dialog.visibility
    offered = [box.itemData(i) for i in range(box.count())]
    assert offered == list(VISIBILITIES)  # the same values the service accepts
    box.setCurrentIndex(offered.index("private"))
    assert box.currentText() == "Private — only you and your collaborators"
    assert dialog.meta()["visibility"] == "private"
    dialog.show()
    qtbot.waitExposed(dialog)
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "publish_dialog_private.png"))
