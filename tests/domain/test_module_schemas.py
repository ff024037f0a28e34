"""The module JSON schemas, the module specs and the bundled sample story must agree.

``studio.domain.modules`` describes each module's output as data; ``resources/schemas/modules``
holds the JSON Schemas the store validates against.  These tests keep the two from drifting apart
and make sure the sample story shipped with the app is valid and complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from studio.domain.modules import (
    MODULE_KEYS,
    MODULES,
    PLOT_TEMPLATES,
    FieldKind,
    FieldSpec,
    ModuleSpec,
    is_filled,
)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
SCHEMA_DIR = RESOURCES / "schemas" / "modules"
SAMPLE = RESOURCES / "samples" / "lighthouse_keepers_daughter.story.json"

JSON_TYPE = {
    FieldKind.LINE: "string",
    FieldKind.TEXT: "string",
    FieldKind.CHOICE: "string",
    FieldKind.STRINGS: "array",
    FieldKind.RECORDS: "array",
}


def load_schema(key: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{key}.schema.json").read_text(encoding="utf-8"))


def validator(key: str) -> Draft7Validator:
    return Draft7Validator(load_schema(key))


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_one_schema_per_module_and_no_strays() -> None:
    on_disk = {p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json")}
    assert on_disk == set(MODULE_KEYS)


@pytest.mark.parametrize("spec", MODULES, ids=lambda m: m.key)
def test_schema_is_valid_draft7(spec: ModuleSpec) -> None:
    schema = load_schema(spec.key)
    Draft7Validator.check_schema(schema)
    assert schema["$id"] == f"https://story-studio.local/schemas/modules/{spec.key}.schema.json"
    assert schema["title"] == spec.title
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True
    assert not schema.get("required")


def assert_properties_match(fields: tuple[FieldSpec, ...], props: dict[str, Any], where: str) -> None:
    spec_keys = [f.key for f in fields]
    assert set(props) == set(spec_keys), (
        f"{where}: schema properties {sorted(props)} != spec fields {sorted(spec_keys)}"
    )
    for f in fields:
        prop = props[f.key]
        path = f"{where}.{f.key}"
        assert prop.get("type") == JSON_TYPE[f.kind], f"{path}: type {prop.get('type')!r}"
        assert prop.get("description"), f"{path}: missing description"
        if f.kind in (FieldKind.LINE, FieldKind.CHOICE):
            assert prop.get("maxLength") == 200, path
        elif f.kind is FieldKind.TEXT:
            assert prop.get("maxLength") == 200000, path
        elif f.kind is FieldKind.STRINGS:
            assert prop.get("maxItems") == 1000, path
            assert prop["items"] == {"type": "string"}, path
        elif f.kind is FieldKind.RECORDS:
            assert prop.get("maxItems") == 1000, path
            items = prop["items"]
            assert items.get("type") == "object", path
            assert items.get("additionalProperties", True) is True, path
            assert not items.get("required"), path
            assert_properties_match(f.fields, items.get("properties", {}), path)
        if f.kind is FieldKind.CHOICE and not f.editable:
            assert prop.get("enum") == [*f.choices, ""], f"{path}: closed choice needs enum"


@pytest.mark.parametrize("spec", MODULES, ids=lambda m: m.key)
def test_schema_matches_spec(spec: ModuleSpec) -> None:
    assert_properties_match(spec.fields, load_schema(spec.key)["properties"], spec.key)


def test_plot_template_enum() -> None:
    template = load_schema("plot_skeleton")["properties"]["template"]
    assert set(template["enum"]) == {"three_act", "save_the_cat", "heros_journey", ""}
    v = validator("plot_skeleton")
    assert v.is_valid({"template": ""})
    assert not v.is_valid({"template": "five_act"})


@pytest.mark.parametrize("spec", MODULES, ids=lambda m: m.key)
def test_empty_and_unknown_fields_are_accepted(spec: ModuleSpec) -> None:
    v = validator(spec.key)
    assert v.is_valid({})
    assert v.is_valid(spec.empty_output())
    assert v.is_valid({**spec.empty_output(), "from_a_newer_version": {"anything": [1, 2]}})


@pytest.mark.parametrize("spec", MODULES, ids=lambda m: m.key)
def test_sample_module_is_valid_and_filled(sample: dict[str, Any], spec: ModuleSpec) -> None:
    module = sample["modules"][spec.key]
    output = module["output"]
    errors = sorted(validator(spec.key).iter_errors(output), key=lambda e: [str(p) for p in e.path])
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert is_filled(module["input"], output)
    assert is_filled("", output), "the sample's output itself should be filled in"
    for f in spec.fields:  # every field of the spec is filled in the sample
        assert f.key in output and output[f.key], f"{spec.key}.{f.key} is empty in the sample"


def test_sample_shape(sample: dict[str, Any]) -> None:
    assert sample["format"] == "story-studio.story"
    assert sample["format_version"] == 1
    assert set(sample["modules"]) == set(MODULE_KEYS)
    assert sample["story"]["title"]
    assert sample["story"]["metadata"]["sample"] is True
    plot = sample["modules"]["plot_skeleton"]["output"]
    template = PLOT_TEMPLATES[plot["template"]]
    assert [a["name"] for a in plot["acts"]] == [name for name, _ in template]
    for act, (_, beats) in zip(plot["acts"], template):
        assert [b["name"] for b in act["beats"]] == list(beats)
        assert all(b["summary"].strip() for b in act["beats"])


def test_wrong_type_is_refused_at_its_path() -> None:
    errors = list(validator("idea_spark").iter_errors({"themes": "not a list"}))
    assert errors
    assert [list(e.path) for e in errors] == [["themes"]]
    assert errors[0].validator == "type"


def test_wrong_type_inside_a_record_is_refused_at_its_path() -> None:
    output = {"acts": [{"name": "Act One", "beats": [{"name": "Catalyst", "summary": 42}]}]}
    errors = list(validator("plot_skeleton").iter_errors(output))
    assert [list(e.path) for e in errors] == [["acts", 0, "beats", 0, "summary"]]
