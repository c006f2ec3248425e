"""One config to several clusters in one run, on real control planes; run by hand:

    .venv/bin/python benchmarks/fleet_bench.py [--targets 5] [--accounts 500] [--rounds 3]

config_bench's accounts (500: the 4,000-object config), encrypted with the real sops, go to
``--targets`` clusters, each a control plane of its own (``gotools/controlplane/control-plane
up --fsync``), named in one targets file. In the same run, rounds alternating: ``plan --targets
FILE --target t1`` (one target) and ``plan --targets FILE`` (all), first on empty clusters (a
plan of creates), then after ``apply --targets FILE --auto-approve`` (a no-change plan, each
target reading its 4,000 objects). Prints medians of wall and CPU time (process tree, sops
included) and the all/one ratio; writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.config_bench import config_text  # noqa: E402
from benchmarks.reconcile_bench import DISPATCHCTL, RESULTS, RealServer, timed, user_env  # noqa: E402
from tests.fixtures.sops import encrypt_file  # noqa: E402


def start_all(folders: list[Path]) -> list[RealServer]:
    """A control plane per folder, started at once; if one fails, the others are stopped
    (they would outlive the run, their folders deleted)."""
    with ThreadPoolExecutor(len(folders)) as pool:
        futures = [pool.submit(RealServer, folder) for folder in folders]
    started = [f.result() for f in futures if f.exception() is None]
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        for server in started:
            server.stop()
        raise failed[0]  # type: ignore[misc]
    return started


def targets_file(folder: Path, servers: list[RealServer]) -> Path:
    lines = ["targets:"]
    for index, server in enumerate(servers, 1):
        context = json.loads(server.kubeconfig.read_text())["current-context"]
        lines += [
            f"  - name: t{index}",
            f"    context: {context}",
            f"    kubeconfig: {server.kubeconfig}",
            "    configs: [credentials.yaml]",
        ]
    path = folder / "targets.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def rounds(
    targets: Path, env: dict[str, str], folder: Path, count: int, *args: str
) -> dict[str, dict[str, float]]:
    """Medians of one target and of all, alternating, each run as a user runs it."""
    runs: dict[str, list[tuple[float, float]]] = {"one": [], "all": []}
    for n in range(count):
        for name, selection in (("one", ["--target", "t1"]), ("all", [])):
            argv = [str(DISPATCHCTL), "plan", "--targets", str(targets), *selection, *args]
            wall, cpu, _, _ = timed(argv, env, folder / f"plan-{name}-{n}.out", ok=(0, 2))
            runs[name].append((wall, cpu))
    return {
        name: {
            "wall_s": statistics.median(w for w, _ in times),
            "cpu_s": statistics.median(c for _, c in times),
        }
        for name, times in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as scratch:
        folder = Path(scratch)
        key, env = user_env(folder)
        config = folder / "credentials.yaml"
        config.write_text(config_text(args.accounts))
        encrypt_file(config, key.public)
        folders = [folder / f"t{n}" for n in range(1, args.targets + 1)]
        for path in folders:
            path.mkdir()
        servers = start_all(folders)
        try:
            targets = targets_file(folder, servers)
            empty = rounds(targets, env, folder, args.rounds, "--create-namespace")
            apply_argv = [str(DISPATCHCTL), "apply", "--targets", str(targets)]
            apply_argv += ["--auto-approve", "--create-namespace"]
            wall, cpu, rss, _ = timed(apply_argv, env, folder / "apply.out")
            applied = {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss}
            unchanged = rounds(targets, env, folder, args.rounds, "--detailed-exitcode")
        finally:
            for server in servers:
                server.stop()
    load = (load_before, os.getloadavg())
    objects = args.accounts * 8
    print(
        f"{objects:,} objects to {args.targets} real control planes (etcd with fsync),"
        f" {os.cpu_count()} cores, medians of {args.rounds} rounds; load average before"
        f" {'/'.join(f'{x:.2f}' for x in load[0])}, after {'/'.join(f'{x:.2f}' for x in load[1])}"
        "\n"
    )
    print(f"{'step':<28}{'one target':>22}{f'{args.targets} targets':>22}{'all/one':>9}")
    for step, result in (("plan, empty clusters", empty), ("no-change plan", unchanged)):
        one, every = result["one"], result["all"]
        print(
            f"{step:<28}{one['wall_s']:>9.2f} s / {one['cpu_s']:>5.2f} s cpu"
            f"{every['wall_s']:>9.2f} s / {every['cpu_s']:>5.2f} s cpu"
            f"{every['wall_s'] / one['wall_s']:>8.2f}x"
        )
    print(
        f"{'apply from empty, all':<28}{'':>22}{applied['wall_s']:>9.2f} s /"
        f" {applied['cpu_s']:>5.2f} s cpu"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"fleet-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "objects": objects,
                "targets": args.targets,
                "plan_empty": empty,
                "apply_from_empty_all": applied,
                "no_change_plan": unchanged,
                "load": load,
            },
            indent=2,
        )
    )
    print(f"\n{out}")


if __name__ == "__main__":
    main()
