"""The Orderspace resources, declared as data; `stream.OrderspaceStream` and its parts do the work."""

from __future__ import annotations

from tap_orderspace.change_capture import ChangeSignal, OpenRecords
from tap_orderspace.derived_streams import EmittedRowsStream, NestedRowsStream
from tap_orderspace.stream import OrderspaceStream

#: Order statuses that still change; `fulfilled` and `cancelled` are final.
OPEN_ORDER_STATUSES = ("new", "invoiced", "released", "part_fulfilled", "preorder", "standing_order")


class CustomersStream(OrderspaceStream):
    """The reference says `created_at`; the live API's recorded answers say `created`."""

    name = "customers"
    replication_key = "created_at"
    field_aliases = {"created": "created_at"}  # noqa: RUF012
    since_parameter = "created_since"
    honours_lookback = True
    reconciles = True


class OrdersStream(OrderspaceStream):
    name = "orders"
    replication_key = "created"
    field_aliases = {"created_at": "created"}  # noqa: RUF012  (the customers slip, the other way)
    since_parameter = "created_since"
    before_parameter = "created_before"
    honours_start_date = True
    reconciles = True
    open_records = OpenRecords("status", OPEN_ORDER_STATUSES)
    record_name = "order"


class DispatchesStream(OrderspaceStream):
    name = "dispatches"
    replication_key = "created"
    field_aliases = {"created_at": "created"}  # noqa: RUF012
    since_parameter = "created_since"
    before_parameter = "created_before"
    honours_start_date = True
    honours_lookback = True
    change_signals = (ChangeSignal("orders", ("order_id",)),)


class InvoicesStream(OrderspaceStream):
    """Invoices carry no creation time (`invoice_date` is set by a person): see state.py."""

    name = "invoices"
    since_parameter = "created_since"
    honours_start_date = True
    reconciles = True
    open_records = OpenRecords("paid", (False,))
    record_name = "invoice"
    change_signals = (ChangeSignal("orders", ("orders", "id")),)


class ProductsStream(OrderspaceStream):
    name = "products"
    since_parameter = "updated_since"
    reconciles = True


class InventoryLevelsStream(OrderspaceStream):
    name = "inventory_levels"
    primary_keys = ("sku",)
    cursor_field = "sku"
    since_parameter = "updated_since"
    reconciles = True


class CategoriesStream(OrderspaceStream):
    name = "categories"


class CustomerGroupsStream(OrderspaceStream):
    name = "customer_groups"
    paginated = False


class PriceListsStream(OrderspaceStream):
    name = "price_lists"
    paginated = False


class PaymentTermsStream(OrderspaceStream):
    name = "payment_terms"
    paginated = False


class TaxRatesStream(OrderspaceStream):
    name = "tax_rates"
    paginated = False


class PreorderWindowsStream(OrderspaceStream):
    name = "preorder_windows"
    paginated = False


class OrderLinesStream(NestedRowsStream):
    name = "order_lines"
    parent_stream_type = OrdersStream
    nested_array = "order_lines"
    parent_key = "order_id"
    parent_time_column = "order_created"
    replication_key = "order_created"


class InvoiceLinesStream(NestedRowsStream):
    name = "invoice_lines"
    parent_stream_type = InvoicesStream
    nested_array = "invoice_lines"
    parent_key = "invoice_id"
    primary_keys = ("invoice_id", "position")


class InvoicePaymentsStream(NestedRowsStream):
    name = "invoice_payments"
    parent_stream_type = InvoicesStream
    nested_array = "payments"
    parent_key = "invoice_id"
    primary_keys = ("invoice_id", "position")


class DispatchLinesStream(NestedRowsStream):
    name = "dispatch_lines"
    parent_stream_type = DispatchesStream
    nested_array = "dispatch_lines"
    parent_key = "dispatch_id"
    parent_time_column = "dispatch_created"
    primary_keys = ("dispatch_id", "position")
    replication_key = "dispatch_created"


class ProductVariantsStream(NestedRowsStream):
    name = "product_variants"
    parent_stream_type = ProductsStream
    nested_array = "product_variants"
    parent_key = "product_id"


class DeletedRecordsStream(EmittedRowsStream):
    """Records a retrieve found gone (HTTP 404), marked deleted at once."""

    name = "deleted_records"
    primary_keys = ("stream", "id")


class ReconciliationsStream(EmittedRowsStream):
    """Complete full reads: a row of `stream` extracted before `started_at` was not seen, so it is deleted."""

    name = "reconciliations"
    primary_keys = ("stream", "version")


class SyncRunsStream(EmittedRowsStream):
    """The run log: a row per stream per run, written when its read starts and again when it completes."""

    name = "sync_runs"
    primary_keys = ("stream", "run_started_at")


# The order streams are synced in: dispatches and invoices name the orders they change,
# so they come before orders; the tables the tap writes itself come first, so that
# their SCHEMA precedes any row.
STREAM_TYPES: list[type[OrderspaceStream]] = [
    DeletedRecordsStream,
    ReconciliationsStream,
    SyncRunsStream,
    CustomersStream,
    DispatchesStream,
    InvoicesStream,
    OrdersStream,
    ProductsStream,
    InventoryLevelsStream,
    CategoriesStream,
    CustomerGroupsStream,
    PriceListsStream,
    PaymentTermsStream,
    TaxRatesStream,
    PreorderWindowsStream,
    OrderLinesStream,
    InvoiceLinesStream,
    InvoicePaymentsStream,
    DispatchLinesStream,
    ProductVariantsStream,
]
