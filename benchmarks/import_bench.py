"""``dispatchctl import`` of a namespace set up by hand; run by hand:

    .venv/bin/python benchmarks/import_bench.py [--accounts 200]

Each account holds what ``dispatch login`` leaves (github, git over SSH, docker with its pull
Secret: 4 Secrets), written without dispatchctl's labels to a LocalApiServer in this process.
The import runs as a user runs it (a subprocess with ``--kubeconfig`` and ``--age``); the
table gives its wall time, the requests it made, and the wall time of the ``plan --adopt``
that follows (which must adopt every object and change no data).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatchctl.cluster import connect
from dispatchctl.cluster.client import collection_path
from dispatchctl.cluster.write import create_namespace
from dispatchctl.config.models import Config
from dispatchctl.desired import build_desired
from dispatchctl.localcluster import LocalApiServer
from dispatchctl.objects import CREDENTIAL_ANNOTATION
from tests.config.helpers import KNOWN_HOSTS, ssh_key
from tests.fixtures.sops import generate_age_key
from tests.support.cli import ARGV
from tests.support.objects import NS


def hand_made_config(accounts: int) -> Config:
    key = ssh_key("ed25519")
    return Config.model_validate(
        {
            "apiVersion": "dispatchctl/v1",
            "kind": "ServiceAccounts",
            "metadata": {"name": "bench"},
            "namespace": NS,
            "serviceAccounts": [
                {
                    "name": f"team-{i}",
                    "credentials": [
                        {"type": "github", "username": "octocat", "token": f"ghp-{i}"},
                        {
                            "type": "git",
                            "host": "github.com",
                            "privateKey": key,
                            "knownHosts": KNOWN_HOSTS,
                        },
                        {
                            "type": "docker",
                            "username": "bot",
                            "password": f"pw-{i}",
                            "imagePullSecret": True,
                        },
                    ],
                }
                for i in range(accounts)
            ],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200)
    args = parser.parse_args()
    with LocalApiServer() as server, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        kubeconfig = server.write_kubeconfig(folder / "kubeconfig.yaml")
        age = generate_age_key(folder)
        with connect(server=server.url) as api:
            create_namespace(api, NS)
            for obj in build_desired(hand_made_config(args.accounts)).objects:
                body = copy.deepcopy(dict(obj.manifest))
                body["metadata"].pop("labels")
                body["metadata"].get("annotations", {}).pop(CREDENTIAL_ANNOTATION, None)
                api.request("POST", collection_path(obj.ref.kind, NS), body=body)
        server.requests.clear()
        out = folder / "imported.yaml"
        env = {**os.environ, "SOPS_AGE_KEY_FILE": str(age.key_file)}
        started = time.perf_counter()
        subprocess.run(
            [*ARGV, "import", "-n", NS, "-o", str(out), "--age", age.public,
             f"--kubeconfig={kubeconfig}"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        imported = time.perf_counter() - started
        requests = len(server.requests)
        started = time.perf_counter()
        plan = subprocess.run(
            [*ARGV, "plan", "--adopt", "--format=json", str(out),
             f"--kubeconfig={kubeconfig}"],
            check=True, capture_output=True, env=env, text=True,
        )  # fmt: skip
        planned = time.perf_counter() - started
        changes = json.loads(plan.stdout)["changes"]
        assert {c["symbol"] for c in changes} == {"<="}
        assert all(k["status"] == "unchanged" for c in changes for k in c["keys"])
    objects = args.accounts * 5
    print(f"accounts {args.accounts} ({objects} objects, {len(changes)} adopted by the plan)")
    print(f"import        {imported:6.2f} s  {requests} requests")
    print(f"plan --adopt  {planned:6.2f} s")


if __name__ == "__main__":
    main()
