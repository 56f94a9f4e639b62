"""`auditwatch setup`: install (or --print) the index templates, indices and, with --security, roles."""

from __future__ import annotations

import argparse

import orjson

from auditwatch.commands import EXIT_OK, EXIT_RUNTIME


def cmd_setup(args: argparse.Namespace) -> int:
    from auditwatch.config.daemon import load_config
    from auditwatch.indexing import make_client, setup_cluster
    from auditwatch.indexing.templates import component_templates, index_templates
    from auditwatch.schema import IndexNames

    config = load_config(args.config)
    names = IndexNames(config.elasticsearch.index_prefix)
    if args.print_only:
        bodies = {
            "component_templates": component_templates(names),
            "index_templates": index_templates(names),
        }
        if args.security:
            from auditwatch.indexing.security import api_key_requests, role_descriptors

            bodies["roles"] = role_descriptors(names)
            bodies["api_keys"] = api_key_requests(names)
        print(orjson.dumps(bodies, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
        return EXIT_OK
    client = make_client(config.elasticsearch)
    for line in setup_cluster(client, names):
        print(line)
    if args.security:
        from auditwatch.indexing.security import apply_roles

        lines = apply_roles(client, names)
        for line in lines:
            print(line)
        if any("NOT applied" in line for line in lines):
            return EXIT_RUNTIME
    return EXIT_OK
