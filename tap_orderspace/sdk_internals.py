"""Every singer-sdk name the tap uses that is not the SDK's public API, in one place.

singer-sdk may rename or drop any of these in a minor release without a deprecation.
`tests/test_sdk_internals.py` fails, naming the name, when the installed SDK no longer has
one, has changed its parameters, or (for a hook the tap overrides) no longer calls it.
Raising the `singer-sdk` pin means running that test first, then reading each entry below.

Each entry says where the tap uses the name and why the public API (singer-sdk 0.54) does
not serve. Signatures are recorded without annotations: a renamed type alias is no break,
a renamed, added or removed parameter is.

This module imports nothing from the SDK or the tap, so listing a name here changes
nothing at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The singer-sdk release the entries were checked against.
CHECKED_WITH = "0.54.9"


@dataclass(frozen=True)
class SdkInternal:
    """One name the tap relies on beyond the SDK's public API."""

    #: Dotted path of what holds the name: a module, or a class inside one.
    owner: str
    name: str
    #: How the tap uses it: "overrides", "calls", "imports", "reads" or "writes".
    use: str
    #: The tap module that uses it.
    used_in: str
    #: Why the public API does not serve, in one line.
    why: str
    #: Its parameters as `str(inspect.signature(...))` without annotations; None for data.
    signature: str | None = None
    #: For a hook the tap overrides: SDK functions (dotted paths) whose source must still
    #: call it on `self`, or the override is silently bypassed.
    called_by: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.owner}.{self.name}"


SDK_INTERNALS: tuple[SdkInternal, ...] = (
    SdkInternal(
        owner="singer_sdk.Stream",
        name="_generate_record_messages",
        use="overrides",
        used_in="stream.py",
        why=(
            "the record path is the measured hot path: the public TYPE_CONFORMANCE_LEVEL still walks the "
            "selection mask per record and stamps utc_now() and the SDK's own version on every RECORD"
        ),
        signature="(self, record)",
        called_by=("singer_sdk.Stream._write_record_message",),
    ),
    SdkInternal(
        owner="singer_sdk.Stream",
        name="_increment_stream_state",
        use="overrides",
        used_in="stream.py",
        why=(
            "the SDK moves the bookmark per record to the highest replication-key value; the tap's bookmark "
            "moves only when a newest-first window is complete (state.py), and no public switch turns the SDK's off"
        ),
        signature="(self, latest_record, *, context=None)",
        called_by=("singer_sdk.Stream._sync_records",),
    ),
    SdkInternal(
        owner="singer_sdk.Stream",
        name="_write_state_message",
        use="calls",
        used_in="stream.py",
        why=(
            "a STATE after every page is what makes a killed run resume; publicly the SDK writes one every "
            "STATE_MSG_FREQUENCY records and at the stream's end, never at a page boundary"
        ),
        signature="(self)",
    ),
    SdkInternal(
        owner="singer_sdk.Stream",
        name="_write_schema_message",
        use="calls",
        used_in="stream.py",
        why=(
            "child tables and the tap's own tables (deleted_records, reconciliations) write rows while another "
            "stream syncs, so their SCHEMA must go out then; the SDK sends it only when their own sync starts"
        ),
        signature="(self)",
    ),
    SdkInternal(
        owner="singer_sdk.Stream",
        name="_write_record_message",
        use="calls",
        used_in="derived_streams.py",
        why=(
            "child rows are cut from the parent's record as it is read (no request of their own); the public "
            "child-context path would call the child's get_records once per parent record"
        ),
        signature="(self, record)",
    ),
    SdkInternal(
        owner="singer_sdk.Stream",
        name="_write_activate_version_message",
        use="calls",
        used_in="stream.py",
        why=(
            "ACTIVATE_VERSION must follow an incremental stream's periodic full read, and only once it is "
            "complete; the SDK sends it only for FULL_TABLE streams, at the start of their sync"
        ),
        signature="(self, full_table_version)",
    ),
    SdkInternal(
        owner="singer_sdk.streams._state.StreamStateManager",
        name="is_flushed",
        use="writes",
        used_in="stream.py",
        why=(
            "_write_state_message sends nothing while this is True; the tap changes the state outside "
            "records (a window closed, open ids kept), and Stream.state_manager's class is in a private module"
        ),
        called_by=("singer_sdk.Stream._write_state_message",),
    ),
    SdkInternal(
        owner="singer_sdk.helpers._catalog",
        name="pop_deselected_record_properties",
        use="imports",
        used_in="stream.py",
        why=(
            "the overridden record path must still drop deselected properties, and the SDK offers that only "
            "inside its own _generate_record_messages"
        ),
        signature="(record, schema, mask, breadcrumb=())",
    ),
    SdkInternal(
        owner="singer_sdk.Tap",
        name="_handle_termination",
        use="overrides",
        used_in="tap.py",
        why=(
            "the SDK writes a STATE from inside the SIGTERM/SIGINT handler, possibly in the middle of a RECORD "
            "line; there is no public hook for signal handling"
        ),
        signature="(self, signum, frame)",
        called_by=("singer_sdk.plugin_base.PluginBase._setup_signal_handlers",),
    ),
    SdkInternal(
        owner="singer_sdk.Tap",
        name="_validate_config",
        use="overrides",
        used_in="tap.py",
        why=(
            "the SDK's messages quote the offending value (a secret, possibly) and cannot be extended with "
            "checks a JSON schema cannot express; no public hook validates settings"
        ),
        signature="(self, *, raise_errors=True)",
        called_by=("singer_sdk.plugin_base.PluginBase.__init__",),
    ),
    SdkInternal(
        owner="singer_sdk.plugin_base.PluginBase",
        name="_config",
        use="reads",
        used_in="tap.py",
        why=(
            "the overridden _validate_config must validate, and fill defaults into, the settings dict itself; "
            "the public `config` is a read-only view of it"
        ),
        called_by=("singer_sdk.plugin_base.PluginBase.__init__",),
    ),
    SdkInternal(
        owner="singer_sdk.plugin_base",
        name="JSONSchemaValidator",
        use="imports",
        used_in="settings.py",
        why=(
            "the validator that fills in each setting's default, as the SDK's own validation does; not "
            "exported or documented, and re-making it needs jsonschema as a runtime dependency"
        ),
    ),
    SdkInternal(
        owner="singer_sdk.Stream",
        name="forced_replication_method",
        use="writes",
        used_in="stream.py",
        why=(
            "undocumented: the only way to give a stream without a replication key (invoices, products, "
            "stock) INCREMENTAL, or to honour a catalog's replication-method, as the SDK's apply_catalog does"
        ),
        called_by=("singer_sdk.Stream.__init__",),
    ),
)
