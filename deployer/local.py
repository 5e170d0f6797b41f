"""The embedded default Postgres: a PostgreSQL 15 cluster with pg_cron under .deployer/.

The server runs as the current user, or as `postgres` when the current user is root
(Postgres refuses to run as root). pg_cron is preloaded, lives in the `postgres`
database and connects back through the socket directory, so scheduled jobs really run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deployer.db import connect
from deployer.errors import LocalClusterError

PACKAGES = "postgresql-15 postgresql-15-cron postgresql-15-plpgsql-check"
DEFAULT_PORT = 54329
DATABASE = "postgres"
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'pg_cron'",
    "cron.database_name": f"'{DATABASE}'",
    "max_connections": "200",
    "timezone": "'UTC'",
    # A throwaway development cluster: durability is traded for speed.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def bindir() -> Path:
    """The PostgreSQL 15 server binaries ($DEPLOYER_PG_BINDIR, else Debian's place)."""
    candidate = Path(os.environ.get("DEPLOYER_PG_BINDIR") or "/usr/lib/postgresql/15/bin")
    if (candidate / "postgres").is_file() and (candidate / "initdb").is_file():
        return candidate
    raise LocalClusterError(f"PostgreSQL 15 server not found in {candidate}: install it with `apt-get install {PACKAGES}`")


def _check_pg_cron(bins: Path) -> None:
    out = subprocess.run([str(bins / "pg_config"), "--pkglibdir"], capture_output=True, text=True, check=False)
    libdir = Path(out.stdout.strip() or "/usr/lib/postgresql/15/lib")
    if not (libdir / "pg_cron.so").is_file():
        raise LocalClusterError(f"pg_cron is not installed: install it with `apt-get install {PACKAGES}`")


def _free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, preferred + 200)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise LocalClusterError(f"no free TCP port near {preferred}")


def _runs_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(cmd: list[str]) -> list[str]:
    if not _runs_as_root():
        return cmd
    if shutil.which("runuser") is None:
        raise LocalClusterError("running as root needs `runuser` to start Postgres as the postgres user")
    return ["runuser", "-u", "postgres", "--", *cmd]


def _server_can_use(path: Path) -> bool:
    """Whether the postgres user can reach a directory (all parents traversable)."""
    if not _runs_as_root():
        return True
    result = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)], check=False)
    return result.returncode == 0


def _chown_server(path: Path) -> None:
    if _runs_as_root():
        shutil.chown(path, user="postgres", group="postgres")


@dataclass
class Cluster:
    """A local cluster rooted at `home` (normally ./.deployer)."""

    home: Path

    @property
    def state_file(self) -> Path:
        return self.home / "cluster.json"

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    @property
    def base(self) -> Path:
        """Where data, socket and log live: under home, or a server-readable place for root."""
        return Path(self._state().get("base", self.home))

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        return self.base / "run"

    @property
    def logfile(self) -> Path:
        return self.base / "postgres.log"

    @property
    def port(self) -> int:
        return int(self._state().get("port", DEFAULT_PORT))

    def url(self, dbname: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").is_file()

    def running(self) -> bool:
        if not self.initialized():
            return False
        cmd = _as_server_user([str(bindir() / "pg_ctl"), "status", "-D", str(self.datadir)])
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    def _init(self, bins: Path, port: int | None) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        base = self.home.resolve()
        if not _server_can_use(base):
            digest = hashlib.sha1(str(base).encode()).hexdigest()[:12]
            base = Path("/var/tmp") / f"deployer-{digest}"
        state = {"base": str(base), "port": _free_port(port or DEFAULT_PORT)}
        self.state_file.write_text(json.dumps(state, indent=2) + "\n")
        for path in (self.base, self.sockdir):
            path.mkdir(parents=True, exist_ok=True)
            _chown_server(path)
        cmd = [str(bins / "initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
               "--locale=C.UTF-8"]
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LocalClusterError(f"initdb failed: {done.stderr.strip().splitlines()[-1]}")
        extra = {**SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self.sockdir}'",
                 "cron.host": f"'{self.sockdir}'"}
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# added by deployer\n")
            conf.writelines(f"{key} = {value}\n" for key, value in extra.items())

    def start(self, port: int | None = None) -> bool:
        """Start the cluster, creating it first if needed. False when it was already up."""
        bins = bindir()
        _check_pg_cron(bins)
        if not self.initialized():
            self._init(bins, port)
        if self.running():
            return False
        self.logfile.touch()
        _chown_server(self.logfile)
        cmd = [str(bins / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.datadir), "-l", str(self.logfile)]
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = self.logfile.read_text(errors="replace").strip().splitlines()[-1:] or ["no log"]
            raise LocalClusterError(f"the local cluster did not start: {tail[0]}")
        self._create_pg_cron()
        return True

    def _create_pg_cron(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with connect(self.url()) as conn:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
                    return
            except Exception as exc:  # noqa: BLE001 - retried, then reported as one line
                if time.monotonic() > deadline:
                    raise LocalClusterError(f"the local cluster started but is not usable: {exc}") from None
                time.sleep(0.3)

    def stop(self) -> bool:
        """Stop the cluster. False when it was not running."""
        if not self.running():
            return False
        cmd = [str(bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.datadir)]
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LocalClusterError(f"pg_ctl stop failed: {done.stderr.strip()}")
        return True

    def destroy(self) -> None:
        """Stop and delete everything (used by tests)."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)


@contextmanager
def throwaway(prefix: str, preferred_port: int) -> Iterator[Cluster]:
    """A cluster in a new temporary home, started on a free port near `preferred_port`, and
    stopped and deleted on the way out however the block ends (tests, benchmarks)."""
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    home.chmod(0o755)
    cluster = Cluster(home)
    try:
        cluster.start(port=_free_port(preferred_port))
        yield cluster
    finally:
        cluster.destroy()


def default_cluster() -> Cluster:
    return Cluster(Path.cwd() / ".deployer")


def resolve_dsn(dsn: str | None) -> str:
    """--dsn, else DATABASE_URL, else the running local cluster."""
    if dsn:
        return dsn
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    cluster = default_cluster()
    if cluster.initialized() and cluster.running():
        return cluster.url()
    raise LocalClusterError("no database: pass --dsn, set DATABASE_URL, or start the local one with `deployer db start`")
