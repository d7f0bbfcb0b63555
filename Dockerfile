# source-orderspace: tap-orderspace as an Airbyte source (docs/airbyte.md).
#   docker build -t tap-orderspace/source-orderspace:0.1.0 .
#   docker run --rm tap-orderspace/source-orderspace:0.1.0 spec
FROM python:3.11-slim

WORKDIR /airbyte/integration_code
# Only what the wheel is built from (.dockerignore keeps the rest out of the context).
COPY pyproject.toml README.md LICENSE ./
COPY tap_orderspace ./tap_orderspace
COPY schemas ./schemas
RUN pip install --no-cache-dir . \
    && useradd --uid 1000 --create-home airbyte

# Airbyte runs the image with `spec`, `check`, `discover` or `read` and their file arguments,
# and reads AIRBYTE_ENTRYPOINT to call the same command itself.
USER airbyte
ENV AIRBYTE_ENTRYPOINT="source-orderspace"
ENTRYPOINT ["source-orderspace"]

LABEL io.airbyte.name=tap-orderspace/source-orderspace
LABEL io.airbyte.version=0.2.0
