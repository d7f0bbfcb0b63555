"""The HTTP face of the sandbox, and `Sandbox`, which runs it on a background thread.

Stdlib only: `ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive, a Content-Length on every
response. Routes: `POST /oauth/token`, `GET /v1/<resource>`, `GET` and `DELETE /v1/<resource>/<id>`, and the
test-only `/_sandbox/...`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .generate import generate
from .state import Answer, State, json_answer, message, not_found_page


class SandboxServer(ThreadingHTTPServer):
    """Tracks open connections, so `stop` can end idle keep-alive ones instead of leaving them hanging."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: State) -> None:
        self.state = state
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a timeout during a slow fault, say) is not a server error.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                # The client may have closed it already.
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms per response.
    disable_nagle_algorithm = True
    server: SandboxServer

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `/_sandbox/stats`, not an access log."""

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server.state
        if path == "/oauth/token":
            answer = state.token(self._form(body), self._basic()) if method == "POST" else message(405)
        elif path.startswith("/v1/"):
            resource, _, key = unquote(path[len("/v1/") :]).partition("/")
            if method in ("GET", "DELETE"):
                authorization = self.headers.get("Authorization")
                answer = state.api(resource, params, authorization, method=method, key=key or None)
            else:
                answer = message(405)
        elif path.startswith("/_sandbox/"):
            answer = self._test_endpoint(method, path[len("/_sandbox/") :], body)
        else:
            answer = not_found_page()
        self._send(answer)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header, from the server's clock (which `clock_offset` may put off the machine's)."""
        return super().date_time_string(self.server.state.now() if timestamp is None else timestamp)

    def _form(self, body: bytes) -> dict[str, str]:
        text = body.decode("utf-8", "replace")
        if self.headers.get_content_type() == "application/json":
            try:
                doc = json.loads(text or "{}")
            except ValueError:
                return {}
            return {k: str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def _basic(self) -> tuple[str, str] | None:
        """Client credentials sent the other way OAuth 2 allows: HTTP Basic."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password

    def _test_endpoint(self, method: str, name: str, body: bytes) -> Answer:
        state = self.server.state
        try:
            args = json.loads(body or b"{}")
            if not isinstance(args, dict):
                raise TypeError("the body must be a JSON object")
            if method == "GET" and name == "stats":
                return json_answer(200, state.stats())
            if method == "POST" and name == "stats/reset":
                state.reset_stats()
                return json_answer(200, {"reset": True})
            if method == "GET" and name.startswith("records/"):
                return Answer(200, state.records_body(name[len("records/") :]))
            if method == "GET" and name == "totals":
                return json_answer(200, state.totals())
            if method == "GET" and name == "site":
                return json_answer(200, state.site_info())
            if method == "POST" and name == "mutate":
                return json_answer(200, state.mutate(**args))
            if method == "GET" and name == "faults":
                return json_answer(200, state.faults())
            if method == "POST" and name == "faults":
                return json_answer(200, _set_faults(state, args))
            if method == "GET" and name == "config":
                return json_answer(200, state.config())
            if method == "POST" and name == "config":
                return json_answer(200, state.set_config(**args))
            if method == "GET" and name == "tokens":
                return json_answer(200, {"tokens": state.issued_tokens()})
            if method == "POST" and name == "expire-tokens":
                return json_answer(200, {"expired": state.expire_tokens()})
        except KeyError as error:
            return message(404, f"No such resource: {error.args[0]}")
        except (ValueError, TypeError) as error:
            return message(400, str(error))
        return message(404, f"No such test endpoint: {method} /_sandbox/{name}")

    def _send(self, answer: Answer) -> None:
        if answer.delay:
            time.sleep(answer.delay)
        if answer.reset:
            self._reset()
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def _reset(self) -> None:
        """Close with an RST and no response, as a dropped connection looks to a client."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The read file holds a reference that would postpone the close.
        self.rfile.close()
        self.connection.close()


def history_end(today: dt.date | str | None, clock_offset: float = 0.0) -> dt.date:
    """The site's today: given, or the server clock's date (UTC), so no seeded record is in its future."""
    if today is None:
        return dt.datetime.fromtimestamp(time.time() + clock_offset, dt.UTC).date()
    if isinstance(today, dt.datetime):
        raise TypeError("today must be a date, not a date and time")
    if isinstance(today, dt.date):
        return today
    try:
        return dt.date.fromisoformat(today)
    except (TypeError, ValueError):
        raise ValueError(f"today must be a date (YYYY-MM-DD), not {today!r}") from None


def _set_faults(state: State, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("clear"):
        state.clear_faults()
    if "random_rate" in args:
        state.set_fault_rate(float(args["random_rate"]), args.get("seed"))
    spec = {k: v for k, v in args.items() if k not in ("clear", "random_rate", "seed")}
    if spec:
        state.add_fault(**spec)
    return state.faults()


class Sandbox:
    """A local Orderspace API with seeded data, on 127.0.0.1, for tests and benchmarks.

    Use as a context manager, or `start()` and `stop()`. The methods below act on the running
    sandbox directly and match the `/_sandbox/...` test endpoints.
    """

    def __init__(
        self,
        seed: int = 7,
        orders: int = 50,
        *,
        customers: int | None = None,
        products: int | None = None,
        lines_per_order: int | None = None,
        token_ttl: float = 1800.0,
        rate_limit: int | None = 60,
        rate_window: float = 60.0,
        retry_after: float | None = None,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - a fixed local test credential
        port: int = 0,
        host: str = "127.0.0.1",
        fault_rate: float = 0.0,
        clock_offset: float = 0.0,
        customer_time_field: str = "created_at",
        today: dt.date | str | None = None,
        site: str = "uk",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.today = history_end(today, clock_offset)
        self.site = generate(seed, orders, customers, products, lines_per_order, today=self.today, profile=site)
        self.world = self.site.world
        self.state = State(
            self.site,
            client_id=client_id,
            client_secret=client_secret,
            token_ttl=token_ttl,
            rate_limit=rate_limit,
            rate_window=rate_window,
            retry_after=retry_after,
            fault_rate=fault_rate,
            fault_seed=seed,
            clock_offset=clock_offset,
            customer_time_field=customer_time_field,
        )
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        if self._server is None:
            self._server = SandboxServer((self.host, self.port), self.state)
            self.port = self._server.server_address[1]
            # A short poll interval makes stop() quick; tests start and stop many sandboxes.
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="orderspace-sandbox", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/v1"

    @property
    def auth_url(self) -> str:
        return self.url + "/oauth/token"

    def config(self) -> dict[str, str]:
        """Settings for a tap pointed at this sandbox."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "api_url": self.api_url,
            "auth_url": self.auth_url,
        }

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def reset_stats(self) -> None:
        self.state.reset_stats()

    def records(self, resource: str) -> list[dict[str, Any]]:
        return self.state.records(resource)

    def totals(self) -> dict[str, int]:
        return self.state.totals()

    def site_info(self) -> dict[str, Any]:
        """`{"site", "currency", "today", "seed"}`: which site this is and the day its history ends."""
        return self.state.site_info()

    def delete(self, resource: str, key: str) -> dict[str, dict[str, list[str]]]:
        """Delete one record as `DELETE /v1/<resource>/<id>` does (uncounted, unthrottled): what went
        with it and what changed. KeyError if there is no such record or it cannot be deleted."""
        return self.state.delete(resource, key)

    def mutate(self, at: str | float | None = None, **counts: Any) -> dict[str, dict[str, list[str]]]:
        return self.state.mutate(at, **counts)

    def add_fault(
        self,
        resource: str,
        nth: int = 1,
        *,
        kind: str = "status",
        status: int = 500,
        seconds: float = 1.0,
        times: int = 1,
        retry_after: str | None = None,
        variant: str | None = None,
    ) -> dict[str, Any]:
        return self.state.add_fault(
            resource,
            nth=nth,
            kind=kind,
            status=status,
            seconds=seconds,
            times=times,
            retry_after=retry_after,
            variant=variant,
        )

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def set_fault_rate(self, rate: float, seed: int | None = None) -> None:
        self.state.set_fault_rate(rate, seed)

    def set_config(self, **changes: Any) -> dict[str, Any]:
        return self.state.set_config(**changes)

    def expire_tokens(self) -> int:
        return self.state.expire_tokens()

    def issued_tokens(self) -> list[str]:
        """Every access token issued so far, expired or not."""
        return self.state.issued_tokens()
