"""Change capture: records that stay open for months (orders, invoices) are read again every run.

After the window, the records open at the last run are listed again through the API's
cheapest filter (`status=...`, `paid=false`), and those that left the open set since, or
that another stream named as changed (a new dispatch names its order), are retrieved by id;
a 404 there is a deletion, written to `deleted_records` at once. What a stream declares
for this is an `OpenRecords` and its `ChangeSignal`s (streams.py).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_orderspace import state as st
from tap_orderspace.http_client import RecordNotFound

if t.TYPE_CHECKING:
    from tap_orderspace.run_context import StreamRun
    from tap_orderspace.stream import OrderspaceStream


@dataclass(frozen=True)
class OpenRecords:
    """Which records still change (an order not yet fulfilled, an unpaid invoice), and the
    list filter that finds them: `?<field>=<value>` for each open value."""

    field: str
    open_values: tuple[t.Any, ...]

    def is_open(self, record: dict[str, t.Any]) -> bool:
        return record.get(self.field) in self.open_values

    def filters(self) -> list[dict[str, str]]:
        return [
            {self.field: str(value).lower() if isinstance(value, bool) else str(value)} for value in self.open_values
        ]


@dataclass(frozen=True)
class ChangeSignal:
    """A new record of this stream changes records of another: `path` leads to their ids
    (`("order_id",)`, or `("orders", "id")` through an array)."""

    stream: str
    path: tuple[str, ...]

    def ids_in(self, record: dict[str, t.Any]) -> set[str]:
        values: list[t.Any] = [record]
        for step in self.path:
            nested: list[t.Any] = []
            for value in values:
                found = value.get(step) if isinstance(value, dict) else None
                nested.extend(found if isinstance(found, list) else [found])
            values = nested
        return {value for value in values if isinstance(value, str) and value}


class ChangeCapture:
    """A stream's second pass, after its window."""

    def __init__(self, stream: OrderspaceStream, open_records: OpenRecords, run: StreamRun) -> None:
        self.stream = stream
        self.open_records = open_records
        self.run = run

    def records(self, *, reconciling: bool) -> t.Iterator[dict[str, t.Any]]:
        """The open and changed records; a reconciliation has read every record already, and
        only keeps the open set it saw."""
        stream, run = self.stream, self.run
        stream_state = stream.stream_state
        if not reconciling:
            for query in self.open_records.filters():
                yield from self._relist(query)
            to_retrieve = sorted((run.previously_open | pending_ids(stream_state)) - run.emitted)
            if to_retrieve:
                stream.logger.info(
                    "Retrieving %d '%s' record(s) that left the open set or were named by a change",
                    len(to_retrieve),
                    stream.name,
                )
            for record_id in to_retrieve:
                record = self._retrieve(record_id)
                if record is not None and not self._before_start_date(record):
                    run.emitted.add(stream.list_endpoint.key_of(record))
                    yield run.emitting(record, changed=True)
        keep_open_ids(stream_state, run.open_ids)
        stream.run_context.pending_ids_taken(stream.name)

    def _relist(self, query: dict[str, str]) -> t.Iterator[dict[str, t.Any]]:
        """Every page of the list under `query`, emitting what this run has not emitted yet.

        An unpaid invoice listed again names the same orders as before, so what it names is
        not re-read for it (once it is paid, its retrieve names them).
        """
        stream, run = self.stream, self.run
        pager = stream.pager(
            query,
            what=f"'{stream.name}' with {query}",
            stopped="The open records are read again on the next run.",
        )
        for key, record in pager.records():
            if self._before_start_date(record):
                run.emitted.add(key)  # accounted for: not re-read by id either
                continue
            if self.open_records.is_open(record):
                run.open_ids.add(record[stream.cursor_field])
            if key in run.emitted:
                continue
            run.emitted.add(key)
            yield run.emitting(record, changed=False)

    def _before_start_date(self, record: dict[str, t.Any]) -> bool:
        """Open records older than `start_date` lie outside the history asked for."""
        stream = self.stream
        if not (stream.honours_start_date and stream.start_date and stream.replication_key):
            return False
        value = record.get(stream.replication_key)
        try:
            return value is not None and st.parse_utc(value) < stream.start_date
        except ValueError:
            return False

    def _retrieve(self, record_id: str) -> dict[str, t.Any] | None:
        stream = self.stream
        try:
            page = stream.client.retrieve(stream.path, record_id)
        except RecordNotFound:
            stream.logger.info(
                "'%s' record %s is gone from Orderspace (HTTP 404): marked deleted", stream.name, record_id
            )
            stream.run_context.record_deletion(stream.name, record_id, deleted_at=stream.client.server_now())
            return None
        stream.received_page(page.received_at)
        raw = page.body.get(stream.record_name or "", page.body)
        return stream.shape.conform(raw)


# A stream's ids in its state ------------------------------------------------------------
# Lists `state.check_stream_state` has passed: ids, as strings.


def open_ids(stream_state: dict[str, t.Any]) -> set[str]:
    """The records seen open at the end of the last run: listed again, or retrieved, in this one."""
    return set(stream_state.get(st.OPEN_IDS) or ())


def pending_ids(stream_state: dict[str, t.Any]) -> set[str]:
    """Records another stream named as changed, not yet read again."""
    return set(stream_state.get(st.PENDING_IDS) or ())


def add_pending_ids(stream_state: dict[str, t.Any], ids: set[str]) -> None:
    """Keep ids another stream named as changed in the state of the stream they belong to,
    with the next STATE: a run stopped before that stream's change capture loses none."""
    stream_state.setdefault(st.PENDING_IDS, []).extend(sorted(ids))


def keep_open_ids(stream_state: dict[str, t.Any], ids: set[str]) -> None:
    """Change capture is done: the open set it saw is the next run's start; nothing is pending."""
    stream_state[st.OPEN_IDS] = sorted(ids)
    # Emptied, not removed: a state merged by Meltano keeps a key that is removed.
    stream_state[st.PENDING_IDS] = []
