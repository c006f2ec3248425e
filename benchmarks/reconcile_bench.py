"""dispatchctl against kubectl on the same cluster, in the same run; run by hand:

    .venv/bin/python benchmarks/reconcile_bench.py [--backend local|real|both] [--accounts 500]
        [--rounds 1] [--latency-ms 0]

The config is config_bench's (500 accounts x 6 credentials; the docker credential also makes
an image pull Secret: 500 ServiceAccounts + 3,500 Secrets = 4,000 objects), each account with
values of its own, encrypted with the real sops; the changed config is made with sops edit.
Every command runs as a user runs it, as a subprocess with ``--kubeconfig``.

Two backends. ``local``: a LocalApiServer serving from its own process (the machine has 2 cores;
the server's CPU is not charged to the client), which reports its request log over a pipe.
``real``: kube-apiserver, etcd (with fsync, as a real cluster runs it) and
kube-controller-manager from ``gotools/controlplane/control-plane up DIR --fsync``, new for
each tool's sequence; requests are counted from the apiserver's own
``apiserver_request_total`` metric, and kubectl is the one built with it (same version).

dispatchctl: apply from empty, a no-change plan (with the key, then without: --no-decrypt), a
no-op apply, a plan and an apply with 10% of the Secrets changed (every secret value of one
account in ten). kubectl, on the same server
made empty again: ``kubectl apply -f`` of ``dispatchctl render --reveal``, ``kubectl diff -f``,
the same apply again (no-op), then the changed render diffed and applied; on the real backend
also ``kubectl apply --server-side`` (from empty, no-op, changed). Each sequence starts from
the namespace created by kubectl, which also warms kubectl's discovery cache (a user's usually
is). The end states are compared. ``--latency-ms`` delays every answer of the local server (a
stand-in for the network to a real API server; loopback has none).

Prints a table per backend (wall time, client CPU, peak RSS of the process tree, requests,
server CPU, kubectl's time over dispatchctl's) and writes it as JSON to benchmarks/results/.
Rendered secrets exist only in a temporary folder removed at the end (synthetic values anyway).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import re
import shutil
import ssl
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.config_bench import config_text  # noqa: E402
from dispatchctl.config import sops  # noqa: E402
from tests.fixtures.sops import AgeKey, edit_file, encrypt_file, generate_age_key  # noqa: E402

BIN = Path(sys.executable).parent
DISPATCHCTL = BIN / "dispatchctl"
KUBECTL = BIN / "kubectl"
CONTROL_PLANE = ROOT / "gotools" / "controlplane" / "control-plane"
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
_SECRET_VALUE = re.compile(r"((?:token|appPassword|password): [^}\n]+)")


# --- the local server, in its own process ---------------------------------------------------


def serve(conn: Connection, kubeconfig: str, latency: float) -> None:
    """Run a LocalApiServer and answer the parent's questions about it until told to stop."""
    from dispatchctl.localcluster import Fault, LocalApiServer

    cluster = LocalApiServer().start()
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
            secrets = cluster.store.list("secrets", NAMESPACE)
            conn.send(state_of(secrets, cluster.store.list("serviceaccounts", NAMESPACE)))
    cluster.stop()
    conn.close()


def state_of(secrets: list[dict[str, Any]], accounts: list[dict[str, Any]]) -> dict[str, Any]:
    """Object counts and a digest of what both tools must agree on (values are only hashed)."""
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


class LocalServer:
    name = "local"
    kubectl = KUBECTL
    server_side_apply = False  # the local cluster has no server-side apply

    def __init__(self, folder: Path, latency: float) -> None:
        self.kubeconfig = folder / "kubeconfig"
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=serve, args=(child, str(self.kubeconfig), latency), daemon=True
        )
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


# --- the real control plane -----------------------------------------------------------------

# apiserver_request_total's verbs, as the local cluster's request log names them
_VERBS = {
    "GET": "get",
    "LIST": "list",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
    "APPLY": "apply",
}
# What a run of dispatchctl or kubectl touches; the control plane's own background requests
# are mostly elsewhere (a renewal of the apiserver's identity Lease may add one).
_COUNTED = frozenset({"secrets", "serviceaccounts", "namespaces", "leases"})


class RealServer:
    """kube-apiserver + etcd (fsync) + kube-controller-manager; ``reset`` starts a new one."""

    name = "real"
    server_side_apply = True

    def __init__(self, folder: Path) -> None:
        self.kubeconfig = folder / "kubeconfig"
        self._dir = folder / "control-plane"
        self._state: dict[str, Any] = {}
        self._up()

    def _up(self) -> None:
        if self._dir.exists():
            shutil.rmtree(self._dir)
        self._dir.mkdir()
        proc = subprocess.run(
            [str(CONTROL_PLANE), "up", str(self._dir), "--fsync"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"gotools/controlplane/control-plane up failed: {proc.stderr[-2000:]}"
            )
        self._state = json.loads((self._dir / "control-plane.json").read_text())
        shutil.copyfile(self._dir / "kubeconfig", self.kubeconfig)
        self.url = str(self._state["server"])
        self.kubectl = Path(self._state["bin"]) / "kubectl"
        config = json.loads(self.kubeconfig.read_text())
        self._token = str(config["users"][0]["user"]["token"])
        ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
        self._tls = ssl.create_default_context(cadata=ca.decode())

    def _get(self, path: str) -> bytes:
        where = urlsplit(self.url)
        conn = http.client.HTTPSConnection(where.hostname, where.port, context=self._tls)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {self._token}"})
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        if answer.status != 200:
            raise RuntimeError(f"GET {path}: {answer.status}")
        return body

    def reset(self) -> None:
        self.stop()
        self._up()

    def network(self) -> None:
        pass  # a real network stack; --latency-ms is for the local cluster

    def snapshot(self) -> tuple[Counter[str], float]:
        counts: Counter[str] = Counter()
        for line in self._get("/metrics").decode().splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels_text, _, value = line[len("apiserver_request_total{") :].rpartition("} ")
            labels = dict(part.split("=", 1) for part in labels_text.split(",") if "=" in part)
            labels = {k: v.strip('"') for k, v in labels.items()}
            verb, resource = labels.get("verb", ""), labels.get("resource", "")
            if verb in _VERBS and resource in _COUNTED:
                counts[f"{_VERBS[verb]} {resource}"] += int(float(value))
        return counts, self._cpu()

    def _cpu(self) -> float:
        """User + system seconds of the control plane's processes (etcd, apiserver, kcm)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self._state.get("processes") or []:
            fields = Path(f"/proc/{process['pid']}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def state(self) -> dict[str, Any]:
        secrets = json.loads(self._get(f"/api/v1/namespaces/{NAMESPACE}/secrets"))["items"]
        accounts = json.loads(self._get(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts"))
        ours = [a for a in accounts["items"] if a["metadata"]["name"] != "default"]
        return state_of(secrets, ours)

    def stop(self) -> None:
        subprocess.run([str(CONTROL_PLANE), "down", str(self._dir)], capture_output=True)


Server = LocalServer | RealServer


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
    ratio_to_dispatchctl: float | None = None
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
        self.cache = folder / "kube-cache"
        self.n = 0

    def kubectl_argv(self, *args: str) -> list[str]:
        return [
            str(self.server.kubectl),
            f"--kubeconfig={self.server.kubeconfig}",
            f"--cache-dir={self.cache}",
            *args,
        ]

    def dispatchctl_argv(self, *args: str) -> list[str]:
        return [str(DISPATCHCTL), *args, f"--kubeconfig={self.server.kubeconfig}"]

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
        self.fresh_cluster()
        apply, plan = ("apply", str(config), "--auto-approve"), ("plan", str(config))
        steps = [self.run("apply from empty", "dispatchctl", self.dispatchctl_argv(*apply))]
        expect(self.output(), "Apply complete: ")
        steps.append(
            self.run(
                "no-change plan",
                "dispatchctl",
                self.dispatchctl_argv(*plan, "--detailed-exitcode"),
            )
        )
        expect(self.output(), "No changes.")
        steps.append(
            self.run(
                "no-change, no key",
                "dispatchctl",
                self.dispatchctl_argv(*plan, "--no-decrypt", "--detailed-exitcode"),
            )
        )
        expect(self.output(), "No changes.")
        steps.append(self.run("no-op apply", "dispatchctl", self.dispatchctl_argv(*apply)))
        expect(self.output(), "No changes.")
        steps.append(
            self.run(
                "plan, 10% changed",
                "dispatchctl",
                self.dispatchctl_argv("plan", str(changed), "--detailed-exitcode"),
                ok=(2,),
            )
        )
        steps[-1].notes.append(plan_line(self.output()))
        steps.append(
            self.run(
                "apply, 10% changed",
                "dispatchctl",
                self.dispatchctl_argv("apply", str(changed), "--auto-approve"),
            )
        )
        expect(self.output(), "Apply complete: ")
        return steps, self.server.state()

    def kubectl(self, rendered: Path, rendered_changed: Path) -> tuple[list[Step], dict[str, Any]]:
        self.fresh_cluster()
        apply, changed = ("apply", "-f", str(rendered)), ("apply", "-f", str(rendered_changed))
        steps = [self.run("apply from empty", "kubectl", self.kubectl_argv(*apply))]
        steps.append(
            self.run("no-change plan", "kubectl", self.kubectl_argv("diff", "-f", str(rendered)))
        )
        steps.append(self.run("no-op apply", "kubectl", self.kubectl_argv(*apply)))
        steps.append(
            self.run(
                "plan, 10% changed",
                "kubectl",
                self.kubectl_argv("diff", "-f", str(rendered_changed)),
                ok=(1,),
            )
        )
        steps.append(self.run("apply, 10% changed", "kubectl", self.kubectl_argv(*changed)))
        steps[-1].notes.append(f"{self.output().count(' configured')} configured")
        return steps, self.server.state()

    def server_side(
        self, rendered: Path, rendered_changed: Path
    ) -> tuple[list[Step], dict[str, Any]]:
        """``kubectl apply --server-side``: one PATCH per object, merged by the server."""
        self.fresh_cluster()
        ssa = ("apply", "--server-side", "-f")
        tool = "kubectl --server-side"
        steps = [self.run("apply from empty", tool, self.kubectl_argv(*ssa, str(rendered)))]
        steps.append(self.run("no-op apply", tool, self.kubectl_argv(*ssa, str(rendered))))
        steps.append(
            self.run("apply, 10% changed", tool, self.kubectl_argv(*ssa, str(rendered_changed)))
        )
        steps[-1].notes.append(f"{self.output().count(' serverside-applied')} applied")
        return steps, self.server.state()


def expect(output: str, text: str) -> None:
    if text not in output:
        raise RuntimeError(f"expected {text!r} in the output; got ...{output[-500:]}")


def plan_line(output: str) -> str:
    return next((line for line in output.splitlines() if line.startswith("Plan: ")), "")


# --- configs --------------------------------------------------------------------------------


def changed_text(accounts: int) -> tuple[str, str]:
    """config_bench's config, each account with values of its own, and a copy where one
    account in ten has new secret values (a new SSH key too)."""
    head = config_text(0)
    original = [_account(i, rotated=False) for i in range(accounts)]
    changed = [
        _account(i, rotated=True) if i % CHANGED_EVERY == 0 else block
        for i, block in enumerate(original)
    ]
    return head + "".join(original), head + "".join(changed)


def _account(index: int, *, rotated: bool) -> str:
    """config_bench's account block with its own SSH key (config_text makes one per call) and
    its secret values suffixed with its number: sops edit gives a value repeated in a file one
    ciphertext, which would change the record of every account that repeats it."""
    block = config_text(1).split(ACCOUNT_START, 1)[1].split("\n", 1)[1]
    if rotated:
        for old, new in ROTATE.items():
            assert old in block, old
            block = block.replace(old, new)
    return f"{ACCOUNT_START}{index}\n" + _SECRET_VALUE.sub(rf"\1-{index}", block)


def user_env(folder: Path) -> tuple[AgeKey, dict[str, str]]:
    """A new age key in ``folder`` and the environment commands run with: that key for sops,
    no colour, no KUBECONFIG of the user's. The key is also set in this process (for sops)."""
    key = generate_age_key(folder)
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key.key_file), "NO_COLOR": "1"}
    env.pop("KUBECONFIG", None)
    os.environ["SOPS_AGE_KEY_FILE"] = str(key.key_file)
    return key, env


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
    """One row per step and tool; a peer's row says how many times dispatchctl's wall time
    it took."""
    ours = {s.step: s for s in steps if s.tool == "dispatchctl"}
    rows = [
        f"{'step':<20}{'tool':<23}{'wall s':>8}{'-sops s':>8}{'cpu s':>7}{'RSS MiB':>9}"
        f"{'requests':>10}{'srv cpu':>9}{'x dctl':>8}"
    ]
    order = list(dict.fromkeys(s.step for s in steps))
    for s in sorted(steps, key=lambda s: (order.index(s.step), s.tool != "dispatchctl")):
        mine = ours.get(s.step)
        if s.tool != "dispatchctl" and mine is not None:
            s.ratio_to_dispatchctl = s.wall_s / mine.wall_s
        beyond = f"{s.wall_s - sops_s:8.2f}" if s.tool == "dispatchctl" else f"{'':>8}"
        ratio = f"{s.ratio_to_dispatchctl:7.1f}x" if s.ratio_to_dispatchctl else f"{'':>8}"
        rows.append(
            f"{s.step:<20}{s.tool:<23}{s.wall_s:8.2f}{beyond}{s.cpu_s:7.2f}{s.peak_rss_mib:9.0f}"
            f"{s.requests:>10}{s.server_cpu_s:9.2f}{ratio}"
        )
    rows.append("")
    rows.append("requests by kind:")
    for s in steps:
        kinds = ", ".join(f"{n} {k}" for k, n in s.by_kind.items())
        notes = f"  [{'; '.join(s.notes)}]" if s.notes else ""
        rows.append(f"  {s.tool:<23}{s.step:<20}{kinds}{notes}")
    return "\n".join(rows)


def run_backend(
    server: Server,
    folder: Path,
    env: dict[str, str],
    configs: tuple[Path, Path],
    renders: tuple[Path, Path],
    rounds: int,
) -> tuple[list[Step], list[dict[str, Any]]]:
    bench = Bench(folder, server, env)
    all_rounds: list[list[Step]] = []
    states = []
    for _ in range(rounds):
        ours, our_state = bench.dispatchctl(*configs)
        theirs, their_state = bench.kubectl(*renders)
        steps, state = ours + theirs, {"dispatchctl": our_state, "kubectl": their_state}
        if server.server_side_apply:
            ssa, ssa_state = bench.server_side(*renders)
            steps += ssa
            state["kubectl --server-side"] = ssa_state
        all_rounds.append(steps)
        states.append(state)
    return merge(all_rounds), states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("local", "real", "both"), default="both")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the sequences; medians")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every local server answer"
    )
    args = parser.parse_args()
    backends = ("local", "real") if args.backend == "both" else (args.backend,)
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as scratch:
        folder = Path(scratch)
        key, env = user_env(folder)
        config, changed = folder / "config.yaml", folder / "changed.yaml"
        original_text, changed_config = changed_text(args.accounts)
        config.write_text(original_text)
        encrypt_file(config, key.public)
        # changed as a user changes it: sops edit keeps the other values' ciphertext
        shutil.copy(config, changed)
        edit_file(changed, changed_config, env)
        exe = sops.resolve_binary()
        sops_s = median_seconds(
            lambda: subprocess.run([exe, "decrypt", str(config)], capture_output=True, env=env)
        )
        sops_json_s = median_seconds(lambda: sops.decrypt(config))
        startup_argv = [str(DISPATCHCTL), "plan", "--help"]
        startup_s = median_seconds(lambda: subprocess.run(startup_argv, capture_output=True))
        python_s = median_seconds(lambda: subprocess.run([sys.executable, "-c", "pass"]))

        rendered, rendered_changed = folder / "rendered.yaml", folder / "rendered-changed.yaml"
        render_runs = []
        for source, target in ((config, rendered), (changed, rendered_changed)):
            wall, _, rss, _ = timed(
                [str(DISPATCHCTL), "render", "--reveal", str(source)], env, target
            )
            render_runs.append({"wall_s": wall, "peak_rss_mib": rss})
        objects = rendered.read_text().count("\nkind: ") + rendered.read_text().startswith("kind: ")
        results: dict[str, Any] = {}
        for backend in backends:
            server: Server = (
                LocalServer(folder, args.latency_ms / 1000)
                if backend == "local"
                else RealServer(folder)
            )
            try:
                steps, states = run_backend(
                    server,
                    folder,
                    env,
                    (config, changed),
                    (rendered, rendered_changed),
                    args.rounds,
                )
            finally:
                server.stop()
            results[backend] = {"steps": steps, "states": states}

    load = (load_before, os.getloadavg())
    print(
        f"{args.accounts} accounts x 6 credentials: {objects} objects "
        f"(rendered with --reveal in {render_runs[0]['wall_s']:.2f} s), {args.rounds} round(s), "
        f"{os.cpu_count()} cores\n"
        f"sops decrypt alone (`sops decrypt FILE`, median of 5): {sops_s:.2f} s; '-sops s' ="
        f" wall minus that; dispatchctl runs sops with JSON output: {sops_json_s:.2f} s\n"
        f"start-up: `dispatchctl plan --help` {startup_s:.2f} s, `python -c pass` {python_s:.2f} s"
        " (medians of 5)\n"
        f"load average (1/5/15 min) before: {'/'.join(f'{x:.2f}' for x in load[0])}, after:"
        f" {'/'.join(f'{x:.2f}' for x in load[1])} (other work skews wall times)"
    )
    failed = False
    for backend, result in results.items():
        states = result["states"]
        same = all(len({json.dumps(v, sort_keys=True) for v in s.values()}) == 1 for s in states)
        failed |= not same
        latency = f", {args.latency_ms:g} ms added to every answer" if backend == "local" else ""
        print(
            f"\n== {backend} backend{latency}: end states "
            f"{'identical' if same else 'DIFFERENT'}: {states[0]}\n"
        )
        print(table(result["steps"], sops_s))
        no_change = next(s for s in result["steps"] if s.step == "no-change plan")
        print(
            f"\nno-change plan / sops decrypt alone: {no_change.wall_s / sops_s:.2f}x"
            f" (/ sops decrypt to JSON: {no_change.wall_s / sops_json_s:.2f}x)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result_file = RESULTS / f"reconcile-{stamp}-{'-'.join(backends)}.json"
    result_file.write_text(
        json.dumps(
            {
                "accounts": args.accounts,
                "objects": objects,
                "rounds": args.rounds,
                "cpus": os.cpu_count(),
                "latency_ms": args.latency_ms,
                "sops_decrypt_s": sops_s,
                "sops_decrypt_json_s": sops_json_s,
                "startup_s": startup_s,
                "python_startup_s": python_s,
                "load_average_before_after": load,
                "render_reveal": render_runs,
                "backends": {
                    name: {
                        "end_states": r["states"],
                        "steps": [asdict(s) for s in r["steps"]],
                    }
                    for name, r in results.items()
                },
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {result_file.relative_to(ROOT)}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
