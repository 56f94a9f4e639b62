"""The `alerts` command line: the default verb and alert ids that begin with a dash."""

from __future__ import annotations


def test_alert_ids_beginning_with_a_dash_are_read_as_ids() -> None:
    """base64url alert ids may start with '-': after a verb they are still the id, not an option."""
    from auditwatch.commands.cli import _default_alerts_verb

    ident = "-J1Tse5Od4XLu3JC1o1g9e1Vssw"
    argv = ["--log-level", "warning", "alerts", "close", ident, "--as", "upheld", "--reason", "r"]
    assert _default_alerts_verb(argv) == [
        "--log-level",
        "warning",
        "alerts",
        "close",
        "--as",
        "upheld",
        "--reason",
        "r",
        "--",
        ident,
    ]
    assert _default_alerts_verb(["alerts", "--limit", "5"]) == ["alerts", "list", "--limit", "5"]
    assert _default_alerts_verb(["alerts", "show", "abc"]) == ["alerts", "show", "abc"]
