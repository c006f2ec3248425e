"""``dispatchctl init``: an age key, a .sops.yaml, and an encrypted starter config.

Safe in an existing repository: every file it would write is checked first and nothing is
written if any exists; an existing key file is never rewritten (its key is used instead), nor
used when others could read or replace it.
The starter config is encrypted before it touches the disk, so a user fills in real tokens
with ``sops edit`` and no plaintext secret is ever written.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from dispatchctl import agekey
from dispatchctl.config import sops
from dispatchctl.config.checks import PLACEHOLDERS, dns_label_problem
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.models import json_schema_text
from dispatchctl.errors import AgeKeyError, InitError
from dispatchctl.files import make_private_folders, write_private

SOPS_CONFIG = ".sops.yaml"
CONFIG_NAME = "credentials.yaml"
SCHEMA_NAME = "dispatchctl.schema.json"
SCHEMAS_FOLDER_FILE = Path("schemas") / SCHEMA_NAME
DEFAULT_NAMESPACE = "dispatch"


@dataclass(frozen=True)
class Initialized:
    folder: Path
    key_file: Path
    recipient: str
    key_created: bool
    owner: str
    config: Path
    written: tuple[Path, ...]


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


def sops_config_text(recipient: str) -> str:
    return (
        "# sops settings for dispatchctl configs (written by dispatchctl init): only the secret\n"
        "# fields are encrypted, so names, hosts and usernames stay readable in review.\n"
        "# Add a teammate's or CI's age recipient to the list, then `sops updatekeys FILE`.\n"
        "creation_rules:\n"
        "  - path_regex: \\.yaml$\n"
        f"    encrypted_regex: {sops.SECRET_FIELDS_REGEX}\n"
        f"    age: {recipient}\n"
    )


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
    """Write the key (unless one exists), .sops.yaml, the schema and the starter config."""
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
    targets = [folder / SOPS_CONFIG, config] + ([] if schema else [folder / SCHEMA_NAME])
    existing = [str(t) for t in targets if t.exists() or t.is_symlink()]
    if existing:
        names = " and ".join([", ".join(existing[:-1]), existing[-1]] if existing[1:] else existing)
        raise InitError(
            f"{names} already exist{'s' if len(existing) == 1 else ''}; "
            "init writes nothing over a file",
            hint="run init in another folder (dispatchctl init DIR), or move those files away",
        )
    identity, created = _key(key_path)
    try:
        make_private_folders(folder)
    except OSError as err:
        raise InitError(f"cannot create {folder}: {err.strerror}") from None
    text = starter_text(owner, namespace, schema or SCHEMA_NAME, CONFIG_NAME)
    encrypted = sops.encrypt(text, filename=config, age=[identity.recipient])
    files = [(folder / SOPS_CONFIG, sops_config_text(identity.recipient))]
    if not schema:
        files.append((folder / SCHEMA_NAME, json_schema_text()))
    files.append((config, encrypted))
    for path, content in files:
        _create(path, content)
    return Initialized(
        folder=folder,
        key_file=key_path,
        recipient=identity.recipient,
        key_created=created,
        owner=owner,
        config=config,
        written=tuple(path for path, _ in files),
    )


def _key(path: Path) -> tuple[agekey.Identity, bool]:
    """The identity in ``path``, or a new one written there (mode 0600, folders 0700)."""
    _check_key_place(path)
    if path.exists():
        return _existing_key(path), False
    identity = agekey.generate()
    try:
        make_private_folders(path.parent)
        write_private(path, identity.key_file_text().encode(), overwrite=False)
    except FileExistsError:
        return _existing_key(path), False  # made meanwhile: use it, never replace it
    except OSError as err:
        raise InitError(
            f"cannot write the key file {path}: {err.strerror}", hint="pass --key-file PATH"
        ) from None
    return identity, True


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
