"""JSON Schema validation of module outputs (schemas ship in ``resources/schemas``)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema

from studio.config import resources_dir
from studio.domain.errors import ValidationError
from studio.domain.modules import module_spec


@lru_cache(maxsize=None)
def _validator(module_key: str) -> jsonschema.Draft7Validator:
    path = resources_dir() / "schemas" / "modules" / f"{module_key}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def validate_module_output(module_key: str, output: Any) -> None:
    """Raise ValidationError naming the first offending field (deepest path first)."""
    spec = module_spec(module_key)
    errors = sorted(_validator(module_key).iter_errors(output),
                    key=lambda e: (-len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = errors[0]
        raise ValidationError(spec.title, list(err.absolute_path), err.message)


@lru_cache(maxsize=None)
def _bible_validator() -> jsonschema.Draft7Validator:
    path = resources_dir() / "schemas" / "scene_bible.schema.json"
    return jsonschema.Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def bible_problems(bible: Any, inherited: dict | None = None) -> list[tuple[str, str]]:
    """Every reason ``bible`` cannot be stored, as (path, reason), schema errors first.

    The semantic rules (unique ids, known relationship targets, one owner per alias) run only
    on a bible that fits the schema, since they rely on its shape.
    """
    from studio.domain.bible import semantic_problems

    errors = sorted(_bible_validator().iter_errors(bible),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        return [("/".join(str(p) for p in e.absolute_path), _reason(e)) for e in errors[:50]]
    return semantic_problems(bible, inherited)


def _reason(error: jsonschema.ValidationError) -> str:
    if error.validator == "pattern" and "char_" in str(error.schema.get("pattern", "")):
        return f"{error.instance!r} is not a character id (char_ then lowercase letters/digits)"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed",
                                     "unknown field(s)")
    return error.message


def validate_bible(bible: Any, inherited: dict | None = None) -> None:
    """Raise ValidationError naming the first problem's path and reason."""
    problems = bible_problems(bible, inherited)
    if problems:
        path, reason = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ValidationError("Scene bible", [p for p in path.split("/") if p], reason + more)


@lru_cache(maxsize=None)
def _graph_validator() -> jsonschema.Draft7Validator:
    path = resources_dir() / "schemas" / "chapter_graph.schema.json"
    return jsonschema.Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def graph_schema_problems(graph: Any) -> list[tuple[str, str]]:
    errors = sorted(_graph_validator().iter_errors(graph),
                    key=lambda e: [str(p) for p in e.absolute_path])
    return [("/".join(str(p) for p in e.absolute_path), _reason(e)) for e in errors[:50]]
