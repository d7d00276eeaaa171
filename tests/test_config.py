"""The config schema: defaults for every key, shipped configs valid, bad values rejected."""

import jsonschema
import pytest
import yaml
from workflow_helpers import REPO

SCHEMA = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())


def _walk(schema, path="config"):
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}.{key}", sub
        yield from _walk(sub, f"{path}.{key}")


def test_every_key_has_type_default_and_description():
    for path, sub in _walk(SCHEMA):
        assert "description" in sub, f"{path} lacks a description"
        assert "default" in sub, f"{path} lacks a default"
        assert "type" in sub, f"{path} lacks a type"


@pytest.mark.parametrize(
    "name",
    [
        "config/config.yaml",
        "config/tiny.yaml",
        "config/replication.yaml",
        "config/examples/own-cohort.yaml",
    ],
)
def test_shipped_configs_are_valid(name):
    jsonschema.validate(yaml.safe_load((REPO / name).read_text()), SCHEMA)


def test_default_config_spells_out_every_default():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for path, sub in _walk(SCHEMA):
        if sub.get("type") == "object":
            continue
        node = config
        for part in path.split(".")[1:]:
            node = node[part]
        assert node == sub["default"], f"{path}: config.yaml says {node}, schema {sub['default']}"


@pytest.mark.parametrize(
    "bad",
    [
        {"cv": {"folds": 1}},
        {"training": {"device": "tpu"}},
        {"unknown_key": 1},
        {"genotype_qc": {"maf": 0.7}},
        {"models": {"bad name!": {}}},
    ],
)
def test_bad_values_are_rejected(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_participants_schema_accepts_a_valid_row_and_rejects_unsafe_ids():
    schema = yaml.safe_load((REPO / "schemas" / "participants.schema.yaml").read_text())
    row = {"participant_id": "sub-001", "diagnosis": "patient", "age": 12.5, "sex": "F"}
    jsonschema.validate(row, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(row | {"participant_id": "../x"}, schema)
