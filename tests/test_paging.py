"""The one pager, against the sandbox's paging faults, on each kind of list read the tap makes.

A window (`created_since`), an open-set list (`status=new`) and a reconciliation (no filter)
page through the same `paging.Pager`; each is read here through a page size that gives it
several pages, with each fault the sandbox can put in a list's paging. The end-to-end runs
(test_hostile_inputs.py, test_change_capture.py, test_incremental.py) show the tap's reads
go through it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import typing as t
from pathlib import Path

import pytest
from orderspace_sandbox import Sandbox

from tap_orderspace.errors import OrderspaceAPIError
from tap_orderspace.http_client import ClientSettings, OrderspaceClient
from tap_orderspace.paging import EMPTY_PAGE_TRIES, ListEndpoint, Pager
from tap_orderspace.records import Problems, RecordShape

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "orders.json").read_text(encoding="utf-8"))
PAGE_SIZE = 10
ENDPOINT = ListEndpoint(stream="orders", resource="orders", page_size=PAGE_SIZE, cursor_field="id", key_fields=("id",))


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[Sandbox]:
    with Sandbox(seed=61, orders=150, rate_limit=None) as running:
        running.mutate(new_orders=40)  # enough open orders for several pages of `status=new`
        yield running


def _created(record: dict[str, t.Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(record["created"])


def _window_since(sb: Sandbox) -> str:
    """A bound that leaves several pages of orders in the window, not all of them."""
    newest_first = sorted(sb.records("orders"), key=_created, reverse=True)
    return str(newest_first[len(newest_first) // 3]["created"])


# Each read: its query, and which of the sandbox's orders it must deliver, given that query.
READS: dict[str, tuple[t.Callable[[Sandbox], dict[str, str]], t.Callable[[dict[str, str], dict[str, t.Any]], bool]]] = {
    "window": (
        lambda sb: {"created_since": _window_since(sb)},
        lambda query, record: _created(record) >= dt.datetime.fromisoformat(query["created_since"]),
    ),
    "open-set list": (lambda sb: {"status": "new"}, lambda query, record: record["status"] == "new"),
    "reconciliation": (lambda sb: {}, lambda query, record: True),
}


def _expected(sb: Sandbox, read: str) -> set[str]:
    # The query once, not per record: reading the sandbox's records takes a while.
    query, belongs = READS[read][0](sb), READS[read][1]
    return {record["id"] for record in sb.records("orders") if belongs(query, record)}


def _pager(sb: Sandbox, read: str, *, cursor: str | None = None, advanced: list[str | None] | None = None) -> Pager:
    config = sb.config()
    settings = ClientSettings(
        api_url=config["api_url"],
        auth_url=config["auth_url"],
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        user_agent="tap-orderspace-tests",
        max_requests_per_minute=0,
    )
    shape = RecordShape("orders", SCHEMA, ("id",), Problems())
    return Pager(
        OrderspaceClient(settings),
        ENDPOINT,
        shape,
        READS[read][0](sb),
        log=logging.getLogger("tap-orderspace.orders"),
        cursor=cursor,
        on_advance=None if advanced is None else advanced.append,
    )


def _read_all(pager: Pager) -> list[str]:
    return [key for key, _ in pager.records()]


def _list_requests(sb: Sandbox) -> int:
    return int(sb.stats()["requests"].get("orders", 0))


@pytest.fixture
def fresh(sandbox: Sandbox) -> Sandbox:
    sandbox.clear_faults()
    sandbox.reset_stats()
    return sandbox


def test_each_read_spans_several_pages(fresh: Sandbox) -> None:
    for read in READS:
        assert len(_expected(fresh, read)) > 3 * PAGE_SIZE, read


@pytest.mark.parametrize("read", list(READS))
def test_a_clean_read_delivers_each_record_once_and_moves_its_cursor_per_page(fresh: Sandbox, read: str) -> None:
    advanced: list[str | None] = []
    keys = _read_all(_pager(fresh, read, advanced=advanced))
    assert len(keys) == len(set(keys))
    assert set(keys) == _expected(fresh, read)
    pages = _list_requests(fresh)
    assert pages in (len(keys) // PAGE_SIZE, len(keys) // PAGE_SIZE + 1)
    assert len(advanced) == pages - 1
    assert None not in advanced


@pytest.mark.parametrize("read", list(READS))
def test_an_empty_page_saying_more_follow_is_asked_again(
    fresh: Sandbox, read: str, caplog: pytest.LogCaptureFixture
) -> None:
    fresh.add_fault(resource="orders", nth=2, kind="empty_has_more", times=EMPTY_PAGE_TRIES - 1)
    assert set(_read_all(_pager(fresh, read))) == _expected(fresh, read)
    assert "answered an empty page that says more follow; asking again" in caplog.text


@pytest.mark.parametrize("read", list(READS))
def test_empty_pages_that_persist_stop_the_read(fresh: Sandbox, read: str) -> None:
    fresh.add_fault(resource="orders", nth=2, kind="empty_has_more", times=50)
    with pytest.raises(OrderspaceAPIError, match=f"answered {EMPTY_PAGE_TRIES} times an empty page"):
        _read_all(_pager(fresh, read))
    assert _list_requests(fresh) == 1 + EMPTY_PAGE_TRIES


@pytest.mark.parametrize("read", list(READS))
def test_paging_that_does_not_advance_stops_at_once(fresh: Sandbox, read: str) -> None:
    fresh.add_fault(resource="orders", nth=1, kind="ignore_cursor", times=1000)
    with pytest.raises(OrderspaceAPIError, match=r"Paging of 'orders' does not advance: the page after cursor or_\w+"):
        _read_all(_pager(fresh, read))
    assert _list_requests(fresh) == 2


@pytest.mark.parametrize("read", list(READS))
def test_an_empty_answer_after_a_cursor_reads_the_list_again(
    fresh: Sandbox, read: str, caplog: pytest.LogCaptureFixture
) -> None:
    fresh.add_fault(resource="orders", nth=2, kind="empty_after_cursor")
    advanced: list[str | None] = []
    keys = _read_all(_pager(fresh, read, advanced=advanced))
    # The restart yields the list again from its start (the stream's emitted keys keep the
    # records of the first pages from being written twice).
    restart = advanced.index(None)
    assert set(keys[restart * PAGE_SIZE :]) == _expected(fresh, read)
    assert "answered nothing after cursor" in caplog.text


@pytest.mark.parametrize("read", list(READS))
@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_refused_saved_cursor_reads_the_list_again(
    fresh: Sandbox, read: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    saved = sorted(_expected(fresh, read))[0]
    fresh.add_fault(resource="orders", nth=1, kind="status", status=status)
    assert set(_read_all(_pager(fresh, read, cursor=saved))) == _expected(fresh, read)
    assert f"refused the saved cursor {saved}" in caplog.text


@pytest.mark.parametrize("read", list(READS))
def test_a_cursor_refused_in_the_middle_of_a_fresh_read_stops_it(fresh: Sandbox, read: str) -> None:
    fresh.add_fault(resource="orders", nth=2, kind="status", status=404)
    with pytest.raises(OrderspaceAPIError, match="HTTP 404"):
        _read_all(_pager(fresh, read))
    assert _list_requests(fresh) == 2
