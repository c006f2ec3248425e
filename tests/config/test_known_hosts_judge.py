"""OpenSSH is the judge of ``knownHosts``: for generated files (plain, hashed, wildcard and
negated patterns, ``[host]:port`` and bare names, ``@revoked`` lines for the key or another,
``@cert-authority`` lines), dispatchctl accepts exactly those with which a real ``ssh``
verifies the real test server's host key (StrictHostKeyChecking=yes, this file alone). Every
line vouches for the server's own key: whether a line's key is the server's cannot be known
from the config (``dispatchctl verify`` checks it); which names and revocations count can.

One acceptance is policy, not OpenSSH's verdict here: a ``@cert-authority`` line for the host.
It works when the server presents a host certificate from that CA and cannot when it presents
a plain key; which one a server does is not in the config, so dispatchctl accepts it and
``dispatchctl verify`` tells (its ssh check reports a host key mismatch)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatchctl.config.ssh import known_hosts_problems, known_hosts_vouch
from dispatchctl.tekton import known_hosts_lookups
from tests.fixtures.sshd import SshServer, start_sshd, stop_sshd


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    folder = tmp_path_factory.mktemp("known-hosts-judge")
    key = folder / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    running = start_sshd(folder / "sshd", key, 0)
    yield running
    stop_sshd(running)


@functools.cache
def other_key() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "k"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        return " ".join(path.with_suffix(".pub").read_text().split()[:2])


def hashed(name: str, salt: bytes = b"0123456789abcdefghij") -> str:
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@st.composite
def known_hosts(draw: st.DrawFn, server: SshServer) -> str:
    exact = f"[{server.address}]:{server.port}"
    patterns = [
        server.address,
        exact,
        "*",
        "127.0.0.*",
        f"[127.0.0.?]:{server.port}",
        f"!{exact},*",
        f"other.example,{exact}",
        hashed(exact),
        hashed(server.address),
        "other.example",
        f"[{server.address}]:1",
    ]
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        marker = draw(st.sampled_from(["", "", "@revoked ", "@cert-authority "]))
        # the key a line vouches for is the server's: whether it is the server's key is not in
        # the config (verify checks it); a revocation names the server's key or another
        key = server.host_key
        if marker == "@revoked ":
            key = draw(st.sampled_from([server.host_key, other_key()]))
        lines.append(f"{marker}{draw(st.sampled_from(patterns))} {key}")
    return "\n".join(lines) + "\n"


def ssh_verifies(server: SshServer, text: str) -> bool:
    """Whether ssh gets past host key verification (it then fails to log in: no key)."""
    with tempfile.TemporaryDirectory() as tmp:
        known = Path(tmp) / "known_hosts"
        known.write_text(text)
        done = subprocess.run(
            [
                "ssh", "-F", "/dev/null", "-p", str(server.port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "IdentitiesOnly=yes", "-o", "IdentityFile=/dev/null",
                "-o", "ConnectTimeout=10",
                f"{server.user}@{server.address}", "true",
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )  # fmt: skip
    assert "Permission denied" in done.stderr or "Host key" in done.stderr, done.stderr
    return "Host key verification failed" not in done.stderr


def dispatchctl_accepts(server: SshServer, text: str) -> bool:
    names = known_hosts_lookups(server.host)
    return not known_hosts_problems(text) and known_hosts_vouch(text, names)


def cert_authority_for(server: SshServer, text: str) -> bool:
    """A @cert-authority line for the host whose CA key is not revoked for it (ssh refuses a
    certificate signed by a revoked CA too): accepted by policy (see the module's text)."""
    kept = [
        line for line in text.splitlines() if line.startswith(("@cert-authority ", "@revoked "))
    ]
    return known_hosts_vouch("\n".join(kept), known_hosts_lookups(server.host))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_known_hosts_are_accepted_exactly_when_ssh_verifies_the_host(
    server: SshServer, data: st.DataObject
) -> None:
    text = data.draw(known_hosts(server))
    judged = ssh_verifies(server, text) or cert_authority_for(server, text)
    assert dispatchctl_accepts(server, text) == judged, text
