"""OAuth client-credentials tokens for Orderspace, renewed before they expire."""

from __future__ import annotations

import logging
import random
import re
import time
import typing as t
from collections.abc import Callable

import requests

from tap_orderspace.errors import AuthenticationError, OrderspaceAPIError
from tap_orderspace.pacing import backoff_wait

if t.TYPE_CHECKING:
    from tap_orderspace.pacing import RequestPacer

logger = logging.getLogger("tap-orderspace")

# Renew this long before expiry (capped at a tenth of the lifetime, so that the
# short-lived tokens of tests are still used for most of their life).
RENEWAL_MARGIN_SECONDS = 60.0
TOKEN_REQUEST_TRIES = 5
MAX_TOKEN_THROTTLES = 5
# What a bearer token may be made of (RFC 6750 b64token): anything else cannot be sent
# in a header, and is never repeated in a message either.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class _TransientTokenFailure(Exception):
    """The token endpoint did not answer usefully; worth another try."""


class _ServerClock(t.Protocol):
    def observe(self, date_header: str | None, received_at: float) -> None: ...


class ClientCredentialsToken:
    """Holds the current access token and fetches a new one when needed.

    Neither the client secret nor any token is ever put in a log line or an error.
    """

    def __init__(
        self,
        *,
        auth_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        pacer: RequestPacer | None = None,
        throttle_wait: Callable[[requests.Response, str], float] | None = None,
        server_clock: _ServerClock | None = None,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._auth_url = auth_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._pacer = pacer
        self._throttle_wait = throttle_wait
        self._server_clock = server_clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._access_token: str | None = None
        self._renew_at = 0.0
        self.tokens_fetched = 0

    def authorization_header(self) -> str:
        if self._access_token is None or self._clock() >= self._renew_at:
            self._fetch_with_retries()
        return f"Bearer {self._access_token}"

    def invalidate(self) -> None:
        """Forget the current token: the API said it is no longer valid."""
        self._access_token = None

    def _fetch_with_retries(self) -> None:
        for attempt in range(1, TOKEN_REQUEST_TRIES + 1):
            try:
                self._fetch()
                return
            except _TransientTokenFailure as exc:
                if attempt == TOKEN_REQUEST_TRIES:
                    raise OrderspaceAPIError(
                        f"No access token from {self._auth_url} after {TOKEN_REQUEST_TRIES} attempts "
                        f"(the last: {exc}): check auth_url and that the identity server is reachable"
                    ) from None
                wait = backoff_wait(attempt, self._rng)
                logger.warning(
                    "Token request failed (%s); retry %d of %d in %.1f s", exc, attempt, TOKEN_REQUEST_TRIES - 1, wait
                )
                self._sleep(wait)

    def _fetch(self) -> None:
        response = self._post_paced()
        if response.status_code >= 500:
            raise _TransientTokenFailure(f"HTTP {response.status_code}")
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                f"Orderspace refused the client credentials at {self._auth_url} "
                f"(HTTP {response.status_code}{_oauth_error_code(response)}): "
                "check client_id and client_secret of your Orderspace integration"
            )
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 1800))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OrderspaceAPIError(
                f"The token endpoint {self._auth_url} answered HTTP {response.status_code} "
                "without an access token: check auth_url"
            ) from exc
        if not isinstance(token, str) or _B64TOKEN.fullmatch(token) is None:
            raise OrderspaceAPIError(
                f"The token endpoint {self._auth_url} issued an access token that cannot be sent in an "
                "HTTP header (it holds spaces, line breaks or other characters a bearer token may not): "
                "check auth_url, and report it to Orderspace if it is theirs"
            )
        if not (lifetime > 0 and lifetime < 10**9):
            lifetime = 1800.0
        self._access_token = token
        self._renew_at = self._clock() + lifetime - min(RENEWAL_MARGIN_SECONDS, lifetime / 10)
        self.tokens_fetched += 1
        logger.info("Obtained an access token valid for %.0f s", lifetime)

    def _post_paced(self) -> requests.Response:
        """POST the credentials; a 429 is waited out like the API's own, within the same pacer."""
        for attempt in range(MAX_TOKEN_THROTTLES + 1):
            if self._pacer is not None:
                self._pacer.wait_for_turn()
            try:
                response = self._session.post(
                    self._auth_url,
                    data={
                        "client_id": self._client_id,
                        "client_secret": self._client_secret,
                        "grant_type": "client_credentials",
                    },
                    headers={"Accept": "application/json"},
                    timeout=self._timeout,
                )
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema,
            ):
                raise OrderspaceAPIError(
                    f"No access token: {self._auth_url} cannot be requested: check auth_url"
                ) from None
            except requests.RequestException as exc:
                raise _TransientTokenFailure(type(exc).__name__) from None
            if self._server_clock is not None:
                self._server_clock.observe(response.headers.get("Date"), self._wall_clock())
            if response.status_code != 429:
                return response
            if attempt == MAX_TOKEN_THROTTLES:
                break
            wait = self._throttle_wait(response, "the token request") if self._throttle_wait else 60.0
            if self._pacer is not None:
                self._pacer.hold(wait)
            else:
                self._sleep(wait)
        raise OrderspaceAPIError(
            f"The token endpoint {self._auth_url} throttled {MAX_TOKEN_THROTTLES + 1} token requests in a row "
            "(HTTP 429): another client may be using this integration; try again later"
        )


def _oauth_error_code(response: requests.Response) -> str:
    """The OAuth error code (`invalid_client`), never the rest of the body."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f" {code}" if isinstance(code, str) and code.isidentifier() else ""
