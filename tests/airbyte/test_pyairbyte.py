"""PyAirbyte, an independent client, drives `source-orderspace` against the sandbox into its DuckDB cache."""

from __future__ import annotations

import os
import subprocess
import typing as t
from pathlib import Path

import pytest
from airbyte_support import ROOT, SOURCE, PyAirbyte, list_requests, require_airbyte_venv, source_config
from orderspace_sandbox import Sandbox

pytestmark = pytest.mark.airbyte

SECOND_READ_BUDGET = 0.75


@pytest.fixture
def pyairbyte(tmp_path: Path) -> PyAirbyte:
    return PyAirbyte(require_airbyte_venv(), tmp_path)


def _in(ids: t.Iterable[str]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in ids) + ")"


def test_spec_marks_the_secret(pyairbyte: PyAirbyte) -> None:
    spec = pyairbyte.drive("spec")["spec"]
    properties = spec["properties"]
    assert properties["client_secret"]["airbyte_secret"] is True
    assert not properties["client_id"].get("airbyte_secret")
    assert set(spec["required"]) == {"client_id", "client_secret"}
    assert {"start_date", "page_size", "reconcile_interval_days"} <= set(properties)


def test_check_passes_and_fails_as_it_should(pyairbyte: PyAirbyte, sandbox: Sandbox) -> None:
    assert pyairbyte.drive("check", source_config(sandbox)) == {"ok": True}
    sandbox.reset_stats()
    failed = pyairbyte.drive("check", source_config(sandbox, client_secret="wrong-secret-7f3a"))
    assert failed["ok"] is False
    assert "refused the client credentials" in failed["error"]
    assert "wrong-secret-7f3a" not in failed["error"]
    assert sandbox.stats()["requests_total"] == 0  # no token: no API request
    assert pyairbyte.invalid_lines() == []


def test_first_and_second_read_with_stored_state(pyairbyte: PyAirbyte, sandbox: Sandbox) -> None:
    config = source_config(sandbox)
    sandbox.reset_stats()
    first = pyairbyte.drive("read", config)
    first_lists = list_requests(sandbox)
    assert "error" not in first, first
    totals = sandbox.totals()
    assert {name: first["counts"].get(name) for name in totals} == totals, first
    assert first["counts"]["deleted_records"] == 0
    assert first["counts"]["reconciliations"] > 0

    changes = sandbox.mutate(new_orders=6, release_old_orders=3, cancel_old_orders=3, pay_old_invoices=4)
    new_orders = changes["created"]["orders"]
    changed_orders = sorted(set(changes["updated"]["orders"]) - set(new_orders))
    paid_invoices = changes["updated"]["invoices"]
    assert new_orders and changed_orders and paid_invoices
    expected_status = {record["id"]: record["status"] for record in sandbox.records("orders")}
    sandbox.reset_stats()
    second = pyairbyte.drive(
        "read",
        config,
        queries={
            # Ids the sandbox made: no quoting needed.
            "orders": f"select id, status from orderspace.orders where id in {_in(new_orders + changed_orders)}",  # noqa: S608
            "invoices": f"select id, paid from orderspace.invoices where id in {_in(paid_invoices)}",  # noqa: S608
        },
    )
    second_lists = list_requests(sandbox)
    assert "error" not in second, second
    assert dict(map(tuple, second["queries"]["orders"])) == {i: expected_status[i] for i in new_orders + changed_orders}
    assert sorted(second["queries"]["invoices"]) == sorted([i, True] for i in paid_invoices)
    totals = sandbox.totals()
    assert {name: second["counts"][name] for name in totals} == totals
    assert second_lists <= SECOND_READ_BUDGET * first_lists, (first_lists, second_lists)
    assert pyairbyte.invalid_lines() == []


def test_deletions_are_marked(pyairbyte: PyAirbyte, sandbox: Sandbox) -> None:
    """A 404 on a retrieve marks the row at once; a reconciling read tells every deleted row apart."""
    first = pyairbyte.drive("read", source_config(sandbox))
    assert "error" not in first, first
    open_orders = [r["id"] for r in sandbox.records("orders") if r["status"] not in ("fulfilled", "cancelled")]
    for order_id in open_orders[:2]:
        sandbox.delete("orders", order_id)
    gone = [*open_orders[:2], *sandbox.mutate(delete_orders=3)["deleted"]["orders"]]
    gone_open = set(open_orders[:2]) | (set(gone) & set(open_orders))

    marked = pyairbyte.drive(
        "read",
        source_config(sandbox),
        queries={
            "deleted_records": "select stream, id from orderspace.deleted_records",
            "cdc": "select id from orderspace.orders where _ab_cdc_deleted_at is not null",
        },
    )
    assert sorted(map(tuple, marked["queries"]["deleted_records"])) == sorted(("orders", i) for i in gone_open)
    assert sorted(row[0] for row in marked["queries"]["cdc"]) == sorted(gone_open)

    # The query of docs/airbyte.md: rows extracted before the stream's last complete full read began.
    reconciled = pyairbyte.drive(
        "read",
        source_config(sandbox, reconcile_interval_days=0),
        queries={
            "deleted": (
                "select o.id from orderspace.orders o where o._airbyte_extracted_at < ("
                "select max(cast(r.started_at as timestamptz)) from orderspace.reconciliations r "
                "where r.stream = 'orders')"
            ),
        },
    )
    assert sorted(row[0] for row in reconciled["queries"]["deleted"]) == sorted(set(gone))
    live_orders = sandbox.totals()["orders"]
    assert reconciled["counts"]["orders"] - len(set(gone)) == live_orders
    assert pyairbyte.invalid_lines() == []


def test_wrong_secret_ends_in_a_config_error(pyairbyte: PyAirbyte, sandbox: Sandbox) -> None:
    answer = pyairbyte.drive("read", source_config(sandbox, client_secret="wrong-secret-7f3a"))
    assert "error" in answer
    lines = "\n".join(path.read_text(encoding="utf-8") for path in pyairbyte.lines_files if path.exists())
    assert '"failure_type":"config_error"' in lines
    assert "Traceback" not in lines
    assert "wrong-secret-7f3a" not in lines
    assert pyairbyte.invalid_lines() == []


def test_the_five_lines_of_the_docs_read_orders(tmp_path: Path) -> None:
    python = require_airbyte_venv()
    page = (ROOT / "docs" / "airbyte.md").read_text(encoding="utf-8")
    code = page.split("## From PyAirbyte, in five lines", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) == 5
    with Sandbox(seed=7, orders=30, rate_limit=None) as small:
        config = source_config(small)
        code = code.replace('{"client_id": "your-client-id", "client_secret": "your-client-secret"}', repr(config))
        code = code.replace('local_executable="source-orderspace"', f'local_executable="{SOURCE}"')
        env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1", "NO_COLOR": "1"}
        done = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert str(config["client_id"]) in code
        order_ids = [record["id"] for record in small.records("orders")]
    assert sum(order_id in done.stdout for order_id in order_ids) == 5  # the head() of the cached orders
