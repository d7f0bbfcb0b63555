"""What a real site's books hold: several currencies, invoices paid outside Orderspace, proforma and
two-order invoices, unpaid deposits, invoices of cancelled orders, a history that ends today, standing
order templates, deletions that leave history behind, and a second site unlike the first."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections import Counter
from typing import Any

import pytest

from orderspace_sandbox import Sandbox

TODAY = dt.date(2026, 1, 1)
BUCKETS = ("current", "1-30", "31-60", "61-90", "over 90")


@pytest.fixture(scope="module")
def site() -> Sandbox:
    """Large enough for every kind of record; never started, since records need no server."""
    return Sandbox(seed=5, orders=2500, rate_limit=None, today=TODAY)


def paid_amount(invoice: dict[str, Any]) -> float:
    return round(sum(payment["amount"] for payment in invoice["payments"]), 2)


def bucket(due_date: str, today: dt.date) -> str:
    days = (today - dt.date.fromisoformat(due_date)).days
    if days <= 0:
        return "current"
    return next(label for label, top in zip(BUCKETS[1:], (30, 60, 90, None), strict=True) if top is None or days <= top)


# Currencies -----------------------------------------------------------------------------------


def test_even_the_default_site_trades_in_more_than_one_currency() -> None:
    sandbox = Sandbox()
    price_lists = {p["id"]: p for p in sandbox.records("price_lists")}
    assert {p["currency"] for p in price_lists.values()} == {"GBP", "EUR", "USD"}
    assert len({o["currency"] for o in sandbox.records("orders")}) >= 2
    assert len({i["currency"] for i in sandbox.records("invoices")}) >= 2
    assert any(c["price_list_id"] for c in sandbox.records("customers"))


def test_orders_and_invoices_are_in_their_price_lists_currency_at_its_prices(site: Sandbox) -> None:
    price_lists = {p["id"]: p for p in site.records("price_lists")}
    customers = {c["id"]: c for c in site.records("customers")}
    variants = {v["sku"]: v for p in site.records("products") for v in p["product_variants"]}
    orders = site.records("orders")
    for order in orders:
        price_list = price_lists.get(customers[order["customer_id"]]["price_list_id"] or "")
        assert order["currency"] == (price_list["currency"] if price_list else "GBP")
        for line in order["order_lines"]:
            if not line["sku"]:
                continue
            variant = variants[line["sku"]]
            if price_list is None:
                assert line["unit_price"] == variant["unit_price"]
            else:
                own = {p["id"]: p["unit_price"] for p in variant["price_list_prices"]}
                rated = round(variant["unit_price"] * price_list["conversion_rate"] / 100, 2)
                assert line["unit_price"] == own.get(price_list["id"], rated)
    by_currency = Counter(order["currency"] for order in orders)
    assert set(by_currency) == {"GBP", "EUR", "USD"}
    assert by_currency["GBP"] == max(by_currency.values())
    invoices = site.records("invoices")
    currency = {order["id"]: order["currency"] for order in orders}
    assert all({currency[o["id"]] for o in invoice["orders"]} == {invoice["currency"]} for invoice in invoices)


# Invoices -------------------------------------------------------------------------------------


def test_some_invoices_are_paid_without_payment_records(site: Sandbox) -> None:
    invoices = site.records("invoices")
    paid = [i for i in invoices if i["paid"]]
    without = [i for i in paid if not i["payments"]]
    short = [i for i in paid if i["payments"] and paid_amount(i) < i["gross_total"]]
    # As the reference's example: paid in full, settled outside Orderspace.
    assert 0.02 <= len(without) / len(paid) <= 0.1
    # A deposit recorded, the rest paid outside.
    assert short
    assert all(paid_amount(i) < i["gross_total"] for i in invoices if not i["paid"])


def test_paid_invoices_mark_their_orders_lines_paid(site: Sandbox) -> None:
    lines = {line["id"]: line for order in site.records("orders") for line in order["order_lines"]}
    for invoice in site.records("invoices"):
        for item in invoice["invoice_lines"]:
            if item["order_line_id"]:
                line = lines[item["order_line_id"]]
                assert line["paid"] == (line["invoiced"] if invoice["paid"] else 0)


def test_some_invoices_are_proforma(site: Sandbox) -> None:
    invoices = site.records("invoices")
    proforma = [i for i in invoices if i["proforma"]]
    assert 0.02 <= len(proforma) / len(invoices) <= 0.1
    assert any(i["paid"] for i in proforma) and any(not i["paid"] for i in proforma)


def test_some_invoices_cover_two_orders_of_one_customer(site: Sandbox) -> None:
    orders = {o["id"]: o for o in site.records("orders")}
    invoices = site.records("invoices")
    two = [i for i in invoices if len(i["orders"]) == 2]
    assert 0.05 <= len(two) / len(invoices) <= 0.25
    assert all(len(i["orders"]) in (1, 2) for i in invoices)
    for invoice in two:
        first, second = (orders[o["id"]] for o in invoice["orders"])
        assert first["customer_id"] == second["customer_id"] == invoice["customer_id"]
        assert first["created"] < second["created"]
        fee = sum(line["sub_total"] for line in invoice["invoice_lines"] if line["order_line_id"] is None)
        assert invoice["net_total"] == round(first["net_total"] + second["net_total"] + fee, 2)
    # Every order is on one invoice at most.
    covered = Counter(o["id"] for i in invoices for o in i["orders"])
    assert max(covered.values()) == 1


def test_invoice_totals_are_the_sums_of_their_lines(site: Sandbox) -> None:
    for invoice in site.records("invoices"):
        assert invoice["net_total"] == round(sum(line["sub_total"] for line in invoice["invoice_lines"]), 2)
        gross = sum(line["sub_total"] + line["tax_amount"] for line in invoice["invoice_lines"])
        assert abs(invoice["gross_total"] - gross) < 0.02


def test_some_deposits_are_unpaid_past_their_due_date(site: Sandbox) -> None:
    unpaid = []
    for invoice in site.records("invoices"):
        deposit = invoice["deposit"]
        if invoice["paid"] or not deposit or deposit["due_date"] >= TODAY.isoformat():
            continue
        if paid_amount(invoice) < round(invoice["gross_total"] * deposit["percentage"] / 100, 2):
            unpaid.append(invoice)
    assert len(unpaid) >= 5
    # Some of them before the invoice itself is due: the deposit is the overdue part.
    assert any(invoice["due_date"] >= TODAY.isoformat() for invoice in unpaid)


def test_some_invoiced_orders_are_cancelled_and_their_invoices_stay(site: Sandbox) -> None:
    status = {o["id"]: o["status"] for o in site.records("orders")}
    dispatched = {d["order_id"] for d in site.records("dispatches")}
    of_cancelled = [i for i in site.records("invoices") if any(status[o["id"]] == "cancelled" for o in i["orders"])]
    assert len(of_cancelled) >= 10
    assert sum(not i["paid"] for i in of_cancelled) / len(of_cancelled) > 0.7
    assert not {o["id"] for i in of_cancelled for o in i["orders"]} & dispatched


# The history ends today ---------------------------------------------------------------------------


def test_the_history_ends_at_the_start_of_the_servers_today() -> None:
    before = dt.datetime.now(dt.UTC).date()
    sandbox = Sandbox(seed=3, orders=300)
    today = dt.date.fromisoformat(sandbox.site_info()["today"])
    assert today in (before, dt.datetime.now(dt.UTC).date())
    created = [o["created"] for o in sandbox.records("orders")]
    assert max(created) <= f"{today}T00:00:00Z"
    assert max(created) >= f"{today - dt.timedelta(days=3)}"
    assert min(created) >= f"{today - dt.timedelta(days=730)}"


def test_the_servers_clock_sets_today_and_no_record_is_in_its_future(connect: Any) -> None:
    with Sandbox(seed=3, orders=100, rate_limit=None, clock_offset=-3 * 86400) as sandbox:
        response = connect(sandbox).get("orders", limit=1)
        server_now = email.utils.parsedate_to_datetime(response.headers["Date"])
        assert sandbox.site_info()["today"] == server_now.date().isoformat()
        newest = dt.datetime.fromisoformat(response.json()["orders"][0]["created"])
        assert newest <= server_now
        assert (dt.datetime.now(dt.UTC) - server_now).total_seconds() > 3 * 86400 - 60


def test_a_pinned_today_moves_every_date_and_changes_nothing_else() -> None:
    early = Sandbox(seed=3, orders=300, today="2026-01-01")
    late = Sandbox(seed=3, orders=300, today=dt.date(2026, 1, 11))
    assert early.site_info()["today"] == "2026-01-01"
    for resource in ("orders", "invoices", "customers", "dispatches"):
        first, second = early.records(resource), late.records(resource)
        assert [r["id"] for r in first] == [r["id"] for r in second]
        assert [r.get("gross_total") for r in first] == [r.get("gross_total") for r in second]
    for first, second in zip(early.records("invoices"), late.records("invoices"), strict=True):
        shifted = dt.date.fromisoformat(first["due_date"]) + dt.timedelta(days=10)
        assert second["due_date"] == shifted.isoformat()
        assert second["paid"] == first["paid"]


@pytest.mark.parametrize("today", [None, "2026-01-01", "2027-06-30"])
def test_unpaid_invoices_fall_in_every_ageing_bucket(today: str | None) -> None:
    sandbox = Sandbox(seed=5, orders=2500, today=today)
    end = dt.date.fromisoformat(sandbox.site_info()["today"])
    unpaid = [i for i in sandbox.records("invoices") if not i["paid"]]
    buckets = Counter(bucket(i["due_date"], end) for i in unpaid)
    assert set(buckets) == set(BUCKETS)
    # Most is recent, as on a live site; the old debts are a tail.
    assert buckets["current"] + buckets["1-30"] > buckets["over 90"]


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", 20260101])
def test_a_today_that_is_no_date_is_refused(value: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="today"):
        Sandbox(orders=5, today=value)


# Standing orders --------------------------------------------------------------------------------


def test_even_a_small_site_has_a_standing_order_template() -> None:
    orders = Sandbox(orders=20).records("orders")
    assert [o["status"] for o in orders].count("standing_order") >= 1


def test_standing_order_templates_stay_open_and_repeat_orders_name_them(site: Sandbox) -> None:
    orders = site.records("orders")
    templates = {o["id"] for o in orders if o["status"] == "standing_order"}
    repeats = [o for o in orders if o["standing_order_id"]]
    assert len(templates) >= 5 and repeats
    assert {o["standing_order_id"] for o in repeats} <= templates
    invoiced = {o["id"] for i in site.records("invoices") for o in i["orders"]}
    assert not templates & invoiced


# Deletions leave history behind ---------------------------------------------------------------------


def test_deleting_customers_with_orders_and_products_with_order_lines_keeps_their_history(client: Any) -> None:
    sandbox = client.sandbox
    orders = sandbox.records("orders")
    customer = Counter(o["customer_id"] for o in orders).most_common(1)[0][0]
    sku = Counter(line["sku"] for o in orders for line in o["order_lines"] if line["sku"]).most_common(1)[0][0]
    product = next(p for p in sandbox.records("products") if any(v["sku"] == sku for v in p["product_variants"]))
    invoices = sandbox.records("invoices")
    for resource, key, singular in (("customers", customer, "customer"), ("products", product["id"], "product")):
        response = client.session.delete(
            f"{sandbox.api_url}/{resource}/{key}", headers={"Authorization": f"Bearer {client.token}"}, timeout=10
        )
        assert response.status_code == 200
        assert response.json() == {singular: {"id": key, "deleted": True}}
        assert client.get(f"{resource}/{key}").status_code == 404
    assert sandbox.records("orders") == orders
    assert sandbox.records("invoices") == invoices
    assert any(o["customer_id"] == customer for o in sandbox.records("orders"))
    assert customer not in {c["id"] for c in sandbox.records("customers")}
    assert sku not in {level["sku"] for level in sandbox.records("inventory_levels")}
    assert any(line["sku"] == sku for o in sandbox.records("orders") for line in o["order_lines"])


def test_mutate_deletes_customers_with_orders_and_products_with_order_lines(sandbox: Sandbox) -> None:
    orders = sandbox.records("orders")
    buyers = {o["customer_id"] for o in orders}
    skus = {line["sku"] for o in orders for line in o["order_lines"]}
    deleted = sandbox.mutate(delete_customers_with_orders=3, delete_products_with_order_lines=2)["deleted"]
    assert len(deleted["customers"]) == 3 and set(deleted["customers"]) <= buyers
    assert len(deleted["products"]) == 2
    assert deleted["inventory_levels"] and set(deleted["inventory_levels"]) <= skus
    assert sandbox.records("orders") == orders
    # New orders go to customers and products that still exist.
    made = sandbox.mutate(new_orders=20)["created"]["orders"]
    new = [o for o in sandbox.records("orders") if o["id"] in made]
    assert not {o["customer_id"] for o in new} & set(deleted["customers"])
    assert not {line["sku"] for o in new for line in o["order_lines"]} & set(deleted["inventory_levels"])


def test_the_delete_helper_deletes_as_the_api_does(sandbox: Sandbox) -> None:
    customer = sandbox.records("orders")[0]["customer_id"]
    gone = sandbox.delete("customers", customer)
    assert gone["deleted"]["customers"] == [customer]
    assert customer not in {c["id"] for c in sandbox.records("customers")}
    assert sandbox.stats()["requests_total"] == 0
    with pytest.raises(KeyError):
        sandbox.delete("customers", customer)
    with pytest.raises(KeyError):
        sandbox.delete("dispatches", sandbox.records("dispatches")[0]["id"])


# Two sites ----------------------------------------------------------------------------------------


def test_a_second_site_is_another_business_in_another_currency() -> None:
    uk, eu = Sandbox(seed=7, orders=450), Sandbox(seed=7, orders=450, site="eu")
    assert uk.site_info()["currency"] == "GBP" and eu.site_info()["currency"] == "EUR"
    for resource in ("customers", "orders", "invoices", "products", "price_lists", "tax_rates"):
        assert not {r["id"] for r in uk.records(resource)} & {r["id"] for r in eu.records(resource)}, resource
    assert not {o["number"] for o in uk.records("orders")} & {o["number"] for o in eu.records("orders")}
    assert all(i["number"].startswith("RE-") for i in eu.records("invoices"))
    by_currency = Counter(o["currency"] for o in eu.records("orders"))
    assert by_currency["EUR"] == max(by_currency.values()) and len(by_currency) >= 2
    assert {p["currency"] for p in eu.records("price_lists")} == {"EUR", "GBP", "USD"}
    assert next(t["rate"] for t in eu.records("tax_rates")) == 19.0
    assert eu.records("orders") == Sandbox(seed=7, orders=450, site="eu").records("orders")


def test_an_unknown_site_is_refused() -> None:
    with pytest.raises(ValueError, match="site must be one of uk, eu"):
        Sandbox(orders=5, site="us")


def test_the_site_endpoint_says_which_site_and_day(connect: Any) -> None:
    with Sandbox(seed=9, orders=20, rate_limit=None, site="eu", today="2026-06-30") as sandbox:
        body = connect(sandbox).sandbox_get("site").json()
        assert body == {"site": "eu", "currency": "EUR", "today": "2026-06-30", "seed": 9}
        assert body == sandbox.site_info()
