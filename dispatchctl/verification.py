"""What ``dispatchctl verify`` makes of the servers' answers, and how it shows them. Pure.

The shell (``dispatchctl/verify.py``) runs git, ssh and HTTP requests; everything it then
decides from their words is here: which outcome an error message means, whether a token's
scopes cover what Dispatch needs, whether a registry's token service may receive the
credential, which values of an applied Secret to check (``verify --cluster``), and the text
and JSON of the results. Secret values pass through here only into ``SecretStr`` fields;
no message is made from one.
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from dispatchctl import tekton
from dispatchctl.config.credentials import SECRET_FIELD, AnyCredential
from dispatchctl.config.models import GitSshCredential
from dispatchctl.layouts import KNOWN_HOSTS, PASSWORD, PRIVATE_KEY, USERNAME
from dispatchctl.render.text import printable
from dispatchctl.tekton import tekton_annotations

JSON_FORMAT_VERSION = 1


class Outcome(enum.Enum):
    """One credential's verdict; every value but WORKS makes the exit code 1."""

    WORKS = "works"
    REJECTED = "rejected"
    INSUFFICIENT = "insufficient permissions"
    HOST_KEY = "host key mismatch"
    UNREACHABLE = "unreachable"
    TLS = "TLS failure"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Step:
    """What one check of a credential found (a failing step ends the credential's checks)."""

    outcome: Outcome
    detail: str = ""
    identity: str | None = None
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Result:
    """One credential: where it is declared, what it is for, what the servers said."""

    namespace: str
    account: str
    index: int
    type: str
    target: str  # the host or registry, as the Secret names it: safe to show
    outcome: Outcome
    detail: str = ""
    identity: str | None = None
    scopes: tuple[str, ...] | None = None
    checked: tuple[str, ...] = field(default=())  # what was asked: URLs, ssh host, API
    applied: str | None = None  # with --cluster: the Secret (namespace/name) whose values
    drift: tuple[str, ...] = ()  # ... were used, and where it differs from the config

    @classmethod
    def of(
        cls,
        where: tuple[str, str, int, str, str],
        steps: Sequence[Step],
        checked: Sequence[str],
        applied: Applied | None = None,
    ) -> Result:
        """The first step that did not work decides; else the identity and scopes found."""
        failed = next((s for s in steps if s.outcome is not Outcome.WORKS), None)
        identity = next((s.identity for s in steps if s.identity), None)
        scopes = next((s.scopes for s in steps if s.scopes is not None), None)
        outcome = Outcome.WORKS if failed is None else failed.outcome
        details = (
            "; ".join(s.detail for s in steps if s.detail) if failed is None else failed.detail
        )
        secret, drift = (applied.secret, applied.drift) if applied else (None, ())
        return cls(*where, outcome, details, identity, scopes, tuple(checked), secret, drift)


# --- verify --cluster: the values of the Secret as applied ---------------------------------


@dataclass(frozen=True)
class Applied:
    """The Secret a credential was applied as: its name, the credential with the Secret's
    values (None: no such Secret), and the names of what differs from the config."""

    secret: str
    credential: AnyCredential | None
    drift: tuple[str, ...] = ()


def applied_values(
    cred: AnyCredential, desired: Mapping[str, Any], live: Mapping[str, Any] | None
) -> Applied:
    """``cred`` with the secret values and username of ``live``, the Secret as the cluster
    holds it; ``desired`` is the manifest the config makes of it. Drift names keys only."""
    meta = desired["metadata"]
    name = f"{meta['namespace']}/{meta['name']}"
    if live is None:
        return Applied(name, None)
    drift: list[str] = []
    if live.get("type") != desired["type"]:
        drift.append("type")
    want, have = desired.get("data") or {}, live.get("data") or {}
    drift += [key for key in sorted({*want, *have}) if want.get(key) != have.get(key)]
    want_notes = tekton_annotations(meta.get("annotations") or {})
    have_notes = tekton_annotations((live.get("metadata") or {}).get("annotations") or {})
    drift += [
        f"annotations[{key}]"
        for key in sorted({*want_notes, *have_notes})
        if want_notes.get(key) != have_notes.get(key)
    ]
    values = {key: _decoded(value) for key, value in have.items()}
    if isinstance(cred, GitSshCredential):
        update: dict[str, Any] = {
            "privateKey": SecretStr(values.get(PRIVATE_KEY, "")),
            "knownHosts": values.get(KNOWN_HOSTS, ""),
        }
    else:
        secret_field = SECRET_FIELD[cred.type]
        update = {
            "username": values.get(USERNAME, ""),
            secret_field: SecretStr(values.get(PASSWORD, "")),
        }
    return Applied(name, cred.model_copy(update=update), tuple(drift))


def _decoded(value: Any) -> str:
    try:
        return base64.b64decode(str(value)).decode()
    except ValueError:
        return ""


def missing_secret_step(secret: str) -> Step:
    return Step(
        Outcome.NOT_CHECKED,
        f"Secret {secret} is not in the cluster (apply the config, or verify without --cluster)",
    )


# --- scopes ----------------------------------------------------------------------------------

# What Dispatch needs of each provider's token (shared/spec/objects.md): clone and push, and
# register webhooks and report statuses.
REQUIRED_SCOPES: dict[str, tuple[str, ...]] = {
    "github": ("repo", "admin:repo_hook"),
    "gitlab": ("api", "write_repository"),
    "bitbucket-cloud": ("repository:write", "pullrequest:write", "webhook"),
}
# a granted scope -> the scopes it includes (GitHub's and Bitbucket's documented hierarchies)
_IMPLIED: dict[str, tuple[str, ...]] = {
    "repository:admin": ("repository:write",),
    "pullrequest:write": ("repository:write",),
}


def parse_scopes(header: str) -> tuple[str, ...]:
    """``X-OAuth-Scopes: repo, admin:repo_hook`` (GitHub) or space separated (Bitbucket)."""
    return tuple(s for s in re.split(r"[\s,]+", header.strip()) if s)


def missing_scopes(kind: str, granted: Sequence[str]) -> tuple[str, ...]:
    have = set(granted)
    for scope in granted:
        have.update(_IMPLIED.get(scope, ()))
    return tuple(s for s in REQUIRED_SCOPES.get(kind, ()) if s not in have)


def scopes_step(kind: str, identity: str | None, granted: Sequence[str] | None) -> Step:
    """A token that authenticates: works, or lacks scopes Dispatch needs (a finding of its
    own: it clones, but cannot register webhooks or report statuses)."""
    if granted is None:
        return Step(Outcome.WORKS, "the server does not report the token's scopes", identity)
    missing = missing_scopes(kind, granted)
    if missing:
        return Step(
            Outcome.INSUFFICIENT,
            f"the token lacks scope {', '.join(missing)} (Dispatch needs"
            f" {', '.join(REQUIRED_SCOPES[kind])})",
            identity,
            tuple(granted),
        )
    return Step(Outcome.WORKS, "", identity, tuple(granted))


# --- what git and ssh said -----------------------------------------------------------------

_TLS = re.compile(
    r"SSL certificate problem|server certificate verification failed|certificate verify failed"
    r"|SSL_ERROR|gnutls_handshake|TLS connection|SSL connect error|unable to get local issuer"
    r"|self.signed certificate|wrong version number",
    re.IGNORECASE,
)
_UNREACHABLE = re.compile(
    r"Could not resolve|Connection refused|Failed to connect|timed out|No route to host"
    r"|Network is unreachable|Connection reset|Connection closed by|kex_exchange_identification"
    r"|Empty reply from server|Couldn't connect",
    re.IGNORECASE,
)
_AUTH = re.compile(
    r"Authentication failed|returned error: 40[13]|Permission denied|Invalid username or"
    r"|terminal prompts disabled|could not read Username|could not read Password",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"not found|returned error: 404|does not appear to be a git repository|does not exist",
    re.IGNORECASE,
)
_REDIRECT = re.compile(r"returned error: 30[1278]|redirect", re.IGNORECASE)
_HOST_KEY = re.compile(
    r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for",
)
_FINGERPRINT = re.compile(r"\b(SHA256:[A-Za-z0-9+/]{43})\b")
_SSH_IDENTITY = (
    re.compile(r"^Hi ([^\s!]+)! You've successfully authenticated", re.MULTILINE),  # GitHub
    re.compile(r"^Welcome to GitLab, @([^\s!]+)!", re.MULTILINE),
    re.compile(r"^authenticated via ssh key\.", re.MULTILINE),  # Bitbucket: no name
)
SSH_AUTHENTICATED = re.compile(r'^Authenticated to \S+ \(\S+\) using "([^"]+)"', re.MULTILINE)


def git_step(returncode: int, output: str, url: str) -> Step:
    """``git ls-remote URL HEAD``'s exit code and output (stdout and stderr) -> the outcome
    for that repository."""
    if returncode == 0:
        return Step(Outcome.WORKS)
    if _HOST_KEY.search(output):
        return host_key_step(output)
    if _TLS.search(output):
        return Step(Outcome.TLS, f"{url}: the server's certificate was not accepted")
    if _AUTH.search(output):
        return Step(Outcome.REJECTED, f"{url}: the server refused the credential")
    if _REDIRECT.search(output):
        return Step(
            Outcome.NOT_CHECKED,
            f"{url}: the server redirects elsewhere; verify sends no credential on (list the"
            " repository's own URL)",
        )
    if _NOT_FOUND.search(output):
        return Step(
            Outcome.REJECTED, f"{url}: no such repository, or the credential may not read it"
        )
    if _UNREACHABLE.search(output):
        return Step(Outcome.UNREACHABLE, f"{url}: could not connect")
    return Step(Outcome.REJECTED, f"{url}: git ls-remote failed (exit code {returncode})")


def host_key_step(output: str) -> Step:
    found = _FINGERPRINT.search(output)
    presented = f" (the server presents {found.group(1)})" if found else ""
    return Step(
        Outcome.HOST_KEY,
        f"the server's host key is not one knownHosts lists{presented}; if the host's key"
        " changed on purpose, update knownHosts (ssh-keyscan) after checking its fingerprint",
    )


def ssh_step(output: str, user: str, *, timed_out: float | None = None) -> Step:
    """The handshake (``ssh -T user@host`` at LogLevel VERBOSE): authenticated or why not;
    ``timed_out``: the seconds after which it was stopped."""
    if _HOST_KEY.search(output):
        return host_key_step(output)
    if SSH_AUTHENTICATED.search(output):
        for pattern in _SSH_IDENTITY:
            found = pattern.search(output)
            if found is not None:
                return Step(Outcome.WORKS, identity=found.group(1) if found.groups() else None)
        return Step(Outcome.WORKS, identity=user)
    if re.search(r"Permission denied|Too many authentication failures", output):
        return Step(Outcome.REJECTED, f"the server refused the key for user {user}")
    if timed_out is not None:
        return Step(Outcome.UNREACHABLE, f"no answer in {timed_out:g}s")
    return Step(Outcome.UNREACHABLE, "could not connect")


# --- registries ------------------------------------------------------------------------------

_CHALLENGE = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``WWW-Authenticate: Bearer realm="...",service="..."`` -> ("bearer", params)."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _CHALLENGE.finditer(rest)
    }
    return scheme.lower(), params


def registry_endpoint(registry: str) -> str:
    """Where the registry's v2 API is: Docker Hub's is registry-1.docker.io."""
    url = tekton.registry_url(registry)
    return "https://registry-1.docker.io" if url == tekton.DOCKER_HUB else url


def realm_problem(registry_host: str, realm: str) -> str | None:
    """Whether the registry's token service may receive the credential, as ``docker login``
    sends it: over https, to the registry's host or a host of its parent domain
    (registry-1.docker.io -> auth.docker.io, registry.gitlab.com -> gitlab.com)."""
    try:
        parts = urlsplit(realm)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "the token service's URL does not parse"
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https":
        return f"the token service {_origin(realm)} is not https"
    if not host:
        return "the token service's URL names no host"
    mine = (urlsplit(f"https://{registry_host}").hostname or "").rstrip(".")
    if host == mine:
        return None
    parent = mine.partition(".")[2]
    if _is_ip(mine) or "." not in parent or not (host == parent or host.endswith("." + parent)):
        return (
            f"the token service {_origin(realm)} is on another host than the registry;"
            " verify sends the credential only to the registry's own domain"
        )
    return None


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


# --- output ----------------------------------------------------------------------------------


def result_line(result: Result) -> str:
    """``dispatch/team-1 credentials[0] github https://github.com: works (as octocat; ...)``"""
    head = (
        f"{result.namespace}/{result.account} credentials[{result.index}] {result.type}"
        f" {result.target}: {result.outcome.value}"
    )
    notes = []
    if result.identity:
        notes.append(f"as {result.identity}")
    if result.scopes is not None and result.outcome is Outcome.WORKS:
        notes.append(f"scopes {', '.join(result.scopes) or 'none'}")
    if result.detail:
        notes.append(result.detail)
    if result.drift:
        notes.append(
            f"Secret {result.applied} differs from the config in {', '.join(result.drift)}"
        )
    # the identity and details carry servers' words: they cannot drive the terminal
    return head + (f" ({printable('; '.join(notes))})" if notes else "")


def summary_line(results: Sequence[Result]) -> str:
    if not results:
        return "No credentials to verify."
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
    total = len(results)
    parts = [f"{n} {name}" for name, n in counts.items()]
    return f"{total} credential{'s' if total != 1 else ''}: {', '.join(parts)}."


def render_text(results: Sequence[Result]) -> str:
    return "".join(f"{result_line(r)}\n" for r in results) + summary_line(results) + "\n"


def document(results: Sequence[Result]) -> dict[str, Any]:
    """The versioned JSON document of ``verify --format json``."""
    return {
        "formatVersion": JSON_FORMAT_VERSION,
        "ok": all_work(results),
        "results": [
            {
                "namespace": r.namespace,
                "serviceAccount": r.account,
                "credential": r.index,
                "type": r.type,
                "target": r.target,
                "outcome": r.outcome.value,
                "detail": r.detail,
                "identity": r.identity,
                "scopes": None if r.scopes is None else list(r.scopes),
                "checked": list(r.checked),
                "appliedSecret": r.applied,
                "drift": list(r.drift),
            }
            for r in results
        ],
    }


def render_json(results: Sequence[Result]) -> str:
    return json.dumps(document(results), indent=2) + "\n"


def all_work(results: Sequence[Result]) -> bool:
    return all(r.outcome is Outcome.WORKS for r in results)


def exit_code(results: Sequence[Result]) -> int:
    """0 only when every credential works; 1 otherwise (as for any error)."""
    return 0 if all_work(results) else 1
