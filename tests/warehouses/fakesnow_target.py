"""The real meltanolabs-target-snowflake, pointed at a fakesnow server instead of a Snowflake account.

Run as the `target-snowflake-fakesnow` loader (meltano.yml). Everything the loader does is its own
(type mapping, table and column DDL, batching to gzipped JSON lines, PUT, COPY and MERGE SQL) except
what fakesnow 0.12 cannot take, which is changed here and only here (docs/warehouses.md):

- the connection also gets `host` and `port` (from FAKESNOW_HOST and FAKESNOW_PORT) and `protocol=http`,
  which the loader has no setting for;
- files are PUT to a named stage in the target schema, not the user stage `@~` (fakesnow has none);
- fakesnow reads a staged JSON file as one column named `json`, not `$1`, so the COPY's
  `$1:field::TYPE` casts read `json:field::TYPE`;
- fakesnow cannot SELECT from a stage, so an upsert first COPYs the batch into a scratch table and
  runs the loader's own MERGE from that table, ordering duplicates by `rowid` (SEQ8() fails there);
- fakesnow has no REMOVE and no DROP FILE FORMAT: staged files and the per-stream file formats are
  left behind (each batch has its own folder, each sink its own format).
"""

from __future__ import annotations

import os
import typing as t
from uuid import uuid4

from sqlalchemy import text
from target_snowflake.connector import SnowflakeConnector
from target_snowflake.sinks import SnowflakeSink
from target_snowflake.target import TargetSnowflake

STAGE = "TARGET_SNOWFLAKE_STAGE"
USER_STAGE = "'@~/target-snowflake/{sync_id}'"


class FakesnowConnector(SnowflakeConnector):
    def get_connect_args(self) -> dict[str, t.Any]:
        args = super().get_connect_args()
        # The loader has no settings for these, and Meltano cannot add settings to an inherited plugin.
        args.update(host=os.environ["FAKESNOW_HOST"], port=int(os.environ["FAKESNOW_PORT"]), protocol="http")
        # fakesnow's COPY needs a current schema even when every name is qualified.
        args["schema"] = self.config["default_target_schema"]
        # fakesnow answers SQL it cannot run with HTTP 500, which the connector retries for ever.
        args["network_timeout"] = 60
        return args

    def _stage(self) -> str:
        return f"{self.config['database']}.{self.config['default_target_schema']}.{STAGE}".upper()

    def _from_stage(self, statement: t.Any, sync_id: str) -> str:
        return str(statement).replace(USER_STAGE.format(sync_id=sync_id), f"@{self._stage()}/{sync_id}")

    def put_batches_to_stage(self, sync_id: str, files: t.Sequence[str]) -> None:
        with self._connect() as conn, conn.begin():
            conn.execute(text(f"create stage if not exists {self._stage()}"))
            for file_uri in files:
                conn.execute(text(f"put '{file_uri}' @{self._stage()}/{sync_id}"))

    def _get_copy_statement(self, full_table_name, schema, sync_id, file_format):  # type: ignore[no-untyped-def]
        statement, kwargs = super()._get_copy_statement(full_table_name, schema, sync_id, file_format)
        return text(self._from_stage(statement, sync_id).replace("$1:", "json:")), kwargs

    def merge_from_stage(self, full_table_name, schema, sync_id, file_format, key_properties):  # type: ignore[no-untyped-def]
        database, schema_name, table = self.parse_full_table_name(full_table_name)
        scratch = f'"{database}"."{schema_name}"."{table}_{uuid4().hex.upper()}"'
        merge, _ = self._get_merge_from_stage_statement(full_table_name, schema, sync_id, file_format, key_properties)
        staged = f"{USER_STAGE.format(sync_id=sync_id)}(file_format => {file_format})"
        assert staged in str(merge) and "SEQ8()" in str(merge), "the loader's MERGE changed: review this wrapper"
        # The scratch table's columns are typed already: `$1:col::TYPE as col` becomes `col::TYPE as col`.
        merge_sql = str(merge).replace(staged, scratch).replace("SEQ8()", "rowid").replace("$1:", "")
        copy, _ = self._get_copy_statement(scratch, schema, sync_id, file_format)
        with self._connect() as conn, conn.begin():
            conn.execute(text(f"create or replace table {scratch} like {full_table_name}"))
            try:
                conn.execute(copy)
                row = conn.execute(text(merge_sql)).fetchone()
            finally:
                conn.execute(text(f"drop table if exists {scratch}"))
        return sum(row) if row is not None else 0

    def remove_staged_files(self, sync_id: str) -> None:
        return

    def drop_file_format(self, file_format: str) -> None:
        return


class FakesnowSink(SnowflakeSink):
    connector_class = FakesnowConnector


class TargetSnowflakeFakesnow(TargetSnowflake):
    name = "target-snowflake-fakesnow"
    default_sink_class = FakesnowSink


def main() -> None:
    TargetSnowflakeFakesnow.cli()


if __name__ == "__main__":
    main()
