"""Load + validate + build a config of 500 service accounts x 6 credentials; run by hand:

    .venv/bin/python benchmarks/config_bench.py

Prints the sops call alone, the whole load (sops included), and the desired-state build, as
medians of a few runs. The goal: load and validate well under a second beyond the sops call.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from dispatchctl.config import sops
from dispatchctl.config.load import load_config
from dispatchctl.desired import build_desired
from tests.config.helpers import KNOWN_HOSTS
from tests.fixtures.sops import encrypt_file, generate_age_key

ACCOUNTS = 500
RUNS = 5


def config_text(accounts: int) -> str:
    key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    key_block = "\n".join("          " + line for line in key.decode().splitlines())
    lines = [
        "apiVersion: dispatchctl/v1",
        "kind: ServiceAccounts",
        "metadata:",
        "  name: bench",
        "namespace: dispatch",
        "serviceAccounts:",
    ]
    for i in range(accounts):
        lines += [
            f"  - name: team-{i}",
            "    labels: {tier: bench}",
            "    credentials:",
            "      - {type: github, username: octocat, token: ghp_bench_token_value}",
            "      - {type: gitlab, url: 'https://gitlab.example.com', username: u, token: glpat}",
            "      - {type: bitbucket-cloud, username: u, appPassword: app-password}",
            "      - {type: bitbucket-server, url: 'https://bb.example.com', username: u,"
            " token: t}",
            "      - type: git",
            "        host: github.com",
            "        privateKey: |",
            key_block,
            f"        knownHosts: {KNOWN_HOSTS}",
            "      - type: docker",
            "        registry: https://us.gcr.io",
            "        username: _json_key",
            "        password: docker-password",
            "        imagePullSecret: true",
        ]
    return "\n".join(lines) + "\n"


def median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import os

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        key = generate_age_key(folder)
        path = folder / "big.yaml"
        path.write_text(config_text(ACCOUNTS))
        encrypt_file(path, key.public)
        os.environ["SOPS_AGE_KEY_FILE"] = str(key.key_file)
        lines = len(path.read_text().splitlines())

        sops_only = median_seconds(lambda: sops.decrypt(path))
        loaded = load_config([path])
        load = median_seconds(lambda: load_config([path]))
        no_decrypt = median_seconds(lambda: load_config([path], decrypt=False))
        build = median_seconds(lambda: build_desired(loaded.config))
        objects = len(build_desired(loaded.config).objects)

    print(f"config: {ACCOUNTS} accounts x 6 credentials, {lines} lines encrypted")
    print(f"sops decrypt alone:            {sops_only * 1000:7.0f} ms")
    print(f"load_config (sops included):   {load * 1000:7.0f} ms")
    print(f"  beyond the sops call:        {(load - sops_only) * 1000:7.0f} ms")
    print(f"load_config --no-decrypt:      {no_decrypt * 1000:7.0f} ms")
    print(f"build_desired ({objects} objects): {build * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
