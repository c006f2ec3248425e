"""Shared bits for config tests: SSH keys made in the test run, inline config text."""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from dispatchctl import files
from dispatchctl.config.models import Config
from dispatchctl.config.positions import parse

GITHUB_HOST_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
KNOWN_HOSTS = f"github.com ssh-ed25519 {GITHUB_HOST_KEY}"

HEADER = """\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: ci-credentials
namespace: dispatch
"""


# ssh-keygen -t ed25519 -N hunter2: a throwaway test key (cryptography needs bcrypt to write one).
PASSPHRASE_OPENSSH_KEY = """\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABC4F3G39H
jF8PrULEFMwyIjAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIOILv4yp05AMnrAy
WwbNDTAwkyLwzb162xzW8IIKtQdbAAAAkH4Q8jf+QtN5Qb+epyG4gOLAhENQ5t713GLm1R
jOYKEdboGuDff9qm64Um3A8qNLbcIKdh/7ms9b4iIQF3mUGB/zI3RsIcdC7Q2HAFGdMtNx
u6Ien7edwMuLsHjQahWpRgUPbCP0V5zTdYzqeIsLqByyYL9XFsJeuSsroISBYi7/vxAjN6
NsEgKmBauZAdTEZA==
-----END OPENSSH PRIVATE KEY-----
"""


@cache
def ssh_key(kind: str = "ed25519", bits: int = 2048, passphrase: bytes | None = None) -> str:
    """A fresh private key (cached per test session: RSA generation is slow): OpenSSH format,
    or PKCS#8 PEM when protected by a passphrase."""
    if kind == "ed25519":
        key: Any = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    elif kind == "secp256k1":  # a curve OpenSSH does not take; OpenSSH's format cannot hold it
        key = ec.generate_private_key(ec.SECP256K1())
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pkcs8 = passphrase or kind == "secp256k1"
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.OpenSSH
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def block(text: str, spaces: int) -> str:
    """A multi-line value indented for a YAML ``|`` block at ``spaces``."""
    return textwrap.indent(text.rstrip("\n") + "\n", " " * spaces).rstrip("\n")


def config_from(text: str) -> Config:
    """A Config from inline YAML, without any file (for the pure desired-state tests)."""
    return Config.model_validate(parse(textwrap.dedent(text)).data)


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def swap_after_reading(
    monkeypatch: pytest.MonkeyPatch, path: Path, other: Path, reads: int
) -> None:
    """Replace ``path`` by ``other`` (a rename, as an attacker's process would) right after
    dispatchctl's ``reads``-th read of it: between that read and whatever reads it next."""
    real = files._open_regular
    count = 0

    @contextlib.contextmanager
    def reading(target: Path | str) -> Iterator[object]:
        nonlocal count
        with real(target) as handle:
            yield handle
        if Path(target) == path:
            count += 1
            if count == reads:
                os.replace(other, path)

    monkeypatch.setattr(files, "_open_regular", reading)
