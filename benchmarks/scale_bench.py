"""How plan and apply grow with the config, on the real control plane; run by hand:

    .venv/bin/python benchmarks/scale_bench.py [--objects 1000,5000,20000] [--namespaces 5]
        [--backend real|local]

For each size, config_bench's accounts (8 objects each: 7 Secrets and the ServiceAccount) are
spread over ``--namespaces`` namespaces (each account names its own), encrypted with the real
sops. On a new cluster (``gotools/controlplane/control-plane up --fsync`` for ``real``):
``dispatchctl apply --create-namespace --auto-approve`` from empty, then a no-change
``dispatchctl plan``. Prints wall time, CPU, peak RSS of the process tree (sops included), the
requests the server counted, and the no-change plan over the sops decrypt of the same file
alone; writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.config_bench import config_text  # noqa: E402
from benchmarks.reconcile_bench import (  # noqa: E402
    DISPATCHCTL,
    RESULTS,
    LocalServer,
    RealServer,
    Server,
    median_seconds,
    timed,
    user_env,
)
from dispatchctl.config import sops  # noqa: E402
from tests.fixtures.sops import encrypt_file  # noqa: E402

OBJECTS_PER_ACCOUNT = 8


def spread(accounts: int, namespaces: int) -> str:
    """config_text's accounts, account i in namespace ``scale-<i mod namespaces>``."""
    lines = config_text(accounts).splitlines()
    out = []
    index = 0
    for line in lines:
        out.append(line)
        if line.startswith("  - name: team-"):
            out.append(f"    namespace: scale-{index % namespaces}")
            index += 1
    return "\n".join(out) + "\n"


def measure(
    server: Server, folder: Path, env: dict[str, str], config: Path
) -> list[dict[str, object]]:
    kubeconfig = f"--kubeconfig={server.kubeconfig}"
    steps = [
        ("apply from empty", ["apply", str(config), "--auto-approve", "--create-namespace"]),
        ("no-change plan", ["plan", str(config), "--detailed-exitcode"]),
    ]
    rows = []
    for name, args in steps:
        before, cpu_before = server.snapshot()
        wall, cpu, rss, _ = timed(
            [str(DISPATCHCTL), *args, kubeconfig], env, folder / f"{name}.out".replace(" ", "-")
        )
        after, cpu_after = server.snapshot()
        delta = after - before
        rows.append(
            {
                "step": name,
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mib": rss,
                "requests": sum(delta.values()),
                "by_kind": dict(delta.most_common()),
                "server_cpu_s": cpu_after - cpu_before,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", default="1000,5000,20000")
    parser.add_argument("--namespaces", type=int, default=5)
    parser.add_argument("--backend", choices=("real", "local"), default="real")
    args = parser.parse_args()
    sizes = [int(n) for n in args.objects.split(",")]
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as scratch:
        folder = Path(scratch)
        key, env = user_env(folder)
        exe = sops.resolve_binary()
        for size in sizes:
            accounts = size // OBJECTS_PER_ACCOUNT
            config = folder / f"config-{size}.yaml"
            config.write_text(spread(accounts, args.namespaces))
            encrypt_file(config, key.public)
            sops_s = median_seconds(
                lambda path=config: subprocess.run(
                    [exe, "decrypt", str(path)], capture_output=True, env=env
                ),
                runs=3,
            )
            server: Server = (
                RealServer(folder) if args.backend == "real" else LocalServer(folder, 0)
            )
            try:
                rows = measure(server, folder, env, config)
            finally:
                server.stop()
            results.append(
                {
                    "objects": accounts * OBJECTS_PER_ACCOUNT,
                    "accounts": accounts,
                    "config_bytes": config.stat().st_size,
                    "sops_decrypt_s": sops_s,
                    "steps": rows,
                }
            )
    load = (load_before, os.getloadavg())
    print(
        f"{args.backend} backend, accounts over {args.namespaces} namespaces,"
        f" {os.cpu_count()} cores;"
        f" load average before {'/'.join(f'{x:.2f}' for x in load[0])},"
        f" after {'/'.join(f'{x:.2f}' for x in load[1])}\n"
    )
    print(
        f"{'objects':>8}{'step':>18}{'wall s':>8}{'cpu s':>7}{'RSS MiB':>9}{'requests':>10}"
        f"{'srv cpu':>9}{'sops s':>8}{'/sops':>7}"
    )
    for result in results:
        for row in result["steps"]:
            ratio = row["wall_s"] / result["sops_decrypt_s"]
            print(
                f"{result['objects']:>8}{row['step']:>18}{row['wall_s']:8.2f}{row['cpu_s']:7.2f}"
                f"{row['peak_rss_mib']:9.0f}{row['requests']:>10}{row['server_cpu_s']:9.2f}"
                f"{result['sops_decrypt_s']:8.2f}{ratio:7.2f}"
            )
    for result in results:
        for row in result["steps"]:
            kinds = ", ".join(f"{n} {k}" for k, n in row["by_kind"].items())
            print(f"  {result['objects']:>6} {row['step']:<18} {kinds}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = RESULTS / f"scale-{stamp}-{args.backend}.json"
    out.write_text(
        json.dumps({"load_average_before_after": load, "results": results}, indent=2) + "\n"
    )
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
