"""Spelling on pyspellchecker's real dictionaries: checks, suggestions, the personal word list."""

from __future__ import annotations

import threading

import pytest

from studio.domain.errors import StudioError
from studio.services.spelling import Speller, available_languages, get_speller, iter_words


@pytest.fixture(scope="module")
def en() -> Speller:
    return get_speller("en")


def test_known_and_misspelled_words_with_suggestions(en):
    assert en.is_correct("lighthouse")
    assert en.is_correct("Lighthouse") and en.is_correct("LIGHTHOUSE")
    assert not en.is_correct("lihgthouse")
    assert "lighthouse" in en.suggestions("lihgthouse")
    assert en.suggestions("lihgthouse")[0] == "lighthouse"
    # The suggestion takes the capitalisation of the word it replaces.
    assert en.suggestions("Lihgthouse")[0] == "Lighthouse"
    assert en.suggestions("recieve", limit=1) == ["receive"]


def test_words_that_are_not_checked_as_words(en):
    for word in ("R2D2", "3rd", "1984", "x", "I", "NASA", "BBC"):
        assert en.is_correct(word), word
    assert not en.is_correct("Nasaa")  # capitalised is not an acronym


def test_apostrophes_typographic_and_possessive(en, tmp_path):
    assert en.is_correct("keeper’s") and en.is_correct("keeper's")
    assert en.is_correct("don’t") and en.is_correct("shouldn’t")
    assert en.is_correct("Wren’s")
    assert not en.is_correct("keeepr’s")
    # A possessive is accepted through its stem, here a name only the personal list knows.
    speller = Speller("en", tmp_path / "words.txt")
    assert not speller.is_correct("Wrenna’s")
    speller.add_to_personal("Wrenna")
    assert speller.is_correct("Wrenna’s") and speller.is_correct("Wrenna's")
    assert speller.is_correct("Wrenna’ll")
    assert not speller.is_correct("Wrenna’x")
    # Suggestions keep the word's kind of apostrophe.
    assert "keeper’s" in en.suggestions("keeepr’s")


def test_add_to_personal_persists_atomically_and_is_shared_through_the_file(tmp_path):
    path = tmp_path / "profile" / "personal-words.txt"
    speller = Speller("en", path)
    assert not path.exists()
    assert not speller.is_correct("Saltmarsh")  # cached as wrong…
    speller.add_to_personal("Saltmarsh")
    assert speller.is_correct("Saltmarsh")  # …and the cache was cleared
    assert speller.is_correct("saltmarsh")
    assert path.read_text(encoding="utf-8") == "Saltmarsh\n"
    assert [p.name for p in path.parent.iterdir()] == ["personal-words.txt"]  # no temp left

    again = Speller("en", path)
    assert again.is_correct("Saltmarsh")
    assert again.personal_words() == ["Saltmarsh"]
    # Personal words are offered first when a name is misspelt.
    assert again.suggestions("Saltmarhs")[0] == "Saltmarsh"

    # A speller of another language on the same file keeps the words added since it loaded.
    french = Speller("fr", path)
    speller.add_to_personal("Gullrock")
    french.add_to_personal("Ébène")
    assert path.read_text(encoding="utf-8").splitlines() == ["Ébène", "Gullrock", "Saltmarsh"]


def test_a_failed_write_leaves_the_list_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "words.txt"
    path.write_text("Gullrock\n", encoding="utf-8")
    speller = Speller("en", path)

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("studio.services.files.os.replace", disk_full)
    with pytest.raises(StudioError, match="Could not write .*No space left"):
        speller.add_to_personal("Zorblax")
    assert speller.is_correct("Zorblax")  # accepted for the session all the same
    assert path.read_text(encoding="utf-8") == "Gullrock\n"
    assert [p.name for p in tmp_path.iterdir()] == ["words.txt"]  # the temp file is gone


def test_an_unreadable_list_is_never_overwritten(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes(b"Gullrock\n\xff\xfe broken\n")
    speller = Speller("en", path)  # spell-checking still works
    assert speller.is_correct("lighthouse")
    with pytest.raises(StudioError, match="Could not read"):
        speller.add_to_personal("Zorblax")
    assert speller.is_correct("Zorblax")
    assert path.read_bytes() == b"Gullrock\n\xff\xfe broken\n"


def test_ignore_lasts_for_the_session_only(tmp_path):
    path = tmp_path / "words.txt"
    speller = Speller("en", path)
    assert not speller.is_correct("Zorblax")
    speller.ignore("Zorblax")
    assert speller.is_correct("Zorblax") and speller.is_correct("ZORBLAX")
    assert not path.exists()
    assert not Speller("en", path).is_correct("Zorblax")


def test_unknown_language_is_a_clear_value_error():
    assert {"en", "es", "fr", "de", "it", "pt", "nl", "ru"} <= set(available_languages())
    with pytest.raises(ValueError, match=r"“klingon”.*Available: .*\ben\b.*\bfr\b"):
        Speller("klingon")
    with pytest.raises(ValueError):
        get_speller("xx")


def test_other_languages_and_regional_codes():
    spanish = get_speller("es")
    assert spanish.is_correct("corazón") and not spanish.is_correct("corazónn")
    assert get_speller("en-GB") is get_speller("en")


def test_get_speller_loads_once_across_threads(tmp_path):
    results: list[Speller] = []
    path = tmp_path / "w.txt"
    threads = [threading.Thread(target=lambda: results.append(get_speller("de", path)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert results[0].is_correct("Leuchtturm")


def _words(text: str) -> list[tuple[int, int, str]]:
    found = list(iter_words(text))
    for start, length, word in found:  # offsets really point at the word
        assert text[start:start + length] == word
    return found


def test_iter_words_offsets_in_prose():
    line = "“Don’t,” said Wren’s keeper—a well-known café owner… 'Tis naïve!"
    assert _words(line) == [
        (1, 5, "Don’t"), (9, 4, "said"), (14, 6, "Wren’s"), (21, 6, "keeper"),
        (28, 1, "a"), (30, 4, "well"), (35, 5, "known"), (41, 4, "café"), (46, 5, "owner"),
        (54, 3, "Tis"), (58, 5, "naïve"),
    ]


def test_iter_words_skips_markup_links_and_numbers():
    line = "## *Bold* **move**, _quiet_ 1984 3rd — see https://gull.rock/a_b, www.x.org or a@b.io."
    assert [w for _, _, w in _words(line)] == ["Bold", "move", "quiet", "3rd", "see", "or"]
    # A decomposed accent (e + U+0301) stays inside its word.
    assert [w for _, _, w in _words("cafe\u0301 noir")] == ["cafe\u0301", "noir"]
    assert _words("") == [] and _words("— … ***") == []
