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

from .changes import mutate
from .query import ENDPOINTS, BadRequest, Query, list_body, parse_time, select
from .site import Site
from .world import RESOURCES, encode

AUTH_FAULT = "token"  # the `resource` a fault names to hit the token endpoint
ANY_RESOURCE = "*"
FAULT_KINDS = ("status", "reset", "malformed", "slow")
RANDOM_FAULTS = (500, 502, 503, "reset", "malformed")
LOG_LIMIT = 100_000
CONFIG_KEYS = frozenset({"rate_limit", "rate_window", "retry_after", "token_ttl"})
_REASONS = {
    400: "Bad request",
    401: "The access token is invalid",
    404: "Not found",
    422: "The request could not be processed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


@dataclass
class Answer:
    """What to send back. `reset` closes the connection without a response; `delay` is slept first."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    delay: float = 0.0


def json_answer(status: int, doc: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, encode(doc), headers or {})


def message(status: int, text: str | None = None, headers: dict[str, str] | None = None) -> Answer:
    return json_answer(status, {"message": text or _REASONS.get(status, "Error")}, headers)


@dataclass
class Fault:
    """Answer requests nth .. nth+times-1 to `resource`, counted from when the fault was set."""

    resource: str
    nth: int = 1
    kind: str = "status"
    status: int = 500
    seconds: float = 1.0
    times: int = 1
    seen: int = 0

    def __post_init__(self) -> None:
        if self.resource not in (*RESOURCES, AUTH_FAULT, ANY_RESOURCE):
            raise ValueError(f"unknown fault resource {self.resource!r}")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if self.nth < 1 or self.times < 1 or self.seconds < 0 or not 100 <= self.status <= 599:
            raise ValueError("fault needs nth >= 1, times >= 1, seconds >= 0 and an HTTP status")


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
    ) -> None:
        self.site = site
        self.world = site.world
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._issued: list[str] = []  # every token ever issued, for tests that look for leaks
        self._config: dict[str, Any] = {}
        self._set_config(token_ttl=token_ttl, rate_limit=rate_limit, rate_window=rate_window, retry_after=retry_after)
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

    # --- the token endpoint ------------------------------------------------------------------

    def token(self, params: dict[str, str], basic: tuple[str, str] | None) -> Answer:
        with self.lock:
            fault = self._due_fault(AUTH_FAULT)
            if fault is not None:
                return self._fault_answer(fault, lambda: self._token(params, basic))
            return self._token(params, basic)

    def _token(self, params: dict[str, str], basic: tuple[str, str] | None) -> Answer:
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
        self._tokens[token] = now + ttl
        self._issued.append(token)
        self._tokens_issued += 1
        return json_answer(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": max(1, int(ttl)), "scope": "read write"}
        )

    # --- the API -----------------------------------------------------------------------------

    def api(self, resource: str, params: dict[str, str], authorization: str | None) -> Answer:
        with self.lock:
            self._requests[resource] += 1
            answer = self._api(resource, params, authorization)
            if answer.status == 429:
                self._throttled += 1
            self._log.append({"t": time.time(), "resource": resource, "params": params, "status": answer.status})
            return answer

    def _api(self, resource: str, params: dict[str, str], authorization: str | None) -> Answer:
        endpoint = ENDPOINTS.get(resource)
        if endpoint is None:
            return message(404, f"No such endpoint: /v1/{resource}")
        refused = self._authenticate(authorization)
        if refused is not None:
            return refused
        if self._throttle():
            return message(
                429,
                f"Rate limit of {self._config['rate_limit']} requests per {self._config['rate_window']:g} s exceeded",
                self._retry_after(),
            )

        def serve() -> Answer:
            rows = self.world.rows[resource]
            if not endpoint.paginated:
                # These endpoints take no parameters; like a real API, they ignore any sent.
                return Answer(200, list_body(resource, rows, None))
            try:
                query = Query.parse(endpoint, params)
                page, has_more = select(resource, rows, self.world.by_key[resource], query)
            except BadRequest as error:
                return message(400, str(error))
            return Answer(200, list_body(resource, page, has_more))

        fault = self._due_fault(resource)
        if fault is not None:
            return self._fault_answer(fault, serve)
        if self._fault_rate and self._fault_rng.random() < self._fault_rate:
            drawn = self._fault_rng.choice(RANDOM_FAULTS)
            kind = drawn if isinstance(drawn, str) else "status"
            status = drawn if isinstance(drawn, int) else 500
            return self._fault_answer(Fault(resource, kind=kind, status=status), serve)
        return serve()

    def _authenticate(self, authorization: str | None) -> Answer | None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return self._unauthorized("Missing access token: send Authorization: Bearer <token>")
        expiry = self._tokens.get(token.strip())
        if expiry is None:
            return self._unauthorized("The access token is invalid")
        if expiry <= time.monotonic():
            return self._unauthorized("The access token expired")
        return None

    @staticmethod
    def _unauthorized(text: str) -> Answer:
        challenge = f'Bearer realm="Orderspace", error="invalid_token", error_description="{text}"'
        return message(401, text, {"WWW-Authenticate": challenge})

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

    def _retry_after(self) -> dict[str, str]:
        retry_after = self._config["retry_after"]
        return {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}

    def _due_fault(self, resource: str) -> Fault | None:
        due = None
        for fault in self._faults:
            if fault.resource == resource or (fault.resource == ANY_RESOURCE and resource != AUTH_FAULT):
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
        return message(fault.status, None, self._retry_after() if fault.status == 429 else None)

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
            return list_body(resource, self.world.rows[resource], None)

    def records(self, resource: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = json.loads(self.records_body(resource))[resource]
        return records

    def totals(self) -> dict[str, int]:
        with self.lock:
            return self.world.totals()

    def mutate(self, at: str | float | None = None, **counts: Any) -> dict[str, dict[str, list[str]]]:
        """`at` (ISO 8601 or epoch seconds) stands in for the clock: records made in a chosen second."""
        if at is None:
            clock = time.time
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
