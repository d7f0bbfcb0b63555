"""Pages spoiled the way a live API occasionally spoils them, for the record-level fault kinds.

Each function takes a list page's decoded body and changes it in place; `state` picks one per fault.
"""

from __future__ import annotations

from typing import Any

# The visible time field of each resource that has one (customers' is renamed by the live shape).
TIME_FIELDS = {
    "customers": "created_at",
    "orders": "created",
    "dispatches": "created",
    "invoices": "invoice_date",
    "preorder_windows": "deadline",
}
NESTED_LISTS = {
    "orders": "order_lines",
    "invoices": "invoice_lines",
    "dispatches": "dispatch_lines",
    "products": "product_variants",
}
MALFORMED_VARIANTS = ("bad_time", "nested_string", "not_object")
RECORD_KINDS = ("string_numbers", "null_id", "malformed_record", "future_record")


def time_field(resource: str, record: dict[str, Any]) -> str | None:
    field = TIME_FIELDS.get(resource)
    if field == "created_at" and field not in record:
        return "created"
    return field


def spoil(kind: str, resource: str, page: dict[str, Any], variant: str | None) -> None:
    records: list[Any] = page[resource]
    if not records:
        return
    if kind == "string_numbers":
        page[resource] = _stringify(records, [0])
    elif kind == "null_id":
        records[-1]["id"] = None
    elif kind == "future_record":
        field = time_field(resource, records[0])
        if field is not None:
            records[0][field] = "2099-01-01" if field in ("invoice_date", "deadline") else "2099-01-01T00:00:00Z"
    else:
        _malform(resource, records, variant)


def _malform(resource: str, records: list[Any], variant: str | None) -> None:
    variants = (variant,) if variant else MALFORMED_VARIANTS
    if "bad_time" in variants:
        field = time_field(resource, records[0])
        if field is not None:
            records[0][field] = "not a date"
    nested = NESTED_LISTS.get(resource)
    if "nested_string" in variants and nested is not None:
        records[min(1, len(records) - 1)][nested] = "[object Object]"
    if "not_object" in variants:
        # In the middle, so a reader that takes its cursor from the last element still meets it.
        records.insert(len(records) // 2, 42)


def _stringify(value: Any, counter: list[int]) -> Any:
    """Numbers as strings ("12.50", "3"), and every other whole number as a float (3.0); ids stay."""
    if isinstance(value, dict):
        return {k: _stringify(v, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v, counter) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    counter[0] += 1
    return f"{int(value)}" if counter[0] % 2 else float(value)
