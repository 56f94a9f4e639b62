"""`auditwatch test output`: can the daemon reach, trust, log in to and write to its cluster?

Like `filebeat test output`: each step on its own line with `ok` or the reason it failed, so an
operator sees at once whether it is the network, TLS, the credentials, the privileges or `setup`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from elasticsearch import ApiError, Elasticsearch, TransportError

from auditwatch.commands import EXIT_OK, EXIT_RUNTIME
from auditwatch.indexing import make_client, missing_parts, wrong_mappings
from auditwatch.indexing.config import ElasticsearchConfig
from auditwatch.schema import IndexNames


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    ok: bool
    detail: str


def daemon_privileges(names: IndexNames, *, auto_setup: bool) -> dict[str, Any]:
    """The privileges `auditwatch run` uses, as a has_privileges request body."""
    cluster = ["monitor"] + (["manage_index_templates"] if auto_setup else [])
    return {
        "cluster": cluster,
        "index": [
            {"names": [names.events_pattern], "privileges": ["create_doc", "create_index"]},
            {"names": [names.alerts, names.health], "privileges": ["create_doc", "read"]},
            {"names": [names.dead_letter], "privileges": ["create_doc"]},
        ],
    }


def check_output(cfg: ElasticsearchConfig) -> list[Step]:
    names = IndexNames(cfg.index_prefix)
    client = make_client(cfg).options(max_retries=0)
    steps: list[Step] = []
    try:
        for name, check in _checks(names, cfg):
            try:
                ok, detail = check(client)
            except ApiError as exc:
                ok, detail = False, _api_reason(exc)
            except TransportError as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc.message}"
            steps.append(Step(name, ok, detail))
            if not ok and name in ("connection", "authentication"):
                break  # later steps would only repeat the same failure
    finally:
        client.close()
    return steps


def print_steps(steps: list[Step], hosts: tuple[str, ...], out: TextIO) -> None:
    out.write(f"elasticsearch: {', '.join(hosts)}\n")
    for step in steps:
        out.write(
            f"  {step.name}... {'ok' if step.ok else 'ERROR'}{': ' + step.detail if step.detail else ''}\n"
        )


def _checks(
    names: IndexNames, cfg: ElasticsearchConfig
) -> list[tuple[str, Callable[[Elasticsearch], tuple[bool, str]]]]:
    def connection(client: Elasticsearch) -> tuple[bool, str]:
        nodes = client.nodes.info(node_id="_local", metric="_none")["nodes"]
        version = next(iter(nodes.values())).get("version", "?") if nodes else "?"
        health = client.cluster.health()
        tls = (
            "TLS verified" if cfg.hosts[0].startswith("https") and cfg.verify_certs else "no TLS verification"
        )
        return True, f"version {version}, cluster {health['status']}, {tls}"

    def authentication(client: Elasticsearch) -> tuple[bool, str]:
        if not _security_enabled(client):
            return True, "security is disabled on this cluster (no authentication)"
        who = client.security.authenticate()
        return True, f"as {who.get('username')} (realm {who.get('authentication_realm', {}).get('name')})"

    def privileges(client: Elasticsearch) -> tuple[bool, str]:
        if not _security_enabled(client):
            return True, "not checked: security is disabled on this cluster"
        resp = client.security.has_privileges(**daemon_privileges(names, auto_setup=cfg.setup == "auto"))
        if resp.get("has_all_requested"):
            return True, "every privilege the daemon needs"
        missing = [
            f"{index}: {priv}"
            for index, privs in resp.get("index", {}).items()
            for priv, held in privs.items()
            if not held
        ] + [f"cluster: {priv}" for priv, held in resp.get("cluster", {}).items() if not held]
        return False, "missing " + ", ".join(missing)

    def templates(client: Elasticsearch) -> tuple[bool, str]:
        wrong, missing = wrong_mappings(client, names), missing_parts(client, names)
        if wrong or missing:
            hint = (
                "the daemon will install them (setup: auto)"
                if cfg.setup == "auto"
                else "run `auditwatch setup`"
            )
            shown = missing if len(missing) <= 3 else [f"{len(missing)} templates and indices are missing"]
            return False, "; ".join(wrong + shown) + f" ({hint})"
        return True, f"templates and indices for prefix '{names.prefix}' in place"

    return [
        ("connection", connection),
        ("authentication", authentication),
        ("privileges", privileges),
        ("templates", templates),
    ]


def _security_enabled(client: Elasticsearch) -> bool:
    """From the node's settings: on by default in 8.x and 9.x unless switched off explicitly."""
    nodes = client.nodes.info(node_id="_local", metric="settings", flat_settings=True)["nodes"]
    settings = next(iter(nodes.values())).get("settings", {}) if nodes else {}
    return str(settings.get("xpack.security.enabled", "true")).lower() != "false"


def _api_reason(exc: ApiError) -> str:
    hints = {401: " (check the API key or password)", 403: " (the user lacks a privilege)"}
    return f"HTTP {exc.meta.status} {exc.error}{hints.get(exc.meta.status, '')}"


def cmd_test_output(args: argparse.Namespace) -> int:
    from auditwatch.config.daemon import load_config

    config = load_config(args.config)
    steps = check_output(config.elasticsearch)
    print_steps(steps, config.elasticsearch.hosts, sys.stdout)
    return EXIT_OK if all(step.ok for step in steps) else EXIT_RUNTIME
