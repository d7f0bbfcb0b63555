"""The dbt project's structure holds: marts build from staging and intermediate models only, and the
values several models and tests share (order statuses, ageing buckets) are written once, as vars."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

TRANSFORM = Path(__file__).resolve().parent.parent / "transform"
MODELS = TRANSFORM / "models"
REF = re.compile(r"""ref\(\s*['"](\w+)['"]\s*\)""")


def sql_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (MODELS / folder).glob("*.sql"))


def test_marts_build_from_staging_and_intermediate_models_only() -> None:
    marts = sql_files("marts")
    assert marts
    for path in marts:
        refs = set(REF.findall(path.read_text(encoding="utf-8")))
        assert refs, f"{path.name} refers to no model"
        other = {name for name in refs if not name.startswith(("stg_orderspace__", "int_orderspace__"))}
        assert not other, f"{path.name} builds on {sorted(other)}, not on staging or intermediate models"


def test_intermediate_models_build_from_staging_and_each_other() -> None:
    for path in sql_files("intermediate"):
        refs = set(REF.findall(path.read_text(encoding="utf-8")))
        assert all(name.startswith(("stg_orderspace__", "int_orderspace__")) for name in refs), (path.name, refs)


def test_statuses_and_ageing_buckets_are_written_once_in_the_vars() -> None:
    project = yaml.safe_load((TRANSFORM / "dbt_project.yml").read_text(encoding="utf-8"))
    variables = project["vars"]
    assert set(variables["orderspace_open_order_statuses"]) < set(variables["orderspace_order_statuses"])
    labels = [bucket["label"] for bucket in variables["orderspace_ageing_buckets"]]
    assert len(labels) == len(set(labels))
    # No model, macro or test spells a status list or a bucket label itself.
    spelled = re.compile(r"'part_fulfilled'|'preorder'|'released'|'1-30'|'over 90'|'61-90'")
    for path in sorted([*MODELS.rglob("*.sql"), *MODELS.rglob("*.yml"), *(TRANSFORM / "macros").glob("*.sql")]):
        found = spelled.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(TRANSFORM)} spells {found}: read it from dbt_project.yml's vars"
