"""The tap's settings: their schema, their defaults, and every check a setting must pass.

Problems are described in sentences that name the setting and never quote its value (a
secret, possibly); the tap refuses them before any request, when it validates its settings.
"""

from __future__ import annotations

import math
import typing as t
import urllib.parse

from singer_sdk import typing as th
from singer_sdk.plugin_base import JSONSchemaValidator

from tap_orderspace.http_client import header_value_is_sendable
from tap_orderspace.state import parse_utc

DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_RECONCILE_INTERVAL_DAYS = 7
DEFAULT_MAX_RETRY_AFTER_SECONDS = 900
# Bounds that keep every setting a number the tap can compute with (a timeout of 10^30
# seconds overflows the socket layer; a year is plenty for any of them).
MAX_SECONDS = 366 * 24 * 3600
MAX_DAYS = 100 * 366
# Settings whose null means "not set"; any other null is refused rather than read as a number.
NULLABLE_SETTINGS = frozenset({"start_date", "user_agent"})

CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "client_id",
        th.StringType(nullable=False),
        required=True,
        title="Client ID",
        description="Client ID of the Orderspace private integration (Settings > Integrations).",
    ),
    th.Property(
        "client_secret",
        th.StringType(nullable=False),
        required=True,
        secret=True,
        title="Client Secret",
        description="Client secret of the Orderspace private integration.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType(nullable=True),
        title="Start Date",
        description=(
            "Earliest history to extract for orders, dispatches and invoices (ISO 8601 date-time). "
            "Customers, products, stock and reference tables are always extracted in full on a first sync."
        ),
    ),
    th.Property(
        "api_url",
        th.URIType(nullable=False),
        default="https://api.orderspace.com/v1",
        title="API URL",
        description="Base URL of the Orderspace API.",
    ),
    th.Property(
        "auth_url",
        th.URIType(nullable=False),
        default="https://identity.orderspace.com/oauth/token",
        title="Token URL",
        description="OAuth token endpoint for the client-credentials grant.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(nullable=False, minimum=1, maximum=200),
        default=200,
        title="Page Size",
        description="Records per request (1-200); 200 needs a quarter of the requests of the API's default 50.",
    ),
    th.Property(
        "max_requests_per_minute",
        th.IntegerType(nullable=False, minimum=0, maximum=1_000_000),
        default=60,
        title="Max Requests per Minute",
        description=(
            "Requests sent in any 60 seconds, across all streams (Orderspace allows 60). "
            "0 turns pacing off, for local sandboxes only."
        ),
    ),
    th.Property(
        "lookback_window_days",
        th.IntegerType(nullable=False, minimum=0, maximum=MAX_DAYS),
        default=DEFAULT_LOOKBACK_DAYS,
        title="Lookback Window (days)",
        description=(
            "Customers and dispatches created this many days before the bookmark are read again on every "
            "incremental run, to catch edits to recent records. Orders and invoices need no lookback: "
            "change capture re-reads the open ones, whatever their age."
        ),
    ),
    th.Property(
        "reconcile_interval_days",
        th.IntegerType(nullable=False, minimum=0, maximum=MAX_DAYS),
        default=DEFAULT_RECONCILE_INTERVAL_DAYS,
        title="Reconcile Interval (days)",
        description=(
            "Every this many days, customers, orders, invoices, products and stock levels are read in full: "
            "records Orderspace no longer has are marked deleted in the warehouse, and edits no filter "
            "reveals arrive. 0 reconciles on every run."
        ),
    ),
    th.Property(
        "max_retry_after_seconds",
        th.IntegerType(nullable=False, minimum=1, maximum=MAX_SECONDS),
        default=DEFAULT_MAX_RETRY_AFTER_SECONDS,
        title="Max Retry-After (seconds)",
        description="The longest wait a throttled request (HTTP 429) is granted, whatever Retry-After asks.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(nullable=False, minimum=1, maximum=MAX_SECONDS),
        default=60,
        title="Request Timeout (seconds)",
        description="Seconds to wait for an answer before retrying the request.",
    ),
    th.Property(
        "user_agent",
        th.StringType(nullable=True),
        title="User Agent",
        description="User-Agent header sent with every request (default: tap-orderspace/<version>).",
    ),
).to_dict()


def defaults(config_schema: dict[str, t.Any]) -> dict[str, t.Any]:
    return {name: spec["default"] for name, spec in config_schema["properties"].items() if "default" in spec}


def problems_in(config: dict[str, t.Any], full_schema: dict[str, t.Any]) -> list[str]:
    """Every problem with `config`, as sentences; the defaults of missing settings are filled in.

    `full_schema` is the tap's schema with the SDK's built-in settings; the tap's own
    (`CONFIG_SCHEMA`) are also checked for what a JSON schema cannot say.
    """
    # The SDK makes every setting nullable, and a JSON Schema bound does not refuse
    # NaN: both are refused here, before a stream could compute with them.
    problems = _null_or_not_finite(config, CONFIG_SCHEMA)
    if not problems:
        # The SDK's validator also fills in each setting's default.
        problems = [_describe_setting_error(error) for error in JSONSchemaValidator(full_schema).iter_errors(config)]
    if not problems:
        problems += _semantic_problems(config)
    return problems


def _null_or_not_finite(config: t.Mapping[str, t.Any], own_schema: dict[str, t.Any]) -> list[str]:
    problems = []
    for name in own_schema["properties"]:
        value = config.get(name, 0)
        if value is None and name not in NULLABLE_SETTINGS:
            problems.append(f"setting '{name}' is null: give it a value, or leave it out for its default")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"setting '{name}' must be a finite number")
    return problems


def _semantic_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """What a schema cannot say: URLs that can be requested, headers that can be sent."""
    problems = []
    if config.get("start_date"):
        try:
            parse_utc(config["start_date"])
        except (TypeError, ValueError):
            problems.append("setting 'start_date' is not an ISO 8601 date-time, e.g. 2024-01-01T00:00:00Z")
    for setting in ("api_url", "auth_url"):
        value = config.get(setting)
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or not header_value_is_sendable(value or "")
            or not _port_is_valid(parts)
        ):
            problems.append(f"setting '{setting}' must be an http(s):// URL with a host")
    user_agent = config.get("user_agent")
    if user_agent is not None and not (isinstance(user_agent, str) and header_value_is_sendable(user_agent)):
        problems.append("setting 'user_agent' must be printable ASCII text on one line (it is an HTTP header)")
    for setting in ("client_id", "client_secret"):
        value = config.get(setting)
        if isinstance(value, str) and not value.strip():
            problems.append(f"setting '{setting}' is empty")
    return problems


def _port_is_valid(parts: urllib.parse.SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - reading it is the check: out of range raises
    except ValueError:
        return False
    return True


def _describe_setting_error(error: t.Any) -> str:
    """A validation error as a sentence naming the setting, never its value."""
    setting = ".".join(str(part) for part in error.absolute_path) or "config"
    rule = error.validator
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"setting '{missing}' is required"
    if rule == "type":
        expected = error.validator_value
        return f"setting '{setting}' must be of type {expected if isinstance(expected, str) else ' or '.join(expected)}"
    if rule in ("minimum", "maximum"):
        bound = "at least" if rule == "minimum" else "at most"
        return f"setting '{setting}' must be {bound} {error.validator_value}"
    if rule == "format":
        return f"setting '{setting}' must be a valid {error.validator_value}"
    if rule == "additionalProperties":
        return "unknown setting(s) given"
    return f"setting '{setting}' is invalid ({rule})"
