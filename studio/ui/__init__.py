"""The PySide6 desktop UI: thin widgets over studio.services (never SQL)."""
