"""Module assist: what to ask a text model in each of the five modules, and what to do with
the answer.

The prompt is built only from what the author already wrote (every module's fields, the
story's title), so a suggestion builds on their story rather than a generic one.  The answer
is parsed into separate suggestions (a numbered or bulleted list; passages separated by blank
lines).  ``insert`` returns a *new* module output with one suggestion added — it never
overwrites what the author wrote: list fields get a new item, text fields a new paragraph,
a one-line field is filled only when empty (else the suggestion goes to the notes), and a
character's flaw only when that character has none.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Mapping

from studio.domain.errors import ValidationError
from studio.domain.modules import MODULE_KEYS, module_spec

MAX_SUGGESTIONS = 6
MAX_CONTEXT = 6000  # characters of the author's own text sent as context
MAX_SUGGESTION = 4000


@dataclass(frozen=True)
class AssistKind:
    module: str
    what: str          # "loglines" — shown on the button and in the prompt
    field: str         # where an inserted suggestion goes
    instruction: str
    max_tokens: int = 600


KINDS: dict[str, AssistKind] = {
    "idea_spark": AssistKind(
        "idea_spark", "loglines", "logline",
        "Suggest 5 alternative loglines for this story (one sentence each: when X happens, "
        "Y must Z, or else …). Number them."),
    "world_seed": AssistKind(
        "world_seed", "world rules", "world_rules",
        "Suggest 5 rules of this world that a character could break, each with what breaking "
        "it would cost. One sentence each. Number them."),
    "character_forge": AssistKind(
        "character_forge", "character flaws", "characters",
        "For the characters below, suggest one flaw each that stands between them and what "
        "they need. Write each as “Name: flaw”. Number them."),
    "plot_skeleton": AssistKind(
        "plot_skeleton", "beats", "acts",
        "Suggest 5 beats that could come next in this plot, each a short title, a colon and a "
        "one-sentence summary that changes something for the protagonist. Number them."),
    "wordsmith_lab": AssistKind(
        "wordsmith_lab", "sample passages", "sample_passage",
        "Write 2 short sample passages (about 120 words each) in the voice, point of view and "
        "tense described below, set in this story. Separate them with a line holding only ***.",
        max_tokens=900),
}

SYSTEM = ("You are a story editor helping a novelist. Build on what the author already wrote; "
          "never rewrite it. Answer with the suggestions only, no preamble.")


def _flatten(value: Any, label: str = "") -> list[str]:
    if isinstance(value, str):
        return [f"{label}: {value.strip()}" if label else value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [line for item in value for line in _flatten(item, label)]
    if isinstance(value, Mapping):
        return [line for k, v in value.items() for line in _flatten(v, k.replace("_", " "))]
    return []


def context_text(title: str, modules: Mapping[str, Mapping[str, Any]]) -> str:
    """What the author wrote, module by module, cut to MAX_CONTEXT characters."""
    parts = [f"Title: {title.strip()}"] if title.strip() else []
    for key in MODULE_KEYS:
        lines = _flatten(modules.get(key) or {})
        if lines:
            parts.append(f"## {module_spec(key).title}\n" + "\n".join(lines))
    text = "\n\n".join(parts)
    return text[:MAX_CONTEXT]


def has_material(modules: Mapping[str, Mapping[str, Any]]) -> bool:
    return any(_flatten(modules.get(k) or {}) for k in MODULE_KEYS)


def messages(module: str, title: str,
             modules: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    kind = KINDS.get(module)
    if kind is None:
        raise ValidationError("Assist", [module], "is not one of the five modules")
    context = context_text(title, modules) or "(The author has not written anything yet.)"
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{kind.instruction}\n\nThe story so far:\n\n{context}"}]


_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")


def parse(text: str, module: str) -> list[str]:
    """Separate suggestions from a model's answer (numbered/bulleted lines, or blocks)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return []
    if module == "wordsmith_lab":
        blocks = re.split(r"\n\s*(?:\*\*\*|---)\s*\n|\n\s*\n(?=\s*\d+[.)]\s)", text)
        items = [_ITEM.sub("", b).strip() for b in blocks]
    else:
        lines = [line for line in text.split("\n") if line.strip()]
        numbered = [line for line in lines if _ITEM.match(line)]
        source = numbered or lines
        items = [_ITEM.sub("", line).strip().strip("*").strip() for line in source]
    out, seen = [], set()
    for item in items:
        item = item.strip().strip('"“”').strip()[:MAX_SUGGESTION]
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out[:MAX_SUGGESTIONS]


def _append_paragraph(old: str, new: str) -> str:
    return f"{old.rstrip()}\n\n{new}" if old.strip() else new


def insert(module: str, output: Mapping[str, Any], suggestion: str) -> dict[str, Any]:
    """A new module output with ``suggestion`` added where it belongs (nothing overwritten)."""
    kind = KINDS[module]
    out = copy.deepcopy(dict(output))
    if module == "idea_spark":
        if not str(out.get("logline") or "").strip():
            out["logline"] = suggestion
        else:
            out["premise"] = _append_paragraph(str(out.get("premise") or ""),
                                               f"Another logline: {suggestion}")
    elif module == "world_seed":
        out["world_rules"] = [*(out.get("world_rules") or []), suggestion]
    elif module == "character_forge":
        name, _, flaw = suggestion.partition(":")
        chars = [dict(c) for c in out.get("characters") or [] if isinstance(c, Mapping)]
        target = next((c for c in chars if flaw and str(c.get("name") or "").strip().casefold()
                       == name.strip().casefold()), None)
        if target is None:
            chars.append({"name": name.strip() if flaw else "", "role": "", "want": "",
                          "need": "", "flaw": (flaw or suggestion).strip(), "arc": "",
                          "notes": ""})
        elif not str(target.get("flaw") or "").strip():
            target["flaw"] = flaw.strip()
        else:
            target["notes"] = _append_paragraph(str(target.get("notes") or ""),
                                                f"Another flaw: {flaw.strip()}")
        out["characters"] = chars
    elif module == "plot_skeleton":
        name, _, summary = suggestion.partition(":")
        beat = {"name": name.strip(), "summary": summary.strip()} if summary else \
            {"name": "", "summary": suggestion}
        acts = [dict(a) for a in out.get("acts") or [] if isinstance(a, Mapping)]
        if not acts:
            acts = [{"name": "Act I", "beats": []}]
        acts[-1]["beats"] = [*(acts[-1].get("beats") or []), beat]
        out["acts"] = acts
    else:
        out[kind.field] = _append_paragraph(str(out.get(kind.field) or ""), suggestion)
    return out
