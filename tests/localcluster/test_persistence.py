"""The SQLite state file: survives restarts and kills, refuses files that are not its own."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dispatchctl.localcluster import LocalApiServer, StateFileError
from tests.localcluster.conftest import request


def secret_names(cluster: LocalApiServer, namespace: str = "default") -> list[str]:
    _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{namespace}/secrets")
    return [i["metadata"]["name"] for i in body["items"]]


def test_restart_on_the_same_state_keeps_everything(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with LocalApiServer(state_path=state) as cluster:
        request(cluster, "POST", "/api/v1/namespaces", {"metadata": {"name": "dispatch"}})
        _, created, _ = request(
            cluster, "POST", "/api/v1/namespaces/dispatch/secrets", {"metadata": {"name": "s"}}
        )
    with LocalApiServer(state_path=state) as cluster:
        _, read, _ = request(cluster, "GET", "/api/v1/namespaces/dispatch/secrets/s")
        assert read == created
        _, namespaces, _ = request(cluster, "GET", "/api/v1/namespaces")
        assert len(namespaces["items"]) == 5
        _, again, _ = request(
            cluster, "POST", "/api/v1/namespaces/dispatch/secrets", {"metadata": {"name": "t"}}
        )
        assert int(again["metadata"]["resourceVersion"]) > int(
            created["metadata"]["resourceVersion"]
        )


SERVE = """
import sys
from dispatchctl.localcluster import LocalApiServer
cluster = LocalApiServer(state_path=sys.argv[1]).start()
print(cluster.port, flush=True)
sys.stdin.read()
"""


def test_a_killed_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline())
        acknowledged = []
        for i in range(50):
            status, _, _ = request(
                port,
                "POST",
                "/api/v1/namespaces/default/secrets",
                {"metadata": {"name": f"s{i}"}},
            )
            assert status == 201
            acknowledged.append(f"s{i}")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    db = sqlite3.connect(state)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with LocalApiServer(state_path=state) as cluster:
        assert sorted(secret_names(cluster)) == sorted(acknowledged)


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    state.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateFileError, match=r"is not a local-cluster state file"):
        LocalApiServer(state_path=state)


def test_another_programs_database_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "other.db"
    db = sqlite3.connect(state)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StateFileError, match=r"is another program's SQLite database"):
        LocalApiServer(state_path=state)


def test_a_state_file_serves_one_cluster_at_a_time(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with (
        LocalApiServer(state_path=state),
        pytest.raises(StateFileError, match=r"is in use by another local cluster"),
    ):
        LocalApiServer(state_path=state)
    LocalApiServer(state_path=state).stop()


def test_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match=r"is a directory"):
        LocalApiServer(state_path=tmp_path)
