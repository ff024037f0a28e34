"""Who is in the story: the bible's characters and the people the prose names on its own.

An author's bible is the truth when there is one; the prose is read for everybody else, with
rules an author can predict (and that err towards leaving a name out):

1. Every capitalised run of every sentence is read once (``corpus.RUN_RE``) and parsed into
   titles and core words ("Mr. Bingley" → mr + Bingley, "Then Marlow" → Marlow).
2. Each distinct name gathers evidence over the whole story: said by a speech verb ("said
   the Dodo", "Holmes whispered"), a title, being spoken to ("Come, Darcy,"), a person's verb
   after it, a common given name, an endearment ("poor Alice") — and evidence against: place
   prepositions ("at Netherfield"), place words ("Baker Street"), plural groups ("the Huns"),
   an article ("a Hercules"), common capitalised words (days, months, God, nationalities…).
   A name is a person when the evidence says so and it recurs in mid-sentence (a name that
   only ever opens a sentence is more likely a capitalised word than a name).
3. Names are merged into people: a full name absorbs its parts ("Elizabeth Bennet" +
   "Elizabeth"), a bare surname joins its titled holder ("Darcy" → "Mr. Darcy"), a pet name
   its given name ("Lizzy" → Elizabeth), a bare title its only holder ("the Count"), a form of
   address its rank ("your Majesty" → the King).  "Mr. Bennet", "Mrs. Bennet" and "Elizabeth
   Bennet" stay three people.
4. Every mention is then counted once: dialogue lines (speech attributions in paragraphs with
   quotes), interiority (the person, or a pronoun right after naming them, thinks, feels,
   wonders, remembers…), the first scene, and the paragraphs they are in (for their emotions).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from studio.domain import cast_words as W
from studio.domain.corpus import RUN_RE, Corpus, items, mapping
from studio.domain.lexicons import FEMALE_NAMES, GIVEN_NAMES, MALE_NAMES

Progress = Callable[[str, float], None]
PROGRESS_EVERY = 2000  # sentences between progress calls
MIN_MID_MENTIONS = 2  # mid-sentence mentions before weak evidence makes a name a person
DOMINANT_RATIO = 2.0  # a bare surname joins the most-mentioned holder if it has 2× the next

_PRONOUN_THOUGHT_RE = re.compile(
    r"\b(?:[Hh]e|[Ss]he|[Tt]hey)\s+(?:\w+ly\s+)?(?:" + "|".join(sorted(W.THOUGHT)) + r")\b")
_INITIAL_BEFORE = frozenset("\"'“‘([:")


@dataclass
class Person:
    name: str
    id: str | None
    in_bible: bool
    forms: Counter = field(default_factory=Counter)  # surface forms seen in the prose
    mentions: int = 0
    dialogue_lines: int = 0
    interiority: int = 0
    first_scene: int = -1
    segments: list[int] = field(default_factory=list)  # paragraphs naming them, in order


@dataclass
class _Stats:
    """Evidence gathered for one parsed name over the whole story."""
    n: int = 0
    mid: int = 0
    speech: int = 0
    vocative: int = 0
    verb: int = 0
    endear: int = 0
    possessive: int = 0
    place: int = 0
    the: int = 0
    article: int = 0
    titled: int = 0
    titles: set = field(default_factory=set)
    surfaces: Counter = field(default_factory=Counter)


def _clean(word: str) -> str:
    return word.rstrip(".").replace("’", "'")


_PARSE_MEMO: dict[str, Any] = {}
_KEY_MEMO: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}


def parse_name(run: str) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """(normalised titles, core words, whether leading words were dropped) of a capitalised
    run, or None when no name is left.  All-capital words (emphasis, headings) end a name."""
    hit = _PARSE_MEMO.get(run, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    words = [_clean(w) for w in run.split()]
    titles: list[str] = []
    dropped = False
    i = 0
    while i < len(words):
        w = words[i]
        low = w.casefold()
        if len(w) > 1 and w.isupper():
            if titles:
                break
            dropped = True
        elif low in W.TITLE_FORMS and (i + 1 < len(words) or not titles):
            titles.append(W.TITLE_FORMS[low])
        elif low in W.HONORIFICS and not titles:
            titles.append(low)
        elif not titles and low in W.OPENERS:
            dropped = True
        else:
            break
        i += 1
    core: list[str] = []
    for w in words[i:]:
        # after a title any word is a name ("Mrs. Darling", "Mrs. Long")
        low = w.casefold()
        if (len(w) > 1 and w.isupper()) or low in W.NEVER_NAMES or (
                low in W.NOT_NAMES and not (titles and not core)):
            break
        core.append(w)
    while core and core[-1].islower():  # a trailing particle
        core.pop()
    if not core and len(titles) >= 2:  # "Miss King": the last title was the name
        core = [words[i - 1]]
        titles.pop()
    result = None
    if core and all(len(w) > 1 or w.isalpha() for w in core) and core[0][:1].isupper():
        result = (tuple(titles), tuple(core), dropped)
    elif titles and not core:
        result = (tuple(titles), (), dropped)
    if len(_PARSE_MEMO) < 200_000:
        _PARSE_MEMO[run] = result
    return result


def _key(titles: tuple[str, ...], core: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """What identifies a name: its gender class (from the title) and its core words; a bare
    title is ("@count", ()) and a form of address ("@majesty", ())."""
    hit = _KEY_MEMO.get((titles, core))
    if hit is None:
        hit = _KEY_MEMO[titles, core] = _make_key(titles, core)
    return hit


def _make_key(titles: tuple[str, ...], core: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if not core:
        t = titles[-1]
        return ("@" + t, ())
    gender = next((W.TITLE_GENDER[t] for t in titles if t in W.TITLE_GENDER), "")
    return (gender, core)


def _surface(titles_raw: str, core: tuple[str, ...]) -> str:
    return " ".join([*titles_raw.split(), *core]) if titles_raw else " ".join(core)


@dataclass(slots=True)
class _Occurrence:
    sentence: int
    key: tuple[str, tuple[str, ...]]
    speech: bool
    thought: bool  # the name is followed (or preceded, "thought Alice") by a thought verb


class CastFinder:
    """Reads a corpus once (``collect``), decides who is a person (``decide``), then counts
    (``count``).  ``find_cast`` runs all three."""

    def __init__(self, corpus: Corpus, bible: Mapping[str, Any], progress: Progress | None,
                 stage: str = "cast"):
        self.corpus, self.progress, self.stage = corpus, progress, stage
        self.stats: dict[tuple[str, tuple[str, ...]], _Stats] = {}
        self.occurrences: list[_Occurrence] = []
        self.persons: list[Person] = []
        self.resolve: dict[tuple[str, tuple[str, ...]], int | None] = {}
        self.phrases: dict[str, int] = {}  # lowercase bible aliases ("the old man") → person
        self.blocked: set[str] = set()  # casefolded setting places
        self._read_bible(bible)

    # --- the bible ---

    def _read_bible(self, bible: Mapping[str, Any]) -> None:
        words: dict[tuple[str, tuple[str, ...]], set[int]] = {}
        for c in items(bible.get("characters")):
            c = mapping(c)
            name = c.get("name")
            if not isinstance(name, str) or not name.strip():
                continue
            index = len(self.persons)
            self.persons.append(Person(" ".join(name.split()), str(c.get("id") or "") or None,
                                       True))
            for form in [name, *(a for a in items(c.get("aliases")) if isinstance(a, str))]:
                form = " ".join(form.split())
                if not form:
                    continue
                first = form.split()[0]
                if first[:1].islower() or (first.casefold() in W.OPENERS
                                           and first.casefold() not in W.TITLE_FORMS):
                    self.phrases.setdefault(form.casefold(), index)
                    continue
                parsed = parse_name(form)
                if parsed is None:
                    self.phrases.setdefault(form.casefold(), index)
                    continue
                titles, core, _ = parsed
                key = _key(titles, core)
                self.resolve.setdefault(key, index)
                if key[0].startswith("@"):
                    continue
                if key[0] in ("m", "f", "miss"):  # "Mr. Darcy": the bare "Darcy" too
                    words.setdefault(("", core), set()).add(index)
                    continue
                if len(core) > 1:  # "Ada Quill": "Ada" and "Quill" too, unless shared
                    for w in core:
                        if w[:1].isupper():
                            words.setdefault(("", (w,)), set()).add(index)
        for key, owners in words.items():
            if key not in self.resolve:
                self.resolve[key] = next(iter(owners)) if len(owners) == 1 else None
        setting = mapping(bible.get("setting"))
        places = [setting.get("primary_location")]
        for loc in items(setting.get("locations")):
            places += [mapping(loc).get("name"), *items(mapping(loc).get("aliases"))]
        for place in places:
            if isinstance(place, str) and place.strip():
                parsed = parse_name(" ".join(place.split()))
                if parsed and parsed[1]:
                    self.blocked.add(" ".join(parsed[1]).casefold())
        self._phrase_re = re.compile(
            r"\b(?:" + "|".join(re.escape(p) for p in sorted(self.phrases, key=len,
                                                            reverse=True)) + r")\b",
            re.IGNORECASE) if self.phrases else None

    # --- pass 1: every capitalised run ---

    def collect(self) -> None:
        stats, occ = self.stats, self.occurrences
        sentences = self.corpus.sentences
        segments = self.corpus.segments
        total = len(sentences)
        for si, sent in enumerate(sentences):
            if self.progress is not None and si and si % PROGRESS_EVERY == 0:
                self.progress(self.stage, round(0.6 * si / total, 4))
            text = sent.text
            quoted = segments[sent.segment].quoted
            for m in RUN_RE.finditer(text):
                start, end = m.start(), m.end()
                run = text[start:m.start("pos")] if m.group("pos") else text[start:end]
                parsed = parse_name(run)
                if parsed is None:
                    continue
                titles, core, dropped = parsed
                if "saint" in titles:
                    continue  # St. John's Wood, St. George's Day: places and feasts
                before = text[max(0, start - 40):start]
                stripped = before.rstrip()
                initial = not stripped or stripped[-1] in _INITIAL_BEFORE
                prev = [w.strip(".,;:!?\"'“”‘’()—-_").casefold() for w in before.split()[-3:]]
                after = text[end:end + 40]
                # the words right after, when nothing stands between ("Ada smiled", not
                # "Ada, smiling" nor "Bistritz.--Left Munich")
                nxt = [w.strip(".,;:!?\"'“”‘’()—-_").casefold() for w in after.split()[:2]] \
                    if after[:1] == " " else []
                key = _key(titles, core)
                st = stats.get(key)
                if st is None:
                    st = stats[key] = _Stats()
                st.n += 1
                if titles:
                    st.titled += 1
                    st.titles.update(titles)
                if not initial or dropped:
                    st.mid += 1
                raw_titles = " ".join(run.split()[:len(run.split()) - len(core)]) if core \
                    else run
                st.surfaces[_surface(raw_titles if titles else "", core) if core
                            else run.split()[-1]] += 1
                p1 = prev[-1] if prev else ""
                speech = False
                if quoted:
                    if nxt and nxt[0] in W.SPEECH:
                        speech = True
                    else:
                        for k in range(len(prev) - 1, -1, -1):
                            if prev[k] in W.SPEECH:
                                speech = True
                                break
                            if prev[k] not in W.SPEAKER_FILLERS:
                                break
                thought = bool(nxt) and (nxt[0] in W.THOUGHT or (
                    nxt[0].endswith("ly") and len(nxt) > 1 and nxt[1] in W.THOUGHT)) \
                    or p1 in W.THOUGHT or (bool(m.group("pos")) and bool(nxt)
                                           and nxt[0] in W.INNER_NOUNS)
                if speech:
                    st.speech += 1
                elif nxt and (nxt[0] in W.PERSON_VERBS or (nxt[0].endswith("ed")
                                                           and len(nxt[0]) > 4)):
                    st.verb += 1
                if thought:
                    st.verb += 1
                if m.group("pos"):
                    st.possessive += 1
                if p1 in W.ENDEARMENTS:
                    st.endear += 1
                if (p1 in W.PLACE_PREPOSITIONS and not (p1 == "to" and len(prev) > 1
                                                        and prev[-2] == "as")) \
                        or (p1 == "the" and len(prev) > 1
                            and prev[-2] in W.PLACE_PREPOSITIONS):
                    st.place += 1
                if p1 == "the":
                    st.the += 1
                elif p1 in ("a", "an"):
                    st.article += 1
                if sent.spans and not initial and stripped[-1:] == "," \
                        and after[:1] in (",", "!", "?", ".") \
                        and any(a <= start < b for a, b in sent.spans):
                    st.vocative += 1  # spoken to: "Come, Darcy," / "What say you, Mary?"
                occ.append(_Occurrence(si, key, speech, thought))

    # --- decisions ---

    def _is_person(self, key: tuple[str, tuple[str, ...]], st: _Stats) -> bool:
        gender, core = key
        if core:
            low = [w.casefold() for w in core]
            if " ".join(low) in self.blocked or any(w in W.PLACE_WORDS for w in low) or \
                    low[-1].endswith(W.PLACE_SUFFIXES) or (
                        not st.titled and any(w in W.NOT_NAMES for w in low)):
                return False
        if st.titled and core:
            return st.place * 2 <= st.n or st.speech > 0
        group = len(core) == 1 and core[0].endswith("s") and not core[0].endswith("ss") \
            and st.the * 2 >= st.n
        against = st.place + st.article + (st.n if group else 0)
        if st.speech:
            return st.speech >= against or st.speech >= 2
        if against * 2 >= st.n and against:
            return False
        given = bool(core) and core[0] in GIVEN_NAMES
        if given and (st.mid or len(core) > 1):
            return True
        if st.vocative and (st.n >= 2 or given):
            return True
        return st.mid >= MIN_MID_MENTIONS and (st.verb + st.endear + st.possessive
                                               + st.vocative) >= 1

    def decide(self) -> None:
        """Which parsed names are people, and who each of them is."""
        accepted = {k: st for k, st in self.stats.items()
                    if k not in self.resolve and self._is_person(k, st)}
        resolve = self.resolve
        by_size = sorted(accepted, key=lambda k: (-len(k[1]), k[0] != "", k))
        made: dict[tuple[str, tuple[str, ...]], int] = {}

        def new(key: tuple[str, tuple[str, ...]]) -> int:
            st = accepted[key]
            name = st.surfaces.most_common(1)[0][0] if st.surfaces else " ".join(key[1])
            if key[0].startswith("@") or (len(key[1]) == 1 and st.the * 2 > st.n
                                          and key[0] == ""):
                name = "the " + name.split()[-1]
            self.persons.append(Person(name, None, False))
            made[key] = len(self.persons) - 1
            return made[key]

        def mentions(i: int) -> int:
            return sum(accepted[k].n for k, v in made.items() if v == i) + \
                sum(self.stats[k].n for k, v in resolve.items() if v == i and k in self.stats)

        # full names and titled names first
        titled_genders: dict[str, set[str]] = {}
        for key in by_size:
            if key[0] in ("m", "f", "miss"):
                titled_genders.setdefault(key[1][-1], set()).add(key[0])
        for key in by_size:
            gender, core = key
            if gender.startswith("@") or (len(core) == 1 and gender == ""):
                continue
            if gender in ("m", "f", "miss"):
                target = next((made[k] for k in made if k[0] == gender and k[1]
                               and (k[1][-1] == core[-1] or k[1][0] == core[0])), None)
                if target is None and len(titled_genders.get(core[-1], ())) == 1:
                    target = self._full_name_holder(core[-1], gender, made)
                resolve[key] = target if target is not None else new(key)
            else:
                resolve[key] = new(key)
        # bare single words: a given name, a surname, a pet name, or somebody new
        for key in by_size:
            gender, core = key
            if gender != "" or len(core) != 1:
                continue
            w = core[0]
            firsts = {i for k, i in made.items() if len(k[1]) > 1 and k[1][0] == w}
            lasts = {i for k, i in made.items() if k[1] and k[1][-1] == w
                     and (len(k[1]) > 1 or k[0] in ("m", "f", "miss"))}
            lasts |= {i for k, i in resolve.items() if i is not None and k in self.stats
                      and k[1] and k[1][-1] == w and i < len(self.persons)
                      and self.persons[i].in_bible}
            target: int | None = None
            if len(firsts) == 1:
                target = next(iter(firsts))
            elif not firsts and lasts:
                ranked = sorted(lasts, key=lambda i: -mentions(i))
                if len(ranked) == 1 or mentions(ranked[0]) >= DOMINANT_RATIO * mentions(
                        ranked[1]):
                    target = ranked[0]
                else:
                    resolve[key] = None
                    continue
            if target is None:
                for formal in W.NICKNAMES.get(w.casefold(), ()):
                    hits = {i for k, i in [*made.items(), *((k, v) for k, v in resolve.items()
                                                           if v is not None)]
                            if k[1] and k[1][0].casefold() == formal}
                    hits |= {i for i, p in enumerate(self.persons)
                             if p.in_bible and p.name.split()[0].casefold() == formal}
                    if len(hits) == 1:
                        target = next(iter(hits))
                        break
            resolve[key] = target if target is not None else new(key)
        # bare titles and forms of address: their only holder, else (when they speak or
        # recur) a person of their own ("the King")
        for key in sorted(self.stats, key=lambda k: (k[0][1:] in W.HONORIFICS, k)):
            gender, core = key
            if not gender.startswith("@") or key in resolve:
                continue
            title = gender[1:]
            wanted = W.HONORIFICS.get(title, (title,))
            holders = {i for k, i in resolve.items() if i is not None and k in self.stats
                       and (k[1] or k[0][1:] in wanted)
                       and self.stats[k].titles.intersection(wanted)}
            if len(holders) == 1:
                resolve[key] = next(iter(holders))
            elif not holders and key in accepted and title not in W.HONORIFICS and \
                    title not in ("mr", "mrs", "miss", "ms") and accepted[key].speech:
                resolve[key] = new(key)
            else:
                resolve[key] = None

    def _full_name_holder(self, surname: str, gender: str,
                          made: dict[tuple[str, tuple[str, ...]], int]) -> int | None:
        """The one full name with this surname whose given name does not contradict the
        title's gender ("Mr. Holmes" is Sherlock Holmes; "Mr. Bennet" is not Elizabeth)."""
        hits = []
        for k, i in made.items():
            if k[0] == "" and len(k[1]) > 1 and k[1][-1] == surname:
                first = k[1][0]
                if gender == "m" and first in FEMALE_NAMES and first not in MALE_NAMES:
                    continue
                if gender != "m" and first in MALE_NAMES and first not in FEMALE_NAMES:
                    continue
                hits.append(i)
        return hits[0] if len(hits) == 1 else None

    # --- pass 2: counting ---

    def count(self) -> None:
        corpus, persons, resolve = self.corpus, self.persons, self.resolve
        sentences, segments = corpus.sentences, corpus.segments
        forms = {k: (st.surfaces.most_common(1)[0][0] if st.surfaces else " ".join(k[1]))
                 for k, st in self.stats.items()}
        by_sentence: dict[int, list[_Occurrence]] = {}
        for o in self.occurrences:
            if resolve.get(o.key) is not None:
                by_sentence.setdefault(o.sentence, []).append(o)
        phrase_re = self._phrase_re
        last_seg, last_person = -1, None
        total = len(sentences)
        for si, sent in enumerate(sentences):
            if self.progress is not None and si and si % PROGRESS_EVERY == 0:
                self.progress(self.stage, round(0.6 + 0.4 * si / total, 4))
            if sent.segment != last_seg:
                last_seg, last_person = sent.segment, None
            found = by_sentence.get(si, [])
            hits: list[tuple[int, str, bool, bool]] = [
                (resolve[o.key], forms[o.key], o.speech, o.thought)  # type: ignore[misc]
                for o in found]
            if phrase_re is not None and sent.text:
                for m in phrase_re.finditer(sent.text):
                    hits.append((self.phrases[m.group().casefold()], m.group(), False, False))
            spoke: set[int] = set()
            thought: set[int] = set()
            for index, form, speech, inner in hits:
                p = persons[index]
                p.mentions += 1
                p.forms[form] += 1
                if p.first_scene < 0:
                    p.first_scene = segments[sent.segment].scene
                if not p.segments or p.segments[-1] != sent.segment:
                    p.segments.append(sent.segment)
                if speech:
                    spoke.add(index)
                if inner:
                    thought.add(index)
                last_person = index
            if not thought and hits and _PRONOUN_THOUGHT_RE.search(sent.text):
                thought.add(hits[0][0])
            elif not hits and last_person is not None and _PRONOUN_THOUGHT_RE.search(
                    sent.text):
                thought.add(last_person)
            for index in spoke:
                persons[index].dialogue_lines += 1
            for index in thought:
                persons[index].interiority += 1


def find_cast(corpus: Corpus, bible: Mapping[str, Any],
              progress: Progress | None = None, stage: str = "cast") -> list[Person]:
    """Everyone mentioned at least once, most mentioned first (ties: name)."""
    if progress is not None:
        progress(stage, 0.0)
    finder = CastFinder(corpus, bible, progress, stage)
    finder.collect()
    finder.decide()
    finder.count()
    if progress is not None:
        progress(stage, 1.0)
    people = [p for p in finder.persons if p.mentions > 0]
    people.sort(key=lambda p: (-p.mentions, p.name, p.id or ""))
    return people


__all__ = ["CastFinder", "Person", "find_cast", "parse_name"]
