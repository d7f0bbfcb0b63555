"""tap-orderspace as an Airbyte source: the same tap, run in-process, speaking the Airbyte protocol.

Only the edges differ from the Singer path: `inputs` reads Airbyte's config, configured catalog and
state and hands the tap a Singer catalog and state; `writer` turns the tap's Singer messages into
Airbyte messages; `entrypoint` is the `source-orderspace` command. Streams, the HTTP client, change
capture, reconciliation, pacing and the record checks are the tap's own.
"""
