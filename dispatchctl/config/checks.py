"""Semantic checks the schema cannot express: names, URLs, SSH keys, Tekton's URL rule, clashes.

Pure: takes validated models with the file and index each came from, returns findings located by
data path; the loader turns paths into lines. Values still in sops's ``ENC[...]`` form (a
``--no-decrypt`` run) are opaque and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from dispatchctl.config import credentials as creds
from dispatchctl.config.models import (
    Config,
    DockerCredential,
    GitSshCredential,
    ServiceAccount,
)
from dispatchctl.config.positions import DataPath, is_encrypted
from dispatchctl.config.ssh import KeyProblem, inspect_private_key, known_hosts_problems
from dispatchctl.objects import MANAGED_BY_LABEL, OWNER_LABEL

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_HOST = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
_RESERVED_LABELS = (MANAGED_BY_LABEL, OWNER_LABEL)


@dataclass(frozen=True)
class Finding:
    """One semantic problem: where (file, data path), what, and how to fix it.

    ``related`` names the other place of a clash; ``at_key`` points at the key, not its value.
    """

    file: str
    path: DataPath
    message: str
    hint: str | None = None
    related: tuple[str, DataPath] | None = None
    at_key: bool = False


@dataclass(frozen=True)
class LocatedAccount:
    """A service account with its effective namespace and where it was declared."""

    account: ServiceAccount
    namespace: str
    file: str
    index: int

    @property
    def path(self) -> DataPath:
        return ("serviceAccounts", self.index)


def dns_subdomain_problem(name: str) -> str | None:
    if len(name) > 253:
        return f"name is {len(name)} characters long (at most 253)"
    if not _DNS_SUBDOMAIN.match(name):
        return "not a DNS-1123 subdomain (lower case a-z, 0-9, '-' and '.')"
    return None


def dns_label_problem(name: str) -> str | None:
    if len(name) > 63:
        return f"name is {len(name)} characters long (at most 63)"
    if not _DNS_LABEL.match(name):
        return "not a DNS-1123 label (lower case a-z, 0-9 and '-')"
    return None


def _shown(namespace: str, name: str) -> str:
    """namespace/name for a message; a name that is not a valid name is not repeated (it may
    hold anything, even a value pasted into the wrong field)."""
    if dns_label_problem(namespace) or dns_subdomain_problem(name):
        return "(this name)"
    return f"{namespace}/{name}"


def check_file(config: Config, file: str) -> list[Finding]:
    """Checks of one file's top level: the owner name and the default namespace."""
    found: list[Finding] = []
    owner = config.metadata.name
    if not is_encrypted(owner):
        problem = dns_label_problem(owner)
        if problem:
            found.append(
                Finding(file, ("metadata", "name"), problem, "it is used as a label value")
            )
    if not is_encrypted(config.namespace):
        problem = dns_label_problem(config.namespace)
        if problem:
            found.append(Finding(file, ("namespace",), problem))
    return found


def check_accounts(accounts: Sequence[LocatedAccount]) -> list[Finding]:
    """Every check across all accounts of all files: each account, then clashes between them."""
    found: list[Finding] = []
    for located in accounts:
        found += _check_account(located)
    found += _duplicate_accounts(accounts)
    found += _duplicate_secret_names(accounts)
    return found


def _check_account(located: LocatedAccount) -> Iterator[Finding]:
    account, file, base = located.account, located.file, located.path
    if not is_encrypted(account.name):
        problem = dns_subdomain_problem(account.name)
        if problem:
            yield Finding(file, (*base, "name"), problem)
    if account.namespace is not None and not is_encrypted(account.namespace):
        problem = dns_label_problem(account.namespace)
        if problem:
            yield Finding(file, (*base, "namespace"), problem)
    for key, value in account.labels.items():
        for message in _label_problems(key, value):
            yield Finding(file, (*base, "labels", key), message, at_key=True)
    urls: dict[tuple[str, str], int] = {}
    for index, cred in enumerate(account.credentials):
        path = (*base, "credentials", index)
        yield from _check_credential(file, path, cred)
        for kind, url in _basic_auth_urls(cred):
            if is_encrypted(url):
                continue
            first = urls.setdefault((kind, creds.git_url_key(url)), index)
            if first != index:
                yield Finding(
                    file,
                    path,
                    f"same {kind} URL as credentials[{first}] of this account;"
                    " Tekton refuses two basic-auth Secrets for one URL",
                    "keep one credential per URL",
                    related=(file, (*base, "credentials", first)),
                )


def _basic_auth_urls(cred: creds.AnyCredential) -> list[tuple[str, str]]:
    if isinstance(cred, DockerCredential):
        return [("registry", cred.registry)]
    if isinstance(cred, GitSshCredential):
        return []
    return [("git", creds.base_url(cred))]


def _label_problems(key: str, value: str) -> Iterator[str]:
    if key in _RESERVED_LABELS:
        yield f"label {key} is set by dispatchctl itself"
        return
    prefix, _, name = key.rpartition("/")
    if (prefix and dns_subdomain_problem(prefix)) or len(name) > 63 or not _LABEL_NAME.match(name):
        yield "not a valid label key"
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        yield f"label {key}: value is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)"


def _check_credential(file: str, path: DataPath, cred: creds.AnyCredential) -> Iterator[Finding]:
    if cred.secretName is not None and not is_encrypted(cred.secretName):
        problem = dns_subdomain_problem(cred.secretName)
        if problem:
            yield Finding(file, (*path, "secretName"), problem)
    if isinstance(cred, GitSshCredential):
        yield from _check_git(file, path, cred)
        return
    if not cred.username and not is_encrypted(cred.username):
        yield Finding(file, (*path, "username"), "username must not be empty")
    if isinstance(cred, DockerCredential):
        problem = _url_problem(cred.registry, http_opt_in=None)
        if problem:
            yield Finding(file, (*path, "registry"), *problem)
        return
    url = getattr(cred, "url", None)
    if url is not None:
        opt_in = None if cred.insecureSkipTLSVerify else "insecureSkipTLSVerify: true"
        problem = _url_problem(url, http_opt_in=opt_in, http_allowed=cred.insecureSkipTLSVerify)
        if problem:
            yield Finding(file, (*path, "url"), *problem)


def _check_git(file: str, path: DataPath, cred: GitSshCredential) -> Iterator[Finding]:
    if not is_encrypted(cred.host):
        problem = _host_problem(cred.host)
        if problem:
            yield Finding(file, (*path, "host"), *problem)
    key = cred.privateKey.get_secret_value()
    if not key.strip():
        yield Finding(file, (*path, "privateKey"), "privateKey must not be empty")
    elif not is_encrypted(key):
        try:
            inspect_private_key(key)
        except KeyProblem as err:
            yield Finding(file, (*path, "privateKey"), err.message, err.hint)
    if cred.knownHosts and not is_encrypted(cred.knownHosts):
        for line, message in known_hosts_problems(cred.knownHosts):
            yield Finding(file, (*path, "knownHosts"), f"line {line}: {message}")


def _host_problem(host: str) -> tuple[str, str | None] | None:
    if "://" in host or "/" in host or "@" in host:
        return "host must be host or host:port, without scheme, user or path", "e.g. github.com"
    name, sep, port = host.rpartition(":")
    if sep and not name.endswith("]") and ":" in name:
        name, port, sep = host, "", ""  # a bare IPv6 address
    if not sep:
        name = host
    elif not port.isdigit() or not 0 < int(port) < 65536:
        return "the port is not a number between 1 and 65535", None
    if not _HOST.match(name):
        return "not a host name", "e.g. github.com or git.example.com:2222"
    return None


def _url_problem(
    url: str, *, http_opt_in: str | None, http_allowed: bool = False
) -> tuple[str, str | None] | None:
    """A URL must parse, name a host and use https (http only when explicitly allowed)."""
    if is_encrypted(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a valid URL", "e.g. https://git.example.com"
    if parts.username is not None or parts.password is not None:
        return "the URL must not carry a user or password", "put them in username/token"
    if parts.scheme == "http" and not http_allowed:
        hint = "use https" + (f", or set {http_opt_in} to allow http" if http_opt_in else "")
        return "http URLs are refused (credentials would travel in clear text)", hint
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an https URL with a host", "e.g. https://git.example.com"
    if parts.query or parts.fragment:
        return "the URL must not have a query or fragment", None
    return None


def _duplicate_accounts(accounts: Sequence[LocatedAccount]) -> Iterator[Finding]:
    seen: dict[tuple[str, str], LocatedAccount] = {}
    for located in accounts:
        key = (located.namespace, located.account.name)
        first = seen.setdefault(key, located)
        if first is not located:
            yield Finding(
                located.file,
                (*located.path, "name"),
                f"service account {_shown(*key)} is declared twice",
                "merge the two entries into one",
                related=(first.file, (*first.path, "name")),
            )


def _duplicate_secret_names(accounts: Sequence[LocatedAccount]) -> Iterator[Finding]:
    seen: dict[tuple[str, str], tuple[str, DataPath]] = {}
    for located in accounts:
        for index, cred in enumerate(located.account.credentials):
            path = (*located.path, "credentials", index)
            if cred.secretName is not None and is_encrypted(cred.secretName):
                continue
            names = [creds.secret_name(located.account, cred)]
            if isinstance(cred, DockerCredential) and cred.imagePullSecret:
                names.append(creds.pull_secret_name(located.account, cred))
            for name in names:
                first = seen.setdefault((located.namespace, name), (located.file, path))
                if first != (located.file, path):
                    yield Finding(
                        located.file,
                        path,
                        f"Secret {_shown(located.namespace, name)} would be written twice",
                        "give one of them another secretName",
                        related=first,
                    )
