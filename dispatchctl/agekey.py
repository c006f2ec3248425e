"""age X25519 identities as age-keygen writes them, and where sops looks for them.

An age identity is an X25519 private key; its recipient (public key) is ``age1...`` and the
identity ``AGE-SECRET-KEY-1...``, both Bech32 (BIP 173) without its 90-character limit, as
age's own encoder does. ``cryptography`` (already a dependency) makes the key; only the
Bech32 text form is written here, which is why ``pyrage`` is not needed at run time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dispatchctl.errors import AgeKeyError

RECIPIENT_PREFIX = "age"
IDENTITY_PREFIX = "AGE-SECRET-KEY-"
# sops's default key file, relative to the user's configuration folder (sops age/keysource.go)
SOPS_KEYS = Path("sops") / "age" / "keys.txt"

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


@dataclass(frozen=True)
class Identity:
    """``secret`` is the AGE-SECRET-KEY-1... line: written to the key file, never shown."""

    recipient: str
    secret: str = field(repr=False)

    def key_file_text(self, now: datetime | None = None) -> str:
        """The file as age-keygen writes it: a creation comment, the public key, the key."""
        created = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"# created: {created}\n# public key: {self.recipient}\n{self.secret}\n"


def generate() -> Identity:
    return _identity(X25519PrivateKey.generate())


def read_identity(text: str) -> Identity | None:
    """The first age identity in a key file's text (comments and blank lines skipped), or
    None when it holds none; a malformed identity line raises AgeKeyError (naming no part of
    it)."""
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.upper().startswith(IDENTITY_PREFIX + "1"):
            continue
        data = _decode(line, IDENTITY_PREFIX.lower())
        if data is None or len(data) != 32:
            raise AgeKeyError(f"line {number} is a malformed age identity")
        return _identity(X25519PrivateKey.from_private_bytes(data))
    return None


def _identity(key: X25519PrivateKey) -> Identity:
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    private = key.private_bytes_raw()
    return Identity(
        recipient=_encode(RECIPIENT_PREFIX, public),
        secret=_encode(IDENTITY_PREFIX.lower(), private).upper(),
    )


def default_key_file(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """Where sops looks for age keys when no SOPS_AGE_KEY* variable is set: the user's
    configuration folder as Go's os.UserConfigDir gives it, except that on macOS sops also
    honours XDG_CONFIG_HOME."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    xdg = env.get("XDG_CONFIG_HOME", "")
    if platform == "win32":
        base = env.get("APPDATA", "")
        if not base:
            raise AgeKeyError("%AppData% is not set, so sops has no default key file")
        return Path(base) / SOPS_KEYS
    if xdg:
        if platform != "darwin" and not os.path.isabs(xdg):
            raise AgeKeyError(
                f"XDG_CONFIG_HOME is a relative path ({xdg}), which sops does not use",
                hint="set it to an absolute path, or pass --key-file",
            )
        return Path(xdg) / SOPS_KEYS
    home = env.get("HOME", "")
    if not home:
        raise AgeKeyError("HOME is not set, so sops has no default key file")
    if platform == "darwin":
        return Path(home) / "Library" / "Application Support" / SOPS_KEYS
    return Path(home) / ".config" / SOPS_KEYS


# --- Bech32 (BIP 173), without the length limit, as age's internal/bech32 -------------------


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if top >> i & 1:
                check ^= generator
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert(data: bytes | list[int], source: int, target: int, pad: bool) -> list[int] | None:
    accumulator, bits, out = 0, 0, []
    mask = (1 << target) - 1
    for value in data:
        accumulator = accumulator << source | value
        bits += source
        while bits >= target:
            bits -= target
            out.append(accumulator >> bits & mask)
    if pad and bits:
        out.append(accumulator << (target - bits) & mask)
    elif not pad and (bits >= source or accumulator << (target - bits) & mask):
        return None
    return out


def _encode(hrp: str, data: bytes) -> str:
    values = _convert(data, 8, 5, pad=True) or []
    polymod = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [polymod >> 5 * (5 - i) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def _decode(text: str, hrp: str) -> bytes | None:
    """The data of a Bech32 string with this human-readable part, or None if it is not one."""
    if text.lower() != text and text.upper() != text:
        return None
    text = text.lower()
    head, separator, tail = text.rpartition("1")
    if head != hrp or not separator or len(tail) < 6:
        return None
    if any(c not in _CHARSET for c in tail):
        return None
    values = [_CHARSET.index(c) for c in tail]
    if _polymod([*_hrp_expand(hrp), *values]) != 1:
        return None
    data = _convert(values[:-6], 5, 8, pad=False)
    return None if data is None else bytes(data)
