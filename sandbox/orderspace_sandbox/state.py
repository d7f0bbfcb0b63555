"""What the sandbox knows besides its records: tokens, the rate limit, faults to inject, and counters.

Transport-free, so the HTTP handler and the in-process `Sandbox` methods share one implementation;
every public method takes the one lock.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .changes import DELETABLE, delete, mutate
from .hostile import MALFORMED_VARIANTS, RECORD_KINDS, TIME_FIELDS, spoil
from .query import ENDPOINTS, BadRequest, Query, list_body, parse_time, select
from .site import Site
from .world import RESOURCES, day, encode

AUTH_FAULT = "token"  # the `resource` a fault names to hit the token endpoint
ANY_RESOURCE = "*"
# Which requests each fault kind answers: any request, list requests, paginated list requests,
# paginated list requests that carry `starting_after`, or token requests.
ANY_KINDS = ("status", "reset", "malformed", "slow")
LIST_KINDS = RECORD_KINDS
PAGED_KINDS = ("empty_has_more",)
CURSOR_KINDS = ("ignore_cursor", "empty_after_cursor")
TOKEN_KINDS = ("crlf_token",)
FAULT_KINDS = (*ANY_KINDS, *LIST_KINDS, *PAGED_KINDS, *CURSOR_KINDS, *TOKEN_KINDS)
RANDOM_FAULTS = (500, 502, 503, "reset", "malformed")
LOG_LIMIT = 100_000
CONFIG_KEYS = frozenset(
    {"rate_limit", "rate_window", "retry_after", "token_ttl", "clock_offset", "customer_time_field"}
)
CUSTOMER_TIME_FIELDS = ("created_at", "created")
# The records `GET /v1/<resource>/<id>` serves, and the key each answers under.
RETRIEVABLE = {
    "orders": "order",
    "invoices": "invoice",
    "dispatches": "dispatch",
    "customers": "customer",
    "products": "product",
    "categories": "category",
    "price_lists": "price_list",
}
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
_REASONS = {
    404: "Not found",
    422: "Validation failed: the record could not be saved",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}
_NOT_FOUND_PAGE = (
    b"<!DOCTYPE html>\n<html>\n<head><title>The page you were looking for doesn't exist (404)</title></head>\n"
    b"<body><h1>The page you were looking for doesn't exist.</h1></body>\n</html>\n"
)


@dataclass
class Answer:
    """What to send back. `reset` closes the connection without a response; `delay` is slept first."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    delay: float = 0.0
    content_type: str = JSON_TYPE
    reason: str | None = None  # why a request was refused, for the stats log; never sent


def json_answer(status: int, doc: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, encode(doc), headers or {})


def message(status: int, text: str | None = None, headers: dict[str, str] | None = None) -> Answer:
    return json_answer(status, {"message": text or _REASONS.get(status, "Error")}, headers)


def not_found_page() -> Answer:
    """A route the API does not have: the web framework's HTML page, not JSON."""
    return Answer(404, _NOT_FOUND_PAGE, content_type=HTML_TYPE)


def bad_request(reason: str | None = None) -> Answer:
    """The live API's 400: nothing but the status, an empty text/html body. The reason goes only
    to the stats log, for a test to read."""
    return Answer(400, content_type=HTML_TYPE, reason=reason)


def unauthorized(description: str) -> Answer:
    """The live API's 401: an empty body, the reason only in the challenge."""
    challenge = f'Bearer realm="Orderspace API", error="invalid_token", error_description="{description}"'
    return Answer(401, headers={"WWW-Authenticate": challenge}, content_type=HTML_TYPE)


@dataclass
class Request:
    """What a fault needs to know to decide whether it targets a request."""

    resource: str
    method: str = "GET"
    key: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def is_list(self) -> bool:
        return self.method == "GET" and self.key is None and self.resource in ENDPOINTS

    def targeted_by(self, kind: str) -> bool:
        if self.resource == AUTH_FAULT:
            return kind in ANY_KINDS or kind in TOKEN_KINDS
        if kind in ANY_KINDS:
            return True
        if not self.is_list:
            return False
        if kind == "future_record":
            return self.resource in TIME_FIELDS
        if kind in LIST_KINDS:
            return True
        if not ENDPOINTS[self.resource].paginated:
            return False
        return kind in PAGED_KINDS or (kind in CURSOR_KINDS and bool(self.params.get("starting_after")))


@dataclass
class Fault:
    """Answer requests nth .. nth+times-1 to `resource` that the kind targets, counted from when it was set."""

    resource: str
    nth: int = 1
    kind: str = "status"
    status: int = 500
    seconds: float = 1.0
    times: int = 1
    # A 429's Retry-After, sent verbatim ("3600", "1e10", "inf"); else the `retry_after` setting's.
    retry_after: str | None = None
    # Which spoiling `malformed_record` applies; None applies each of MALFORMED_VARIANTS.
    variant: str | None = None
    seen: int = 0

    def __post_init__(self) -> None:
        if self.resource not in (*RESOURCES, AUTH_FAULT, ANY_RESOURCE):
            raise ValueError(f"unknown fault resource {self.resource!r}")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if (self.kind in TOKEN_KINDS) != (self.resource == AUTH_FAULT) and self.kind not in ANY_KINDS:
            raise ValueError(f"fault kind {self.kind!r} does not apply to resource {self.resource!r}")
        if self.nth < 1 or self.times < 1 or self.seconds < 0 or not 100 <= self.status <= 599:
            raise ValueError("fault needs nth >= 1, times >= 1, seconds >= 0 and an HTTP status")
        if self.variant is not None and self.variant not in MALFORMED_VARIANTS:
            raise ValueError(f"fault variant must be one of {', '.join(MALFORMED_VARIANTS)}")
        if self.retry_after is not None and not isinstance(self.retry_after, str):
            raise TypeError("fault retry_after must be a string, sent verbatim")


class State:
    """Tokens, throttling, faults and statistics around one `Site`."""

    def __init__(
        self,
        site: Site,
        *,
        client_id: str,
        client_secret: str,
        token_ttl: float,
        rate_limit: int | None,
        rate_window: float,
        retry_after: float | None,
        fault_rate: float,
        fault_seed: int,
        clock_offset: float = 0.0,
        customer_time_field: str = "created_at",
    ) -> None:
        self.site = site
        self.world = site.world
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._issued: list[str] = []  # every token ever issued, for tests that look for leaks
        self._config: dict[str, Any] = {}
        self._set_config(
            token_ttl=token_ttl,
            rate_limit=rate_limit,
            rate_window=rate_window,
            retry_after=retry_after,
            clock_offset=clock_offset,
            customer_time_field=customer_time_field,
        )
        self._accepted: deque[float] = deque()
        self._penalty_until = 0.0
        self._faults: list[Fault] = []
        self._fault_rng = random.Random(fault_seed)
        self._fault_rate = 0.0
        self._set_fault_rate(fault_rate, None)
        self._requests: Counter[str] = Counter()
        self._throttled = 0
        self._tokens_issued = 0
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)

    def now(self) -> float:
        """The server's clock: the machine's, moved by `clock_offset`."""
        return time.time() + float(self._config["clock_offset"])

    # --- the token endpoint ------------------------------------------------------------------

    def token(self, params: dict[str, str], basic: tuple[str, str] | None) -> Answer:
        with self.lock:
            fault = self._due_fault(Request(AUTH_FAULT, "POST"))
            if fault is not None:
                return self._fault_answer(fault, lambda: self._token(params, basic, fault))
            return self._token(params, basic, None)

    def _token(self, params: dict[str, str], basic: tuple[str, str] | None, fault: Fault | None) -> Answer:
        grant = params.get("grant_type")
        if not grant:
            return json_answer(400, {"error": "invalid_request", "error_description": "Missing grant_type"})
        if grant != "client_credentials":
            return json_answer(
                400, {"error": "unsupported_grant_type", "error_description": f"Grant type {grant!r} is not supported"}
            )
        client_id, client_secret = basic or (params.get("client_id"), params.get("client_secret"))
        if not (
            client_id is not None
            and client_secret is not None
            # Bytes: compare_digest refuses non-ASCII str, and a client may send anything.
            and secrets.compare_digest(client_id.encode(), self.client_id.encode())
            and secrets.compare_digest(client_secret.encode(), self.client_secret.encode())
        ):
            return json_answer(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed: unknown client or bad secret",
                },
            )
        now = time.monotonic()
        self._tokens = {t: expiry for t, expiry in self._tokens.items() if expiry > now}
        ttl = self._config["token_ttl"]
        token = secrets.token_urlsafe(32)
        if fault is not None and fault.kind == "crlf_token":
            # A token a careless client would write into a log or a header as two lines.
            token = token[:16] + "\r\n" + token[16:]
        self._tokens[token] = now + ttl
        self._issued.append(token)
        self._tokens_issued += 1
        return json_answer(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": max(1, int(ttl)), "scope": "read write"}
        )

    # --- the API -----------------------------------------------------------------------------

    def api(
        self,
        resource: str,
        params: dict[str, str],
        authorization: str | None,
        *,
        method: str = "GET",
        key: str | None = None,
    ) -> Answer:
        """`GET /v1/<resource>`, or with `key`, `GET` or `DELETE /v1/<resource>/<key>`."""
        with self.lock:
            self._requests[resource] += 1
            request = Request(resource, method, key, params)
            answer = self._api(request, authorization)
            if answer.status == 429:
                self._throttled += 1
            entry: dict[str, Any] = {"t": time.time(), "resource": resource, "params": params, "status": answer.status}
            if key is not None:
                entry.update(method=method, id=key, path=f"/v1/{resource}/{key}")
            if answer.reason is not None:
                entry["error"] = answer.reason
            self._log.append(entry)
            return answer

    def _api(self, request: Request, authorization: str | None) -> Answer:
        resource, key = request.resource, request.key
        if key is None:
            routed = request.method == "GET" and resource in ENDPOINTS
        elif "/" in key:
            routed = False
        else:
            routed = (request.method == "GET" and resource in RETRIEVABLE) or (
                request.method == "DELETE" and resource in DELETABLE
            )
        if not routed:
            return not_found_page()
        refused = self._authenticate(authorization)
        if refused is not None:
            return refused
        if self._throttle():
            return message(
                429,
                f"Rate limit of {self._config['rate_limit']} requests per {self._config['rate_window']:g} s exceeded",
                self._retry_after(None),
            )
        fault = self._due_fault(request)
        if fault is None and self._fault_rate and self._fault_rng.random() < self._fault_rate:
            drawn = self._fault_rng.choice(RANDOM_FAULTS)
            kind = drawn if isinstance(drawn, str) else "status"
            status = drawn if isinstance(drawn, int) else 500
            fault = Fault(resource, kind=kind, status=status)

        def serve() -> Answer:
            if key is None:
                return self._list(request, fault)
            if request.method == "DELETE":
                return self._delete(resource, key)
            return self._retrieve(resource, key)

        if fault is not None:
            return self._fault_answer(fault, serve)
        return serve()

    def _list(self, request: Request, fault: Fault | None) -> Answer:
        resource = request.resource
        endpoint = ENDPOINTS[resource]
        rows = self.world.rows[resource]
        kind = fault.kind if fault is not None else None
        shape = self._shape(resource)
        if not endpoint.paginated:
            # These endpoints take no parameters; like a real API, they ignore any sent.
            body = list_body(resource, rows, None, shape)
        else:
            try:
                query = Query.parse(endpoint, request.params)
                if kind == "empty_after_cursor":
                    # A lenient API's answer to a cursor whose record has gone.
                    return Answer(200, list_body(resource, [], False))
                if kind == "ignore_cursor":
                    query.cursor = None
                page, has_more = select(resource, rows, self.world.by_key[resource], query)
            except BadRequest as error:
                return bad_request(str(error))
            if kind == "empty_has_more":
                page, has_more = [], True
            body = list_body(resource, page, has_more, shape)
        if fault is not None and kind in RECORD_KINDS:
            doc = json.loads(body)
            spoil(fault.kind, resource, doc, fault.variant)
            body = encode(doc)
        return Answer(200, body)

    def _retrieve(self, resource: str, key: str) -> Answer:
        row = self.world.by_key[resource].get(key)
        if row is None:
            return message(404, f"Couldn't find {RETRIEVABLE[resource]} with id {key!r}")
        shape = self._shape(resource)
        record = row.body() if shape is None else shape(row.body())
        return Answer(200, b'{"' + RETRIEVABLE[resource].encode() + b'":' + record + b"}")

    def _delete(self, resource: str, key: str) -> Answer:
        if delete(self.site, resource, key) is None:
            return message(404, f"Couldn't find {DELETABLE[resource]} with id {key!r}")
        return json_answer(200, {DELETABLE[resource]: {"id": key, "deleted": True}})

    def _shape(self, resource: str) -> Callable[[bytes], bytes] | None:
        """How a stored record is changed on its way out: customers' time field as the live API names it."""
        if resource == "customers" and self._config["customer_time_field"] == "created":
            # Only a key can hold `"created_at":` unescaped, and no nested object has one.
            return lambda body: body.replace(b'"created_at":', b'"created":', 1)
        return None

    def _authenticate(self, authorization: str | None) -> Answer | None:
        scheme, _, token = (authorization or "").partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None:
            return unauthorized("The access token is invalid")
        if expiry <= time.monotonic():
            return unauthorized("The access token expired")
        return None

    def _throttle(self) -> bool:
        """True when this request is refused: a sliding window, then a penalty that a retry does not extend."""
        limit = self._config["rate_limit"]
        if not limit:
            return False
        now = time.monotonic()
        if now < self._penalty_until:
            return True
        window = self._config["rate_window"]
        while self._accepted and self._accepted[0] <= now - window:
            self._accepted.popleft()
        if len(self._accepted) >= limit:
            retry_after = self._config["retry_after"]
            self._penalty_until = now + (window if retry_after is None else retry_after)
            return True
        self._accepted.append(now)
        return False

    def _retry_after(self, fault: Fault | None) -> dict[str, str]:
        if fault is not None and fault.retry_after is not None:
            return {"Retry-After": fault.retry_after}
        retry_after = self._config["retry_after"]
        return {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}

    def _due_fault(self, request: Request) -> Fault | None:
        due = None
        for fault in self._faults:
            aimed = fault.resource == request.resource or (
                fault.resource == ANY_RESOURCE and request.resource != AUTH_FAULT
            )
            if aimed and request.targeted_by(fault.kind):
                fault.seen += 1
                if due is None and fault.nth <= fault.seen < fault.nth + fault.times:
                    due = fault
        # A fault that has fired its last time is done.
        self._faults = [f for f in self._faults if f.seen < f.nth + f.times - 1]
        return due

    def _fault_answer(self, fault: Fault, serve: Callable[[], Answer]) -> Answer:
        if fault.kind == "reset":
            return Answer(0, reset=True)
        if fault.kind == "slow":
            answer = serve()
            answer.delay = fault.seconds
            return answer
        if fault.kind == "malformed":
            answer = serve()
            # Cut mid-document: the framing is valid HTTP, the body is not JSON.
            answer.body = answer.body[: max(1, len(answer.body) // 2)]
            return answer
        if fault.kind != "status":
            return serve()
        # Each status in the shape the live API gives it.
        if fault.status == 400:
            return bad_request()
        if fault.status == 401:
            return unauthorized("The access token is invalid")
        return message(fault.status, None, self._retry_after(fault) if fault.status == 429 else None)

    # --- test endpoints ----------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self._requests),
                "requests_total": sum(self._requests.values()),
                "throttled": self._throttled,
                "tokens_issued": self._tokens_issued,
                "log": [dict(entry, params=dict(entry["params"])) for entry in self._log],
            }

    def reset_stats(self) -> None:
        with self.lock:
            self._requests.clear()
            self._throttled = 0
            self._tokens_issued = 0
            self._log.clear()

    def records_body(self, resource: str) -> bytes:
        if resource not in ENDPOINTS:
            raise KeyError(resource)
        with self.lock:
            return list_body(resource, self.world.rows[resource], None, self._shape(resource))

    def records(self, resource: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = json.loads(self.records_body(resource))[resource]
        return records

    def totals(self) -> dict[str, int]:
        with self.lock:
            return self.world.totals()

    def site_info(self) -> dict[str, Any]:
        site = self.site
        return {"site": site.profile.name, "currency": site.profile.currency, "today": day(site.end), "seed": site.seed}

    def delete(self, resource: str, key: str) -> dict[str, dict[str, list[str]]]:
        if resource not in DELETABLE:
            raise KeyError(resource)
        with self.lock:
            gone = delete(self.site, resource, key)
        if gone is None:
            raise KeyError(key)
        return gone

    def mutate(self, at: str | float | None = None, **counts: Any) -> dict[str, dict[str, list[str]]]:
        """`at` (ISO 8601 or epoch seconds) stands in for the server's clock: records made in a chosen second."""
        if at is None:
            clock = self.now
        else:
            when = parse_time("at", at).timestamp() if isinstance(at, str) else float(at)
            clock = lambda: when  # noqa: E731 - a stand-in for time.time
        with self.lock:
            return mutate(self.site, clock, **counts)

    def add_fault(self, resource: str, **spec: Any) -> dict[str, Any]:
        fault = Fault(resource, **spec)
        with self.lock:
            self._faults.append(fault)
        return asdict(fault)

    def faults(self) -> dict[str, Any]:
        with self.lock:
            return {"faults": [asdict(f) for f in self._faults], "random_rate": self._fault_rate}

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._fault_rate = 0.0

    def set_fault_rate(self, rate: float, seed: int | None = None) -> None:
        with self.lock:
            self._set_fault_rate(rate, seed)

    def _set_fault_rate(self, rate: float, seed: int | None) -> None:
        if not 0 <= rate <= 1:
            raise ValueError("random_rate must be between 0 and 1")
        self._fault_rate = float(rate)
        if seed is not None:
            self._fault_rng.seed(seed)

    def config(self) -> dict[str, Any]:
        with self.lock:
            return dict(self._config)

    def set_config(self, **changes: Any) -> dict[str, Any]:
        with self.lock:
            self._set_config(**changes)
            # A fresh window, so a test that changes the limit meets exactly the limit it set.
            self._accepted.clear()
            self._penalty_until = 0.0
            return dict(self._config)

    def _set_config(self, **changes: Any) -> None:
        unknown = set(changes) - CONFIG_KEYS
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        config = {**self._config, **changes}
        if config["rate_limit"] is not None and (not isinstance(config["rate_limit"], int) or config["rate_limit"] < 0):
            raise ValueError("rate_limit must be a whole number >= 0, or null")
        if not config["rate_window"] > 0 or not config["token_ttl"] > 0:
            raise ValueError("rate_window and token_ttl must be > 0")
        if config["retry_after"] is not None and config["retry_after"] < 0:
            raise ValueError("retry_after must be >= 0, or null")
        if isinstance(config["clock_offset"], bool) or not isinstance(config["clock_offset"], int | float):
            raise ValueError("clock_offset must be a number of seconds")
        if config["customer_time_field"] not in CUSTOMER_TIME_FIELDS:
            raise ValueError(f"customer_time_field must be one of {', '.join(CUSTOMER_TIME_FIELDS)}")
        self._config = config

    def issued_tokens(self) -> list[str]:
        with self.lock:
            return list(self._issued)

    def expire_tokens(self) -> int:
        """Make every issued token expired, as if its 30 minutes had passed."""
        with self.lock:
            for token in self._tokens:
                self._tokens[token] = 0.0
            return len(self._tokens)
