"""Why sops found no usable key (its exit code 128), in words a user can act on.

sops prints, per recipient, the cause it met: a key file that does not open, a key of another
recipient, a file that is no age key. That cause is what the user needs, so it is passed
through, but only after cutting what some sops and age versions quote from the key material
they failed to parse (the first characters of the line, a length, a character code) and the
command line of ``SOPS_AGE_KEY_CMD``. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

KEY_VARIABLES = ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY")
NO_KEY_HINT = (
    "supply a key through sops's environment: SOPS_AGE_KEY_FILE=path/to/age-key.txt "
    "(or SOPS_AGE_KEY), a gpg keyring holding a listed PGP key, or cloud KMS credentials"
)

# (phrases of a cause, what to do about it), first match wins
_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("did not match any of the recipients", "no identity available that can decrypt"),
        "the key supplied is not one of the file's recipients: use the key of one of them, or "
        "have someone who can decrypt the file add your recipient to .sops.yaml and run "
        "`sops updatekeys FILE`",
    ),
    (
        ("SOPS_AGE_KEY_CMD",),
        "the command in SOPS_AGE_KEY_CMD failed: run it by hand to see why",
    ),
    (
        ("failed to open",),
        "sops cannot read the key file: check the path SOPS_AGE_KEY_FILE names, and that you "
        "may read it",
    ),
    (
        (
            "unknown identity type",
            "malformed secret key",
            "no secret keys found",
            "failed to parse",
        ),
        "that is not an age key: a key file holds a line AGE-SECRET-KEY-1... as age-keygen or "
        "`dispatchctl init` writes it (the age1... public key alone cannot decrypt)",
    ),
)

_LOOKED_IN = re.compile(r"\.? ?Did not find keys in locations? (.+?)\.?$")
_LOADING = re.compile(
    r"^failed to load age identities(?:\. Errors while loading age identities: )?"
)
_READER = re.compile(r"^failed to create reader for decrypting sops data key with age: ")
# Parse errors that may go on to quote what they failed to parse: keep only their name, and
# nothing after it (the quote may hold any character, so no delimiter ends it safely).
_QUOTING = re.compile(r"(unknown identity type|malformed secret key|invalid character).*$")
_COMMAND = re.compile(r"(command) .*? (from SOPS_AGE_KEY_CMD)")
_KEY_TEXT = re.compile(r"AGE-(?:SECRET-KEY|PLUGIN)-\S*", re.IGNORECASE)


@dataclass(frozen=True)
class KeyFailure:
    """``causes``: what sops met, one per distinct cause, safe to print; ``looked_in``: the
    places sops searched when it found no key at all (only then is it news)."""

    causes: tuple[str, ...]
    looked_in: str | None
    hint: str


def explain(stderr: str, key_variables: Collection[str] = ()) -> KeyFailure:
    """The causes in sops's rc-128 stderr, cleaned, and the hint that fits the first.

    ``key_variables`` names the SOPS_AGE_KEY* variables that are set: sops reports one that
    yields no key as a place it "did not find keys", and the hint must not tell the user to
    set a variable that is set already.
    """
    causes: list[str] = []
    looked_in: str | None = None
    for text in _recipient_failures(stderr):
        cause, looked = _split(text)
        looked_in = looked_in or looked
        if cause and cause not in causes:
            causes.append(cause)
    hint = NO_KEY_HINT
    if causes:
        hint = next((h for needles, h in _HINTS if any(n in causes[0] for n in needles)), hint)
    elif key_variables:
        names = " and ".join(sorted(key_variables))
        verb = "is set but holds" if len(key_variables) == 1 else "are set but hold"
        hint = (
            f"{names} {verb} no age key: "
            "a key is a line AGE-SECRET-KEY-1... (not only comments, not the age1... public key)"
        )
    return KeyFailure(tuple(causes), None if causes else looked_in, hint)


def _recipient_failures(stderr: str) -> list[str]:
    """Each ``- | text`` item of sops's report, its ``| more`` wrapped lines joined again."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in stderr.splitlines():
        stripped = line.strip()
        if stripped.startswith("- |"):
            current = [stripped[3:].strip()]
            found.append(current)
        elif stripped.startswith("|") and current is not None:
            current.append(stripped[1:].strip())
        else:
            current = None
    return [" ".join(part for part in parts if part) for parts in found]


def _split(text: str) -> tuple[str, str | None]:
    """(the cause, cleaned; where sops looked) of one recipient's failure."""
    looked = _LOOKED_IN.search(text)
    if looked:
        text = text[: looked.start()]
    text = _READER.sub("", _LOADING.sub("", text)).strip().rstrip(".")
    return _clean(text), looked.group(1) if looked else None


def _clean(text: str) -> str:
    text = _QUOTING.sub(r"\1", text)
    text = _COMMAND.sub(r"\1 \2", text)
    return _KEY_TEXT.sub("<key>", text)
