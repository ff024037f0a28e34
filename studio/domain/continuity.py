"""The continuity checker: the scene bible held against the prose, as a list of findings.

Pure Python (no Qt, SQL or files) so the rules can be tested on hand-written prose and run on a
worker thread.  The rules are deliberately plain heuristics an author can predict: capitalised
words next to speech verbs are speakers, capitalised words after place prepositions are places,
keyword phrases stand for plot threads.  They err towards saying nothing: a name must recur and
speak before it is reported, and every finding can be dismissed (its ``key`` stays the same
between runs while the text it points at stays).

Speed: a million-word manuscript is ~20,000 segments.  Every regular expression is compiled
once and run on one segment at a time, never on the joined text, so no single C call holds the
interpreter lock for long and the UI thread keeps painting while this runs on a worker.  Name
look-ups are sets and dicts; the expensive per-name expressions (inactive characters,
multi-word names) only run on segments a set intersection or substring test has picked.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

# The check runs on a worker thread while the UI thread paints, and both need the interpreter
# lock.  Left alone, a thread that wants the lock waits out the 5 ms switch interval (twice per
# Qt timer callback); so every YIELD_EVERY segments (~1.5 ms of work) the check sleeps
# YIELD_SECONDS, long enough for a waiting UI thread to take the lock even on a busy machine
# (time.sleep(0) is often too short: the worker takes the lock back first).  Cost: ~10 %.
YIELD_EVERY = 64
YIELD_SECONDS = 0.0002
PROGRESS_EVERY = 32 * YIELD_EVERY  # segments between progress calls (~2000)
RULES = ("timeline_missing_segment", "unknown_character", "inactive_character_acts",
         "unknown_location", "thread_reopened", "timeline_order", "thread_open_at_end")
MAX_KEY_SUBJECT = 200  # keys are stored in a 500-character column


@dataclass(frozen=True)
class ProseSegment:
    """One paragraph of the manuscript, in reading order."""
    id: str
    chapter_uid: str
    scene_uid: str
    text: str


@dataclass(frozen=True)
class Finding:
    key: str  # rule:subject:segment — stable across runs, what a dismissal remembers
    rule: str
    message: str
    segment_id: str | None
    scene_uid: str | None
    subject: str  # a name, character id, thread id or event id/text
    suggestion: str | None = None  # e.g. "add_character": offer to add `subject` to the bible


@dataclass
class ContinuityReport:
    findings: list[Finding]
    dismissed_count: int
    segments_checked: int


# --- vocabulary -----------------------------------------------------------------------------

SPEECH_VERBS = frozenset((
    "said says asked asks replied replies whispered whispers shouted shouts muttered mutters "
    "cried cries answered answers called calls added adds snapped snaps laughed laughs sighed "
    "sighs murmured murmurs insisted insists admitted admits yelled yells screamed screams "
    "exclaimed exclaims declared declares demanded demands pleaded pleads growled growls "
    "hissed hisses breathed stammered gasped agreed agrees explained explains announced "
    "remarked retorted suggested warned promised continued began whimpered grumbled "
    "chuckled told tells").split())
# Irregular past tenses: "-ed" and "-s" words are recognised by their ending.
ACTION_VERBS = frozenset((
    "went came ran saw took gave made stood sat fell held kept left told thought felt knew "
    "got put brought found heard spoke wrote rose drew shook woke swam fought threw caught "
    "bit hid led lay sang rode struck tore wore won stole slept smiled nodded turned").split())
# Words ending in -s / -ed after a name that do not mean the character acts.
NOT_ACTIONS = frozenset((
    "is was has does as his hers its this thus yes us always perhaps towards afterwards "
    "sometimes besides unless across less lies rests remains died used").split())
TITLES = frozenset("mr mrs ms miss dr sir madam lady lord captain professor prof st".split())
STOPWORDS = frozenset((
    # pronouns, articles, conjunctions, sentence openers
    "i me my mine we us our you your he him his she her hers it its they them their this that "
    "these those the a an and but or nor so yet for if when while then now there here where "
    "what who whom whose why how which after before later soon meanwhile once still even just "
    "only yes no not oh ah well please thank thanks sorry hello goodbye nobody someone somebody "
    "everyone everybody anyone nothing something everything all both each every some many most "
    "one two three by at in on to from with without into of off up down out over under "
    "through toward towards across along beneath behind beside above past near onto as "
    "because although though until since again perhaps maybe instead suddenly finally that's "
    "it's i'm i'll i'd i've don't can't won't didn't "
    # days, months, seasons, holidays, deities, book words
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december spring summer autumn winter "
    "christmas easter god heaven hell chapter scene part book ok okay").split())
_FINISHED = "theend"

# --- expressions (compiled once; every one runs on a single segment) -------------------------
# Each pattern starts with a capital letter, so the regex engine skips ahead to the next capital
# in C; what must come before it (a speech verb, a place word) is checked by look-behinds.  That
# is 3-6x faster than patterns that start with an alternation or a look-behind.


def _alternation(words: Iterable[str], after_first: str = "") -> str:
    """Literal words as an alternation grouped by first letter ("s(?:aid|ays)|a(?:sked)"), so a
    word that matches none is rejected after one character instead of one try per word.
    ``after_first`` goes after each first letter (a look-behind there keeps the engine's
    first-letter scan, which a look-behind at the very start would turn off)."""
    groups: dict[str, list[str]] = {}
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        groups.setdefault(w[0], []).append(re.escape(w[1:]))
    return "|".join(f"{re.escape(c)}{after_first}(?:{'|'.join(rest)})"
                    for c, rest in sorted(groups.items()))


def _preceded_by(words: Iterable[str], gaps: Sequence[str] = (" ",)) -> str:
    """True just after a capital that follows one of ``words`` and a gap: one look-behind per
    word length, since Python's look-behinds must have a fixed width."""
    by_len: dict[int, list[str]] = {}
    for w in sorted(set(words)):
        by_len.setdefault(len(w), []).append(re.escape(w))
    return "|".join(rf"(?<=\b(?:{'|'.join(ws)}){re.escape(gap)}.)"
                    for _, ws in sorted(by_len.items()) for gap in gaps)


_UP = "A-ZÀ-ÖØ-ÞĀ-ɏΑ-ΩА-ЯЁ"  # capital letters (the Latin Extended range is checked in Python)
_TAIL = rf"[\w\-]*(?:['’][{_UP}][\w\-]*)?"  # rest of a name word: O'Brien, Mary-Jane (not 's)
_WORD = rf"[{_UP}]{_TAIL}"
_FIRST = rf"[{_UP}](?<![\w'’\-].){_TAIL}"  # a name word that does not start inside a word
_TITLE_DOT = r"(?:(?<=\b(?:Mr|Ms|Dr|St))\.|(?<=\bMrs)\.|(?<=\bProf)\.)?"  # "Mr. Hale"
_MORE = rf"{_TITLE_DOT}(?:[ ]+{_WORD})*"  # further capitalised words of the same name

_SPEECH = _alternation(SPEECH_VERBS)
_ACTIONS = _alternation(ACTION_VERBS)
_NOT_ACTIONS = _alternation(NOT_ACTIONS)

CAP_WORD_RE = re.compile(_FIRST)
# "Marlow said", "Mr. Hale whispered"
SPEAKER_BEFORE_RE = re.compile(rf"({_FIRST}{_MORE})[ ]+(?:{_SPEECH})\b")
# "said Marlow"; group 2 catches "said Marlow's brother", where Marlow does not speak
SPEAKER_AFTER_RE = re.compile(
    rf"([{_UP}](?:{_preceded_by(SPEECH_VERBS)}){_TAIL}{_MORE})(['’]s\b)?")
_CONNECTORS = ("of", "upon", "de", "du", "la")  # lowercase words inside a place name
PLACE_WORDS = ("in at to from into toward towards near across through reached entered left "
               "onto past beyond inside outside around leaving reaching entering visited").split()
_AFTER_PLACE_WORD = _preceded_by([*PLACE_WORDS, *(w.capitalize() for w in PLACE_WORDS)],
                                 (" ", " the ", " The "))
# "at Blackrock Harbour", "into the Drowned Quarter", "In The Hague", "near Isle of Skye"
PLACE_RE = re.compile(
    rf"([{_UP}](?:{_AFTER_PLACE_WORD}){_TAIL}"
    rf"(?:[ ]+(?:(?:{'|'.join(_CONNECTORS)})[ ]+)?{_WORD})*)"
    rf"(['’]s\b)?")  # group 2: "to Marlow's house", a person's place
_NON_WORD_RE = re.compile(r"[\W_]+")


# --- helpers --------------------------------------------------------------------------------

def _let_others_run() -> None:
    """Release the interpreter lock for a moment (see YIELD_EVERY)."""
    time.sleep(YIELD_SECONDS)


def looks_finished(segments: Sequence[ProseSegment]) -> bool:
    """True when the last paragraph reads "The End" once spaces and punctuation are gone
    ("THE END.", "* The End *", "— the end —"): authors mark a finished draft that way."""
    return bool(segments) and _NON_WORD_RE.sub("", segments[-1].text).casefold() == _FINISHED


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _place_norm(name: str) -> str:
    """Place names compare case-insensitively with an optional leading "the"."""
    n = _norm(name)
    return n[4:] if n.startswith("the ") else n


def _snippet(text: str, start: int, end: int, words_before: int) -> str:
    """The match with the words before it that made the rule fire ("said Marlow", "into the
    Drowned Quarter"), to show the author in the message."""
    before = text[max(0, start - 40):start].split()[-words_before:] if words_before else []
    return " ".join([*before, text[start:end]])


def _split_name(run: str) -> tuple[list[str], list[str]] | None:
    """(titles, core words) of a capitalised run, or None when nothing name-like is left.

    Leading sentence words are dropped ("Then Marlow" → Marlow); titles are kept apart so
    "Mr Hale" is reported as "Mr Hale" but matched and counted as "Hale"."""
    words = [w.rstrip(".") for w in run.split()]
    while words and words[0].casefold() in STOPWORDS:
        words.pop(0)
    titles = []
    while words and words[0].casefold() in TITLES:
        titles.append(words.pop(0))
    if not words or not all(w[0].isupper() or w in _CONNECTORS for w in words[1:-1]) \
            or not (words[0][0].isupper() and words[-1][0].isupper()):
        return None
    return titles, words


def _count_phrases(phrases: Iterable[str], texts: Sequence[str], need: int = 2) -> dict[str, int]:
    """Occurrences of each multi-word phrase (case-sensitive), counting up to ``need``: only
    segments holding the phrase's first word are searched."""
    counts = {}
    for phrase in phrases:
        body = r"\s+".join(re.escape(w) for w in phrase.split())
        rx = re.compile(rf"(?<![\w'’\-]){body}(?![\w'’\-])")
        first, n = phrase.split()[0], 0
        for j, text in enumerate(texts):
            if j % 4096 == 0:
                _let_others_run()
            if first in text:
                n += len(rx.findall(text))
                if n >= need:
                    break
        counts[phrase] = n
    return counts


@dataclass
class _Bible:
    """The parts of the bible the rules look at, as sets and dicts."""
    known_full: set[str]  # casefolded names and aliases (title-stripped too)
    known_words: set[str]  # casefolded single words of those names
    places: set[str]  # _place_norm of location names, aliases, primary location
    inactive: dict[str, tuple[int, str, re.Pattern[str]]]  # char id → (since index, name, rx)
    triggers: dict[str, set[str]]  # capitalised word → ids of inactive characters it names
    loose: list[tuple[str, str]]  # (lowercase-initial alias, char id): substring test


def _read_bible(bible: Mapping[str, Any], index: Mapping[str, int]) -> _Bible:
    chars = bible.get("characters") or []
    known_full, known_words = set(), set()
    owners: dict[str, set[str]] = {}  # every name, alias and name word → character ids
    for c in chars:
        for n in [c.get("name") or "", *(c.get("aliases") or [])]:
            if not n.strip():
                continue
            known_full.add(_norm(n))
            owners.setdefault(" ".join(n.split()), set()).add(c["id"])
            split = _split_name(n)
            if split is None:  # a lowercase alias ("the old man"): matched whole only
                continue
            words = split[1]
            core = " ".join(words)
            known_full.add(_norm(core))
            known_words.update(w.casefold() for w in words)
            owners.setdefault(core, set()).add(c["id"])  # "Mr Hale" → also "Hale"
            if len(words) > 1:  # "Ada Quill" → also "Ada" and "Quill"
                for w in words:
                    owners.setdefault(w, set()).add(c["id"])
    setting = bible.get("setting") or {}
    places = {_place_norm(n) for loc in setting.get("locations") or []
              for n in [loc.get("name") or "", *(loc.get("aliases") or [])] if n.strip()}
    if (setting.get("primary_location") or "").strip():
        places.add(_place_norm(setting["primary_location"]))

    inactive, triggers, loose = {}, {}, []
    for c in chars:
        since = index.get(c.get("inactive_since") or "")
        if c.get("active", True) or since is None:
            continue
        if len(inactive) % 4 == 3:
            _let_others_run()  # compiling an expression takes ~0.3 ms
        # A word shared with another character (two Quills) cannot say who acts.
        names = [n for n, ids in owners.items() if c["id"] in ids and (len(ids) == 1 or " " in n)]
        if not names:
            continue
        alt = "|".join(re.escape(n).replace(r"\ ", "[ ]+")
                       for n in sorted(names, key=len, reverse=True))
        # "said Ada" (not "said Ada's", not "said Ada Morgan"), or "Ada walked", "Ada slowly
        # turns", "Ada said": the name, an optional -ly adverb, a speech/action/-ed/-s verb.
        rx = re.compile(
            rf"\b(?:{_SPEECH})[ ]+(?:{alt})(?![\w'’\-]|[ ]+[{_UP}])"
            rf"|(?<![\w'’\-])(?:{alt})[ ]+(?:[a-z]+ly[ ]+)?(?!(?:{_NOT_ACTIONS})\b)"
            rf"(?:{_SPEECH}|{_ACTIONS}|[a-z]+ed|[a-z]+s)\b")
        name = c.get("name") or c["id"]
        if c.get("inactive_reason"):
            name = f"{name} ({c['inactive_reason']})"
        inactive[c["id"]] = (since, name, rx)
        for n in names:
            m = CAP_WORD_RE.match(n)
            if m:
                triggers.setdefault(m.group(0), set()).add(c["id"])
            else:
                loose.append((n, c["id"]))
    return _Bible(known_full, known_words, places, inactive, triggers, loose)


# --- the check ------------------------------------------------------------------------------

def check(bible: Mapping[str, Any], segments: Sequence[ProseSegment], story_complete: bool = False,
          dismissed: Iterable[str] = frozenset(),
          progress: Callable[[int, int], None] | None = None) -> ContinuityReport:
    """Check ``segments`` (reading order) against ``bible``; dismissed findings are counted,
    not returned.  ``progress(done, total)`` is called every PROGRESS_EVERY segments; an
    exception from it propagates (that is how the caller cancels)."""
    scan = _Scan(bible, segments)
    total = len(segments)
    for i, text in enumerate(scan.texts):
        if i and i % YIELD_EVERY == 0:
            _let_others_run()
            if progress is not None and i % PROGRESS_EVERY == 0:
                progress(i, total)
        words = CAP_WORD_RE.findall(text)
        scan.cap_counts.update(words)
        scan.speakers_in(i, text)
        if i > scan.inactive_from:
            scan.inactive_acting_in(i, text, words)
        scan.places_in(i, text)
        if i > scan.keywords_from:
            scan.keywords_in(i, text)
    if progress is not None and total:
        progress(total, total)
    scan.report_unknown_names()
    if total and (story_complete or looks_finished(segments)):
        scan.report_open_threads()
    scan.report_timeline()

    order = {rule: n for n, rule in enumerate(RULES)}
    scan.findings.sort(key=lambda pf: (pf[0], order[pf[1].rule], pf[1].subject))
    dismissed = set(dismissed)
    kept = [f for _, f in scan.findings if f.key not in dismissed]
    return ContinuityReport(kept, len(scan.findings) - len(kept), total)


class _Scan:
    """State of one check: the bible's look-up tables, what the pass over the prose has seen so
    far, and the findings.  The per-segment methods do only C-level regex and set work plus a
    little Python for the (rare) matches."""

    def __init__(self, bible: Mapping[str, Any], segments: Sequence[ProseSegment]):
        self.bible, self.segments = bible, segments
        self.texts = [s.text for s in segments]
        self.index: dict[str, int] = {}
        for i, seg in enumerate(segments):
            self.index.setdefault(seg.id, i)
        self.b = _read_bible(bible, self.index)
        self.findings: list[tuple[int, Finding]] = []  # (position, finding)
        self.cap_counts: Counter[str] = Counter()  # every capitalised word, for "recurs"
        self.seen_speakers: set[str] = set()  # runs next to a speech verb, already judged
        self.speakers: dict[str, tuple[int, str, str]] = {}  # unknown core → pos, name, snippet
        self.spoken: set[str] = set()  # casefolded cores of every speaker, known or not
        self.seen_places: set[str] = set()  # runs after a place word, already judged
        self.places: dict[str, tuple[int, str, str]] = {}  # place norm → pos, name, snippet
        self.inactive_from = min((v[0] for v in self.b.inactive.values()),
                                 default=len(segments))
        # resolved threads: keyword → [(resolved position, thread)], one expression for all
        self.kw_threads: dict[str, list[tuple[int, dict]]] = {}
        for t in bible.get("plot_threads") or []:
            if t.get("status", "active") == "resolved" and t.get("resolved_in") in self.index:
                for k in t.get("keywords") or []:
                    if k.strip():
                        self.kw_threads.setdefault(_norm(k), []).append(
                            (self.index[t["resolved_in"]], t))
        self.keywords_from = min((p for lst in self.kw_threads.values() for p, _ in lst),
                                 default=len(segments))
        self.kw_re = self._keyword_re()
        self.reopened: set[str] = set()

    def _keyword_re(self) -> re.Pattern[str] | None:
        """One expression for the keywords of threads not reported yet (rebuilt when a thread
        is reported, so a common word stops matching once its thread is done)."""
        if not self.kw_threads:
            return None
        alt = _alternation(self.kw_threads, r"(?<![\w'’\-].)").replace(r"\ ", r"\s+")
        return re.compile(rf"(?:{alt})(?![\w'’\-])")

    def add(self, pos: int, rule: str, subject: str, message: str,
            suggestion: str | None = None, key_segment: str | None = None) -> None:
        seg = self.segments[pos] if pos >= 0 else None
        seg_id = seg.id if seg else None
        key = f"{rule}:{subject[:MAX_KEY_SUBJECT]}:{key_segment or seg_id or '-'}"
        self.findings.append((pos, Finding(key, rule, message, seg_id,
                                           seg.scene_uid if seg else None, subject, suggestion)))

    # --- per segment ---

    def speakers_in(self, i: int, text: str) -> None:
        """Rule 1, first half: remember unknown names next to a speech verb.  A run is judged
        the first time it is seen (segments come in reading order), then skipped."""
        for run in SPEAKER_BEFORE_RE.findall(text):
            if run not in self.seen_speakers:
                self._new_speaker(i, text, run, SPEAKER_BEFORE_RE)
        for run, possessive in SPEAKER_AFTER_RE.findall(text):
            if run not in self.seen_speakers and not possessive:  # not "said Marlow's brother"
                self._new_speaker(i, text, run, SPEAKER_AFTER_RE)

    def _new_speaker(self, i: int, text: str, run: str, rx: re.Pattern[str]) -> None:
        """Known: a bible name or alias, every word a word of one, or a known location."""
        b = self.b
        self.seen_speakers.add(run)
        split = _split_name(run)
        if split is None:
            return
        core = " ".join(split[1])
        display = " ".join([*split[0], *split[1]])
        self.spoken.add(core.casefold())
        known = (core.casefold() in b.known_full or _place_norm(core) in b.places
                 or all(w.casefold() in b.known_words for w in split[1]))
        if not known and core not in self.speakers:
            m = next(m for m in rx.finditer(text) if m.group(1) == run)
            after = rx is SPEAKER_AFTER_RE
            snippet = _snippet(text, m.start(), m.end(1) if after else m.end(), int(after))
            self.speakers[core] = (i, display, snippet)

    def inactive_acting_in(self, i: int, text: str, words: list[str]) -> None:
        """Rule 2: a set intersection picks the inactive characters named here; only their
        expressions run."""
        b, ids = self.b, set()
        for w in b.triggers.keys() & set(words):
            ids |= b.triggers[w]
        if b.loose:
            ids.update(cid for alias, cid in b.loose if alias in text)
        for cid in sorted(ids):
            since, name, rx = b.inactive[cid]
            m = rx.search(text) if i > since else None
            if m:
                self.add(i, "inactive_character_acts", cid,
                         f"{name} is no longer active (since segment "
                         f"{self.segments[since].id}) but acts or speaks here: “{m.group(0)}”.")

    def places_in(self, i: int, text: str) -> None:
        """Rule 3, first half: remember unknown capitalised names after a place word."""
        for run, possessive in PLACE_RE.findall(text):
            if run not in self.seen_places and not possessive:  # not "to Marlow's house"
                self._new_place(i, text, run)

    def _new_place(self, i: int, text: str, run: str) -> None:
        b = self.b
        self.seen_places.add(run)
        split = _split_name(run)
        if split is None or split[0]:  # nothing left, or "to Mr Hale": a person
            return
        name = " ".join(split[1])
        norm = _place_norm(name)
        if not (norm in b.places or norm in b.known_full or norm in self.places
                or all(w.casefold() in b.known_words for w in split[1])):
            m = next(m for m in PLACE_RE.finditer(text) if m.group(1) == run)
            the = text[max(0, m.start() - 4):m.start()] in ("the ", "The ")
            self.places[norm] = (i, name, _snippet(text, m.start(), m.end(1), 1 + the))

    def keywords_in(self, i: int, text: str) -> None:
        """Rule 4: keywords of threads resolved before this segment."""
        reported = False
        for m in self.kw_re.finditer(text.casefold()):
            for resolved_at, t in self.kw_threads.get(_norm(m.group(0)), ()):
                if i > resolved_at and t["id"] not in self.reopened:
                    self.reopened.add(t["id"])
                    reported = True
                    self.add(i, "thread_reopened", t["id"],
                             f"Plot thread “{t['description']}” was resolved in segment "
                             f"{t['resolved_in']}, but “{m.group(0)}” comes up again here.")
        if reported:
            self.kw_threads = {k: pending for k, ts in self.kw_threads.items()
                               if (pending := [(p, t) for p, t in ts
                                               if t["id"] not in self.reopened])}
            self.kw_re = self._keyword_re()
            if self.kw_re is None:
                self.keywords_from = len(self.segments)

    # --- after the pass ---

    def report_unknown_names(self) -> None:
        """Rules 1 and 3, second half: only names that recur (≥ 2 times anywhere)."""
        multi = [n for n in [*self.speakers, *(p[1] for p in self.places.values())] if " " in n]
        phrase_counts = _count_phrases(multi, self.texts)

        def occurrences(name: str) -> int:
            return phrase_counts[name] if " " in name else self.cap_counts[name]

        for core, (pos, display, snippet) in self.speakers.items():
            n = occurrences(core)
            if n >= 2:
                self.add(pos, "unknown_character", display,
                         f"“{display}” speaks (“{snippet}”) and is named {n} times, but no "
                         "character in the scene bible has that name or alias.", "add_character")
        for pos, name, snippet in self.places.values():
            n = occurrences(name)
            if n >= 2 and name.casefold() not in self.spoken:
                self.add(pos, "unknown_location", name,
                         f"“{name}” is used as a place (“{snippet}”) and named {n} times, but "
                         "the scene bible has no location with that name or alias.",
                         "add_location")

    def report_open_threads(self) -> None:
        """Rule 4b: the story is finished but a thread is still active."""
        for t in self.bible.get("plot_threads") or []:
            if t.get("status", "active") == "active":
                self.add(len(self.segments) - 1, "thread_open_at_end", t["id"],
                         f"The story is finished, but plot thread “{t['description']}” is "
                         "still open (resolve it or mark it abandoned).")

    def report_timeline(self) -> None:
        """Rule 5: events listed in story-time order whose segments are read in the opposite
        order; events whose segment was deleted."""
        placed: list[tuple[dict, int]] = []
        for e in (self.bible.get("timeline") or {}).get("events") or []:
            seg_id = e.get("segment")
            if not seg_id:
                continue
            if seg_id not in self.index:
                self.add(-1, "timeline_missing_segment", e.get("id") or e["event"],
                         f"Timeline event “{e['event']}” points at segment {seg_id}, which is "
                         "no longer in the manuscript.", key_segment=seg_id)
            else:
                placed.append((e, self.index[seg_id]))
        for (before, p0), (after, p1) in zip(placed, placed[1:]):
            if p1 < p0:
                self.add(p1, "timeline_order", after.get("id") or after["event"],
                         f"Timeline event “{after['event']}” happens after “{before['event']}”, "
                         f"but its segment comes earlier in the manuscript "
                         f"({self.segments[p1].id} before {self.segments[p0].id}).")

