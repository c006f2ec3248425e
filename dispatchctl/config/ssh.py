"""Facts about SSH keys: does a private key work in a pipeline, and its public fingerprint.

A pipeline cannot type a passphrase, so a protected key is refused; weak key types are refused
too. Nothing here ever puts key material into a message.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

MIN_RSA_BITS = 2048
_KNOWN_HOSTS_MARKERS = ("@cert-authority", "@revoked")
_HASHED = "|1|"
# Curves OpenSSH takes (ecdsa-sha2-nistp256/384/521); cryptography loads many more.
_OPENSSH_CURVES = {"secp256r1": "nistp256", "secp384r1": "nistp384", "secp521r1": "nistp521"}
# Told from the key's own encoding, never by loading it: cryptography deprecates DSA (its
# loaders warn, an error under -W error), and loads RSA-PSS keys as plain RSA, which OpenSSH
# refuses.
_OPENSSH_MAGIC = b"openssh-key-v1\0"
_PKCS8_REFUSED = {
    bytes.fromhex("06072a8648ce380401"): "DSA",  # 1.2.840.10040.4.1
    bytes.fromhex("06092a864886f70d01010a"): "RSA-PSS",  # 1.2.840.113549.1.1.10
}
_ARMOUR = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_SUPPORTED = "ed25519, ECDSA or RSA >= 2048 required"
_NEW_KEY = "generate a new one: ssh-keygen -t ed25519"


class KeyProblem(ValueError):
    """A private key that cannot be used; the message never quotes the key."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class KeyFacts:
    """Safe to show: algorithm, size and the public key's SHA256 fingerprint."""

    algorithm: str
    bits: int
    fingerprint: str


def fingerprint(public_key: object) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key."""
    line = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return blob_fingerprint(base64.b64decode(line.split()[1]))


def blob_fingerprint(blob: bytes) -> str:
    """``SHA256:...`` of a public key blob (the base64 field of an OpenSSH public key line),
    as ``ssh-keygen -l`` prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def canonical_private_key(text: str) -> str:
    """The key as it is written to the Secret: its armour alone (``-----BEGIN`` to
    ``-----END``), each line stripped, LF line breaks, a final line break.

    OpenSSH is stricter than the key itself needs: it refuses an OpenSSH-format key after any
    text or blank line, with CRLF or trailing spaces, and a PEM key with a blank line inside.
    Copies from a web page, a Windows editor or a YAML block bring exactly that; the key
    material is the same, so the Secret gets the spelling every ssh reads."""
    found = _ARMOUR.search(text)
    if found is None:
        return text if text.endswith("\n") else text + "\n"
    lines = "\n".join(line.strip() for line in found.group(2).splitlines()).strip("\n")
    if ":" not in lines:  # PEM headers (Proc-Type: ...) end at a blank line: keep it
        lines = "\n".join(filter(None, lines.split("\n")))
    label = found.group(1)
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


@functools.lru_cache(maxsize=1024)
def inspect_private_key(text: str) -> KeyFacts:
    """Parse the key as :func:`canonical_private_key` writes it; raise KeyProblem when a
    pipeline's OpenSSH could not use it (the test oracle compares this verdict with
    ``ssh-keygen -y`` for generated keys and spellings).

    Cached: the checks and the desired state both ask, and parsing is most of their time for
    a config of many git credentials. The cache lives in this process's memory, where the
    decrypted config is anyway."""
    data = canonical_private_key(text).encode()
    refused = _refused_type(data)
    if refused:
        raise KeyProblem(f"unsupported key type {refused} ({_SUPPORTED})", _NEW_KEY)
    openssh_format = b"BEGIN OPENSSH PRIVATE KEY" in data
    try:
        if openssh_format:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyProblem(
            "the private key is protected by a passphrase, which no pipeline can type",
            "remove it: ssh-keygen -p -N '' -f KEYFILE",
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProblem(
            "not a valid OpenSSH or PEM private key",
            "paste the whole key file, from -----BEGIN to -----END",
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        if not openssh_format:
            raise KeyProblem(
                "OpenSSH reads an ed25519 key only in its own format, not PEM",
                "convert it: ssh-keygen -p -N '' -f KEYFILE, with a newer OpenSSH, "
                "or generate a new one: ssh-keygen -t ed25519",
            )
        return KeyFacts("ed25519", 256, fingerprint(key.public_key()))
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise KeyProblem(
                f"RSA key of {key.key_size} bits is too weak (at least {MIN_RSA_BITS})", _NEW_KEY
            )
        return KeyFacts("rsa", key.key_size, fingerprint(key.public_key()))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in _OPENSSH_CURVES:
            raise KeyProblem(
                f"ECDSA key on curve {key.curve.name}: OpenSSH takes nistp256, nistp384 and "
                "nistp521 only",
                _NEW_KEY,
            )
        return KeyFacts("ecdsa", key.curve.key_size, fingerprint(key.public_key()))
    name = "ed448" if isinstance(key, ed448.Ed448PrivateKey) else type(key).__name__
    raise KeyProblem(f"unsupported key type {name} ({_SUPPORTED})", _NEW_KEY)


def _refused_type(data: bytes) -> str | None:
    """DSA (``BEGIN DSA PRIVATE KEY``, PKCS#8 naming it, an OpenSSH ``ssh-dss`` key) or
    RSA-PSS (PKCS#8), told from the encoding alone."""
    found = _ARMOUR.search(data.decode("ascii", "replace"))
    if found is None:
        return None
    label = found.group(1)
    if label == "DSA PRIVATE KEY":
        return "DSA"
    try:
        body = base64.b64decode("".join(found.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if label == "PRIVATE KEY":
        return next((name for oid, name in _PKCS8_REFUSED.items() if oid in body[:32]), None)
    openssh = label == "OPENSSH PRIVATE KEY" and body.startswith(_OPENSSH_MAGIC)
    if openssh and _openssh_public_type(body[len(_OPENSSH_MAGIC) :]) == b"ssh-dss":
        return "DSA"
    return None


def _openssh_public_type(rest: bytes) -> bytes | None:
    """The first public key's type in an ``openssh-key-v1`` body: after the cipher name, the
    KDF name and options (three strings) and the key count comes the public key blob."""
    for _ in range(3):
        if len(rest) < 4:
            return None
        rest = rest[4 + int.from_bytes(rest[:4], "big") :]
    rest = rest[4:]  # number of keys
    if len(rest) < 4:
        return None
    blob = rest[4 : 4 + int.from_bytes(rest[:4], "big")]
    if len(blob) < 4:
        return None
    return blob[4 : 4 + int.from_bytes(blob[:4], "big")]


def known_hosts_problems(text: str) -> list[tuple[int, str]]:
    """(1-based line within the value, message) for each known_hosts line that does not parse."""
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if fields[0] in _KNOWN_HOSTS_MARKERS:
            fields = fields[1:]
        if len(fields) < 3:
            problems.append((number, "known_hosts line needs: hosts, key type, base64 key"))
            continue
        key_type, blob = fields[1], fields[2]
        try:
            decoded = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            problems.append((number, f"known_hosts line: the {key_type} key is not base64"))
            continue
        if not _blob_has_type(decoded, key_type):
            problems.append((number, f"known_hosts line: key data is not a {key_type} key"))
            continue
        try:
            serialization.load_ssh_public_key(f"{key_type} {blob}".encode())
        except UnsupportedAlgorithm:
            continue  # a type cryptography does not know (sk-*): its header matched, accept it
        except ValueError:
            problems.append((number, f"known_hosts line: the {key_type} key does not parse"))
    return problems


def known_hosts_vouch(text: str, names: tuple[str, ...]) -> bool:
    """Whether ``text`` vouches for some key of the host ssh looks up by ``names``, as OpenSSH
    decides for a server presenting that key: the names in order (``host``; off port 22
    ``[host]:port``, then ``host`` only when the first names the key nowhere), each matched as
    OpenSSH matches patterns (comma-separated, ``*`` and ``?``, ``!`` to exclude, hashed
    ``|1|salt|hash``, case-insensitive); a key ``@revoked`` under the name decided by is
    refused whatever else names it."""
    lines = []
    for raw in text.splitlines():
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0] in _KNOWN_HOSTS_MARKERS else None
        if len(fields) >= 3:
            lines.append((marker, fields[0], tuple(fields[1:3])))
    wanted = [name.lower() for name in names]
    under = [
        [(marker, key) for marker, patterns, key in lines if _patterns_match(patterns, name)]
        for name in wanted
    ]
    candidates = {key for found in under for marker, key in found if marker != "@revoked"}
    return any(_ssh_accepts(key, under) for key in candidates)


def _ssh_accepts(
    key: tuple[str, ...], under: list[list[tuple[str | None, tuple[str, ...]]]]
) -> bool:
    for found in under:
        if (("@revoked", key)) in found:
            return False
        if any(marker != "@revoked" and named == key for marker, named in found):
            return True
    return False


def _patterns_match(patterns: str, name: str) -> bool:
    if patterns.startswith(_HASHED):
        return _hashed_match(patterns, name)
    matched = False
    for pattern in patterns.lower().split(","):
        negated = pattern.startswith("!")
        if _glob(pattern.removeprefix("!"), name):
            if negated:
                return False
            matched = True
    return matched


def _glob(pattern: str, name: str) -> bool:
    """OpenSSH's wildcards only: ``*`` and ``?`` (brackets are literal, as in ``[host]:22``)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.DOTALL) is not None


def _hashed_match(entry: str, name: str) -> bool:
    """``|1|base64(salt)|base64(HMAC-SHA1(salt, name))``, as ``ssh-keygen -H`` writes it."""
    try:
        salt, digest = (base64.b64decode(part, validate=True) for part in entry[3:].split("|"))
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), digest)


def _blob_has_type(blob: bytes, key_type: str) -> bool:
    """An SSH public key blob starts with its own type name, length-prefixed."""
    if len(blob) < 4:
        return False
    size = int.from_bytes(blob[:4], "big")
    return blob[4 : 4 + size] == key_type.encode()
