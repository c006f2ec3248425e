"""git and docker/cli are the judges of a username and a secret value: for generated values,
dispatchctl accepts exactly those that reach the server unchanged after Tekton's own
credential code (current release and v0.14) wrote them into the step's HOME.

For a git credential the judge is real git: ``git credential fill`` for a clone URL of the host
must answer the declared username and token (a line Tekton wrote that git cannot parse fails
every git command, other hosts' included). For docker it is docker/cli's own lookup of an
image of the registry. Git's answer is what it sends as Basic auth, so a username with ``:``
(where Basic auth splits) counts as broken even when git hands it back intact. One refusal is
policy, not the tools': whitespace at either end of a value (a YAML ``|`` block's line break,
almost always by mistake), which the tools would send as given.
"""

from __future__ import annotations

import functools
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatchctl.config.checks import LocatedAccount, check_accounts
from dispatchctl.config.models import Config
from dispatchctl.desired import build_desired
from tests.fixtures.oracle import OracleError, build_oracles, creds_init

# What people's tokens and usernames are made of, and what breaks files and protocols.
_ALPHABET = st.sampled_from(
    [*"abcXYZ019-_.@+=/~%!$&*()[]{}<>?,'^` ", '"', "\\", "#", ";", ":", "\n", "\t", "é"]
)
_VALUES = st.text(_ALPHABET, min_size=1, max_size=12)


@functools.cache
def oracles() -> dict[str, Path]:
    return build_oracles()


def _verdict(credential: dict[str, Any]) -> tuple[Config, list[str]]:
    config = Config.model_validate(
        {
            "apiVersion": "dispatchctl/v1",
            "kind": "ServiceAccounts",
            "metadata": {"name": "judge"},
            "namespace": "dispatch",
            "serviceAccounts": [{"name": "team-1", "credentials": [credential]}],
        }
    )
    account = config.serviceAccounts[0]
    found = check_accounts([LocatedAccount.whole(account, "dispatch", "judge.yaml", 0)])
    return config, [f"{'.'.join(map(str, f.path[-1:]))}: {f.message}" for f in found]


def _pods(config: Config, workdir: Path) -> list[Any]:
    """The step of a TaskRun of the account under each Tekton release."""
    items = [obj.manifest for obj in build_desired(config).objects]
    objects = {"apiVersion": "v1", "kind": "List", "items": items}
    pods = []
    builds = oracles()
    for name, binary in builds.items():
        try:
            pods.append(creds_init(binary, objects, workdir / name, builds["current"]))
        except OracleError:
            pods.append(None)
    return pods


def _padded(*values: str) -> bool:
    return any(value != value.strip() for value in values)


def _git_gets(pod: Any, url: str) -> tuple[str, str] | None:
    if pod is None or pod.report.error is not None:
        return None
    proc = pod.git("credential", "fill", input=f"url={url}\n\n")
    if proc.returncode != 0:
        return None
    answer = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return answer.get("username"), answer.get("password")


@settings(max_examples=120, deadline=None)
@given(username=_VALUES, token=_VALUES)
def test_a_git_credential_is_accepted_exactly_when_git_sends_it_unchanged(
    username: str, token: str
) -> None:
    config, problems = _verdict({"type": "github", "username": username, "token": token})
    with TemporaryDirectory() as tmp:
        url = "https://github.com/octo-org/app.git"
        answers = {_git_gets(pod, url) for pod in _pods(config, Path(tmp))}
    works = answers == {(username, token)} and ":" not in username
    assert (problems == []) == (works and not _padded(username, token)), (problems, answers)


@settings(max_examples=80, deadline=None)
@given(username=_VALUES, password=_VALUES)
def test_a_docker_credential_is_accepted_exactly_when_docker_sends_it_unchanged(
    username: str, password: str
) -> None:
    credential = {"type": "docker", "registry": "quay.io", "username": username}
    config, problems = _verdict({**credential, "password": password})
    with TemporaryDirectory() as tmp:
        answers = set()
        for pod in _pods(config, Path(tmp)):
            if pod is None or pod.report.error is not None:
                answers.add(None)
                continue
            try:
                entry = pod.docker_auth("quay.io/team/app")["quay.io/team/app"]
            except OracleError:  # docker/cli cannot read config.json: no registry works
                answers.add(None)
                continue
            answers.add((entry.get("username"), entry.get("password")))
    works = answers == {(username, password)} and ":" not in username
    assert (problems == []) == (works and not _padded(username, password)), (problems, answers)


def test_git_finds_no_credential_for_a_clone_url_spelled_with_the_default_port(
    tmp_path: Path,
) -> None:
    """Why a URL naming :443 is refused: git compares a credential's host and port exactly,
    so the entry Tekton writes for https://host serves https://host/... clone URLs only."""
    credential = {"type": "github", "url": "https://git.example.com", "username": "u"}
    config, problems = _verdict({**credential, "token": "t0ken"})
    pods = _pods(config, tmp_path)

    assert problems == []
    assert {_git_gets(pod, "https://git.example.com/org/app.git") for pod in pods} == {
        ("u", "t0ken")
    }
    assert {_git_gets(pod, "https://git.example.com:443/org/app.git") for pod in pods} == {None}
