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
