"""Assets shipped for operators stay in step with the code that generates them."""

from __future__ import annotations

import json
from pathlib import Path

from auditwatch.indexing.templates import component_templates, index_templates
from auditwatch.schema import IndexNames

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_exported_templates_match_what_setup_installs() -> None:
    """deploy/elasticsearch/templates.json is `auditwatch setup --print` for the default prefix."""
    names = IndexNames()
    generated = {"component_templates": component_templates(names), "index_templates": index_templates(names)}
    shipped = json.loads((DEPLOY / "elasticsearch" / "templates.json").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(generated))


def test_systemd_unit_runs_the_daemon_unprivileged_and_checks_config_first() -> None:
    """The unit starts `auditwatch run` as a dedicated user after `check-config`, reload = SIGHUP."""
    unit = (DEPLOY / "systemd" / "auditwatch.service").read_text(encoding="utf-8")
    lines = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in unit.splitlines() if "=" in line}
    assert lines["User"] == "auditwatch"
    assert lines["ExecStart"].endswith("auditwatch run")
    assert lines["ExecStartPre"].endswith("auditwatch check-config")
    assert "-HUP" in lines["ExecReload"]
    assert lines["NoNewPrivileges"] == "yes"
