"""One seeded Orderspace site: its store, the references records copy from each other, and the
makers of customers, products, orders, dispatches, invoices and payments in the reference's shapes.

`generate` calls the makers to build two years of history; `changes` calls them again for records
made later. Shapes follow the reference's examples and attribute lists together; where they disagree
the choice is noted beside the field.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .world import DAY, HISTORY_DAYS, Row, World, day, iso


def _byte_table(alphabet: str) -> bytes:
    """Maps each random byte to a character of `alphabet`: far faster than `choices`, and the slight
    bias (256 is rarely a multiple of the alphabet's size) does not matter here."""
    return bytes(ord(alphabet[i % len(alphabet)]) for i in range(256))


_ID_CHARS = _byte_table(string.ascii_lowercase + string.digits)
_GATEWAY_CHARS = _byte_table(string.ascii_letters + string.digits)


def tax_fields(tax: tuple[str, str, float]) -> dict[str, Any]:
    """A tax rate as an order line carries it."""
    return {"tax_rate_id": tax[0], "tax_name": tax[1], "tax_rate": tax[2]}


# A custom item with no tax rate set.
NO_TAX: dict[str, Any] = {"tax_rate_id": None, "tax_name": None, "tax_rate": 0.0}


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
# Where most of a site's customers are: the rest are anywhere in _PLACES.
_EU_PLACES = (
    ("DE", "München", "80331", ""), ("DE", "Berlin", "10117", ""), ("FR", "Paris", "75002", ""),
    ("NL", "Amsterdam", "1012 AB", ""), ("IE", "Dublin", "D02 X285", ""), ("PL", "Łódź", "90-001", ""),
)  # fmt: skip
_SHIPPING = (("Special Delivery", 9.5), ("Next Day Delivery", 7), ("Standard Delivery", 4.9),
             ("International Courier Delivery", 24.0), ("Pallet", 45))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Profile:
    """What makes one site unlike another beyond its seed: where it trades and in which currencies."""

    name: str
    currency: str  # the account's default: orders of customers without a price list are in it
    price_lists: tuple[tuple[str, str, int | float], ...]  # name, currency, conversion rate (%)
    tax_rates: tuple[tuple[str, float], ...]  # name, rate; the first is the standard rate
    home: tuple[tuple[str, str, str, str], ...]  # most customers' places: country, city, postcode, state
    tax_number: str  # customers' VAT number prefix
    invoice_prefix: str
    first_order: int  # the number before the first order's
    first_invoice: int


# A brand's sites: a UK one in pounds and an EU one in euros, each with price lists in other currencies.
PROFILES = {
    "uk": Profile(
        name="uk",
        currency="GBP",
        price_lists=(("Euros", "EUR", 100), ("US Dollars", "USD", 125.5), ("Trade Plus", "GBP", 90),
                     ("Export", "GBP", 100)),
        tax_rates=(("Standard", 20.0), ("Reduced", 5.0), ("Zero", 0.0), ("Exempt", 0)),
        home=_PLACES[:6],
        tax_number="GB",
        invoice_prefix="INV-",
        first_order=1000,
        first_invoice=500,
    ),
    "eu": Profile(
        name="eu",
        currency="EUR",
        price_lists=(("Pounds Sterling", "GBP", 87), ("US Dollars", "USD", 108), ("Händler", "EUR", 90),
                     ("Export", "EUR", 100)),
        tax_rates=(("Standard", 19.0), ("Ermäßigt", 7.0), ("Zero", 0.0), ("Exempt", 0)),
        home=_EU_PLACES,
        tax_number="DE",
        invoice_prefix="RE-",
        first_order=40000,
        first_invoice=9000,
    ),
}  # fmt: skip


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


class Site:
    """The records of one site, the seeded generator that makes them, and what they refer to."""

    def __init__(self, seed: int, end: int, lines_per_order: int | None = None, profile: str = "uk") -> None:
        if profile not in PROFILES:
            raise ValueError(f"site must be one of {', '.join(PROFILES)}")
        self.profile = PROFILES[profile]
        self.seed = seed
        # The UK site keeps the plain seed, so its records are those it always gave; another site
        # salts it, so the same seed there gives other ids and not a copy in another currency.
        self.rng = random.Random(seed if profile == "uk" else f"{profile}:{seed}")
        # Seeded history runs from `start` to `end` (the first second of the site's today).
        self.end = end
        self.start = end - HISTORY_DAYS * DAY
        self.lines_per_order = lines_per_order
        self.world = World()
        self._ids: dict[str, set[str]] = {}
        # Reference data, set once by generation: (id, name, rate), (id, name, currency, rate),
        # (id, name, days due, deposit %, deposit days), customer group ids, preorder window ids.
        self.tax_rates: list[tuple[str, str, float]] = []
        self.standard_tax: dict[str, Any] = {}
        self.price_lists: list[tuple[str, str, str, int | float]] = []
        self.terms: list[tuple[str, str, int, float, int]] = []
        self.groups: list[str] = []
        self.categories: list[dict[str, Any]] = []
        self.seasons: list[dict[str, Any]] = []
        self.windows: list[str] = []
        self.customers: list[Customer] = []
        self.customer_by_id: dict[str, Customer] = {}
        self.variants: list[Variant] = []
        self._product_count = 0
        self._order_number = self.profile.first_order
        self._invoice_number = self.profile.first_invoice
        self._standing: dict[str, str] = {}  # customer id -> its standing order
        # Orders and invoices still open to a dispatch, an invoice or a payment, in creation order.
        self.undispatched: dict[str, None] = {}
        self.uninvoiced: dict[str, None] = {}
        self.unpaid: dict[str, None] = {}
        # Per customer, an order held back to be invoiced with the customer's next one: the order, when
        # it would have been invoiced alone, and how long it waits.
        self.waiting: dict[str, tuple[dict[str, Any], float, float]] = {}

    # --- small helpers -----------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        seen = self._ids.setdefault(prefix, set())
        randbytes = self.rng.randbytes
        while True:
            new = prefix + "_" + randbytes(8).translate(_ID_CHARS).decode()
            if new not in seen:
                seen.add(new)
                return new

    def token(self, length: int, table: bytes = _ID_CHARS) -> str:
        return self.rng.randbytes(length).translate(table).decode()

    def one(self, items: Sequence[Any]) -> Any:
        """`rng.choice`, at a third of its cost: generation makes millions of these picks."""
        return items[int(self.rng.random() * len(items))]

    def maybe(self, value: Any, empty: float = 0.1, null: float = 0.05) -> Any:
        """`value`, or sometimes "" or null, as real records are."""
        r = self.rng.random()
        if r < null:
            return None
        if r < null + empty:
            return ""
        return value

    def later(self, created: float) -> float:
        """A last-change time for a record made at `created`: before the end for seeded history."""
        if created >= self.end - DAY:
            return created
        return self.rng.randint(int(created), self.end - DAY)

    def money(self, low: float, high: float) -> int | float:
        """A price as the API sends them: 30, 30.0 and 30.5 all occur."""
        rng = self.rng
        whole = rng.randint(int(low), int(high))
        r = rng.random()
        if r < 0.3:
            return whole
        if r < 0.6:
            return float(whole)
        return whole + rng.choice((0.5, 0.95, 0.25, 0.99))

    # --- products and stock ------------------------------------------------------------------

    def add_product(self, created: float, insert: bool = False) -> tuple[Row, list[Row], list[dict[str, Any]]]:
        rng = self.rng
        self._product_count += 1
        loose = rng.random() < 0.04
        name = rng.choice(_LOOSE) if loose else f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        code = "".join(word[0] for word in name.split()[:2]).upper() + f"{self._product_count:03d}"
        pid = self.new_id("pr")
        n_variants = 1 if loose else rng.randint(1, 6)
        axes, combos = self._option_combos(n_variants)
        categories = rng.sample(self.categories, k=min(len(self.categories), rng.choice((0, 1, 1, 2, 3))))
        season = rng.choice(self.seasons)
        if rng.random() < 0.15 and season not in categories:
            categories.append(season)
        grouping = categories[0] if categories and rng.random() < 0.9 else None
        base_price = self.money(3, 80)
        default_tax = self.tax_rates[0]
        variants: list[dict[str, Any]] = []
        for combo in combos:
            tax_id = None if rng.random() < 0.8 else rng.choice(self.tax_rates[1:])[0]
            list_prices: list[dict[str, Any]] = [
                {"id": pl[0], "unit_price": self.money(3, 90)} for pl in self.price_lists if rng.random() < 0.15
            ]
            variant = {
                "id": self.new_id("pv"),
                "sku": "-".join([code, *(abbr for _, abbr in combo)]),
                "barcode": self.maybe(str(rng.randrange(10**12, 10**13)), empty=0.2),
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
                "location": self.maybe(f"{rng.choice('ABCDE')}{rng.randint(1, 9)}-{rng.randint(1, 40)}", empty=0.2),
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
            "description": self.maybe(f"{name}. Made in small batches; colours may vary.", empty=0.2),
            "active": rng.random() < 0.9,
            "minimum": rng.choice((None, None, None, 6, 12)),
            # Only visible with commercial invoices on, which this site has.
            "tariff_code": self.maybe(rng.choice(("6204.44", "6912.00", "3406.00", "4820.10")), empty=0.0, null=0.3),
            "country_of_origin": self.maybe(rng.choice(("India", "Portugal", "United Kingdom", "Türkiye")), 0, 0.3),
            "composition": self.maybe(
                rng.choice(("100% cotton", "Stoneware", "Soy wax", "80% wool, 20% nylon")), 0, 0.3
            ),
            "variant_options": list(axes),
            "product_variants": variants,
            "categories": [{"id": c["id"], "name": c["name"]} for c in categories],
            "grouping_category_id": grouping["id"] if grouping else None,
            # Added in 2024; the reference's examples show a list of URLs.
            "images": [
                f"https://a1b2c3d4ef.cloudfront.net/sandbox/images/products/{code.lower()}-{i}-{self.token(8)}.jpg"
                for i in range(rng.choice((0, 1, 1, 2, 3)))
            ],
            # No document lists this field; the API is in beta and grows fields.
            "tags": rng.sample(("new", "eco", "bestseller", "fragile", "handmade"), k=rng.randint(0, 2)),
        }
        for category in categories:
            category["products"].append({"product_id": pid, "product_name": name})
        updated = created if rng.random() < 0.4 else self.later(created)
        row = self.world.row("products", product, created, updated)
        stock = [self._stock_row(v, pid, created, loose) for v in variants]
        place = self.world.insert if insert else self.world.add
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
        return Row(variant["sku"], doc, created, self.later(created), {"product_id": product_id, "sku": variant["sku"]})

    # --- customers ---------------------------------------------------------------------------

    def _address(self, company: str, contact: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The same address in the orders' key order and in the customers' (postal_code before state)."""
        rng = self.rng
        country, city, postcode, state = rng.choice(_PLACES) if rng.random() < 0.4 else rng.choice(self.profile.home)
        line1 = f"{rng.randint(1, 240)} {rng.choice(_STREETS)}"
        line2 = self.maybe(rng.choice(("Unit 4", "Windsor", "2nd floor", "c/o Reception")), empty=0.5, null=0.1)
        contact_name = self.maybe(contact, empty=0.3, null=0.05)
        state_value = state if state else self.maybe("", empty=1.0, null=0.1)
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

    def make_customer(self, created: float) -> dict[str, Any]:
        rng = self.rng
        cid = self.new_id("cu")
        if rng.random() < 0.12:
            company = rng.choice(_AWKWARD_COMPANIES)
        else:
            company = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_SUFFIXES)}".strip()
        contact = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        mailbox = cid[3:] + "@example.com"
        order_email = mailbox if rng.random() < 0.85 else f"{mailbox}, orders-{mailbox}"
        emails: dict[str, str | None] = {
            "orders": order_email,
            "dispatches": self.maybe(mailbox, empty=0.1, null=0.0),
            "invoices": self.maybe(f"accounts-{mailbox}", empty=0.1, null=0.02),
        }
        shapes = [self._address(company, contact) for _ in range(rng.choice((1, 1, 1, 2)))]
        price_list = rng.choice(self.price_lists) if rng.random() < 0.4 else None
        if len(self.customers) in (2, 4):
            # The third and fifth customers buy in the first two price lists' currencies (other
            # than the site's), so even a small site trades in three currencies.
            price_list = self.price_lists[len(self.customers) // 2 - 1]
        tax = rng.choice(self.tax_rates[2:]) if rng.random() < 0.1 else None
        terms = rng.choice(self.terms) if rng.random() < 0.8 else None
        buyer = contact if rng.random() < 0.9 else None
        phone = self.maybe(f"0{rng.randint(1000, 7999)} {rng.randint(100000, 999999)}", empty=0.1, null=0.05)
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
            "reference": self.maybe(f"ACC-{rng.randint(100, 9999)}", empty=0.5, null=0.1),
            "internal_note": self.maybe(rng.choice(_NOTES), empty=0.6, null=0.1),
            "buyers": [{"name": buyer, "email_address": mailbox}] if buyer else [],
            "phone": phone,
            "email_addresses": emails,
            "tax_number": self.maybe(f"{self.profile.tax_number}{rng.randint(10**8, 10**9 - 1)}", empty=0.5, null=0.1),
            "tax_rate_id": tax[0] if tax else None,
            "addresses": [customer_shape for _, customer_shape in shapes],
            "minimum_spend": rng.choice((None, None, 150.0, 200, 99.5)),
            "payment_terms_id": terms[0] if terms else None,
            "customer_group_id": rng.choice(self.groups) if rng.random() < 0.8 else None,
            "price_list_id": price_list[0] if price_list else None,
            # No document lists this field. Taken from the id, not the generator, so adding it left
            # every other seeded value as it was.
            "website": None if cid[3] in "abcdefghijkl" else f"https://www.{cid[3:]}.example.com",
        }

    # --- orders, dispatches, invoices --------------------------------------------------------

    def make_order(self, created: float, customer: Customer, n_variants: int) -> dict[str, Any]:
        rng = self.rng
        rnd = rng.random
        self._order_number += 1
        n_lines = self.lines_per_order if self.lines_per_order is not None else 1 + int(8 * rnd())
        shipping = rnd() < 0.4 and n_lines >= 2
        currency = customer.price_list[1] if customer.price_list else self.profile.currency
        # Every site has at least one standing order template: its fifth order.
        standing = rnd() < 0.01 or self._order_number == self.profile.first_order + 5
        preorder = not standing and rnd() < 0.05
        # The examples send "" where null would be expected; some records do send null.
        no_window = "" if rnd() < 0.85 else None
        window = self.one(self.windows) if preorder else no_window
        lines = []
        net = tax_total = 0.0
        new_id = self.new_id
        variants = self.variants
        for i in range(n_lines):
            if shipping and i == n_lines - 1:
                ship_name, price = self.one(_SHIPPING)
                line = self._extra_line(ship_name, 1, price, self.standard_tax, no_window)
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
        address = self.one(customer.addresses)
        created_by = self.one((customer.buyer, customer.buyer, self.one(_STAFF), None))
        source = (
            "web" if created_by is not None and created_by == customer.buyer else ("admin" if created_by else "api")
        )
        standing_id = None
        if not standing and customer.id in self._standing and rnd() < 0.5:
            standing_id = self._standing[customer.id]
        order_id = self.new_id("or")
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
            "reference": self.maybe(f"REF-{self._order_number}", empty=0.6, null=0.05),
            "internal_note": self.maybe(self.one(_NOTES), empty=0.6),
            "customer_po_number": self.maybe(f"PO{1000 + int(90000 * rnd())}", empty=0.6),
            "customer_note": self.maybe(self.one(_NOTES), empty=0.6),
            # Present because this site has standing orders switched on.
            "standing_order_id": standing_id,
            "shipping_type": lines[-1]["name"] if shipping else self.maybe("", empty=0.5, null=0.5),
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
            "id": self.new_id("ol"),
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

    def track(self, order: dict[str, Any], invoiced: bool) -> None:
        """Enter an open order in the pools that new dispatches and invoices are drawn from."""
        if order["status"] in ("cancelled", "standing_order", "preorder"):
            return
        if self.dispatchable(order):
            self.undispatched[order["id"]] = None
        if not invoiced:
            self.uninvoiced[order["id"]] = None

    @staticmethod
    def dispatchable(order: dict[str, Any]) -> list[tuple[dict[str, Any], int | float]]:
        return [
            (line, line["quantity"] - line["dispatched"])
            for line in order["order_lines"]
            if line["sku"] and not line["on_hold"] and line["quantity"] > line["dispatched"]
        ]

    def add_dispatch(
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
            "id": self.new_id("di"),
            "order_id": order["id"],
            "order_number": order["number"],
            "created": iso(created),
            "comments": self.maybe(self.one(("Sent by Royal Mail using Next Day Delivery", "DPD 1534 2201 99",
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
        row = self.world.row("dispatches", dispatch, created)
        (self.world.insert if insert else self.world.add)("dispatches", row)
        return row

    def add_invoice(
        self,
        orders: list[dict[str, Any]],
        customer: Customer,
        created: float,
        settle: Callable[[dict[str, Any]], None],
        insert: bool = False,
    ) -> Row:
        """Invoice whole orders (one, or two of a customer's invoiced together); `settle` records
        what was paid before the invoice is stored."""
        rng = self.rng
        self._invoice_number += 1
        invoice_day = created + self.one((0, 0, 0, -DAY, DAY, 3 * DAY))
        terms = customer.terms
        due = invoice_day + (terms[2] if terms else 0) * DAY
        deposit = (
            {"percentage": terms[3], "due_date": day(invoice_day + terms[4] * DAY)} if terms and terms[3] else None
        )
        order_lines = [line for order in orders for line in order["order_lines"]]
        for line in order_lines:
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
            for line in order_lines
        ]
        net = round(sum(order["net_total"] for order in orders), 2)
        gross = round(sum(order["gross_total"] for order in orders), 2)
        if rng.random() < 0.03:
            # A custom invoice line: connected to no order line.
            fee = self.money(1, 15)
            tax = self.tax_rates[0]
            tax_amount = round(fee * tax[2] / 100, 2)
            lines.append({"sku": "", "name": "Handling fee", "options": "", "quantity": 1, "unit_price": fee,
                          "sub_total": fee, "tax_rate": tax[2], "tax_amount": tax_amount, "order_line_id": None,
                          "tax_rate_id": tax[0]})  # fmt: skip
            net, gross = round(net + fee, 2), round(gross + fee + tax_amount, 2)
        for order in orders:
            if order["status"] in ("new", "released"):
                order["status"] = "invoiced"
        first = orders[0]
        invoice = {
            "id": self.new_id("iv"),
            "number": f"{self.profile.invoice_prefix}{self._invoice_number}",
            "invoice_date": day(invoice_day),
            "customer_id": customer.id,
            "company_name": first["company_name"],
            "email_address": customer.emails["invoices"],
            "orders": [{"id": order["id"], "number": order["number"]} for order in orders],
            "payment_terms": terms[1] if terms else None,
            # In the attribute list, not in the examples.
            "payment_terms_id": terms[0] if terms else None,
            "due_date": day(due),
            "paid": False,
            "proforma": rng.random() < 0.05,
            "deposit": deposit,
            "comments": self.maybe("Thank you for your order!", empty=0.6),
            "address": first["billing_address"],
            "invoice_lines": lines,
            # A customer's orders share its price list's currency.
            "currency": first["currency"],
            "net_total": net,
            "gross_total": gross,
            "payments": [],
        }
        settle(invoice)
        if not invoice["paid"]:
            self.unpaid[invoice["id"]] = None
        row = self.world.row("invoices", invoice, created)
        (self.world.insert if insert else self.world.add)("invoices", row)
        return row

    def pay_deposit(self, invoice: dict[str, Any], orders: list[dict[str, Any]], when: float) -> None:
        """Pay the deposit the invoice's payment terms ask for; none asked, nothing paid."""
        if invoice["deposit"]:
            self.pay(invoice, orders, when, round(invoice["gross_total"] * invoice["deposit"]["percentage"] / 100, 2))

    def pay_rest(self, invoice: dict[str, Any], orders: list[dict[str, Any]], when: float) -> None:
        owed = round(invoice["gross_total"] - sum(p["amount"] for p in invoice["payments"]), 2)
        self.pay(invoice, orders, when, owed)

    def pay(self, invoice: dict[str, Any], orders: list[dict[str, Any]], when: float, amount: int | float) -> None:
        """Record a payment; paid in full marks the orders' invoiced lines paid (those still there)."""
        rng = self.rng
        if rng.random() < 0.6:
            payment = {"amount": amount, "payment_date": day(when), "source": "card",
                       "description": f"Visa ending {rng.randint(1000, 9999)}",
                       "reference": "pi_" + self.token(24, _GATEWAY_CHARS)}  # fmt: skip
        else:
            payment = {"amount": amount, "payment_date": day(when), "source": "manual",
                       "description": self.maybe("Bank transfer", empty=0.3), "reference": ""}  # fmt: skip
        invoice["payments"].append(payment)
        paid = round(sum(p["amount"] for p in invoice["payments"]), 2)
        if paid >= invoice["gross_total"]:
            self.mark_paid(invoice, orders)

    def mark_paid(self, invoice: dict[str, Any], orders: list[dict[str, Any]]) -> None:
        """Paid in full. Called alone, with no payment recorded: a payment taken outside Orderspace
        (a bank transfer reconciled in the accounts) is marked this way, as the reference's example
        `"paid": true, "payments": []` shows."""
        invoice["paid"] = True
        lines = {line["order_line_id"] for line in invoice["invoice_lines"]}
        for order in orders:
            for line in order["order_lines"]:
                if line["id"] in lines:
                    line["paid"] = line["invoiced"]
