"""The one pager: every list read of a run (a window, a reconciliation, an open-set list) pages here.

Orderspace lists page with `limit` / `starting_after` / `has_more`. A list can answer oddly,
and each oddity has one answer, the same on every read:

- a page that says `has_more` but holds nothing is asked for again, `EMPTY_PAGE_TRIES` times
  in all, then the read stops with an error;
- a page that brings no record this pass has not seen, or whose cursor does not move, means
  the API ignored `starting_after`: the read stops at once rather than loop;
- a cursor answered with nothing (a lenient API's answer when the cursor's record is gone)
  reads the list again from its start, once, rather than lose what lay past it;
- on a read that resumes from a saved cursor (kept by a run that stopped), a cursor the API
  refuses (400, 404, 422) reads the list again from its start, once. On a read that began at
  the start, a refusal is an error like any other: the read stops and the next run resumes.

Records are conformed (`records.RecordShape`) once, as their page arrives; the pager yields
each record the first time this pass sees it, with its key.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_orderspace.errors import OrderspaceAPIError

if t.TYPE_CHECKING:
    import datetime as dt
    import logging

    from tap_orderspace.http_client import OrderspaceClient
    from tap_orderspace.records import RecordShape

CURSOR_REFUSED = frozenset({400, 404, 422})
# A page that says `has_more` but holds nothing is asked for again until this many came in a row.
EMPTY_PAGE_TRIES = 3


@dataclass(frozen=True)
class ListEndpoint:
    """What paging needs to know of a stream's list endpoint."""

    #: The stream's name: the key of the list in every answer (`{"orders": [...]}`).
    stream: str
    #: The path below the API URL.
    resource: str
    #: Records per request; None for an endpoint that answers everything at once.
    page_size: int | None
    #: The record field whose value is the `starting_after` cursor for the next page.
    cursor_field: str
    #: The fields that make a record's key (the primary key, else the cursor field).
    key_fields: tuple[str, ...]

    def key_of(self, record: dict[str, t.Any]) -> str:
        return "\x1f".join(str(record.get(key)) for key in self.key_fields)


class Pager:
    """One pass over a list under one query.

    `on_advance(cursor)` is called when the next page is about to be asked for, after every
    record of the page before was yielded: the window keeps its progress there.
    `on_page(received_at)` is called as each page's records are about to be yielded.
    `what` names the read in messages (`'orders'`, `'orders' with {'status': 'new'}`), `read`
    what is read again on a restart; `stopped` ends the error messages: what a stop leaves
    behind, for the reader of the log.
    """

    def __init__(
        self,
        client: OrderspaceClient,
        endpoint: ListEndpoint,
        shape: RecordShape,
        query: dict[str, t.Any],
        *,
        log: logging.Logger,
        cursor: str | None = None,
        what: str = "",
        read: str = "the list",
        stopped: str = "",
        on_advance: t.Callable[[str | None], None] | None = None,
        on_page: t.Callable[[dt.datetime], None] | None = None,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.shape = shape
        self.query = query
        self.cursor = cursor
        self.resumed = cursor is not None
        self.log = log
        self.what = what or f"'{endpoint.stream}'"
        self.read = read
        self.stopped = stopped
        self.on_advance = on_advance
        self.on_page = on_page
        self.seen: set[str] = set()
        self.restarted = False

    def records(self) -> t.Iterator[tuple[str, dict[str, t.Any]]]:
        """`(key, record)` for each conformed record, the first time this pass sees it."""
        endpoint = self.endpoint
        cursor_field = endpoint.cursor_field
        while True:
            records, has_more = self._next_page()
            new_on_page = 0
            next_cursor: str | None = None
            for raw in records:
                record = self.shape.conform(raw)
                if record is None:
                    continue
                cursor = record.get(cursor_field)
                if isinstance(cursor, str):
                    next_cursor = cursor
                key = endpoint.key_of(record)
                if key in self.seen:
                    continue
                self.seen.add(key)
                new_on_page += 1
                yield key, record
            if not has_more:
                return
            if new_on_page == 0 or next_cursor is None or next_cursor == self.cursor:
                msg = (
                    f"Paging of {self.what} does not advance: the page after cursor {self.cursor} repeats "
                    f"records already read; stopped (the API ignored starting_after). {self.stopped}"
                )
                raise OrderspaceAPIError(msg.rstrip())
            self.cursor = next_cursor
            if self.on_advance is not None:
                self.on_advance(next_cursor)

    def _params(self) -> dict[str, t.Any]:
        params = dict(self.query)
        if self.endpoint.page_size is not None:
            params["limit"] = self.endpoint.page_size
            if self.cursor is not None:
                params["starting_after"] = self.cursor
        return params

    def _next_page(self) -> tuple[list[t.Any], bool]:
        """The next page's records and whether more follow; odd answers are dealt with here."""
        empty_pages = 0
        while True:
            params = self._params()
            try:
                page = self.client.list_page(self.endpoint.resource, params)
            except OrderspaceAPIError as refused:
                if not (self.resumed and self.cursor and refused.status in CURSOR_REFUSED) or self.restarted:
                    raise
                # The record the saved cursor names is gone: read the list again from its
                # start rather than fail or skip what lies past it.
                self.log.warning(
                    "Orderspace refused the saved cursor %s of %s (%s); reading %s again from its start",
                    self.cursor,
                    self.what,
                    refused,
                    self.read,
                )
                self._restart()
                continue
            records = self._records_of(page.body, params)
            has_more = self.endpoint.page_size is not None and page.body.get("has_more") is True
            if has_more and not records:
                empty_pages += 1
                if empty_pages >= EMPTY_PAGE_TRIES:
                    msg = (
                        f"GET /{self.endpoint.resource} answered {EMPTY_PAGE_TRIES} times an empty page that says "
                        f"more follow (after cursor {self.cursor}): stopped. {self.stopped}"
                    )
                    raise OrderspaceAPIError(msg.rstrip())
                self.log.warning("%s answered an empty page that says more follow; asking again", self.what)
                continue
            if self.cursor is not None and not records and not self.restarted:
                # A cursor whose record is gone can be answered with an empty last page
                # instead of an error: whatever lay past it would be lost.
                self.log.warning(
                    "%s answered nothing after cursor %s; reading %s again from its start to be sure",
                    self.what,
                    self.cursor,
                    self.read,
                )
                self._restart()
                continue
            if self.on_page is not None:
                self.on_page(page.received_at)
            return records, has_more

    def _restart(self) -> None:
        self.cursor = None
        self.restarted = True
        self.seen.clear()
        if self.on_advance is not None:
            self.on_advance(None)

    def _records_of(self, body: dict[str, t.Any], params: dict[str, t.Any]) -> list[t.Any]:
        # Every list answers {"<resource>": [...], "has_more": ...}.
        name = self.endpoint.stream
        records = body.get(name)
        if not isinstance(records, list):
            msg = f"GET /{self.endpoint.resource} answered without a '{name}' list (parameters {params})"
            raise OrderspaceAPIError(msg)
        return records
