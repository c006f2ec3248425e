"""validate, render and schema as a user runs them, on the shipped example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dispatchctl.config.load import load_config
from dispatchctl.config.models import json_schema_text
from dispatchctl.desired import build_desired

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "config.yaml"
PLAIN = ROOT / "examples" / "config.plain.yaml"
DEMO_KEY = ROOT / "examples" / "demo-age-key.txt"
SCHEMA = ROOT / "schemas" / "dispatchctl.schema.json"


@pytest.fixture
def demo_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(DEMO_KEY))


def demo_secrets() -> list[str]:
    """The secret values of the example, read from its plaintext twin."""
    data = YAML(typ="safe").load(PLAIN.read_text())
    fields = ("token", "appPassword", "password", "privateKey")
    return [
        line
        for account in data["serviceAccounts"]
        for cred in account["credentials"]
        for name in fields
        if name in cred
        for line in cred[name].splitlines()
        if len(line) > 12
    ]


def test_validate_example_with_demo_key(demo_key, run) -> None:
    result = run("validate", str(EXAMPLE))
    assert result.code == 0
    out, err = result.out, result.err
    assert out == f"{EXAMPLE}: valid (owner ci-credentials: 3 service accounts, 9 credentials)\n"
    assert err == ""


def test_validate_example_without_key_explains(run) -> None:
    result = run("validate", str(EXAMPLE))
    assert result.code == 1
    out, err = result.out, result.err
    recipient = next(
        line.split(": ")[1] for line in DEMO_KEY.read_text().splitlines() if "public key" in line
    )
    assert out == ""
    assert f"no usable key to decrypt it; the file's recipients: age {recipient}" in err
    assert "hint: supply a key through sops's environment: SOPS_AGE_KEY_FILE=" in err
    assert "Traceback" not in err


def test_validate_no_decrypt_needs_no_key(run) -> None:
    result = run("validate", "--no-decrypt", str(EXAMPLE))
    assert result.code == 0
    out = result.out
    assert out == (
        f"{EXAMPLE}: structure valid, secrets not decrypted"
        " (owner ci-credentials: 3 service accounts, 9 credentials)\n"
    )


def test_plaintext_twin_needs_the_explicit_opt_out(run) -> None:
    result = run("validate", str(PLAIN))
    assert result.code == 1
    err = result.err
    assert err.count("is not encrypted in the file") == 9
    for secret in demo_secrets():
        assert secret not in err
    result = run("validate", "--allow-plaintext", str(PLAIN))
    assert result.code == 0


def test_encrypted_example_and_its_twin_declare_the_same_objects(demo_key) -> None:
    encrypted = build_desired(load_config([EXAMPLE]).config)
    plain = build_desired(load_config([PLAIN], allow_plaintext=True).config)
    # only the encrypted file has ciphertexts for apply to record
    records = [
        o.manifest["metadata"]["annotations"].pop("dispatchctl.io/ciphertext")
        for o in encrypted.objects
        if o.ref.kind == "Secret"
    ]
    assert all(record.startswith('{"') and "sha256:" in record for record in records)
    assert [o.manifest for o in encrypted.objects] == [o.manifest for o in plain.objects]
    assert len(encrypted.objects) == 13


def test_render_redacts_every_value(demo_key, run) -> None:
    result = run("render", str(EXAMPLE))
    assert result.code == 0
    out, err = result.out, result.err
    assert err == ""
    docs = list(YAML(typ="safe").load_all(out))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Secret", "team-1-github"),
        ("Secret", "team-1-git-github-com"),
        ("Secret", "team-1-docker"),
        ("Secret", "team-1-docker-pull"),
        ("ServiceAccount", "team-1"),
        ("Secret", "team-2-gitlab-gitlab-example-com"),
        ("Secret", "team-2-bitbucket-cloud"),
        ("Secret", "team-2-docker-us-gcr-io"),
        ("ServiceAccount", "team-2"),
        ("Secret", "release-bitbucket-server-bitbucket-example-com"),
        ("Secret", "release-basic-auth"),
        ("Secret", "release-git-bitbucket-example-com-7999"),
        ("ServiceAccount", "release"),
    ]
    redacted = {tuple(d["data"]) for d in docs if d["kind"] == "Secret"}
    assert redacted == {("password",), ("ssh-privatekey",), (".dockerconfigjson",)}
    for doc in docs:
        if doc["kind"] == "Secret":
            assert set(doc["data"].values()) == {"<redacted>"}
    for secret in demo_secrets():
        assert secret not in out


def test_render_shows_what_is_not_secret_in_clear(demo_key, run) -> None:
    result = run("render", str(EXAMPLE))
    assert result.code == 0
    docs = {d["metadata"]["name"]: d for d in YAML(typ="safe").load_all(result.out)}
    assert docs["team-1-github"]["stringData"] == {
        "username": "octocat",
        "scm.provider.name": "github",
        "scm.provider.url": "https://api.github.com",
        "scm.provider.skiptlsverify": "false",
    }
    assert docs["team-1-git-github-com"]["stringData"] == {
        "known_hosts": "github.com ssh-ed25519"
        " AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    }
    assert docs["team-1-git-github-com"]["metadata"]["annotations"]["tekton.dev/git-0"] == (
        "github.com"
    )
    assert docs["team-2-docker-us-gcr-io"]["stringData"] == {"username": "_json_key"}
    assert "stringData" not in docs["team-1-docker-pull"]


def test_render_reveal_prints_values_when_asked(demo_key, run) -> None:
    result = run("render", "--reveal", str(EXAMPLE))
    assert result.code == 0
    out = result.out
    docs = list(YAML(typ="safe").load_all(out))
    github = docs[0]
    assert github["data"]["password"] != "<redacted>"
    expected = build_desired(load_config([EXAMPLE]).config).objects[0].manifest
    assert github == json.loads(json.dumps(expected))


def test_usage_errors_exit_1(run, tmp_path) -> None:
    result = run("validate")
    assert result.code == 1
    result = run("validate", str(tmp_path / "missing.yaml"))
    assert result.code == 1
    err = result.err
    assert "does not exist" in err


def test_schema_command_prints_the_committed_schema(run) -> None:
    result = run("schema")
    assert result.code == 0
    out = result.out
    assert out == json_schema_text()
    assert SCHEMA.read_text() == out, (
        "regenerate: dispatchctl schema > schemas/dispatchctl.schema.json"
    )
    schema = json.loads(out)
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["DockerCredential"]["required"] == ["type", "username", "password"]


def test_examples_point_editors_at_the_schema() -> None:
    for path in (EXAMPLE, PLAIN):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/dispatchctl.schema.json"
        assert (path.parent / "../schemas/dispatchctl.schema.json").resolve() == SCHEMA
