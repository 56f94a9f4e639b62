"""`auditwatch kibana install` against a tiny loopback HTTP server that answers like Kibana's import
APIs (a stand-in for Kibana, which cannot run here): the request is what Kibana expects, and partial
failures (HTTP 200 with success: false) are reported per object."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from auditwatch.commands.cli import main
from auditwatch.kibana import assets


class FakeKibana(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeKibana

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        files = {
            part.get_param("filename", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "files": files})
        route = self.path.split("?")[0].rsplit("/api/", 1)[1]
        status, answer = self.server.answers.get(route, (404, {"message": "Not Found"}))
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def kibana() -> Iterator[FakeKibana]:
    server = FakeKibana()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _objects_count() -> int:
    return len(assets.parse_ndjson(assets.NDJSON.read_text(encoding="utf-8")))


def test_install_posts_both_files_with_overwrite_space_xsrf_and_api_key(
    kibana: FakeKibana, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full success: both imports go to the space's APIs with overwrite=true, kbn-xsrf and the key."""
    n = _objects_count()
    kibana.answers["saved_objects/_import"] = (200, {"success": True, "successCount": n, "errors": []})
    kibana.answers["detection_engine/rules/_import"] = (
        200,
        {"success": True, "success_count": 1, "errors": []},
    )
    key = tmp_path / "key"
    key.write_text("c2VjcmV0OmtleQ==\n")
    code = main(
        ["kibana", "install", "--url", kibana.url + "/", "--space", "psd", "--api-key-file", str(key)]
    )
    assert code == 0
    saved, rules = kibana.requests
    assert saved["path"] == "/s/psd/api/saved_objects/_import?overwrite=true"
    assert rules["path"] == "/s/psd/api/detection_engine/rules/_import?overwrite=true"
    for request in (saved, rules):
        assert request["headers"]["kbn-xsrf"]
        assert request["headers"]["Authorization"] == "ApiKey c2VjcmV0OmtleQ=="
    assert saved["files"]["auditwatch.ndjson"] == assets.NDJSON.read_bytes()
    assert rules["files"]["auditwatch.ndjson"] == assets.RULES_NDJSON.read_bytes()
    out = capsys.readouterr().out
    assert f"saved objects: {n} imported, 0 failed" in out
    assert "detection rules: 1 imported, 0 failed" in out


def test_partial_failure_is_reported_per_object_and_fails_the_command(
    kibana: FakeKibana, capsys: pytest.CaptureFixture[str]
) -> None:
    """HTTP 200 with success: false: each failed object is named with its reason; exit 1."""
    kibana.answers["saved_objects/_import"] = (
        200,
        {
            "success": False,
            "successCount": 5,
            "errors": [
                {
                    "id": "auditwatch-overview",
                    "type": "dashboard",
                    "title": "auditwatch: overview",
                    "error": {
                        "type": "missing_references",
                        "references": [{"type": "index-pattern", "id": "auditwatch-events-view"}],
                    },
                },
                {"id": "auditwatch-alerts-view", "type": "index-pattern", "error": {"type": "conflict"}},
            ],
        },
    )
    code = main(["kibana", "install", "--url", kibana.url, "--no-detection-rule"])
    assert code == 1
    out = capsys.readouterr().out
    assert "saved objects: 5 imported, 2 failed" in out
    assert (
        "FAILED dashboard auditwatch-overview (auditwatch: overview): missing references: "
        "index-pattern auditwatch-events-view"
    ) in out
    assert "FAILED index-pattern auditwatch-alerts-view: conflict" in out
    assert [r["path"] for r in kibana.requests] == ["/api/saved_objects/_import?overwrite=true"]


def test_an_http_error_names_the_status_and_kibanas_message(
    kibana: FakeKibana, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """401 from Kibana (wrong password) is a failure with Kibana's own message; basic auth was sent."""
    kibana.answers["saved_objects/_import"] = (401, {"statusCode": 401, "message": "Unauthorized"})
    secret = tmp_path / "pw"
    secret.write_text("hunter2")
    code = main(
        [
            "kibana",
            "install",
            "--url",
            kibana.url,
            "--username",
            "psd",
            "--password-file",
            str(secret),
            "--no-detection-rule",
        ]
    )
    assert code == 1
    assert "HTTP 401" in capsys.readouterr().out
    assert kibana.requests[0]["headers"]["Authorization"].startswith("Basic ")


def test_unreachable_kibana_is_a_clear_runtime_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listening: exit 3 with the URL in the message."""
    server = FakeKibana()
    url = server.url
    server.server_close()
    assert main(["kibana", "install", "--url", url, "--no-detection-rule"]) == 3
    assert f"Kibana at {url} could not be reached" in capsys.readouterr().err
