"""Voices: modulation templates (reference data), how a narration picks a voice and an
emotion for each paragraph, the key of a rendered segment, and SSML/script exports.

A *voice template* describes how a line should sound — an emotion (joy, sorrow…), a sound
(laugh, sigh, gasp) or a modulation (whisper, shout) — as provider-neutral parameters: pitch
in semitones, rate and volume as factors, an SSML emphasis level, and the stability / style /
similarity knobs some providers (ElevenLabs) have.  Templates are **permanent**: narrations
point at them, so one is never deleted or changed in place; it can only be *superseded* by a
new template (narrations keep the old one until the author moves them) or *hidden* from lists.

Pure rules: no Qt, no SQL, no files, no network.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from studio.domain.continuity import SPEAKER_AFTER_RE, SPEAKER_BEFORE_RE
from studio.domain.errors import ValidationError

TEMPLATE_PREFIX = "vt_"
KINDS = ("emotion", "sound", "modulation")
EMPHASIS = ("none", "reduced", "moderate", "strong")
MAX_NAME = 80
MAX_LINE = 500
LIMITS = {"pitch": (-12.0, 12.0), "rate": (0.5, 2.0), "volume": (0.0, 2.0),
          "stability": (0.0, 1.0), "style": (0.0, 1.0), "similarity": (0.0, 1.0)}


@dataclass(frozen=True)
class VoiceParams:
    pitch: float = 0.0        # semitones
    rate: float = 1.0         # speed factor
    volume: float = 1.0       # loudness factor
    emphasis: str = "none"
    stability: float = 0.5    # ElevenLabs-style knobs (others ignore them)
    style: float = 0.0
    similarity: float = 0.75

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "VoiceParams":
        data = dict(data or {})
        problems = params_problems(data)
        if problems:
            raise ValidationError("Voice template", [problems[0][0]], problems[0][1])
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for k in LIMITS:
            if k in known:
                known[k] = round(float(known[k]), 3)
        return cls(**known)

    def provider_settings(self) -> dict[str, Any]:
        """What a speech provider takes (ElevenLabs ``voice_settings`` names, plus speed)."""
        return {"stability": self.stability, "similarity_boost": self.similarity,
                "style": self.style, "speed": round(min(1.2, max(0.7, self.rate)), 3)}


@dataclass(frozen=True)
class VoiceTemplate:
    uid: str
    name: str
    kind: str = "emotion"
    emotion: str = ""            # the emotion it voices ("" for sounds/modulations without)
    params: VoiceParams = field(default_factory=VoiceParams)
    sample_line: str = ""
    builtin: bool = False
    source: str = "author"       # builtin, author, analysis, marketplace
    superseded_by: str | None = None
    hidden: bool = False

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = self.params.as_dict()
        return d


def params_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for key, (low, high) in LIMITS.items():
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append((key, "must be a number"))
        elif not low <= float(value) <= high:
            problems.append((key, f"must be from {low:g} to {high:g}, not {value}"))
    if "emphasis" in data and data["emphasis"] not in EMPHASIS:
        problems.append(("emphasis", f"must be one of {', '.join(EMPHASIS)}"))
    return problems


def check_template(name: str, kind: str, sample_line: str) -> None:
    name = " ".join(str(name).split())
    if not name:
        raise ValidationError("Voice template", ["name"], "is required")
    if len(name) > MAX_NAME:
        raise ValidationError("Voice template", ["name"], f"is longer than {MAX_NAME} characters")
    if kind not in KINDS:
        raise ValidationError("Voice template", ["kind"], f"must be one of {', '.join(KINDS)}")
    if len(sample_line) > MAX_LINE:
        raise ValidationError("Voice template", ["sample_line"],
                              f"is longer than {MAX_LINE} characters")


def _builtin(name: str, kind: str, emotion: str, line: str, **params: Any) -> VoiceTemplate:
    return VoiceTemplate(f"{TEMPLATE_PREFIX}builtin_{name}", name, kind, emotion,
                         VoiceParams(**params), line, True, "builtin")


# The set that ships with the app (its uids never change: narrations point at them).
BUILTIN_TEMPLATES: tuple[VoiceTemplate, ...] = (
    _builtin("joy", "emotion", "joy", "We did it — we actually did it!",
             pitch=2.0, rate=1.08, volume=1.1, emphasis="moderate", stability=0.35, style=0.5),
    _builtin("sorrow", "emotion", "sadness", "I kept the light burning, every night, for you.",
             pitch=-2.0, rate=0.85, volume=0.8, stability=0.6, style=0.35),
    _builtin("fury", "emotion", "anger", "Get out. Get out of my house!",
             pitch=1.0, rate=1.12, volume=1.4, emphasis="strong", stability=0.25, style=0.7),
    _builtin("fear", "emotion", "fear", "Did you hear that? Something is on the stairs.",
             pitch=2.5, rate=1.15, volume=0.85, stability=0.3, style=0.45),
    _builtin("tenderness", "emotion", "love", "Sleep now. I'm right here.",
             pitch=-1.0, rate=0.9, volume=0.75, emphasis="reduced", stability=0.7, style=0.2),
    _builtin("whisper", "modulation", "", "Not here. They're listening.",
             pitch=0.0, rate=0.9, volume=0.4, emphasis="reduced", stability=0.6),
    _builtin("shout", "modulation", "", "Over here! Throw the rope!",
             pitch=3.0, rate=1.05, volume=1.8, emphasis="strong", stability=0.3, style=0.6),
    _builtin("laugh", "sound", "", "Ha! You should have seen his face.",
             pitch=2.0, rate=1.1, volume=1.2, stability=0.3, style=0.6),
    _builtin("sigh", "sound", "", "Well. That's that, then.",
             pitch=-1.5, rate=0.85, volume=0.7, stability=0.6),
    _builtin("gasp", "sound", "surprise", "Oh! You — you're alive?",
             pitch=3.0, rate=1.2, volume=1.1, emphasis="strong", stability=0.3, style=0.5),
)
BUILTIN_BY_NAME = {t.name: t for t in BUILTIN_TEMPLATES}


def covered_emotions(templates: Iterable[VoiceTemplate]) -> set[str]:
    return {t.emotion for t in templates if t.emotion and not t.superseded_by}


def propose_from_analysis(result: Mapping[str, Any],
                          templates: Sequence[VoiceTemplate]) -> list[dict[str, Any]]:
    """Emotions the analysis found (dominant in a scene or for a character) that no current
    template voices, most frequent first: ``[{"emotion", "scenes", "example"}]``."""
    covered = covered_emotions(templates)
    counts: dict[str, int] = {}
    example: dict[str, str] = {}
    emotions = result.get("emotions") if isinstance(result, Mapping) else None
    for scene in (emotions or {}).get("scenes") or []:
        e = scene.get("dominant") if isinstance(scene, Mapping) else None
        if isinstance(e, str) and e and e not in covered:
            counts[e] = counts.get(e, 0) + 1
            example.setdefault(e, str(scene.get("title") or scene.get("scene") or ""))
    for person in (emotions or {}).get("characters") or []:
        e = person.get("dominant") if isinstance(person, Mapping) else None
        if isinstance(e, str) and e and e not in covered:
            counts.setdefault(e, 0)
            example.setdefault(e, str(person.get("name") or ""))
    return [{"emotion": e, "scenes": n, "example": example.get(e, "")}
            for e, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


# Starting parameters for an emotion that gets a template from an analysis.
EMOTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "trust": dict(pitch=-0.5, rate=0.95, volume=0.9, stability=0.65, style=0.25),
    "disgust": dict(pitch=-1.5, rate=0.92, volume=1.0, emphasis="moderate", stability=0.45,
                    style=0.5),
    "anticipation": dict(pitch=1.0, rate=1.05, volume=0.95, stability=0.45, style=0.35),
    "surprise": dict(pitch=3.0, rate=1.15, volume=1.1, emphasis="strong", stability=0.3),
    "joy": dict(pitch=2.0, rate=1.08, volume=1.1), "sadness": dict(pitch=-2.0, rate=0.85,
                                                                   volume=0.8),
    "anger": dict(pitch=1.0, rate=1.12, volume=1.4), "fear": dict(pitch=2.5, rate=1.15),
}


def template_for_emotion(uid: str, emotion: str, source: str = "analysis") -> VoiceTemplate:
    return VoiceTemplate(uid, emotion, "emotion", emotion,
                         VoiceParams(**EMOTION_DEFAULTS.get(emotion, {})), "", False, source)


def supersede(old: VoiceTemplate, new: VoiceTemplate) -> tuple[VoiceTemplate, VoiceTemplate]:
    """The old template pointing at its successor, and the successor."""
    if old.superseded_by:
        raise ValidationError("Voice template", [old.name],
                              "is already superseded; supersede its successor instead")
    return replace(old, superseded_by=new.uid), new


# --- narration ----------------------------------------------------------------------------

NARRATOR = "narrator"
_QUOTED = re.compile(r"[\"“]([^\"”]{1,2000})[\"”]")


def speaker_of(text: str, names: Mapping[str, str]) -> str | None:
    """The character id speaking in a paragraph ("…,” said Ada / Ada whispered), when the
    attribution names a known character (``names``: casefolded name or alias → id)."""
    if not _QUOTED.search(text):
        return None
    runs = SPEAKER_BEFORE_RE.findall(text)
    runs += [run for run, possessive in SPEAKER_AFTER_RE.findall(text) if not possessive]
    for run in runs:
        words = run.split()
        for size in range(len(words), 0, -1):  # "Captain Ada Vance" → "Ada Vance" → "Vance"
            for start in range(0, len(words) - size + 1):
                hit = names.get(" ".join(words[start:start + size]).casefold())
                if hit:
                    return hit
    return None


def dialogue_lines(text: str) -> list[str]:
    """The quoted speech in a paragraph."""
    return [m.group(1).strip() for m in _QUOTED.finditer(text) if m.group(1).strip()]


@dataclass(frozen=True)
class SegmentVoice:
    """What one paragraph of a narration sounds like."""

    segment_uid: str
    voice: str                  # "narrator" or a character id
    template_uid: str | None    # the voice template (emotion/modulation) or None for neutral
    emotion: str = ""
    auto: bool = True           # suggested, not chosen by the author


def suggest_voices(segments: Sequence[tuple[str, str, str]], names: Mapping[str, str],
                   scene_emotions: Mapping[str, str],
                   character_emotions: Mapping[tuple[str, str], str],
                   templates: Sequence[VoiceTemplate]) -> list[SegmentVoice]:
    """Per paragraph ``(segment_uid, scene_uid, text)``: the speaking character's voice and
    their emotion in that scene (from the bible's emotion states), else the narrator with the
    scene's emotion; the template is the current one voicing that emotion."""
    by_emotion = {t.emotion: t for t in templates if t.emotion and not t.superseded_by
                  and not t.hidden}
    out = []
    for seg_uid, scene_uid, text in segments:
        who = speaker_of(text, names)
        emotion = (character_emotions.get((who, scene_uid)) if who else None) \
            or scene_emotions.get(scene_uid, "")
        template = by_emotion.get(emotion)
        out.append(SegmentVoice(seg_uid, who or NARRATOR, template.uid if template else None,
                                emotion or ""))
    return out


def render_key(text: str, voice_id: str, provider: str, model: str,
               settings: Mapping[str, Any]) -> str:
    """A rendered segment is reused when text, voice, provider, model and settings match."""
    payload = json.dumps([text, voice_id, provider, model, dict(settings)], sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _prosody(params: VoiceParams) -> dict[str, str]:
    return {"pitch": f"{params.pitch:+.1f}st", "rate": f"{round(params.rate * 100)}%",
            "volume": f"{(params.volume - 1.0) * 6:+.1f}dB"}


def ssml(lines: Sequence[tuple[str, str, VoiceParams | None]]) -> str:
    """SSML for studios: ``lines`` are (voice name, text, params or None)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en">']
    for voice, text, params in lines:
        body = escape(text)
        if params is not None:
            if params.emphasis != "none":
                body = f'<emphasis level="{params.emphasis}">{body}</emphasis>'
            attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in _prosody(params).items())
            body = f"<prosody {attrs}>{body}</prosody>"
        out.append(f"  <voice name={quoteattr(voice)}><p>{body}</p></voice>")
    out.append("</speak>")
    return "\n".join(out) + "\n"


def script(lines: Sequence[tuple[str, str, str]]) -> str:
    """A plain recording script: ``VOICE [template]: text`` per paragraph."""
    return "\n\n".join(f"{voice.upper()}" + (f" [{tmpl}]" if tmpl else "") + f": {text}"
                       for voice, tmpl, text in lines) + "\n"
