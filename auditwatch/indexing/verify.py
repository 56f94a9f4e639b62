"""Are the auditwatch indices that exist mapped by auditwatch's own templates?

An index that Elasticsearch auto-created before the templates existed has a dynamic mapping (text
fields, one replica): writing on into it would make alerts unsortable and events unsearchable, and
no mapping update can repair it in place. `run` refuses to start on such a cluster and `setup`
explains the fix instead of failing on a mapping conflict.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from auditwatch.errors import AuditwatchError
from auditwatch.schema import IndexNames


class ClusterNotReady(AuditwatchError):
    """Templates or indices are missing or wrong; the message says what and how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def wrong_mappings(client: Elasticsearch, names: IndexNames) -> list[str]:
    """Existing auditwatch indices whose mapping did not come from auditwatch's templates."""
    problems: list[str] = []
    for pattern, check in (
        (names.events_pattern, _strict),
        (names.dead_letter, _strict),
        (names.health, _strict),
        (names.alerts, _alerts_typed),
    ):
        for index, body in _mappings(client, pattern).items():
            why = check(body.get("mappings", {}))
            if why:
                problems.append(
                    f"index {index} was not created from auditwatch's templates ({why}), probably "
                    "auto-created by a write before `auditwatch setup` ran; it cannot be fixed in "
                    f"place: stop auditwatch, move its documents elsewhere or delete it "
                    f"(DELETE /{index}), then run `auditwatch setup`"
                )
    return problems


def _mappings(client: Elasticsearch, pattern: str) -> dict[str, Any]:
    try:
        return dict(client.indices.get_mapping(index=pattern, allow_no_indices=True, expand_wildcards="all"))
    except NotFoundError:
        return {}


def _strict(mappings: dict[str, Any]) -> str:
    dynamic = str(mappings.get("dynamic", "true")).lower()
    return "" if dynamic == "strict" else f"its mapping is dynamic ({dynamic}), not strict"


def _alerts_typed(mappings: dict[str, Any]) -> str:
    rule = mappings.get("properties", {}).get("rule", {}).get("properties", {}).get("id", {})
    kind = rule.get("type")
    return "" if kind == "keyword" else f"rule.id is mapped as {kind or 'nothing'}, not keyword"
