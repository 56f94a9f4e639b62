"""Reviewers' commands against alerts the daemon really raised: list, show, triage with history,
optimistic concurrency, second review, and backtest samples read through the typed summary."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from auditwatch.schema import IndexNames
from auditwatch.triage import Action, AlertStore, Filters, Policy, TriageConflict, TriageError

from .conftest import Demo, pick_new

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _all(es_client: Elasticsearch, demo: Demo, **query: Any) -> list[dict[str, Any]]:
    resp = es_client.search(index=demo.alerts_index, size=1000, query=query or {"match_all": {}})
    return list(resp["hits"]["hits"])


def _list_json(cli: Cli, *args: str) -> dict[str, Any]:
    done = cli("alerts", "list", "--json", "--limit", "1000", *args)
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def _store(es_client: Elasticsearch, demo: Demo, policy: Policy | None = None) -> AlertStore:
    return AlertStore(es_client, IndexNames(demo.prefix), policy)


def _pick(es_client: Elasticsearch, demo: Demo, severity: int) -> str:
    return pick_new(es_client, demo, **{"event.severity": severity})


def test_list_is_newest_first_with_ids_and_counts_match_elasticsearch(
    cli: Cli, demo: Demo, es_client: Elasticsearch
) -> None:
    """`alerts list` shows every alert id, newest first; the table shows ids too."""
    everything = _all(es_client, demo)
    body = _list_json(cli)
    assert body["total"] == len(everything) > 40
    listed = body["alerts"]
    assert {a["id"] for a in listed} == {h["_id"] for h in everything}
    stamps = [a["timestamp"] for a in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert all(
        a["reasons"] and a["severity"] and a["user_id"] for a in listed if a["rule_id"] != "record-surge"
    )
    table = cli("alerts", "list", "--limit", "5")
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()
    assert rows[0].split()[:4] == ["alert", "id", "time", "(UTC)"]
    assert [r.split()[0] for r in rows[1:]] == [a["id"] for a in listed[:5]]
    assert f"5 shown of {len(everything)}" in table.stderr


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        (("--rule", "colleague-lookup"), "rule_id", "colleague-lookup"),
        (("--severity", "high"), "severity", "high"),
        (("--status", "new"), "status", "new"),
    ],
)
def test_list_filters(cli: Cli, args: tuple[str, ...], field: str, value: str) -> None:
    """Each filter returns exactly the alerts that have that value."""
    everything = _list_json(cli)["alerts"]
    expected = {a["id"] for a in everything if a[field] == value}
    assert expected
    got = _list_json(cli, *args)["alerts"]
    assert {a["id"] for a in got} == expected


def test_list_filters_by_user_case_and_since(cli: Cli, demo: Demo) -> None:
    """--user, --case and --since narrow the list to the alerts of that user, case and period."""
    everything = _list_json(cli)["alerts"]
    user = everything[0]["user_id"]
    mine = {a["id"] for a in everything if a["user_id"] == user}
    assert {a["id"] for a in _list_json(cli, "--user", user)["alerts"]} == mine
    case = everything[0]["case_id"]
    assert case.startswith(f"{user}@")
    in_case = {a["id"] for a in everything if a["case_id"] == case}
    assert {a["id"] for a in _list_json(cli, "--case", case)["alerts"]} == in_case
    day = everything[len(everything) // 2]["timestamp"][:10]
    later = {a["id"] for a in everything if a["timestamp"][:10] >= day}
    assert {a["id"] for a in _list_json(cli, "--since", day)["alerts"]} == later
    assert len(later) < len(everything)
    bad = cli("alerts", "list", "--since", "yesterday-ish")
    assert bad.returncode == 3
    assert "--since" in bad.stderr


def test_show_gives_reasons_explanations_evidence_and_history(
    cli: Cli, demo: Demo, es_client: Elasticsearch
) -> None:
    """`alerts show ID` prints the reasons, each explanation tried, the raw evidence line and history."""
    alert_id = pick_new(es_client, demo, **{"rule.id": "colleague-lookup"})
    hit = es_client.get(index=demo.alerts_index, id=alert_id)
    doc = hit["_source"]
    done = cli("alerts", "show", hit["_id"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"alert {hit['_id']}" in out
    assert doc["auditwatch"]["alert"]["reasons"][0] in out
    for tried in doc["auditwatch"]["alert"]["explanations_tried"]:
        assert f"{tried['label']}: {tried['result']}" in out
    evidence = doc["auditwatch"]["alert"]["evidence"][0]
    assert evidence["original"] in out
    assert evidence["hash"] in out
    assert "history\n  (no triage yet)" in out
    missing = cli("alerts", "show", "no-such-alert")
    assert missing.returncode == 3
    assert "no alert with id no-such-alert" in missing.stderr


def test_assign_close_reopen_refer_keep_an_append_only_history(
    cli: Cli, demo: Demo, es_client: Elasticsearch
) -> None:
    """Each verb moves the status and appends who, when, from -> to and why; earlier entries stay."""
    alert = _pick(es_client, demo, severity=1)
    steps = [
        (("assign", alert, "--by", "alice"), "under_review"),
        (
            (
                "close",
                alert,
                "--as",
                "explained",
                "--reason",
                "team case missing from export",
                "--by",
                "alice",
            ),
            "closed",
        ),
        (("reopen", alert, "--reason", "export now has the case; not ours", "--by", "bob"), "under_review"),
        (
            ("refer", alert, "--to", "ACU case officer", "--reason", "pattern across days", "--by", "bob"),
            "referred",
        ),
    ]
    for args, status in steps:
        done = cli("alerts", *args)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().endswith(f"{status} (by {args[-1]})")
    doc = es_client.get(index=demo.alerts_index, id=alert)["_source"]
    triage = doc["auditwatch"]["triage"]
    assert triage["status"] == "referred"
    assert triage["referred_to"] == "ACU case officer"
    history = triage["history"]
    assert [(h["by"], h["action"], h["from"], h["to"]) for h in history] == [
        ("alice", "assign", "new", "under_review"),
        ("alice", "close", "under_review", "closed"),
        ("bob", "reopen", "closed", "under_review"),
        ("bob", "refer", "under_review", "referred"),
    ]
    assert history[1]["outcome"] == "explained"
    assert history[1]["reason"] == "team case missing from export"
    assert all(h["at"].endswith("Z") for h in history)
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    shown = cli("alerts", "show", alert).stdout
    assert 'alice  close outcome=explained: under_review -> closed "team case missing from export"' in shown
    # a status filter finds it; closing needs a reason (argparse refuses without one)
    assert alert in {a["id"] for a in _list_json(cli, "--status", "referred")["alerts"]}
    assert cli("alerts", "close", alert, "--as", "upheld").returncode == 2


def test_a_closed_alert_cannot_be_closed_again_or_assigned(
    cli: Cli, demo: Demo, es_client: Elasticsearch
) -> None:
    """Transitions that make no sense are refused with a clear message and change nothing."""
    alert = _pick(es_client, demo, severity=1)
    assert (
        cli(
            "alerts", "close", alert, "--as", "false-positive", "--reason", "test data", "--by", "carol"
        ).returncode
        == 0
    )
    before = es_client.get(index=demo.alerts_index, id=alert)
    again = cli("alerts", "close", alert, "--as", "upheld", "--reason", "x", "--by", "carol")
    assert again.returncode == 3
    assert "already closed as false-positive" in again.stderr
    assign = cli("alerts", "assign", alert, "--by", "carol")
    assert "reopen it first" in assign.stderr
    after = es_client.get(index=demo.alerts_index, id=alert)
    assert after["_seq_no"] == before["_seq_no"]


def test_concurrent_updates_one_wins_the_other_gets_a_conflict_and_both_are_in_the_history(
    demo: Demo, es_client: Elasticsearch
) -> None:
    """Two reviewers read the same alert; the first write wins, the second gets TriageConflict with a
    clear message and is not applied, and the history shows both attempts."""
    store = _store(es_client, demo)
    alert = _pick(es_client, demo, severity=2)
    seen_by_dana = store.get(alert)
    seen_by_erin = store.get(alert)
    store.apply(seen_by_dana, Action("close", by="dana", outcome="upheld", reason="no case, repeat pattern"))
    with pytest.raises(TriageConflict) as conflict:
        store.apply(seen_by_erin, Action("close", by="erin", outcome="explained", reason="training exercise"))
    message = str(conflict.value)
    assert "was changed by dana (close at" in message
    assert "now closed" in message
    assert "NOT applied" in message
    triage = store.get(alert).triage
    assert triage["status"] == "closed"
    assert triage["outcome"] == "upheld"
    assert [(h["by"], h["to"], h["result"]) for h in triage["history"]] == [
        ("dana", "closed", "applied"),
        ("erin", "closed", "rejected: changed concurrently"),
    ]
    assert triage["history"][1]["outcome"] == "explained"


def test_closing_a_critical_alert_needs_a_second_different_reviewer(
    cli: Cli, demo: Demo, es_client: Elasticsearch
) -> None:
    """With `triage.second_review: [critical]` the first close is a proposal; the same reviewer cannot
    confirm it, a different one can."""
    alert = _pick(es_client, demo, severity=4)
    first = cli(
        "alerts", "close", alert, "--as", "upheld", "--reason", "VIP browsing, no case", "--by", "frank"
    )
    assert first.returncode == 0, first.stderr
    assert "awaiting_second_review" in first.stdout
    assert "needs a second reviewer" in first.stdout
    same = cli("alerts", "close", alert, "--as", "upheld", "--reason", "confirming", "--by", "frank")
    assert same.returncode == 3
    assert "second, different reviewer" in same.stderr
    other = cli("alerts", "close", alert, "--as", "explained", "--reason", "disagree", "--by", "gita")
    assert "to disagree, reopen" in other.stderr
    confirm = cli("alerts", "close", alert, "--as", "upheld", "--reason", "agree: no case", "--by", "gita")
    assert confirm.returncode == 0, confirm.stderr
    triage = es_client.get(index=demo.alerts_index, id=alert)["_source"]["auditwatch"]["triage"]
    assert (triage["status"], triage["outcome"]) == ("closed", "upheld")
    assert [h["by"] for h in triage["history"]] == ["frank", "gita"]


def test_workflow_refuses_an_empty_reason_at_the_library_level(demo: Demo, es_client: Elasticsearch) -> None:
    """Library callers (not only the CLI) cannot close without a reason."""
    store = _store(es_client, demo)
    with pytest.raises(TriageError, match="needs --reason"):
        store.act(_pick(es_client, demo, severity=2), Action("close", by="h", outcome="upheld"))


def test_list_sees_its_own_triage_without_a_refresh(demo: Demo, es_client: Elasticsearch) -> None:
    """Triage writes wait for the refresh, so the next `list --status` finds the change."""
    store = _store(es_client, demo)
    alert = _pick(es_client, demo, severity=3)
    store.act(alert, Action("assign", by="ivan", assignee="ivan"))
    listed = store.list(Filters(status=("under_review",), limit=1000))
    assert alert in {s.id for s in listed.alerts}


def test_backtest_samples_name_the_user_and_the_reason(cli: Cli, demo: Demo) -> None:
    """`rules backtest` samples read the typed summary: user and first reason, never `None:`."""
    done = cli("rules", "backtest", "colleague-lookup", "--since", "3650d", "--samples", "3")
    assert done.returncode == 0, done.stderr
    samples = [line for line in done.stdout.splitlines() if line.strip().startswith("sample ")]
    assert len(samples) == 3
    for line in samples:
        assert "None" not in line
        assert "opened the record of colleague" in line
        assert " MP" in line


SPECIFIC = {
    "colleague-lookup",
    "declared-associate",
    "vip-watchlist",
    "self-lookup",
    "neighbour-lookup",
    "family-surname",
}


def test_demo_has_no_event_with_both_a_specific_and_an_unrelated_record_alert(
    demo: Demo, es_client: Elasticsearch, cli: Cli
) -> None:
    """Folding in the daemon's output: an unrelated-record finding on an event a specific rule alerted
    on is on that alert under `also`, never a separate alert; `show` prints it."""
    rules_by_event: dict[str, set[str]] = {}
    folded = []
    for hit in _all(es_client, demo):
        alert = hit["_source"]["auditwatch"]["alert"]
        for item in alert["evidence"]:
            rules_by_event.setdefault(item["event_id"], set()).add(hit["_source"]["rule"]["id"])
        if alert.get("also"):
            folded.append(hit)
    both = [rules for rules in rules_by_event.values() if "unrelated-record" in rules and rules & SPECIFIC]
    assert both == []
    assert folded, "the demo has specific alerts that absorbed an unrelated-record finding"
    host = folded[0]
    (also,) = host["_source"]["auditwatch"]["alert"]["also"]
    assert also["rule_id"] == "unrelated-record"
    assert host["_source"]["rule"]["id"] in SPECIFIC
    shown = cli("alerts", "show", host["_id"]).stdout
    assert f"also\n  - unrelated-record: {also['reason']}" in shown
