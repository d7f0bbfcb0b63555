"""`orderspace-sandbox`: serve a sandbox until SIGTERM or SIGINT.

Once it listens it prints one JSON line (url, api_url, auth_url, client_id, client_secret, pid, and
the site's site, currency, today and seed), so a parent process can start it with `--port 0` and
read where it went.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from .server import Sandbox
from .site import PROFILES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderspace-sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="data seed; same seed, same records (default: %(default)s)")
    parser.add_argument("--orders", type=int, default=50, help="orders to generate (default: %(default)s)")
    parser.add_argument("--customers", type=int, help="customers (default: max(5, orders // 20))")
    parser.add_argument("--products", type=int, help="products, each with 1-6 variants (default: max(5, orders // 50))")
    parser.add_argument("--lines-per-order", type=int, help="exact lines per order (default: random 1-8)")
    parser.add_argument("--token-ttl", type=float, default=1800.0, help="token lifetime, s (default: %(default)s)")
    parser.add_argument(
        "--rate-limit", type=int, default=60, help="requests per window; 0 turns throttling off (default: %(default)s)"
    )
    parser.add_argument("--rate-window", type=float, default=60.0, help="throttling window, s (default: %(default)s)")
    parser.add_argument(
        "--retry-after", type=float, help="send Retry-After with 429s and make it the penalty (default: none, window)"
    )
    parser.add_argument("--fault-rate", type=float, default=0.0, help="chance of a random fault per API request")
    parser.add_argument(
        "--clock-offset", type=float, default=0.0, help="server clock minus the machine's, s (default: %(default)s)"
    )
    parser.add_argument(
        "--customer-time-field",
        choices=("created_at", "created"),
        default="created_at",
        help="customers' creation time key: the reference's created_at or the live API's created",
    )
    parser.add_argument(
        "--today", help="the day seeded history ends at the start of, YYYY-MM-DD (default: the server clock's date)"
    )
    parser.add_argument(
        "--site", choices=tuple(PROFILES), default="uk", help="which site: uk (GBP) or eu (EUR) (default: %(default)s)"
    )
    parser.add_argument("--client-id", default="sandbox-client", help="accepted client id (default: %(default)s)")
    parser.add_argument("--client-secret", default="sandbox-secret", help="accepted client secret")
    return parser


def _sandbox(args: argparse.Namespace) -> Sandbox:
    return Sandbox(
        seed=args.seed,
        orders=args.orders,
        customers=args.customers,
        products=args.products,
        lines_per_order=args.lines_per_order,
        token_ttl=args.token_ttl,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        retry_after=args.retry_after,
        client_id=args.client_id,
        client_secret=args.client_secret,
        port=args.port,
        host=args.host,
        fault_rate=args.fault_rate,
        clock_offset=args.clock_offset,
        customer_time_field=args.customer_time_field,
        today=args.today,
        site=args.site,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sandbox = _sandbox(args)
    except ValueError as error:
        parser.error(str(error))
    # This process is the sandbox's own: keep the cycle collector from walking its million
    # long-lived objects again and again while it serves.
    gc.freeze()
    with sandbox:
        ready = {
            "url": sandbox.url,
            "api_url": sandbox.api_url,
            "auth_url": sandbox.auth_url,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "pid": os.getpid(),
            **sandbox.site_info(),
        }
        print(json.dumps(ready), flush=True)
        stop.wait()
