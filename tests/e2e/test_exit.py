"""The program ends without the interpreter's teardown (``cli/process.exit_now``); what must
happen at the end still does: the output arrives whole, the exit code is kept, and the
kubernetes client deletes the file it wrote the cluster's CA to (the real control plane's
kubeconfig carries the CA; without the atexit handlers the file stays)."""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Write, github
from tests.fixtures.sops import AgeKey
from tests.support.cli import keyed_environment, process

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def test_a_plan_process_prints_all_of_its_plan_and_leaves_no_temp_file(
    write_config: Write, kubeconfig: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    config = write_config({f"team-{i}": [github()] for i in range(40)})
    temp = tmp_path / "temp"
    temp.mkdir()
    env = keyed_environment(age_key.key_file, TMPDIR=str(temp))
    args = ["plan", config, f"--kubeconfig={kubeconfig}", "--format=json"]

    result = process(*args, "--detailed-exitcode", env=env)

    assert result.code == 2  # changes: the exit code the command returned
    document = json.loads(result.out)  # all of it: a JSON plan cut short does not parse
    assert len(document["changes"]) == 80
    assert list(temp.iterdir()) == []

    assert process(*args, "--no-decrypt", "--context=missing", env=env).code == 1
    assert list(temp.iterdir()) == []


def test_a_profiled_run_writes_its_profile(tmp_path: Path) -> None:
    """Under a profiler the exit is Python's own: ``python -m cProfile -o FILE -m dispatchctl``
    writes FILE (after os._exit it did not)."""
    profile = tmp_path / "schema.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "dispatchctl", "schema"]

    ran = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["title"]
    assert pstats.Stats(str(profile)).total_calls > 0
