"""dispatchctl against kubectl on the same local cluster, in the same run; run by hand:

    .venv/bin/python benchmarks/reconcile_bench.py [--accounts 500] [--rounds 1] [--latency-ms 0]

The config is config_bench's (500 accounts x 6 credentials; the docker credential also makes
an image pull Secret: 500 ServiceAccounts + 3,500 Secrets = 4,000 objects), encrypted with
the real sops. Every command runs as a user runs it, as a subprocess with ``--kubeconfig``,
against a LocalCluster serving from its own process (the machine has 2 cores; the server's
CPU is not charged to the client). That process reports its request log over a pipe.

dispatchctl: apply from empty, a no-change plan, a plan and an apply with 10% of the Secrets
changed (every secret value of one account in ten). kubectl, on the same server reset to
empty: ``kubectl apply -f`` of ``dispatchctl render --reveal``, ``kubectl diff -f``, then the
changed render diffed and applied. Both start from the namespace created by kubectl, which
also warms kubectl's discovery cache (a user's usually is). The two end states are compared.
``--latency-ms`` delays every answer of the server (a stand-in for the network to a real API
server; loopback has none), which is what kubectl's one-request-at-a-time apply pays most for.

Prints a table (wall time, client CPU, peak RSS of the process tree, requests, server CPU,
ratio to kubectl) and writes it as JSON to benchmarks/results/. Rendered secrets exist only
in a temporary folder removed at the end (synthetic values anyway).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.config_bench import config_text  # noqa: E402
from dispatchctl.config import sops  # noqa: E402
from tests.fixtures.sops import encrypt_file, generate_age_key  # noqa: E402

BIN = Path(sys.executable).parent
DISPATCHCTL = BIN / "dispatchctl"
KUBECTL = BIN / "kubectl"
NAMESPACE = "dispatch"
CHANGED_EVERY = 10  # one account in ten gets new secret values: 10% of the Secrets
RESULTS = ROOT / "benchmarks" / "results"

# Secret values in config_bench's account block, and what the changed config says instead.
ROTATE = {
    "token: ghp_bench_token_value}": "token: ghp_bench_token_rotated}",
    "token: glpat}": "token: glpat-rotated}",
    "appPassword: app-password}": "appPassword: app-password-rotated}",
    " token: t}": " token: t-rotated}",
    "password: docker-password\n": "password: docker-password-rotated\n",
}
ACCOUNT_START = "\n  - name: team-"


# --- the server, in its own process ---------------------------------------------------------


def serve(conn: Connection, kubeconfig: str, latency: float) -> None:
    """Run a LocalCluster and answer the parent's questions about it until told to stop."""
    from dispatchctl.localcluster import Fault, LocalCluster

    cluster = LocalCluster().start()
    cluster.write_kubeconfig(kubeconfig)
    conn.send(cluster.url)
    while True:
        command = conn.recv()
        if command == "stop":
            break
        if command == "reset":
            cluster.reset()
            conn.send(None)
        elif command == "network":
            if latency:
                cluster.faults.add(Fault(latency=latency, count=None))
            conn.send(None)
        elif command == "snapshot":
            cluster.check()
            with cluster._log_lock:
                counts = Counter(f"{r.verb} {r.resource}".strip() for r in cluster.requests)
            conn.send((dict(counts), time.process_time()))
        elif command == "state":
            conn.send(state_of(cluster))
    cluster.stop()
    conn.close()


def state_of(cluster: Any) -> dict[str, Any]:
    """Object counts and a digest of what both tools must agree on (values are only hashed)."""
    secrets = cluster.store.list("secrets", NAMESPACE)
    accounts = cluster.store.list("serviceaccounts", NAMESPACE)
    digest = hashlib.sha256()
    for s in sorted(secrets, key=lambda o: o["metadata"]["name"]):
        entry = [s["metadata"]["name"], s.get("type"), sorted((s.get("data") or {}).items())]
        digest.update(json.dumps(entry).encode())
    for a in sorted(accounts, key=lambda o: o["metadata"]["name"]):
        refs = [a.get("secrets"), a.get("imagePullSecrets")]
        digest.update(json.dumps([a["metadata"]["name"], refs]).encode())
    return {
        "secrets": len(secrets),
        "serviceaccounts": len(accounts),
        "digest": digest.hexdigest()[:16],
    }


class Server:
    def __init__(self, kubeconfig: Path, latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=serve, args=(child, str(kubeconfig), latency), daemon=True)
        self._proc.start()
        child.close()
        self.url = self._ask(None)

    def _ask(self, command: str | None) -> Any:
        if command is not None:
            self._conn.send(command)
        if not self._conn.poll(60):
            raise RuntimeError(f"the server process did not answer {command!r}")
        return self._conn.recv()

    def reset(self) -> None:
        """Empty, with no latency (reset clears faults) until ``network()``."""
        self._ask("reset")

    def network(self) -> None:
        self._ask("network")

    def snapshot(self) -> tuple[Counter[str], float]:
        counts, cpu = self._ask("snapshot")
        return Counter(counts), cpu

    def state(self) -> dict[str, Any]:
        return self._ask("state")

    def stop(self) -> None:
        self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


# --- running a client as a user does --------------------------------------------------------


@dataclass
class Step:
    step: str
    tool: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    requests: int
    by_kind: dict[str, int]
    server_cpu_s: float
    exit_code: int
    ratio_to_kubectl: float | None = None
    notes: list[str] = field(default_factory=list)


def timed(
    argv: Sequence[str], env: dict[str, str], out: Path, ok: Sequence[int] = (0,)
) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS (MiB, largest process of the tree), exit code.

    os.wait4 gives this child's own rusage (its waited-for children, sops, included)."""
    with out.open("wb") as stdout, (out.with_suffix(".err")).open("wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        err = out.with_suffix(".err").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(map(str, argv[:3]))} exited {proc.returncode}: {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


class Bench:
    def __init__(self, folder: Path, server: Server, env: dict[str, str]) -> None:
        self.folder, self.server, self.env = folder, server, env
        self.kubeconfig = folder / "kubeconfig"
        self.cache = folder / "kube-cache"
        self.n = 0

    def kubectl_argv(self, *args: str) -> list[str]:
        return [str(KUBECTL), f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache}", *args]

    def run(self, step: str, tool: str, argv: list[str], ok: Sequence[int] = (0,)) -> Step:
        self.n += 1
        out = self.folder / f"out-{self.n:02d}.txt"
        before, cpu_before = self.server.snapshot()
        wall, cpu, rss, code = timed(argv, self.env, out, ok)
        after, cpu_after = self.server.snapshot()
        delta = after - before
        return Step(
            step,
            tool,
            wall,
            cpu,
            rss,
            sum(delta.values()),
            dict(delta.most_common()),
            cpu_after - cpu_before,
            code,
        )

    def output(self) -> str:
        return (self.folder / f"out-{self.n:02d}.txt").read_text()

    def fresh_cluster(self) -> None:
        self.server.reset()
        subprocess.run(
            self.kubectl_argv("create", "namespace", NAMESPACE), check=True, capture_output=True
        )
        self.server.network()

    def dispatchctl(self, config: Path, changed: Path) -> tuple[list[Step], dict[str, Any]]:
        k = f"--kubeconfig={self.kubeconfig}"
        self.fresh_cluster()
        steps = [
            self.run(
                "apply from empty",
                "dispatchctl",
                [str(DISPATCHCTL), "apply", str(config), k, "--auto-approve"],
            )
        ]
        expect(self.output(), "Apply complete: ")
        steps.append(
            self.run(
                "no-change plan",
                "dispatchctl",
                [str(DISPATCHCTL), "plan", str(config), k, "--detailed-exitcode"],
            )
        )
        expect(self.output(), "No changes.")
        steps.append(
            self.run(
                "plan, 10% changed",
                "dispatchctl",
                [str(DISPATCHCTL), "plan", str(changed), k, "--detailed-exitcode"],
                ok=(2,),
            )
        )
        steps[-1].notes.append(plan_line(self.output()))
        steps.append(
            self.run(
                "apply, 10% changed",
                "dispatchctl",
                [str(DISPATCHCTL), "apply", str(changed), k, "--auto-approve"],
            )
        )
        expect(self.output(), "Apply complete: ")
        return steps, self.server.state()

    def kubectl(self, rendered: Path, rendered_changed: Path) -> tuple[list[Step], dict[str, Any]]:
        self.fresh_cluster()
        steps = [
            self.run("apply from empty", "kubectl", self.kubectl_argv("apply", "-f", str(rendered)))
        ]
        steps.append(
            self.run("no-change plan", "kubectl", self.kubectl_argv("diff", "-f", str(rendered)))
        )
        steps.append(
            self.run(
                "plan, 10% changed",
                "kubectl",
                self.kubectl_argv("diff", "-f", str(rendered_changed)),
                ok=(1,),
            )
        )
        steps.append(
            self.run(
                "apply, 10% changed",
                "kubectl",
                self.kubectl_argv("apply", "-f", str(rendered_changed)),
            )
        )
        steps[-1].notes.append(f"{self.output().count(' configured')} configured")
        return steps, self.server.state()


def expect(output: str, text: str) -> None:
    if text not in output:
        raise RuntimeError(f"expected {text!r} in the output; got ...{output[-500:]}")


def plan_line(output: str) -> str:
    return next((line for line in output.splitlines() if line.startswith("Plan: ")), "")


# --- configs --------------------------------------------------------------------------------


def changed_text(accounts: int) -> tuple[str, str]:
    """config_bench's config and a copy where one account in ten has new secret values.

    config_text makes a new SSH key per call, so a second call supplies changed privateKeys."""
    original, other = config_text(accounts), config_text(accounts)
    head, *blocks = original.split(ACCOUNT_START)
    _, *other_blocks = other.split(ACCOUNT_START)
    changed = []
    for i, (block, alternative) in enumerate(zip(blocks, other_blocks, strict=True)):
        if i % CHANGED_EVERY == 0:
            for old, new in ROTATE.items():
                assert old in alternative, old
                alternative = alternative.replace(old, new)
            block = alternative
        changed.append(block)
    return original, ACCOUNT_START.join([head, *changed])


def median_seconds(fn: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- report ---------------------------------------------------------------------------------


def merge(rounds: list[list[Step]]) -> list[Step]:
    """Medians over rounds of wall, CPU and RSS; requests are identical from round to round."""
    merged = []
    for same in zip(*rounds, strict=True):
        first = same[0]
        merged.append(
            Step(
                first.step,
                first.tool,
                statistics.median(s.wall_s for s in same),
                statistics.median(s.cpu_s for s in same),
                statistics.median(s.peak_rss_mib for s in same),
                first.requests,
                first.by_kind,
                statistics.median(s.server_cpu_s for s in same),
                first.exit_code,
                notes=first.notes,
            )
        )
    return merged


def table(steps: list[Step], sops_s: float) -> str:
    peers = {s.step: s for s in steps if s.tool == "kubectl"}
    rows = [
        f"{'step':<20}{'tool':<13}{'wall s':>8}{'-sops s':>8}{'cpu s':>7}{'RSS MiB':>9}"
        f"{'requests':>10}{'srv cpu':>9}{'kubectl/x':>10}"
    ]
    for s in steps:
        peer = peers.get(s.step)
        if s.tool != "kubectl" and peer is not None:
            s.ratio_to_kubectl = peer.wall_s / s.wall_s
        beyond = f"{s.wall_s - sops_s:8.2f}" if s.tool == "dispatchctl" else f"{'':>8}"
        ratio = f"{s.ratio_to_kubectl:9.1f}x" if s.ratio_to_kubectl else f"{'':>10}"
        rows.append(
            f"{s.step:<20}{s.tool:<13}{s.wall_s:8.2f}{beyond}{s.cpu_s:7.2f}{s.peak_rss_mib:9.0f}"
            f"{s.requests:>10}{s.server_cpu_s:9.2f}{ratio}"
        )
    rows.append("")
    rows.append("requests by kind:")
    for s in steps:
        kinds = ", ".join(f"{n} {k}" for k, n in s.by_kind.items())
        notes = f"  [{'; '.join(s.notes)}]" if s.notes else ""
        rows.append(f"  {s.tool:<12}{s.step:<20}{kinds}{notes}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="repeat both sequences; medians")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every server answer (a network)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as scratch:
        folder = Path(scratch)
        key = generate_age_key(folder)
        env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key.key_file), "NO_COLOR": "1"}
        env.pop("KUBECONFIG", None)
        os.environ["SOPS_AGE_KEY_FILE"] = str(key.key_file)
        config, changed = folder / "config.yaml", folder / "changed.yaml"
        original_text, changed_config = changed_text(args.accounts)
        for path, text in ((config, original_text), (changed, changed_config)):
            path.write_text(text)
            encrypt_file(path, key.public)
        sops_s = median_seconds(lambda: sops.decrypt(config))
        startup_argv = [str(DISPATCHCTL), "plan", "--help"]
        startup_s = median_seconds(lambda: subprocess.run(startup_argv, capture_output=True))

        server = Server(folder / "kubeconfig", args.latency_ms / 1000)
        try:
            bench = Bench(folder, server, env)
            rendered, rendered_changed = folder / "rendered.yaml", folder / "rendered-changed.yaml"
            renders = []
            for source, target in ((config, rendered), (changed, rendered_changed)):
                wall, _, rss, _ = timed(
                    [str(DISPATCHCTL), "render", "--reveal", str(source)], env, target
                )
                renders.append({"wall_s": wall, "peak_rss_mib": rss})
            objects = rendered.read_text().count("\nkind: ") + rendered.read_text().startswith(
                "kind: "
            )
            rounds: list[list[Step]] = []
            states = []
            for _ in range(args.rounds):
                ours, our_state = bench.dispatchctl(config, changed)
                theirs, their_state = bench.kubectl(rendered, rendered_changed)
                rounds.append(ours + theirs)
                states.append((our_state, their_state))
        finally:
            server.stop()

    steps = merge(rounds)
    load = (load_before, os.getloadavg()[0])
    same_end_state = all(a == b for a, b in states)
    header = (
        f"{args.accounts} accounts x 6 credentials: {objects} objects "
        f"(rendered with --reveal in {renders[0]['wall_s']:.2f} s), {args.rounds} round(s), "
        f"{os.cpu_count()} cores, {args.latency_ms:g} ms added to every answer\n"
        f"sops decrypt alone (median of 5): {sops_s:.2f} s; '-sops s' = wall minus that\n"
        f"dispatchctl start-up and imports (plan --help, median of 5): {startup_s:.2f} s\n"
        f"load average before/after: {load[0]:.2f}/{load[1]:.2f} (other work skews wall times)\n"
        f"end state, dispatchctl vs kubectl: {states[0][0]} vs {states[0][1]} -> "
        f"{'identical' if same_end_state else 'DIFFERENT'}\n"
    )
    print(header)
    print(table(steps, sops_s))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result_file = RESULTS / f"reconcile-{stamp}-{args.latency_ms:g}ms.json"
    result_file.write_text(
        json.dumps(
            {
                "accounts": args.accounts,
                "objects": objects,
                "rounds": args.rounds,
                "cpus": os.cpu_count(),
                "latency_ms": args.latency_ms,
                "sops_decrypt_s": sops_s,
                "startup_s": startup_s,
                "load_average_before_after": load,
                "render_reveal": renders,
                "end_states": states,
                "same_end_state": same_end_state,
                "steps": [asdict(s) for s in steps],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {result_file.relative_to(ROOT)}")
    if not same_end_state:
        sys.exit(1)


if __name__ == "__main__":
    main()
