"""``dispatchctl verify``: each credential used the way the pipeline uses it, read-only, now.

git over https runs ``git ls-remote`` of the declared repositories, then asks the provider's
API who the token is and what it may do; git over ssh makes a real handshake that trusts only
``knownHosts``, then ``git ls-remote``; docker does the registry's v2 login exchange. What the
answers mean is decided in ``dispatchctl.verification`` (pure).

Secrets go to child processes only through files in a private folder (mode 0700, files 0600,
in memory under /dev/shm where there is one), removed when the check ends: git reads the
password through its credential-helper protocol, ssh its key through ``IdentityFile``. Never
argv, never a child's environment. Credentials go only to the host they are declared for:
git follows no redirect, HTTP requests follow none, and a registry's token service gets them
only on the registry's own domain over https. The CA bundle: ``SSL_CERT_FILE`` when set, for
every check (git gets it as ``GIT_SSL_CAINFO``); else each tool's default.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from pydantic import SecretStr

from dispatchctl import tekton
from dispatchctl.config import credentials as creds
from dispatchctl.config.load import load_config
from dispatchctl.config.models import DockerCredential, GitSshCredential
from dispatchctl.config.ssh import canonical_private_key
from dispatchctl.desired import build_desired
from dispatchctl.objects import SECRET, ObjectRef
from dispatchctl.verification import (
    Applied,
    Outcome,
    Result,
    Step,
    applied_values,
    git_step,
    missing_secret_step,
    parse_challenge,
    parse_scopes,
    realm_problem,
    registry_endpoint,
    scopes_step,
    ssh_step,
)

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster

log = logging.getLogger("dispatchctl.verify")

DEFAULT_TIMEOUT = 30.0
DEFAULT_PARALLELISM = 4
_SHM = Path("/dev/shm")
# what a child may not inherit: the user's git settings, helpers, traces (GIT_CURL_VERBOSE
# prints the Authorization header), and an ssh agent's keys
_DROPPED_PREFIXES = ("GIT_", "SSH_")
_KEPT = ("GIT_SSL_CAINFO", "GIT_SSL_CAPATH")


def verify_files(
    files: Sequence[str],
    *,
    allow_plaintext: bool = False,
    parallelism: int = DEFAULT_PARALLELISM,
    timeout: float = DEFAULT_TIMEOUT,
    cluster: Cluster | None = None,
) -> list[Result]:
    """Every credential of the config, checked at most ``parallelism`` at a time, in the
    config's order; with ``cluster``, with the values of its Secret as the cluster holds it."""
    config = load_config(files, allow_plaintext=allow_plaintext).config
    manifests = {obj.ref: obj.manifest for obj in build_desired(config).objects} if cluster else {}
    jobs: list[tuple[Where, creds.AnyCredential, Applied | None]] = []
    for account in config.serviceAccounts:
        namespace = config.namespace_of(account)
        for index, cred in enumerate(account.credentials):
            where = (namespace, account.name, index, cred.type, _target(cred))
            found = None
            if cluster is not None:
                name = creds.secret_name(account, cred)
                live = cluster.get(SECRET, namespace, name)
                found = applied_values(cred, manifests[ObjectRef(SECRET, namespace, name)], live)
            jobs.append((where, cred, found))
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        return list(pool.map(lambda job: check(*job, timeout=timeout), jobs))


def _target(cred: creds.AnyCredential) -> str:
    if isinstance(cred, DockerCredential):
        return tekton.registry_url(cred.registry)
    if isinstance(cred, GitSshCredential):
        return tekton.ssh_target(cred.host)
    return creds.git_url(cred)


Where = tuple[str, str, int, str, str]  # namespace, account, index, type, target


def check(
    where: Where, cred: creds.AnyCredential, applied: Applied | None = None, *, timeout: float
) -> Result:
    checked: list[str] = []
    log.info("checking %s/%s credentials[%d] %s %s", *where)
    if applied is not None:
        if applied.credential is None:
            return Result.of(where, [missing_secret_step(applied.secret)], checked, applied)
        cred = applied.credential
        checked.append(f"Secret {applied.secret}")
    elif isinstance(cred, GitSshCredential):  # the key as apply writes it to the Secret
        key = canonical_private_key(cred.privateKey.get_secret_value())
        cred = cred.model_copy(update={"privateKey": SecretStr(key)})
    with _private_folder() as folder:
        if isinstance(cred, DockerCredential):
            steps = _check_docker(cred, timeout, checked)
        elif isinstance(cred, GitSshCredential):
            steps = _check_ssh(cred, folder, timeout, checked)
        else:
            steps = _check_scm(cred, folder, timeout, checked)
        result = Result.of(where, list(steps), checked, applied)
    log.info("%s/%s credentials[%d]: %s", *where[:3], result.outcome.value)
    return result


# --- private files and child processes ------------------------------------------------------


@contextlib.contextmanager
def _private_folder() -> Iterator[Path]:
    """A folder only we can open, in memory when /dev/shm exists; removed with its files."""
    base = _SHM if _SHM.is_dir() and os.access(_SHM, os.W_OK | os.X_OK) else None
    # the pid in the name: whose folder it is, should one be left by a killed run
    folder = Path(tempfile.mkdtemp(prefix=f"dispatchctl-verify-{os.getpid()}-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path


def _child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of git and ssh: ours without git's and ssh's settings, a HOME of the
    private folder (no ~/.gitconfig, credential store or ~/.ssh of the user), no prompts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES) or k in _KEPT}
    if env.get("SSL_CERT_FILE"):
        env["GIT_SSL_CAINFO"] = env["SSL_CERT_FILE"]  # one CA bundle for every check
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
        **extra,
    )
    return env


@dataclass(frozen=True)
class _Ran:
    returncode: int | None  # None: killed at the timeout
    output: str  # stdout and stderr: GitHub greets on stderr, GitLab on stdout
    seconds: float  # how long it ran


def _run(argv: list[str], env: Mapping[str, str], timeout: float) -> _Ran:
    """Run a child in its own process group, all of it killed at the timeout (git's remote
    helpers and ssh included)."""
    log.debug("running %s", shlex.join(argv))
    started = time.monotonic()
    with subprocess.Popen(
        argv,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            log.debug("%s: no answer in %ss", argv[0], timeout)
            return _Ran(None, out.decode(errors="replace"), time.monotonic() - started)
    log.debug("%s exited %d", argv[0], proc.returncode)
    return _Ran(proc.returncode, out.decode(errors="replace"), time.monotonic() - started)


def _ls_remote(url: str, config: Sequence[str], env: Mapping[str, str], timeout: float) -> Step:
    settings = [arg for setting in config for arg in ("-c", setting)]
    ran = _run(["git", *settings, "ls-remote", "--", url, "HEAD"], env, timeout)
    if ran.returncode is None:
        return Step(Outcome.UNREACHABLE, f"{url}: no answer in {timeout:g}s")
    return git_step(ran.returncode, ran.output, url)


# --- git over https -------------------------------------------------------------------------


def _check_scm(
    cred: creds.ScmCredential, folder: Path, timeout: float, checked: list[str]
) -> Iterator[Step]:
    username = cred.username
    secret = getattr(cred, creds.SECRET_FIELD[cred.type]).get_secret_value()
    insecure = cred.insecureSkipTLSVerify
    if any(c in value for value in (username, secret) for c in "\r\n\0"):
        # only a Secret edited by hand can hold one (validate refuses it in the config): git's
        # credential protocol and HTTP headers cannot carry it
        yield Step(Outcome.NOT_CHECKED, "the username or secret holds a line break")
        return
    if cred.repositories:
        helper_file = _write_private(
            folder / "credential", f"username={username}\npassword={secret}\n"
        )
        helper = f'!f() {{ test "$1" = get && cat {shlex.quote(str(helper_file))}; }}; f'
        config = [
            "credential.helper=",  # none of the user's helpers
            f"credential.helper={helper}",
            "credential.interactive=false",
            "core.askPass=",
            "http.followRedirects=false",
        ]
        if insecure:
            config.append("http.sslVerify=false")
        env = _child_env(folder)
        for entry in cred.repositories:
            url = creds.repository(cred, entry).url
            checked.append(url)
            step = _ls_remote(url, config, env, timeout)
            yield step
            if step.outcome is not Outcome.WORKS:
                return
    yield from _check_provider_api(cred, username, secret, timeout, checked)


def _check_provider_api(
    cred: creds.ScmCredential, username: str, secret: str, timeout: float, checked: list[str]
) -> Iterator[Step]:
    """Who the token is and, where the provider says, its scopes."""
    http = _Http(timeout, insecure=cred.insecureSkipTLSVerify)
    api = creds.provider_url(cred)
    if cred.type == "github":
        url = f"{api}/user"
        checked.append(url)
        answer = http.get(
            url, {"Authorization": f"token {secret}", "Accept": "application/vnd.github+json"}
        )
        if answer.step is not None:
            yield answer.step
            return
        scopes = answer.headers.get("X-OAuth-Scopes")
        yield scopes_step(
            "github", _field(answer, "login"), None if scopes is None else parse_scopes(scopes)
        )
    elif cred.type == "gitlab":
        headers = {"PRIVATE-TOKEN": secret}
        url = f"{api}/api/v4/personal_access_tokens/self"
        checked.append(url)
        answer = http.get(url, headers)
        if answer.step is not None:
            yield answer.step
            return
        body = answer.json()
        user_url = f"{api}/api/v4/user"
        checked.append(user_url)
        user = http.get(user_url, headers)
        name = _field(user, "username") if user.step is None else None
        granted = body.get("scopes") if isinstance(body, dict) else None
        ok = isinstance(granted, list) and all(isinstance(s, str) for s in granted)
        yield scopes_step("gitlab", name, tuple(granted) if ok else None)
    elif cred.type == "bitbucket-cloud":
        url = f"{api}/2.0/user"
        checked.append(url)
        answer = http.get(url, {"Authorization": _basic(username, secret)})
        if answer.step is not None:
            yield answer.step
            return
        scopes = answer.headers.get("X-OAuth-Scopes")
        yield scopes_step(
            "bitbucket-cloud",
            _field(answer, "username"),
            None if scopes is None else parse_scopes(scopes),
        )
    else:
        url = f"{api}/rest/api/1.0/users/{quote(username, safe='')}"
        checked.append(url)
        answer = http.get(url, {"Authorization": f"Bearer {secret}"})
        if answer.step is not None:
            yield answer.step
            return
        yield scopes_step("bitbucket-server", _field(answer, "name"), None)


def _field(answer: _Answer, name: str) -> str | None:
    body = answer.json()
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# --- HTTP: no redirects, errors as outcomes ---------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx becomes an HTTPError: no credential follows it anywhere


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    step: Step | None  # set when the request did not succeed

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _Http:
    def __init__(self, timeout: float, *, insecure: bool = False) -> None:
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._timeout = timeout
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect()
        )

    def get(self, url: str, headers: Mapping[str, str]) -> _Answer:
        request = urllib.request.Request(
            url, headers={"User-Agent": "dispatchctl-verify", **headers}
        )
        shown = url.split("?", 1)[0]
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                answer = _Answer(response.status, response.headers, response.read(1 << 20), None)
        except urllib.error.HTTPError as err:
            with err:
                answer = _Answer(err.code, err.headers, err.read(1 << 16), None)
            answer.step = _http_failure(shown, err.code, err.headers)
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = err.reason if isinstance(err, urllib.error.URLError) else err
            log.debug("GET %s: %s", shown, type(reason).__name__)
            if isinstance(reason, TimeoutError):
                step = Step(
                    Outcome.UNREACHABLE, f"{_origin(shown)}: no answer in {self._timeout:g}s"
                )
            elif isinstance(reason, ssl.SSLError | ssl.CertificateError):
                step = Step(
                    Outcome.TLS, f"{_origin(shown)}: the server's certificate was not accepted"
                )
            else:
                step = Step(Outcome.UNREACHABLE, f"{_origin(shown)}: could not connect")
            return _Answer(0, {}, b"", step)
        log.debug("GET %s: %d", shown, answer.status)
        return answer


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _http_failure(url: str, status: int, headers: Mapping[str, str]) -> Step:
    log.debug("GET %s: %d", url, status)
    if status in (401, 403):
        return Step(Outcome.REJECTED, f"{url}: the server refused the credential ({status})")
    if 300 <= status < 400:
        where = _origin(headers.get("Location") or "") if headers.get("Location") else "elsewhere"
        return Step(
            Outcome.NOT_CHECKED,
            f"{url}: redirected to {where}; verify sends no credential on",
        )
    return Step(Outcome.UNREACHABLE, f"{url}: the server answered {status}")


# --- git over ssh ---------------------------------------------------------------------------


def _check_ssh(
    cred: GitSshCredential, folder: Path, timeout: float, checked: list[str]
) -> Iterator[Step]:
    name, port = tekton.ssh_host_port(cred.host)
    key = _write_private(folder / "id", cred.privateKey.get_secret_value())
    known = _write_private(folder / "known_hosts", cred.knownHosts.rstrip("\n") + "\n")
    connect_timeout = max(1, int(timeout))
    config = _write_private(
        folder / "ssh_config",
        "Host *\n"
        f"  Port {port}\n"
        f'  IdentityFile "{key}"\n'
        "  IdentitiesOnly yes\n"
        "  IdentityAgent none\n"
        f'  UserKnownHostsFile "{known}"\n'
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  CheckHostIP no\n"
        "  UpdateHostKeys no\n"
        "  BatchMode yes\n"
        "  PasswordAuthentication no\n"
        "  KbdInteractiveAuthentication no\n"
        f"  ConnectTimeout {connect_timeout}\n",
    )
    repositories = [creds.repository(cred, entry) for entry in cred.repositories]
    user = next((r.user for r in repositories if r.user), "git")
    env = _child_env(folder)
    checked.append(f"ssh {user}@{tekton.ssh_target(cred.host)}")
    ran = _run(
        ["ssh", "-F", str(config), "-o", "LogLevel=VERBOSE", "-T", f"{user}@{name}"],
        env,
        timeout,
    )
    # ssh's own ConnectTimeout (the same seconds) may end it first: "Connection timed out
    # during banner exchange" is the same silent server, and so is any failure that took
    # the whole timeout (once in CI on a loaded machine, ssh's words did not say it)
    silent = "timed out" in ran.output or ran.returncode is None or ran.seconds >= connect_timeout
    step = ssh_step(ran.output, user, timed_out=timeout if silent else None)
    yield step
    if step.outcome is not Outcome.WORKS:
        return
    git_env = _child_env(folder, GIT_SSH_COMMAND=f"ssh -F {shlex.quote(str(config))}")
    for repo in repositories:
        checked.append(repo.url)
        step = _ls_remote(repo.url, [], git_env, timeout)
        yield step
        if step.outcome is not Outcome.WORKS:
            return


# --- docker registries ----------------------------------------------------------------------


def _check_docker(cred: DockerCredential, timeout: float, checked: list[str]) -> Iterator[Step]:
    """``docker login``'s exchange: GET /v2/; on 401 its challenge says Basic (send the
    credential there) or Bearer (get a token from the realm with it, then GET /v2/ again)."""
    http = _Http(timeout)
    base = registry_endpoint(cred.registry)
    ping = f"{base}/v2/"
    checked.append(ping)
    first = http.get(ping, {})
    if first.step is None:
        yield Step(Outcome.WORKS, "the registry asks for no credentials; none were sent")
        return
    if first.status != 401:
        yield first.step
        return
    secret = cred.password.get_secret_value()
    basic = _basic(cred.username, secret)
    scheme, params = parse_challenge(first.headers.get("WWW-Authenticate", ""))
    if scheme == "basic":
        answer = http.get(ping, {"Authorization": basic})
        yield answer.step or Step(Outcome.WORKS)
        return
    if scheme != "bearer" or not params.get("realm"):
        yield Step(Outcome.NOT_CHECKED, f"{ping}: the registry asks for an unknown kind of login")
        return
    realm = params["realm"]
    problem = realm_problem(urlsplit(base).netloc, realm)
    if problem is not None:
        yield Step(Outcome.NOT_CHECKED, problem)
        return
    query = {"account": cred.username, "client_id": "dispatchctl", "offline_token": "true"}
    if params.get("service"):
        query["service"] = params["service"]
    token_url = f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}"
    checked.append(realm)
    answer = http.get(token_url, {"Authorization": basic})
    if answer.step is not None:
        yield answer.step
        return
    body = answer.json()
    token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        yield Step(Outcome.REJECTED, f"{_origin(realm)}: the token service gave no token")
        return
    again = http.get(ping, {"Authorization": f"Bearer {token}"})
    yield again.step or Step(Outcome.WORKS)
