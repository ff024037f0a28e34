"""The status-bar indicator of the marketplace connection: online / offline / syncing /
signed out, and how many operations wait in the outbox."""

from __future__ import annotations

from PySide6.QtWidgets import QToolButton, QWidget

LOOK = {
    "online": ("●", "#2e7d32", "Online"),
    "syncing": ("↻", "#1565c0", "Syncing"),
    "offline": ("○", "#9e9e9e", "Offline"),
    "signed_out": ("◐", "#ef6c00", "Signed out"),
}


class SyncStatusIndicator(QToolButton):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.setAutoRaise(True)
        self.state = "offline"
        self.waiting = 0
        self.show_status("offline", 0, "", None)

    def show_status(self, state: str, waiting: int, last_error: str = "",
                    next_retry_in: float | None = None) -> None:
        self.state, self.waiting = state, waiting
        mark, colour, word = LOOK.get(state, LOOK["offline"])
        text = f"{mark} {word}"
        if waiting:
            text += f" · {waiting} waiting"
        if state == "offline" and next_retry_in is not None and waiting:
            text += f" · retry in {max(1, round(next_retry_in))} s"
        self.setText(text)
        self.setStyleSheet(f"QToolButton {{ color: {colour}; padding: 0 6px; }}")
        tip = {"online": "Connected to the marketplace; nothing is waiting.",
               "syncing": "Sending waiting changes to the marketplace…",
               "offline": "The marketplace cannot be reached. Your changes wait in the outbox "
                          "and are sent, once each, when it is back.",
               "signed_out": "Sign in to send the waiting changes."}.get(state, "")
        if last_error:
            tip += f"\n\nLast problem: {last_error}"
        self.setToolTip(tip + "\n\nClick to see the outbox.")
