"""Which credentials the plan and ``status`` name as expiring: the window, its edges, the order."""

from __future__ import annotations

from datetime import date

import pytest

from dispatchctl.desired import build_desired
from dispatchctl.expiry import expiring, expiring_in_cluster, status_text
from dispatchctl.objects import EXPIRES_ANNOTATION
from tests.config.helpers import HEADER, config_from

TODAY = date(2026, 12, 6)


def desired_with(*dates: str) -> object:
    creds = "".join(
        f"      - {{type: github, url: 'https://g{i}.example.com', username: u, token: t,"
        f" expires: '{day}'}}\n"
        for i, day in enumerate(dates)
    )
    docker = "      - {type: docker, registry: quay.io, username: u, password: p,"
    docker += " imagePullSecret: true, expires: '2026-12-07'}\n"
    text = HEADER + "serviceAccounts:\n  - name: team-1\n    credentials:\n" + creds + docker
    return build_desired(config_from(text))


@pytest.mark.parametrize(
    ("day", "within", "listed"),
    [
        ("2026-12-20", 14, True),  # the window's last day
        ("2026-12-21", 14, False),
        ("2026-12-06", 0, True),  # today
        ("2026-11-01", 0, True),  # long expired
        ("2027-01-01", 30, True),
    ],
)
def test_the_window_includes_its_last_day_and_everything_expired(
    day: str, within: int, listed: bool
) -> None:
    found = expiring(desired_with(day), TODAY, within)  # type: ignore[arg-type]
    assert [e.secret for e in found if e.secret.startswith("team-1-github")] == (
        ["team-1-github-g0-example-com"] if listed else []
    )


def test_soonest_first_and_a_docker_credential_with_its_pull_secret_once() -> None:
    found = expiring(desired_with("2026-12-10", "2026-12-01"), TODAY, 14)  # type: ignore[arg-type]
    assert [(e.secret, e.days) for e in found] == [
        ("team-1-github-g1-example-com", -5),
        ("team-1-docker-quay-io", 1),
        ("team-1-github-g0-example-com", 4),
    ]
    assert found[0].message == (
        "The credential of Secret dispatch/team-1-github-g1-example-com expired on 2026-12-01,"
        " 5 days ago: pipelines using it fail until it is renewed (sops edit, then apply)"
    )
    assert "expires on 2026-12-07, tomorrow" in found[1].message


def test_every_secret_of_a_credential_carries_its_date() -> None:
    desired = desired_with("2026-12-10")
    dated = {
        o.ref.name: o.manifest["metadata"]["annotations"].get(EXPIRES_ANNOTATION)
        for o in desired.objects  # type: ignore[attr-defined]
        if o.ref.kind == "Secret"
    }
    assert dated == {
        "team-1-github-g0-example-com": "2026-12-10",
        "team-1-docker-quay-io": "2026-12-07",
        "team-1-docker-quay-io-pull": "2026-12-07",
    }


def secret(name: str, day: str | None, owner: str = "ci") -> dict[str, object]:
    annotations = {} if day is None else {EXPIRES_ANNOTATION: day}
    meta = {"name": name, "namespace": "dispatch", "annotations": annotations}
    return {"metadata": {**meta, "labels": {"dispatchctl.io/owner": owner}}}


def test_status_lists_what_the_cluster_holds_soonest_first() -> None:
    secrets = [
        secret("a", "2026-12-30"),
        secret("b", "2026-12-05", owner="platform"),
        secret("c", None),
        secret("d", "not-a-date"),
        secret("e", "2027-06-01"),
    ]
    found = expiring_in_cluster(secrets, TODAY, 30)
    assert status_text(found, 30) == (
        "NAMESPACE  SECRET  OWNER     EXPIRES     WHEN\n"
        "dispatch   b       platform  2026-12-05  expired 1 day ago\n"
        "dispatch   a       ci        2026-12-30  in 24 days\n"
        "\n"
        "2 credentials expired or expiring within 30 days.\n"
    )
    assert [e.entry.secret for e in expiring_in_cluster(secrets, TODAY, None)] == ["b", "a", "e"]
    assert status_text([], 14) == "No credential applied by dispatchctl expires within 14 days.\n"
