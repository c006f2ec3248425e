"""The targets file: which clusters receive which config files (``plan --targets FILE``).

Read and located like a config file (``positions``: every problem at file:line:column, all of
them in one ConfigError); paths in it are relative to the file, so the same file works from any
working directory. ``schemas/targets.schema.json`` is generated from these models.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatchctl.config.load import format_path
from dispatchctl.config.positions import MAX_FILE_BYTES, DataPath, YamlSyntaxError, parse
from dispatchctl.errors import ConfigError, Problem
from dispatchctl.files import read_regular, shown_path

_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        field_title_generator=lambda name, _info: name,
    )


class TargetEntry(_Model):
    name: str = Field(
        pattern=_NAME,
        description="The target's name (a DNS label: lower case a-z, 0-9 and '-'), unique in"
        " the file: what --target selects and the report shows.",
    )
    context: str | None = Field(
        default=None, description="The kubeconfig context of the cluster (required unless local)."
    )
    kubeconfig: str | None = Field(
        default=None,
        description="The kubeconfig file, relative to this file (default: --kubeconfig, then"
        " KUBECONFIG, then ~/.kube/config).",
    )
    local: str | None = Field(
        default=None,
        description="Instead of a context: the bundled local cluster with this state file,"
        " relative to this file (as --local=STATE).",
    )
    configs: list[str] = Field(
        min_length=1,
        description="The config files this cluster receives, relative to this file; several"
        " files form one config, as on the command line.",
    )

    @model_validator(mode="after")
    def _one_cluster(self) -> TargetEntry:
        if self.local is not None and (self.context is not None or self.kubeconfig is not None):
            raise ValueError("local cannot be combined with context or kubeconfig")
        return self


class TargetsFile(_Model):
    """The clusters one repository's configs go to."""

    model_config = ConfigDict(title="dispatchctl targets")

    targets: list[TargetEntry] = Field(min_length=1)


@dataclass(frozen=True)
class TargetSpec:
    """One target, its paths resolved (relative to the working directory when below it)."""

    name: str
    context: str | None
    kubeconfig: str | None
    local: str | None
    configs: tuple[str, ...]


def load_targets(path: str | Path, *, keyless: bool = False) -> tuple[TargetSpec, ...]:
    """The targets of the file; a ConfigError naming every problem at file:line.

    ``keyless`` (``plan --no-decrypt``, the pull request's plan): the file may be the pull
    request's, so its targets may only name contexts of the pipeline's own kubeconfig. A
    kubeconfig file runs its exec plugins and sends the token files it names to its server,
    and ``local:`` writes a state file where it says: neither is taken from such a file."""
    display = str(path)
    try:
        text = read_regular(path, limit=MAX_FILE_BYTES).decode("utf-8")
        doc = parse(text)
    except FileNotFoundError:
        raise ConfigError([Problem(display, None, None, "", "file not found")]) from None
    except OSError as err:
        why = f"cannot read the file ({err.strerror or type(err).__name__})"
        raise ConfigError([Problem(display, None, None, "", why)]) from None
    except UnicodeDecodeError as err:
        why = f"not UTF-8 text (byte {err.start})"
        raise ConfigError([Problem(display, None, None, "", why)]) from None
    except YamlSyntaxError as err:
        line, col = (err.mark.line, err.mark.column) if err.mark else (None, None)
        raise ConfigError(
            [Problem(display, line, col, "", f"invalid YAML: {err.message}", err.hint)]
        ) from None

    def problem(
        loc: DataPath, message: str, hint: str | None = None, *, key: bool = False
    ) -> Problem:
        mark = doc.key_mark(loc) if key else doc.value_mark(loc)
        return Problem(
            display,
            mark.line if mark else None,
            mark.column if mark else None,
            format_path(loc),
            message,
            hint,
        )

    problems = [problem(p.path, p.message, p.hint) for p in doc.problems]
    try:
        model = TargetsFile.model_validate(doc.data)
    except ValidationError as err:
        for item in err.errors(include_url=False, include_input=False, include_context=True):
            problems.append(_finding(problem, tuple(item["loc"]), item, doc.data))
        model = None
    problems += _across_entries(doc.data, problem)
    if keyless:
        problems += _untrusted_paths(doc.data, problem)
    if problems or model is None:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    folder = os.path.dirname(os.path.abspath(path))

    def resolved(relative: str | None) -> str | None:
        return None if relative is None else shown_path(os.path.join(folder, relative))

    return tuple(
        TargetSpec(
            entry.name,
            entry.context,
            resolved(entry.kubeconfig),
            resolved(entry.local),
            tuple(shown_path(os.path.join(folder, c)) for c in entry.configs),
        )
        for entry in model.targets
    )


def _across_entries(data: Any, problem: Any) -> list[Problem]:
    """The checks over a whole entry or several, made on the parsed YAML: pydantic skips an
    entry's own check once one of its fields failed, and one run should name every problem."""
    entries = data.get("targets") if isinstance(data, dict) else None
    found: list[Problem] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        if entry.get("context") is None and entry.get("local") is None:
            found.append(
                problem(("targets", index), "missing required field context (or local: STATE)")
            )
        name = entry.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            first = problem(("targets", seen[name], "name"), "")
            found.append(
                problem(
                    ("targets", index, "name"),
                    f"target {name} is named twice (first at line {first.line})",
                )
            )
        seen.setdefault(name, index)
    return found


def _untrusted_paths(data: Any, problem: Any) -> list[Problem]:
    entries = data.get("targets") if isinstance(data, dict) else None
    return [
        problem(
            ("targets", index, field),
            f"a plan without the key (--no-decrypt) takes no {field} from a targets file: in a"
            " pull request the file is the pull request's, and "
            + (
                "a kubeconfig runs its exec plugins and sends the files it names to its server"
                if field == "kubeconfig"
                else "a local cluster writes its state file where the file says"
            ),
            "name a context of the kubeconfig the pipeline gives, or plan these targets in a"
            " job of the default branch",
            key=True,
        )
        for index, entry in enumerate(entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
        for field in ("kubeconfig", "local")
        if field in entry
    ]


def _finding(problem: Any, loc: DataPath, item: Any, data: Any) -> Problem:
    kind = item["type"]
    if kind == "missing":
        return problem(loc[:-1], f"missing required field {loc[-1]}")
    if kind == "extra_forbidden":
        model = TargetsFile if len(loc) == 1 else TargetEntry
        close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
        hint = f"did you mean {close[0]}?" if close else "allowed: " + ", ".join(model.model_fields)
        return problem(loc, f"unknown field {loc[-1]}", hint, key=True)
    if kind == "string_pattern_mismatch" and loc[-1] == "name":
        return problem(loc, "not a DNS label (lower case a-z, 0-9 and '-', at most 63)")
    if kind == "value_error":
        return problem(loc, str(item["ctx"]["error"]))
    if kind == "too_short":
        return problem(loc, f"{loc[-1]} must name at least one entry")
    return problem(loc, item["msg"])


def select(
    targets: Sequence[TargetSpec], names: Sequence[str], source: str
) -> tuple[TargetSpec, ...]:
    """The targets ``--target`` names (all for none), in the file's order."""
    if not names:
        return tuple(targets)
    known = {t.name for t in targets}
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        raise ConfigError(
            [
                Problem(
                    source,
                    None,
                    None,
                    "",
                    f"no target named {', '.join(unknown)}",
                    "its targets: " + ", ".join(t.name for t in targets),
                )
            ]
        )
    return tuple(t for t in targets if t.name in names)


def config_files(targets: Sequence[TargetSpec]) -> list[str]:
    """Every file some target receives, each once (one sops run each)."""
    return list(dict.fromkeys(c for t in targets for c in t.configs))


def json_schema_text() -> str:
    """The exact text of schemas/targets.schema.json."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    return json.dumps({**schema, **TargetsFile.model_json_schema()}, indent=2) + "\n"
