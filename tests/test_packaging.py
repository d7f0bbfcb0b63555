"""The built wheel carries the schemas: discovery works from a fresh virtual environment."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STREAMS = {
    "customers", "orders", "dispatches", "invoices", "products", "inventory_levels", "categories",
    "customer_groups", "price_lists", "payment_terms", "tax_rates", "preorder_windows",
    "order_lines", "invoice_lines", "invoice_payments", "dispatch_lines", "product_variants",
    "deleted_records", "reconciliations", "sync_runs",
}  # fmt: skip


def _clean_tree(destination: Path) -> Path:
    """The files git would commit, without any build or environment left around."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def wheel_and_environment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tree = _clean_tree(tmp_path_factory.mktemp("tree"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(tree)], check=True)
    (wheel,) = dist.glob("tap_orderspace-*.whl")
    environment = tmp_path_factory.mktemp("venv")
    venv.create(environment, with_pip=True)
    subprocess.run([environment / "bin" / "pip", "install", "--quiet", str(wheel)], check=True)
    return wheel, environment


def test_wheel_ships_every_schema(wheel_and_environment: tuple[Path, Path]) -> None:
    wheel, _ = wheel_and_environment
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"tap_orderspace/schemas/{stream}.json" for stream in STREAMS} <= set(names)


def test_discover_from_the_installed_wheel(wheel_and_environment: tuple[Path, Path], tmp_path: Path) -> None:
    _, wheel_environment = wheel_and_environment
    # Run outside the checkout so nothing can be found beside the sources.
    result = subprocess.run(
        [wheel_environment / "bin" / "tap-orderspace", "--discover"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    catalog = json.loads(result.stdout)
    assert {entry["tap_stream_id"] for entry in catalog["streams"]} == STREAMS
    orders = next(entry for entry in catalog["streams"] if entry["tap_stream_id"] == "orders")
    assert orders["key_properties"] == ["id"]
    assert "order_lines" in orders["schema"]["properties"]
