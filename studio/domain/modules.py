"""The five-module workflow that takes an idea to a draft.

Each module is described once, here, as data: its guiding questions and the shape of its
structured output.  The UI builds its forms from these specs, the store validates against the
JSON schemas in ``resources/schemas/modules/`` (which a test keeps in step with these specs), and
the version diff renders snapshots through them.  Keeping the description in one place is what
lets a later module or field be added without touching five layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class FieldKind(str, Enum):
    LINE = "line"  # one line of text
    TEXT = "text"  # several paragraphs
    CHOICE = "choice"  # one of ``choices`` (free text allowed when ``editable``)
    STRINGS = "strings"  # a list of short strings (themes, world rules)
    RECORDS = "records"  # a list of objects with ``fields`` (characters, locations, acts)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: FieldKind = FieldKind.LINE
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    editable: bool = False
    fields: tuple["FieldSpec", ...] = ()  # for RECORDS
    title_key: str = "name"  # for RECORDS: which sub-field names an item in lists

    def empty(self) -> Any:
        if self.kind in (FieldKind.STRINGS, FieldKind.RECORDS):
            return []
        return ""


@dataclass(frozen=True)
class ModuleSpec:
    key: str
    order: int
    title: str
    tagline: str
    questions: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    def empty_output(self) -> dict[str, Any]:
        return {f.key: f.empty() for f in self.fields}

    def field(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


PLOT_TEMPLATES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "three_act": (
        ("Act I — Setup", ("Opening image", "Inciting incident", "First plot point")),
        ("Act II — Confrontation", ("Rising action", "Midpoint", "Crisis")),
        ("Act III — Resolution", ("Climax", "Resolution")),
    ),
    "save_the_cat": (
        ("Act One", ("Opening Image", "Theme Stated", "Set-Up", "Catalyst", "Debate")),
        (
            "Act Two",
            (
                "Break into Two",
                "B Story",
                "Fun and Games",
                "Midpoint",
                "Bad Guys Close In",
                "All Is Lost",
                "Dark Night of the Soul",
            ),
        ),
        ("Act Three", ("Break into Three", "Finale", "Final Image")),
    ),
    "heros_journey": (
        ("Departure", ("Ordinary World", "Call to Adventure", "Refusal of the Call",
                       "Meeting the Mentor", "Crossing the Threshold")),
        ("Initiation", ("Tests, Allies, Enemies", "Approach to the Inmost Cave", "The Ordeal",
                        "Reward")),
        ("Return", ("The Road Back", "Resurrection", "Return with the Elixir")),
    ),
}

PLOT_TEMPLATE_LABELS = {
    "three_act": "Three-act structure",
    "save_the_cat": "Save the Cat beats",
    "heros_journey": "Hero's Journey",
}


def plot_template_acts(template: str) -> list[dict[str, Any]]:
    """An empty acts → beats skeleton for a structure template, ready to be filled in."""
    return [
        {"name": act, "beats": [{"name": beat, "summary": ""} for beat in beats]}
        for act, beats in PLOT_TEMPLATES[template]
    ]


MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        key="idea_spark",
        order=1,
        title="Idea Spark",
        tagline="Find the heart of the story.",
        questions=(
            "What situation would make a reader say “and then what?”",
            "Whose story is it, and what do they stand to lose?",
            "Can you say the whole story in one sentence? In ten words?",
            "What feeling should the last page leave behind?",
        ),
        fields=(
            FieldSpec("premise", "Premise", FieldKind.TEXT, "The situation and its question"),
            FieldSpec("logline", "Logline", FieldKind.LINE, "When X happens, Y must Z, or else…"),
            FieldSpec("one_liner", "One-liner", FieldKind.LINE, "Ten words or fewer"),
            FieldSpec("genre", "Genre", FieldKind.CHOICE, editable=True, choices=(
                "Literary", "Fantasy", "Science fiction", "Mystery", "Thriller", "Romance",
                "Horror", "Historical", "Adventure", "Young adult", "Interactive fiction")),
            FieldSpec("tone", "Tone", FieldKind.LINE, "Wry, tender, ominous…"),
            FieldSpec("themes", "Themes", FieldKind.STRINGS, "A theme"),
        ),
    ),
    ModuleSpec(
        key="world_seed",
        order=2,
        title="World Seed",
        tagline="Plant the place and its rules.",
        questions=(
            "Where and when does the story happen, and why there?",
            "Which rules of this world could a character break — and what would it cost?",
            "Which places will the reader remember?",
        ),
        fields=(
            FieldSpec("setting", "Setting", FieldKind.TEXT, "The world in a paragraph"),
            FieldSpec("era", "Era", FieldKind.LINE, "1920s Lisbon, far future, an ageless now…"),
            FieldSpec("world_rules", "World rules", FieldKind.STRINGS, "A rule of this world"),
            FieldSpec(
                "key_locations", "Key locations", FieldKind.RECORDS,
                fields=(
                    FieldSpec("name", "Name", FieldKind.LINE),
                    FieldSpec("description", "Description", FieldKind.TEXT),
                ),
            ),
        ),
    ),
    ModuleSpec(
        key="character_forge",
        order=3,
        title="Character Forge",
        tagline="People who want things.",
        questions=(
            "What does each character want, and what do they truly need?",
            "Which flaw stands between them and what they need?",
            "How is each one changed by the end — or why not?",
        ),
        fields=(
            FieldSpec(
                "characters", "Characters", FieldKind.RECORDS,
                fields=(
                    FieldSpec("name", "Name", FieldKind.LINE),
                    FieldSpec("role", "Role", FieldKind.CHOICE, editable=True, choices=(
                        "Protagonist", "Antagonist", "Deuteragonist", "Mentor", "Ally",
                        "Love interest", "Foil", "Supporting")),
                    FieldSpec("want", "Want", FieldKind.LINE, "What they chase"),
                    FieldSpec("need", "Need", FieldKind.LINE, "What they lack"),
                    FieldSpec("flaw", "Flaw", FieldKind.LINE, "What stands in the way"),
                    FieldSpec("arc", "Arc", FieldKind.TEXT, "How they change"),
                    FieldSpec("notes", "Notes", FieldKind.TEXT),
                ),
            ),
        ),
    ),
    ModuleSpec(
        key="plot_skeleton",
        order=4,
        title="Plot Skeleton",
        tagline="The bones before the flesh.",
        questions=(
            "Which structure fits this story best — and where will you break it?",
            "What is the turning point of each act?",
            "Does every beat change something for the protagonist?",
        ),
        fields=(
            FieldSpec("template", "Structure", FieldKind.CHOICE,
                      choices=tuple(PLOT_TEMPLATES)),
            FieldSpec(
                "acts", "Acts", FieldKind.RECORDS,
                fields=(
                    FieldSpec("name", "Act", FieldKind.LINE),
                    FieldSpec(
                        "beats", "Beats", FieldKind.RECORDS,
                        fields=(
                            FieldSpec("name", "Beat", FieldKind.LINE),
                            FieldSpec("summary", "Summary", FieldKind.TEXT),
                        ),
                    ),
                ),
            ),
        ),
    ),
    ModuleSpec(
        key="wordsmith_lab",
        order=5,
        title="Wordsmith Lab",
        tagline="Find the voice on the page.",
        questions=(
            "Who is telling this story, and how close do we stand to them?",
            "Which authors or books sound like the book you want to write?",
            "Write one paragraph the way the finished book should read.",
        ),
        fields=(
            FieldSpec("voice", "Voice", FieldKind.TEXT, "How the narration sounds"),
            FieldSpec("style_notes", "Style notes", FieldKind.TEXT, "Do's and don'ts"),
            FieldSpec("point_of_view", "Point of view", FieldKind.CHOICE, editable=True,
                      choices=("First person", "Second person", "Third person limited",
                               "Third person omniscient", "Multiple")),
            FieldSpec("tense", "Tense", FieldKind.CHOICE, editable=True,
                      choices=("Past", "Present", "Future")),
            FieldSpec("sample_passage", "Sample passage", FieldKind.TEXT),
        ),
    ),
)

MODULE_KEYS: tuple[str, ...] = tuple(m.key for m in MODULES)
_BY_KEY = {m.key: m for m in MODULES}


def module_spec(key: str) -> ModuleSpec:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown module {key!r}; known: {', '.join(MODULE_KEYS)}") from None


def has_content(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(has_content(v) for v in value)
    if isinstance(value, dict):
        return any(has_content(v) for v in value.values())
    return value is not None


def is_filled(input_text: str, output: dict[str, Any], key: str = "") -> bool:
    """A module counts as filled once the author has written anything in it.

    A plot structure laid out from a template (act and beat names only) does not make Plot
    Skeleton filled: picking a structure is not yet plotting; a beat summary is.
    """
    if input_text.strip():
        return True
    if key == "plot_skeleton":
        return any(has_content(beat.get("summary", ""))
                   for act in output.get("acts") or [] for beat in act.get("beats") or [])
    return any(has_content(v) for v in output.values())


def normalise_output(key: str, output: dict[str, Any] | None) -> dict[str, Any]:
    """Fill missing fields with empties so forms and diffs always see every field.

    Unknown keys are kept: data from a newer app version or an import must not be dropped.
    """
    spec = module_spec(key)
    result = spec.empty_output()
    if output:
        result.update(output)
    return result


def render_output_text(key: str, output: dict[str, Any]) -> str:
    """A readable plain-text rendering of a module's output, used for diffs between versions."""
    spec = module_spec(key)
    lines: list[str] = []

    def render(fields: tuple[FieldSpec, ...], data: dict[str, Any], indent: str) -> None:
        for f in fields:
            value = data.get(f.key, f.empty())
            if f.kind is FieldKind.RECORDS:
                lines.append(f"{indent}{f.label}:")
                for i, item in enumerate(value or [], 1):
                    lines.append(f"{indent}  {i}. {item.get(f.title_key, '') or '(untitled)'}")
                    render(tuple(s for s in f.fields if s.key != f.title_key), item, indent + "     ")
            elif f.kind is FieldKind.STRINGS:
                lines.append(f"{indent}{f.label}:")
                lines.extend(f"{indent}  • {v}" for v in value or [])
            elif f.kind is FieldKind.TEXT and "\n" in str(value):
                lines.append(f"{indent}{f.label}:")
                lines.extend(f"{indent}  {line}" for line in str(value).splitlines())
            else:
                lines.append(f"{indent}{f.label}: {value}")

    render(spec.fields, output, "")
    extra = sorted(set(output) - {f.key for f in spec.fields})
    for k in extra:
        lines.append(f"{k}: {output[k]!r}")
    return "\n".join(lines)
