"""Benchmark tap-orderspace against the sandbox on 127.0.0.1: requests, pacing, CPU, memory.

    .venv/bin/python benchmarks/run_benchmark.py            # everything, about 5 minutes
    .venv/bin/python benchmarks/run_benchmark.py --quick    # smaller sizes, fewer rounds

Every figure comes from whole processes: the tap as users run it (`tap-orderspace --config ...`
writing Singer messages to a pipe that is read and thrown away) and, beside it in the same run,
a baseline that pages the same endpoint with `requests` and writes each record as a JSON line.
CPU is user + system seconds of that process (getrusage of the reaped child); memory is its
peak resident set. The two alternate (A B A B ...) and medians are quoted, so a noisy shared
machine moves both sides of a ratio alike.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGE = 200
PAGINATED = ["customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories"]

BASELINE = """
import json, sys, requests
api, auth, client_id, client_secret = sys.argv[1:5]
token = requests.post(auth, data={"client_id": client_id, "client_secret": client_secret,
                                  "grant_type": "client_credentials"}).json()["access_token"]
session = requests.Session()
session.headers["Authorization"] = "Bearer " + token
params = {"limit": 200}
out = sys.stdout
while True:
    body = json.loads(session.get(api + "/orders", params=params).content)
    for record in body["orders"]:
        out.write(json.dumps(record) + "\\n")
    if not body["has_more"] or not body["orders"]:
        break
    params["starting_after"] = body["orders"][-1]["id"]
"""


@dataclass
class Sandbox:
    info: dict
    process: subprocess.Popen

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.info["url"] + path) as response:  # noqa: S310 - 127.0.0.1
            return json.load(response)

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
            self.info["url"] + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request) as response:  # noqa: S310
            return json.load(response)


@contextmanager
def sandbox(*args: str):  # type: ignore[no-untyped-def]
    process = subprocess.Popen([BIN / "orderspace-sandbox", "--port", "0", *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    try:
        yield Sandbox(info, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class ProcessCost:
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mib: float
    stdout_lines: int
    returncode: int


def measure(command: list[str], stdin_files: dict[str, str] | None = None) -> ProcessCost:
    """Run a command to completion, reading its stdout; its own CPU and peak memory."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: process.stdout.read(1 << 16), b""))  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return ProcessCost(
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        wall_seconds=time.monotonic() - started,
        peak_rss_mib=usage.ru_maxrss / 1024,
        stdout_lines=lines,
        returncode=process.returncode,
    )


def tap_command(
    sb: Sandbox,
    workdir: Path,
    name: str,
    *,
    state: dict | None = None,
    streams: list[str] | None = None,
    **settings: object,
) -> list[str]:
    config = {
        "client_id": sb.info["client_id"],
        "client_secret": sb.info["client_secret"],
        "api_url": sb.info["api_url"],
        "auth_url": sb.info["auth_url"],
        "max_requests_per_minute": 0,
        **settings,
    }
    (workdir / f"{name}.config.json").write_text(json.dumps(config))
    command = [str(BIN / "tap-orderspace"), "--config", str(workdir / f"{name}.config.json")]
    if state is not None:
        (workdir / f"{name}.state.json").write_text(json.dumps(state))
        command += ["--state", str(workdir / f"{name}.state.json")]
    if streams is not None:
        catalog = json.loads(subprocess.run([*command, "--discover"], capture_output=True, check=True).stdout)
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"] == []:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
        (workdir / f"{name}.catalog.json").write_text(json.dumps(catalog))
        command += ["--catalog", str(workdir / f"{name}.catalog.json")]
    return command


def last_state(command: list[str]) -> dict:
    # Streamed, not captured: a parent holding a large output would pass its size on to
    # every child it forks later, and spoil their peak-memory figures.
    last = ""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith('{"type":"STATE"'):
                last = line
    assert process.returncode == 0
    return json.loads(last)["value"]


def section(title: str) -> None:
    print(f"\n## {title}\n")


def requests_against_ideal(workdir: Path, orders: int) -> None:
    section(f"1. Requests per stream against ceil(records / {PAGE}) ({orders:,} orders)")
    with sandbox("--seed", "7", "--orders", str(orders), "--rate-limit", "0") as sb:
        totals = sb.get("/_sandbox/totals")
        command = tap_command(sb, workdir, "full", lookback_window_days=0)
        state = last_state(command)
        full = sb.get("/_sandbox/stats")["requests"]
        time.sleep(1.1)
        sb.post("/_sandbox/stats/reset", {})
        changes = sb.post(
            "/_sandbox/mutate",
            {
                "new_orders": 450,
                "new_customers": 20,
                "new_dispatches": 150,
                "new_invoices": 120,
                "update_products": 30,
                "update_stock": 60,
            },
        )
        last_state(tap_command(sb, workdir, "incremental", state=state, lookback_window_days=0))
        log = sb.get("/_sandbox/stats")["log"]
    # The window's pages; change capture's open-set lists (status=, paid=) and retrieves apart.
    incremental = Counter(e["resource"] for e in log if "id" not in e and not {"status", "paid"} & set(e["params"]))
    captured = Counter(e["resource"] for e in log if "id" in e or {"status", "paid"} & set(e["params"]))
    changed = {
        "customers": len(changes["created"].get("customers", [])),
        "orders": len(changes["created"].get("orders", [])),
        "dispatches": len(changes["created"].get("dispatches", [])),
        "invoices": len(changes["created"].get("invoices", [])),
        "products": len(changes["updated"].get("products", [])),
        "inventory_levels": len(changes["updated"].get("inventory_levels", [])),
        "categories": totals["categories"],
    }
    print(
        "| stream | records | full: requests | full: ideal | changed "
        "| incremental: window requests | incremental: ideal | change capture |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for stream in PAGINATED:
        print(
            f"| {stream} | {totals[stream]:,} | {full.get(stream, 0)} | {max(1, math.ceil(totals[stream] / PAGE))} "
            f"| {changed[stream]} | {incremental.get(stream, 0)} | {max(1, math.ceil(changed[stream] / PAGE))} "
            f"| {captured.get(stream, 0)} |"
        )
    print(
        "\nIncremental runs use lookback_window_days=0; records sharing the bookmark's second are re-read. "
        "Change capture: the open-set lists and the retrieves (part 5)."
    )


def pacing(workdir: Path, limit: int, orders: int) -> None:
    section(f"2. Pacing under a scaled limit of {limit} requests a minute")
    with sandbox("--seed", "7", "--orders", str(orders), "--rate-limit", str(limit), "--rate-window", "60") as sb:
        command = tap_command(
            sb, workdir, "paced", streams=["orders", "customers", "products", "invoices"], max_requests_per_minute=limit
        )
        cost = measure(command)
        stats = sb.get("/_sandbox/stats")
    times = sorted(entry["t"] for entry in stats["log"])
    achieved = (len(times) - 1) / (times[-1] - times[0]) * 60
    print(f"- requests: {len(times)} in {times[-1] - times[0]:.1f} s (exit code {cost.returncode})")
    print(f"- achieved rate: {achieved:.1f} a minute; achieved / allowed = **{achieved / limit:.3f}**")
    print(f"- 429 responses received: **{stats['throttled']}**")


def cpu_against_baseline(workdir: Path, orders: int, rounds: int) -> None:
    section(f"3. CPU per 10,000 orders (5 lines each), pacing off, {rounds} alternating rounds")
    rows = []
    for size in (orders, 2 * orders):
        with sandbox("--seed", "7", "--orders", str(size), "--lines-per-order", "5", "--rate-limit", "0") as sb:
            tap = tap_command(sb, workdir, f"cpu{size}", streams=["orders"])
            base = [
                sys.executable,
                "-c",
                BASELINE,
                sb.info["api_url"],
                sb.info["auth_url"],
                sb.info["client_id"],
                sb.info["client_secret"],
            ]
            measure(tap)  # warm-up: page cache, sandbox caches
            pairs = [(measure(tap), measure(base)) for _ in range(rounds)]
        assert all(t.returncode == 0 and b.returncode == 0 for t, b in pairs)
        rows.append((size, pairs))
    print("| orders | tap CPU s (median) | baseline CPU s (median) | tap / baseline (median of pairs) |")
    print("|---:|---:|---:|---:|")
    medians = {}
    for size, pairs in rows:
        tap_cpu = statistics.median(t.cpu_seconds for t, _ in pairs)
        base_cpu = statistics.median(b.cpu_seconds for _, b in pairs)
        ratio = statistics.median(t.cpu_seconds / b.cpu_seconds for t, b in pairs)
        medians[size] = (tap_cpu, base_cpu)
        print(f"| {size:,} | {tap_cpu:.2f} | {base_cpu:.2f} | {ratio:.2f} |")
    (small, (tap_s, base_s)), (large, (tap_l, base_l)) = sorted(medians.items())
    per_record_ratio = (tap_l - tap_s) / (base_l - base_s)
    print(
        f"\nPer record, start-up left out ((CPU at {large:,} - CPU at {small:,}) / {large - small:,} orders): "
        f"tap {(tap_l - tap_s) / (large - small) * 1e4:.2f} s per 10,000 orders, baseline "
        f"{(base_l - base_s) / (large - small) * 1e4:.2f} s: **tap / baseline = {per_record_ratio:.2f}**"
    )
    print("Whole-process figures include start-up: importing the Singer SDK costs the tap a fixed ~0.5 s.")


OPEN_STATUSES = ("new", "invoiced", "released", "part_fulfilled", "preorder", "standing_order")


def change_capture(workdir: Path, orders: int) -> None:
    section(f"5. Change capture: requests of an incremental run ({orders:,} orders, a few percent open)")
    with sandbox("--seed", "7", "--orders", str(orders), "--rate-limit", "0") as sb:
        streams = ["orders", "order_lines", "invoices", "dispatches"]
        state = last_state(tap_command(sb, workdir, "cc-first", streams=streams, lookback_window_days=0))
        records = {name: sb.get(f"/_sandbox/records/{name}")[name] for name in ("orders", "invoices")}
        by_status = {s: sum(1 for r in records["orders"] if r["status"] == s) for s in OPEN_STATUSES}
        unpaid = sum(1 for r in records["invoices"] if r["paid"] is False)
        time.sleep(1.1)
        sb.post("/_sandbox/stats/reset", {})
        changes = sb.post(
            "/_sandbox/mutate",
            {
                "new_orders": 450,
                "new_dispatches": 150,
                "new_invoices": 120,
                "release_old_orders": 20,
                "cancel_old_orders": 20,
                "dispatch_old_orders": 20,
                "pay_old_invoices": 30,
                "older_than_days": 365,
            },
        )
        sb.post("/_sandbox/stats/reset", {})
        last_state(tap_command(sb, workdir, "cc-second", state=state, streams=streams, lookback_window_days=0))
        log = sb.get("/_sandbox/stats")["log"]
    late = {name: len(changes["updated"].get(name, [])) for name in ("orders", "invoices")}

    def count(resource: str, kind: str) -> int:
        entries = [e for e in log if e["resource"] == resource]
        if kind == "retrieve":
            return sum(1 for e in entries if "id" in e)
        lists = [e for e in entries if "id" not in e]
        if kind == "window":
            return sum(1 for e in lists if "created_since" in e["params"])
        return sum(1 for e in lists if "created_since" not in e["params"])

    open_orders = sum(by_status.values())
    all_orders, all_invoices = len(records["orders"]), len(records["invoices"])
    print(
        f"Open at the first run: {open_orders:,} orders of {all_orders:,} ({open_orders / all_orders:.1%}); "
        f"{unpaid:,} unpaid invoices of {all_invoices:,}. Between the runs: 450 new orders, 150 dispatches, "
        f"120 invoices; late changes to records over a year old: {late['orders']} orders, "
        f"{late['invoices']} invoices.\n"
    )
    print("| stream | window pages | open-set lists | retrieves | this run | formula | full re-read |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    status_pages = sum(max(1, math.ceil(n / PAGE)) for n in by_status.values())
    for resource, open_pages in (("orders", status_pages), ("invoices", max(1, math.ceil(unpaid / PAGE)))):
        window, lists, retrieved = (count(resource, k) for k in ("window", "lists", "retrieve"))
        print(
            f"| {resource} | {window} | {lists} | {retrieved} | {window + lists + retrieved} "
            f"| {window} + {open_pages} + {retrieved} | {math.ceil(len(records[resource]) / PAGE)} |"
        )
    print(
        "\nFormula (README): window pages + one list per open status (orders) or `paid=false` (invoices), "
        "ceil(n/200) pages each + one retrieve per record that left the open set or that a new dispatch or "
        "invoice names."
    )


def memory(workdir: Path, sizes: list[int]) -> None:
    section("4. Peak memory of the tap process")
    print("| orders (5 lines each) | records emitted | peak RSS MiB | CPU s |")
    print("|---:|---:|---:|---:|")
    for size in sizes:
        with sandbox("--seed", "7", "--orders", str(size), "--lines-per-order", "5", "--rate-limit", "0") as sb:
            cost = measure(tap_command(sb, workdir, f"mem{size}", streams=["orders", "order_lines"]))
        assert cost.returncode == 0
        print(f"| {size:,} | {cost.stdout_lines:,} | {cost.peak_rss_mib:.0f} | {cost.cpu_seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer rounds")
    parser.add_argument(
        "--only",
        choices=["requests", "pacing", "cpu", "memory", "change-capture"],
        action="append",
        help="run only these parts",
    )
    args = parser.parse_args()
    quick = args.quick
    parts = set(args.only or ["requests", "pacing", "cpu", "memory", "change-capture"])
    print("# tap-orderspace benchmark\n")
    print(f"- command: `{' '.join(['.venv/bin/python', 'benchmarks/run_benchmark.py', *sys.argv[1:]])}`")
    print(
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "requests" in parts:
            requests_against_ideal(workdir, orders=3_000 if quick else 10_000)
        if "pacing" in parts:
            pacing(workdir, limit=600, orders=6_000 if quick else 30_000)
        if "cpu" in parts:
            cpu_against_baseline(workdir, orders=10_000, rounds=3 if quick else 5)
        if "memory" in parts:
            memory(workdir, [10_000, 30_000] if quick else [10_000, 100_000])
        if "change-capture" in parts:
            change_capture(workdir, orders=10_000 if quick else 100_000)


if __name__ == "__main__":
    main()
