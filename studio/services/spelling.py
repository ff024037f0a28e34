"""Spell-checking for the manuscript editor, on the dictionaries that ship inside pyspellchecker.

A dictionary is a word-frequency table of 100k–300k words; loading one takes a few hundred
milliseconds, so it happens once per language per process (``get_speller`` is meant to be called
on a worker thread) and every ``Speller`` of that language shares the table read-only.  What is
the author's own — the personal word list and the words ignored this session — lives on the
``Speller`` and never touches the shared table, so two languages can share one personal file.

The editor asks ``is_correct`` for every word of every block it highlights, so answers are cached
per exact spelling; suggestions are only computed on demand (a right-click).
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterator

# Imported so the dictionaries' package is installed and bundled (PyInstaller follows imports);
# the word lists themselves are read straight from its data files.
import spellchecker  # noqa: F401

from studio.domain.errors import StudioError
from studio.services.files import write_text_atomically

log = logging.getLogger(__name__)

__all__ = [
    "Speller", "UnknownLanguageError", "available_languages", "get_speller", "iter_words",
]


class UnknownLanguageError(StudioError, ValueError):
    """A language with no dictionary in the installed pyspellchecker."""


# --- words in a line of prose ---------------------------------------------------------------

# A letter or digit, never "_" (so `_emphasis_` and snake_case split).  Prose with decomposed
# accents (e + U+0301) needs the combining marks inside words too; that class is an alternation
# and twice as slow, so it is used only for lines that have such marks.
_CH_FAST = r"[^\W_]"
_CH_MARKS = r"(?:[^\W_]|[\u0300-\u036f])"
_COMBINING_RE = re.compile(r"[\u0300-\u036f]")
# Tokens that are not prose: links, bare domains and e-mail addresses are skipped whole.
_SKIP = (r"(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)\S+"
         r"|[^\s@]+@[^\s@]+\.[^\s@]+"
         r"|[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|io|dev|app|co|uk|de|fr|md|txt|html?)\b\S*")
_MAYBE_SKIP_RE = re.compile(r"://|www\.|@|\.\w")
_DIGIT_RE = re.compile(r"\d")
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")


def _word(ch: str) -> str:
    # Apostrophes join parts only inside a word ("don't", "Wren’s"); a leading or trailing one
    # is a quotation mark and stays out.
    return rf"{ch}+(?:['’ʼ]{ch}+)*"


# (plain words, words or skipped tokens) without and with combining marks
_WORD_RES = {
    marks: (re.compile(_word(ch)), re.compile(rf"(?P<skip>{_SKIP})|{_word(ch)}"))
    for marks, ch in ((False, _CH_FAST), (True, _CH_MARKS))
}


def _word_res(text: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return _WORD_RES[not text.isascii() and _COMBINING_RE.search(text) is not None]


def iter_words(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield ``(start, length, word)`` for each word of one line of prose.

    Offsets are Python string indices.  Hyphen- and dash-joined parts ("well-known", "sea—salt")
    are separate words; apostrophes inside a word keep it whole.  Pure numbers are not words;
    URL-like tokens and markdown markers (``#``, ``*``, ``_``) never produce one.
    """
    plain, with_skips = _word_res(text)
    # The URL alternation costs a little at every word start, so only pay for it when a line
    # could hold such a token at all.
    if _MAYBE_SKIP_RE.search(text):
        matches = (m for m in with_skips.finditer(text) if m.lastgroup != "skip")
    else:
        matches = plain.finditer(text)
    for m in matches:
        word = m.group()
        if not word.isalpha() and (word.isdigit() or not _HAS_LETTER_RE.search(word)):
            continue
        yield m.start(), m.end() - m.start(), word


# --- dictionaries, loaded once per language -------------------------------------------------

@functools.cache
def _installed_languages() -> tuple[str, ...]:
    try:
        folder = resources.files("spellchecker") / "resources"
        names = [entry.name for entry in folder.iterdir()]
    except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError):
        return ()
    return tuple(sorted(n[: -len(".json.gz")] for n in names if n.endswith(".json.gz")))


def available_languages() -> list[str]:
    """Languages whose dictionary is installed (read from the package, so a frozen build that
    left the dictionaries behind reports none rather than pretending)."""
    return list(_installed_languages())


def _normalise_language(language: str) -> str:
    """The dictionary code for a language tag: "EN", "en_GB" and "en-US" all mean "en"."""
    available = available_languages()
    code = (language or "").strip().lower().replace("-", "_")
    if code in available:
        return code
    primary = code.split("_", 1)[0]
    if primary in available:
        return primary
    listed = ", ".join(available) or "none (the pyspellchecker dictionaries are missing)"
    raise UnknownLanguageError(
        f"No spelling dictionary for language “{language}”. Available: {listed}.")


@dataclass(frozen=True)
class _Dictionary:
    words: dict[str, int]  # lower-cased word → frequency in the package's corpus
    letters: str           # every character its words use: the alphabet of suggestions
    ascii_letters: str


_LOAD_LOCK = threading.Lock()
_DICTIONARIES: dict[str, _Dictionary] = {}
_SPELLERS: dict[tuple[str, str | None], "Speller"] = {}


def _dictionary(language: str) -> _Dictionary:
    """A language's dictionary, loaded on first use and shared, read-only, afterwards.

    Loaded under one lock: two editors asking for the same language at once load it once.
    """
    with _LOAD_LOCK:
        loaded = _DICTIONARIES.get(language)
        if loaded is None:
            words, letters = _read_word_list(language)
            ordered = "".join(sorted(letters))
            loaded = _Dictionary(words, ordered, "".join(c for c in ordered if c.isascii()))
            _DICTIONARIES[language] = loaded
        return loaded


_ENTRY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*(\d+)')


def _read_word_list(language: str) -> tuple[dict[str, int], set[str]]:
    """pyspellchecker's word list for ``language``, read entry by entry.

    The package's own loader parses the whole list in one C call that holds the interpreter
    lock for ~140 ms — a visible freeze of the window while a story opens.  Reading entry by
    entry in Python lets the UI thread run in between (the load itself stays on the service
    thread).
    """
    from importlib import resources

    source = resources.files("spellchecker") / "resources" / f"{language}.json.gz"
    text = gzip.decompress(source.read_bytes()).decode("utf-8")
    words: dict[str, int] = {}
    letters: set[str] = set()
    for match in _ENTRY.finditer(text):
        word = match.group(1)
        if "\\" in word:
            word = json.loads(f'"{word}"')
        word = word.lower()
        words[word] = words.get(word, 0) + int(match.group(2))
        letters.update(word)
    return words, letters


def get_speller(language: str = "en", personal_path: Path | None = None) -> "Speller":
    """The shared ``Speller`` for a language and personal word list; slow the first time (it
    loads the dictionary), instant after.  Safe to call from any thread."""
    code = _normalise_language(language)
    key = (code, str(Path(personal_path).resolve()) if personal_path else None)
    with _LOAD_LOCK:
        speller = _SPELLERS.get(key)
    if speller is None:
        made = Speller(code, personal_path)
        with _LOAD_LOCK:
            speller = _SPELLERS.setdefault(key, made)
    return speller


# --- the speller ---------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'"})
# Endings a name or noun takes after an apostrophe: "Wren's", "Wren'd", "Wren'll".
_CLITICS = frozenset({"s", "d", "ll", "re", "ve", "m"})
# Words above this length are not searched two edits away: that search grows with the square of
# the length and, for a long word with no near neighbour, freezes a right-click for seconds.
_DISTANCE_2_MAX_LEN = 12
# …and even below it a slow machine stops searching after this long: better a short list than a
# menu that takes a second to open.
_DISTANCE_2_BUDGET_S = 0.3
_CACHE_LIMIT = 200_000
_FILE_LOCK = threading.Lock()


def _normalise(word: str) -> str:
    return unicodedata.normalize("NFC", word).translate(_APOSTROPHES)


def _within_one_edit(a: str, b: str) -> bool:
    """True if ``b`` is one insertion, deletion, substitution or swap away from ``a``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return (a[i + 1:] == b[i + 1:]
                or (a[i + 2:] == b[i + 2:] and a[i:i + 2] == b[i:i + 2][::-1]))
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


def _sort_key(word: str) -> tuple[str, str]:
    """Alphabetical for people: "Ébène" between "Dune" and "Fog", not after "Zed"."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return bare.casefold(), word


def _match_case(model: str, word: str) -> str:
    """Give a suggestion the capitalisation of the word it replaces."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


class Speller:
    """Checks words against one language's dictionary plus the author's personal words.

    ``personal_words_path`` is a UTF-8 file, one word per line; without it, added words last for
    the session only.  Instances are cheap once the language is loaded; prefer ``get_speller``
    so every editor shares one cache.
    """

    def __init__(self, language: str = "en", personal_words_path: Path | None = None):
        self.language = _normalise_language(language)
        self._dictionary = _dictionary(self.language)
        self._words = self._dictionary.words
        self._path = Path(personal_words_path) if personal_words_path else None
        self._personal: dict[str, str] = {}  # lower-cased normal form → word as the author typed it
        self._ignored: set[str] = set()
        # Answers per exact spelling, as two sets so a whole line's words can be settled with
        # one C-speed set difference.
        self._good: set[str] = set()
        self._bad: set[str] = set()
        if self._path is not None:
            try:
                words = self._read_personal(self._path)
            except StudioError as exc:  # spell-check still works; adding a word will say why not
                log.warning("%s", exc)
                words = []
            for word in words:
                self._personal.setdefault(_normalise(word).lower(), word)

    # -- checking --

    def is_correct(self, word: str) -> bool:
        """Case-insensitive; accepts numbers and words with digits, single letters, ALL-CAPS
        acronyms, possessives and contractions of known words ("Wren’s", "Wren'll")."""
        if word in self._good:
            return True
        if word in self._bad:
            return False
        ok = self._check(word)
        cache = self._good if ok else self._bad
        if len(cache) >= _CACHE_LIMIT:  # a pasted phone book must not grow it forever
            cache.clear()
        cache.add(word)
        return ok

    def _forget(self) -> None:
        self._good.clear()
        self._bad.clear()

    def misspellings(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, length, word)`` for each misspelled word of a line, as ``iter_words``.

        Most lines have none: a C-speed ``findall`` less the words already known to be right
        settles that, and only a line with a suspect word is walked word by word.
        """
        suspects = set(_word_res(text)[0].findall(text))
        suspects -= self._good
        is_correct = self.is_correct
        if not suspects or all(is_correct(w) for w in suspects):
            return []
        return [hit for hit in iter_words(text) if not is_correct(hit[2])]

    def _known(self, lowered: str) -> bool:
        return lowered in self._words or lowered in self._personal or lowered in self._ignored

    def _check(self, word: str) -> bool:
        w = _normalise(word).strip("'")
        if len(w) <= 1 or _DIGIT_RE.search(w) or w.isupper():
            return True
        low = w.lower()
        if self._known(low):
            return True
        if "'" in low:
            stem, _, tail = low.rpartition("'")
            if tail in _CLITICS and self._known(stem):
                return True
            if tail == "t" and stem.endswith("n") and self._known(stem[:-1]):  # "shouldn't"
                return True
        return False

    # -- suggestions --

    def suggestions(self, word: str, limit: int = 5) -> list[str]:
        """Up to ``limit`` likely corrections, most frequent first, in the word's capitalisation
        and with its kind of apostrophe.  Personal words one edit away come first: they are
        usually the names the author misspelt."""
        w = _normalise(word).strip("'")
        low = w.lower()
        if not low or limit <= 0:
            return []
        found: list[str] = [p for key, p in sorted(self._personal.items())
                            if _within_one_edit(low, key)]
        found += self._candidates(low)
        stem, _, tail = low.rpartition("'")
        if stem and tail in _CLITICS and len(found) < limit:
            found += [f"{c}'{tail}" for c in self._candidates(stem)]
        curly = "’" in word or "ʼ" in word
        out: list[str] = []
        for candidate in found:
            shown = _match_case(w, candidate.replace("'", "’") if curly else candidate)
            if shown.lower() != low and shown not in out:
                out.append(shown)
            if len(out) == limit:
                break
        return out

    def _candidates(self, low: str) -> list[str]:
        """Dictionary words one edit away, else two (Norvig's method), most frequent first."""
        words = self._words
        first = self._edits1(low)
        hits = {e for e in first if e in words}
        if not hits and len(low) <= _DISTANCE_2_MAX_LEN:
            deadline = time.monotonic() + _DISTANCE_2_BUDGET_S
            for n, e1 in enumerate(first):
                hits.update(e2 for e2 in self._edits1(e1) if e2 in words)
                if n % 64 == 0 and time.monotonic() > deadline:
                    break
        return sorted(hits, key=lambda c: (-words[c], c))

    def _edits1(self, word: str) -> set[str]:
        # Only the letters of the word's own script: an English word needs no "ß" or "й",
        # and every letter left out makes the search quadratically cheaper.
        d = self._dictionary
        letters = d.ascii_letters if word.isascii() else d.letters
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        deletes = [a + b[1:] for a, b in splits if b]
        swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
        replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
        inserts = [a + c + b for a, b in splits for c in letters]
        return set(deletes + swaps + replaces + inserts)

    # -- the author's words --

    def add_to_personal(self, word: str) -> None:
        """Accept ``word`` from now on and, with a personal file, in every later session.

        The file is re-read before it is rewritten, so spellers of other languages sharing it
        keep their additions; the write goes to a temporary file renamed over the old one.
        Raises ``StudioError`` if the file cannot be read or written (the word is accepted for
        the session anyway, and an unreadable file is left as it is).
        """
        word = _normalise(word).strip().strip("'")
        if not word:
            return
        self._personal.setdefault(word.lower(), word)
        self._forget()
        if self._path is not None:
            with _FILE_LOCK:
                merged = {_normalise(w).lower(): w for w in self._read_personal(self._path)}
                merged.update(self._personal)
                self._write_personal(self._path, sorted(merged.values(), key=_sort_key))

    def ignore(self, word: str) -> None:
        """Accept ``word`` until the program closes, without writing it anywhere."""
        word = _normalise(word).strip().strip("'").lower()
        if word:
            self._ignored.add(word)
            self._forget()

    def personal_words(self) -> list[str]:
        return sorted(self._personal.values(), key=_sort_key)

    @staticmethod
    def _read_personal(path: Path) -> list[str]:
        """The words in the file; raises ``StudioError`` if it exists but cannot be read, so a
        caller about to rewrite it does not replace the author's list with a shorter one."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise StudioError(f"Could not read the personal word list {path}: {reason}.") from exc
        return [line.strip() for line in text.splitlines() if line.strip()]

    @staticmethod
    def _write_personal(path: Path, words: list[str]) -> None:
        write_text_atomically(path, "".join(f"{w}\n" for w in words))

