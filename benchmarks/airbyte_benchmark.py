"""CPU per record of a first sync: the Airbyte source beside the Singer tap, same sandbox, same settings.

    .venv/bin/python benchmarks/airbyte_benchmark.py                  # 3,000 orders, 5 rounds each
    .venv/bin/python benchmarks/airbyte_benchmark.py --orders 500 --rounds 3

`tap-orderspace --config ...` and `source-orderspace read --config ... --catalog ...` (every stream,
incremental where offered, as PyAirbyte configures them) read the same sandbox process in turn
(A B A B ...), their stdout read and thrown away. CPU is user + system seconds of the reaped
process (getrusage), divided by the RECORD messages it wrote; medians are quoted, so a noisy
shared machine moves both sides of the ratio alike. The bar (issue 21): the Airbyte read within
1.5x of the Singer path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from run_benchmark import BIN, sandbox

BAR = 1.5


def measure(command: list[str]) -> tuple[float, int]:
    """CPU seconds of the process, and the RECORD messages it wrote."""
    records = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(b'{"type":"RECORD"'):
                records += 1
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, command
    return usage.ru_utime + usage.ru_stime, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox("--seed", "7", "--orders", str(args.orders), "--rate-limit", "0") as sb,
    ):
        workdir = Path(tmp)
        config = {
            "client_id": sb.info["client_id"],
            "client_secret": sb.info["client_secret"],
            "api_url": sb.info["api_url"],
            "auth_url": sb.info["auth_url"],
            "max_requests_per_minute": 0,
        }
        config_file = workdir / "config.json"
        config_file.write_text(json.dumps(config))
        discovered = subprocess.run(
            [str(BIN / "source-orderspace"), "discover", "--config", str(config_file)],
            capture_output=True,
            check=True,
        )
        catalog = json.loads(discovered.stdout)["catalog"]
        configured = {
            "streams": [
                {
                    "stream": stream,
                    "sync_mode": "incremental" if "incremental" in stream["supported_sync_modes"] else "full_refresh",
                    "destination_sync_mode": "append_dedup",
                }
                for stream in catalog["streams"]
            ]
        }
        catalog_file = workdir / "configured_catalog.json"
        catalog_file.write_text(json.dumps(configured))
        commands = {
            "singer": [str(BIN / "tap-orderspace"), "--config", str(config_file)],
            "airbyte": [
                str(BIN / "source-orderspace"),
                "read",
                "--config",
                str(config_file),
                "--catalog",
                str(catalog_file),
            ],
        }
        per_record: dict[str, list[float]] = {name: [] for name in commands}
        records: dict[str, int] = {}
        for _ in range(args.rounds):
            for name, command in commands.items():
                cpu, count = measure(command)
                per_record[name].append(cpu / count)
                records[name] = count
                time.sleep(0.2)
    assert records["singer"] == records["airbyte"], records
    singer = statistics.median(per_record["singer"])
    airbyte = statistics.median(per_record["airbyte"])
    print(f"{args.orders:,} orders, {records['singer']:,} records per read, {args.rounds} rounds each\n")
    print("| path | CPU µs per record (median) | rounds (µs) |")
    print("|---|---:|---|")
    for name, median in (("singer", singer), ("airbyte", airbyte)):
        rounds = ", ".join(f"{value * 1e6:.0f}" for value in per_record[name])
        print(f"| {name} | {median * 1e6:.0f} | {rounds} |")
    ratio = airbyte / singer
    print(f"\nAirbyte / Singer: {ratio:.2f} (bar {BAR}): {'met' if ratio <= BAR else 'NOT met'}")


if __name__ == "__main__":
    main()
