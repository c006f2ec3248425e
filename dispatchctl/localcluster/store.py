"""The object store: one SQLite database, one row per object, one global resourceVersion.

Each write is its own committed transaction before the server answers, so a killed server loses
nothing it acknowledged and never leaves a torn store (SQLite's WAL journal), and a write costs
one row, not the whole store. ``:memory:`` gives a throw-away store for tests.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FORMAT = "dispatchctl-localcluster"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE objects (
    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
) WITHOUT ROWID;
"""


class StateFileError(Exception):
    """The state file cannot be used: not SQLite, another program's database, or in use."""


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
        where = "in memory" if self.path == ":memory:" else self.path
        if self.path != ":memory:" and Path(self.path).is_dir():
            raise StateFileError(f"state file {where} is a directory")
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
        self._db = db
        self._check_format(where, tables)
        return db

    def _check_format(self, where: str, tables: set[str]) -> None:
        if tables and not {"meta", "objects"} <= tables:
            self._db.close()
            raise StateFileError(f"state file {where} is another program's SQLite database")
        fmt = self._meta("format")
        schema = self._meta("schema")
        if fmt != FORMAT:
            self._db.close()
            raise StateFileError(f"state file {where} is another program's SQLite database")
        if schema != str(SCHEMA_VERSION):
            self._db.close()
            raise StateFileError(
                f"state file {where} has schema {schema}; this version reads {SCHEMA_VERSION}"
            )

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
