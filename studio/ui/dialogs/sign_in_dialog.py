"""Sign in to (or create an account on) a marketplace.  The dialog only collects what the
author types; the session does the network work and keeps the token in the OS keyring."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
    QVBoxLayout, QWidget,
)


class SignInDialog(QDialog):
    def __init__(self, servers: list[str], current: str, username: str = "",
                 message: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle("Sign in to the marketplace")
        lay = QVBoxLayout(self)
        if message:
            note = QLabel(message)
            note.setObjectName("signInMessage")
            note.setWordWrap(True)
            lay.addWidget(note)
        form = QFormLayout()
        self.server = QComboBox()
        self.server.setObjectName("signInServer")
        self.server.setEditable(True)
        self.server.addItems(servers)
        self.server.setCurrentText(current)
        self.username = QLineEdit(username)
        self.username.setObjectName("signInUsername")
        self.password = QLineEdit()
        self.password.setObjectName("signInPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.create = QCheckBox("Create a new account with these details")
        self.create.setObjectName("signInCreate")
        form.addRow("Marketplace", self.server)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.create)
        lay.addLayout(form)
        hint = QLabel("Your sign-in is kept in the system keyring, never in Story Studio's "
                      "files.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        lay.addWidget(hint)
        self.error = QLabel()
        self.error.setObjectName("signInError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        (self.password if username else self.username).setFocus()

    def values(self) -> tuple[str, str, str, bool]:
        return (self.server.currentText().strip(), self.username.text().strip(),
                self.password.text(), self.create.isChecked())

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _accept(self) -> None:
        _server, user, password, _create = self.values()
        if not user or not password:
            self.show_error("Type your username and password.")
            return
        self.accept()
