"""The SDK internals the tap relies on are all listed, and the installed singer-sdk still has them."""

from __future__ import annotations

import importlib
import inspect
import re
import typing as t
from pathlib import Path

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams._state import StreamStateManager

from tap_orderspace.sdk_internals import SDK_INTERNALS, SdkInternal
from tap_orderspace.stream import OrderspaceStream
from tap_orderspace.tap import TapOrderspace

PACKAGE = Path(__file__).resolve().parent.parent / "tap_orderspace"
SOURCES = {
    path.name: path.read_text(encoding="utf-8") for path in PACKAGE.glob("*.py") if path.name != "sdk_internals.py"
}
LISTED = {(entry.name, entry.used_in) for entry in SDK_INTERNALS}


def resolve(dotted: str) -> t.Any:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: t.Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(dotted)


def bare_signature(function: t.Any) -> str:
    signature = inspect.signature(function)
    parameters = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def has_data_attribute(owner: t.Any, name: str) -> bool:
    """Instance attributes set in `__init__` are not on the class: make one where that is cheap."""
    if hasattr(owner, name):
        return True
    if owner is StreamStateManager:
        return hasattr(StreamStateManager(stream_name="probe", tap_state={}), name)
    return False


@pytest.mark.parametrize("entry", SDK_INTERNALS, ids=lambda entry: entry.qualified_name)
def test_the_installed_sdk_still_has_it(entry: SdkInternal) -> None:
    try:
        owner = resolve(entry.owner)
    except (ImportError, AttributeError):
        pytest.fail(
            f"singer-sdk no longer has {entry.owner}, which holds {entry.qualified_name} (see sdk_internals.py)"
        )
    if entry.signature is None:
        for caller in entry.called_by:
            # Data attributes the SDK sets in a constructor are checked there.
            if caller.endswith(".__init__") and f".{entry.name}" in inspect.getsource(resolve(caller)):
                return
        assert has_data_attribute(owner, entry.name), f"singer-sdk no longer has {entry.qualified_name}"
        return
    assert hasattr(owner, entry.name), f"singer-sdk no longer has {entry.qualified_name}"
    found = bare_signature(getattr(owner, entry.name))
    assert found == entry.signature, (
        f"singer-sdk changed the signature of {entry.qualified_name}: {found}, recorded {entry.signature} "
        f"(used in tap_orderspace/{entry.used_in}: {entry.why})"
    )


@pytest.mark.parametrize(
    "entry", [entry for entry in SDK_INTERNALS if entry.called_by], ids=lambda entry: entry.qualified_name
)
def test_the_sdk_still_uses_what_the_tap_overrides_or_sets(entry: SdkInternal) -> None:
    for caller in entry.called_by:
        source = inspect.getsource(resolve(caller))
        assert re.search(rf"\.{entry.name}\b", source), (
            f"{caller} no longer uses {entry.qualified_name}: what tap_orderspace/{entry.used_in} does with it "
            "is bypassed"
        )


@pytest.mark.parametrize(
    "entry", [entry for entry in SDK_INTERNALS if entry.use == "overrides"], ids=lambda entry: entry.qualified_name
)
def test_the_overrides_take_what_the_sdk_passes(entry: SdkInternal) -> None:
    tap_class = TapOrderspace if issubclass(resolve(entry.owner), Tap) else OrderspaceStream
    assert bare_signature(getattr(tap_class, entry.name)) == entry.signature, entry.qualified_name


def _external_private_names(source: str) -> set[str]:
    """`._name` uses and `def _name` overrides that reach into the SDK, as this module's source shows them."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("from ", "import ")))
    defined_here = set(re.findall(r"\bdef (_\w+)", source)) | set(re.findall(r"self\.(_\w+)\s*(?::[^=\n]+)?=", source))
    defined_here |= set(re.findall(r"^\s+(_\w+)\s*(?::[^=\n]+)?=", source, flags=re.MULTILINE))
    found = set()
    for name in set(re.findall(r"\.(_[a-z]\w*)", code)) | set(re.findall(r"\bdef (_[a-z]\w*)", code)):
        on_sdk = any(hasattr(base, name) for base in (Stream, Tap, PluginBase))
        if on_sdk or (name not in defined_here and not name.startswith("__")):
            found.add(name)
    found |= set(re.findall(r"state_manager\.(\w+)", source))
    found |= set(re.findall(r"from singer_sdk(?:\.\w+)*\._\w+(?:\.\w+)* import (\w+)", source))
    found |= set(re.findall(r"from singer_sdk\.plugin_base import (\w+)", source))
    found |= set(re.findall(r"\bself\.(forced_replication_method)\b", source))
    return found


def _defined_anywhere_in_the_tap(name: str) -> bool:
    return any(
        re.search(rf"\bdef {name}\b|\bself\.{name}\s*=|^\s+{name}\s*[:=]", text, re.M) for text in SOURCES.values()
    )


def test_every_internal_the_tap_uses_is_listed() -> None:
    unlisted = []
    for module, source in SOURCES.items():
        for name in sorted(_external_private_names(source)):
            overrides_sdk = any(hasattr(base, name) for base in (Stream, Tap, PluginBase))
            if not overrides_sdk and _defined_anywhere_in_the_tap(name) and name != "forced_replication_method":
                continue  # the tap's own helper, called across its modules
            if (name, module) not in LISTED:
                unlisted.append(f"{name} in tap_orderspace/{module}")
    assert not unlisted, f"add to tap_orderspace/sdk_internals.py: {', '.join(unlisted)}"


def test_every_listed_internal_is_still_used() -> None:
    stale = [
        entry.qualified_name for entry in SDK_INTERNALS if not re.search(rf"\b{entry.name}\b", SOURCES[entry.used_in])
    ]
    assert not stale, f"no longer used by the tap, remove from sdk_internals.py: {stale}"
