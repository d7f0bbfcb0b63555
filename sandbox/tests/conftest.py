"""Fixtures: sandboxes on 127.0.0.1 and a small client that speaks to them as a tap would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from orderspace_sandbox import Sandbox


class Client:
    """One keep-alive session with a token, like a tap's."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.token = self.new_token()

    def new_token(self) -> str:
        response = self.session.post(
            self.sandbox.auth_url,
            data={
                "client_id": self.sandbox.client_id,
                "client_secret": self.sandbox.client_secret,
                "grant_type": "client_credentials",
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def get(self, resource: str, **params: Any) -> requests.Response:
        return self.session.get(
            f"{self.sandbox.api_url}/{resource}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )

    def page(self, resource: str, **params: Any) -> dict[str, Any]:
        response = self.get(resource, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def walk(self, resource: str, key: str = "id", **params: Any) -> list[dict[str, Any]]:
        """Every record, page by page, as a tap reads them."""
        records: list[dict[str, Any]] = []
        while True:
            body = self.page(resource, **params)
            records += body[resource]
            if not body["has_more"]:
                return records
            params["starting_after"] = records[-1][key]

    def sandbox_get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.sandbox.url}/_sandbox/{path}", timeout=30)

    def sandbox_post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.session.post(f"{self.sandbox.url}/_sandbox/{path}", json=body or {}, timeout=30)


def _assert_bad_request(response: requests.Response, sandbox: Sandbox, word: str) -> None:
    """The live API's 400: empty text/html; the sandbox keeps the reason in its stats log."""
    assert response.status_code == 400
    assert response.content == b""
    assert response.headers["Content-Type"].startswith("text/html")
    assert word in sandbox.stats()["log"][-1]["error"]


@pytest.fixture
def bad_request() -> Callable[[requests.Response, Sandbox, str], None]:
    return _assert_bad_request


# The day the shared sandboxes' history ends, pinned so that the dates tests name fall inside it on any day.
TODAY = "2026-01-01"


@pytest.fixture(scope="session")
def shared() -> Iterator[Sandbox]:
    """One sandbox for the session, for the tests that only read from it (generating one is most of a test's time)."""
    with Sandbox(seed=7, orders=450, rate_limit=None, today=TODAY) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox for a test that changes it."""
    with Sandbox(seed=7, orders=450, rate_limit=None, today=TODAY) as fresh:
        yield fresh


@pytest.fixture
def client(sandbox: Sandbox) -> Client:
    return Client(sandbox)


@pytest.fixture(scope="session")
def reader(shared: Sandbox) -> Client:
    return Client(shared)


@pytest.fixture
def connect() -> type[Client]:
    """For tests that start a sandbox of their own."""
    return Client
