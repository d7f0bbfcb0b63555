"""The token endpoint and bearer tokens, as the reference's Authentication section describes them."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from orderspace_sandbox import Sandbox

GRANT = "client_credentials"


def token_request(sandbox: Sandbox, **form: str) -> requests.Response:
    return requests.post(sandbox.auth_url, data=form, timeout=10)


def test_token_has_the_documented_shape(shared: Sandbox) -> None:
    response = token_request(shared, client_id=shared.client_id, client_secret=shared.client_secret, grant_type=GRANT)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "token_type", "expires_in", "scope"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert body["scope"] == "read write"
    assert len(body["access_token"]) >= 32


def test_each_token_is_new(shared: Sandbox) -> None:
    form = {"client_id": shared.client_id, "client_secret": shared.client_secret, "grant_type": GRANT}
    tokens = {token_request(shared, **form).json()["access_token"] for _ in range(3)}
    assert len(tokens) == 3


@pytest.mark.parametrize(("ttl", "expires_in"), [(2.7, 2), (0.4, 1), (60.0, 60)])
def test_expires_in_is_the_ttl_rounded_down_but_at_least_one(ttl: float, expires_in: int) -> None:
    sandbox = Sandbox(orders=0, token_ttl=ttl).start()
    try:
        response = token_request(
            sandbox, client_id=sandbox.client_id, client_secret=sandbox.client_secret, grant_type=GRANT
        )
        assert response.json()["expires_in"] == expires_in
    finally:
        sandbox.stop()


@pytest.mark.parametrize(
    "form",
    [
        {"client_id": "sandbox-client", "client_secret": "wrong", "grant_type": GRANT},
        {"client_id": "someone-else", "client_secret": "sandbox-secret", "grant_type": GRANT},
        {"grant_type": GRANT},
    ],
)
def test_bad_client_credentials_are_invalid_client(shared: Sandbox, form: dict[str, str]) -> None:
    response = token_request(shared, **form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


@pytest.mark.parametrize(("grant", "error"), [(None, "invalid_request"), ("password", "unsupported_grant_type")])
def test_a_missing_or_other_grant_type_is_refused(shared: Sandbox, grant: str | None, error: str) -> None:
    form = {"client_id": shared.client_id, "client_secret": shared.client_secret}
    if grant:
        form["grant_type"] = grant
    response = token_request(shared, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_credentials_may_come_as_http_basic(shared: Sandbox) -> None:
    response = requests.post(
        shared.auth_url, data={"grant_type": GRANT}, auth=(shared.client_id, shared.client_secret), timeout=10
    )
    assert response.status_code == 200


INVALID = 'Bearer realm="Orderspace API", error="invalid_token", error_description="The access token is invalid"'
EXPIRED = 'Bearer realm="Orderspace API", error="invalid_token", error_description="The access token expired"'


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", "Basic c2FuZGJveDpzYW5kYm94"])
def test_api_without_a_valid_bearer_token_is_401_with_an_empty_body(shared: Sandbox, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("orders", "orders/or_12345678"):
        response = requests.get(f"{shared.api_url}/{path}", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.content == b""
        assert response.headers["WWW-Authenticate"] == INVALID


def test_a_token_expires_after_its_ttl(connect: Any) -> None:
    with Sandbox(orders=5, token_ttl=1.0, rate_limit=None) as sandbox:
        client = connect(sandbox)
        assert client.get("tax_rates").status_code == 200
        time.sleep(1.1)
        expired = client.get("tax_rates")
        assert expired.status_code == 401
        assert expired.content == b""
        assert expired.headers["WWW-Authenticate"] == EXPIRED
        client.token = client.new_token()
        assert client.get("tax_rates").status_code == 200


def test_expire_tokens_invalidates_every_issued_token(client: Any) -> None:
    other = client.new_token()
    response = client.sandbox_post("expire-tokens")
    assert response.json() == {"expired": 2}
    assert client.get("tax_rates").status_code == 401
    client.token = other
    assert client.get("tax_rates").status_code == 401
    client.token = client.new_token()
    assert client.get("tax_rates").status_code == 200


def test_expire_tokens_in_process(client: Any) -> None:
    client.sandbox.expire_tokens()
    assert client.get("tax_rates").status_code == 401


def test_the_token_endpoint_is_not_throttled(connect: Any) -> None:
    with Sandbox(orders=5, rate_limit=2, rate_window=60.0) as sandbox:
        client = connect(sandbox)
        for _ in range(5):
            client.new_token()
        assert client.get("tax_rates").status_code == 200
        assert sandbox.stats()["tokens_issued"] == 6


def test_issued_tokens_lists_every_token_even_expired_ones(client: Any) -> None:
    second = client.new_token()
    client.sandbox.expire_tokens()
    third = client.new_token()
    assert client.sandbox.issued_tokens() == [client.token, second, third]
    assert client.sandbox_get("tokens").json() == {"tokens": [client.token, second, third]}
