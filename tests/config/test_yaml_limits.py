"""Hostile YAML meets ``validate --no-decrypt`` (the check README suggests for pull requests
from forks): a clear error at the file's line and column, exit 1, no crash, bounded memory.

Run as a subprocess, as CI runs it: a crash of the parser would kill pytest itself.
"""

from __future__ import annotations

import resource
from pathlib import Path

from tests.support.cli import Result, process

MEMORY = 1 << 30  # the address space a check may use; the bomb used to take gigabytes
WAIT = 60.0  # seconds: a guard against hanging, not a timing assertion
HEAD = "apiVersion: dispatchctl/v1\nkind: ServiceAccounts\nmetadata: {name: ci}\n"


def bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def validate(path: Path) -> Result:
    return process("validate", "--no-decrypt", path, timeout=WAIT, preexec_fn=bounded)


def test_an_alias_bomb_is_refused_with_its_place(tmp_path: Path) -> None:
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text(HEAD + "\n".join(levels) + "\nserviceAccounts: *l8\n")
    assert len(path.read_bytes()) < 600

    proc = validate(path)

    assert proc.code == 1, proc.err
    assert proc.out == ""
    assert proc.err == (
        f"Error: {path}:10:10: aliases expand the document to more than 1,000,000 values"
        " (nested aliases (an alias bomb?); write the repeated parts out)\n"
    )


def test_deep_nesting_is_refused_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(HEAD + "serviceAccounts: " + "[" * 30_000 + "]" * 30_000 + "\n")

    proc = validate(path)

    assert proc.code == 1, proc.err  # was -11: the parser segfaulted
    assert proc.out == ""
    assert proc.err == (
        f"Error: {path}:4:81: nested deeper than 64 levels"
        " (a config nests 6 levels; look for a runaway [ or {)\n"
    )


def validate_encrypted(path: Path, levels: list[str]) -> Result:
    """``validate`` (with decryption) of the encrypted file at ``path`` with ``levels`` added
    before its sops section; asserts that it took dispatchctl, sops included, under 5 s of CPU
    (sops ran for minutes on these files, dispatchctl alone needs a fraction of a second)."""
    text = path.read_text()
    path.write_text(text.replace("sops:\n", "\n".join(levels) + "\nsops:\n", 1))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = process("validate", path, timeout=WAIT, preexec_fn=bounded)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 5, cpu
    return proc


def bomb(levels: int) -> list[str]:
    """Anchored lists of ten, each made of ten aliases of the one before."""
    lines = ["b0: &b0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"b{i}: &b{i} [" + ",".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return lines


def test_an_alias_bomb_in_an_encrypted_file_is_refused_before_sops_starts(
    make_config, sops_env
) -> None:
    """sops expands aliases itself, and took minutes and gigabytes for a few hundred bytes of
    them: the file's limits are checked before sops is started, and a refused file is never
    handed to it."""
    path = make_config(HEAD + "serviceAccounts: []\n")

    proc = validate_encrypted(path, bomb(6))

    assert proc.code == 1, proc.err
    assert proc.out == ""
    assert proc.err == (
        f"Error: {path}:11:38: aliases expand the document to more than 1,000,000 values"
        " (nested aliases (an alias bomb?); write the repeated parts out)\n"
    )


def test_aliases_sops_would_take_minutes_over_are_refused_before_it_starts(
    make_config, sops_env
) -> None:
    """Within the parser's own limit (half a million values here) sops still took minutes:
    a file given to sops may have aliases stand for at most as many values as it writes
    (10,000 at least), counted as the file is parsed."""
    path = make_config(HEAD + "serviceAccounts: []\n")

    proc = validate_encrypted(path, [*bomb(5), "b5: [*b4, *b4, *b4, *b4, *b4]"])

    assert proc.code == 1, proc.err
    assert proc.out == ""
    assert (
        f"  {path}:1:1: not decrypted, so its secret values were not checked: aliases stand for"
        " 678,995 values, more than the 10,000 sops may expand for this file (past 10,000 at"
        " line 9, column 38; sops expands them itself, and took minutes for a million)"
        " (nested aliases (an alias bomb?); write the repeated parts out)"
    ) in proc.err.splitlines()
