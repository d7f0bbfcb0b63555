"""The real z3-target-bigquery, pointed at a local bqemulator server instead of Google's API.

Run as the `target-bigquery-emulator` loader (meltano.yml). The loader's only way to a BigQuery API
is `target_bigquery.core.bigquery_client_factory`, which builds a `google.cloud.bigquery.Client`
from the configured service-account key and has no endpoint setting. This module replaces that
factory, and only that, with the same construction plus `client_options.api_endpoint` read from
BQEMULATOR_API_ENDPOINT (Meltano cannot add settings to an inherited plugin, hence the environment).
Everything else (schema resolution, table DDL, streaming inserts, the temporary table and MERGE of an
upsert, state) is the loader's own (docs/warehouses.md).

One more change, for time only: the loader sleeps a fixed 5 s after creating each table and 2.5 s
more before an upsert, waiting for Google's eventual consistency; the emulator is consistent at once,
and 17 streams would sleep over three minutes a run. Those sleeps in `target_bigquery.core` return at
once; retries and their waits elsewhere are the loader's own.

Only `method: streaming_insert` goes through this factory alone: `storage_write_api` builds a gRPC
client of its own (storage_client_factory), `gcs_stage` needs Cloud Storage, and neither is wrapped.
"""

from __future__ import annotations

import functools
import json
import os
import time
import types

from google.api_core.client_options import ClientOptions
from google.cloud import bigquery
from target_bigquery import core, streaming_insert
from target_bigquery.target import TargetBigQuery


@functools.cache
def emulator_client_factory(creds: core.BigQueryCredentials) -> bigquery.Client:
    """The loader's own factory (core.bigquery_client_factory), with the emulator's endpoint."""
    options = ClientOptions(api_endpoint=os.environ["BQEMULATOR_API_ENDPOINT"])
    if creds.path:
        return bigquery.Client.from_service_account_json(creds.path, project=creds.project, client_options=options)
    if creds.json:
        info = json.loads(creds.json)
        return bigquery.Client.from_service_account_info(info, project=creds.project, client_options=options)
    raise SystemExit("target-bigquery-emulator: set credentials_path or credentials_json (a throwaway key will do)")


def _no_wait(seconds: float) -> None:
    return


def main() -> None:
    # `core` uses `time` for these sleeps and for table names (strftime): a copy without the sleep.
    core.time = types.SimpleNamespace(**{**vars(time), "sleep": _no_wait})  # type: ignore[assignment]
    # Every module that imported the factory by name gets the wrapped one.
    core.bigquery_client_factory = emulator_client_factory
    streaming_insert.bigquery_client_factory = emulator_client_factory
    TargetBigQuery.cli()


if __name__ == "__main__":
    main()
