"""Least-privilege roles for one deployment, as Elasticsearch role descriptors.

The same descriptors are (a) the bodies of `PUT _security/role/<name>` that `auditwatch setup
--security` sends where the role API exists, (b) the `role_descriptors` of the API keys the daemon
and reviewers should use, and (c) file roles (`roles.yml`) for clusters managed by file. The suite
proves what each allows by loading (c) into a real Elasticsearch with security on.

- setup: templates and index creation, nothing else (no document access).
- daemon: create documents in the event, alert and dead-letter indices (events auto-create their
  monthly index from the template); no read, no update, no delete.
- reviewer: read alerts and change their triage (update); read events with the raw lines hidden by
  field-level security; no access to dead letters (they hold raw lines); no delete, no admin.
  Elasticsearch has no field-level *write* control: the reviewer's update right covers the whole
  alert document; the triage commands only ever write `auditwatch.triage`, and every change is in
  its history. Field-level security cannot be put on the alerts index itself, because Elasticsearch
  refuses updates under field-level security.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError

from auditwatch.schema import IndexNames

SETUP: Final = "setup"
DAEMON: Final = "daemon"
REVIEWER: Final = "reviewer"
RISK_JOB: Final = "risk_job"
PURPOSES: Final = (SETUP, DAEMON, REVIEWER, RISK_JOB)

RAW_LINE_FIELDS: Final = ("event.original", "auditwatch.line.original_b64")

# what a role descriptor may hold (Elasticsearch 8.x/9.x role API), and the privileges used here
_ROLE_KEYS: Final = frozenset(
    {
        "cluster",
        "indices",
        "applications",
        "run_as",
        "metadata",
    }
)
_INDEX_KEYS: Final = frozenset({"names", "privileges", "field_security", "query", "allow_restricted_indices"})
KNOWN_CLUSTER_PRIVILEGES: Final = frozenset({"monitor", "manage_index_templates"})
KNOWN_INDEX_PRIVILEGES: Final = frozenset(
    {"auto_configure", "create_doc", "create_index", "index", "manage", "read", "view_index_metadata"}
)


def role_name(names: IndexNames, purpose: str) -> str:
    return f"{names.prefix}_{purpose}"


def role_descriptors(names: IndexNames) -> dict[str, dict[str, Any]]:
    """Role name -> role descriptor, for this deployment's index names."""

    def meta(description: str) -> dict[str, str]:
        return {"managed_by": "auditwatch", "index_prefix": names.prefix, "description": description}

    everything = [names.events_pattern, names.alerts, names.dead_letter, names.health, names.risk]
    return {
        role_name(names, SETUP): {
            "cluster": ["manage_index_templates", "monitor"],
            "indices": [
                {"names": everything, "privileges": ["create_index", "manage", "view_index_metadata"]}
            ],
            "metadata": meta("auditwatch setup: index templates and indices, no documents"),
        },
        role_name(names, DAEMON): {
            # what `auditwatch run` uses (see commands/test_output.daemon_privileges): the start-up
            # check reads mappings; the digest counts open alerts; heartbeats go to the health index
            "cluster": ["monitor"],
            "indices": [
                {
                    "names": [names.events_pattern],
                    "privileges": ["create_doc", "create_index", "view_index_metadata"],
                },
                {
                    "names": [names.alerts, names.health],
                    "privileges": ["create_doc", "read", "view_index_metadata"],
                },
                {"names": [names.dead_letter], "privileges": ["create_doc", "view_index_metadata"]},
            ],
            "metadata": meta(
                "auditwatch daemon: create events, alerts, dead letters and heartbeats; no update or delete"
            ),
        },
        role_name(names, REVIEWER): {
            "cluster": [],
            "indices": [
                {"names": [names.alerts], "privileges": ["read", "index"]},
                {"names": [names.risk], "privileges": ["read"]},
                {
                    "names": [names.events_pattern],
                    "privileges": ["read"],
                    "field_security": {"grant": ["*"], "except": list(RAW_LINE_FIELDS)},
                },
            ],
            "metadata": meta("auditwatch reviewer: read and triage alerts; events without raw lines"),
        },
        role_name(names, RISK_JOB): {
            "cluster": [],
            "indices": [
                {"names": [names.alerts], "privileges": ["read"]},
                {"names": [names.risk], "privileges": ["read", "index"]},
            ],
            "metadata": meta("auditwatch risk job: read alerts, rewrite the per-user risk index"),
        },
    }


def api_key_requests(names: IndexNames) -> dict[str, dict[str, Any]]:
    """Purpose -> body of `POST _security/api_key` for the daemon's and a reviewer's API key."""
    roles = role_descriptors(names)
    out = {}
    for purpose in (DAEMON, REVIEWER, RISK_JOB):
        name = role_name(names, purpose)
        out[purpose] = {"name": f"{names.prefix}-{purpose}", "role_descriptors": {name: roles[name]}}
    return out


def file_roles_yaml(names: IndexNames) -> str:
    """The descriptors as `roles.yml` (file roles): YAML is a superset of JSON, one role per entry."""
    lines = ["# auditwatch roles as file roles (config/roles.yml), generated from the same descriptors"]
    for name, descriptor in role_descriptors(names).items():
        lines.append(f"{name}: {orjson.dumps(descriptor, option=orjson.OPT_SORT_KEYS).decode()}")
    return "\n".join(lines) + "\n"


def check_descriptor(name: str, descriptor: Mapping[str, Any]) -> list[str]:
    """Problems with a role descriptor as a request body of the role API (checked offline)."""
    problems = []
    for key in descriptor:
        if key not in _ROLE_KEYS:
            problems.append(f"{name}: unknown key '{key}'")
    for privilege in descriptor.get("cluster", []):
        if privilege not in KNOWN_CLUSTER_PRIVILEGES:
            problems.append(f"{name}: unknown cluster privilege '{privilege}'")
    for i, entry in enumerate(descriptor.get("indices", [])):
        for key in entry:
            if key not in _INDEX_KEYS:
                problems.append(f"{name}: indices[{i}]: unknown key '{key}'")
        if not entry.get("names") or not all(isinstance(n, str) and n for n in entry["names"]):
            problems.append(f"{name}: indices[{i}]: 'names' must be a non-empty list of index names")
        for privilege in entry.get("privileges", []):
            if privilege not in KNOWN_INDEX_PRIVILEGES:
                problems.append(f"{name}: indices[{i}]: unknown index privilege '{privilege}'")
        if not entry.get("privileges"):
            problems.append(f"{name}: indices[{i}]: no privileges")
        fls = entry.get("field_security")
        if fls is not None and (set(fls) - {"grant", "except"} or not fls.get("grant")):
            problems.append(f"{name}: indices[{i}]: field_security needs 'grant' (and optional 'except')")
    return problems


def apply_roles(client: Elasticsearch, names: IndexNames) -> list[str]:
    """PUT each role through the role API; where the cluster has no role API, say what to do instead."""
    done = []
    for name, descriptor in role_descriptors(names).items():
        try:
            client.security.put_role(name=name, **descriptor)
        except (ApiError, TransportError) as exc:
            status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", "?")
            done.append(
                f"role {name}: NOT applied, the role API answered {status} ({_short(exc)}); "
                "install deploy/elasticsearch/security/roles.yml as file roles instead"
            )
            continue
        done.append(f"role {name}: applied")
    return done


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


def shipped_files(names: IndexNames) -> dict[str, str]:
    """Relative path under deploy/elasticsearch/security -> text: what the repository ships."""

    def js(body: object) -> str:
        return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"

    files = {f"roles/{name}.json": js(body) for name, body in role_descriptors(names).items()}
    files.update({f"api-keys/{purpose}.json": js(body) for purpose, body in api_key_requests(names).items()})
    files["roles.yml"] = file_roles_yaml(names)
    return files
