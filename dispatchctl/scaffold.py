"""``dispatchctl init``: an age key, a .sops.yaml rule, and an encrypted starter config.

Safe in an existing repository: every file it would create is checked first and nothing is
written if any exists; an existing key file is never rewritten (its key is used instead), nor
used when others could read or replace it; an existing .sops.yaml only gains the folder's
rule. The starter config is encrypted before it touches the disk, so a user fills in real
tokens with ``sops edit`` and no plaintext secret is ever written.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from dispatchctl import agekey, sopsrules
from dispatchctl.config import sops
from dispatchctl.config.checks import PLACEHOLDERS, dns_label_problem
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.models import json_schema_text
from dispatchctl.errors import AgeKeyError, InitError
from dispatchctl.files import check_safe_to_write, make_private_folders, read_regular, write_private

SOPS_CONFIG = ".sops.yaml"
CONFIG_NAME = "credentials.yaml"
SCHEMA_NAME = "dispatchctl.schema.json"
SCHEMAS_FOLDER_FILE = Path("schemas") / SCHEMA_NAME
DEFAULT_NAMESPACE = "dispatch"
_SOPS_CONFIG_LIMIT = 1 << 20


@dataclass(frozen=True)
class Initialized:
    folder: Path
    key_file: Path
    recipient: str
    key_created: bool
    owner: str
    config: Path
    written: tuple[Path, ...]
    sops_config: Path  # as the user would type it
    rule: SopsRules
    notes: tuple[str, ...]


def schema_reference(folder: Path) -> str | None:
    """The nearest schemas/dispatchctl.schema.json at or above ``folder``, relative to it
    (a checkout of dispatchctl itself has one); None when there is none."""
    resolved = folder.resolve()
    for candidate in (resolved, *resolved.parents):
        if (candidate / SCHEMAS_FOLDER_FILE).is_file():
            return Path(os.path.relpath(candidate / SCHEMAS_FOLDER_FILE, resolved)).as_posix()
    return None


def owner_for(folder: Path) -> str:
    """A default owner from the folder's name, as a DNS-1123 label ("CI Creds" -> ci-creds)."""
    name = re.sub(r"[^a-z0-9-]+", "-", folder.resolve().name.lower()).strip("-")[:63].strip("-")
    return name or "credentials"


def starter_text(owner: str, namespace: str, schema: str, config_name: str) -> str:
    """The starter config: one account, one credential whose token is a placeholder."""
    return f"""\
# yaml-language-server: $schema={schema}
#
# Service accounts of your pipelines and their credentials. Edit it with
#   sops edit {config_name}
# which decrypts it in a private temporary file and encrypts it again on save. Secret fields
# ({", ".join(SECRET_FIELDS)}) are encrypted; the rest stays readable.
# Credential types: github, gitlab, bitbucket-cloud, bitbucket-server, git (SSH, with
# knownHosts) and docker; `dispatchctl schema` describes every field.
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: {owner}
namespace: {namespace}
serviceAccounts:
  - name: pipeline
    credentials:
      - type: github
        username: {PLACEHOLDERS["username"]}
        token: {PLACEHOLDERS["token"]}
"""


def init(
    folder: Path,
    *,
    key_file: Path | None = None,
    owner: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> Initialized:
    """Write the key (unless one exists), the .sops.yaml rule, the schema and the starter
    config; what can fail is checked and computed before the first file is written."""
    owner = owner or owner_for(folder)
    for what, name in (("owner", owner), ("namespace", namespace)):
        problem = dns_label_problem(name)
        if problem:
            raise InitError(f"{what} {name!r}: {problem}", hint=f"pass --{what} NAME")
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} is not a folder")
    key_path = key_file if key_file is not None else agekey.default_key_file()
    config = folder / CONFIG_NAME
    schema = schema_reference(folder)
    targets = [config] + ([] if schema else [folder / SCHEMA_NAME])
    existing = [str(t) for t in targets if t.exists() or t.is_symlink()]
    if existing:
        names = " and ".join(existing)
        raise InitError(
            f"{names} already exist{'s' if len(existing) == 1 else ''}; "
            "init writes nothing over a file",
            hint="run init in another folder (dispatchctl init DIR), or move those files away",
        )
    identity, new_key = _key(key_path)
    cwd = Path.cwd()
    rules = _sops_rules(folder, cwd, identity.recipient)
    try:
        make_private_folders(folder)  # sops runs in it
    except OSError as err:
        raise InitError(f"cannot create {folder}: {err.strerror}") from None
    text = starter_text(owner, namespace, schema or SCHEMA_NAME, CONFIG_NAME)
    encrypted = sops.encrypt(text, filename=config, age=[identity.recipient])
    if new_key is not None:
        _write_key(key_path, new_key)
    files = [] if schema else [(folder / SCHEMA_NAME, json_schema_text())]
    files.append((config, encrypted))
    if rules.added.text is not None:
        _write_sops_config(rules.path, rules.added.text, rules.before)
    for path, content in files:
        _create(path, content)
    return Initialized(
        folder=folder,
        key_file=key_path,
        recipient=identity.recipient,
        key_created=new_key is not None,
        owner=owner,
        config=config,
        written=tuple(path for path, _ in files),
        sops_config=_shown(rules.path, cwd),
        rule=rules,
        notes=_notes(rules, cwd),
    )


@dataclass(frozen=True)
class SopsRules:
    """The .sops.yaml init writes or extends (``before``: its text, None when it is new) for
    the files of ``folder`` (relative to it, "" for its own folder)."""

    path: Path
    before: str | None
    folder: str
    added: sopsrules.Added
    near: Path | None  # the .sops.yaml sops read from the current directory before init


def _sops_config_path(folder: Path, cwd: Path) -> tuple[Path, Path | None]:
    """Where the folder's rule goes, so that sops run from the current directory (the
    repository's root, as the README's commands are) and from the folder finds it: the
    .sops.yaml sops already reads from here if it lies within the work tree (without git:
    within the current directory) and above the folder; else the top of the folder's git work
    tree; else, outside git, the current directory if the folder is in it, else the folder.
    Also returns the .sops.yaml sops reads from here now, if any."""
    target = (cwd / folder).resolve()
    near = _nearest(cwd.resolve(), SOPS_CONFIG)
    top = _work_tree(target)
    bound = top or cwd.resolve()
    if (
        near is not None
        and near.parent.is_relative_to(bound)
        and target.is_relative_to(near.parent)
    ):
        return near, near
    if top is not None:
        return top / SOPS_CONFIG, near
    if target.is_relative_to(cwd.resolve()):
        return cwd.resolve() / SOPS_CONFIG, near
    return target / SOPS_CONFIG, near


def _sops_rules(folder: Path, cwd: Path, recipient: str) -> SopsRules:
    path, near = _sops_config_path(folder, cwd)
    if not path.exists() and path.with_suffix(".yml").exists():
        raise InitError(
            f"{path.with_suffix('.yml')} exists, and sops ignores it once {path.name} does",
            hint=f"rename it to {path.name} (sops reads only that name), then run init again",
        )
    before = _read_sops_config(path)
    relative = (cwd / folder).resolve().relative_to(path.parent).as_posix()
    relative = "" if relative == "." else relative
    rule = sopsrules.Rule(sopsrules.folder_regex(relative), sops.SECRET_FIELDS_REGEX, (recipient,))
    where = f"in {relative}/" if relative else "in this folder"
    comment = (
        f"# dispatchctl configs {where} (rule added by dispatchctl init): only the secret\n"
        "# fields are encrypted, so names, hosts and usernames stay readable in review. Add a\n"
        "# teammate's or CI's age recipient to the age: list, then `sops updatekeys FILE`.\n"
    )
    probe = f"{relative}/{CONFIG_NAME}" if relative else CONFIG_NAME
    added = sopsrules.add_rule(before or "", rule, probe, str(_shown(path, cwd)), comment)
    return SopsRules(path, before, relative, added, near)


def _notes(rules: SopsRules, cwd: Path) -> tuple[str, ...]:
    """What the user should know about the rule: a rule it now comes before, and a
    .sops.yaml that sops reads from the current directory instead of the one init wrote."""
    notes = []
    files = f"{rules.folder}/*.yaml" if rules.folder else "*.yaml"
    if rules.added.shadowed is not None:
        number, regex = rules.added.shadowed
        which = f"path_regex {regex}" if regex else "no path_regex"
        notes.append(
            f"{files} matched the rule with {which} (now rule {number}) until now; the new "
            f"rule {rules.added.number} comes before it, so sops encrypts new files there to "
            "your key alone: add that rule's keys to the new rule if they need to decrypt them"
        )
    now = _nearest(cwd.resolve(), SOPS_CONFIG)
    if now != rules.path:
        reads = f"reads {_shown(now, cwd)}" if now else "finds no .sops.yaml"
        notes.append(
            f"sops run from here {reads}, not {_shown(rules.path, cwd)}: run sops from "
            f"{_shown(rules.path.parent, cwd)} or a folder below it"
        )
    elif rules.near is not None and rules.near != rules.path:
        notes.append(
            f"sops read {_shown(rules.near, cwd)} from here until now; it now reads "
            f"{_shown(rules.path, cwd)}, which has only the rule for {files}"
        )
    return tuple(notes)


def _nearest(start: Path, name: str) -> Path | None:
    """The first ``name`` in ``start`` or a folder above it, as sops looks for .sops.yaml."""
    for candidate in (start, *start.parents):
        if (candidate / name).exists():
            return candidate / name
    return None


def _work_tree(target: Path) -> Path | None:
    """The top of the git work tree ``target`` is in (it may not exist yet), or None."""
    git = _nearest(target, ".git")
    return None if git is None else git.parent


def _shown(path: Path, cwd: Path) -> Path:
    """``path`` as the user would type it from the current directory."""
    resolved = cwd.resolve()
    return Path(os.path.relpath(path, resolved)) if path.is_relative_to(resolved) else path


def _read_sops_config(path: Path) -> str | None:
    try:
        check_safe_to_write(path, replaceable=None, what="a file")
        return read_regular(path, limit=_SOPS_CONFIG_LIMIT).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise InitError(f"cannot use {path}: {reason}") from None


def _write_sops_config(path: Path, text: str, before: str | None) -> None:
    """A new .sops.yaml is created, never over one made meanwhile; an existing one is
    replaced in one rename, keeping its mode, unless it changed since it was read."""
    if before is None:
        _create(path, text)
        return
    if _read_sops_config(path) != before:
        raise InitError(f"{path} changed while init ran; it was left as it is")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        write_private(path, text.encode("utf-8"), overwrite=True)
        os.chmod(path, mode)
    except OSError as err:
        raise InitError(f"cannot write {path}: {err.strerror}") from None


def _key(path: Path) -> tuple[agekey.Identity, agekey.Identity | None]:
    """The identity in ``path``, or a new one (also returned second) for ``_write_key``."""
    _check_key_place(path)
    if path.exists():
        return _existing_key(path), None
    identity = agekey.generate()
    return identity, identity


def _write_key(path: Path, identity: agekey.Identity) -> None:
    """The key file, mode 0600 in folders made 0700; never over a key made meanwhile (the
    config was just encrypted to this one)."""
    try:
        make_private_folders(path.parent)
        write_private(path, identity.key_file_text().encode(), overwrite=False)
    except FileExistsError:
        raise InitError(
            f"the key file {path} appeared while init ran; it was left as it is",
            hint="run init again to use it",
        ) from None
    except OSError as err:
        raise InitError(
            f"cannot write the key file {path}: {err.strerror}", hint="pass --key-file PATH"
        ) from None


def _check_key_place(path: Path) -> None:
    """Refuse a key file that another user owns or can open, or a folder of it that another
    user owns or can write to: whoever can read or swap the key decrypts what is encrypted to
    it (ssh refuses an unprotected private key likewise). A folder owned by root is trusted."""
    if os.name != "posix":
        return
    folder = _stat(path.parent)  # None: init makes it, mode 0700
    if folder is not None:
        if folder.st_uid not in (os.getuid(), 0):
            raise InitError(
                f"the key's folder {path.parent} belongs to another user",
                hint="pass --key-file with a path in a folder of your own",
            )
        if folder.st_mode & 0o022 and not folder.st_mode & stat.S_ISVTX:
            raise InitError(
                f"the key's folder {path.parent} can be written to by other users "
                f"(mode {stat.S_IMODE(folder.st_mode):04o}), who could replace the key",
                hint=f"chmod go-w {shlex.quote(str(path.parent))}, or pass --key-file",
            )
    key = _stat(path)
    if key is None:
        return
    if key.st_uid != os.getuid():
        raise InitError(
            f"the key file {path} belongs to another user",
            hint="pass --key-file with a key file of your own",
        )
    if key.st_mode & 0o077:
        raise InitError(
            f"the key file {path} is open to other users (mode "
            f"{stat.S_IMODE(key.st_mode):04o}); who can read it decrypts what is encrypted to it",
            hint=f"chmod 600 {shlex.quote(str(path))}; if others may have read it, make a new key",
        )


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _existing_key(path: Path) -> agekey.Identity:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not text"
        raise InitError(f"cannot read the key file {path}: {reason}") from None
    try:
        identity = agekey.read_identity(text)
    except AgeKeyError as err:
        raise InitError(
            f"{path}: {err.message}", hint="pass --key-file with another path"
        ) from None
    if identity is None:
        raise InitError(
            f"{path} exists but holds no age key (AGE-SECRET-KEY-1... line); init never "
            "rewrites a key file",
            hint="pass another --key-file",
        )
    return identity


def _create(path: Path, text: str) -> None:
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise InitError(f"{path} appeared while init ran; it was left as it is") from None
    except OSError as err:
        raise InitError(f"cannot write {path}: {err.strerror}") from None
