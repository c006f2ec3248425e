"""Several files given together form one config."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatchctl.config.load import load_config
from dispatchctl.desired import build_desired
from dispatchctl.errors import ConfigError
from tests.config.helpers import write

TEAM_1 = """\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: ci-credentials
namespace: dispatch
serviceAccounts:
  - name: team-1
    credentials:
      - {type: github, username: u, token: t}
"""

TEAM_2 = """\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: ci-credentials
namespace: builds
serviceAccounts:
  - name: team-2
    credentials:
      - {type: gitlab, username: u, token: t}
  - name: team-3
    namespace: dispatch
"""


def test_files_merge_in_order_each_with_its_default_namespace(tmp_path: Path) -> None:
    first = write(tmp_path, TEAM_1, "a.yaml")
    second = write(tmp_path, TEAM_2, "b.yaml")
    loaded = load_config([first, second], allow_plaintext=True)
    assert [i.path for i in loaded.inputs] == [str(first), str(second)]
    config = loaded.config
    assert config.namespace == "dispatch"
    assert [(a.name, config.namespace_of(a)) for a in config.serviceAccounts] == [
        ("team-1", "dispatch"),
        ("team-2", "builds"),
        ("team-3", "dispatch"),
    ]
    state = build_desired(config)
    assert [(str(o.ref), o.source) for o in state.objects] == [
        ("Secret/dispatch/team-1-github", f"{first}:9"),
        ("ServiceAccount/dispatch/team-1", f"{first}:7"),
        ("Secret/builds/team-2-gitlab", f"{second}:9"),
        ("ServiceAccount/builds/team-2", f"{second}:7"),
        ("ServiceAccount/dispatch/team-3", f"{second}:10"),
    ]


def test_owner_must_be_the_same(tmp_path: Path) -> None:
    first = write(tmp_path, TEAM_1, "a.yaml")
    second = write(tmp_path, TEAM_2.replace("ci-credentials", "other"), "b.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config([first, second], allow_plaintext=True)
    assert [str(p) for p in caught.value.problems] == [
        f"{second}:4:9: metadata.name: owner differs from {first}:4 (files given together form"
        " one config and share one metadata.name)"
    ]


def test_duplicates_across_files_name_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, TEAM_1, "a.yaml")
    clash = TEAM_1.replace("namespace: dispatch", "namespace: dispatch\n# same account again")
    second = write(
        tmp_path,
        clash.replace("{type: github", "{secretName: team-1-github, type: gitlab"),
        "b.yaml",
    )
    with pytest.raises(ConfigError) as caught:
        load_config([first, second], allow_plaintext=True)
    assert [str(p) for p in caught.value.problems] == [
        f"{second}:8:11: serviceAccounts[0].name: service account dispatch/team-1 is declared"
        f" twice (first at {first}:7) (merge the two entries into one)",
        f"{second}:10:9: serviceAccounts[0].credentials[0]: Secret dispatch/team-1-github would be"
        f" written twice (first at {first}:9) (give one of them another secretName)",
    ]


def test_problems_of_all_files_at_once(tmp_path: Path) -> None:
    first = write(tmp_path, TEAM_1.replace("token: t", "tokn: t"), "a.yaml")
    second = write(tmp_path, TEAM_2.replace("name: team-2", "name: Team-2"), "b.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config([first, second], allow_plaintext=True)
    assert [(p.file, p.line, p.path) for p in caught.value.problems] == [
        (str(first), 9, "serviceAccounts[0].credentials[0]"),
        (str(first), 9, "serviceAccounts[0].credentials[0].tokn"),
        (str(second), 7, "serviceAccounts[0].name"),
    ]
