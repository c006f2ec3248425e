"""``validate --each-file``: the files of several configs, one by one, other YAML passed over
(what a pre-commit hook hands over: every staged YAML file)."""

from __future__ import annotations

from pathlib import Path

from tests.config.helpers import HEADER


def config(owner: str, token: str) -> str:
    return HEADER.replace("ci-credentials", owner) + (
        "serviceAccounts:\n  - name: team-1\n    credentials:\n      - type: github\n"
        f"        username: bot\n        token: {token}\n"
    )


def test_each_config_alone_other_yaml_passed_over(make_config, tmp_path: Path, run) -> None:
    one = make_config(config("one", "canary-each-1"), name="one.yaml")
    two = make_config(config("two", "canary-each-2"), name="two.yaml")  # another owner
    clear = make_config(config("three", "canary-each-3"), name="clear.yaml", encrypt=False)
    other = tmp_path / "workflow.yml"
    other.write_text("on: push\njobs: {}\n")

    result = run("validate", "--no-decrypt", "--each-file", str(one), str(other), str(two))
    assert result.code == 0
    out, err = result.out, result.err
    assert out.splitlines() == [
        f"{one}: structure valid, secrets not decrypted (owner one: 1 service account, "
        "1 credential)",
        f"{two}: structure valid, secrets not decrypted (owner two: 1 service account, "
        "1 credential)",
    ]
    assert err == ""

    result = run("validate", "--no-decrypt", "--each-file", str(clear), str(one))
    assert result.code == 1
    out, err = result.out, result.err
    assert out.startswith(f"{one}: structure valid")
    assert err.startswith(
        f"Error: {clear}:11:16: serviceAccounts[0].credentials[0].token: token is not "
        "encrypted in the file"
    )
    assert "canary" not in out + err

    # without --each-file the files form one config, which two owners cannot
    result = run("validate", "--no-decrypt", str(one), str(two))
    assert result.code == 1
    assert "owner differs" in result.err
