"""Streams that send no request of their own: child tables and the tap's own tables.

A child table (`NestedRowsStream`: order lines, invoice payments...) is cut from an array
in each parent record as the parent emits it. A tap-written table (`EmittedRowsStream`:
`deleted_records`, `reconciliations`) gets a row when another stream finds something to
say, through the run context (`run_context.RunContext`).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_orderspace.stream import OrderspaceStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class NestedRowsStream(OrderspaceStream):
    """A child table cut from an array inside each parent record (no request of its own).

    Rows carry the parent's key and the position in the array, and the parent's
    bookmark field where it has one, so they follow the parent's window exactly.
    """

    parent_stream_type: type[OrderspaceStream]
    #: The array field of the parent record that holds the rows.
    nested_array: str
    #: The column that carries the parent's `id`.
    parent_key: str
    #: The column that carries the parent's bookmark field, if the parent has one.
    parent_time_column: str | None = None

    def write_rows_of(self, parent: dict[str, t.Any], *, extracted_at: dt.datetime) -> int:
        """Write the rows of `parent`'s array, extracted when the parent was; how many were written."""
        self.extracted_at = extracted_at
        parent_id = parent["id"]
        parent_time_field = t.cast("str | None", self.parent_stream_type.replication_key)
        parent_time = parent.get(parent_time_field) if parent_time_field else None
        items = parent.get(self.nested_array)
        written = 0
        for position, item in enumerate(items if isinstance(items, list) else ()):
            row = dict(item)
            row[self.parent_key] = parent_id
            row["position"] = position
            if self.parent_time_column:
                row[self.parent_time_column] = parent_time
            # The parent's check covered these values; what is left is the key and new fields.
            conformed = self.shape.conform(row, validate=False)
            if conformed is not None:
                self._write_record_message(conformed)
                written += 1
        return written

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        return ()


class EmittedRowsStream(OrderspaceStream):
    """A table the tap writes itself (deletions, reconciliations), not read from the API."""

    keeps_undocumented_fields = False

    def write_row(self, row: dict[str, t.Any]) -> None:
        if not self.selected:
            return
        self.write_schema_once()
        self.extracted_at = dt.datetime.now(dt.UTC)
        self._write_record_message(row)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        # Rows are written as other streams find them; the SDK still sends the SCHEMA first.
        self._schema_written = True
        self.run_context.stream_done(self.name)
        return ()
