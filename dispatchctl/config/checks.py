"""Semantic checks the schema cannot express: names, URLs, SSH keys, Tekton's URL rule, clashes.

Pure: takes validated models with the file and index each came from, returns findings located by
data path; the loader turns paths into lines. Values still in sops's ``ENC[...]`` form (a
``--no-decrypt`` run) are opaque and skipped.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from dispatchctl import tekton
from dispatchctl.config import credentials as creds
from dispatchctl.config.models import (
    OLDEST_TEKTON,
    PER_REPOSITORY_KEYS,
    Config,
    DockerCredential,
    GitSshCredential,
    ServiceAccount,
)
from dispatchctl.config.positions import DataPath, is_encrypted
from dispatchctl.config.ssh import (
    KeyProblem,
    inspect_private_key,
    known_hosts_problems,
    known_hosts_vouch,
)
from dispatchctl.objects import MANAGED_BY_LABEL, OWNER_LABEL
from dispatchctl.tekton import DEFAULT_PORTS, keyscan_command, known_hosts_lookups

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LINE_BREAK = re.compile(r"[\n\r]")
# ':' ends the user in Basic auth; the others end or break a line of the .gitconfig Tekton writes
# (a comment from '#' or ';', a quoted string, an escape: 'bad config line' for every git command).
_BASIC_USERNAME = re.compile(r":")
_GIT_USERNAME = re.compile(r'[\x00-\x1f\x7f:"\\#;]')
_GIT_USERNAME_WHY = (
    "Basic auth ends the user at ':', and the others break the .gitconfig Tekton writes"
    " (then every git command of every step fails)"
)
_DOCKER_USERNAME_WHY = (
    "Basic auth ends the user at ':' (docker cannot read the config.json Tekton writes with it,"
    " for any registry)"
)
_GITHUB_API = re.compile(r"/api/v3/?$", re.IGNORECASE)
_HOST = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
_RESERVED_LABELS = (MANAGED_BY_LABEL, OWNER_LABEL)
_URL_FIELDS = ("url", "registry")
# the values ``dispatchctl init``'s starter config holds until the user sets real ones
PLACEHOLDERS = {"username": "your-bot-account", "token": "replace-with-a-github-token"}


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
    """The parts of one service account that passed the schema, and where it was declared.

    ``account`` holds the account's own fields (None when they did not parse); ``credentials``
    the (index in the file, credential) of each credential that parsed, so one broken entry
    does not hide the problems of the others. ``namespace`` is the effective namespace (None
    when neither the account nor its file gives one that parsed).
    """

    account: ServiceAccount | None
    namespace: str | None
    file: str
    index: int
    credentials: tuple[tuple[int, creds.AnyCredential], ...] = ()
    # indices of credentials built from only the fields that passed the schema: checked field
    # by field, left out of every comparison
    partial: frozenset[int] = frozenset()
    # the file's tektonVersion as (major, minor)
    tekton: tuple[int, int] = OLDEST_TEKTON

    @classmethod
    def whole(
        cls,
        account: ServiceAccount,
        namespace: str,
        file: str,
        index: int,
        tekton: tuple[int, int] = OLDEST_TEKTON,
    ) -> LocatedAccount:
        """An account that passed the schema entirely."""
        credentials = tuple(enumerate(account.credentials))
        return cls(account, namespace, file, index, credentials, tekton=tekton)

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
    """Every check across all accounts of all files: each account, then clashes between them
    (among the accounts whose name and namespace are known)."""
    found: list[Finding] = []
    for located in accounts:
        found += _check_account(located)
    known = [a for a in accounts if a.account is not None and a.namespace is not None]
    found += _duplicate_accounts(known)
    found += _duplicate_secret_names(known)
    return found


def _check_account(located: LocatedAccount) -> Iterator[Finding]:
    account, file, base = located.account, located.file, located.path
    if account is not None:
        yield from _check_account_fields(file, base, account)
    urls: dict[tuple[str, str], int] = {}
    deploy_keys: dict[str, int] = {}  # ssh target -> the first credential with repositories
    for index, cred in located.credentials:
        path = (*base, "credentials", index)
        yield from _check_credential(file, path, cred)
        if (
            isinstance(cred, GitSshCredential)
            and cred.repositories
            and index not in located.partial
        ):
            yield from _check_deploy_key(file, path, cred, located.tekton, deploy_keys, index)
        if index in located.partial or _url_field_problem(cred) is not None:
            continue  # a URL that is refused (or absent) is not compared
        for kind, url in _basic_auth_urls(cred):
            first = urls.setdefault((kind, url), index)
            if first != index:
                yield Finding(
                    file,
                    path,
                    f"same {kind} URL {url} as credentials[{first}] of this account;"
                    " Tekton refuses two basic-auth Secrets for one URL",
                    "keep one credential per URL",
                    related=(file, (*base, "credentials", first)),
                )


def _check_account_fields(file: str, base: DataPath, account: ServiceAccount) -> Iterator[Finding]:
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


def _basic_auth_urls(cred: creds.AnyCredential) -> list[tuple[str, str]]:
    """(kind, normalized URL) a credential gives Tekton, as tekton.basic_auth_urls reads
    them back from a Secret; none while the URL is still encrypted."""
    if isinstance(cred, DockerCredential):
        if is_encrypted(cred.registry):
            return []
        return [(tekton.REGISTRY, tekton.registry_url(cred.registry))]
    if isinstance(cred, GitSshCredential) or is_encrypted(getattr(cred, "url", None)):
        return []
    return [(tekton.GIT, creds.git_url(cred))]


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
        yield from _check_repositories(file, path, cred)
        return
    yield from _check_values(file, path, cred)
    refused = _url_field_problem(cred)
    if refused is not None:
        name, (message, hint) = refused
        yield Finding(file, (*path, name), message, hint)
    elif not isinstance(cred, DockerCredential):
        yield from _check_repositories(file, path, cred)


def _check_repositories(
    file: str, path: DataPath, cred: creds.ScmCredential | GitSshCredential
) -> Iterator[Finding]:
    """Each entry is a clone URL of the credential's own host, or a path on it: ``verify``
    sends the credential to it, so another host is refused."""
    host = _present(cred, "host") if isinstance(cred, GitSshCredential) else "https"
    if host is None or is_encrypted(host) or (host != "https" and _host_problem(host)):
        return  # the host is reported where it is
    for index, entry in enumerate(getattr(cred, "repositories", None) or ()):
        if is_encrypted(entry):
            continue
        problem = _repository_problem(cred, entry)
        if problem is not None:
            yield Finding(file, (*path, "repositories", index), *problem)


def _check_deploy_key(
    file: str,
    path: DataPath,
    cred: GitSshCredential,
    release: tuple[int, int],
    seen: dict[str, int],
    index: int,
) -> Iterator[Finding]:
    """A git credential naming its repositories is a deploy key: on Tekton >= 1.11 each
    repository gets this key alone, for the clone URLs Tekton rewrites; before 1.11 every key
    of a host is offered for every repository, so a second one cannot work."""
    if is_encrypted(cred.host) or _host_problem(cred.host):
        return
    if release >= PER_REPOSITORY_KEYS:
        for number, entry in enumerate(cred.repositories):
            if not is_encrypted(entry) and _repository_problem(cred, entry) is None:
                problem = _rewritten_form_problem(cred, entry)
                if problem is not None:
                    yield Finding(file, (*path, "repositories", number), *problem)
        return
    target = tekton.ssh_target(cred.host)
    first = seen.setdefault(target, index)
    if first != index:
        yield Finding(
            file,
            (*path, "repositories"),
            f"a second key for {target} on this account, as credentials[{first}]: Tekton"
            f" before 1.11 offers a host's keys in order for every repository (tektonVersion"
            f" {'.'.join(map(str, release))}), so a deploy key for another repository fails",
            'if every cluster runs Tekton 1.11 or newer, set tektonVersion: "1.11" at the top'
            " of the file: each repository then gets its own key",
        )


def _rewritten_form_problem(cred: GitSshCredential, entry: str) -> tuple[str, str | None] | None:
    """Tekton rewrites ``git@HOST:PATH.git`` and ``ssh://HOST[:PORT]/PATH.git`` (no user) to
    the repository's own key; a clone URL with another user keeps the host's keys."""
    user = creds.repository(cred, entry).user
    if (user is None) if "://" in entry else (user == "git"):
        return None
    host, _, rest = creds.tekton_repository(cred, entry).partition("/")
    return (
        "Tekton gives a repository its own key only for clone URLs git@HOST:PATH.git and"
        " ssh://HOST/PATH.git (no user in it): this one would keep the host's keys",
        f"write git@{host.split(':')[0]}:{rest}.git or ssh://{host}/{rest}.git, here and in"
        " the pipeline's clone URL",
    )


def _repository_problem(
    cred: creds.ScmCredential | GitSshCredential, entry: str
) -> tuple[str, str | None] | None:
    ssh = isinstance(cred, GitSshCredential)
    example = "e.g. git@github.com:org/repo.git or org/repo" if ssh else "e.g. org/repo"
    if not entry.strip() or any(c.isspace() for c in entry):
        return "a repository must be a URL or path without whitespace", example
    if "://" in entry:
        scheme = entry.partition("://")[0].lower()
        if ssh and scheme != "ssh":
            return "a git (ssh) credential's repositories are ssh URLs", example
        problem = None if ssh else _url_problem(entry, http_allowed=cred.insecureSkipTLSVerify)
        if problem is not None:
            return problem
        try:
            parts = urlsplit(entry)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            return "not a valid URL", example
        if parts.password is not None:
            return "the URL must not carry a password", None
        if not parts.hostname:
            return "the URL names no host", example
    elif not ssh and (":" in entry or "@" in entry):
        return "an https credential's repositories are https URLs or paths", example
    where = creds.repository(cred, entry).host
    expected = creds.repository_host(cred)
    if where != expected:
        return (
            f"the repository is on {where}, not on {expected}, the host this credential is for"
            " (verify sends the credential only there)",
            f"list it under the credential for {where}",
        )
    return None


def _present(cred: creds.AnyCredential, name: str) -> str | None:
    """A field's text, None when it is absent: a credential that failed the schema is checked
    with the fields that passed it (``model_construct``), the others unset."""
    value = getattr(cred, name, None)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _check_values(file: str, path: DataPath, cred: creds.AnyCredential) -> Iterator[Finding]:
    """The username and the secret value end up verbatim in ``.git-credentials`` and the
    docker ``auth``: empty, or with a YAML ``|`` block's final newline, git refuses them."""
    secret = creds.SECRET_FIELD[cred.type]
    git = not isinstance(cred, DockerCredential)  # written into .gitconfig/.git-credentials
    for name in ("username", secret):
        value = _present(cred, name)
        if value is None or is_encrypted(value):
            continue
        if not value:
            yield Finding(file, (*path, name), f"{name} must not be empty")
        elif value == PLACEHOLDERS.get(name):
            yield Finding(
                file,
                (*path, name),
                f"{name} is still the starter config's placeholder",
                f"set the real value with `sops edit {shlex.quote(file)}`",
            )
        elif value != value.strip():
            yield Finding(
                file,
                (*path, name),
                f"{name} begins or ends with whitespace (a line break or space), which git and"
                " docker would send as part of it",
                "remove it; a YAML | block ends with a line break: write the value as a plain"
                " scalar or use |-" + (" (sops edit FILE)" if name == secret else ""),
            )
        elif name == secret and git and _LINE_BREAK.search(value):
            yield Finding(
                file,
                (*path, name),
                f"{name} holds a line break: git's credential store drops such an entry",
                "paste the token again on one line (sops edit FILE)",
            )
        elif name == "username":
            refused = sorted(set((_GIT_USERNAME if git else _BASIC_USERNAME).findall(value)))
            if refused:
                shown = ", ".join(
                    repr(c) if c.isprintable() else "a control character" for c in refused
                )
                why = _GIT_USERNAME_WHY if git else _DOCKER_USERNAME_WHY
                yield Finding(
                    file,
                    (*path, name),
                    f"the username holds {shown}: {why}",
                    "use the account's login name as the provider shows it",
                )


def _url_field_problem(
    cred: creds.AnyCredential,
) -> tuple[str, tuple[str, str | None]] | None:
    """(field, (message, hint)) when the credential's URL or registry is refused."""
    if isinstance(cred, DockerCredential):
        problem = _registry_problem(cred.registry)
        return None if problem is None else ("registry", problem)
    url = getattr(cred, "url", None)
    if isinstance(cred, GitSshCredential) or url is None:
        return None
    problem = _url_problem(url, http_allowed=cred.insecureSkipTLSVerify)
    if problem is None and cred.type == "github" and _GITHUB_API.search(url):
        base = _GITHUB_API.sub("", url)
        problem = (
            "the URL is GitHub Enterprise's API (/api/v3), which dispatchctl adds itself for"
            " scm.provider.url",
            f"give the server's base URL: {base}",
        )
    return None if problem is None else ("url", problem)


def _check_git(file: str, path: DataPath, cred: GitSshCredential) -> Iterator[Finding]:
    host = _present(cred, "host")
    usable_host = host is not None and not is_encrypted(host)
    host_problem = _host_problem(host) if host is not None and usable_host else None
    if host_problem:
        yield Finding(file, (*path, "host"), *host_problem)
    key = _present(cred, "privateKey")
    if key is not None and not key.strip():
        yield Finding(file, (*path, "privateKey"), "privateKey must not be empty")
    elif key is not None and not is_encrypted(key):
        try:
            inspect_private_key(key)
        except KeyProblem as err:
            yield Finding(file, (*path, "privateKey"), err.message, err.hint)
    known = _present(cred, "knownHosts")
    if known is None or is_encrypted(known):
        return
    hint = known_hosts_hint(host)
    problems = known_hosts_problems(known)
    for line, message in problems:
        yield Finding(file, (*path, "knownHosts"), f"line {line}: {message}")
    if not known.strip():
        yield Finding(
            file,
            (*path, "knownHosts"),
            "knownHosts is empty: without the host's key git refuses to connect"
            " (Host key verification failed)",
            hint,
        )
    elif not problems and host is not None and usable_host and not host_problem:
        names = known_hosts_lookups(host)
        if not known_hosts_vouch(known, names):
            yield Finding(
                file,
                (*path, "knownHosts"),
                f"no known_hosts line is for {' or '.join(names)}, the"
                f" name{'s' if len(names) > 1 else ''} ssh looks the host up by;"
                " git would refuse to connect (Host key verification failed)",
                hint,
            )


def known_hosts_hint(host: str | None) -> str:
    """How to get a host's known_hosts line (``ssh-keyscan [-p PORT] HOST``)."""
    good = host is not None and not is_encrypted(host) and _host_problem(host) is None
    command = keyscan_command(host) if good and host is not None else "ssh-keyscan HOST"
    return f"get the host's line with: {command} (and compare its fingerprint with a trusted one)"


def _host_problem(host: str) -> tuple[str, str | None] | None:
    if "/" in host or "@" in host:  # a scheme's "://" included
        return "host must be host or host:port, without scheme, user or path", "e.g. github.com"
    name, sep, port = host.rpartition(":")
    if not sep or (not name.endswith("]") and ":" in name):
        name = host  # no port, or a bare IPv6 address
    elif not port.isdigit() or not 0 < int(port) < 65536:
        return "the port is not a number between 1 and 65535", None
    if ":" in name and not _ipv6(name.removeprefix("[").removesuffix("]")):
        return "not an IPv6 address", "e.g. fd00::12, or [fd00::12]:2222 with a port"
    if ":" not in name and not _HOST.match(name):
        return "not a host name", "e.g. github.com or git.example.com:2222"
    return None


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


# Every account of a config names the same few hosts, and each credential's URL is judged twice
# (its own check, and whether it can name a Secret): each spelling is judged once per run.
_memo = functools.lru_cache(maxsize=4096)


@_memo
def _url_problem(url: str, *, http_allowed: bool) -> tuple[str, str | None] | None:
    """A URL must parse, name a host and use https (http only when explicitly allowed)."""
    if is_encrypted(url):
        return None
    if any(c.isspace() for c in url):
        return "the URL contains whitespace", "e.g. https://git.example.com"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a valid URL", "e.g. https://git.example.com"
    if parts.username is not None or parts.password is not None:
        return "the URL must not carry a user or password", "put them in username/token"
    if parts.scheme == "http" and not http_allowed:
        return (
            "http URLs are refused (credentials would travel in clear text)",
            "use https, or set insecureSkipTLSVerify: true to allow http",
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an https URL with a host", "e.g. https://git.example.com"
    if parts.hostname.endswith("."):
        return (
            "the host ends with a dot: git matches credentials by the name clone URLs use",
            f"write it without the dot: {parts.hostname.rstrip('.')}",
        )
    if parts.query or parts.fragment:
        return "the URL must not have a query or fragment", None
    if parts.port is not None and parts.port == DEFAULT_PORTS.get(parts.scheme):
        return (
            f"the URL names {parts.scheme}'s default port :{parts.port}: git looks a credential"
            " up by the clone URL's exact host and port, and clone URLs leave it out",
            f"write {parts.scheme}://{parts.hostname} (and clone URLs without :{parts.port})",
        )
    return None


_REGISTRY_EXAMPLE = "e.g. ghcr.io, registry.example.com:5000 or https://quay.io"


@_memo
def _registry_problem(registry: str) -> tuple[str, str | None] | None:
    """A registry as ``docker login`` takes it: a host, host:port, or an https URL."""
    if is_encrypted(registry):
        return None
    if not registry.strip() or any(c.isspace() for c in registry):
        return "the registry must be a host name without whitespace", _REGISTRY_EXAMPLE
    scheme, sep, rest = registry.partition("://")
    if sep and scheme.lower() == "http":
        return (
            "http registries are refused (credentials would travel in clear text)",
            "use https, or the registry's host without a scheme",
        )
    if sep and scheme.lower() != "https":
        return "the registry must be a host or an https URL", _REGISTRY_EXAMPLE
    try:
        parts = urlsplit(f"https://{rest if sep else registry}")
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a registry host (a bad port?)", _REGISTRY_EXAMPLE
    if parts.username is not None or parts.password is not None:
        return "the registry must not carry a user or password", "put them in username/password"
    if parts.query or parts.fragment:
        return "the registry must not have a query or fragment", _REGISTRY_EXAMPLE
    host = parts.netloc.rpartition(":")[0] if parts.port else parts.netloc
    if parts.port == DEFAULT_PORTS["https"]:
        return (
            "the registry names the default port :443: docker, kaniko and skopeo find no"
            " credential for images named with it, nor this one for images named without",
            f"write {host}, and name images {host}/... (without :443)",
        )
    if not parts.hostname or not _HOST.match(host):
        return "not a registry host", _REGISTRY_EXAMPLE
    return None


def _duplicate_accounts(accounts: Sequence[LocatedAccount]) -> Iterator[Finding]:
    seen: dict[tuple[str, str], LocatedAccount] = {}
    for located in accounts:
        assert located.account is not None and located.namespace is not None
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
        account, namespace = located.account, located.namespace
        assert account is not None and namespace is not None
        for name in creds.workspace_secrets(account).values():
            seen.setdefault((namespace, name), (located.file, (*located.path, "workspaceSecrets")))
        for index, cred in located.credentials:
            path = (*located.path, "credentials", index)
            if index in located.partial:
                continue
            if cred.secretName is not None and is_encrypted(cred.secretName):
                continue
            if cred.secretName is None and _url_field_problem(cred) is not None:
                continue  # the default name comes from a URL that is refused
            names = [creds.secret_name(account, cred)]
            if isinstance(cred, DockerCredential) and cred.imagePullSecret:
                names.append(creds.pull_secret_name(account, cred))
            for name in names:
                first = seen.setdefault((namespace, name), (located.file, path))
                if first != (located.file, path):
                    yield Finding(
                        located.file,
                        path,
                        f"Secret {_shown(namespace, name)} would be written twice",
                        "give one of them another secretName",
                        related=first,
                    )
