"""Each class of config error, reported as FILE:LINE:COL: path: message (hint)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
from pathlib import Path

import pytest
from pydantic import Strict

from dispatchctl.config.load import load_config
from dispatchctl.config.models import CREDENTIAL_TYPES, Config, Metadata, ServiceAccount
from dispatchctl.errors import ConfigError
from tests.config.helpers import (
    GITHUB_HOST_KEY,
    HEADER,
    KNOWN_HOSTS,
    PASSPHRASE_OPENSSH_KEY,
    block,
    ssh_key,
    write,
)


def problems(path: Path, **kwargs) -> list[str]:
    kwargs.setdefault("allow_plaintext", True)
    with pytest.raises(ConfigError) as caught:
        load_config([path], **kwargs)
    return [str(p) for p in caught.value.problems]


def account(credentials: str, extra: str = "") -> str:
    return (
        HEADER
        + "serviceAccounts:\n  - name: team-1\n"
        + extra
        + "    credentials:\n"
        + block(credentials, 6)
        + "\n"
    )


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, account("- type: bitbucket-cloud\n  username: u\n  apppassword: x\n"))
    assert problems(path) == [
        f"{path}:9:9: serviceAccounts[0].credentials[0]: missing required field appPassword",
        f"{path}:11:9: serviceAccounts[0].credentials[0].apppassword: unknown field apppassword"
        " (did you mean appPassword?)",
    ]


def test_unknown_top_level_key_and_wrong_literal(tmp_path: Path) -> None:
    text = HEADER.replace("dispatchctl/v1", "dispatchctl/v2") + "serviceAcounts: []\n"
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:1:13: apiVersion: Input should be 'dispatchctl/v1'",
        f"{path}:6:1: serviceAcounts: unknown field serviceAcounts (did you mean serviceAccounts?)",
    ]


def test_wrong_types_and_missing_fields(tmp_path: Path) -> None:
    text = """\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata: {}
serviceAccounts:
  - name: [a, b]
    credentials:
      - type: docker
        username: u
        password: p
        imagePullSecret: maybe
"""
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:1:1: missing required field namespace",
        f"{path}:3:11: metadata: missing required field name",
        f"{path}:5:11: serviceAccounts[0].name: Input should be a valid string",
        f"{path}:10:26: serviceAccounts[0].credentials[0].imagePullSecret: imagePullSecret"
        " must be true or false, not a string (use true or false, unquoted; yes, no, on and off"
        " are strings in YAML 1.2)",
    ]


STRING = "a string (use true or false, unquoted; yes, no, on and off are strings in YAML 1.2)"


@pytest.mark.parametrize(
    ("written", "refused"),
    [
        ('"no"', STRING),
        ("'off'", STRING),
        ('"true"', STRING),
        ("yes", STRING),
        ("on", STRING),
        ("!!bool yes", STRING),
        ("0", "a number (use true or false)"),
        ("1", "a number (use true or false)"),
        ("1.0", "a number (use true or false)"),
        ("", "empty (use true or false, or leave the key out for false)"),
        ("[true]", "a list (use true or false)"),
    ],
)
def test_only_true_and_false_are_booleans(tmp_path: Path, written: str, refused: str) -> None:
    """`imagePullSecret: "no"` read as false would plan the pull Secret's delete."""
    creds = (
        f"- type: docker\n  username: u\n  password: p\n  imagePullSecret: {written}\n"
        f"- type: gitlab\n  username: u\n  token: t\n  insecureSkipTLSVerify: {written}\n"
    )
    path = write(tmp_path, account(creds))
    value = 26 if written else 25  # an empty value starts right after the colon
    assert problems(path) == [
        f"{path}:12:{value}: serviceAccounts[0].credentials[0].imagePullSecret: imagePullSecret"
        f" must be true or false, not {refused}",
        f"{path}:16:{value + 6}: serviceAccounts[0].credentials[1].insecureSkipTLSVerify:"
        f" insecureSkipTLSVerify must be true or false, not {refused}",
    ]


def test_every_boolean_or_number_field_is_strict() -> None:
    """A field added later gets the same rule: lax, `"off"` or 0 would pass as false."""
    models = [Config, ServiceAccount, Metadata, *CREDENTIAL_TYPES.values()]
    fields = [(m.__name__, n, i) for m in models for n, i in m.model_fields.items()]
    scalars = [(m, n, i) for m, n, i in fields if i.annotation in (bool, int, float)]
    assert {(m, n) for m, n, _ in scalars} >= {("DockerCredential", "imagePullSecret")}
    assert [(m, n) for m, n, i in scalars if Strict(strict=True) not in i.metadata] == []


def test_yaml_booleans_in_any_spelling_are_booleans(tmp_path: Path) -> None:
    creds = (
        "- {type: docker, username: u, password: p, imagePullSecret: TRUE}\n"
        "- {type: docker, registry: ghcr.io, username: u, password: p, imagePullSecret: False}\n"
        "- {type: github, username: u, token: t, insecureSkipTLSVerify: !!bool true}\n"
    )
    loaded = load_config([write(tmp_path, account(creds))], allow_plaintext=True)
    first, second, third = loaded.config.serviceAccounts[0].credentials
    assert (first.imagePullSecret, second.imagePullSecret) == (True, False)
    assert third.insecureSkipTLSVerify is True


def test_unknown_and_missing_credential_type(tmp_path: Path) -> None:
    path = write(tmp_path, account("- type: githib\n  username: u\n- username: u\n"))
    assert problems(path) == [
        f"{path}:9:15: serviceAccounts[0].credentials[0].type: unknown credential type: expected"
        " one of github, gitlab, bitbucket-cloud, bitbucket-server, git, docker"
        " (did you mean github?)",
        f"{path}:11:9: serviceAccounts[0].credentials[1]: missing type: expected one of github,"
        " gitlab, bitbucket-cloud, bitbucket-server, git, docker",
    ]


def test_duplicate_keys_all_reported(tmp_path: Path) -> None:
    text = HEADER + "namespace: again\nserviceAccounts:\n  - name: a\n    name: b\n"
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:6:1: namespace: duplicate key 'namespace' (first at line 5) (remove one of them)",
        f"{path}:9:5: serviceAccounts[0].name: duplicate key 'name' (first at line 8)"
        " (remove one of them)",
    ]


def test_yaml_syntax_error_never_quotes_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "serviceAccounts: [\n  {name: a, token: s3cr3t-canary\n")
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}:8:1: invalid YAML: ")
    assert "s3cr3t-canary" not in found[0]


def test_root_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- a\n- b\n")
    assert problems(path) == [
        f"{path}:1:1: the file must hold a mapping (apiVersion, kind, metadata, ...)"
    ]


def test_missing_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_names_must_be_dns_1123(tmp_path: Path) -> None:
    text = """\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: CI_Credentials
namespace: Dispatch
serviceAccounts:
  - name: Team_1
    namespace: ok
    labels: {dispatchctl.io/owner: me, "bad key!": x}
    credentials:
      - type: github
        username: u
        token: t
        secretName: x..y
"""
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:4:9: metadata.name: not a DNS-1123 label (lower case a-z,"
        " 0-9 and '-') (it is used as a label value)",
        f"{path}:5:12: namespace: not a DNS-1123 label (lower case a-z, 0-9 and '-')",
        f"{path}:7:11: serviceAccounts[0].name: not a DNS-1123 subdomain"
        " (lower case a-z, 0-9, '-' and '.')",
        f"{path}:9:14: serviceAccounts[0].labels.dispatchctl.io/owner:"
        " label dispatchctl.io/owner is set by dispatchctl itself",
        f"{path}:9:40: serviceAccounts[0].labels.bad key!: not a valid label key",
        f"{path}:14:21: serviceAccounts[0].credentials[0].secretName: not a DNS-1123"
        " subdomain (lower case a-z, 0-9, '-' and '.')",
    ]


def test_long_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + f"serviceAccounts:\n  - name: {'a' * 254}\n")
    assert problems(path) == [
        f"{path}:7:11: serviceAccounts[0].name: name is 254 characters long (at most 253)"
    ]


def test_urls_need_https_unless_insecure_is_explicit(tmp_path: Path) -> None:
    creds = """\
- {type: gitlab, url: "http://gitlab.local", username: u, token: t}
- {type: gitlab, url: "http://gitlab.ok", username: u, token: t, insecureSkipTLSVerify: true}
- {type: bitbucket-server, url: "bitbucket.example.com", username: u, token: t}
- {type: github, url: "https://user:pw@github.example.com", username: u, token: t}
- {type: docker, registry: "http://registry.local", username: u, password: p}
- {type: docker, registry: "https://reg.example.com:99999", username: u, password: p}
"""
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:9:29: serviceAccounts[0].credentials[0].url: http URLs are refused (credentials"
        " would travel in clear text)"
        " (use https, or set insecureSkipTLSVerify: true to allow http)",
        f"{path}:11:39: serviceAccounts[0].credentials[2].url: must be an https URL with a host"
        " (e.g. https://git.example.com)",
        f"{path}:12:29: serviceAccounts[0].credentials[3].url: the URL must not carry a user or"
        " password (put them in username/token)",
        f"{path}:13:34: serviceAccounts[0].credentials[4].registry: http registries are refused"
        " (credentials would travel in clear text)"
        " (use https, or the registry's host without a scheme)",
        f"{path}:14:34: serviceAccounts[0].credentials[5].registry: not a registry host"
        " (a bad port?) (e.g. ghcr.io, registry.example.com:5000 or https://quay.io)",
    ]


def test_registries_as_docker_login_takes_them(tmp_path: Path) -> None:
    good = """\
- {type: docker, registry: ghcr.io, username: u, password: p}
- {type: docker, registry: "registry.example.com:5000", username: u, password: p}
- {type: docker, registry: "https://quay.io/v2/", username: u, password: p}
- {type: docker, registry: docker.io, username: u, password: p, secretName: hub}
"""
    loaded = load_config([write(tmp_path, account(good))], allow_plaintext=True)
    assert len(loaded.config.serviceAccounts[0].credentials) == 4
    bad = """\
- {type: docker, registry: "ftp://registry.local", username: u, password: p}
- {type: docker, registry: "ghcr.io ", username: u, password: p}
- {type: docker, registry: "user:pw@ghcr.io", username: u, password: p}
- {type: docker, registry: "ghcr.io/?x=1", username: u, password: p}
- {type: docker, registry: "-bad-.example.com", username: u, password: p}
"""
    path = write(tmp_path, account(bad), "bad.yaml")
    example = " (e.g. ghcr.io, registry.example.com:5000 or https://quay.io)"
    assert problems(path) == [
        f"{path}:9:34: serviceAccounts[0].credentials[0].registry: the registry must be a host"
        f" or an https URL{example}",
        f"{path}:10:34: serviceAccounts[0].credentials[1].registry: the registry must be a host"
        f" name without whitespace{example}",
        f"{path}:11:34: serviceAccounts[0].credentials[2].registry: the registry must not carry"
        " a user or password (put them in username/password)",
        f"{path}:12:34: serviceAccounts[0].credentials[3].registry: the registry must not have"
        f" a query or fragment{example}",
        f"{path}:13:34: serviceAccounts[0].credentials[4].registry: not a registry host{example}",
    ]


def test_docker_hub_aliases_are_one_registry(tmp_path: Path) -> None:
    creds = """\
- {type: docker, username: u, password: p}
- {type: docker, registry: "registry-1.docker.io", username: u, password: p, secretName: b}
- {type: docker, registry: ghcr.io, username: u, password: p}
- {type: docker, registry: "https://GHCR.io/", username: u, password: p, secretName: d}
"""
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:10:9: serviceAccounts[0].credentials[1]: same registry URL"
        " https://index.docker.io/v1/ as credentials[0] of this account; Tekton refuses two"
        f" basic-auth Secrets for one URL (first at {path}:9) (keep one credential per URL)",
        f"{path}:12:9: serviceAccounts[0].credentials[3]: same registry URL https://ghcr.io"
        " as credentials[2] of this account; Tekton refuses two basic-auth Secrets for one URL"
        f" (first at {path}:11) (keep one credential per URL)",
    ]


def test_a_default_port_is_refused_where_lookups_compare_host_and_port(tmp_path: Path) -> None:
    """git credential fill for https://host:443/repo finds no entry for https://host (and
    the other way round); docker clients find none for images named host:443/..."""
    creds = """- {type: github, url: "https://github.example.com:443", username: u, token: t}
- {type: gitlab, url: "http://gitlab.local:80/", username: u, token: t, insecureSkipTLSVerify: true}
- {type: docker, registry: "quay.io:443", username: u, password: p}
- {type: gitlab, url: "https://gitlab.example.com:8443", username: u, token: t}
"""
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:9:29: serviceAccounts[0].credentials[0].url: the URL names https's default"
        " port :443: git looks a credential up by the clone URL's exact host and port, and"
        " clone URLs leave it out (write https://github.example.com (and clone URLs without"
        " :443))",
        f"{path}:10:29: serviceAccounts[0].credentials[1].url: the URL names http's default"
        " port :80: git looks a credential up by the clone URL's exact host and port, and"
        " clone URLs leave it out (write http://gitlab.local (and clone URLs without :80))",
        f"{path}:11:34: serviceAccounts[0].credentials[2].registry: the registry names the"
        " default port :443: docker, kaniko and skopeo find no credential for images named"
        " with it, nor this one for images named without (write quay.io, and name images"
        " quay.io/... (without :443))",
    ]


def test_scm_urls_compare_by_scheme_host_and_port(tmp_path: Path) -> None:
    creds = """\
- {type: github, username: u, token: t}
- {type: github, url: "HTTPS://GitHub.com/", username: u, token: t, secretName: b}
- {type: gitlab, url: "https://git.example.com/gitlab", username: u, token: t}
- {type: bitbucket-server, url: "https://git.example.com/bitbucket", username: u, token: t}
"""
    path = write(tmp_path, account(creds))
    found = problems(path)
    assert [p.split(": ", 2)[1:] for p in found] == [
        [
            "serviceAccounts[0].credentials[1]",
            "same git URL https://github.com as credentials[0] of this account; Tekton refuses"
            f" two basic-auth Secrets for one URL (first at {path}:9)"
            " (keep one credential per URL)",
        ],
        [
            "serviceAccounts[0].credentials[3]",
            "same git URL https://git.example.com as credentials[2] of this account; Tekton"
            f" refuses two basic-auth Secrets for one URL (first at {path}:11) (keep one"
            " credential per URL)",
        ],
    ]


def test_git_host_shape(tmp_path: Path) -> None:
    key = ssh_key("ed25519")
    creds = (
        f"- type: git\n  host: https://github.com\n  privateKey: |\n{block(key, 4)}\n"
        f"  knownHosts: {KNOWN_HOSTS}\n"
        f"- type: git\n  host: git.example.com:0\n  privateKey: |\n{block(key, 4)}\n"
        f"  knownHosts: {KNOWN_HOSTS}\n"
    )
    path = write(tmp_path, account(creds))
    found = problems(path)
    assert found[0] == (
        f"{path}:10:15: serviceAccounts[0].credentials[0].host: host must be host or host:port,"
        " without scheme, user or path (e.g. github.com)"
    )
    assert found[1].endswith(
        "serviceAccounts[0].credentials[1].host: the port is not a number between 1 and 65535"
    )
    assert len(found) == 2


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            PASSPHRASE_OPENSSH_KEY,
            "the private key is protected by a passphrase, which no pipeline can type"
            " (remove it: ssh-keygen -p -N '' -f KEYFILE)",
        ),
        (
            ssh_key("rsa", passphrase=b"hunter2"),
            "the private key is protected by a passphrase, which no pipeline can type"
            " (remove it: ssh-keygen -p -N '' -f KEYFILE)",
        ),
        (
            ssh_key("rsa", bits=1024),
            "RSA key of 1024 bits is too weak (at least 2048)"
            " (generate a new one: ssh-keygen -t ed25519)",
        ),
        (
            ssh_key("secp256k1"),
            "ECDSA key on curve secp256k1: OpenSSH takes nistp256, nistp384 and nistp521 only"
            " (generate a new one: ssh-keygen -t ed25519)",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----",
            "not a valid OpenSSH or PEM private key"
            " (paste the whole key file, from -----BEGIN to -----END)",
        ),
    ],
    ids=["passphrase-openssh", "passphrase-pem", "rsa-1024", "ecdsa-secp256k1", "garbage"],
)
def test_ssh_keys_that_no_pipeline_can_use(tmp_path: Path, key: str, message: str) -> None:
    creds = (
        f"- type: git\n  host: github.com\n  privateKey: |\n{block(key, 4)}\n"
        f"  knownHosts: {KNOWN_HOSTS}\n"
    )
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:11:21: serviceAccounts[0].credentials[0].privateKey: {message}"
    ]


@pytest.mark.parametrize("key_format", ["RFC4716", "PEM", "PKCS8"])
def test_dsa_keys_are_refused_without_a_deprecation_warning(
    tmp_path: Path, key_format: str
) -> None:
    """ssh-keygen writes the key: OpenSSH's own format, the traditional PEM and PKCS#8. The
    suite runs with warnings as errors, so cryptography's DSA deprecation would fail this."""
    key_file = tmp_path / "id_dsa"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-m", key_format, "-f", str(key_file)],
        check=True,
    )
    creds = (
        f"- type: git\n  host: github.com\n  privateKey: |\n{block(key_file.read_text(), 4)}\n"
        f"  knownHosts: {KNOWN_HOSTS}\n"
    )
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:11:21: serviceAccounts[0].credentials[0].privateKey: unsupported key type DSA"
        " (ed25519, ECDSA or RSA >= 2048 required) (generate a new one: ssh-keygen -t ed25519)"
    ]


def test_rsa_2048_key_is_accepted(tmp_path: Path) -> None:
    creds = (
        f"- type: git\n  host: github.com\n  privateKey: |\n{block(ssh_key('rsa'), 4)}\n"
        f"  knownHosts: {KNOWN_HOSTS}\n"
    )
    loaded = load_config([write(tmp_path, account(creds))], allow_plaintext=True)
    assert loaded.config.serviceAccounts[0].credentials[0].type == "git"


def test_known_hosts_lines_must_parse(tmp_path: Path) -> None:
    key = ssh_key("ed25519")
    creds = (
        f"- type: git\n  host: github.com\n  privateKey: |\n{block(key, 4)}\n  knownHosts: |\n"
        "    # a comment is fine\n"
        f"    {KNOWN_HOSTS}\n"
        f"    github.com ssh-rsa {GITHUB_HOST_KEY}\n"
        "    github.com ssh-ed25519 !!!notbase64\n"
        "    github.com\n"
    )
    path = write(tmp_path, account(creds))
    prefix = f"{path}:19:21: serviceAccounts[0].credentials[0].knownHosts: "
    assert problems(path) == [
        prefix + "line 3: known_hosts line: key data is not a ssh-rsa key",
        prefix + "line 4: known_hosts line: the ssh-ed25519 key is not base64",
        prefix + "line 5: known_hosts line needs: hosts, key type, base64 key",
    ]


def test_tekton_refuses_two_basic_auth_secrets_for_one_url(tmp_path: Path) -> None:
    creds = """\
- {type: github, username: a, token: t}
- {type: github, url: "https://GitHub.com/", username: b, token: t, secretName: second}
- {type: docker, username: a, password: p}
- {type: docker, registry: "https://index.docker.io/v1/", username: b, password: p, secretName: d2}
"""
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:10:9: serviceAccounts[0].credentials[1]: same git URL https://github.com as"
        " credentials[0] of this account; Tekton refuses two basic-auth Secrets for one URL"
        f" (first at {path}:9) (keep one credential per URL)",
        f"{path}:12:9: serviceAccounts[0].credentials[3]: same registry URL"
        " https://index.docker.io/v1/ as credentials[2] of this account; Tekton refuses two"
        f" basic-auth Secrets for one URL (first at {path}:11) (keep one credential per URL)",
    ]


def test_two_credentials_with_one_secret_name(tmp_path: Path) -> None:
    text = (
        HEADER
        + """\
serviceAccounts:
  - name: a
    credentials:
      - {type: docker, username: u, password: p, imagePullSecret: true}
  - name: b
    credentials:
      - {type: github, username: u, token: t, secretName: a-docker-pull}
  - name: a
"""
    )
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:12:9: serviceAccounts[1].credentials[0]: Secret dispatch/a-docker-pull would be"
        f" written twice (first at {path}:9) (give one of them another secretName)",
        f"{path}:13:11: serviceAccounts[2].name: service account dispatch/a is declared twice"
        f" (first at {path}:7) (merge the two entries into one)",
    ]


def test_same_name_in_other_namespace_is_fine(tmp_path: Path) -> None:
    text = HEADER + "serviceAccounts:\n  - name: a\n  - name: a\n    namespace: other\n"
    loaded = load_config([write(tmp_path, text)])
    assert [a.namespace for a in loaded.config.serviceAccounts] == [None, "other"]


def test_cli_prints_every_problem_and_exits_1(tmp_path: Path, run) -> None:
    path = write(tmp_path, account("- type: github\n  username: u\n  tokn: x\n- type: nope\n"))
    result = run("validate", str(path))
    assert result.code == 1
    out, err = result.out, result.err
    assert out == ""
    assert err.splitlines() == [
        f"Error: {path}:9:9: serviceAccounts[0].credentials[0]: missing required field token",
        f"  {path}:11:9: serviceAccounts[0].credentials[0].tokn: unknown field tokn"
        " (did you mean token?)",
        f"  {path}:12:15: serviceAccounts[0].credentials[1].type: unknown credential type:"
        " expected one of github, gitlab, bitbucket-cloud, bitbucket-server, git, docker",
    ]
    assert "Traceback" not in err


def test_encrypted_file_with_a_string_for_a_boolean_exits_1(make_config, sops_env, run) -> None:
    """Checked on the file on disk and on what sops decrypts: one problem, at the file's line."""
    path = make_config(account('- {type: docker, username: u, password: p, imagePullSecret: "no"}'))
    lines = path.read_text().splitlines()  # as sops re-wrote it, in block style
    line = next(n for n, text in enumerate(lines, 1) if "imagePullSecret:" in text)
    column = lines[line - 1].index('"no"') + 1
    result = run("validate", str(path))
    assert result.code == 1
    out, err = result.out, result.err
    assert out == ""
    assert err.splitlines() == [
        f"Error: {path}:{line}:{column}: serviceAccounts[0].credentials[0].imagePullSecret:"
        f" imagePullSecret must be true or false, not {STRING}"
    ]


def test_plaintext_guard_reports_with_the_schema_problems(tmp_path: Path) -> None:
    """One run names every problem: a clear-text token does not hide a misspelt field, and a
    token that is a mapping is a type error, not "not encrypted"."""
    creds = (
        "- type: github\n  username: u\n  token: {a: b}\n- type: gitlab\n  usernam: x\n  token: t\n"
    )
    path = write(tmp_path, account(creds))
    assert problems(path, allow_plaintext=False) == [
        f"{path}:11:16: serviceAccounts[0].credentials[0].token: Input should be a valid string",
        f"{path}:12:9: serviceAccounts[0].credentials[1]: missing required field username",
        f"{path}:13:9: serviceAccounts[0].credentials[1].usernam: unknown field usernam"
        " (did you mean username?)",
        f"{path}:14:16: serviceAccounts[0].credentials[1].token: token is not encrypted in the file"
        f" (encrypt it: sops encrypt --in-place {path})",
    ]


def git(host: str, known_hosts: str | None) -> str:
    """A git credential with a good key; ``known_hosts`` as a literal block, or none."""
    text = f"- type: git\n  host: '{host}'\n  privateKey: |\n{block(ssh_key('ed25519'), 4)}\n"
    if known_hosts is not None:
        text += f"  knownHosts: |\n{block(known_hosts, 4)}\n"
    return text


@pytest.mark.parametrize(
    ("host", "command"),
    [
        ("github.com", "ssh-keyscan github.com"),
        ("git.example.com:7999", "ssh-keyscan -p 7999 git.example.com"),
    ],
)
def test_git_without_known_hosts_says_how_to_get_them(
    tmp_path: Path, host: str, command: str
) -> None:
    path = write(tmp_path, account(git(host, None)))
    assert problems(path) == [
        f"{path}:9:9: serviceAccounts[0].credentials[0]: missing required field knownHosts"
        f" (without it git refuses to connect; get the host's line with: {command}"
        " (and compare its fingerprint with a trusted one))"
    ]


def test_known_hosts_must_name_the_host_as_ssh_looks_it_up(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        account(
            git("git.example.com:7999", f"gitlab.example.com ssh-ed25519 {GITHUB_HOST_KEY}")
            + git("github.com", "")
        ),
    )
    found = problems(path)
    assert [p.split(": ", 1)[1] for p in found] == [
        "serviceAccounts[0].credentials[0].knownHosts: no known_hosts line is for"
        " [git.example.com]:7999 or git.example.com, the names ssh looks the host up by; git"
        " would refuse to connect (Host key verification failed) (get the host's line with:"
        " ssh-keyscan -p 7999 git.example.com (and compare its fingerprint with a trusted one))",
        "serviceAccounts[0].credentials[1].knownHosts: knownHosts is empty: without the host's"
        " key git refuses to connect (Host key verification failed) (get the host's line with:"
        " ssh-keyscan github.com (and compare its fingerprint with a trusted one))",
    ]


ED25519 = f"ssh-ed25519 {GITHUB_HOST_KEY}"


def hashed(name: str, salt: bytes = b"0123456789abcdefghij") -> str:
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.mark.parametrize(
    ("host", "line"),
    [
        ("GitHub.com", f"github.com,140.82.121.4 ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com:7999", f"[git.example.com]:7999 ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com:7999", f"git.example.com ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com:22", f"git.example.com ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com", f"*.example.com ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com", f"@cert-authority *.example.com ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com", f"{hashed('git.example.com')} ssh-ed25519 {GITHUB_HOST_KEY}"),
        ("git.example.com:7999", f"{hashed('[git.example.com]:7999')} {ED25519}"),
    ],
    ids=["list", "port", "port-host-alone", "port-22", "wildcard", "cert-authority", "hashed",
         "hashed-port"],
)  # fmt: skip
def test_known_hosts_lines_that_name_the_host(tmp_path: Path, host: str, line: str) -> None:
    loaded = load_config([write(tmp_path, account(git(host, line)))], allow_plaintext=True)
    assert loaded.config.serviceAccounts[0].credentials[0].type == "git"


@pytest.mark.parametrize(
    "line",
    [
        f"!git.example.com,*.example.com ssh-ed25519 {GITHUB_HOST_KEY}",
        f"@revoked git.example.com ssh-ed25519 {GITHUB_HOST_KEY}",
        f"{hashed('other.example.com')} ssh-ed25519 {GITHUB_HOST_KEY}",
        f"git.example.com:22 ssh-ed25519 {GITHUB_HOST_KEY}",
        f"[git.example.com] ssh-ed25519 {GITHUB_HOST_KEY}",
    ],
    ids=["negated", "revoked", "hashed-other", "port-written-as-host", "brackets"],
)
def test_known_hosts_lines_that_do_not_name_the_host(tmp_path: Path, line: str) -> None:
    found = problems(write(tmp_path, account(git("git.example.com", line))))
    assert len(found) == 1
    assert "no known_hosts line is for git.example.com" in found[0]


@pytest.mark.parametrize(
    ("field", "yaml"),
    [
        ("token", "token: |\n    canary-token-5e2a\n"),
        ("token", "token: ' canary-token-5e2a'\n"),
        ("username", 'username: "octocat\\n"\n'),
    ],
    ids=["literal-block", "leading-space", "username"],
)
def test_values_with_surrounding_whitespace_are_refused(
    tmp_path: Path, field: str, yaml: str
) -> None:
    fields = {"username": "username: octocat\n", "token": "token: canary-token-5e2a\n"}
    fields[field] = yaml
    path = write(tmp_path, account("- type: github\n  " + "  ".join(fields.values())))
    found = problems(path)
    assert len(found) == 1
    assert (
        f"serviceAccounts[0].credentials[0].{field}: {field} begins or ends with whitespace"
        in (found[0])
    )
    assert "write the value as a plain scalar or use |-" in found[0]
    assert "canary-token" not in found[0]


def test_an_empty_secret_value_is_refused(tmp_path: Path) -> None:
    creds = (
        "- {type: docker, username: bot, password: ''}\n"
        "- {type: bitbucket-cloud, username: u, appPassword: ''}\n"
    )
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:9:49: serviceAccounts[0].credentials[0].password: password must not be empty",
        f"{path}:10:59: serviceAccounts[0].credentials[1].appPassword: appPassword must not be"
        " empty",
    ]


def test_semantic_checks_run_on_every_part_that_parsed(tmp_path: Path) -> None:
    """A typo in one place does not hide a passphrase-protected key, a bad known_hosts line
    or a token with a line break elsewhere, even in the same credential or account."""
    creds = (
        git("github.com", None).replace(
            block(ssh_key("ed25519"), 4), block(PASSPHRASE_OPENSSH_KEY, 4)
        )
        + git("gitlab.com", "gitlab.com ssh-ed25519 !!!")
        + "- {type: github, username: u, tokn: x}\n"
        + '- {type: gitlab, username: u, token: "t\\n"}\n'
    )
    path = write(tmp_path, account(creds, extra="    labls: {}\n"))
    assert [p.split(": ", 2)[1:] for p in problems(path)] == [
        ["serviceAccounts[0].labls", "unknown field labls (did you mean labels?)"],
        [
            "serviceAccounts[0].credentials[0]",
            "missing required field knownHosts (without it git refuses to connect; get the"
            " host's line with: ssh-keyscan github.com (and compare its fingerprint with a"
            " trusted one))",
        ],
        [
            "serviceAccounts[0].credentials[0].privateKey",
            "the private key is protected by a passphrase, which no pipeline can type"
            " (remove it: ssh-keygen -p -N '' -f KEYFILE)",
        ],
        [
            "serviceAccounts[0].credentials[1].knownHosts",
            "line 1: known_hosts line: the ssh-ed25519 key is not base64",
        ],
        ["serviceAccounts[0].credentials[2]", "missing required field token"],
        [
            "serviceAccounts[0].credentials[2].tokn",
            "unknown field tokn (did you mean token?)",
        ],
        [
            "serviceAccounts[0].credentials[3].token",
            "token begins or ends with whitespace (a line break or space), which git and docker"
            " would send as part of it (remove it; a YAML | block ends with a line break: write"
            " the value as a plain scalar or use |- (sops edit FILE))",
        ],
    ]


def test_a_broken_credential_does_not_hide_a_clash_after_it(tmp_path: Path) -> None:
    creds = (
        "- {type: github, username: u, tokn: x}\n"
        "- {type: github, username: u, token: t, secretName: same}\n"
        "- {type: gitlab, username: u, token: t, secretName: same}\n"
    )
    path = write(tmp_path, account(creds))
    assert [p.split(": ", 2)[1:] for p in problems(path)] == [
        ["serviceAccounts[0].credentials[0]", "missing required field token"],
        ["serviceAccounts[0].credentials[0].tokn", "unknown field tokn (did you mean token?)"],
        [
            "serviceAccounts[0].credentials[2]",
            f"Secret dispatch/same would be written twice (first at {path}:10) (give one of"
            " them another secretName)",
        ],
    ]


def test_expires_is_a_written_day_of_the_calendar(tmp_path: Path) -> None:
    """A number would be read as seconds since 1970 by a looser parser; 2027-02-30 is no day."""
    creds = """\
- {type: github, username: u, token: t, expires: 20270131}
- {type: gitlab, username: u, token: t, expires: 2027-02-30}
- {type: docker, username: u, password: p, expires: "31.01.2027"}
- {type: github, url: "https://g.example.com", username: u, token: t, expires: 2027-01-31}
"""
    path = write(tmp_path, account(creds))
    assert problems(path) == [
        f"{path}:9:56: serviceAccounts[0].credentials[0].expires: expires is a date written"
        " YYYY-MM-DD, e.g. 2027-01-31",
        f"{path}:10:56: serviceAccounts[0].credentials[1].expires: expires is not a day of the"
        " calendar (YYYY-MM-DD)",
        f"{path}:11:59: serviceAccounts[0].credentials[2].expires: expires is a date written"
        " YYYY-MM-DD, e.g. 2027-01-31",
    ]


@pytest.mark.parametrize("version", ["'1'", "1.11", "latest", "'1.x'"])
def test_tekton_version_is_a_release_in_quotes(tmp_path: Path, version: str) -> None:
    path = write(tmp_path, HEADER + f"tektonVersion: {version}\n")
    assert problems(path) == [
        f"{path}:6:16: tektonVersion: tektonVersion is a Tekton release, MAJOR.MINOR in quotes:"
        ' e.g. "1.11" (unquoted, 1.10 would be the number 1.1)'
    ]
