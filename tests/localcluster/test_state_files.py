"""The state file on disk (issue 9 items 5 and 8): private to its owner, ignored by git, and
another program's file is never changed, not even by a byte."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatchctl.localcluster import CommittableStateError, LocalApiServer, StateFileError
from tests.localcluster.conftest import request


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_a_secret(cluster: LocalApiServer) -> None:
    status, _, _ = request(
        cluster,
        "POST",
        "/api/v1/namespaces/default/secrets",
        {"metadata": {"name": "s"}, "stringData": {"token": "canary"}},
    )
    assert status == 201


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o002)
    yield
    os.umask(previous)


def test_a_new_folder_is_private_and_ignored_by_git(tmp_path: Path, permissive_umask) -> None:
    state = tmp_path / "work" / ".dispatchctl" / "local-cluster.db"
    with LocalApiServer(state_path=state) as cluster:
        write_a_secret(cluster)
        files = sorted(p.name for p in state.parent.iterdir())
        assert files == [".gitignore", "local-cluster.db", "local-cluster.db-wal"]
        assert mode(state.parent) == 0o700
        for name in ("local-cluster.db", "local-cluster.db-wal"):
            assert mode(state.parent / name) == 0o600, name
    assert (state.parent / ".gitignore").read_text() == "*\n"


def test_git_add_all_commits_no_state(tmp_path: Path) -> None:
    git = shutil.which("git")
    assert git, "git is needed by the suite"
    work = tmp_path / "repo"
    work.mkdir()
    (work / "config.yaml").write_text("a: 1\n")
    subprocess.run([git, "init", "-q", str(work)], check=True)
    with LocalApiServer(state_path=work / ".dispatchctl" / "local-cluster.db") as cluster:
        write_a_secret(cluster)
        subprocess.run([git, "-C", str(work), "add", "-A"], check=True)
    staged = subprocess.run(
        [git, "-C", str(work), "diff", "--cached", "--name-only"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert staged == "config.yaml\n"


def test_a_state_file_git_would_commit_is_refused_before_a_byte_is_written(
    tmp_path: Path,
) -> None:
    """local-cluster serve --state and --local alike: the store refuses it."""
    git = shutil.which("git")
    assert git, "git is needed by the suite"
    work = tmp_path / "repo"
    work.mkdir()
    subprocess.run([git, "init", "-q", str(work)], check=True)
    with pytest.raises(CommittableStateError, match=r"git would commit cluster.db, cluster.db-wal"):
        LocalApiServer(state_path=work / "cluster.db")
    assert sorted(p.name for p in work.iterdir()) == [".git"]


def test_an_old_world_readable_state_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / ".dispatchctl"
    state = folder / "local-cluster.db"
    with LocalApiServer(state_path=state) as cluster:
        write_a_secret(cluster)
    (folder / ".gitignore").unlink()
    folder.chmod(0o755)
    state.chmod(0o644)
    with LocalApiServer(state_path=state):
        assert mode(folder) == 0o700
        assert mode(state) == 0o600
        assert mode(Path(f"{state}-wal")) == 0o600
        assert (folder / ".gitignore").read_text() == "*\n"


def test_an_existing_folder_of_the_user_keeps_its_mode_and_gets_no_ignore_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with LocalApiServer(state_path=folder / "cluster.db") as cluster:
        write_a_secret(cluster)
        assert mode(folder / "cluster.db") == 0o600
    assert mode(folder) == 0o755
    assert not (folder / ".gitignore").exists()


@pytest.mark.parametrize(
    "tables",
    [
        "CREATE TABLE users (name TEXT)",
        "CREATE TABLE meta (key TEXT, value TEXT); CREATE TABLE objects (x TEXT);"
        "INSERT INTO meta VALUES ('format', 'someone-else')",
    ],
    ids=["other tables", "same table names"],
)
def test_another_programs_database_is_left_byte_for_byte(tmp_path: Path, tables: str) -> None:
    state = tmp_path / "app.db"
    db = sqlite3.connect(state)
    db.executescript(tables)
    db.commit()
    db.close()
    state.chmod(0o644)
    before = digest(state)
    with pytest.raises(StateFileError, match=r"is another program's SQLite database"):
        LocalApiServer(state_path=state)
    assert digest(state) == before
    assert mode(state) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_a_file_that_is_no_database_is_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "notes.txt"
    state.write_bytes(b"SQLite is a database\n" * 50)
    before = digest(state)
    with pytest.raises(StateFileError, match=r"is not a local-cluster state file \(not SQLite\)"):
        LocalApiServer(state_path=state)
    assert digest(state) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "state.db"
    os.mkfifo(fifo)
    with pytest.raises(StateFileError, match=r"is not a regular file"):
        LocalApiServer(state_path=fifo)
