"""End to end through Meltano: a first sync from the sandbox into DuckDB and PostgreSQL.

    .venv/bin/python benchmarks/pipeline_benchmark.py             # 100,000 orders, 3 rounds per loader
    .venv/bin/python benchmarks/pipeline_benchmark.py --quick     # 10,000 orders, 3 rounds per loader
    .venv/bin/python benchmarks/pipeline_benchmark.py --orders 20000 --rounds 1 --loaders target-duckdb

Each round is `meltano run --no-install tap-orderspace <loader>` in a fresh copy of the project
(its own system database, so no state: a first sync) against a sandbox process with throttling off,
the tap unpaced (max_requests_per_minute 0) at 200 records a page, the loaders as meltano.yml ships
them. Loaders alternate (A B A B ...), medians are quoted. Peak memory is each process's VmHWM
(/proc/<pid>/status), sampled every 0.2 s among Meltano's descendants, the tap and the loader apart;
so is their CPU time (user + system), which says what each costs when other work shares the machine.
Rows are every row the sync loads: the sandbox's totals over the 17 streams, child tables included.

PostgreSQL: ORDERSPACE_TEST_PG_URL, else postgres:postgres@127.0.0.1:5432; each round gets a new
database, dropped afterwards. TARGET_* variables in the environment (e.g. TARGET_DUCKDB_BATCH_SIZE_ROWS)
override the shipped loader settings, to compare them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MELTANO = Path(os.environ.get("MELTANO_BIN") or ROOT / ".venv-meltano" / "bin" / "meltano")
PG_URL = os.environ.get("ORDERSPACE_TEST_PG_URL") or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
API_CEILING_PER_MINUTE = 60 * 200
API_RESOURCES = [
    "customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories",
    "customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows",
]  # fmt: skip
CHILD_TABLES = ["order_lines", "invoice_lines", "invoice_payments", "dispatch_lines", "product_variants"]
STREAMS = API_RESOURCES + CHILD_TABLES


@contextmanager
def sandbox(orders: int):  # type: ignore[no-untyped-def]
    command = [BIN / "orderspace-sandbox", "--port", "0", "--seed", "7", "--orders", str(orders), "--rate-limit", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    try:
        yield info
    finally:
        process.terminate()
        process.wait(timeout=30)


def sandbox_totals(info: dict) -> dict[str, int]:
    with urllib.request.urlopen(info["url"] + "/_sandbox/totals") as response:  # noqa: S310 - 127.0.0.1
        return dict(json.load(response))


def project(workdir: Path, info: dict) -> tuple[Path, dict[str, str]]:
    directory = workdir / "project"
    (directory / ".meltano").mkdir(parents=True)
    (directory / "output").mkdir()
    shutil.copy2(ROOT / "meltano.yml", directory / "meltano.yml")
    for kind in ("extractors", "loaders"):
        (directory / ".meltano" / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_ORDERSPACE_", "MELTANO_"))}
    env.update(
        {
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_ORDERSPACE_API_URL": info["api_url"],
            "TAP_ORDERSPACE_AUTH_URL": info["auth_url"],
            "TAP_ORDERSPACE_CLIENT_ID": info["client_id"],
            "TAP_ORDERSPACE_CLIENT_SECRET": info["client_secret"],
            "TAP_ORDERSPACE_MAX_REQUESTS_PER_MINUTE": "0",
            "TAP_ORDERSPACE_PAGE_SIZE": "200",
            "TARGET_DUCKDB_FILEPATH": str(directory / "output" / "warehouse.duckdb"),
        }
    )
    return directory, env


@contextmanager
def postgres_database(env: dict[str, str]):  # type: ignore[no-untyped-def]
    import psycopg  # noqa: PLC0415 - the dev venv has it; only this loader needs it

    name = f"orderspace_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = urlparse(PG_URL)
    env.update(
        {
            "TARGET_POSTGRES_HOST": url.hostname or "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(url.port or 5432),
            "TARGET_POSTGRES_USER": url.username or "postgres",
            "TARGET_POSTGRES_PASSWORD": url.password or "",
            "TARGET_POSTGRES_DATABASE": name,
        }
    )
    try:
        yield
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def descendants(root: int) -> dict[int, str]:
    """Every live descendant of `root`: pid -> command line."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        try:
            found[pid] = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode(errors="replace")
        except OSError:
            continue
        todo.extend(children.get(pid, []))
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time `pid` has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Round:
    loader: str
    wall_seconds: float
    tap_peak_mib: float
    loader_peak_mib: float
    tap_cpu_seconds: float
    loader_cpu_seconds: float


def run_once(loader: str, info: dict) -> Round:
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        directory, env = project(Path(tmp), info)
        with postgres_database(env) if loader == "target-postgres" else _nothing():
            log = (Path(tmp) / "meltano.log").open("w")
            started = time.monotonic()
            process = subprocess.Popen(
                [str(MELTANO), "run", "--no-install", "tap-orderspace", loader],
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            peaks = {"tap": 0.0, "loader": 0.0}
            # CPU time by process, last sample (a process's final 0.2 s may be missed).
            cpu: dict[int, tuple[str, float]] = {}
            while process.poll() is None:
                for pid, command in descendants(process.pid).items():
                    role = "tap" if "tap-orderspace" in command else "loader" if loader in command else None
                    if not role:
                        continue
                    peak = peak_rss_mib(pid)
                    if peak:
                        peaks[role] = max(peaks[role], peak)
                    used = cpu_seconds(pid)
                    if used is not None:
                        cpu[pid] = (role, used)
                time.sleep(0.2)
            wall = time.monotonic() - started
            log.close()
            if process.returncode != 0:
                tail = (Path(tmp) / "meltano.log").read_text().splitlines()[-30:]
                sys.exit(f"meltano run ... {loader} exited with {process.returncode}:\n" + "\n".join(tail))
    cpu_by_role = {role: sum(used for r, used in cpu.values() if r == role) for role in ("tap", "loader")}
    return Round(loader, wall, peaks["tap"], peaks["loader"], cpu_by_role["tap"], cpu_by_role["loader"])


@contextmanager
def _nothing():  # type: ignore[no-untyped-def]
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 orders instead of 100,000")
    parser.add_argument("--orders", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loaders", default="target-duckdb,target-postgres")
    args = parser.parse_args()
    orders = args.orders or (10_000 if args.quick else 100_000)
    loaders = args.loaders.split(",")

    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", flush=True)
    with sandbox(orders) as info:
        totals = sandbox_totals(info)
        rows = sum(totals[stream] for stream in STREAMS)
        records = sum(totals[resource] for resource in API_RESOURCES)
        print(f"# {orders:,} orders: {records:,} API records, {rows:,} rows with the child tables", flush=True)
        rounds: list[Round] = []
        for number in range(args.rounds):
            for loader in loaders:
                result = run_once(loader, info)
                rounds.append(result)
                print(
                    f"round {number + 1} {loader}: {result.wall_seconds:.1f} s, "
                    f"tap peak {result.tap_peak_mib:.0f} MiB, loader peak {result.loader_peak_mib:.0f} MiB, "
                    f"CPU tap {result.tap_cpu_seconds:.1f} s, loader {result.loader_cpu_seconds:.1f} s",
                    flush=True,
                )

    print()
    print(
        "| loader | wall s (median) | API records/min | vs API ceiling | rows/s "
        "| loader CPU s | loader rows per CPU s | tap CPU s | tap peak MiB | loader peak MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for loader in loaders:
        mine = [r for r in rounds if r.loader == loader]
        wall = statistics.median(r.wall_seconds for r in mine)
        loader_cpu = statistics.median(r.loader_cpu_seconds for r in mine)
        print(
            f"| {loader} | {wall:.1f} | {records / wall * 60:,.0f} | "
            f"{records / wall * 60 / API_CEILING_PER_MINUTE:.1f}x | {rows / wall:,.0f} | "
            f"{loader_cpu:.1f} | {rows / loader_cpu if loader_cpu else 0:,.0f} | "
            f"{statistics.median(r.tap_cpu_seconds for r in mine):.1f} | "
            f"{statistics.median(r.tap_peak_mib for r in mine):.0f} | "
            f"{statistics.median(r.loader_peak_mib for r in mine):.0f} |"
        )
    print(
        "\nLoader CPU s: user + system time of the loader's processes. On a busy machine wall time "
        "measures the machine; rows per loader CPU second is what the loader itself can sustain."
    )
    print(f"\n{len(rounds)} rounds; wall time includes Meltano's start and catalog discovery.")


if __name__ == "__main__":
    main()
