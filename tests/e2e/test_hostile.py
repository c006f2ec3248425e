"""Hostile and broken input through the real CLI (issue 9): each case exits 1 with a message
naming the place and the fix, shows no traceback (``run`` checks) and writes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from dispatchctl.config.sops import resolve_binary
from dispatchctl.localcluster import Fault
from tests.e2e.conftest import (
    DOCKER_PASSWORD,
    NS,
    OWNER,
    SSH_KEY,
    Write,
    canaries,
    config_text,
    docker,
    git_ssh,
    github,
    gitlab,
    write_log,
)
from tests.fixtures.cluster import ApiServer, Kubectl
from tests.fixtures.sops import AgeKey, encrypt_file
from tests.support.cli import Run, process

# --- sops ciphertext that nothing will decrypt ----------------------------------------------


def _without_sops_block(text: str) -> str:
    """The file as a bad merge or a truncation leaves it: every line from ``sops:`` on gone."""
    return text[: text.index("\nsops:\n") + 1]


def _place(path: Path, field: str) -> str:
    """``line:column`` of the ``ENC[`` value of ``field`` in the file."""
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if f"{field}: ENC[" in text)
    return f"{line}:{lines[line - 1].index('ENC[') + 1}"


@pytest.mark.usefixtures("dispatch_ns")
def test_ciphertext_without_sops_metadata_is_refused_at_its_line(
    run: Run, write_config: Write, cluster_args: list[str], apiserver: ApiServer
) -> None:
    config = write_config({"team-1": [github(), docker()]})
    config.write_text(_without_sops_block(config.read_text()))
    token, password = _place(config, "token"), _place(config, "password")

    for args in (
        ("apply", config, *cluster_args, "--auto-approve"),
        ("plan", config, *cluster_args),
        ("validate", config),
        ("validate", "--no-decrypt", config),
        ("apply", "--allow-plaintext", config, *cluster_args, "--auto-approve"),
    ):
        result = run(*args)
        assert result.code == 1, args
        assert result.out == ""
        assert result.err.splitlines()[0] == (
            f"Error: {config}:{token}: serviceAccounts[0].credentials[0].token: the value"
            " is sops ciphertext, but the file has no sops metadata to decrypt it (restore the"
            " file's `sops:` section from git: a bad merge or a truncated file?)"
        )
        assert f"{config}:{password}: serviceAccounts[0].credentials[1].password" in result.err
    assert write_log(apiserver) == []


@pytest.mark.usefixtures("dispatch_ns")
def test_ciphertext_left_after_decryption_is_refused_at_its_line(
    run: Run,
    cluster_args: list[str],
    apiserver: ApiServer,
    sops_env: AgeKey,
    tmp_path: Path,
) -> None:
    # A ciphertext copied from another file into a field this file's rule leaves in clear
    # text: sops passes it through untouched, MAC and all.
    donor = tmp_path / "donor.yaml"
    donor.write_text(config_text({"team-1": [docker()]}))
    encrypt_file(donor, sops_env.public)
    copied = re.search(r"password: (ENC\[[^\]]+\])", donor.read_text())
    assert copied is not None
    config = tmp_path / "config.yaml"
    config.write_text(config_text({"team-1": [github(), docker(password="PLACEHOLDER")]}))
    config.write_text(config.read_text().replace("PLACEHOLDER", copied.group(1)))
    encrypt_file(config, sops_env.public, encrypted_regex="^token$")
    password = _place(config, "password")

    for args in (
        ("apply", config, *cluster_args, "--auto-approve"),
        ("validate", config),
    ):
        result = run(*args)
        assert result.code == 1, args
        assert result.err.splitlines()[0] == (
            f"Error: {config}:{password}: serviceAccounts[0].credentials[1].password:"
            " the value is still sops ciphertext after decryption (it was encrypted for another"
            " file or key; set it again with `sops edit`)"
        )
        assert DOCKER_PASSWORD not in result.out + result.err
        assert not any(c in result.out + result.err for c in canaries())
    assert write_log(apiserver) == []


# --- a server's error message that quotes what it refused ----------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.usefixtures("dispatch_ns")
def test_a_webhook_denial_quoting_secret_values_shows_reason_code_and_fields_only(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    apiserver: ApiServer,
    api: Cluster,
) -> None:
    config = write_config({"team-1": [git_ssh(), docker(imagePullSecret=True)]})
    registry = "https://index.docker.io/v1/"
    auth = _b64(f"dispatchbot:{DOCKER_PASSWORD}")
    dockerconfig = json.dumps(
        {
            "auths": {
                registry: {"username": "dispatchbot", "password": DOCKER_PASSWORD, "auth": auth}
            }
        }
    )
    denied = 'admission webhook "secrets.policy.example.com" denied the request: '
    harmless = "see https://api.github.com/policies about octocat and dispatchbot"
    ssh_secret = "team-1-git-github-com"
    apiserver.faults.add(
        Fault(
            verb="create",
            name=ssh_secret,
            status=422,
            reason="Invalid",
            # field.Invalid quotes the value Go-style: newlines escaped
            message=f'{denied}Secret "{ssh_secret}" is invalid: data[ssh-privatekey]: Invalid'
            f" value: {json.dumps(SSH_KEY)}: key type not allowed; {harmless}",
            details={"causes": [{"reason": "FieldValueInvalid", "field": "data[ssh-privatekey]"}]},
        )
    )
    apiserver.faults.add(
        Fault(
            verb="create",
            name="team-1-docker-pull",
            status=422,
            reason="Invalid",
            message=f"{denied}.dockerconfigjson {json.dumps(dockerconfig)} has auth {auth}"
            f" (password {_b64(DOCKER_PASSWORD)}, raw {DOCKER_PASSWORD}, truncated"
            f' "{DOCKER_PASSWORD[:12]}...")',
            details={
                "causes": [
                    {"field": "data[.dockerconfigjson]", "message": json.dumps(dockerconfig)}
                ]
            },
        )
    )

    result = run("apply", config, *cluster_args, "--auto-approve")
    assert result.code == 1
    shown = result.out + result.err
    for planted in [*canaries(), auth, DOCKER_PASSWORD[:12], json.dumps(SSH_KEY)[1:60]]:
        assert planted not in shown
    failed = f"create Secret/{NS}/{ssh_secret}: "
    expected = (
        f'{failed}{denied}Secret "{ssh_secret}" is invalid: data[ssh-privatekey]: Invalid value:'
        f' "<redacted>": key type not allowed; {harmless} (HTTP 422, Invalid; fields:'
        " data[ssh-privatekey])"
    )
    # the progress line and the closing summary
    assert f"! Secret {NS}/{ssh_secret}: failed: {expected}" in result.err.splitlines()
    assert f"  failed: create Secret {NS}/{ssh_secret}: {expected}" in result.err.splitlines()
    docker_line = next(line for line in result.err.splitlines() if "docker-pull: failed" in line)
    assert docker_line.endswith(
        'denied the request: .dockerconfigjson "<redacted>" has auth <redacted> (password'
        ' <redacted>, raw <redacted>, truncated "<redacted>") (HTTP 422, Invalid; fields:'
        " data[.dockerconfigjson])"
    )
    assert [s["metadata"]["name"] for s in api.list("Secret", NS)] == ["team-1-docker"]


# --- where output goes, and inputs that are no files ----------------------------------------


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_out_never_replaces_what_is_not_a_plan(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]})
    before = config.read_bytes()
    result = run("plan", config, *cluster_args, "-o", config)
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        f"Error: cannot save the plan to {config}: it exists and is not a dispatchctl plan",
        "  hint: name a new file or an earlier plan file with -o, or remove that file first",
    ]
    assert config.read_bytes() == before

    # a plan file may be replaced by a newer plan
    saved = tmp_path / "ci.plan"
    assert run("plan", config, *cluster_args, "-o", saved).code == 0
    assert run("plan", config, *cluster_args, "-o", saved).code == 0
    assert json.loads(saved.read_text())["kind"] == "dispatchctl-plan"


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_out_never_follows_a_link_nor_writes_to_a_device_or_fifo(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]})
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "plan-link"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {
        link: "it is a symbolic link (dispatchctl never writes through one)",
        dangling: "it is a symbolic link (dispatchctl never writes through one)",
        Path("/dev/stdout"): "it is a symbolic link (dispatchctl never writes through one)",
        Path("/dev/null"): "it is a character device, not a regular file",
        fifo: "it is a FIFO, not a regular file",
    }
    for target, why in cases.items():
        result = run("plan", config, *cluster_args, "-o", target)
        assert (result.code, result.out) == (1, ""), target
        assert result.err.splitlines()[0] == f"Error: cannot save the plan to {target}: {why}"
    assert victim.read_text() == "keep me\n"
    assert link.is_symlink() and dangling.is_symlink() and not (tmp_path / "nowhere").exists()
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_or_device_given_as_config_or_plan_is_refused_without_waiting(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    for args in (
        ("validate", fifo),
        ("validate", "--no-decrypt", fifo),
        ("render", fifo),
        ("plan", "--local", fifo),
        ("apply", "--local", "--auto-approve", fifo),
        ("show", fifo),
        ("force-unlock", "--local", "--yes", fifo),
    ):
        result = process(*args, cwd=tmp_path, timeout=20)
        assert result.code == 1, args
        assert "Traceback" not in result.err
        assert f"{fifo}: cannot read the file (a FIFO, not a regular file)" in result.err, args
    result = process("show", "/dev/zero", cwd=tmp_path)
    assert result.code == 1
    assert result.err.startswith(
        "Error: /dev/zero: cannot read the file (a character device, not a regular file)"
    )


def test_import_out_never_follows_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "link"
    link.symlink_to(victim)
    importing = ("import", "-n", "dispatch", "--local", "-o", link, "--force")
    result = process(*importing, cwd=tmp_path, timeout=30)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"Error: cannot write {link}: it is a symbolic link (dispatchctl never writes through one)"
    )
    assert victim.read_text() == "keep me\n"
    assert link.is_symlink()
    # a link into a folder that does not exist: once "the sops binary was not found"
    into_nowhere = tmp_path / "into-nowhere.yaml"
    into_nowhere.symlink_to(tmp_path / "missing" / "ci.yaml")
    result = process("import", "-n", "dispatch", "--local", "-o", into_nowhere, cwd=tmp_path)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"Error: cannot write {into_nowhere}: it is a symbolic link (dispatchctl never writes"
        " through one)"
    )


# --- ownership --------------------------------------------------------------------------------


@pytest.mark.usefixtures("dispatch_ns")
def test_an_object_with_only_the_owner_label_is_not_updated_without_adopt(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    apiserver: ApiServer,
    api: Cluster,
    kubectl: Kubectl,
) -> None:
    kubectl("create", "secret", "generic", "team-1-github", "-n", NS, "--from-literal=k=v")
    kubectl("label", "secret", "team-1-github", "-n", NS, f"dispatchctl.io/owner={OWNER}")
    config = write_config({"team-1": [github()]})
    apiserver.requests.clear()

    refused = run("apply", config, *cluster_args, "--auto-approve")
    assert refused.code == 1
    assert (
        f"  x Secret/{NS}/team-1-github exists but is not managed by dispatchctl; pass --adopt to"
        " take it over, or choose another secretName"
    ) in refused.out.splitlines()
    assert refused.err == "Error: the plan cannot be applied (1 problem, listed above)\n"
    assert write_log(apiserver) == []

    adopted = run("apply", config, *cluster_args, "--auto-approve", "--adopt")
    assert adopted.code == 0, adopted.err
    assert "-/+ Secret dispatch/team-1-github: replaced" in adopted.out  # Opaque -> basic-auth
    secret = api.get("Secret", NS, "team-1-github")
    assert secret is not None
    assert secret["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "dispatchctl",
        "dispatchctl.io/owner": OWNER,
    }


# --- saved plans that are not what they claim ------------------------------------------------


def _saved_plan(run: Run, write_config: Write, cluster_args: list[str], path: Path) -> dict:
    config = write_config({"team-1": [github()]})
    assert run("plan", config, *cluster_args, "-o", path).code == 0
    document: dict = json.loads(path.read_text())
    return document


def _deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.usefixtures("dispatch_ns")
def test_a_malformed_plan_file_is_refused_naming_what_is_wrong(
    run: Run, write_config: Write, cluster_args: list[str], apiserver: ApiServer, tmp_path: Path
) -> None:
    plan_file = tmp_path / "ci.plan"
    good = _saved_plan(run, write_config, cluster_args, plan_file)
    change = good["changes"][0]
    cases: list[tuple[str, object, str]] = [
        ("target", {"server": 1, "context": 2}, "target.server: expected a string, not 1"),
        ("inputs", "config.yaml", "inputs: expected a list, not 'config.yaml'"),
        ("inputs", [{"path": "c.yaml", "sha256": 7}], "inputs[0].sha256: expected a string"),
        ("inputs", [{"path": "c.yaml", "sha256": "abc"}], "inputs[0].sha256: expected 64"),
        ("changes", [{**change, "kind": 5}], "changes[0].kind: expected one of Secret,"),
        ("changes", [{**change, "seen": 5}], "changes[0].seen: expected null or an object"),
        (
            "changes",
            [{**change, "seen": {"uid": [], "resourceVersion": "1"}}],
            "changes[0].seen.uid: expected a string, not a list",
        ),
        ("changes", [{**change, "keys": [{"key": "k"}]}], "changes[0].keys[0].status: missing"),
        (
            "changes",
            [{**change, "facts": {"before": {"a": 1}, "after": None}}],
            "changes[0].facts.before.a: expected a string",
        ),
        ("changes", [{**change, "facts": {"a": "b"}}], "changes[0].facts.before: missing"),
        ("summary", {**good["summary"], "unchanged": -1}, "summary.unchanged: expected a count"),
        ("conflicts", [{"kind": "Secret"}], "conflicts[0].namespace: missing"),
        (
            "changes",
            [{**change, "fields": [{"path": "x", "before": None, "after": _deep(40)}]}],
            "nested deeper than 32 levels",
        ),
        ("changes", [{**change, "facts": "DEEP"}], "nested deeper than 32 levels"),
    ]
    for key, value, expected in cases:
        # json.dumps itself cannot write 100,000 levels
        deep = "[" * 100_000 + "]" * 100_000
        plan_file.write_text(json.dumps({**good, key: value}).replace('"DEEP"', deep))
        for args in (("show", plan_file), ("apply", plan_file, *cluster_args)):
            result = run(*args)
            assert result.code == 1, (key, value)
            first = result.err.splitlines()[0]
            assert first.startswith(f"Error: {plan_file}: the plan document is malformed: "), first
            assert expected in first, first
    plan_file.write_bytes(b"[" * 200_000)
    result = run("show", plan_file)
    assert (result.code, result.err.splitlines()[0]) == (
        1,
        f"Error: {plan_file}: the plan document is malformed: nested deeper than 32 levels",
    )
    assert write_log(apiserver) == []


@pytest.mark.usefixtures("dispatch_ns")
def test_names_in_a_plan_file_cannot_drive_the_terminal(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    plan_file = tmp_path / "ci.plan"
    good = _saved_plan(run, write_config, cluster_args, plan_file)
    hostile = "team-1\x1b]0;owned\x07\x1b[2J\u202egithub"
    change = {**good["changes"][0], "name": hostile, "namespace": "dis\x1b[31mpatch"}
    document = {**good, "owner": "ci\x1b[1m", "changes": [change]}
    document["conflicts"] = [
        {
            "kind": "Secret",
            "namespace": "ns\r",
            "name": hostile,
            "conflict": "unmanaged",
            "other_owner": None,
            "message": f"Secret/ns/{hostile} exists",
        },
    ]
    plan_file.write_text(json.dumps(document))
    for fmt in ("text", "markdown"):
        result = run("show", plan_file, f"--format={fmt}")
        shown = result.out + result.err
        assert not any(c in shown for c in "\x1b\x07\r\u202e"), (fmt, shown)
        assert "team-1\\x1b]0;owned\\x07\\x1b[2J\\u202egithub" in shown
    stale = run("apply", plan_file, *cluster_args)
    assert stale.code == 1
    assert not any(c in stale.out + stale.err for c in "\x1b\x07\r\u202e"), stale.err


@pytest.mark.usefixtures("dispatch_ns")
def test_a_saved_plan_of_a_plaintext_config_records_no_digest_of_its_secrets(
    run: Run, make_config: Callable[..., Path], cluster_args: list[str], tmp_path: Path
) -> None:
    config = make_config(config_text({"team-1": [github(token="4711")]}), encrypt=False)
    plan_file = tmp_path / "ci.plan"
    assert run("plan", "--allow-plaintext", config, *cluster_args, "-o", plan_file).code == 0
    recorded = json.loads(plan_file.read_text())["inputs"][0]["sha256"]
    text = config.read_text()
    # the attack: every 4-digit password, hashed into the file as it is on disk
    guesses = {
        hashlib.sha256(text.replace("4711", f"{n:04d}").encode()).hexdigest() for n in range(10_000)
    }
    assert recorded not in guesses

    # the digest still covers everything else: the saved plan applies, and is stale once a
    # value other than a secret changes
    applied = run("apply", "--allow-plaintext", plan_file, *cluster_args)
    assert applied.code == 0, applied.err
    assert run("plan", "--allow-plaintext", config, *cluster_args, "-o", plan_file).code == 0
    config.write_text(text.replace("octocat", "hubot"))
    stale = run("apply", "--allow-plaintext", plan_file, *cluster_args)
    assert stale.code == 1
    assert stale.err.startswith(
        f"Error: stale plan: config files changed since the plan was made: {config}"
    )


# --- other broken input: kubeconfigs, sops's own failures, prune warnings --------------------


def test_a_kubeconfig_that_is_no_kubeconfig_is_a_clear_error(
    run: Run, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config(config_text({"team-1": [github()]}), encrypt=False)
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nclusters: [\n")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    shapeless = tmp_path / "shapeless.yaml"
    shapeless.write_text("clusters: 5\ncontexts: [{name: x, context: 7}]\ncurrent-context: x\n")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    expected = {
        broken: f"Error: kubeconfig {broken}, line 3: not valid YAML (expected the node content,"
        " but found '<stream end>')",
        listed: f"Error: kubeconfig {listed} is not a kubeconfig (TypeError while reading it)",
        shapeless: f"Error: kubeconfig {shapeless} is not a kubeconfig (TypeError while reading"
        " it)",
        fifo: f"Error: kubeconfig {fifo} is a FIFO, not a regular file",
    }
    for kubeconfig, message in expected.items():
        result = run("plan", "--allow-plaintext", config, f"--kubeconfig={kubeconfig}")
        assert (result.code, result.err.splitlines()[0]) == (1, message)


def _fake_sops(tmp_path: Path, body: str) -> str:
    """A stand-in for sops (Python: a shell would keep a SIGHUP that nohup ignored)."""
    exe = tmp_path / "fake-sops"
    exe.write_text(f"#!{sys.executable}\nimport os, signal, sys\n{body}\n")
    exe.chmod(0o755)
    return str(exe)


def test_sops_killed_by_a_signal_or_printing_no_utf8_is_a_clear_error(
    run: Run, write_config: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config({"team-1": [github()]})
    for body, message in (
        (
            "signal.signal(signal.SIGHUP, signal.SIG_DFL); os.kill(os.getpid(), signal.SIGHUP)",
            f"Error: {config}: sops was killed by SIGHUP while decrypting",
        ),
        (
            "sys.stdout.buffer.write(b'\\xff\\xfe{}')",
            f"Error: {config}: sops printed output that is not UTF-8 text (byte 0)",
        ),
    ):
        monkeypatch.setenv("DISPATCHCTL_SOPS", _fake_sops(tmp_path, body))
        result = run("validate", config)
        assert (result.code, result.err.splitlines()[0]) == (1, message)


def test_a_sops_file_whose_mac_leaves_clear_text_unprotected_is_refused(
    run: Run, sops_env: AgeKey, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(config_text({"team-1": [github()]}))
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "creation_rules:\n"
        f"  - encrypted_regex: '^(token|appPassword|password|privateKey)$'\n"
        f"    mac_only_encrypted: true\n    age: {sops_env.public}\n"
    )
    argv = [resolve_binary(), "--config", str(rules), "encrypt", "--in-place", str(config)]
    env = {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"}
    subprocess.run(argv, check=True, capture_output=True, env=env)
    # what the option allows: a clear-text value changed, and sops does not notice
    config.write_text(config.read_text().replace("octocat", "mallory"))
    lines = config.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "mac_only_encrypted" in text)
    for args in (("validate", config), ("validate", "--no-decrypt", config)):
        result = run(*args)
        assert result.code == 1
        assert result.err.splitlines()[0].startswith(
            f"Error: {config}:{line}:25: sops.mac_only_encrypted: the file's MAC covers only its"
            " encrypted values, so anyone can change its clear-text fields"
        ), result.err


@pytest.mark.usefixtures("dispatch_ns")
def test_pruning_a_secret_another_account_still_lists_warns_in_the_plan(
    run: Run, write_config: Write, cluster_args: list[str], kubectl: Kubectl
) -> None:
    config = write_config({"team-1": [github(), gitlab()]})
    assert run("apply", config, *cluster_args, "--auto-approve").code == 0
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "legacy", "namespace": NS},
        "secrets": [{"name": "team-1-gitlab"}],
    }
    kubectl("apply", "-f", "-", input=json.dumps(account))
    write_config({"team-1": [github()]})

    planned = run("plan", config, *cluster_args)
    assert planned.code == 0
    assert (
        "      # no longer declared in the config; warning: ServiceAccount dispatch/legacy, not"
        " managed by this config, still lists it (older Tekton fails every pod of an account"
        " that lists a missing Secret)"
    ) in planned.out.splitlines()
