"""Where things live: the data folder, bundled resources and migrations.

Resources and migrations sit at the top of the source tree, inside the package of an installed
wheel (``studio/_resources``), or next to a PyInstaller build (``sys._MEIPASS``).  Every lookup
goes through here so none of the callers has to care which of the three it is running from.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "StoryStudio"
APP_AUTHOR = "StoryStudio"
DATA_DIR_ENV = "STUDIO_DATA_DIR"
DATABASE_FILENAME = "studio.sqlite3"

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / name)
    candidates.append(_PACKAGE_DIR / f"_{name}")  # installed wheel
    candidates.append(_PACKAGE_DIR.parent / name)  # source tree / editable install
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError(
        f"Story Studio's {name} folder is missing (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "). The installation is incomplete; reinstall the app."
    )


def resources_dir() -> Path:
    return _bundled("resources")


def migrations_dir() -> Path:
    return _bundled("migrations")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` wins over ``STUDIO_DATA_DIR``, which wins over the platform default."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()
