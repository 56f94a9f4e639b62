"""`auditwatch kibana install`: load the saved objects (and the Security-app rule) into Kibana.

Saved objects go to `POST [/s/<space>]/api/saved_objects/_import?overwrite=true` and the rule to
`POST [/s/<space>]/api/detection_engine/rules/_import?overwrite=true`, both as multipart uploads.
Kibana answers HTTP 200 with `success: false` when only some objects failed, so every answer is read
per object and each failure is reported with its id, type and reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import urllib3

from auditwatch.errors import AuditwatchError


@dataclass(frozen=True, slots=True)
class KibanaTarget:
    url: str
    space: str | None = None
    api_key: str | None = None
    basic_auth: tuple[str, str] | None = None
    ca_certs: str | None = None
    verify: bool = True
    timeout: float = 60.0

    def endpoint(self, path: str) -> str:
        base = self.url.rstrip("/")
        if self.space and self.space != "default":
            base += f"/s/{quote(self.space, safe='')}"
        return base + path


@dataclass
class ImportResult:
    what: str
    imported: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def secret_from(file: str | None, env: str | None) -> str | None:
    """A secret from a file (first line) or an environment variable, never from the command line."""
    if file:
        return Path(file).read_text(encoding="utf-8").strip()
    if env:
        value = os.environ.get(env)
        if value is None:
            raise AuditwatchError(f"environment variable {env} is not set")
        return value
    return None


def install(target: KibanaTarget, objects: bytes, rules: bytes | None) -> list[ImportResult]:
    http = _pool(target)
    results = [
        _import(
            http,
            target,
            "/api/saved_objects/_import?overwrite=true",
            payload=objects,
            what="saved objects",
            read=_saved,
        )
    ]
    if rules is not None:
        path = "/api/detection_engine/rules/_import?overwrite=true"
        results.append(_import(http, target, path, payload=rules, what="detection rules", read=_rules))
    return results


def _pool(target: KibanaTarget) -> urllib3.PoolManager:
    if not target.verify:
        return urllib3.PoolManager(cert_reqs="CERT_NONE")
    return urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=target.ca_certs)


def _headers(target: KibanaTarget) -> dict[str, str]:
    headers = {"kbn-xsrf": "auditwatch"}
    if target.api_key:
        headers["Authorization"] = f"ApiKey {target.api_key}"
    elif target.basic_auth:
        headers["Authorization"] = urllib3.make_headers(basic_auth=":".join(target.basic_auth))[
            "authorization"
        ]
    return headers


def _import(
    http: urllib3.PoolManager,
    target: KibanaTarget,
    path: str,
    *,
    payload: bytes,
    what: str,
    read: Any,
) -> ImportResult:
    body, content_type = urllib3.encode_multipart_formdata(
        {"file": ("auditwatch.ndjson", payload, "application/ndjson")}
    )
    url = target.endpoint(path)
    try:
        resp = http.request(
            "POST",
            url,
            body=body,
            headers={**_headers(target), "Content-Type": content_type},
            timeout=target.timeout,
            retries=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise AuditwatchError(f"Kibana at {target.url} could not be reached for {what}: {exc}") from None
    text = resp.data.decode("utf-8", "replace")
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if resp.status != 200 or not isinstance(answer, Mapping):
        detail = answer.get("message") if isinstance(answer, Mapping) else text[:300]
        return ImportResult(what, failures=[f"HTTP {resp.status} from {url}: {detail}"])
    result: ImportResult = read(what, answer)
    return result


def _saved(what: str, answer: Mapping[str, Any]) -> ImportResult:
    result = ImportResult(what, imported=int(answer.get("successCount", 0)))
    for error in answer.get("errors", []) or []:
        reason = error.get("error", {})
        detail = reason.get("message") or reason.get("type") or json.dumps(reason)
        if reason.get("type") == "missing_references":
            missing = ", ".join(f"{r.get('type')} {r.get('id')}" for r in reason.get("references", []))
            detail = f"missing references: {missing}"
        title = f" ({error.get('title')})" if error.get("title") else ""
        result.failures.append(f"{error.get('type')} {error.get('id')}{title}: {detail}")
    if not answer.get("success", False) and not result.failures:
        result.failures.append("Kibana reported success: false without per-object errors")
    return result


def _rules(what: str, answer: Mapping[str, Any]) -> ImportResult:
    result = ImportResult(what, imported=int(answer.get("success_count", 0)))
    for error in answer.get("errors", []) or []:
        reason = error.get("error", {})
        result.failures.append(
            f"rule {error.get('rule_id') or error.get('id')}: {reason.get('message', reason)}"
        )
    if not answer.get("success", False) and not result.failures:
        result.failures.append("Kibana reported success: false without per-rule errors")
    return result
