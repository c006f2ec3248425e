"""A file's data against the models: the one place where pydantic's errors become Findings.

A file that fails the schema is still checked part by part (its top level, each account, each
credential built of the fields that passed), so one typo does not hide the problems of the
rest. Findings are built from pydantic's ``loc``/``type`` only, never the input value.
"""

from __future__ import annotations

import difflib
import functools
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from dispatchctl.config import checks
from dispatchctl.config.checks import Finding
from dispatchctl.config.credentials import AnyCredential
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.models import (
    CREDENTIAL_TYPES,
    OLDEST_TEKTON,
    Config,
    Credential,
    Metadata,
    ServiceAccount,
)
from dispatchctl.config.positions import DataPath, is_encrypted

_CREDENTIAL: TypeAdapter[AnyCredential] = TypeAdapter(Credential)
_M = TypeVar("_M", bound=BaseModel)


def parts(
    data: dict[str, Any], config: Config | None, display: str
) -> tuple[Config | None, list[checks.LocatedAccount]]:
    """The file's top level and its accounts, each part validated on its own when the whole
    (``config``, None if it did not pass the schema) failed; the schema problems are reported
    by ``schema_findings``."""
    if config is not None:
        return config, [
            checks.LocatedAccount.whole(
                account, config.namespace_of(account), display, index, config.tekton
            )
            for index, account in enumerate(config.serviceAccounts)
        ]
    top = _valid(Config, {**data, "serviceAccounts": []})
    raw_accounts = data.get("serviceAccounts")
    located: list[checks.LocatedAccount] = []
    for index, raw in enumerate(raw_accounts if isinstance(raw_accounts, list) else []):
        if not isinstance(raw, dict):
            continue
        account = _valid(ServiceAccount, {**raw, "credentials": []})
        raw_creds = raw.get("credentials")
        parsed: list[tuple[int, AnyCredential]] = []
        partial: set[int] = set()
        for j, item in enumerate(raw_creds if isinstance(raw_creds, list) else []):
            cred = _valid(_CREDENTIAL, item)
            if cred is None:
                cred = _partial_credential(item)
                partial.add(j)
            if cred is not None:
                parsed.append((j, cred))
        namespace = (account.namespace if account else None) or (top.namespace if top else None)
        located.append(
            checks.LocatedAccount(
                account,
                namespace,
                display,
                index,
                tuple(parsed),
                frozenset(partial),
                top.tekton if top else OLDEST_TEKTON,
            )
        )
    return top, located


def _valid(model: type[_M] | TypeAdapter[_M], data: Any) -> _M | None:
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data)
        return model.model_validate(data)
    except ValidationError:
        return None


def _partial_credential(data: Any) -> AnyCredential | None:
    """A credential that failed the schema, built of the fields that passed it (the others
    unset) so that their checks still run; None without a known type."""
    kind = data.get("type") if isinstance(data, dict) else None
    model = CREDENTIAL_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        return None
    fields: dict[str, Any] = {}
    for name, value in data.items():
        info = model.model_fields.get(name)
        if info is None:
            continue
        try:
            fields[name] = _field_adapter(model, name).validate_python(value)
        except ValidationError:
            continue
    return model.model_construct(**fields)  # type: ignore[return-value]


@functools.cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """The field's type with its constraints (``StrictBool`` keeps its ``Strict()`` in the
    metadata, not in the annotation)."""
    info = model.model_fields[name]
    if not info.metadata:
        return TypeAdapter(info.annotation)
    return TypeAdapter(Annotated[info.annotation, *info.metadata])


def schema_findings(
    err: ValidationError, data: Any, display: str, *, encrypted: bool
) -> list[Finding]:
    """pydantic errors of the file ``display`` -> Findings, built from loc/type only: never
    the input value. ``encrypted``: the file has sops metadata (a misspelt secret field then
    holds a value sops left in clear text)."""
    out: list[Finding] = []
    for item in err.errors(include_url=False, include_input=False, include_context=True):
        loc = _strip_tags(tuple(item["loc"]))
        out.append(_finding(item, loc, data, display, encrypted=encrypted))
    return out


def _finding(item: Any, loc: DataPath, data: Any, display: str, *, encrypted: bool) -> Finding:
    kind = item["type"]
    if kind == "missing":
        return Finding(
            display, loc[:-1], f"missing required field {loc[-1]}", _missing_hint(data, loc)
        )
    if kind == "extra_forbidden":
        return _unknown_field(data, loc, display, encrypted=encrypted)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        hint = _type_hint(data, loc)
        where = (*loc, "type") if kind == "union_tag_invalid" else loc
        expected = ", ".join(CREDENTIAL_TYPES)
        verb = "unknown credential type" if kind == "union_tag_invalid" else "missing type"
        return Finding(display, where, f"{verb}: expected one of {expected}", hint)
    if kind == "bool_type":
        return _not_a_boolean(data, loc, display)
    if kind == "value_error":  # our own validators' words, without pydantic's prefix
        return Finding(display, loc, str(item["ctx"]["error"]))
    if loc == ("tektonVersion",) and kind in ("string_pattern_mismatch", "string_type"):
        return Finding(
            display,
            loc,
            'tektonVersion is a Tekton release, MAJOR.MINOR in quotes: e.g. "1.11"'
            " (unquoted, 1.10 would be the number 1.1)",
        )
    if kind.startswith("date_"):
        return Finding(display, loc, f"{loc[-1]} is not a day of the calendar (YYYY-MM-DD)")
    return Finding(display, loc, item["msg"])


def _not_a_boolean(data: Any, loc: DataPath, display: str) -> Finding:
    """Names what was written instead (its kind, never its value): `imagePullSecret: no` is a
    string in YAML 1.2, which a user who meant false would not guess."""
    value = value_at(data, loc)
    if isinstance(value, str):
        what, hint = (
            "a string",
            "use true or false, unquoted; yes, no, on and off are strings in YAML 1.2",
        )
    elif isinstance(value, int | float):
        what, hint = "a number", "use true or false"
    elif value is None:
        what, hint = "empty", "use true or false, or leave the key out for false"
    else:
        what, hint = "a list" if isinstance(value, list) else "a mapping", "use true or false"
    return Finding(display, loc, f"{loc[-1]} must be true or false, not {what}", hint)


def _missing_hint(data: Any, loc: DataPath) -> str | None:
    """How to get a required value that is not there (only knownHosts needs telling)."""
    if loc[-1] != "knownHosts":
        return None
    host = value_at(data, (*loc[:-1], "host"))
    hint = checks.known_hosts_hint(host if isinstance(host, str) else None)
    return f"without it git refuses to connect; {hint}"


def value_at(data: Any, loc: DataPath) -> Any:
    """The value at ``loc`` in parsed data, None where there is none."""
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _strip_tags(loc: DataPath) -> DataPath:
    """Drop the discriminator pydantic inserts: credentials[2].docker.registry -> [2].registry."""
    out: list[str | int] = []
    for part in loc:
        if (
            isinstance(part, str)
            and part in CREDENTIAL_TYPES
            and len(out) >= 2
            and out[-2] == "credentials"
            and isinstance(out[-1], int)
        ):
            continue
        out.append(part)
    return tuple(out)


def _model_at(loc: DataPath, data: Any) -> type[BaseModel] | None:
    """The model that owns the mapping at ``loc`` (for the keys it allows)."""
    if loc == ():
        return Config
    if loc == ("metadata",):
        return Metadata
    if len(loc) == 2 and loc[0] == "serviceAccounts":
        return ServiceAccount
    if len(loc) == 4 and loc[0] == "serviceAccounts" and loc[2] == "credentials":
        kind = _credential_type(data, loc)
        return CREDENTIAL_TYPES.get(kind) if kind is not None else None
    return None


def _credential_type(data: Any, loc: DataPath) -> str | None:
    """The ``type`` written at ``loc`` in the data, if that is a mapping with a string type."""
    node = value_at(data, loc)
    kind = node.get("type") if isinstance(node, dict) else None
    return kind if isinstance(kind, str) else None


def _unknown_field(data: Any, loc: DataPath, display: str, *, encrypted: bool) -> Finding:
    """A misspelt secret field escapes sops's encrypted_regex: say that its value is now in
    clear text in the file (and maybe in git), not only that the name is unknown."""
    hint = _did_you_mean(data, loc)
    value = value_at(data, loc)
    leaked = (
        encrypted
        and isinstance(value, str | int | float)
        and not is_encrypted(value)
        and any(hint == f"did you mean {name}?" for name in SECRET_FIELDS)
    )
    if not leaked:
        return Finding(display, loc, f"unknown field {loc[-1]}", hint, at_key=True)
    return Finding(
        display,
        loc,
        f"unknown field {loc[-1]}; sops encrypts only {', '.join(SECRET_FIELDS)}, so this "
        "value is in clear text in the file",
        f"{hint} Rename it with `sops edit {display}`, which encrypts it on save; if the "
        "file was committed or pushed, treat the value as leaked and rotate it",
        at_key=True,
    )


def _did_you_mean(data: Any, loc: DataPath) -> str | None:
    model = _model_at(loc[:-1], data)
    if model is None or not isinstance(loc[-1], str):
        return None
    allowed = [name for name in model.model_fields if name != "sops"]
    close = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
    if not close:
        lowered = {name.lower(): name for name in allowed}
        close = [lowered[loc[-1].lower()]] if loc[-1].lower() in lowered else []
    if close:
        return f"did you mean {close[0]}?"
    return "allowed: " + ", ".join(allowed)


def _type_hint(data: Any, loc: DataPath) -> str | None:
    kind = _credential_type(data, loc)
    if kind is None:
        return None
    close = difflib.get_close_matches(kind, list(CREDENTIAL_TYPES), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else None
