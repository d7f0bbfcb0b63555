"""Queries for the tests, answered through the real Snowflake connector (fakesnow's server behind it).

Run by the target-snowflake-fakesnow virtualenv's python, which has the connector; the tests' own
virtualenv does not. Reads one JSON request a line on stdin, `{"sql": ..., "params": [...]}`, and
writes one JSON answer a line on stdout: `{"rows": [[...], ...]}` or `{"error": "..."}`. Values
that JSON lacks (dates, times, decimals) are written as text.

    python snowflake_query.py HOST PORT [DATABASE]
"""

from __future__ import annotations

import json
import sys

import snowflake.connector


def main(host: str, port: str, database: str | None = None) -> None:
    connection = snowflake.connector.connect(
        account="fakesnow",
        user="fake",
        password="snow",
        host=host,
        port=int(port),
        protocol="http",
        database=database,
        # fakesnow answers SQL it cannot run with HTTP 500, which the connector would retry for ever.
        network_timeout=60,
    )
    cursor = connection.cursor()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            cursor.execute(request["sql"], request.get("params") or None)
            answer = {"rows": [list(row) for row in cursor.fetchall()]}
        except snowflake.connector.Error as exc:
            answer = {"error": str(exc)}
        print(json.dumps(answer, default=str), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
