"""`dispatchctl local-cluster serve` as a newcomer uses it, with real kubectl (README flow)."""

from __future__ import annotations

import base64
import json
import os
import signal
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPSConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fixtures.cluster import KUBECTL
from tests.support.cli import ARGV, Result, process

SERVE = (*ARGV, "local-cluster", "serve")


def serve_once(*args: str) -> Result:
    """serve with arguments it refuses: it exits at once."""
    return process("local-cluster", "serve", *args, timeout=30)


@contextmanager
def serving(*args: str, stop: signal.Signals = signal.SIGTERM) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Local cluster serving at https://127.0.0.1:"), first
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_kubeconfig_then_restart_on_the_same_state(tmp_path: Path) -> None:
    kubeconfig, state = tmp_path / "k.yaml", tmp_path / "state" / "cluster.db"
    args = ("--write-kubeconfig", str(kubeconfig), "--state", str(state))
    with serving(*args) as proc:
        assert kubectl(kubeconfig, "create", "namespace", "dispatch").stdout == (
            "namespace/dispatch created\n"
        )
        kubectl(kubeconfig, "create", "serviceaccount", "team-1", "-n", "dispatch")
        # the one account made here (each namespace also has its default account)
        listed = kubectl(kubeconfig, "get", "sa", "-A", "--field-selector=metadata.name=team-1")
        assert listed.returncode == 0
        assert listed.stdout.splitlines()[1].split()[:2] == ["dispatch", "team-1"]
    assert proc.returncode == 0
    with serving(*args, stop=signal.SIGINT) as proc:
        again = kubectl(
            kubeconfig, "get", "sa", "-A", "-o", "name", "--field-selector=metadata.name=team-1"
        )
        assert again.stdout == "serviceaccount/team-1\n"
    assert proc.returncode == 0


def test_stop_is_clean_and_says_so(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dispatchctl",
            "local-cluster",
            "serve",
            "--write-kubeconfig",
            str(tmp_path / "k.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("Local cluster serving at")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.endswith("Local cluster stopped.\n")
    assert err == ""


def test_unusable_state_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    state.write_text("not sqlite" * 200)
    result = serve_once("--state", str(state))
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(f"Error: state file {state} is not a local-cluster state file")
    assert "hint: pass another --state path" in result.err
    assert "Traceback" not in result.err


# --- the token (issue 9 item 5): never on the command line unless forced, never readable by
# others on disk, required on every request -------------------------------------------------

TOKEN = "Zq7-token-from-a-file-0123456789"


def kubeconfig_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def url_of(first_line: str) -> str:
    return first_line.split(" at ", 1)[1].split(" ", 1)[0]


def get(url: str, kubeconfig: Path, token: str | None) -> tuple[int, dict[str, Any]]:
    """GET over TLS, the CA from the kubeconfig verified, with or without the token."""
    ca = base64.b64decode(
        kubeconfig_of(kubeconfig)["clusters"][0]["cluster"]["certificate-authority-data"]
    )
    context = ssl.create_default_context(cadata=ca.decode())
    parts = urlsplit(url)
    conn = HTTPSConnection(parts.hostname, parts.port, context=context, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request("GET", "/api/v1/namespaces", headers=headers)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


@contextmanager
def serving_with(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    kubeconfig = tmp_path / "k.yaml"
    proc = subprocess.Popen(
        [*SERVE, "--write-kubeconfig", str(kubeconfig), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Local cluster serving at https://127.0.0.1:"), first
        yield proc, url_of(first), kubeconfig
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def command_line(proc: subprocess.Popen[str]) -> str:
    return Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_token_from_a_file_is_required_and_not_on_the_command_line(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with serving_with(tmp_path, "--token-file", str(token_file)) as (proc, url, kubeconfig):
        assert TOKEN not in command_line(proc)
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
        assert kubeconfig_of(kubeconfig)["users"][0]["user"] == {"token": TOKEN}
        assert get(url, kubeconfig, None)[0] == 401
        assert get(url, kubeconfig, "wrong")[0] == 401
        status, body = get(url, kubeconfig, TOKEN)
        assert (status, body["kind"]) == (200, "NamespaceList")
        listed = kubectl(kubeconfig, "get", "ns", "-o", "name")
        assert listed.stdout.splitlines()[0] == "namespace/default", listed.stderr
    assert proc.returncode == 0


def test_token_from_the_environment(tmp_path: Path) -> None:
    with serving_with(tmp_path, env={"DISPATCHCTL_LOCAL_TOKEN": TOKEN}) as (proc, url, kubeconfig):
        assert TOKEN not in command_line(proc)
        assert get(url, kubeconfig, TOKEN)[0] == 200
        assert get(url, kubeconfig, None)[0] == 401


def test_without_a_token_a_random_one_goes_into_the_kubeconfig_only(tmp_path: Path) -> None:
    with serving_with(tmp_path) as (proc, url, kubeconfig):
        token = kubeconfig_of(kubeconfig)["users"][0]["user"]["token"]
        assert len(token) >= 40
        assert token not in command_line(proc)
        assert get(url, kubeconfig, None)[0] == 401
        assert get(url, kubeconfig, token)[0] == 200
    with serving_with(tmp_path) as (proc, url, kubeconfig):
        assert kubeconfig_of(kubeconfig)["users"][0]["user"]["token"] != token


def test_token_on_the_command_line_works_with_a_warning(tmp_path: Path) -> None:
    with serving_with(tmp_path, "--token", TOKEN) as (proc, url, kubeconfig):
        assert get(url, kubeconfig, TOKEN)[0] == 200
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert err == (
        "Warning: --token is visible to every user of this host (ps); use --token-file or "
        "DISPATCHCTL_LOCAL_TOKEN\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "Error: token file {path} is empty"),
        ("two words\n", "Error: token file {path} holds characters a bearer token cannot have"),
        ("x" * 5000, "Error: token file {path} has 5000 bytes; a token file has one line"),
    ],
    ids=["empty", "spaces", "huge"],
)
def test_a_bad_token_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "token"
    path.write_text(content)
    result = serve_once("--token-file", str(path))
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(message.format(path=path)), result.err
    assert "Traceback" not in result.err


def test_a_fifo_as_token_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "token"
    os.mkfifo(fifo)
    result = serve_once("--token-file", str(fifo))
    assert result.code == 1
    assert result.err.startswith(f"Error: token file {fifo} is not a regular file")


def test_the_kubeconfig_never_replaces_a_symlink_target(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    link = tmp_path / "k.yaml"
    link.symlink_to(target)
    result = serve_once("--write-kubeconfig", str(link))
    assert result.code == 1
    assert result.err.startswith(f"Error: cannot write kubeconfig {link}: it is not a regular")
    assert target.read_text() == "keep me\n"
    assert link.is_symlink()
