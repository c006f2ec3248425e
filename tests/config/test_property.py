"""Mutated configs never make the loader raise a foreign error or print a planted secret."""

from __future__ import annotations

import copy
import io
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dispatchctl.config.load import load_config
from dispatchctl.desired import build_desired
from dispatchctl.errors import DispatchctlError
from dispatchctl.facts import secret_facts
from tests.config.helpers import KNOWN_HOSTS, ssh_key
from tests.fixtures.sops import encrypt_file

# Canaries are no valid name, host or URL, like most real tokens.
CANARIES = [f"Canary+Secret_{i}/Value=={i:04d}" for i in range(5)]
KEY = ssh_key("ed25519")
KEY_LINES = [line for line in KEY.splitlines() if "PRIVATE KEY" not in line]
SECRET_KEYS = ("token", "appPassword", "password", "privateKey")

BASE: dict[str, Any] = {
    "apiVersion": "dispatchctl/v1",
    "kind": "ServiceAccounts",
    "metadata": {"name": "ci-credentials"},
    "namespace": "dispatch",
    "serviceAccounts": [
        {
            "name": "team-1",
            "labels": {"team": "one"},
            "credentials": [
                {"type": "github", "username": "octocat", "token": CANARIES[0]},
                {"type": "git", "host": "github.com", "privateKey": KEY, "knownHosts": KNOWN_HOSTS},
                {
                    "type": "docker",
                    "username": "bot",
                    "password": CANARIES[1],
                    "imagePullSecret": True,
                },
            ],
        },
        {
            "name": "team-2",
            "namespace": "other",
            "credentials": [
                {
                    "type": "gitlab",
                    "url": "https://gitlab.example.com",
                    "username": "u",
                    "token": CANARIES[2],
                },
                {"type": "bitbucket-cloud", "username": "u", "appPassword": CANARIES[3]},
                {
                    "type": "bitbucket-server",
                    "url": "https://bb.example.com",
                    "username": "u",
                    "token": CANARIES[4],
                },
            ],
        },
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(
        [
            "",
            "github",
            "docker",
            "git",
            "https://x.example.com",
            "http://h",
            "a" * 300,
            "Team_1",
            "x:99999",
        ]
    ),
    st.text(max_size=12),
)
junk_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
new_keys = st.one_of(
    st.sampled_from(
        [
            "tokn",
            "apppassword",
            "secretName",
            "namespace",
            "labels",
            "type",
            "url",
            "registry",
            "credentials",
            "sops",
            "<<",
            "extra",
        ]
    ),
    st.text(max_size=8),
)


def _containers(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if isinstance(node, dict | list) else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _containers(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _containers(v, (*path, i))
    return out


def _at(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """Structural edits that keep each planted secret under a secret key (or drop it)."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        target = _at(data, draw(st.sampled_from(_containers(data))))
        op = draw(st.sampled_from(["delete", "replace", "rename", "add", "duplicate"]))
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target, key=str)))
            if op == "delete":
                del target[key]
            elif op == "replace" and key not in SECRET_KEYS:
                target[key] = draw(junk_values)
            elif op == "rename" and key not in SECRET_KEYS:
                target[draw(new_keys)] = target.pop(key)
            elif op == "rename":
                target[draw(st.sampled_from([*SECRET_KEYS, "tokn", "pass word"]))] = target.pop(key)
            elif op == "add":
                target.setdefault(draw(new_keys), draw(junk_values))
        elif isinstance(target, list) and target:
            index = draw(st.integers(0, len(target) - 1))
            if op == "delete":
                del target[index]
            elif op == "duplicate":
                target.append(copy.deepcopy(target[index]))
            elif op == "replace":
                target[index] = draw(junk_values)
    return data


def dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


@st.composite
def line_edits(draw: st.DrawFn, text: str) -> str:
    """Line-level edits (delete, duplicate, swap, re-indent): what a bad merge does to a file."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "junk"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
        else:
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        [
                            "- [",
                            "a: b: c",
                            "\t- x",
                            "key: *nope",
                            "? x",
                            "'",
                            "---",
                            "bell: \x07",
                            "x: !!int y",
                        ]
                    )
                ),
            )
    return "\n".join(lines) + "\n"


def assert_never_leaks(paths: list[Path], **kwargs: Any) -> None:
    try:
        loaded = load_config(paths, **kwargs)
    except DispatchctlError as err:
        shown = "\n".join([str(err), *err.lines(), repr(err.hint)])
        for secret in CANARIES + KEY_LINES:
            assert secret not in shown
        return
    state = build_desired(loaded.config)
    shown = repr(state.objects) + repr([secret_facts(o.manifest) for o in state.objects])
    for secret in CANARIES + KEY_LINES:
        assert secret not in shown


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), allow_plaintext=st.booleans())
def test_mutated_plain_configs(scratch: Path, data: st.DataObject, allow_plaintext: bool) -> None:
    text = data.draw(line_edits(dump(data.draw(mutated()))))
    path = scratch / "config.yaml"
    path.write_text(text)
    assert_never_leaks([path], allow_plaintext=allow_plaintext)


@pytest.fixture(scope="module")
def encrypted_text(scratch: Path, age_key) -> str:
    path = scratch / "encrypted-base.yaml"
    path.write_text(dump(BASE))
    encrypt_file(path, age_key.public)
    return path.read_text()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_encrypted_configs(
    scratch: Path, encrypted_text: str, age_key, data: st.DataObject
) -> None:
    path = scratch / "encrypted.yaml"
    path.write_text(data.draw(line_edits(encrypted_text)))
    os.environ["SOPS_AGE_KEY_FILE"] = str(age_key.key_file)
    try:
        assert_never_leaks([path])
    finally:
        del os.environ["SOPS_AGE_KEY_FILE"]
