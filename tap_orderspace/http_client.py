"""The one HTTP client of a run: session, token, pacing, retries, throttling and the server's clock.

The tap makes one `OrderspaceClient` per run and hands it to every stream. Streams ask it
for a list page or one record; everything that happens on the wire happens here, and the
streams never see a status code. Every request is measured as the SDK's REST streams measure
theirs, through the public `singer_sdk.metrics`: an `http_request_duration` point per answer
and `http_request_count` points per stream and endpoint, which Meltano and log tooling read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging
import math
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
import requests
from singer_sdk import metrics

from tap_orderspace.auth import ClientCredentialsToken
from tap_orderspace.errors import AuthenticationError, OrderspaceAPIError
from tap_orderspace.pacing import RequestPacer, backoff_wait

logger = logging.getLogger("tap-orderspace")

REQUEST_TRIES = 6  # the first attempt and five retries, about 30 s of backoff in all
# The reference: "after a 429, wait at least 60 seconds"; the live API sends no Retry-After.
DEFAULT_THROTTLE_WAIT_SECONDS = 60.0
MAX_CONSECUTIVE_THROTTLES = 10
# A wait longer than this is said at WARNING, not INFO: somebody may be watching the clock.
LONG_WAIT_SECONDS = 120.0
# The characters an HTTP header value may hold (RFC 9110 field-value, visible ASCII and space).
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
# Request errors no retry can mend: the URL or a header value is wrong.
_NOT_RETRIED = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
)


class TransientRequestError(Exception):
    """A failure worth retrying: 5xx, a dropped connection, a timeout, a garbled body."""


class RecordNotFound(Exception):
    """A retrieve answered 404: the record was deleted, or never existed."""


@dataclass(frozen=True)
class ClientSettings:
    """What the client needs from the tap's settings, already validated."""

    api_url: str
    auth_url: str
    client_id: str
    client_secret: str
    user_agent: str
    max_requests_per_minute: int = 60
    request_timeout: float = 60.0
    max_retry_after_seconds: float = 900.0


@dataclass
class Page:
    """One answer of a list or retrieve endpoint, and when it was received."""

    body: dict[str, Any]
    #: The tap's clock when the answer arrived (Singer `time_extracted`).
    received_at: dt.datetime


@dataclass
class ServerClock:
    """Orderspace's clock, read from the `Date` header of its answers.

    `Date` is truncated to the second and generated after the request was handled, so
    `Date - time received` never exceeds the true offset: bookmarks taken from it are
    never ahead of the server, whatever the host's clock says.
    """

    wall_clock: Callable[[], float] = time.time
    offset_seconds: float | None = None

    def observe(self, date_header: str | None, received_at: float) -> None:
        if not date_header:
            return
        try:
            server_time = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            return
        if server_time.tzinfo is None:
            return
        self.offset_seconds = server_time.timestamp() - received_at

    def now(self) -> dt.datetime | None:
        """The server's time now (a lower bound), or None before any answer carried a `Date`."""
        if self.offset_seconds is None:
            return None
        return dt.datetime.fromtimestamp(self.wall_clock() + self.offset_seconds, dt.UTC)


class OrderspaceClient:
    """Sends every request of a run, in turn, within the API's allowance."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        session: requests.Session | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.clock = ServerClock(wall_clock=wall_clock)
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.pacer = RequestPacer(settings.max_requests_per_minute, clock=monotonic, sleep=sleep)
        self.token = ClientCredentialsToken(
            auth_url=settings.auth_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            session=self.session,
            timeout=settings.request_timeout,
            clock=monotonic,
            pacer=self.pacer,
            throttle_wait=self.throttle_wait,
            server_clock=self.clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rng=self._rng,
        )
        #: Requests sent to the API (token requests aside), retries included.
        self.requests_sent = 0
        self._metrics_logger = metrics.get_metrics_logger()
        self._counted_stream: str | None = None
        self._counters: dict[str, metrics.Counter] = {}

    # What streams call ------------------------------------------------------------------

    def list_page(self, resource: str, params: dict[str, Any]) -> Page:
        """One page of `GET /<resource>`."""
        return self._get(f"/{resource}", params, endpoint=f"/{resource}")

    def retrieve(self, resource: str, record_id: str) -> Page:
        """`GET /<resource>/<id>`; raises `RecordNotFound` on 404."""
        path = f"/{resource}/{urllib.parse.quote(record_id, safe='')}"
        return self._get(path, {}, endpoint=f"/{resource}/{{id}}", missing_is_not_found=True)

    @contextlib.contextmanager
    def counting_requests(self, stream: str) -> Iterator[None]:
        """Count the requests sent for `stream` in `http_request_count` points, per endpoint:
        one a minute while it lasts and one at its end, as the SDK's REST streams do."""
        self._counted_stream = stream
        try:
            yield
        finally:
            for counter in self._counters.values():
                counter.exit()
            self._counters = {}
            self._counted_stream = None

    def server_now(self) -> dt.datetime:
        """Orderspace's time now. Asks for a token first if no answer has shown its clock yet."""
        now = self.clock.now()
        if now is None:
            self.token.authorization_header()
            now = self.clock.now()
        if now is None:
            if not getattr(self, "_warned_no_date", False):
                logger.warning("Orderspace sent no Date header: bookmarks use this host's clock")
                self._warned_no_date = True
            return dt.datetime.fromtimestamp(self._wall_clock(), dt.UTC)
        return now

    def throttle_wait(self, response: requests.Response, what: str) -> float:
        """Seconds to send nothing after a 429: `Retry-After` if it parses, capped, else the documented minute."""
        cap = self.settings.max_retry_after_seconds
        asked = self._retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            wait, source = DEFAULT_THROTTLE_WAIT_SECONDS, "the documented minimum"
            if "Retry-After" in response.headers:
                source += "; Retry-After was neither seconds nor a date"
        else:
            wait, source = asked, "Retry-After"
        if wait > cap:
            logger.warning(
                "Orderspace throttled %s and asked for %.0f s; waiting %.0f s (max_retry_after_seconds)",
                what,
                wait,
                cap,
            )
            wait = cap
        else:
            log = logger.warning if wait > LONG_WAIT_SECONDS else logger.info
            log("Orderspace throttled %s (HTTP 429); sending nothing for %.0f s (%s)", what, wait, source)
        return wait

    def _retry_after_seconds(self, value: str | None) -> float | None:
        """`Retry-After` as seconds: a number (RFC 9110 allows digits; "1e10" and "inf" are read
        leniently and then capped), or an HTTP date on the server's clock. None if neither."""
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not math.isnan(seconds):
            return max(seconds, 0.0)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        now = self.clock.now() or dt.datetime.fromtimestamp(self._wall_clock(), dt.UTC)
        return max((when - now).total_seconds(), 0.0)

    # The request loop -----------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any], *, endpoint: str, missing_is_not_found: bool = False) -> Page:
        """`_get_once`, retried on transient failures with exponential backoff and full jitter.

        The waits go through the injected `sleep`, so tests run them on a fake clock.
        """
        for attempt in range(1, REQUEST_TRIES + 1):
            try:
                return self._get_once(path, params, endpoint, missing_is_not_found)
            except TransientRequestError as exc:
                if attempt == REQUEST_TRIES:
                    msg = f"GET {path} failed {REQUEST_TRIES} times in a row; the last error: {exc}"
                    raise OrderspaceAPIError(msg) from None
                wait = backoff_wait(attempt, self._rng)
                logger.warning(
                    "GET %s failed (%s); retry %d of %d in %.1f s", path, exc, attempt, REQUEST_TRIES - 1, wait
                )
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(self, path: str, params: dict[str, Any], endpoint: str, missing_is_not_found: bool) -> Page:
        url = self.settings.api_url.rstrip("/") + path
        renewed_after_401 = False
        throttled = 0
        while True:
            response = self._send(url, params, path, endpoint)
            received = self._wall_clock()
            self.clock.observe(response.headers.get("Date"), received)

            status = response.status_code
            if status == 429:
                throttled += 1
                if throttled > MAX_CONSECUTIVE_THROTTLES:
                    msg = (
                        f"GET {path} was throttled {throttled} times in a row: another client "
                        "may be using this site's request allowance; lower max_requests_per_minute"
                    )
                    raise OrderspaceAPIError(msg)
                self.pacer.hold(self.throttle_wait(response, f"GET {path}"))
                continue
            if status == 401:
                reason = _www_authenticate_reason(response)
                if renewed_after_401:
                    msg = (
                        f"Orderspace rejected a newly issued access token on GET {path} "
                        f"(HTTP 401{reason}): check that the integration is enabled and may read this resource"
                    )
                    raise AuthenticationError(msg)
                logger.info("Access token refused on GET %s (HTTP 401%s); renewing it once", path, reason)
                self.token.invalidate()
                renewed_after_401 = True
                continue
            if status >= 500:
                raise TransientRequestError(f"HTTP {status}")
            if status == 404 and missing_is_not_found and _is_json(response):
                raise RecordNotFound(path)
            if status >= 400:
                msg = f"Orderspace answered HTTP {status} to GET {path}: {api_message(response)}"
                raise OrderspaceAPIError(msg, status)
            try:
                body = msgspec.json.decode(response.content)
            except msgspec.DecodeError:
                raise TransientRequestError(f"HTTP {status} with a body that is not JSON") from None
            if not isinstance(body, dict):
                raise TransientRequestError(f"HTTP {status} with a body that is not a JSON object")
            return Page(body=body, received_at=dt.datetime.fromtimestamp(received, dt.UTC))

    def _send(self, url: str, params: dict[str, Any], path: str, endpoint: str) -> requests.Response:
        """One request, in its turn, measured; a failure to get an answer is raised as what it means."""
        self.pacer.wait_for_turn()
        headers = {
            "Authorization": self.token.authorization_header(),
            "Accept": "application/json",
            "User-Agent": self.settings.user_agent,
        }
        self._count_request(endpoint)
        try:
            response = self.session.get(url, params=params, headers=headers, timeout=self.settings.request_timeout)
        except requests.Timeout:
            raise TransientRequestError(
                f"no answer within request_timeout={self.settings.request_timeout:g} s"
            ) from None
        except requests.ConnectionError as exc:
            raise TransientRequestError(f"connection failed: {exception_summary(exc)}") from None
        except _NOT_RETRIED as exc:
            raise OrderspaceAPIError(f"GET {path} cannot be sent: {exception_summary(exc)}") from None
        except requests.RequestException as exc:
            raise TransientRequestError(exception_summary(exc)) from None
        self._log_duration(endpoint, response)
        return response

    # Metrics ----------------------------------------------------------------------------

    def _count_request(self, endpoint: str) -> None:
        self.requests_sent += 1
        stream = self._counted_stream
        if stream is None:
            return
        counter = self._counters.get(endpoint)
        if counter is None:
            counter = self._counters[endpoint] = metrics.http_request_counter(stream, endpoint)
            counter.__enter__()
        counter.increment()

    def _log_duration(self, endpoint: str, response: requests.Response) -> None:
        """An `http_request_duration` point, tagged as the SDK's REST streams tag theirs."""
        status = response.status_code
        point = metrics.Point(
            "timer",
            metric=metrics.Metric.HTTP_REQUEST_DURATION,
            value=response.elapsed.total_seconds(),
            tags={
                metrics.Tag.STREAM: self._counted_stream or endpoint.split("/")[1],
                metrics.Tag.ENDPOINT: endpoint,
                metrics.Tag.HTTP_STATUS_CODE: status,
                metrics.Tag.STATUS: metrics.Status.SUCCEEDED
                if status < HTTPStatus.BAD_REQUEST
                else metrics.Status.FAILED,
            },
        )
        metrics.log(self._metrics_logger, point)


def header_value_is_sendable(value: str) -> bool:
    return _HEADER_VALUE.fullmatch(value) is not None


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")


def _www_authenticate_reason(response: requests.Response) -> str:
    """The live API's 401 has an empty body: its reason is `error_description` in `WWW-Authenticate`."""
    match = re.search(r'error_description="([^"]{1,120})"', response.headers.get("WWW-Authenticate", ""))
    return f": {match.group(1)}" if match and header_value_is_sendable(match.group(1)) else ""


def api_message(response: requests.Response) -> str:
    """The API's `message`, if the body is JSON; the live API answers 400 and unknown routes with HTML."""
    message = None
    if _is_json(response):
        try:
            message = response.json().get("message")
        except (ValueError, AttributeError):
            message = None
    if isinstance(message, str) and message:
        return message[:300]
    return response.reason or "no message"


def exception_summary(exc: Exception) -> str:
    """An exception as one short line. `requests` puts a refused header's value in its
    message (`InvalidHeader`), and that value can be a token: such messages are not repeated."""
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return "InvalidHeader: a request header value was refused"
    return f"{type(exc).__name__}: {exc}"[:300]
