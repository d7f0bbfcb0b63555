"""What the tap says about its own run in the log: the SDK's HTTP metrics and a line per stream."""

from __future__ import annotations

import json
import math
import re

from orderspace_sandbox import Sandbox
from tap_process import catalog_selecting, run_tap, tap_config


def test_the_http_metrics_and_a_line_per_stream_reach_the_log() -> None:
    with Sandbox(seed=62, orders=120, rate_limit=None) as sb:
        config = tap_config(sb, page_size=50)
        run = run_tap(config, catalog=catalog_selecting(["orders", "customers"], config))
        assert run.returncode == 0, run.stderr[-3000:]
        points = [json.loads(line.split("METRIC: ", 1)[1]) for line in run.stderr.splitlines() if "METRIC: " in line]
        durations = [p for p in points if p["metric"] == "http_request_duration"]
        counts = {
            (p["tags"]["stream"], p["tags"]["endpoint"]): p["value"]
            for p in points
            if p["metric"] == "http_request_count"
        }
        order_pages = math.ceil(len(sb.records("orders")) / 50)
        # A first sync reads every order in the window, then lists the open ones by status.
        assert counts[("orders", "/orders")] == sb.stats()["requests"]["orders"] >= order_pages
        assert counts[("customers", "/customers")] == sb.stats()["requests"]["customers"]
        assert len(durations) == sb.stats()["requests_total"]
        assert {p["tags"]["http_status_code"] for p in durations} == {200}
        done = re.search(r"'orders' done: (\d+) record\(s\) in (\d+) request\(s\), a full read", run.stderr)
        assert done is not None, run.stderr[-3000:]
        assert int(done.group(1)) == len(run.records["orders"])
        assert int(done.group(2)) == counts[("orders", "/orders")]
