"""Each case of shared/research/tekton-credentials.md "What breaks pipelines", as a user meets it
at the command line: refused by ``validate`` (exit 1, file:line, the fix, no value), or
written by ``render`` in the form Tekton, git and docker use. The account-level case 1 (a Secret
the account already lists) needs a cluster: tests/e2e/test_duplicates.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.config.helpers import HEADER, KNOWN_HOSTS, block, ssh_key, write
from tests.support.cli import Run


def config(credentials: str) -> str:
    return (
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + block(credentials, 6)
        + "\n"
    )


def validate(path: Path, run: Run) -> tuple[int, str, str]:
    result = run("validate", "--allow-plaintext", str(path))
    code = result.code
    out, err = result.out, result.err
    return code, out, err


def rendered(path: Path, run: Run) -> list[dict]:
    result = run("render", "--allow-plaintext", str(path))
    assert result.code == 0
    return list(YAML(typ="safe").load_all(result.out))


def test_1_two_credentials_for_one_url_on_one_account(tmp_path: Path, run) -> None:
    path = write(
        tmp_path,
        config(
            "- {type: github, username: a, token: t1}\n"
            "- {type: github, url: 'https://GitHub.com/', username: b, token: t2,"
            " secretName: other}\n"
        ),
    )
    code, out, err = validate(path, run)
    assert (code, out) == (1, "")
    assert f"{path}:10:9: serviceAccounts[0].credentials[1]: same git URL https://github.com" in err


def test_2_git_over_ssh_without_known_hosts(tmp_path: Path, run) -> None:
    key = ssh_key("ed25519")
    path = write(
        tmp_path,
        config(f"- type: git\n  host: git.example.com:7999\n  privateKey: |\n{block(key, 4)}\n"),
    )
    code, out, err = validate(path, run)
    assert (code, out) == (1, "")
    assert err == (
        f"Error: {path}:9:9: serviceAccounts[0].credentials[0]: missing required field knownHosts"
        " (without it git refuses to connect; get the host's line with: ssh-keyscan -p 7999"
        " git.example.com (and compare its fingerprint with a trusted one))\n"
    )
    assert key.splitlines()[1] not in err


@pytest.mark.parametrize("registry", ["https://docker.io", "registry-1.docker.io", "docker.io"])
def test_3_docker_hub_spelled_another_way_is_written_as_docker_looks_it_up(
    tmp_path: Path, run, registry: str
) -> None:
    path = write(
        tmp_path,
        config(
            f"- {{type: docker, registry: '{registry}', username: bot, password: pw,"
            " imagePullSecret: true}\n"
        ),
    )
    secret, pull, _ = rendered(path, run)
    assert secret["metadata"]["name"] == "team-1-docker"
    assert secret["metadata"]["annotations"]["tekton.dev/docker-0"] == (
        "https://index.docker.io/v1/"
    )
    assert pull["metadata"]["name"] == "team-1-docker-pull"


def test_4_a_token_ending_in_a_line_break(tmp_path: Path, run) -> None:
    path = write(
        tmp_path,
        config("- type: github\n  username: octocat\n  token: |\n    canary-ghp-9f8e7d\n"),
    )
    code, out, err = validate(path, run)
    assert (code, out) == (1, "")
    assert err == (
        f"Error: {path}:11:16: serviceAccounts[0].credentials[0].token: token begins or ends"
        " with whitespace (a line break or space), which git and docker would send as part of"
        " it (remove it; a YAML | block ends with a line break: write the value as a plain"
        " scalar or use |- (sops edit FILE))\n"
    )


def test_5_an_scm_base_url_with_a_path_keeps_it_out_of_the_annotation(tmp_path: Path, run) -> None:
    path = write(
        tmp_path,
        config(
            "- {type: gitlab, url: 'https://gitlab.example.com/gitlab/', username: u, token: t}\n"
        ),
    )
    (secret, _) = rendered(path, run)
    assert secret["metadata"]["annotations"]["tekton.dev/git-0"] == "https://gitlab.example.com"
    assert secret["stringData"]["scm.provider.url"] == "https://gitlab.example.com/gitlab"


def test_6_a_host_in_capitals_is_written_in_lower_case(tmp_path: Path, run) -> None:
    known = KNOWN_HOSTS.replace("github.com", "git.example.com")
    path = write(
        tmp_path,
        config(
            "- {type: github, url: 'https://GitHub.com', username: u, token: t}\n"
            "- type: git\n  host: Git.Example.com\n"
            f"  privateKey: |\n{block(ssh_key('ed25519'), 4)}\n  knownHosts: {known}\n"
        ),
    )
    github, ssh, _ = rendered(path, run)
    assert (github["metadata"]["name"], github["metadata"]["annotations"]["tekton.dev/git-0"]) == (
        "team-1-github",
        "https://github.com",
    )
    assert ssh["metadata"]["annotations"]["tekton.dev/git-0"] == "git.example.com"
