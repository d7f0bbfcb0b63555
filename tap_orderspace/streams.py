"""The Orderspace resources, declared as data; `client.OrderspaceStream` does the work."""

from __future__ import annotations

from tap_orderspace.client import NestedRowsStream, OrderspaceStream


class CustomersStream(OrderspaceStream):
    name = "customers"
    replication_key = "created_at"
    since_parameter = "created_since"
    honours_lookback = True


class OrdersStream(OrderspaceStream):
    name = "orders"
    replication_key = "created"
    since_parameter = "created_since"
    honours_start_date = True
    honours_lookback = True


class DispatchesStream(OrderspaceStream):
    name = "dispatches"
    replication_key = "created"
    since_parameter = "created_since"
    honours_start_date = True
    honours_lookback = True


class InvoicesStream(OrderspaceStream):
    """Invoices carry no creation time (`invoice_date` is set by a person): see state.py."""

    name = "invoices"
    since_parameter = "created_since"
    honours_start_date = True
    honours_lookback = True


class ProductsStream(OrderspaceStream):
    name = "products"
    since_parameter = "updated_since"


class InventoryLevelsStream(OrderspaceStream):
    name = "inventory_levels"
    primary_keys = ("sku",)
    cursor_field = "sku"
    since_parameter = "updated_since"


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


STREAM_TYPES: list[type[OrderspaceStream]] = [
    CustomersStream,
    OrdersStream,
    DispatchesStream,
    InvoicesStream,
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
