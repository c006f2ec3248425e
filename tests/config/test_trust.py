"""The decryption trust boundary: a config file (and so a pull request) decides nothing about
where sops sends the pipeline's credentials, and sops decrypts exactly the bytes dispatchctl
read and checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatchctl.config import sops
from dispatchctl.config.load import load_config
from dispatchctl.errors import SopsError
from tests.config.helpers import swap_after_reading
from tests.config.test_sops import CONFIG, fake_sops
from tests.support.cli import process

VAULT_TOKEN = "canary-vault-token-5e1f"
VAULT_TOKEN_FILE = "canary-vault-token-file-9c2d"


class Listener:
    """A TCP server on 127.0.0.1 that records what each connection sends, then closes it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(65536))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["variable", "token-file"])
def vault_credentials(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The pipeline's Vault token, in VAULT_TOKEN or only in ~/.vault-token (sops reads both);
    returns it."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".vault-token").write_text(VAULT_TOKEN_FILE)
    monkeypatch.setenv("HOME", str(home))
    if request.param == "token-file":
        return VAULT_TOKEN_FILE
    monkeypatch.setenv("VAULT_TOKEN", VAULT_TOKEN)
    return VAULT_TOKEN


def with_vault_key(path: Path, address: str) -> None:
    """Name a Vault transit key at ``address`` in the file's sops metadata, as a pull request
    can (the MAC covers values, not the metadata)."""
    text = path.read_text()
    vault = (
        "    hc_vault:\n"
        f"        - vault_address: {address}\n"
        "          engine_path: transit\n"
        "          key_name: ci\n"
        "          created_at: '2026-12-01T00:00:00Z'\n"
        "          enc: vault:v1:Zm9vYmFy\n"
    )
    path.write_text(text.replace("sops:\n", "sops:\n" + vault, 1))


def test_a_vault_address_in_the_file_gets_no_request_and_no_token(
    make_config, vault_credentials, listener, run
) -> None:
    """The key of the pipeline does not open the file (the pull request chose its recipients),
    so sops would go on to the Vault the file names, with the pipeline's token."""
    path = make_config(CONFIG)
    with_vault_key(path, listener.url)

    result = run("validate", str(path))
    assert result.code == 1

    out, err = result.out, result.err
    assert listener.received == []
    assert out == ""
    assert err.splitlines() == [
        f"Error: {path}: sops would ask the key service hc_vault {listener.url} for the file's"
        " key, and that service is not trusted",
        "  hint: a file (and a pull request) cannot choose where the pipeline's credentials go;"
        f" if this pipeline uses it, pass --trust-key-service {listener.url}"
        " (or set DISPATCHCTL_TRUST_KEY_SERVICE)",
    ]
    assert "canary" not in out + err


def test_a_trusted_vault_gets_the_request_with_the_pipelines_token(
    make_config, vault_credentials, listener, run
) -> None:
    path = make_config(CONFIG)
    with_vault_key(path, listener.url)

    result = run("validate", str(path), "--trust-key-service", listener.url)
    assert result.code == 1

    out, err = result.out, result.err
    assert any(f"X-Vault-Token: {vault_credentials}".encode() in r for r in listener.received)
    assert err.startswith(f"Error: {path}: no usable key to decrypt it")
    assert "canary" not in out + err


def test_the_trust_list_comes_from_the_environment_too(
    make_config, vault_credentials, listener, monkeypatch, run
) -> None:
    path = make_config(CONFIG)
    with_vault_key(path, listener.url)
    monkeypatch.setenv("DISPATCHCTL_TRUST_KEY_SERVICE", f"https://vault.example.com {listener.url}")

    result = run("validate", str(path))
    assert result.code == 1

    assert listener.received
    assert "no usable key to decrypt it" in result.err


def test_sops_decrypts_the_bytes_that_were_read_and_hashed(
    make_config, sops_env, monkeypatch
) -> None:
    path = make_config(CONFIG)
    other = make_config(CONFIG.replace("canary-token-1", "canary-swapped-in"), name="other.yaml")
    original = path.read_bytes()
    swap_after_reading(monkeypatch, path, other, reads=1)

    loaded = load_config([path])

    assert path.read_bytes() != original  # the swap happened
    token = loaded.config.serviceAccounts[0].credentials[0].token.get_secret_value()
    assert token == "canary-token-1"

    assert loaded.inputs[0].sha256 == hashlib.sha256(original).hexdigest()


def test_sops_sees_only_the_environment_its_keys_need(
    make_config, sops_env, tmp_path, monkeypatch
) -> None:
    """Credentials of services the file may not use, and a remote SOPS_KEYSERVICE, stay out
    of sops's environment; its memory is capped for the file's size."""
    path = make_config(CONFIG)
    seen = tmp_path / "seen"
    monkeypatch.setenv(
        "DISPATCHCTL_SOPS", fake_sops(tmp_path, f"env > {seen}; ulimit -v >> {seen}; exit 3")
    )
    monkeypatch.setenv("VAULT_TOKEN", "canary-vault")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-aws")
    monkeypatch.setenv("SOPS_KEYSERVICE", "tcp://127.0.0.1:1")
    monkeypatch.setenv("CI_JOB_TOKEN", "canary-ci")

    with pytest.raises(SopsError, match="exit code 3"):
        load_config([path])

    *lines, cap = seen.read_text().splitlines()
    names = {line.split("=", 1)[0] for line in lines}
    assert "canary" not in seen.read_text()
    assert {"SOPS_AGE_KEY_FILE", "HOME", "PATH", "GOGC", "GOMEMLIMIT"} <= names
    assert not names & {"VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY", "SOPS_KEYSERVICE"}
    assert int(cap) == sops.memory_cap(len(path.read_bytes())) // 1024  # KiB


def test_a_trusted_service_type_gets_its_credentials_only(
    make_config, vault_credentials, listener, tmp_path, monkeypatch
) -> None:
    path = make_config(CONFIG)
    with_vault_key(path, listener.url)
    seen = tmp_path / "seen"
    monkeypatch.setenv("DISPATCHCTL_SOPS", fake_sops(tmp_path, f"env > {seen}; exit 3"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-aws")

    with pytest.raises(SopsError, match="exit code 3"):
        load_config([path], trusted=[listener.url])

    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines()}
    assert "AWS_SECRET_ACCESS_KEY" not in names
    assert ("VAULT_TOKEN" in names) == (vault_credentials == VAULT_TOKEN)


def test_sops_is_killed_when_dispatchctl_stops_waiting_for_it(
    make_config, sops_env, tmp_path
) -> None:
    """plan fails before it reads sops's answer (here: -o names a file that is no plan); the
    sops it started is killed, not waited for (a key service that does not answer, a
    file that takes sops minutes)."""
    path = make_config(CONFIG)
    pid_file = tmp_path / "sops.pid"
    exe = fake_sops(tmp_path, f"echo $$ > {pid_file}; exec sleep 300")
    not_a_plan = tmp_path / "notes.txt"
    not_a_plan.write_text("mine\n")

    proc = process(
        "plan",
        path,
        "-o",
        not_a_plan,
        env={**os.environ, "DISPATCHCTL_SOPS": exe},
        timeout=60,  # a guard against hanging: the sops stand-in sleeps for 300 s
    )

    assert proc.code == 1
    assert proc.err.startswith(f"Error: cannot save the plan to {not_a_plan}:")
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_key_type_dispatchctl_does_not_know_is_refused_by_name(
    make_config, sops_env, run
) -> None:
    """A newer sops may read it as a remote key service: it is refused, not judged."""
    path = make_config(CONFIG)
    path.write_text(
        path.read_text().replace("sops:\n", "sops:\n    yubikms:\n        - url: https://x\n", 1)
    )

    result = run("validate", str(path))
    assert result.code == 1

    assert result.err.splitlines() == [
        f"Error: {path}: its sops metadata names a key type dispatchctl does not know: yubikms",
        "  hint: dispatchctl uses age and PGP keys, and the key services kms, gcp_kms, azure_kv,"
        " hc_vault, hckms it is told to trust: remove the others from the file's sops section",
    ]
