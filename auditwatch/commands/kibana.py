"""`auditwatch kibana install`: import the reviewers' saved objects (logic in auditwatch.kibana)."""

from __future__ import annotations

import argparse

from auditwatch.commands import EXIT_FINDINGS, EXIT_OK


def cmd_install(args: argparse.Namespace) -> int:
    from auditwatch.kibana import assets
    from auditwatch.kibana.install import KibanaTarget, install, secret_from

    password = secret_from(args.password_file, args.password_env)
    target = KibanaTarget(
        url=args.url,
        space=args.space,
        api_key=secret_from(args.api_key_file, args.api_key_env),
        basic_auth=(args.username, password) if args.username and password is not None else None,
        ca_certs=args.ca_certs,
        verify=not args.insecure,
    )
    rules = None if args.no_detection_rule else assets.RULES_NDJSON.read_bytes()
    failed = False
    for result in install(target, assets.NDJSON.read_bytes(), rules):
        print(f"{result.what}: {result.imported} imported, {len(result.failures)} failed")
        for failure in result.failures:
            print(f"  FAILED {failure}")
        failed = failed or not result.ok
    return EXIT_FINDINGS if failed else EXIT_OK
