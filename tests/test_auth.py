"""Token renewal on the clock, against the sandbox's real token endpoint."""

from __future__ import annotations

import pytest
import requests
from orderspace_sandbox import Sandbox

from tap_orderspace.auth import ClientCredentialsToken
from tap_orderspace.errors import AuthenticationError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def token_source(sb: Sandbox, clock: FakeClock, secret: str | None = None) -> ClientCredentialsToken:
    return ClientCredentialsToken(
        auth_url=sb.auth_url,
        client_id=sb.client_id,
        client_secret=secret or sb.client_secret,
        session=requests.Session(),
        timeout=10,
        clock=clock,
    )


@pytest.mark.parametrize(
    ("lifetime", "still_valid_at", "renewed_at"),
    [(1800, 1739.0, 1741.0), (10, 8.9, 9.1)],
    ids=["a-minute-early", "a-tenth-of-a-short-life-early"],
)
def test_token_is_reused_until_shortly_before_it_expires(
    lifetime: float, still_valid_at: float, renewed_at: float
) -> None:
    with Sandbox(seed=1, orders=5, rate_limit=None, token_ttl=lifetime) as sb:
        clock = FakeClock()
        token = token_source(sb, clock)
        first = token.authorization_header()
        clock.now = still_valid_at
        assert token.authorization_header() == first
        clock.now = renewed_at
        assert token.authorization_header() != first
        assert token.tokens_fetched == 2 == sb.stats()["tokens_issued"]


def test_invalidate_fetches_a_new_token() -> None:
    with Sandbox(seed=1, orders=5, rate_limit=None) as sb:
        token = token_source(sb, FakeClock())
        first = token.authorization_header()
        token.invalidate()
        assert token.authorization_header() != first


def test_bad_secret_is_an_authentication_error_without_the_secret() -> None:
    with Sandbox(seed=1, orders=5, rate_limit=None) as sb:
        token = token_source(sb, FakeClock(), secret="not-the-secret-123")
        with pytest.raises(AuthenticationError) as raised:
            token.authorization_header()
        assert "invalid_client" in str(raised.value)
        assert "not-the-secret-123" not in str(raised.value)
