"""What an error answer to a Secret write may show: never a value the request carried.

API servers and admission webhooks quote the values they refuse: field.Invalid prints the value
Go-quoted (an SSH key with ``\\n`` escaped), a webhook may quote the whole ``.dockerconfigjson``
JSON-escaped, or the base64 of a value, or a docker ``auth`` (base64 of ``user:password``). So
for a Secret write the message keeps only what is safe: every encoding of every secret value of
the request is cut out, every other quoted string is dropped (a quote may be truncated or
re-encoded past recognition) except the object's own names, and the reason, code and
``causes[].field`` paths (names of fields, not values) are shown, cut the same way. Usernames
and known_hosts are not secret and stay (cutting a username such as "github" out of every
message mangled "https://api.github.com"); a secret shorter than ``MIN_ANYWHERE`` is cut only
where it stands as a whole word, so that "1234" does not eat every number.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "<redacted>"
# Secret data keys whose values are not secret: shown in plans, and scrubbing them would
# mangle ordinary text (a username like "github" inside "https://api.github.com").
PUBLIC_KEYS = frozenset({"username", "known_hosts"})
# Shorter forms of a secret are cut only where they stand alone (not inside a longer word).
MIN_ANYWHERE = 8
# A line of a multi-line value (an SSH key) this long is scrubbed on its own too.
MIN_LINE = 16
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


class Scrubber:
    """Cuts the secret values of one Secret request out of the server's words.

    One is made for every Secret write and used only when the server answers with an error,
    so the pattern is built on first use: compiling it for each write was a fifth of the CPU
    of an apply of 4,000 new objects. Its repr shows no value.
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        self._body = body
        metadata = body.get("metadata") or {}
        # quoted strings that may stay: the object's name and namespace
        self.names = frozenset(
            str(metadata.get(k)) for k in ("name", "namespace") if metadata.get(k)
        )

    def __repr__(self) -> str:
        return f"Scrubber(names={sorted(self.names)!r})"

    @functools.cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """Every encoding of every secret value of the request, longest first."""
        forms = {form for value in _secret_values(self._body) for form in encodings(value)}
        if not forms:
            return None
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        return re.compile("|".join(_alone(form) for form in ordered))

    def message(self, text: str) -> str:
        text = self.words(text)
        return _QUOTED.sub(lambda m: self._quoted(m, text), text)

    def words(self, text: str) -> str:
        """Text with every secret value cut out (a reason or a field path has no quotes)."""
        return self.pattern.sub(REDACTED, text) if self.pattern is not None else text

    def _quoted(self, match: re.Match[str], text: str) -> str:
        inner = match.group(0)[1:-1]
        if inner in self.names or text.endswith("admission webhook ", 0, match.start()):
            return match.group(0)
        return f'"{REDACTED}"'


def for_request(body: Mapping[str, Any] | None) -> Scrubber | None:
    """The scrubber for a request body: None unless it is a Secret (nothing else carries one)."""
    if body is None or body.get("kind") != "Secret":
        return None
    return Scrubber(body)


def _secret_values(body: Mapping[str, Any]) -> set[str]:
    values: list[str] = []
    data = body.get("data") or {}
    for key, value in data.items():
        if key not in PUBLIC_KEYS:
            values.append(str(value))  # the base64 as sent
            values.append(_decoded(str(value)))
    for key, value in (body.get("stringData") or {}).items():
        if key not in PUBLIC_KEYS:
            values.append(str(value))
    username = _decoded(str(data.get("username", "")))
    password = _decoded(str(data.get("password", "")))
    if password:
        values.append(_b64(f"{username}:{password}"))
    for value in list(values):
        values += _docker_secrets(value)
    for value in list(values):
        if "\n" in value:
            values += [line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_LINE]
    return {v for v in values if v}


def _alone(form: str) -> str:
    if len(form) >= MIN_ANYWHERE:
        return re.escape(form)
    return rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])"


def encodings(value: str) -> set[str]:
    """``value`` as a message may quote it: raw, JSON- and Go-escaped, base64."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        _go_json(value),
        go_quote(value)[1:-1],
        _b64(value),
        _b64(value).rstrip("="),
    }
    return {form for form in forms if form}


def go_quote(value: str) -> str:
    """Go's strconv.Quote, which field.Invalid uses for string values (``%q``)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable() and code != 0x7F:
            out.append(char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _go_json(value: str) -> str:
    """Go's encoding/json, which also escapes <, > and & (and U+2028/U+2029)."""
    text = json.dumps(value, ensure_ascii=False)[1:-1]
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def _docker_secrets(value: str) -> Iterable[str]:
    """A .dockerconfigjson's passwords, tokens and ``auth`` strings (and user:password)."""
    if not value.lstrip().startswith("{"):
        return []
    try:
        document = json.loads(value)
    except ValueError:
        return []
    auths = document.get("auths") if isinstance(document, dict) else None
    found: list[str] = []
    for entry in (auths or {}).values() if isinstance(auths, dict) else []:
        if not isinstance(entry, dict):
            continue
        for key in ("password", "auth", "identitytoken", "registrytoken"):
            if isinstance(entry.get(key), str):
                found.append(entry[key])
        if isinstance(entry.get("password"), str):
            found.append(_b64(f"{entry.get('username', '')}:{entry['password']}"))
        if isinstance(entry.get("auth"), str):
            found.append(_decoded(entry["auth"]))
    return found


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _decoded(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except ValueError:
        return ""
