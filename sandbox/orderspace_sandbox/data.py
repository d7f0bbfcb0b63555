"""The sandbox's Orderspace site: seeded generation of two years of history, and later mutations.

Every record is held as a dict until it is first served and as its JSON encoding after that, plus
the few values that ordering and filters need (`Row.idx`, `created`, `updated`). Encoding on first
use keeps start-up fast (encoding 100,000 orders would take longer than generating them), and
holding bytes afterwards makes a page a join of ready bytes and frees the dicts' memory.

Shapes follow the reference's examples and attribute lists together; where they disagree the choice
is noted beside the field.
"""

from __future__ import annotations

import bisect
import calendar
import gc
import json
import math
import random
import string
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

# Seeded history ends here, so the same seed gives the same records on any day; mutations use the
# real clock, which is later.
ANCHOR = calendar.timegm((2026, 1, 1, 0, 0, 0))
HISTORY_START = ANCHOR - 730 * 86400
DAY = 86400

PAGINATED = ("customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories")
UNPAGINATED = ("customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows")
RESOURCES = PAGINATED + UNPAGINATED
NEWEST_FIRST = frozenset({"customers", "orders", "dispatches", "invoices", "products"})
NESTED = {
    "order_lines": ("orders", "_lines"),
    "invoice_lines": ("invoices", "_lines"),
    "invoice_payments": ("invoices", "_payments"),
    "dispatch_lines": ("dispatches", "_lines"),
    "product_variants": ("products", "_lines"),
}
# Page sizes a client is likely to use: same-second groups are placed across these boundaries so
# that a bookmark taken at a page edge meets records sharing its second.
PAGE_EDGES = (50, 200, 400)

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _byte_table(alphabet: str) -> bytes:
    """Maps each random byte to a character of `alphabet`: far faster than `choices`, and the slight
    bias (256 is rarely a multiple of the alphabet's size) does not matter here."""
    return bytes(ord(alphabet[i % len(alphabet)]) for i in range(256))


_ID_CHARS = _byte_table(string.ascii_lowercase + string.digits)
_GATEWAY_CHARS = _byte_table(string.ascii_letters + string.digits)
SORT_KEY = attrgetter("sort")


def tax_fields(tax: tuple[str, str, float]) -> dict[str, Any]:
    """A tax rate as an order line carries it."""
    return {"tax_rate_id": tax[0], "tax_name": tax[1], "tax_rate": tax[2]}


# A custom item with no tax rate set.
NO_TAX: dict[str, Any] = {"tax_rate_id": None, "tax_name": None, "tax_rate": 0.0}


def encode(doc: Any) -> bytes:
    return _ENCODER.encode(doc).encode()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class Row:
    """One record: its content, its place in the list order, and the values its filters read."""

    __slots__ = ("_body", "_doc", "created", "idx", "key", "sort", "updated")

    def __init__(self, key: str, doc: dict[str, Any], created: float, updated: float, idx: dict[str, Any]) -> None:
        self.key = key
        self._doc: dict[str, Any] | None = doc
        self._body: bytes | None = None
        self.created = created
        self.updated = updated
        self.idx = idx
        self.sort: tuple[Any, ...] = ()

    def body(self) -> bytes:
        if self._body is None:
            self._body = encode(self._doc)
            self._doc = None
        return self._body

    def doc(self) -> dict[str, Any]:
        """The record as a dict to edit; `World._rewrite` stores the edit."""
        if self._doc is not None:
            return self._doc
        result: dict[str, Any] = json.loads(self._body or b"")
        return result

    def replace(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self._body = None


# --- word lists -------------------------------------------------------------------------------

_COMPANY_WORDS = (
    "Blue Sky", "Harbour", "Oak & Ivy", "Northern", "Golden Hour", "Little", "Wild Fern", "Copper Kettle",
    "Meadow", "Bramble", "Salt & Pine", "Moss", "Paper Crane", "Honeycomb", "Atlas", "Juniper", "Willow",
    "Marble Arch", "Fox & Hound", "Seaside",
)  # fmt: skip
_COMPANY_SUFFIXES = ("Ltd", "Boutique", "Gifts", "& Co", "Home", "Store", "Trading", "Interiors", "Studio", "")
# Real sites hold names that break naive encoders and collations.
_AWKWARD_COMPANIES = (
    "Café Zürich GmbH", "Łódź Hurt Sp. z o.o.", "東京商事", "Ñandú S.A.", "Søstrene Ålund", "Crème de la Crème",
    "Δέλτα Εμπορική", "Blumen & Bäume 🌸", 'O\'Brien "Wholesale" Ltd', "Maison Éloïse", "Üsküdar Pazarı",  # noqa: RUF001
    "Back\\slash Books",
)  # fmt: skip
_FIRST = ("Emilia", "Oliver", "Zoë", "Jürgen", "Siobhán", "Łukasz", "François", "Aiko", "Mateo", "Priya", "Noah",
          "Chloé", "Björn", "Amara", "Hiroshi", "Isla")  # fmt: skip
_LAST = ("Dogherty", "Müller", "Nowak", "Tanaka", "García", "O'Neill", "Smith", "Dubois", "Kowalski", "Jensen",
         "Patel", "Rossi", "Brown", "Ó Súilleabháin")  # fmt: skip
_STAFF = ("Sample User", "Hannah (Warehouse)", "Tom Admin", "Zoë Kraus")
_STREETS = ("High Street", "George Street", "Edgar Buildings", "Mill Lane", "Station Road", "Hauptstraße",
            "Rue de Rivoli", "ul. Piotrkowska", "Main Street", "Church Road")  # fmt: skip
_PLACES = (
    ("GB", "Bath", "BA1 2FJ", ""), ("GB", "Bristol", "BS1 2DF", ""), ("GB", "Manchester", "M1 1AE", ""),
    ("GB", "Edinburgh", "EH1 1YZ", ""), ("GB", "Leeds", "LS1 4DY", ""), ("GB", "Bath", "BA2 4AA", ""),
    ("US", "New York", "13865", "NY"), ("US", "Portland", "97205", "OR"), ("DE", "München", "80331", ""),
    ("FR", "Paris", "75002", ""), ("PL", "Łódź", "90-001", ""), ("JP", "東京", "100-0001", ""),
    ("IE", "Dublin", "D02 X285", ""), ("NL", "Amsterdam", "1012 AB", ""), ("AU", "Sydney", "2000", "NSW"),
    ("CA", "Toronto", "M5H 2N2", "ON"),
)  # fmt: skip
_NOTES = ("Please deliver before noon", "Leave with reception 📦", "Ring twice\nside door",
          "Fragile — handle with care", "Paid by card", "Call ahead", "Ne pas plier", "")  # fmt: skip
_ADJECTIVES = ("Alexa", "Amelia", "Angelica", "Linen", "Merino", "Classic", "Crème", "Naïve", "Harbour", "Stoneware",
               "Botanical", "Vintage", "Organic", "Cosy", "Nordic")  # fmt: skip
_NOUNS = ("Dress", "Jumper", "Tote Bag", "Mug", "Candle", "Notebook", "Scarf", "Tea Towel", "Vase", "Cushion",
          "Planter", "Throw", "Apron", "Card Set", "Beanie")  # fmt: skip
# Sold by length or weight, so quantities and stock are fractional.
_LOOSE = ("Linen Fabric (per metre)", "Loose Leaf Tea (per kg)", "Ribbon (per metre)")
_OPTION_VALUES = {
    "Colour": (("Red", "RED"), ("Blue", "BLU"), ("Charcoal", "CHR"), ("Sage", "SAG"), ("Mustard", "MUS"),
               ("Ivory", "IVO"), ("Navy", "NAV"), ("Blush", "BLS")),
    "Size": (("XS", "XS"), ("S", "S"), ("M", "M"), ("L", "L"), ("XL", "XL"), ("10", "10"), ("12", "12")),
    "Scent": (("Fig", "FIG"), ("Amber", "AMB"), ("Sea Salt", "SEA"), ("Lavender", "LAV")),
}  # fmt: skip
_CATEGORY_NAMES = ("Dresses", "Knitwear", "Accessories", "Homeware", "Ceramics", "Candles", "Stationery", "Textiles",
                   "Kitchen", "Gifts", "Sale", "New In", "Bestsellers", "Cards & Wrap", "Crème & Co")  # fmt: skip
_SHIPPING = (("Special Delivery", 9.5), ("Next Day Delivery", 7), ("Standard Delivery", 4.9),
             ("International Courier Delivery", 24.0), ("Pallet", 45))  # fmt: skip


@dataclass(slots=True)
class Customer:
    """What an order copies from its customer."""

    id: str
    created: float
    company_name: str
    phone: str | None
    emails: dict[str, str | None]
    addresses: list[dict[str, Any]]
    buyer: str | None
    price_list: tuple[str, str, int | float] | None  # id, currency, conversion rate
    tax: dict[str, Any] | None  # the rate that overrides each product's, as `tax_fields` gives it
    terms: tuple[str, str, int, float, int] | None  # id, name, days due, deposit %, deposit days


@dataclass(slots=True)
class Variant:
    """What an order line copies from a product variant."""

    product_id: str
    # An order line's leading fields (sku to shipping): built once, copied into every line.
    head: dict[str, Any]
    price: int | float
    list_prices: dict[str, int | float]
    tax: dict[str, Any]
    loose: bool


class World:
    """All records of one sandbox site, generated from a seed, and the mutations tests ask for."""

    def __init__(
        self,
        seed: int,
        orders: int,
        customers: int | None = None,
        products: int | None = None,
        lines_per_order: int | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.lines_per_order = lines_per_order
        self.rows: dict[str, list[Row]] = {name: [] for name in RESOURCES}
        self.by_key: dict[str, dict[str, Row]] = {name: {} for name in RESOURCES}
        self._ids: dict[str, set[str]] = {}
        self._seq = 0
        self.customers: list[Customer] = []
        self.customer_by_id: dict[str, Customer] = {}
        self.variants: list[Variant] = []
        self._product_count = 0
        self._order_number = 1000
        self._invoice_number = 500
        self._standing: dict[str, str] = {}  # customer id -> its standing order
        # Orders and invoices still open to a dispatch, an invoice or a payment, in creation order.
        self.undispatched: dict[str, None] = {}
        self.uninvoiced: dict[str, None] = {}
        self.unpaid: dict[str, None] = {}
        # Generation allocates millions of objects and frees none; the cycle collector's passes
        # over the growing heap would add half again to its time.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._generate(orders, customers, products)
        finally:
            if collecting:
                gc.enable()

    # --- small helpers -----------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        seen = self._ids.setdefault(prefix, set())
        randbytes = self.rng.randbytes
        while True:
            new = prefix + "_" + randbytes(8).translate(_ID_CHARS).decode()
            if new not in seen:
                seen.add(new)
                return new

    def _token(self, length: int, table: bytes = _ID_CHARS) -> str:
        return self.rng.randbytes(length).translate(table).decode()

    def _one(self, items: Sequence[Any]) -> Any:
        """`rng.choice`, at a third of its cost: generation makes millions of these picks."""
        return items[int(self.rng.random() * len(items))]

    def _maybe(self, value: Any, empty: float = 0.1, null: float = 0.05) -> Any:
        """`value`, or sometimes "" or null, as real records are."""
        r = self.rng.random()
        if r < null:
            return None
        if r < null + empty:
            return ""
        return value

    def _later(self, created: float) -> float:
        """A last-change time for a record made at `created`: before the anchor for seeded history."""
        if created >= ANCHOR - DAY:
            return created
        return self.rng.randint(int(created), ANCHOR - DAY)

    def _money(self, low: float, high: float) -> int | float:
        """A price as the API sends them: 30, 30.0 and 30.5 all occur."""
        rng = self.rng
        whole = rng.randint(int(low), int(high))
        r = rng.random()
        if r < 0.3:
            return whole
        if r < 0.6:
            return float(whole)
        return whole + rng.choice((0.5, 0.95, 0.25, 0.99))

    def _times(self, count: int, start: int, end: int, burst: float, import_share: float = 0.0) -> list[int]:
        """`count` ascending seconds in [start, end], denser towards `end` as a growing business is.

        `import_share` of them land in one second at `start` (a CSV import), `burst` is the chance that
        a record shares the previous record's second, and groups of four straddle each page edge.
        """
        rng = self.rng
        span = end - start
        imported = max(1, int(count * import_share)) if import_share and count else 0
        times = [start] * imported + sorted(
            start + int(span * math.sqrt(rng.random())) for _ in range(count - imported)
        )
        for i in range(imported + 1, count):
            if rng.random() < burst:
                times[i] = times[i - 1]
        for edge in PAGE_EDGES:
            # Newest-first positions edge-2 .. edge+1, i.e. two on each side of the page boundary.
            first = count - edge - 2
            if first >= 0:
                times[first : first + 4] = [times[first]] * 4
        return times

    def _add(self, resource: str, row: Row) -> None:
        self.rows[resource].append(row)
        self.by_key[resource][row.key] = row

    def _insert(self, resource: str, row: Row) -> None:
        """Place a row created after generation where the list order puts it."""
        self._seq += 1
        row.sort = self._sort(resource, row, self._seq)
        bisect.insort(self.rows[resource], row, key=SORT_KEY)
        self.by_key[resource][row.key] = row

    def _sort(self, resource: str, row: Row, seq: int) -> tuple[Any, ...]:
        if resource in NEWEST_FIRST:
            # Newest first; within one second, the one inserted last comes first.
            return (-row.created, -seq)
        if resource == "inventory_levels":
            return (row.key,)
        return (seq,)

    def _finish(self) -> None:
        for resource, rows in self.rows.items():
            if resource in NEWEST_FIRST:
                rows.sort(key=attrgetter("created"))  # stable: generation order breaks ties
            for row in rows:
                self._seq += 1
                row.sort = self._sort(resource, row, self._seq)
            rows.sort(key=SORT_KEY)

    def _store(self, resource: str, doc: dict[str, Any], created: float, updated: float | None = None) -> Row:
        return Row(doc["id"], doc, created, created if updated is None else updated, INDEXERS[resource](doc))

    def _rewrite(self, resource: str, row: Row, doc: dict[str, Any]) -> None:
        row.replace(doc)
        row.idx = INDEXERS[resource](doc)

    # --- reference data ----------------------------------------------------------------------

    def _generate(self, order_count: int, customer_count: int | None, product_count: int | None) -> None:
        n_products = product_count if product_count is not None else max(5, order_count // 50)
        n_customers = customer_count if customer_count is not None else max(5, order_count // 20)
        if min(order_count, n_products, n_customers) < 0 or (
            self.lines_per_order is not None and self.lines_per_order < 1
        ):
            raise ValueError("counts must not be negative, and lines_per_order must be at least 1")
        if order_count and not (n_products and n_customers):
            raise ValueError("orders need at least one customer and one product")
        self._reference_data()
        self._categories(max(12, min(300, n_products // 8)))
        self._preorder_windows()
        for created in self._times(n_products, HISTORY_START, ANCHOR - 30 * DAY, 0.05, import_share=0.3):
            self._add_product(created)
        for created in self._times(n_customers, HISTORY_START, ANCHOR - 2 * DAY, 0.03, import_share=0.2):
            customer = self._customer(created)
            self._add("customers", self._store("customers", customer, created))
        self._orders(order_count)
        self._finish()
        self._straddle("dispatches")
        self._straddle("invoices")
        self._encode_categories()

    def _reference_data(self) -> None:
        tax = [("Standard", 20.0), ("Reduced", 5.0), ("Zero", 0.0), ("Exempt", 0)]
        self.tax_rates = [(self._id("tr"), name, rate) for name, rate in tax]
        self._standard = tax_fields(self.tax_rates[0])
        for tid, name, rate in self.tax_rates:
            self._add("tax_rates", self._store("tax_rates", {"id": tid, "name": name, "rate": rate}, HISTORY_START))
        lists = [("Euros", "EUR", 100), ("US Dollars", "USD", 125.5), ("Trade Plus", "GBP", 90), ("Export", "GBP", 100)]
        self.price_lists = [(self._id("pl"), name, currency, rate) for name, currency, rate in lists]
        for pid, name, currency, rate in self.price_lists:
            doc = {"id": pid, "name": name, "currency": currency, "conversion_rate": rate}
            self._add("price_lists", self._store("price_lists", doc, HISTORY_START))
        terms = [("Pro Forma", 0, 100.0, 0), ("15 Days", 15, 25.0, 0), ("30 Days", 30, 0.0, 0),
                 ("60 Days", 60, 0.0, 0), ("End of Month", 30, 50, 7)]  # fmt: skip
        self.terms = [
            (self._id("pt"), name, days, deposit, deposit_days) for name, days, deposit, deposit_days in terms
        ]
        for tid, name, days, deposit, deposit_days in self.terms:
            # The examples spell it `deposit_pecentage` and the attribute list `deposit_percentage`; the
            # examples are what the API sends, so that spelling is served.
            doc = {
                "id": tid,
                "name": name,
                "days_due": days,
                "deposit_pecentage": deposit,
                "deposit_days_due": deposit_days,
            }
            self._add("payment_terms", self._store("payment_terms", doc, HISTORY_START))
        self.groups = [self._id("cg") for _ in range(4)]
        for gid, name in zip(self.groups, ("Default", "Wholesale", "Distributors", "Grands Magasins ✨"), strict=True):
            self._add("customer_groups", self._store("customer_groups", {"id": gid, "name": name}, HISTORY_START))

    def _categories(self, count: int) -> None:
        rng = self.rng
        seasons = [f"{half} {year}" for year in range(2024, 2027) for half in ("Spring / Summer", "Autumn / Winter")]
        self.categories: list[dict[str, Any]] = []
        self.seasons: list[dict[str, Any]] = []
        parents: list[dict[str, Any]] = []
        for i in range(count):
            if i < len(seasons):
                name = seasons[i]
            elif i - len(seasons) < len(_CATEGORY_NAMES):
                name = _CATEGORY_NAMES[i - len(seasons)]
            else:
                name = f"{rng.choice(_CATEGORY_NAMES)} – Collection {i}"  # noqa: RUF001 - a real en dash
            # Some sub-categories, at least one: `parent_id` is null for the rest.
            nested = i == len(seasons) + 1 or rng.random() < 0.35
            parent = rng.choice(parents)["id"] if parents and i > len(seasons) and nested else None
            category: dict[str, Any] = {
                "id": self._id("ca"),
                "name": name,
                "description": self._maybe(f"<p>{name} for the new season</p>", empty=0.5),
                "active": rng.random() < 0.9,
                "parent_id": parent,
                "products": [],
            }
            self.categories.append(category)
            (self.seasons if i < len(seasons) else parents).append(category)
        # The site's sort order puts each sub-category right after its parent.
        children: dict[str | None, list[dict[str, Any]]] = {}
        for category in self.categories:
            children.setdefault(category["parent_id"], []).append(category)

        def walk(parent: str | None) -> Iterator[dict[str, Any]]:
            for category in children.get(parent, []):
                yield category
                yield from walk(category["id"])

        self.categories = list(walk(None))

    def _encode_categories(self) -> None:
        for category in self.categories:
            self._add("categories", self._store("categories", category, HISTORY_START))
        for row in self.rows["categories"]:
            self._seq += 1
            row.sort = (self._seq,)

    def _preorder_windows(self) -> None:
        self.windows: list[str] = []
        for i, season in enumerate(self.seasons[:4]):
            deadline = HISTORY_START + (120 + 180 * i) * DAY
            wid = self._id("pw")
            self.windows.append(wid)
            doc = {
                "id": wid,
                "name": season["name"] if i else "SS24 Drop 1",
                "deadline": day(deadline),
                "due": day(deadline + 21 * DAY),
                "categories": [{"id": season["id"], "name": season["name"]}],
            }
            self._add("preorder_windows", self._store("preorder_windows", doc, HISTORY_START))

    # --- products and stock ------------------------------------------------------------------

    def _add_product(self, created: float, insert: bool = False) -> tuple[Row, list[Row], list[dict[str, Any]]]:
        rng = self.rng
        self._product_count += 1
        loose = rng.random() < 0.04
        name = rng.choice(_LOOSE) if loose else f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        code = "".join(word[0] for word in name.split()[:2]).upper() + f"{self._product_count:03d}"
        pid = self._id("pr")
        n_variants = 1 if loose else rng.randint(1, 6)
        axes, combos = self._option_combos(n_variants)
        categories = rng.sample(self.categories, k=min(len(self.categories), rng.choice((0, 1, 1, 2, 3))))
        season = rng.choice(self.seasons)
        if rng.random() < 0.15 and season not in categories:
            categories.append(season)
        grouping = categories[0] if categories and rng.random() < 0.9 else None
        base_price = self._money(3, 80)
        default_tax = self.tax_rates[0]
        variants: list[dict[str, Any]] = []
        for combo in combos:
            tax_id = None if rng.random() < 0.8 else rng.choice(self.tax_rates[1:])[0]
            list_prices: list[dict[str, Any]] = [
                {"id": pl[0], "unit_price": self._money(3, 90)} for pl in self.price_lists if rng.random() < 0.15
            ]
            variant = {
                "id": self._id("pv"),
                "sku": "-".join([code, *(abbr for _, abbr in combo)]),
                "barcode": self._maybe(str(rng.randrange(10**12, 10**13)), empty=0.2),
                "options": {axis: value for axis, (value, _) in zip(axes, combo, strict=True)},
                "unit_price": base_price,
                "price_list_prices": list_prices,
                "rrp": round(base_price * 2.2, 2) if rng.random() < 0.8 else None,
                "backorder": rng.random() < 0.5,
                # The product attribute list documents `minimum` on the product and on each variant,
                # each present under one account setting; the examples show the variant's. Both are
                # served so a reader meets either.
                "minimum": rng.choice((None, None, 2, 4, 6)),
                "multiple": rng.choice((None, None, 1, 2, 3, 6)),
                "weight": rng.choice((0.0, 0.25, 1.0, 1, 2.5)),
                # In the attribute list, not in the examples.
                "tax_rate_id": tax_id,
                # Present because this site has stock locations switched on.
                "location": self._maybe(f"{rng.choice('ABCDE')}{rng.randint(1, 9)}-{rng.randint(1, 40)}", empty=0.2),
            }
            variants.append(variant)
            head: dict[str, Any] = {
                "sku": variant["sku"],
                "name": name,
                "options": ", ".join(f"{axis}: {value}" for axis, value in variant["options"].items()),
            }
            if grouping:
                # Only with "group products on orders" on, and only on a grouped product's lines.
                head["grouping_category"] = {"id": grouping["id"], "name": grouping["name"]}
            head["shipping"] = False
            tax = next((t for t in self.tax_rates if t[0] == tax_id), default_tax)
            self.variants.append(
                Variant(
                    product_id=pid,
                    head=head,
                    price=base_price,
                    list_prices={p["id"]: p["unit_price"] for p in list_prices},
                    tax=tax_fields(tax),
                    loose=loose,
                )
            )
        product = {
            "id": pid,
            "code": code,
            "name": name,
            "description": self._maybe(f"{name}. Made in small batches; colours may vary.", empty=0.2),
            "active": rng.random() < 0.9,
            "minimum": rng.choice((None, None, None, 6, 12)),
            # Only visible with commercial invoices on, which this site has.
            "tariff_code": self._maybe(rng.choice(("6204.44", "6912.00", "3406.00", "4820.10")), empty=0.0, null=0.3),
            "country_of_origin": self._maybe(rng.choice(("India", "Portugal", "United Kingdom", "Türkiye")), 0, 0.3),
            "composition": self._maybe(
                rng.choice(("100% cotton", "Stoneware", "Soy wax", "80% wool, 20% nylon")), 0, 0.3
            ),
            "variant_options": list(axes),
            "product_variants": variants,
            "categories": [{"id": c["id"], "name": c["name"]} for c in categories],
            "grouping_category_id": grouping["id"] if grouping else None,
            "images": [
                f"https://a1b2c3d4ef.cloudfront.net/sandbox/images/products/{code.lower()}-{i}-{self._token(8)}.jpg"
                for i in range(rng.choice((0, 1, 1, 2, 3)))
            ],
            # No document lists this field; the API is in beta and grows fields.
            "tags": rng.sample(("new", "eco", "bestseller", "fragile", "handmade"), k=rng.randint(0, 2)),
        }
        for category in categories:
            category["products"].append({"product_id": pid, "product_name": name})
        updated = created if rng.random() < 0.4 else self._later(created)
        row = self._store("products", product, created, updated)
        stock = [self._stock_row(v, pid, created, loose) for v in variants]
        place = self._insert if insert else self._add
        place("products", row)
        for level in stock:
            place("inventory_levels", level)
        return row, stock, categories

    def _option_combos(self, count: int) -> tuple[tuple[str, ...], Sequence[tuple[tuple[str, str], ...]]]:
        """The variant options, and for each variant its (value, SKU part) per option."""
        rng = self.rng
        if count == 1 and rng.random() < 0.6:
            return (), [()]
        if count <= 4 and rng.random() < 0.5:
            axis = rng.choice(tuple(_OPTION_VALUES))
            return (axis,), [(v,) for v in rng.sample(_OPTION_VALUES[axis], k=count)]
        colours = rng.sample(_OPTION_VALUES["Colour"], k=2)
        sizes = rng.sample(_OPTION_VALUES["Size"], k=3)
        combos = [(c, s) for c in colours for s in sizes]
        return ("Colour", "Size"), combos[:count]

    def _stock_row(self, variant: dict[str, Any], product_id: str, created: float, loose: bool) -> Row:
        rng = self.rng
        on_hand: int | float = rng.choice((0, 0, 5, 12, 40, 150)) + rng.randint(0, 30)
        if loose:
            on_hand += 0.5
        available = on_hand - rng.choice((0, 0, 0, 2, 5)) if on_hand else rng.choice((0, -3))
        doc = {"sku": variant["sku"], "on_hand": on_hand, "available": available}
        return Row(
            variant["sku"], doc, created, self._later(created), {"product_id": product_id, "sku": variant["sku"]}
        )

    # --- customers ---------------------------------------------------------------------------

    def _address(self, company: str, contact: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The same address in the orders' key order and in the customers' (postal_code before state)."""
        rng = self.rng
        country, city, postcode, state = rng.choice(_PLACES) if rng.random() < 0.4 else rng.choice(_PLACES[:6])
        line1 = f"{rng.randint(1, 240)} {rng.choice(_STREETS)}"
        line2 = self._maybe(rng.choice(("Unit 4", "Windsor", "2nd floor", "c/o Reception")), empty=0.5, null=0.1)
        contact_name = self._maybe(contact, empty=0.3, null=0.05)
        state_value = state if state else self._maybe("", empty=1.0, null=0.1)
        order_shape = {
            "company_name": company,
            "contact_name": contact_name,
            "line1": line1,
            "line2": line2,
            "city": city,
            "state": state_value,
            "postal_code": postcode,
            "country": country,
        }
        customer_shape = {
            "company_name": company,
            "contact_name": contact_name,
            "line1": line1,
            "line2": line2,
            "city": city,
            "postal_code": postcode,
            "state": state_value,
            "country": country,
        }
        return order_shape, customer_shape

    def _customer(self, created: float) -> dict[str, Any]:
        rng = self.rng
        cid = self._id("cu")
        if rng.random() < 0.12:
            company = rng.choice(_AWKWARD_COMPANIES)
        else:
            company = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_SUFFIXES)}".strip()
        contact = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        mailbox = cid[3:] + "@example.com"
        order_email = mailbox if rng.random() < 0.85 else f"{mailbox}, orders-{mailbox}"
        emails: dict[str, str | None] = {
            "orders": order_email,
            "dispatches": self._maybe(mailbox, empty=0.1, null=0.0),
            "invoices": self._maybe(f"accounts-{mailbox}", empty=0.1, null=0.02),
        }
        shapes = [self._address(company, contact) for _ in range(rng.choice((1, 1, 1, 2)))]
        price_list = rng.choice(self.price_lists) if rng.random() < 0.4 else None
        tax = rng.choice(self.tax_rates[2:]) if rng.random() < 0.1 else None
        terms = rng.choice(self.terms) if rng.random() < 0.8 else None
        buyer = contact if rng.random() < 0.9 else None
        phone = self._maybe(f"0{rng.randint(1000, 7999)} {rng.randint(100000, 999999)}", empty=0.1, null=0.05)
        customer = Customer(
            id=cid,
            created=created,
            company_name=company,
            phone=phone,
            emails=emails,
            addresses=[order_shape for order_shape, _ in shapes],
            buyer=buyer,
            price_list=(price_list[0], price_list[2], price_list[3]) if price_list else None,
            tax=tax_fields(tax) if tax else None,
            terms=terms,
        )
        self.customers.append(customer)
        self.customer_by_id[cid] = customer
        return {
            "id": cid,
            "company_name": company,
            "created_at": iso(created),
            "status": rng.choice(("active",) * 8 + ("new", "closed")),
            "reference": self._maybe(f"ACC-{rng.randint(100, 9999)}", empty=0.5, null=0.1),
            "internal_note": self._maybe(rng.choice(_NOTES), empty=0.6, null=0.1),
            "buyers": [{"name": buyer, "email_address": mailbox}] if buyer else [],
            "phone": phone,
            "email_addresses": emails,
            "tax_number": self._maybe(f"GB{rng.randint(100000000, 999999999)}", empty=0.5, null=0.1),
            "tax_rate_id": tax[0] if tax else None,
            "addresses": [customer_shape for _, customer_shape in shapes],
            "minimum_spend": rng.choice((None, None, 150.0, 200, 99.5)),
            "payment_terms_id": terms[0] if terms else None,
            "customer_group_id": rng.choice(self.groups) if rng.random() < 0.8 else None,
            "price_list_id": price_list[0] if price_list else None,
        }

    # --- orders, dispatches, invoices --------------------------------------------------------

    def _orders(self, count: int) -> None:
        rng = self.rng
        customer_times = [c.created for c in self.customers]
        product_times = [r.created for r in self.rows["products"]]
        # Variants in product-creation order, so those on sale at time t are a prefix.
        per_product = {r.key: 0 for r in self.rows["products"]}
        for v in self.variants:
            per_product[v.product_id] += 1
        on_sale = [0]
        for r in self.rows["products"]:
            on_sale.append(on_sale[-1] + per_product[r.key])
        for created in self._times(count, HISTORY_START + DAY, ANCHOR, 0.04):
            known = bisect.bisect_right(customer_times, created)
            # Long-standing customers order more often.
            customer = self.customers[int(known * rng.random() ** 2)]
            n_variants = on_sale[bisect.bisect_right(product_times, created)]
            order = self._order(created, customer, n_variants)
            self._history(order, customer, created)

    def _order(self, created: float, customer: Customer, n_variants: int) -> dict[str, Any]:
        rng = self.rng
        rnd = rng.random
        self._order_number += 1
        n_lines = self.lines_per_order if self.lines_per_order is not None else 1 + int(8 * rnd())
        shipping = rnd() < 0.4 and n_lines >= 2
        currency = customer.price_list[1] if customer.price_list else "GBP"
        standing = rnd() < 0.01
        preorder = not standing and rnd() < 0.05
        # The examples send "" where null would be expected; some records do send null.
        no_window = "" if rnd() < 0.85 else None
        window = self._one(self.windows) if preorder else no_window
        lines = []
        net = tax_total = 0.0
        new_id = self._id
        variants = self.variants
        for i in range(n_lines):
            if shipping and i == n_lines - 1:
                ship_name, price = self._one(_SHIPPING)
                line = self._extra_line(ship_name, 1, price, self._standard, no_window)
                line["shipping"] = True
            elif rnd() < 0.02:
                line = self._extra_line("Custom engraving", 1 + int(5 * rnd()), 2.5, NO_TAX, no_window)
            else:
                v = variants[int(n_variants * rnd())]
                qty: int | float = 1 + int(24 * rnd())
                if v.loose:
                    qty = qty / 2
                price = v.price
                if customer.price_list:
                    pl_id, _, rate = customer.price_list
                    price = v.list_prices.get(pl_id) or round(v.price * rate / 100, 2)
                tax = customer.tax or v.tax
                sub_total = round(qty * price, 2)
                # One literal from prepared parts: this runs half a million times for the benchmark.
                line = {
                    "id": new_id("ol"),
                    **v.head,
                    "quantity": qty,
                    "unit_price": price,
                    "sub_total": sub_total,
                    **tax,
                    "tax_amount": round(sub_total * tax["tax_rate"] / 100, 2),
                    "preorder_window_id": window,
                    "on_hold": preorder,
                    "invoiced": 0,
                    "paid": 0,
                    "dispatched": 0,
                }
            net += line["sub_total"]
            tax_total += line["tax_amount"]
            lines.append(line)
        address = self._one(customer.addresses)
        created_by = self._one((customer.buyer, customer.buyer, self._one(_STAFF), None))
        source = (
            "web" if created_by is not None and created_by == customer.buyer else ("admin" if created_by else "api")
        )
        standing_id = None
        if not standing and customer.id in self._standing and rnd() < 0.5:
            standing_id = self._standing[customer.id]
        order_id = self._id("or")
        if standing:
            self._standing.setdefault(customer.id, order_id)
        return {
            "id": order_id,
            "number": self._order_number,
            "created": iso(created),
            "status": "standing_order" if standing else ("preorder" if preorder else "new"),
            "customer_id": customer.id,
            "company_name": customer.company_name,
            "phone": customer.phone,
            "email_addresses": customer.emails,
            "created_by": created_by,
            "delivery_date": day(created + (1 + int(14 * rnd())) * DAY) if rnd() < 0.8 else None,
            "reference": self._maybe(f"REF-{self._order_number}", empty=0.6, null=0.05),
            "internal_note": self._maybe(self._one(_NOTES), empty=0.6),
            "customer_po_number": self._maybe(f"PO{1000 + int(90000 * rnd())}", empty=0.6),
            "customer_note": self._maybe(self._one(_NOTES), empty=0.6),
            # Present because this site has standing orders switched on.
            "standing_order_id": standing_id,
            "shipping_type": lines[-1]["name"] if shipping else self._maybe("", empty=0.5, null=0.5),
            "shipping_address": address,
            "billing_address": customer.addresses[0],
            "order_lines": lines,
            "currency": currency,
            "net_total": round(net, 2),
            "gross_total": round(net + tax_total, 2),
            # No document lists this field; the API is in beta and grows fields.
            "source": source,
        }

    def _extra_line(
        self, name: str, qty: int, price: int | float, tax: dict[str, Any], window: str | None
    ) -> dict[str, Any]:
        """A custom item or (with `shipping` set after) a shipping charge: no product behind it, so no SKU."""
        sub_total = round(qty * price, 2)
        return {
            "id": self._id("ol"),
            "sku": "",
            "name": name,
            "options": "",
            "shipping": False,
            "quantity": qty,
            "unit_price": price,
            "sub_total": sub_total,
            **tax,
            "tax_amount": round(sub_total * tax["tax_rate"] / 100, 2),
            "preorder_window_id": window,
            "on_hold": False,
            "invoiced": 0,
            "paid": 0,
            "dispatched": 0,
        }

    def _history(self, order: dict[str, Any], customer: Customer, created: int) -> None:
        """Give a seeded order what happened to it before the anchor: an invoice, payments, dispatches."""
        rng = self.rng
        invoiced = False
        # Standing orders and preorders keep the status they were created with.
        if order["status"] == "new":
            if rng.random() < 0.04:
                order["status"] = "cancelled"
            else:
                order["status"] = self._one(("new", "released"))
                when = created + rng.randint(3600, 6 * DAY)
                if rng.random() < 0.78 and when <= ANCHOR:
                    self._add_invoice(order, customer, when, pay_by=ANCHOR)
                    invoiced = True
                self._seed_dispatches(order, created)
        self._track(order, invoiced)
        self._add("orders", self._store("orders", order, created))

    def _track(self, order: dict[str, Any], invoiced: bool) -> None:
        """Enter an open order in the pools that new dispatches and invoices are drawn from."""
        if order["status"] in ("cancelled", "standing_order", "preorder"):
            return
        if self._dispatchable(order):
            self.undispatched[order["id"]] = None
        if not invoiced:
            self.uninvoiced[order["id"]] = None

    def _seed_dispatches(self, order: dict[str, Any], created: int) -> None:
        rng = self.rng
        lines = self._dispatchable(order)
        when = self._batch(created + rng.randint(DAY // 2, 10 * DAY))
        if not lines or rng.random() >= 0.7 or when > ANCHOR:
            return
        if len(lines) > 1 and rng.random() < 0.15:
            # Part of the order goes first; the rest may follow later.
            first = lines[: len(lines) // 2]
            self._add_dispatch(order, when, first)
            later = self._batch(when + rng.randint(DAY, 20 * DAY))
            if later <= ANCHOR and rng.random() < 0.6:
                self._add_dispatch(order, later, lines[len(first) :])
        else:
            self._add_dispatch(order, when, lines)

    def _batch(self, when: int) -> int:
        """The warehouse dispatches in runs: many dispatches share the second a run was booked."""
        if self.rng.random() < 0.3:
            return when - when % (4 * 3600) + 3600
        return when

    @staticmethod
    def _dispatchable(order: dict[str, Any]) -> list[tuple[dict[str, Any], int | float]]:
        return [
            (line, line["quantity"] - line["dispatched"])
            for line in order["order_lines"]
            if line["sku"] and not line["on_hold"] and line["quantity"] > line["dispatched"]
        ]

    def _add_dispatch(
        self,
        order: dict[str, Any],
        created: float,
        lines: list[tuple[dict[str, Any], int | float]],
        insert: bool = False,
    ) -> Row:
        for line, qty in lines:
            line["dispatched"] += qty
        remaining = any(ol["sku"] and ol["quantity"] > ol["dispatched"] for ol in order["order_lines"])
        order["status"] = "part_fulfilled" if remaining else "fulfilled"
        address = order["shipping_address"]
        dispatch = {
            "id": self._id("di"),
            "order_id": order["id"],
            "order_number": order["number"],
            "created": iso(created),
            "comments": self._maybe(self._one(("Sent by Royal Mail using Next Day Delivery", "DPD 1534 2201 99",
                                                 "Collected by customer", "Palette 2/3 — Spedition Müller")), 0.4),
            "customer_note": order["customer_note"],
            "customer_po_number": order["customer_po_number"],
            "shipping_type": order["shipping_type"],
            "shipping_address": address,
            "email_address": order["email_addresses"]["dispatches"],
            "phone": order["phone"],
            "dispatch_lines": [
                {
                    "order_line_id": line["id"],
                    "sku": line["sku"],
                    "name": line["name"],
                    "options": line["options"],
                    "quantity": qty,
                }
                for line, qty in lines
            ],
        }  # fmt: skip
        row = self._store("dispatches", dispatch, created)
        (self._insert if insert else self._add)("dispatches", row)
        return row

    def _add_invoice(
        self, order: dict[str, Any], customer: Customer, created: float, pay_by: float, insert: bool = False
    ) -> Row:
        rng = self.rng
        self._invoice_number += 1
        invoice_day = created + self._one((0, 0, 0, -DAY, DAY, 3 * DAY))
        terms = customer.terms
        due = invoice_day + (terms[2] if terms else 0) * DAY
        deposit = (
            {"percentage": terms[3], "due_date": day(invoice_day + terms[4] * DAY)} if terms and terms[3] else None
        )
        for line in order["order_lines"]:
            line["invoiced"] = line["quantity"]
        lines = [
            {
                "sku": line["sku"],
                "name": line["name"],
                "options": line["options"],
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "sub_total": line["sub_total"],
                "tax_rate": line["tax_rate"],
                "tax_amount": line["tax_amount"],
                "order_line_id": line["id"],
                # In the attribute list, not in the examples.
                "tax_rate_id": line["tax_rate_id"],
            }
            for line in order["order_lines"]
        ]
        net, gross = order["net_total"], order["gross_total"]
        if rng.random() < 0.03:
            # A custom invoice line: connected to no order line.
            fee = self._money(1, 15)
            tax = self.tax_rates[0]
            tax_amount = round(fee * tax[2] / 100, 2)
            lines.append({"sku": "", "name": "Handling fee", "options": "", "quantity": 1, "unit_price": fee,
                          "sub_total": fee, "tax_rate": tax[2], "tax_amount": tax_amount, "order_line_id": None,
                          "tax_rate_id": tax[0]})  # fmt: skip
            net, gross = round(net + fee, 2), round(gross + fee + tax_amount, 2)
        if order["status"] in ("new", "released"):
            order["status"] = "invoiced"
        invoice = {
            "id": self._id("iv"),
            "number": f"INV-{self._invoice_number}",
            "invoice_date": day(invoice_day),
            "customer_id": customer.id,
            "company_name": order["company_name"],
            "email_address": customer.emails["invoices"],
            "orders": [{"id": order["id"], "number": order["number"]}],
            "payment_terms": terms[1] if terms else None,
            # In the attribute list, not in the examples.
            "payment_terms_id": terms[0] if terms else None,
            "due_date": day(due),
            "paid": False,
            "proforma": rng.random() < 0.05,
            "deposit": deposit,
            "comments": self._maybe("Thank you for your order!", empty=0.6),
            "address": order["billing_address"],
            "invoice_lines": lines,
            "currency": order["currency"],
            "net_total": net,
            "gross_total": gross,
            "payments": [],
        }
        r = rng.random()
        if r < 0.7:
            self._pay(invoice, order, min(pay_by, created + rng.randint(0, 40 * DAY)), gross)
        elif r < 0.8 and deposit:
            self._pay(invoice, order, created, round(gross * deposit["percentage"] / 100, 2))
        if not invoice["paid"]:
            self.unpaid[invoice["id"]] = None
        row = self._store("invoices", invoice, created)
        (self._insert if insert else self._add)("invoices", row)
        return row

    def _pay(self, invoice: dict[str, Any], order: dict[str, Any], when: float, amount: int | float) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            payment = {"amount": amount, "payment_date": day(when), "source": "card",
                       "description": f"Visa ending {rng.randint(1000, 9999)}",
                       "reference": "pi_" + self._token(24, _GATEWAY_CHARS)}  # fmt: skip
        else:
            payment = {"amount": amount, "payment_date": day(when), "source": "manual",
                       "description": self._maybe("Bank transfer", empty=0.3), "reference": ""}  # fmt: skip
        invoice["payments"].append(payment)
        paid = round(sum(p["amount"] for p in invoice["payments"]), 2)
        invoice["paid"] = paid >= invoice["gross_total"]
        if invoice["paid"]:
            lines = {line["order_line_id"] for line in invoice["invoice_lines"]}
            for line in order["order_lines"]:
                if line["id"] in lines:
                    line["paid"] = line["invoiced"]

    def _straddle(self, resource: str) -> None:
        """Make groups of records share one second across each page edge (see PAGE_EDGES).

        Dispatches and invoices get their times from their orders, so this moves them later (never
        before their order) to the newest second of the group.
        """
        rows = self.rows[resource]
        for edge in PAGE_EDGES:
            group = rows[max(0, edge - 2) : edge + 2]
            if len(group) < 4:
                continue
            newest = group[0].created
            for row in group:
                if row.created != newest:
                    row.created = row.updated = newest
                    if resource == "dispatches":
                        doc = row.doc()
                        doc["created"] = iso(newest)
                        self._rewrite(resource, row, doc)
                # The group keeps its seq order, so the list stays in newest-first order.
                row.sort = (-newest, row.sort[1])

    # --- mutations ---------------------------------------------------------------------------

    def mutate(self, clock: Callable[[], float], **counts: Any) -> dict[str, dict[str, list[str]]]:
        """Create and change records as a live site would, at the real clock's time."""
        unknown = set(counts) - set(MUTATIONS) - {"same_second"}
        if unknown:
            raise ValueError(f"unknown mutation(s): {', '.join(sorted(unknown))}")
        numbers = {k: int(v) for k, v in counts.items() if k != "same_second"}
        if any(v < 0 for v in numbers.values()):
            raise ValueError("mutation counts must not be negative")
        pinned = float(int(clock()))
        same_second = bool(counts.get("same_second", False))
        # Sub-second times, as a database keeps them: a filter bound inside a second then splits it
        # the way the real API's would, while the served timestamps show whole seconds.
        changes = Changes(lambda: pinned if same_second else clock())
        steps = (self._new_customers, self._new_products, self._new_orders, self._new_dispatches,
                 self._new_invoices, self._update_orders, self._update_invoices, self._update_products,
                 self._update_stock)  # fmt: skip
        for name, step in zip(MUTATIONS, steps, strict=True):
            step(numbers.get(name, 0), changes)
        return {"created": changes.created, "updated": changes.updated}

    def _new_customers(self, count: int, changes: Changes) -> None:
        for _ in range(count):
            when = changes.now()
            row = self._store("customers", self._customer(when), when)
            self._insert("customers", row)
            changes.created["customers"].append(row.key)

    def _new_products(self, count: int, changes: Changes) -> None:
        for _ in range(count):
            product, stock, categories = self._add_product(changes.now(), insert=True)
            changes.created["products"].append(product.key)
            changes.created["inventory_levels"].extend(level.key for level in stock)
            for category in categories:
                self._rewrite("categories", self.by_key["categories"][category["id"]], category)
                changes.touch("categories", category["id"])

    def _new_orders(self, count: int, changes: Changes) -> None:
        if count and not (self.customers and self.variants):
            raise ValueError("new orders need at least one customer and one product")
        for _ in range(count):
            when = changes.now()
            order = self._order(when, self.rng.choice(self.customers), len(self.variants))
            # A new order is open: a preorder's window is kept but nothing is held.
            if order["status"] == "preorder":
                order["status"] = "new"
            for line in order["order_lines"]:
                line["on_hold"] = False
            self._track(order, invoiced=False)
            row = self._store("orders", order, when)
            self._insert("orders", row)
            changes.created["orders"].append(row.key)

    def _new_dispatches(self, count: int, changes: Changes) -> None:
        for _ in range(count):
            order_id = self._recent(self.undispatched)
            if order_id is None:
                return
            row = self.by_key["orders"][order_id]
            order = row.doc()
            dispatch = self._add_dispatch(order, changes.now(), self._dispatchable(order), insert=True)
            self.undispatched.pop(order_id)
            self._rewrite("orders", row, order)
            changes.created["dispatches"].append(dispatch.key)
            changes.touch("orders", order_id)

    def _new_invoices(self, count: int, changes: Changes) -> None:
        for _ in range(count):
            order_id = self._recent(self.uninvoiced)
            if order_id is None:
                return
            row = self.by_key["orders"][order_id]
            order = row.doc()
            when = changes.now()
            invoice = self._add_invoice(order, self.customer_by_id[order["customer_id"]], when, when, insert=True)
            self.uninvoiced.pop(order_id)
            self._rewrite("orders", row, order)
            changes.created["invoices"].append(invoice.key)
            changes.touch("orders", order_id)

    def _recent(self, pool: dict[str, None]) -> str | None:
        if not pool:
            return None
        keys = list(pool)
        # Recent orders are the ones a live site dispatches and invoices.
        return keys[len(keys) - 1 - int(len(keys) * self.rng.random() ** 3)]

    def _update_orders(self, count: int, changes: Changes) -> None:
        moves = {"new": "released", "released": "cancelled", "preorder": "released"}
        candidates = [row for row in self.rows["orders"] if row.idx["status"] in moves]
        for row in self.rng.sample(candidates, k=min(count, len(candidates))):
            order = row.doc()
            was = order["status"]
            order["status"] = moves[was]
            for line in order["order_lines"]:
                line["on_hold"] = False
            if order["status"] == "cancelled":
                self.undispatched.pop(row.key, None)
                self.uninvoiced.pop(row.key, None)
            elif was == "preorder":
                self._track(order, invoiced=False)
            order["internal_note"] = f"Status changed to {order['status']}"
            self._rewrite("orders", row, order)
            changes.touch("orders", row.key)

    def _update_invoices(self, count: int, changes: Changes) -> None:
        for _ in range(count):
            invoice_id = self._recent(self.unpaid)
            if invoice_id is None:
                break
            row = self.by_key["invoices"][invoice_id]
            invoice = row.doc()
            order_row = self.by_key["orders"][invoice["orders"][0]["id"]]
            order = order_row.doc()
            owed = round(invoice["gross_total"] - sum(p["amount"] for p in invoice["payments"]), 2)
            when = changes.now()
            self._pay(invoice, order, when, owed)
            self.unpaid.pop(invoice_id)
            row.updated = when
            self._rewrite("invoices", row, invoice)
            self._rewrite("orders", order_row, order)
            changes.touch("invoices", invoice_id)
            changes.touch("orders", order_row.key)

    def _update_products(self, count: int, changes: Changes) -> None:
        rows = self.rows["products"]
        for row in self.rng.sample(rows, k=min(count, len(rows))):
            product = row.doc()
            for variant in product["product_variants"]:
                variant["unit_price"] = round(variant["unit_price"] * 1.05 + 0.5, 2)
            product["active"] = not product["active"] if self.rng.random() < 0.2 else product["active"]
            row.updated = changes.now()
            self._rewrite("products", row, product)
            changes.touch("products", row.key)

    def _update_stock(self, count: int, changes: Changes) -> None:
        rows = self.rows["inventory_levels"]
        for row in self.rng.sample(rows, k=min(count, len(rows))):
            level = row.doc()
            on_hand = max(0, level["on_hand"] + self.rng.choice((-5, -2, 3, 10, 24)))
            level["available"] += on_hand - level["on_hand"]
            level["on_hand"] = on_hand
            row.updated = changes.now()
            # Not `_rewrite`: a stock row's index holds its product id, which its JSON does not.
            row.replace(level)
            changes.touch("inventory_levels", row.key)

    # --- views -------------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        result = {name: len(rows) for name, rows in self.rows.items()}
        for nested, (parent, counter) in NESTED.items():
            result[nested] = sum(row.idx[counter] for row in self.rows[parent])
        return result


# In the order they are applied: new records first, so updates may pick them too.
MUTATIONS = ("new_customers", "new_products", "new_orders", "new_dispatches", "new_invoices", "update_orders",
             "update_invoices", "update_products", "update_stock")  # fmt: skip


class Changes:
    """What one `mutate` call created and updated, and the clock its records take their time from."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.created: dict[str, list[str]] = {
            k: [] for k in ("customers", "products", "inventory_levels", "orders", "dispatches", "invoices")
        }
        self.updated: dict[str, list[str]] = {
            k: [] for k in ("orders", "invoices", "products", "inventory_levels", "categories")
        }

    def touch(self, resource: str, key: str) -> None:
        if key not in self.updated[resource]:
            self.updated[resource].append(key)


# What each resource's filters read from a record, computed when the record is (re)encoded.
INDEXERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "customers": lambda d: {
        "company_name": d["company_name"],
        "buyers_email_address": tuple(b["email_address"] for b in d["buyers"]),
        "status": d["status"],
        "reference": d["reference"],
        "payment_terms_id": d["payment_terms_id"],
        "customer_group_id": d["customer_group_id"],
        "price_list_id": d["price_list_id"],
    },
    "orders": lambda d: {
        "number": d["number"],
        "status": d["status"],
        "reference": d["reference"],
        "customer_id": d["customer_id"],
        "standing_order_id": d["standing_order_id"],
        "delivery_date": d["delivery_date"],
        "_lines": len(d["order_lines"]),
    },
    "dispatches": lambda d: {"order_id": d["order_id"], "_lines": len(d["dispatch_lines"])},
    "invoices": lambda d: {
        "number": d["number"],
        "customer_id": d["customer_id"],
        "invoice_date": d["invoice_date"],
        "due_date": d["due_date"],
        "paid": d["paid"],
        "proforma": d["proforma"],
        "_lines": len(d["invoice_lines"]),
        "_payments": len(d["payments"]),
    },
    "products": lambda d: {
        "code": d["code"],
        "name": d["name"],
        "active": d["active"],
        "category_id": tuple(c["id"] for c in d["categories"]),
        "_lines": len(d["product_variants"]),
    },
    "categories": lambda d: {"name": d["name"], "parent_id": d["parent_id"]},
    "customer_groups": lambda d: {},
    "price_lists": lambda d: {},
    "payment_terms": lambda d: {},
    "tax_rates": lambda d: {},
    "preorder_windows": lambda d: {},
}
