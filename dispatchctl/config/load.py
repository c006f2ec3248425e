"""Read, locate, decrypt and validate config files; every problem of a run in one ConfigError.

The orchestration of a load. Two passes: first the files as they are on disk (structure, the
plaintext guard, schema and semantics with ``ENC[...]`` values opaque: all a key-less
pull-request check can do), then, only if that is clean, the decrypted data, located by path in
the on-disk parse so every line is a line of the file the user has. ruamel.yaml's errors become
Problems here; pydantic's in ``validation``; what is clear text on disk is told by ``plaintext``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dispatchctl.config import checks, validation
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.models import Config, ServiceAccount
from dispatchctl.config.plaintext import (
    ciphertexts,
    digest,
    encrypted_elsewhere,
    plaintext_secrets,
)
from dispatchctl.config.positions import (
    MAX_FILE_BYTES,
    DataPath,
    Document,
    YamlLimitError,
    YamlSyntaxError,
    is_encrypted,
    parse,
)
from dispatchctl.config.sops import (
    SECRET_FIELDS_REGEX,
    Decryption,
    DecryptJob,
    SopsErrors,
    is_metadata,
    recipients,
)
from dispatchctl.config.validation import value_at
from dispatchctl.errors import ConfigError, Problem, SopsError
from dispatchctl.files import read_regular
from dispatchctl.objects import InputFile

_ENC_TYPE = re.compile(r",type:(\w+)\]$")
_OPAQUE = {"bool": False, "int": 0, "float": 0.0}


@dataclass(frozen=True)
class LoadedConfig:
    """The validated, merged config and the files it came from (digests of the bytes on disk).

    ``decrypted`` is False after a ``decrypt=False`` load of an encrypted file: its secret
    fields then hold ``ENC[...]`` text and must not be turned into objects.
    """

    config: Config
    inputs: tuple[InputFile, ...]
    decrypted: bool = True


@dataclass
class _File:
    display: str
    path: Path
    doc: Document | None = None
    sops: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    config: Config | None = None
    problems: list[Problem] = field(default_factory=list)
    # plaintext-guard findings: reported with the schema's, they do not stop validation
    plaintext: list[Problem] = field(default_factory=list)
    # where a secret field holds clear text in the file on disk (``plaintext_secrets``)
    clear: list[DataPath] = field(default_factory=list)
    # False when the file cannot be checked at all (not a mapping, unreadable, fully encrypted
    # under --no-decrypt): its other problems say why
    checkable: bool = True

    def problem(
        self, path: DataPath, message: str, hint: str | None = None, *, key: bool = False
    ) -> None:
        mark = None
        if self.doc is not None:
            mark = self.doc.key_mark(path) if key else self.doc.value_mark(path)
        self.problems.append(
            Problem(
                self.display,
                mark.line if mark else None,
                mark.column if mark else None,
                format_path(path),
                message,
                hint,
            )
        )

    def where(self, path: DataPath) -> str:
        mark = self.doc.value_mark(path) if self.doc else None
        return f"{self.display}:{mark.line}" if mark else self.display


def format_path(path: DataPath) -> str:
    """``serviceAccounts[0].credentials[2].registry``"""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def load_config(
    paths: Sequence[str | Path],
    *,
    decrypt: bool = True,
    allow_plaintext: bool = False,
    decryption: Decryption | None = None,
    trusted: Collection[str] = (),
) -> LoadedConfig:
    """Load one config from one or more files; raises ConfigError or SopsError.
    ``decryption``: sops already started for these files (``sops.start_decrypting``), which
    holds the bytes it decrypts; ``trusted``: the remote key services sops may use, without
    one (``keysources``)."""
    files = [_File(display=str(p), path=Path(p)) for p in paths]
    if decryption is not None:
        return _load(files, decryption, decrypt=decrypt, allow_plaintext=allow_plaintext)
    with Decryption(trusted) as decryption:
        return _load(files, decryption, decrypt=decrypt, allow_plaintext=allow_plaintext)


def _load(
    files: list[_File],
    decryption: Decryption,
    *,
    decrypt: bool,
    allow_plaintext: bool,
) -> LoadedConfig:
    raw: list[bytes | None] = []
    for f in files:
        kept = decryption.take(f.path)
        if kept is None:
            raw.append(_read_bytes(f))
        else:
            raw.append(kept[0])
            f.doc = kept[1]
    inputs = tuple(_parse(f, data) for f, data in zip(files, raw, strict=True))
    for f in files:
        if f.doc is None:
            f.checkable = False
            continue
        _inspect(f, allow_plaintext=allow_plaintext, decrypt=decrypt)
        if f.checkable:
            f.data = _without_sops(_opaque(f.doc.data))
    encrypted = [f for f in files if f.sops is not None and f.checkable]
    if decrypt:
        # sops takes most of a load: it runs while the files on disk are checked
        for f, data in zip(files, raw, strict=True):
            if f.sops is not None and f.checkable and data is not None and f.doc is not None:
                decryption.start(f.path, data, f.doc)
    merged: Config | None = None
    # Without an encrypted_regex sops encrypts every value (type, apiVersion, ...): only the
    # decrypted data can be checked then.
    if not (decrypt and any(encrypted_elsewhere(f.data) for f in encrypted)):
        merged = _validate(files)
        if not decrypt or not encrypted:
            _raise_if_problems(files)
            assert merged is not None
            return LoadedConfig(merged, inputs, decrypted=not encrypted)

    # Decrypt even when the files on disk have problems: a passphrase-protected key or a
    # token with a final newline is reported in the same run as a typo elsewhere.
    failed: list[tuple[_File, SopsError]] = []
    for f in encrypted:
        job = DecryptJob(f.path, f.display, tuple(recipients(f.sops or {})))
        try:
            (text,) = decryption.results([job])
        except SopsError as err:
            failed.append((f, err))
            continue
        try:
            data = json.loads(text)
        except ValueError:
            f.problem((), "sops printed text that is not JSON")
            continue
        f.data = _without_sops(_merge_keys(data) if f.doc and f.doc.has_merge_keys else data)
        for path in ciphertexts(f.data):
            f.problem(
                path,
                "the value is still sops ciphertext after decryption",
                "it was encrypted for another file or key; set it again with `sops edit`",
            )
    merged = _validate(files)
    if failed and not any(f.problems or f.plaintext for f in files):
        errors = [err for _, err in failed]
        raise errors[0] if len(errors) == 1 else SopsErrors(errors)
    for f, err in failed:
        cause = err.message.removeprefix(f"{f.display}: ")
        f.problem((), f"not decrypted, so its secret values were not checked: {cause}", err.hint)
    _raise_if_problems(files)
    assert merged is not None
    return LoadedConfig(merged, inputs, decrypted=True)


def _read_bytes(f: _File) -> bytes | None:
    try:
        return read_regular(f.path, limit=MAX_FILE_BYTES)
    except FileNotFoundError:
        f.problem((), "file not found")
    except OSError as err:
        f.problem((), f"cannot read the file ({err.strerror or type(err).__name__})")
    return None


def _parse(f: _File, raw: bytes | None) -> InputFile:
    if raw is None:
        return InputFile(f.display, "")
    try:
        f.doc = f.doc or parse(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        f.problem((), f"not UTF-8 text (byte {err.start})")
        return InputFile(f.display, hashlib.sha256(raw).hexdigest())
    except YamlSyntaxError as err:
        line, col = (err.mark.line, err.mark.column) if err.mark else (None, None)
        # a limit is valid YAML refused; anything else is text the parser rejects
        message = err.message if isinstance(err, YamlLimitError) else f"invalid YAML: {err.message}"
        f.problems.append(Problem(f.display, line, col, "", message, err.hint))
        return InputFile(f.display, hashlib.sha256(raw).hexdigest())
    for sp in f.doc.problems:
        f.problems.append(
            Problem(
                f.display, sp.mark.line, sp.mark.column, format_path(sp.path), sp.message, sp.hint
            )
        )
    if isinstance(f.doc.data, dict):
        f.clear = plaintext_secrets(f.doc.data)
    return InputFile(f.display, digest(raw, f.doc.data, clear=f.clear))


def _inspect(f: _File, *, allow_plaintext: bool, decrypt: bool) -> None:
    """Shape of the root, sops metadata, and the plaintext guard, on the file as it is."""
    assert f.doc is not None
    data = f.doc.data
    if not isinstance(data, dict):
        f.problem((), "the file must hold a mapping (apiVersion, kind, metadata, ...)")
        f.checkable = False
        return
    meta = data.get("sops")
    if meta is not None:
        if is_metadata(meta):
            f.sops = meta
            if meta.get("mac_only_encrypted") in (True, "true"):
                f.problem(
                    ("sops", "mac_only_encrypted"),
                    "the file's MAC covers only its encrypted values, so anyone can change its"
                    " clear-text fields (usernames, URLs, hosts, names) unnoticed",
                    "remove mac_only_encrypted from the .sops.yaml rule and encrypt the file"
                    " again: sops decrypt FILE | sops encrypt --filename-override FILE"
                    " > FILE.new && mv FILE.new FILE",
                )
        else:
            f.problem(("sops",), "malformed sops metadata", "sops writes this section itself")
    else:
        # Nothing can decrypt these: taken as they are they would become credentials.
        for path in ciphertexts(data):
            f.problem(
                path,
                "the value is sops ciphertext, but the file has no sops metadata to decrypt it",
                "restore the file's `sops:` section from git: a bad merge or a truncated file?",
            )
    if not allow_plaintext:
        hint = (
            f"encrypt it: sops encrypt --in-place {f.display}"
            if f.sops is None
            else "the file's encrypted_regex leaves it in clear text; use"
            f" {SECRET_FIELDS_REGEX} and re-encrypt the file"
        )
        for path in f.clear:
            f.problem(path, f"{path[-1]} is not encrypted in the file", hint)
            f.plaintext.append(f.problems.pop())
    if not decrypt and f.sops is not None and encrypted_elsewhere(data):
        f.checkable = False
        f.problem(
            (),
            "values other than secret fields are encrypted; --no-decrypt cannot check this file",
            f"encrypt with encrypted_regex: {SECRET_FIELDS_REGEX}",
        )


def _opaque(node: Any) -> Any:
    """``ENC[...]`` values of non-string type stand in as a neutral value of that type."""
    if isinstance(node, dict):
        return {k: _opaque(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_opaque(v) for v in node]
    if is_encrypted(node):
        match = _ENC_TYPE.search(node)
        if match and match.group(1) in _OPAQUE:
            return _OPAQUE[match.group(1)]
    return node


def _merge_keys(node: Any) -> Any:
    """sops keeps a YAML merge key as a ``<<`` entry in its JSON: merge it as the parse of the
    file on disk did (keys the mapping sets win, then earlier sources)."""
    if isinstance(node, list):
        return [_merge_keys(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _merge_keys(v) for k, v in node.items() if k != "<<"}
    sources = _merge_keys(node.get("<<"))
    for source in sources if isinstance(sources, list) else [sources]:
        if isinstance(source, dict):
            for key, value in source.items():
                out.setdefault(key, value)
    return out


def _without_sops(data: Any) -> Any:
    if isinstance(data, dict) and "sops" in data:
        return {k: v for k, v in data.items() if k != "sops"}
    return data


def _validate(files: list[_File]) -> Config | None:
    """Schema per file, then semantics and clashes across all files, on every part that
    passed the schema (an account or a credential with a problem leaves the others checked).
    Problems go to the files; returns the merged config when there is none."""
    located: list[checks.LocatedAccount] = []
    findings: list[checks.Finding] = []
    tops: list[tuple[_File, Config]] = []
    for f in files:
        f.config = None
        if not isinstance(f.data, dict):
            continue
        try:
            f.config = Config.model_validate(f.data)
        except ValidationError as err:
            for finding in validation.schema_findings(
                err, f.data, f.display, encrypted=f.sops is not None
            ):
                f.problem(finding.path, finding.message, finding.hint, key=finding.at_key)
        top, accounts = validation.parts(f.data, f.config, f.display)
        if top is not None:
            tops.append((f, top))
            findings += checks.check_file(top, f.display)
        located += accounts
    findings += checks.check_accounts(located)
    by_name = {f.display: f for f in files}
    if tops:
        owner_file, owner = tops[0]
        for f, top in tops[1:]:
            if top.metadata.name != owner.metadata.name:
                f.problem(
                    ("metadata", "name"),
                    f"owner differs from {owner_file.where(('metadata', 'name'))}",
                    "files given together form one config and share one metadata.name",
                )
    for finding in findings:
        f = by_name[finding.file]
        message = finding.message
        if finding.related is not None:
            message += f" (first at {by_name[finding.related[0]].where(finding.related[1])})"
        f.problem(finding.path, message, finding.hint, key=finding.at_key)
    if any(f.problems or f.config is None for f in files):
        return None
    return _merge(files, located)


def _merge(files: list[_File], located: list[checks.LocatedAccount]) -> Config:
    base = files[0].config
    assert base is not None
    by_name = {f.display: f for f in files}
    accounts: list[ServiceAccount] = []
    for item in located:
        f = by_name[item.file]
        account = item.account
        assert account is not None and item.namespace is not None
        if account.namespace is None and item.namespace != base.namespace:
            account = account.model_copy(update={"namespace": item.namespace})
        account._source = f.where(item.path)
        for index, cred in enumerate(account.credentials):
            cred._source = f.where((*item.path, "credentials", index))
            cred._ciphertext = _ciphertext_of(f, (*item.path, "credentials", index))
        accounts.append(account)
    return base.model_copy(update={"serviceAccounts": accounts, "sops": None})


def _ciphertext_of(f: _File, path: DataPath) -> dict[str, str]:
    """The credential's secret fields as they stand in the file on disk: ``ENC[...]`` text,
    whose digest apply records so that a plan without the key can tell a new value."""
    on_disk = value_at(f.doc.data if f.doc else None, path)
    if not isinstance(on_disk, dict):
        return {}
    return {name: on_disk[name] for name in SECRET_FIELDS if is_encrypted(on_disk.get(name))}


def _raise_if_problems(files: list[_File]) -> None:
    # the files on disk and their decrypted data are checked alike: a problem of both, once
    problems = list(dict.fromkeys(p for f in files for p in (*f.problems, *f.plaintext)))
    if problems:
        order = {f.display: i for i, f in enumerate(files)}
        problems.sort(key=lambda p: (order[p.file], p.line or 0, p.column or 0))
        raise ConfigError(problems)
