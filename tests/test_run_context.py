"""What streams tell each other through the run context, and the ids change capture keeps in a
stream's state, without HTTP."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_orderspace.change_capture import OpenRecords, add_pending_ids, keep_open_ids, open_ids, pending_ids
from tap_orderspace.run_context import RunContext

if t.TYPE_CHECKING:
    from tap_orderspace.stream import OrderspaceStream

OPEN_ORDERS = OpenRecords("status", ("new",))


def test_ids_for_change_capture_are_kept_in_the_stream_state() -> None:
    stream_state: dict[str, t.Any] = {"open_ids": ["or_2", "or_1"]}
    assert open_ids(stream_state) == {"or_1", "or_2"}
    assert pending_ids(stream_state) == set()
    add_pending_ids(stream_state, {"or_9", "or_3"})
    add_pending_ids(stream_state, {"or_4"})
    assert stream_state["pending_ids"] == ["or_3", "or_9", "or_4"]
    assert pending_ids(stream_state) == {"or_3", "or_4", "or_9"}
    keep_open_ids(stream_state, {"or_5", "or_1"})
    # Emptied, not removed, so that a state merged by Meltano ends the list too.
    assert stream_state == {"open_ids": ["or_1", "or_5"], "pending_ids": []}


@dataclass
class Target:
    """What the run context sees of a stream it signals: its name, whether it is selected and
    captures changes, and its own state, which only it writes."""

    name: str
    selected: bool = True
    open_records: OpenRecords | None = OPEN_ORDERS
    stream_state: dict[str, t.Any] = field(default_factory=dict)
    kept: list[set[str]] = field(default_factory=list)

    def keep_pending_ids(self, ids: set[str]) -> None:
        self.kept.append(ids)
        add_pending_ids(self.stream_state, ids)


def _context(*targets: Target) -> RunContext:
    context = RunContext()
    for target in targets:
        context.add(t.cast("OrderspaceStream", target))
    return context


def test_changed_ids_are_kept_by_the_stream_they_belong_to_once_each() -> None:
    orders = Target("orders", stream_state={"pending_ids": ["or_1"]})
    context = _context(orders)
    context.signal_changed("orders", {"or_1", "or_2"})
    context.signal_changed("orders", {"or_2", "or_3"})
    context.signal_changed("orders", set())
    # or_1 was pending already (a run that stopped kept it): it is not added again.
    assert orders.kept == [{"or_2"}, {"or_3"}]
    assert orders.stream_state["pending_ids"] == ["or_1", "or_2", "or_3"]


def test_a_stream_whose_changes_this_run_does_not_capture_is_not_signalled() -> None:
    deselected = Target("orders", selected=False)
    without_open_set = Target("customers", open_records=None)
    context = _context(deselected, without_open_set)
    for name in ("orders", "customers", "nowhere"):
        context.signal_changed(name, {"x_1"})
    assert deselected.kept == without_open_set.kept == []
    assert deselected.stream_state == without_open_set.stream_state == {}


def test_ids_signalled_after_a_change_capture_took_the_pending_ones_are_kept_again() -> None:
    orders = Target("orders")
    context = _context(orders)
    context.signal_changed("orders", {"or_1"})
    keep_open_ids(orders.stream_state, set())
    context.pending_ids_taken("orders")
    context.signal_changed("orders", {"or_1"})
    assert orders.stream_state["pending_ids"] == ["or_1"]
