"""Throughput and latency of the local cluster (run by hand; prints a table).

    .venv/bin/python benchmarks/localcluster_bench.py [--seconds 3]

The server runs in its own process (as under `--local` or `local-cluster serve`), so the
clients' Python does not share its interpreter lock. Clients are plain HTTP/1.1 keep-alive
connections (one per client thread), which measures the server rather than a client library;
a last row shows the official kubernetes client for comparison.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

SERVER = """
import sys
from dispatchctl.localcluster import LocalApiServer
cluster = LocalApiServer(state_path=sys.argv[1] or None).start()
print(cluster.port, flush=True)
sys.stdin.read()
"""
SECRET = "/api/v1/namespaces/default/secrets"


def start_server(state: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, state],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, int(proc.stdout.readline())


def call(conn: HTTPConnection, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
    return json.loads(payload)


def run_clients(port: int, clients: int, seconds: float, op: str) -> tuple[int, list[float]]:
    """Each client hammers its own Secret for `seconds`; returns (requests, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = HTTPConnection("127.0.0.1", port)
        name = f"bench-{i}"
        obj = call(conn, "GET", f"{SECRET}/{name}")
        mine = []
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if op == "GET":
                call(conn, "GET", f"{SECRET}/{name}")
            else:
                # a conditional update (obj carries the last resourceVersion) that changes data
                obj["data"] = {"n": base64.b64encode(str(n).encode()).decode()}
                obj = call(conn, "PUT", f"{SECRET}/{name}", obj)
            mine.append(time.perf_counter() - started)
            n += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for store in ("memory", "sqlite file"):
            state = "" if store == "memory" else str(Path(tmp) / "bench.db")
            proc, port = start_server(state)
            try:
                conn = HTTPConnection("127.0.0.1", port)
                for i in range(8):
                    call(
                        conn,
                        "POST",
                        SECRET,
                        {"metadata": {"name": f"bench-{i}"}, "data": {"a": "YQ=="}},
                    )
                for op in ("GET", "PUT"):
                    for clients in (1, 8):
                        count, lat = run_clients(port, clients, args.seconds, op)
                        rows.append(
                            (
                                f"{op} Secret",
                                store,
                                clients,
                                count / args.seconds,
                                pct(lat, 0.5),
                                pct(lat, 0.99),
                            )
                        )
                started = time.perf_counter()
                for i in range(5000):
                    call(
                        conn,
                        "POST",
                        SECRET,
                        {
                            "metadata": {"name": f"s-{i:05d}", "labels": {"app": "x"}},
                            "stringData": {"token": "t" * 40},
                        },
                    )
                create_s = time.perf_counter() - started
                rows.append(
                    (
                        "POST Secret x5000",
                        store,
                        1,
                        5000 / create_s,
                        create_s * 1000 / 5000,
                        float("nan"),
                    )
                )
                lat = []
                for _ in range(5):
                    started = time.perf_counter()
                    items = call(conn, "GET", SECRET)["items"]
                    lat.append(time.perf_counter() - started)
                assert len(items) == 5008
                rows.append(
                    (
                        "LIST 5008 Secrets",
                        store,
                        1,
                        1 / statistics.median(lat),
                        statistics.median(lat) * 1000,
                        max(lat) * 1000,
                    )
                )
                conn.close()
                if store == "memory":
                    rows.append(official_client_row(port, args.seconds))
            finally:
                proc.stdin.close()
                proc.kill()
                proc.wait()
                proc.stdout.close()
    print(f"{'operation':<22}{'store':<13}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for op, store, clients, rate, p50, p99 in rows:
        print(f"{op:<22}{store:<13}{clients:>8}{rate:>10.0f}{p50:>9.2f}{p99:>9.2f}")


def official_client_row(port: int, seconds: float) -> tuple:
    import kubernetes

    config = kubernetes.client.Configuration()
    config.host = f"http://127.0.0.1:{port}"
    client = kubernetes.client.ApiClient(config)
    core = kubernetes.client.CoreV1Api(client)
    lat = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        core.read_namespaced_secret("bench-0", "default")
        lat.append(time.perf_counter() - started)
    client.close()
    return ("GET (official client)", "memory", 1, len(lat) / seconds, pct(lat, 0.5), pct(lat, 0.99))


if __name__ == "__main__":
    main()
