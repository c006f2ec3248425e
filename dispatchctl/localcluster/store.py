"""The object store: one SQLite database, one row per object, one global resourceVersion.

Each write is its own committed transaction before the server answers, so a killed server loses
nothing it acknowledged and never leaves a torn store (SQLite's WAL journal), and a write costs
one row, not the whole store. ``:memory:`` gives a throw-away store for tests.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FORMAT = "dispatchctl-localcluster"
SCHEMA_VERSION = 1
STATE_FOLDER = ".dispatchctl"  # the default folder, inside a working tree

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE objects (
    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
) WITHOUT ROWID;
"""


class StateFileError(Exception):
    """The state file cannot be used: not SQLite, another program's database, or in use."""


class StateFolderError(StateFileError):
    """The folder of the state file cannot be made."""


class CommittableStateError(StateFileError):
    """The state file is where ``git add -A`` would commit it; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class Store:
    """Objects by (resource, namespace, name); namespace is "" for cluster-scoped objects.

    Callers hold ``lock`` around read-check-write sequences (optimistic concurrency needs the
    read and the write to be atomic); single calls take it themselves.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else ":memory:"
        self.lock = threading.RLock()
        self._db = self._open()
        self._rv = int(self._meta("rv"))

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            path = Path(self.path)
            if not _make_folder(path):
                _refuse_committable(path)
            if _inspect(path):
                _make_private(path)
            else:
                _create_private(path)
        where = "in memory" if self.path == ":memory:" else self.path
        try:
            db = sqlite3.connect(self.path, timeout=0.2, check_same_thread=False)
        except sqlite3.Error as err:
            raise StateFileError(f"cannot open state file {where}: {err}") from None
        db.isolation_level = None  # explicit BEGIN/COMMIT
        try:
            # One server per state file: an exclusive lock, taken by the first write below.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process kill
            db.execute("BEGIN IMMEDIATE")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                for statement in _SCHEMA.split(";")[:-1]:
                    db.execute(statement)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("format", FORMAT), ("schema", str(SCHEMA_VERSION)), ("rv", "0")],
                )
            db.execute("COMMIT")
        except sqlite3.OperationalError as err:
            db.close()
            if "locked" in str(err):
                raise StateFileError(
                    f"state file {where} is in use by another local cluster"
                ) from None
            raise StateFileError(f"state file {where} is not usable: {err}") from None
        except sqlite3.DatabaseError as err:
            db.close()
            raise StateFileError(
                f"state file {where} is not a local-cluster state file ({err})"
            ) from None
        return db

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def resource_version(self) -> int:
        return self._rv

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._db.execute(
                "SELECT body FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                (resource, namespace, name),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def list(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects in etcd key order: by namespace, then name."""
        return [json.loads(raw) for raw in self.list_raw(resource, namespace)]

    def list_raw(self, resource: str, namespace: str | None = None) -> list[str]:
        """The stored JSON of the objects, in etcd key order (lists answer it as is)."""
        with self.lock:
            if namespace is None:
                rows = self._db.execute(
                    "SELECT body FROM objects WHERE resource = ? ORDER BY namespace, name",
                    (resource,),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT body FROM objects WHERE resource = ? AND namespace = ? ORDER BY name",
                    (resource, namespace),
                ).fetchall()
        return [r[0] for r in rows]

    def put(self, resource: str, namespace: str, name: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Write obj with the next resourceVersion (set in obj and returned)."""
        with self._transaction() as db:
            rv = self._rv + 1
            obj["metadata"]["resourceVersion"] = str(rv)
            db.execute("UPDATE meta SET value = ? WHERE key = 'rv'", (str(rv),))
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                (resource, namespace, name, json.dumps(obj, separators=(",", ":"))),
            )
            self._rv = rv
        return obj

    def delete(self, resource: str, namespace: str, name: str) -> None:
        """Remove one object; a delete consumes a resourceVersion, as in etcd."""
        with self._transaction() as db:
            self._bump(db)
            db.execute(
                "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                (resource, namespace, name),
            )

    def delete_namespace(self, name: str) -> None:
        """Remove a namespace and everything in it in one transaction."""
        with self._transaction() as db:
            self._bump(db)
            db.execute("DELETE FROM objects WHERE namespace = ?", (name,))
            db.execute(
                "DELETE FROM objects WHERE resource = 'namespaces' AND namespace = '' AND name = ?",
                (name,),
            )

    def clear(self) -> None:
        """Drop every object (the resourceVersion keeps growing)."""
        with self._transaction() as db:
            self._bump(db)
            db.execute("DELETE FROM objects")

    def _bump(self, db: sqlite3.Connection) -> None:
        self._rv += 1
        db.execute("UPDATE meta SET value = ? WHERE key = 'rv'", (str(self._rv),))

    def close(self) -> None:
        with self.lock:
            self._db.close()


# --- the state file on disk: private, and never altered before it is known to be ours ---------

_SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _make_folder(path: Path) -> bool:
    """The folder of a state file; whether it is ours. One made for it, and the default
    ``.dispatchctl`` (ours by name, perhaps left world-readable by an older version), hold
    nothing but local-cluster data: mode 0700 and a ``.gitignore`` of ``*``, so ``git add -A``
    never commits a Secret."""
    folder = path.parent
    try:
        made = not folder.exists()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if made or folder.name == STATE_FOLDER:
            os.chmod(folder, 0o700)
            ignore = folder / ".gitignore"
            if not ignore.exists() and not ignore.is_symlink():
                ignore.write_text("*\n")
    except OSError as err:
        raise StateFolderError(
            f"cannot create the folder of state file {path}: {err.strerror}"
        ) from None
    return made or folder.name == STATE_FOLDER


def _refuse_committable(path: Path) -> None:
    """A state file in a folder of the user's: refused when it lies in a git working tree
    and git would commit it or its -wal, -shm or -journal (SQLite writes them beside it, and
    the -wal holds the latest Secrets too). The user's own ignore rules are left to the user:
    a tool that edits them, or hides the file from git in .git/info/exclude, surprises more
    than a refusal that says what to add."""
    git = shutil.which("git")
    if git is None:  # no git here, nothing commits the file
        return
    names = [f"{path.name}{suffix}" for suffix in ("", *_SIDE_FILES)]
    try:
        checked = subprocess.run(
            [git, "-C", str(path.parent), "check-ignore", "--stdin", "-z"],
            input="\0".join(names).encode(),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return
    if checked.returncode not in (0, 1):  # 128: not in a working tree
        return
    ignored = set(checked.stdout.decode(errors="replace").split("\0"))
    committable = [name for name in names if name not in ignored]
    if committable:
        raise CommittableStateError(
            f"state file {path} holds the Secrets in clear, and git would commit "
            f"{', '.join(committable)} (not ignored in that working tree)",
            hint=f"add {path.name}* to .gitignore, or keep the state outside the repository "
            "or in a new folder (made private, with a .gitignore of *)",
        )


def _inspect(path: Path) -> bool:
    """Whether the state file exists, after proving it is ours without writing to it.

    A read-write open of another program's database switches it to WAL (its header changes)
    before its tables can be seen; so its header is read first, then its tables through a
    read-only connection.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    except OSError as err:
        raise StateFileError(f"cannot read state file {path}: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise StateFileError(f"state file {path} is a directory")
    if not stat.S_ISREG(mode):
        raise StateFileError(f"state file {path} is not a regular file")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as err:
        raise StateFileError(f"cannot read state file {path}: {err.strerror}") from None
    if not head:
        return True  # empty: SQLite starts a new database in it
    if head != _SQLITE_MAGIC:
        raise StateFileError(f"state file {path} is not a local-cluster state file (not SQLite)")
    meta = _read_meta(path)
    if meta is None:
        return True
    if meta.get("format") != FORMAT:
        raise StateFileError(f"state file {path} is another program's SQLite database")
    if meta.get("schema") != str(SCHEMA_VERSION):
        raise StateFileError(
            f"state file {path} has schema {meta.get('schema')}; this version reads "
            f"{SCHEMA_VERSION}"
        )
    return True


def _read_meta(path: Path) -> dict[str, str] | None:
    """The meta table through a read-only connection; None for a database with no tables."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error as err:
        raise StateFileError(f"cannot open state file {path}: {err}") from None
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        if not {"meta", "objects"} <= tables:
            raise StateFileError(f"state file {path} is another program's SQLite database")
        return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}
    except sqlite3.OperationalError as err:
        if "locked" in str(err):
            raise StateFileError(f"state file {path} is in use by another local cluster") from None
        raise StateFileError(f"state file {path} is not usable: {err}") from None
    except sqlite3.DatabaseError as err:
        raise StateFileError(
            f"state file {path} is not a local-cluster state file ({err})"
        ) from None
    finally:
        db.close()


def _create_private(path: Path) -> None:
    """An empty state file of mode 0600; SQLite gives its -wal and -shm the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except FileExistsError:
        pass  # made meanwhile: SQLite's checks and locks decide
    except OSError as err:
        raise StateFileError(f"cannot create state file {path}: {err.strerror}") from None


def _make_private(path: Path) -> None:
    """Our own state file, perhaps left world-readable by an older version: 0600 again."""
    for suffix in ("", *_SIDE_FILES):
        try:
            os.chmod(f"{path}{suffix}", 0o600)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise StateFileError(
                f"cannot protect state file {path}{suffix}: {err.strerror}"
            ) from None
