"""The error hierarchy: one base, one subclass per layer.

Every message is written where the error is raised, from names and paths only: an error never
carries a secret value, so the CLI can print any of them as they are. Presentation (prefix,
colour, exit code) belongs to ``dispatchctl.cli`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass


class DispatchctlError(Exception):
    """Base of every error the CLI turns into a message and exit code 1."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """The lines the CLI prints, hint last."""
        out = [self.message]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


@dataclass(frozen=True)
class Problem:
    """One problem in a config file, located in the file as it is on disk."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(DispatchctlError):
    """The config files are unreadable or invalid; carries every problem found at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the config")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class SopsError(DispatchctlError):
    """sops could not decrypt a file (no key, tampered value, MAC mismatch, ...)."""


class ClusterError(DispatchctlError):
    """The cluster could not be reached or refused a request."""


class LockError(ClusterError):
    """Another apply holds the owner's lock."""


class PlanError(DispatchctlError):
    """The plan cannot be made or must not be applied (conflicts, missing namespaces, guards)."""


class StalePlanError(PlanError):
    """A saved plan no longer matches its input files or the cluster."""


class NamespaceImportError(DispatchctlError):
    """``import`` cannot do what it was asked: an owner that is no label or already manages
    objects, an account the namespace lacks, nothing to import, an unwritable target."""


class InitError(DispatchctlError):
    """init cannot write what it would: a file exists, a name is invalid, a key is unusable."""


class AgeKeyError(DispatchctlError):
    """A key file that is no age identity file, or no place to put one."""


class LocalClusterError(DispatchctlError):
    """The bundled local cluster cannot serve as asked: its state file, port, token or the
    kubeconfig to write for it."""
