"""Saved objects: readable sources (one JSON object per file, nested JSON kept as JSON) -> the import
NDJSON Kibana expects (JSON-string attributes encoded, migration versions of the oldest supported 8.x).

Sources live in deploy/kibana/objects/*.json; the generated, committed files are
deploy/kibana/auditwatch.ndjson (saved objects) and deploy/kibana/auditwatch-detection-rules.ndjson
(the Security app's rule import format, one rule per line).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

DEPLOY: Final = Path(__file__).resolve().parents[2] / "deploy" / "kibana"  # a source checkout
_INSTALLED: Final = Path(str(files("auditwatch"))) / "shipped" / "kibana"  # a wheel: the NDJSON only
_SHIPPED: Final = _INSTALLED if (_INSTALLED / "auditwatch.ndjson").is_file() else DEPLOY
OBJECTS_DIR: Final = DEPLOY / "objects"
RULES_DIR: Final = DEPLOY / "rules"
NDJSON: Final = _SHIPPED / "auditwatch.ndjson"
RULES_NDJSON: Final = _SHIPPED / "auditwatch-detection-rules.ndjson"

# the oldest Kibana these objects target: Kibana migrates them up on import, never down
CORE_MIGRATION_VERSION: Final = "8.8.0"
TYPE_MIGRATION_VERSIONS: Final = {"index-pattern": "8.0.0", "search": "8.0.0", "dashboard": "8.7.0"}

# attributes Kibana stores as JSON text (top level, or under kibanaSavedObjectMeta)
ENCODED: Final = frozenset(
    {
        "panelsJSON",
        "optionsJSON",
        "sourceFilters",
        "fields",
        "runtimeFieldMap",
        "fieldFormatMap",
        "fieldAttrs",
    }
)
ENCODED_META: Final = frozenset({"searchSourceJSON"})


def load_sources(directory: Path = OBJECTS_DIR) -> list[dict[str, Any]]:
    """The source objects, in id order."""
    objects = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    return sorted(objects, key=lambda o: str(o.get("id")))


def encode(source: Mapping[str, Any]) -> dict[str, Any]:
    """One source object in the import format."""
    attributes = dict(source["attributes"])
    for key in ENCODED & attributes.keys():
        attributes[key] = _json_text(attributes[key])
    meta = attributes.get("kibanaSavedObjectMeta")
    if isinstance(meta, Mapping):
        attributes["kibanaSavedObjectMeta"] = {
            k: _json_text(v) if k in ENCODED_META else v for k, v in meta.items()
        }
    return {
        "id": source["id"],
        "type": source["type"],
        "attributes": attributes,
        "references": list(source.get("references", [])),
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[source["type"]],
        "managed": False,
    }


def decode(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An import-format object with its JSON-string attributes parsed (for checks)."""
    attributes = dict(obj["attributes"])
    for key in ENCODED & attributes.keys():
        attributes[key] = json.loads(attributes[key])
    meta = attributes.get("kibanaSavedObjectMeta")
    if isinstance(meta, Mapping):
        attributes["kibanaSavedObjectMeta"] = {
            k: json.loads(v) if k in ENCODED_META else v for k, v in meta.items()
        }
    return {**obj, "attributes": attributes}


def build_ndjson(sources: Sequence[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(encode(s), ensure_ascii=False, sort_keys=True) + "\n" for s in sources)


def build_rules_ndjson(directory: Path = RULES_DIR) -> str:
    rules = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rules)


def parse_ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_generated() -> None:
    """Regenerate the committed NDJSON files from the sources."""
    NDJSON.write_text(build_ndjson(load_sources()), encoding="utf-8")
    RULES_NDJSON.write_text(build_rules_ndjson(), encoding="utf-8")


def _json_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":
    write_generated()
