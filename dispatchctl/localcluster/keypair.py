"""The warning kube-apiserver gives a kubernetes.io/tls Secret whose tls.crt and tls.key do not
make a key pair: the error of Go's crypto/tls X509KeyPair (pkg/registry/core/secret/
strategy.go warningsForSecret).

The PEM part (which blocks are there) is followed exactly with the standard library. Parsing the
certificate and key needs ``cryptography`` (imported only when both blocks are found); Go's
exact x509 parse errors are not reproduced there, only X509KeyPair's own texts.
"""

from __future__ import annotations

import base64
import binascii
import re

_BLOCK = re.compile(rb"-----BEGIN ([^\r\n]*?)-----[ \t]*\r?\n(.*?)-----END \1-----", re.DOTALL)


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """encoding/pem Decode in a loop: (type, bytes) of each well-formed block."""
    blocks = []
    for match in _BLOCK.finditer(data):
        body = match.group(2)
        if b":" in body.split(b"\n\n", 1)[0] and b"\n\n" in body:
            body = body.split(b"\n\n", 1)[1]  # RFC 1421 headers
        try:
            der = base64.b64decode(re.sub(rb"\s", b"", body), validate=True)
        except (binascii.Error, ValueError):
            continue
        blocks.append((match.group(1).decode("latin-1"), der))
    return blocks


def _go_list(items: list[str]) -> str:
    return "[" + " ".join(items) + "]"


def key_pair_problem(cert_pem: bytes, key_pem: bytes) -> str | None:
    """X509KeyPair's error for these two values, or None when they make a key pair."""
    blocks = _pem_blocks(cert_pem)
    certs = [der for kind, der in blocks if kind == "CERTIFICATE"]
    skipped = [kind for kind, _ in blocks if kind != "CERTIFICATE"]
    if not certs:
        if not skipped:
            return "tls: failed to find any PEM data in certificate input"
        if len(skipped) == 1 and skipped[0].endswith("PRIVATE KEY"):
            return (
                "tls: failed to find certificate PEM data in certificate input, but did find a "
                "private key; PEM inputs may have been switched"
            )
        return (
            'tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping '
            f"PEM blocks of the following types: {_go_list(skipped)}"
        )
    skipped = []
    key = None
    for kind, der in _pem_blocks(key_pem):
        if kind == "PRIVATE KEY" or kind.endswith(" PRIVATE KEY"):
            key = der
            break
        skipped.append(kind)
    if key is None:
        if not skipped:
            return "tls: failed to find any PEM data in key input"
        if skipped == ["CERTIFICATE"]:
            return "tls: found a certificate rather than a key in the PEM for the private key"
        return (
            'tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after '
            f"skipping PEM blocks of the following types: {_go_list(skipped)}"
        )
    return _parsed_problem(certs[0], key)


def _parsed_problem(cert_der: bytes, key_der: bytes) -> str | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        public = x509.load_der_x509_certificate(cert_der).public_key()
    except ValueError:
        return "x509: malformed certificate"
    try:
        private = serialization.load_der_private_key(key_der, password=None)
    except (ValueError, TypeError):
        return "tls: failed to parse private key"
    if type(private.public_key()) is not type(public):
        return "tls: private key type does not match public key type"
    if private.public_key() != public:
        return "tls: private key does not match public key"
    return None
