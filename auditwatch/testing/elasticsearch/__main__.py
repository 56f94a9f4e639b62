"""``python -m auditwatch.testing.elasticsearch ensure|start|status|stop``: see the package docstring."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from auditwatch.testing.elasticsearch import (
    DistributionError,
    LocalElasticsearch,
    StartError,
    _node,
    _proc,
    ensure_distribution,
    find_java,
)


def _cli_stop(directory: Path) -> int:
    state = _node.read_state(directory)
    pid = state.get("pid")
    if isinstance(pid, int) and _proc.group_alive(pid):
        _proc.stop_group(pid, None, 30.0)
        print(f"stopped Elasticsearch (pid {pid})")
    else:
        print("not running")
    return 0


def _cli_status(directory: Path) -> int:
    state = _node.read_state(directory)
    pid = state.get("pid")
    alive = isinstance(pid, int) and _proc.group_alive(pid)
    print(json.dumps({**state, "password": None, "running": alive}, indent=2))
    return 0 if alive else 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auditwatch.testing.elasticsearch")
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure", help="fetch the distribution and find (or install) a JDK")
    ensure.add_argument("--version", default=None)
    start = commands.add_parser("start", help="start detached, write DIR/state.json, print the url")
    start.add_argument("--dir", type=Path, required=True)
    start.add_argument("--port", type=int, default=None)
    start.add_argument("--security", action="store_true")
    start.add_argument("--heap", default="1g")
    start.add_argument("--version", default=None)
    for name in ("stop", "status"):
        commands.add_parser(name).add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "ensure":
            home = ensure_distribution(args.version)
            print(f"elasticsearch: {home}\njava: {find_java(args.version)}")
            return 0
        if args.command == "start":
            state = _node.read_state(args.dir)
            if isinstance(state.get("pid"), int) and _proc.group_alive(state["pid"]):
                print(state["url"])  # already running from an earlier `start`
                return 0
            args.dir.mkdir(parents=True, exist_ok=True)
            server = LocalElasticsearch(
                args.dir, version=args.version, port=args.port, security=args.security, heap=args.heap
            )
            server.start()
            server.detach()
            print(server.url)
            return 0
        if args.command == "stop":
            return _cli_stop(args.dir)
        return _cli_status(args.dir)
    except (DistributionError, StartError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
