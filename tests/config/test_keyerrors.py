"""sops's rc-128 report -> cause and hint, for report shapes of other sops and age versions than
the bundled one (the real binary's shapes are tested in test_sops.py)."""

from __future__ import annotations

from dispatchctl.config.keyerrors import NO_KEY_HINT, explain


def report(*causes: str) -> str:
    """sops's "Group 0: FAILED" block, one recipient per cause, wrapped as sops wraps."""
    lines = ["Failed to get the data key required to decrypt the SOPS file.", "", "Group 0: FAILED"]
    for n, cause in enumerate(causes):
        words = cause.split(" ")
        lines.append(f"  age1recipient{n}: FAILED")
        lines.append("    - | " + " ".join(words[:6]))
        for start in range(6, len(words), 6):
            lines.append("      | " + " ".join(words[start : start + 6]))
    lines += ["", "Recovery failed because no master key was able to decrypt the file."]
    return "\n".join(lines) + "\n"


def test_a_newer_sops_quoting_the_start_of_a_bad_line_is_cut() -> None:
    """sops 3.12 writes ``unknown identity type: %.12s``: the first characters of the line,
    which in a file that is no key file may be a password."""
    failure = explain(
        report(
            "failed to load age identities. Errors while loading age identities: failed to parse"
            " 'SOPS_AGE_KEY_FILE' age identities: error at line 3: unknown identity type:"
            " hunter.2;canar. Did not find keys in locations 'SOPS_AGE_KEY'."
        )
    )
    assert failure.causes == (
        "failed to parse 'SOPS_AGE_KEY_FILE' age identities: error at line 3:"
        " unknown identity type",
    )
    assert failure.looked_in is None


def test_bech32_details_and_key_text_are_cut() -> None:
    failure = explain(
        report(
            "failed to load age identities. Errors while loading age identities: failed to parse"
            " 'SOPS_AGE_KEY' age identities: malformed secret key: invalid character data part:"
            " s[7]=98",
            "failed to load age identities. Errors while loading age identities: failed to parse"
            " 'X' age identities: AGE-SECRET-KEY-1QPZRY9 is broken",
        )
    )
    assert failure.causes == (
        "failed to parse 'SOPS_AGE_KEY' age identities: malformed secret key",
        "failed to parse 'X' age identities: <key> is broken",
    )


def test_one_cause_shared_by_every_recipient_is_said_once() -> None:
    cause = (
        "failed to load age identities. Errors while loading age identities: failed to open"
        " SOPS_AGE_KEY_FILE file: open /keys/k.txt: permission denied"
    )
    failure = explain(report(cause, cause))
    assert failure.causes == (
        "failed to open SOPS_AGE_KEY_FILE file: open /keys/k.txt: permission denied",
    )
    assert failure.hint.startswith("sops cannot read the key file")


def test_no_cause_keeps_where_sops_looked_and_the_general_hint() -> None:
    failure = explain(
        report(
            "failed to load age identities. Did not find keys in locations 'SOPS_AGE_KEY',"
            " 'SOPS_AGE_KEY_FILE', and '/home/u/.config/sops/age/keys.txt'."
        )
    )
    assert failure.causes == ()
    assert failure.looked_in == (
        "'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', and '/home/u/.config/sops/age/keys.txt'"
    )
    assert failure.hint == NO_KEY_HINT


def test_other_key_types_keep_their_cause_and_the_general_hint() -> None:
    failure = explain(report("could not decrypt data key with PGP key: gpg: decryption failed"))
    assert failure.causes == ("could not decrypt data key with PGP key: gpg: decryption failed",)
    assert failure.hint == NO_KEY_HINT


def test_text_that_is_no_report_gives_no_cause() -> None:
    assert explain("panic: something\n").causes == ()
