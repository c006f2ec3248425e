"""``dispatchctl init`` as a new user runs it: a fresh HOME, the real sops, the printed next
commands run in bash as printed, and the bundled local cluster."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pyrage import x25519
from ruamel.yaml import YAML

from dispatchctl import agekey
from dispatchctl.config.checks import PLACEHOLDERS
from dispatchctl.config.sops import resolve_binary
from tests.config.helpers import HEADER
from tests.docs.readme import section

BIN = Path(sys.executable).parent
TOKEN = "canary-init-token-3b9f1d"


@pytest.fixture
def user(tmp_path: Path) -> dict[str, str]:
    """A new user's environment: own HOME, no sops variables, the venv's commands on PATH
    (the README's set-up activates it), and an EDITOR that fills in a real account and token."""
    home = tmp_path / "home"
    home.mkdir()
    editor = tmp_path / "editor"
    editor.write_text(
        "#!/bin/sh\n"
        f'sed -i -e "s/{PLACEHOLDERS["token"]}/{TOKEN}/"'
        f' -e "s/{PLACEHOLDERS["username"]}/bot/" "$1"\n'
    )
    editor.chmod(0o755)
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR")}
    return {
        **keep,
        "HOME": str(home),
        "PATH": f"{BIN}:{Path(resolve_binary()).parent}:/usr/bin:/bin",
        "EDITOR": str(editor),
    }


def dispatchctl(
    env: dict[str, str], cwd: Path, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BIN / "dispatchctl"), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def next_commands(out: str) -> list[str]:
    """The command lines init prints under "Next", comments dropped."""
    block = out.split("\nNext", 1)[1].split("\n", 1)[1]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def git_repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


def test_init_then_the_printed_commands_work_as_printed(user, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    done = dispatchctl(user, repo, "init", "ci")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    key_file = Path(user["HOME"]) / ".config" / "sops" / "age" / "keys.txt"
    public = agekey.read_identity(key_file.read_text())
    assert public is not None
    assert done.stdout.splitlines()[:4] == [
        f"Created an age key in {key_file} (mode 0600), public key {public.recipient}.",
        "  Back it up: without it, nothing encrypted to it can be decrypted. In CI, give it",
        "  to dispatchctl as the secret variable SOPS_AGE_KEY (its AGE-SECRET-KEY-1... line).",
        "Wrote .sops.yaml: sops encrypts the secret fields of ci/*.yaml to that key",
    ]
    assert not (repo / "ci" / ".sops.yaml").exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    config = repo / "ci" / "credentials.yaml"
    assert config.read_text().startswith(
        "# yaml-language-server: $schema=dispatchctl.schema.json\n"
    )
    assert (repo / "ci" / "dispatchctl.schema.json").read_text().startswith("{\n")

    commands = next_commands(done.stdout)
    assert commands == [
        "sops edit ci/credentials.yaml",
        "dispatchctl validate ci/credentials.yaml",
        "dispatchctl plan --local --create-namespace ci/credentials.yaml",
    ]
    for command in commands:
        proc = subprocess.run(
            ["bash", "-c", command], cwd=repo, env=user, capture_output=True, text=True
        )
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        assert TOKEN not in proc.stdout + proc.stderr
    assert TOKEN not in config.read_text()  # sops edit encrypted the new token on save
    applied = dispatchctl(
        user, repo, "apply", "--local", "--create-namespace", "--auto-approve", config
    )
    assert applied.returncode == 0, applied.stderr
    assert "+ Secret dispatch/pipeline-github: created" in applied.stdout


def test_a_new_config_encrypted_by_the_sops_yaml_rule_validates_and_plans(
    user, tmp_path: Path
) -> None:
    """The rule init writes is the one sops applies to new files in that folder."""
    repo = tmp_path / "repo"
    repo.mkdir()
    assert dispatchctl(user, repo, "init").returncode == 0
    team = repo / "team.yaml"
    team.write_text(
        HEADER.replace("ci-credentials", "repo")
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n      - type: gitlab\n"
        + f"        username: bot\n        token: {TOKEN}\n"
    )
    encrypted = subprocess.run(
        ["sops", "encrypt", "--in-place", "team.yaml"],
        cwd=repo,
        env={**user, "SOPS_DISABLE_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
    )
    assert encrypted.returncode == 0, encrypted.stderr
    text = team.read_text()
    assert TOKEN not in text
    assert "username: bot" in text  # only the secret fields are encrypted
    assert dispatchctl(user, repo, "validate", "team.yaml").returncode == 0
    plan = dispatchctl(user, repo, "plan", "--local", "--create-namespace", "team.yaml")
    assert plan.returncode == 0, plan.stderr
    assert "+ Secret dispatch/team-1-gitlab" in plan.stdout
    assert TOKEN not in plan.stdout + plan.stderr


def test_init_in_an_existing_repository_overwrites_nothing(user, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".sops.yaml").write_text("creation_rules: []\n")
    (repo / "credentials.yaml").write_text("mine\n")
    before = sorted(p.name for p in repo.iterdir())
    refused = dispatchctl(user, repo, "init")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        "Error: credentials.yaml already exists; init writes nothing over a file\n"
        "  hint: run init in another folder (dispatchctl init DIR), or move those files away\n"
    )
    assert sorted(p.name for p in repo.iterdir()) == before
    assert (repo / ".sops.yaml").read_text() == "creation_rules: []\n"
    assert not (Path(user["HOME"]) / ".config").exists()  # no key made either


def test_an_existing_key_is_used_and_never_rewritten(user, tmp_path: Path) -> None:
    identity = x25519.Identity.generate()
    key_file = tmp_path / "keys" / "mine.txt"
    key_file.parent.mkdir()
    key_file.write_text(f"# my key\n{identity}\n")
    key_file.chmod(0o600)
    before = key_file.read_bytes()
    done = dispatchctl(user, tmp_path, "init", "ci", "--key-file", key_file)
    assert done.returncode == 0, done.stderr
    assert key_file.read_bytes() == before
    recipient = str(identity.to_public())
    assert done.stdout.startswith(f"Using the age key in {key_file}, public key {recipient}.\n")
    assert f"    age:\n      - {recipient}\n" in (tmp_path / ".sops.yaml").read_text()
    # not sops's default place: the commands need the variable first
    assert f"\n  export SOPS_AGE_KEY_FILE={key_file}\n" in done.stdout
    assert str(identity) not in done.stdout + done.stderr

    garbage = tmp_path / "keys" / "garbage.txt"
    garbage.write_text("not a key\n")
    garbage.chmod(0o600)
    refused = dispatchctl(user, tmp_path, "init", "other", "--key-file", garbage)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: {garbage} exists but holds no age key")
    assert garbage.read_text() == "not a key\n"
    assert not (tmp_path / "other").exists()


def test_bad_names_are_refused_before_anything_is_written(user, tmp_path: Path) -> None:
    refused = dispatchctl(user, tmp_path, "init", "ci", "--owner", "Team_1")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: owner 'Team_1': not a DNS-1123 label")
    assert "hint: pass --owner NAME" in refused.stderr
    assert not (tmp_path / "ci").exists()
    assert not (Path(user["HOME"]) / ".config").exists()


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"HOME": "/home/u"}, "linux", "/home/u/.config/sops/age/keys.txt"),
        ({"HOME": "/home/u", "XDG_CONFIG_HOME": "/x"}, "linux", "/x/sops/age/keys.txt"),
        ({"HOME": "/home/u", "XDG_CONFIG_HOME": ""}, "linux", "/home/u/.config/sops/age/keys.txt"),
        (
            {"HOME": "/Users/u"},
            "darwin",
            "/Users/u/Library/Application Support/sops/age/keys.txt",
        ),
        ({"HOME": "/Users/u", "XDG_CONFIG_HOME": "/x"}, "darwin", "/x/sops/age/keys.txt"),
    ],
)
def test_the_default_key_file_is_where_sops_looks(environ, platform, expected) -> None:
    """sops's age/keysource.go: os.UserConfigDir(), and XDG_CONFIG_HOME also on macOS."""
    assert agekey.default_key_file(environ, platform) == Path(expected)


def test_a_relative_xdg_config_home_is_refused() -> None:
    with pytest.raises(agekey.AgeKeyError, match="relative path"):
        agekey.default_key_file({"HOME": "/h", "XDG_CONFIG_HOME": "cfg"}, "linux")


def test_keys_are_what_age_reads_and_writes() -> None:
    """The Bech32 encoding against pyrage (age's Rust implementation), both ways."""
    for _ in range(20):
        theirs = x25519.Identity.generate()
        read = agekey.read_identity(f"# public key: x\n\n{theirs}\n")
        assert read == agekey.Identity(str(theirs.to_public()), str(theirs))
        ours = agekey.generate()
        assert str(x25519.Identity.from_str(ours.secret).to_public()) == ours.recipient
    assert agekey.read_identity("# only a comment\n") is None
    good = str(x25519.Identity.generate())
    broken = good[:-1] + ("Q" if good[-1] != "Q" else "P")  # a checksum character changed
    with pytest.raises(agekey.AgeKeyError) as caught:
        agekey.read_identity(f"# c\n{broken}\n")
    assert caught.value.message == "line 2 is a malformed age identity"


def sops_cli(
    env: dict[str, str], cwd: Path, command: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """A sops command line as a user types it, in bash, with the real sops."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env={**env, "SOPS_DISABLE_VERSION_CHECK": "1"},
        input=stdin,
        capture_output=True,
        text=True,
    )


def teammate(user: dict[str, str], tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A teammate's public key, and their environment: their own HOME and key file."""
    identity = x25519.Identity.generate()
    home = tmp_path / "teammate"
    home.mkdir()
    key_file = home / "key.txt"
    key_file.write_text(f"{identity}\n")
    return str(identity.to_public()), {
        **user,
        "HOME": str(home),
        "SOPS_AGE_KEY_FILE": str(key_file),
    }


def plain_config(token: str) -> str:
    return (
        HEADER.replace("ci-credentials", "staging")
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n      - type: gitlab\n"
        + f"        username: bot\n        token: {token}\n"
    )


def test_the_readme_and_hint_sops_commands_work_from_the_repository_root(
    user, tmp_path: Path
) -> None:
    """The README's "add a teammate to the age: list, then sops updatekeys" and dispatchctl's
    own `sops encrypt --in-place` hint, run from the root with the real sops."""
    repo = git_repo(tmp_path / "repo")
    assert dispatchctl(user, repo, "init", "ci").returncode == 0
    rules = YAML(typ="safe").load((repo / ".sops.yaml").read_text())["creation_rules"]
    (mine,) = rules[0]["age"]  # a list, as the README says
    mate, as_mate = teammate(user, tmp_path)
    sops_yaml = repo / ".sops.yaml"
    sops_yaml.write_text(
        sops_yaml.read_text().replace(f"- {mine}\n", f"- {mine}\n      - {mate}\n")
    )

    (updatekeys,) = re.findall(r"`(sops updatekeys [^`]+)`", section("Your own project"))
    updated = sops_cli(user, repo, updatekeys, stdin="y\n")  # sops asks "Is this okay?"
    assert updated.returncode == 0, updated.stderr
    decrypted = sops_cli(as_mate, repo, "sops decrypt ci/credentials.yaml")
    assert decrypted.returncode == 0, decrypted.stderr
    assert "kind: ServiceAccounts" in decrypted.stdout

    (repo / "ci" / "staging.yaml").write_text(plain_config(TOKEN))
    refused = dispatchctl(user, repo, "validate", "ci/staging.yaml")
    assert refused.returncode == 1
    (hint,) = re.findall(r"encrypt it: (sops encrypt --in-place [^)]+)\)", refused.stderr)
    assert hint == "sops encrypt --in-place ci/staging.yaml"
    encrypted = sops_cli(user, repo, hint)
    assert encrypted.returncode == 0, encrypted.stderr
    text = (repo / "ci" / "staging.yaml").read_text()
    assert TOKEN not in text
    assert "username: bot" in text  # only the secret fields
    assert dispatchctl(user, repo, "validate", "ci/staging.yaml").returncode == 0
    assert sops_cli(as_mate, repo, "sops decrypt ci/staging.yaml").returncode == 0


RULE = """\
  # dispatchctl configs in ci/ (rule added by dispatchctl init): only the secret
  # fields are encrypted, so names, hosts and usernames stay readable in review. Add a
  # teammate's or CI's age recipient to the age: list, then `sops updatekeys FILE`.
  - path_regex: ^ci/.*\\.yaml$
    encrypted_regex: ^(token|appPassword|password|privateKey)$
    age:
      - {recipient}
"""


def test_an_existing_sops_yaml_keeps_its_rules_and_comments(user, tmp_path: Path) -> None:
    """The rule goes before the catch-all that matched ci/ until now, and the output says so;
    every other byte stays, and sops applies both rules as before to their files."""
    repo = git_repo(tmp_path / "repo")
    team, as_team = teammate(user, tmp_path)
    head = (
        "# team settings: keep this comment\n"
        "creation_rules:\n"
        "  # production: KMS\n"
        "  - path_regex: ^prod/.*\\.yaml$\n"
        "    kms: arn:aws:kms:eu-west-1:111122223333:key/example\n"
        "\n"
    )
    tail = "  # everything else: the team key\n  - path_regex: \\.yaml$   # catch-all\n"
    tail += f"    age: {team}\n"
    sops_yaml = repo / ".sops.yaml"
    sops_yaml.write_text(head + tail)
    sops_yaml.chmod(0o644)
    done = dispatchctl(user, repo, "init", "ci")
    assert done.returncode == 0, done.stderr
    recipient = done.stdout.split("public key ", 1)[1].split(".\n", 1)[0]
    assert sops_yaml.read_text() == head + RULE.format(recipient=recipient) + tail
    assert stat.S_IMODE(sops_yaml.stat().st_mode) == 0o644
    assert (
        "Added rule 2 to .sops.yaml: sops encrypts the secret fields of ci/*.yaml to that key\n"
        in done.stdout
    )
    assert (
        "Note: ci/*.yaml matched the rule with path_regex \\.yaml$ (now rule 3) until now; the"
        " new rule 2 comes before it, so sops encrypts new files there to your key alone: add"
        " that rule's keys to the new rule if they need to decrypt them\n" in done.stdout
    )

    (repo / "ci" / "staging.yaml").write_text(plain_config(TOKEN))
    (repo / "other.yaml").write_text(plain_config(TOKEN))
    for name in ("ci/staging.yaml", "other.yaml"):
        assert sops_cli(user, repo, f"sops encrypt --in-place {name}").returncode == 0
    for name, reader, other in (("ci/staging.yaml", user, as_team), ("other.yaml", as_team, user)):
        assert dispatchctl(reader, repo, "validate", name).returncode == 0
        assert dispatchctl(other, repo, "validate", name).returncode == 1


def test_a_rule_that_already_does_it_is_kept(user, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    assert dispatchctl(user, repo, "init", "--owner", "top").returncode == 0
    before = (repo / ".sops.yaml").read_text()
    assert "  - path_regex: \\.yaml$\n" in before
    done = dispatchctl(user, repo, "init", "ci")
    assert done.returncode == 0, done.stderr
    assert (
        "Kept .sops.yaml: its rule 1 already encrypts the secret fields of ci/*.yaml to that"
        " key\n" in done.stdout
    )
    assert "Note:" not in done.stdout
    assert (repo / ".sops.yaml").read_text() == before


def test_init_in_a_subfolder_extends_the_sops_yaml_at_the_top(user, tmp_path: Path) -> None:
    """From a subfolder of the work tree, the rule still goes to the top, relative to it."""
    repo = git_repo(tmp_path / "repo")
    (repo / "deploy").mkdir()
    done = dispatchctl(user, repo / "deploy", "init", "ci")
    assert done.returncode == 0, done.stderr
    assert (
        f"Wrote {repo / '.sops.yaml'}: sops encrypts the secret fields of deploy/ci/*.yaml"
        in done.stdout
    )
    assert "  - path_regex: ^deploy/ci/.*\\.yaml$\n" in (repo / ".sops.yaml").read_text()
    (repo / "deploy" / "ci" / "staging.yaml").write_text(plain_config(TOKEN))
    for cwd, name in ((repo, "deploy/ci/staging.yaml"), (repo / "deploy", "ci/staging.yaml")):
        encrypted = sops_cli(user, cwd, f"sops encrypt {name}")
        assert encrypted.returncode == 0, encrypted.stderr


def test_a_broken_sops_yaml_stops_init_before_anything_is_written(user, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    (repo / ".sops.yaml").write_text("creation_rules:\n  - path_regex: [\n")
    refused = dispatchctl(user, repo, "init", "ci")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.startswith("Error: .sops.yaml: line 3: not valid YAML\n")
    assert not (repo / "ci").exists()
    assert not (Path(user["HOME"]) / ".config").exists()


@pytest.mark.parametrize("command", [["validate"], ["plan", "--local", "--create-namespace"]])
def test_the_untouched_starter_config_is_refused(user, tmp_path: Path, command) -> None:
    """Its placeholders would be applied as a real account and token."""
    repo = git_repo(tmp_path / "repo")
    assert dispatchctl(user, repo, "init", "ci").returncode == 0
    refused = dispatchctl(user, repo, *command, "ci/credentials.yaml")
    assert (refused.returncode, refused.stdout) == (1, ""), refused.stderr
    fix = "(set the real value with `sops edit ci/credentials.yaml`)"
    assert refused.stderr.splitlines() == [
        "Error: ci/credentials.yaml:18:21: serviceAccounts[0].credentials[0].username: "
        f"username is still the starter config's placeholder {fix}",
        "  ci/credentials.yaml:19:18: serviceAccounts[0].credentials[0].token: "
        f"token is still the starter config's placeholder {fix}",
    ]


def someone_elses(path: Path) -> None:
    """Give ``path`` to another user (the tests run as root, as the container does)."""
    os.chown(path, 65534, 65534)


def key_in(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    key_file = folder / "keys.txt"
    key_file.write_text(f"{x25519.Identity.generate()}\n")
    key_file.chmod(0o600)
    return key_file


@pytest.mark.parametrize(
    ("spoil", "error", "hint"),
    [
        (
            lambda key: key.chmod(0o644),
            "the key file {key} is open to other users (mode 0644); who can read it decrypts "
            "what is encrypted to it",
            "chmod 600 {key}; if others may have read it, make a new key",
        ),
        (
            lambda key: key.chmod(0o620),
            "the key file {key} is open to other users (mode 0620); who can read it decrypts "
            "what is encrypted to it",
            "chmod 600 {key}; if others may have read it, make a new key",
        ),
        (
            someone_elses,
            "the key file {key} belongs to another user",
            "pass --key-file with a key file of your own",
        ),
        (
            lambda key: key.parent.chmod(0o777),
            "the key's folder {key.parent} can be written to by other users (mode 0777), who "
            "could replace the key",
            "chmod go-w {key.parent}, or pass --key-file",
        ),
        (
            lambda key: someone_elses(key.parent),
            "the key's folder {key.parent} belongs to another user",
            "pass --key-file with a path in a folder of your own",
        ),
    ],
    ids=["readable", "group-writable", "another user's", "open folder", "another's folder"],
)
def test_a_key_others_can_read_or_replace_is_refused(
    user, tmp_path: Path, spoil, error: str, hint: str
) -> None:
    repo = git_repo(tmp_path / "repo")
    key = key_in(tmp_path / "keys")
    spoil(key)
    refused = dispatchctl(user, repo, "init", "ci", "--key-file", key)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == f"Error: {error.format(key=key)}\n  hint: {hint.format(key=key)}\n"
    assert sorted(p.name for p in repo.iterdir()) == [".git"]


def test_a_missing_key_in_an_open_folder_is_refused(user, tmp_path: Path) -> None:
    """A new key is not written where someone else could swap it either."""
    repo = git_repo(tmp_path / "repo")
    open_folder = tmp_path / "shared"
    open_folder.mkdir()
    open_folder.chmod(0o777)
    refused = dispatchctl(user, repo, "init", "ci", "--key-file", open_folder / "keys.txt")
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: the key's folder {open_folder} can be written to")
    assert list(open_folder.iterdir()) == []


def test_new_folders_are_private_whatever_the_umask(user, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    made = subprocess.run(
        ["bash", "-c", "umask 000 && dispatchctl init deploy/ci && dispatchctl init other"],
        cwd=repo,
        env={**user, "XDG_CONFIG_HOME": str(tmp_path / "config")},
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    folders = [
        repo / "deploy",
        repo / "deploy" / "ci",
        repo / "other",
        tmp_path / "config",
        tmp_path / "config" / "sops",
        tmp_path / "config" / "sops" / "age",
    ]
    assert {f: oct(stat.S_IMODE(f.stat().st_mode)) for f in folders} == dict.fromkeys(
        folders, "0o700"
    )


def test_outside_git_the_sops_yaml_goes_to_the_current_folder(user, tmp_path: Path) -> None:
    """Or to the folder itself when it lies elsewhere, and init says where sops finds it."""
    here = tmp_path / "here"
    here.mkdir()
    inside = dispatchctl(user, here, "init", "ci")
    assert inside.returncode == 0, inside.stderr
    assert "Wrote .sops.yaml: sops encrypts the secret fields of ci/*.yaml" in inside.stdout
    assert "Note:" not in inside.stdout
    elsewhere = dispatchctl(user, here, "init", "../there")
    assert elsewhere.returncode == 0, elsewhere.stderr
    sops_yaml = tmp_path / "there" / ".sops.yaml"
    assert f"Wrote {sops_yaml}: sops encrypts the secret fields of *.yaml" in elsewhere.stdout
    assert (
        f"Note: sops run from here reads .sops.yaml, not {sops_yaml}: run sops from "
        f"{sops_yaml.parent} or a folder below it\n" in elsewhere.stdout
    )
