"""The embedded default Postgres: a local PostgreSQL cluster with pg_cron under .deployer/.

Any PostgreSQL major version works. The server binaries are those of `--bindir` or
$DEPLOYER_PG_BINDIR, else the newest Debian installation with pg_cron
(/usr/lib/postgresql/<major>/bin), else `postgres` on PATH; the version is what `postgres
--version` says, and the library directory (where pg_cron.so must be) is found beside the
binaries, as the server finds it itself, so `pg_config` is not needed. A cluster remembers
the binaries that made it.

The server runs as the current user, or as `postgres` when the current user is root
(Postgres refuses to run as root). pg_cron is preloaded, lives in the `postgres`
database and connects back through the socket directory, so scheduled jobs really run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deployer.db import connect
from deployer.errors import LocalClusterError, UsageError

DEBIAN_ROOT = Path("/usr/lib/postgresql")  # Debian and Ubuntu: one <major>/bin per version
SERVER_PROGRAMS = ("postgres", "initdb", "pg_ctl")
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


# What else the deployer keeps beside the cluster: the picture of the last `deployer
# simulate`, which the dashboard shows.
SIMULATION_PICTURE = Path(".deployer") / "simulation.svg"


def major_of(version: str) -> str:
    """15 for 15.20; 9.6 for 9.6.24 (the last two-part majors)."""
    parts = version.split(".")
    return parts[0] if int(parts[0]) >= 10 else ".".join(parts[:2])


@dataclass(frozen=True)
class Server:
    """A PostgreSQL installation's server side: where its programs are, which version they
    are, and the library directory they load extensions from (None when none was found)."""

    bindir: Path
    version: str  # as `postgres --version` says it, e.g. 15.20 or 17.2
    pkglibdir: Path | None
    sharedir: Path | None = None

    @property
    def major(self) -> str:
        return major_of(self.version)

    @property
    def label(self) -> str:
        return f"PostgreSQL {self.version}"

    def has_pg_cron(self) -> bool:
        return self.pkglibdir is not None and (self.pkglibdir / "pg_cron.so").is_file()

    def extension_version(self, name: str) -> str | None:
        """The version CREATE EXTENSION `name` installs (its control file's default_version)."""
        try:
            text = (self.sharedir / "extension" / f"{name}.control").read_text()
        except (OSError, TypeError):
            return None
        found = re.search(r"^\s*default_version\s*=\s*'([^']*)'", text, re.MULTILINE)
        return found.group(1) if found else None

    def require_pg_cron(self) -> None:
        if self.has_pg_cron():
            return
        where = f"no pg_cron.so in {self.pkglibdir}" if self.pkglibdir else f"no library directory beside {self.bindir}"
        raise LocalClusterError(
            f"pg_cron is not installed for {self.label} ({where}): install it "
            f"(Debian: `apt-get install {packages(self.major, server=False)}`), or build it with "
            f"PG_CONFIG pointing at this installation's pg_config")


def packages(major: str | None, server: bool = True) -> str:
    """The Debian packages for a major version (the server's, pg_cron, plpgsql_check)."""
    n = major or "<major>"
    names = [f"postgresql-{n}-cron", f"postgresql-{n}-plpgsql-check"]
    return " ".join([f"postgresql-{n}", *names] if server else names)


def _debian_default_major() -> str | None:
    """The distribution's PostgreSQL (postgresql-common's choice), when it says."""
    script = Path("/usr/share/postgresql-common/supported-versions")
    if not script.is_file():
        return None
    out = subprocess.run(["sh", str(script)], capture_output=True, text=True, check=False).stdout.split()
    return out[-1] if out and re.fullmatch(r"\d+(\.\d+)?", out[-1]) else None


def _has_programs(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) and (path / name).is_file() for name in SERVER_PROGRAMS)


def server_version(path: Path) -> str:
    """The version `postgres --version` reports (it answers as root too)."""
    try:
        done = subprocess.run([str(path / "postgres"), "--version"], capture_output=True, text=True, check=False,
                              timeout=30)
    except OSError as exc:
        raise LocalClusterError(f"{path / 'postgres'} does not run: {exc.strerror or exc}") from None
    found = re.search(r"\(PostgreSQL\) (\d+(?:\.\d+)*)", done.stdout)
    if done.returncode != 0 or not found:
        said = (done.stderr or done.stdout).strip().splitlines()[:1] or [f"exit {done.returncode}"]
        raise LocalClusterError(f"{path / 'postgres'} is not a PostgreSQL server: `postgres --version` said: {said[0]}")
    return found.group(1)


def library_dir(path: Path) -> Path | None:
    """Where the server at `path` loads extensions from ($libdir, pg_config's pkglibdir).

    The server finds it relative to its own executable (symbolic links followed), in the
    place its build chose: <prefix>/lib, or <prefix>/lib/postgresql when the prefix does
    not name PostgreSQL, lib64 and pgsql on some distributions. The one holding plpgsql.so,
    which every server has, is it; pg_config is asked only when none does."""
    real = (path / "postgres").resolve().parent
    for sub in ("lib", "lib/postgresql", "lib/pgsql", "lib64", "lib64/pgsql", "lib64/postgresql"):
        if (real.parent / sub / "plpgsql.so").is_file():
            return real.parent / sub
    for pg_config in dict.fromkeys((path / "pg_config", real / "pg_config")):
        if os.access(pg_config, os.X_OK):
            out = subprocess.run([str(pg_config), "--pkglibdir"], capture_output=True, text=True, check=False)
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
    return None


def share_dir(path: Path, major: str) -> Path | None:
    """Where the server at `path` finds extensions' control files (pg_config's sharedir),
    relative to its own executable as it finds it: <prefix>/share/postgresql/<major> (Debian,
    beside <prefix>/lib/postgresql/<major>/bin), <prefix>/share/postgresql, <prefix>/share."""
    real = (path / "postgres").resolve().parent
    for up in (real.parent, *real.parent.parents[:3]):
        for sub in (f"share/postgresql/{major}", "share/postgresql", "share/pgsql", "share"):
            if (up / sub / "extension" / "plpgsql.control").is_file():
                return up / sub
    return None


def inspect(path: Path) -> Server:
    """The server in `path`; one line naming what to install when there is none."""
    if not _has_programs(path):
        missing = ", ".join(name for name in SERVER_PROGRAMS if not (path / name).is_file())
        why = (f"{missing} missing" if missing else "not executable") if path.is_dir() else (
            "not a directory" if path.exists() else "no such directory")
        raise LocalClusterError(
            f"no PostgreSQL server in {path} ({why}): point DEPLOYER_PG_BINDIR (or --bindir) at the "
            f"bin directory of a PostgreSQL with pg_cron, or install one "
            f"(Debian: `apt-get install {packages(_debian_default_major())}`)")
    version = server_version(path)
    return Server(path, version, library_dir(path), share_dir(path, major_of(version)))


def _candidates() -> list[Path]:
    """Where a server may be when none is named: Debian's, newest first, then PATH."""
    def major(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.name)) or (0,)

    found = sorted((p / "bin" for p in DEBIAN_ROOT.glob("*") if p.name[:1].isdigit()), key=lambda p: major(p.parent),
                   reverse=True) if DEBIAN_ROOT.is_dir() else []
    on_path = shutil.which("postgres")
    if on_path:
        found.append(Path(on_path).parent)
    return [p for p in dict.fromkeys(found) if _has_programs(p)]


def find_server(path: Path | str | None = None) -> Server:
    """The server to use: `path`, else $DEPLOYER_PG_BINDIR, else the newest one found that
    has pg_cron (else the newest found, for its message)."""
    given = path or os.environ.get("DEPLOYER_PG_BINDIR")
    if given:
        return inspect(Path(given).expanduser().absolute())
    servers = []
    for candidate in _candidates():
        try:
            servers.append(inspect(candidate))
        except LocalClusterError:
            continue  # a broken installation is passed over when none was named
    if not servers:
        raise LocalClusterError(
            f"no PostgreSQL server found (looked in {DEBIAN_ROOT}/<major>/bin and PATH): install PostgreSQL with "
            f"pg_cron (Debian: `apt-get install {packages(_debian_default_major())}`), or set DEPLOYER_PG_BINDIR "
            f"to its bin directory")
    return next((s for s in servers if s.has_pg_cron()), servers[0])


def bindir() -> Path:
    """The server binaries find_server() picks ($DEPLOYER_PG_BINDIR, else found)."""
    return find_server().bindir


def _free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, min(preferred + 200, 65536))]:
        if _port_free(port):
            return port
    raise LocalClusterError(f"no free TCP port near {preferred}")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def check_port(cluster: Cluster, port: int) -> None:
    """A --port the user gave: a TCP port, the existing cluster's own (it is not moved), or
    free for a new one. Checked before anything is made."""
    if not 1 <= port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, not {port}")
    if cluster.initialized():
        if port != cluster.port:
            raise UsageError(f"the local cluster in {cluster.home} listens on port {cluster.port}; --port sets the "
                             f"port of a new cluster only (remove {cluster.home} for a new one)")
        return
    if not _port_free(port):
        raise UsageError(f"port {port} is in use on 127.0.0.1: pick another --port, or leave it out for a free one")


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
    # postgresql.conf settings beside SETTINGS, written when the cluster is made (a Citus
    # node: citus preloaded before pg_cron, prepared transactions for its two-phase commits)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def state_file(self) -> Path:
        return self.home / "cluster.json"

    def _state(self) -> dict:
        try:
            state = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not JSON"
            raise LocalClusterError(f"{self.state_file} cannot be read ({why}): remove {self.home} for a new "
                                    "cluster") from None
        if not isinstance(state, dict) or not isinstance(state.get("port", DEFAULT_PORT), int):
            raise LocalClusterError(f"{self.state_file} is not the deployer's record of a cluster: remove "
                                    f"{self.home} for a new cluster")
        return state

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

    @property
    def version(self) -> str | None:
        """The PostgreSQL version it last started with (cluster.json)."""
        return self._state().get("version")

    def url(self, dbname: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").is_file()

    def data_major(self) -> str | None:
        """The major version of PostgreSQL that made the data directory."""
        try:
            return (self.datadir / "PG_VERSION").read_text().strip()
        except OSError:
            return None

    def server(self) -> Server:
        """The binaries that made this cluster (remembered in cluster.json), else find_server()'s."""
        made_by = self._state().get("bindir")
        if made_by and _has_programs(Path(made_by)):
            return inspect(Path(made_by))
        return find_server()

    def _pg_ctl(self) -> Path:
        made_by = self._state().get("bindir")
        if made_by and _has_programs(Path(made_by)):
            return Path(made_by) / "pg_ctl"
        return find_server().bindir / "pg_ctl"

    def running(self) -> bool:
        if not self.initialized():
            return False
        cmd = _as_server_user([str(self._pg_ctl()), "status", "-D", str(self.datadir)])
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    def _init(self, server: Server, port: int | None) -> None:
        """Make the cluster. On any failure, what this made is removed again (the home and the
        directories above it that were missing, the state file, a base outside the home), and
        a file or directory it could not make is one line."""
        made = [p for p in (self.home, *self.home.parents) if not p.exists()]
        had_state = self.state_file.exists()
        created: list[Path] = []
        try:
            self._make(server, port, created)
        except BaseException as exc:
            for path in created:
                shutil.rmtree(path, ignore_errors=True)
            if made:
                shutil.rmtree(made[-1], ignore_errors=True)
            elif not had_state:
                self.state_file.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                where = f"{exc.filename}: " if exc.filename else ""
                raise LocalClusterError(f"cannot create the local cluster in {self.home}: {where}"
                                        f"{exc.strerror or exc}") from None
            raise

    def _make(self, server: Server, port: int | None, created: list[Path]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        base = self.home.resolve()
        if not _server_can_use(base):
            digest = hashlib.sha1(str(base).encode()).hexdigest()[:12]
            base = Path("/var/tmp") / f"deployer-{digest}"
            if not base.exists():
                created.append(base)
        # port_chosen: the port was found free here, not asked for, so start() may move it.
        state = {"base": str(base), "port": _free_port(port or DEFAULT_PORT), "port_chosen": port is None,
                 "bindir": str(server.bindir), "version": server.version}
        self.state_file.write_text(json.dumps(state, indent=2) + "\n")
        for path in (self.base, self.sockdir):
            if not path.exists():
                created.append(path)
            path.mkdir(parents=True, exist_ok=True)
            _chown_server(path)
        if not self.datadir.exists():
            created.append(self.datadir)
        cmd = [str(server.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
               "--locale=C.UTF-8"]
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines() or [f"exit {done.returncode}"]
            raise LocalClusterError(f"initdb failed: {said[-1]}")
        extra = {**SETTINGS, **self.settings, "port": str(self.port), "unix_socket_directories": f"'{self.sockdir}'",
                 "cron.host": f"'{self.sockdir}'"}
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# added by deployer\n")
            conf.writelines(f"{key} = {value}\n" for key, value in extra.items())

    def _pick_server(self, bindir: Path | str | None) -> Server:
        """The binaries to start with: `bindir`, $DEPLOYER_PG_BINDIR, the ones that made the
        cluster, else find_server()'s; they must be of the data directory's major version."""
        server = find_server(bindir) if bindir or os.environ.get("DEPLOYER_PG_BINDIR") else (
            self.server() if self.initialized() else find_server())
        server.require_pg_cron()
        made = self.data_major()
        if made and made != server.major:
            raise LocalClusterError(
                f"the cluster in {self.datadir} was made by PostgreSQL {made}, and {server.bindir} has {server.label}: "
                f"start it with PostgreSQL {made}'s binaries (--bindir), or remove {self.home} for a new cluster")
        return server

    def start(self, port: int | None = None, bindir: Path | str | None = None) -> bool:
        """Start the cluster, creating it first if needed. False when it was already up."""
        server = self._pick_server(bindir)
        if not self.initialized():
            self._init(server, port)
        if self.running():
            return False
        state = self._state()
        if state.get("bindir") != str(server.bindir):  # stop and status use what runs
            self.state_file.write_text(json.dumps({**state, "bindir": str(server.bindir), "version": server.version},
                                                  indent=2) + "\n")
        if state.get("port_chosen") and not state.get("started"):
            # A port this cluster chose when it was made may be taken by another program
            # before the server's first start binds it (test runs side by side): the next free one.
            start_on_free_port(lambda port: self._start_at(server, port), self.port, lambda: self.logfile)
            self.state_file.write_text(json.dumps({**self._state(), "started": True}, indent=2) + "\n")
        else:
            self._start_at(server, self.port)
        self._create_pg_cron()
        return True

    def _start_at(self, server: Server, port: int) -> None:
        """pg_ctl start, listening on `port`: a port other than the cluster's is written into
        the state and postgresql.conf (its last `port` line is the one that counts) first."""
        if port != self.port:
            self.state_file.write_text(json.dumps({**self._state(), "port": port}, indent=2) + "\n")
            with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(f"port = {port}  # moved by deployer: the first one was taken before the server bound it\n")
        self.logfile.touch()
        _chown_server(self.logfile)
        cmd = [str(server.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.datadir), "-l",
               str(self.logfile)]
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = self.logfile.read_text(errors="replace").strip().splitlines()[-1:] or ["no log"]
            raise LocalClusterError(f"the local cluster did not start: {tail[0]}")

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
        cmd = [str(self._pg_ctl()), "stop", "-w", "-m", "fast", "-D", str(self.datadir)]
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
    made: list[Cluster] = []

    def start(port: int) -> None:  # a new home each time: initdb writes the port into it
        if made:
            made.pop().destroy()
        home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        home.chmod(0o755)
        made.append(Cluster(home))
        made[-1].start(port=port)

    try:
        start_on_free_port(start, preferred_port, lambda: made[-1].logfile)
        yield made[-1]
    finally:
        if made:
            made[-1].destroy()


# A port found free may be taken by another program before the server binds it (test runs
# side by side); a start that could not listen tries the next free port, this many times.
PORT_ATTEMPTS = 5


def start_on_free_port(start: Callable[[int], None], preferred: int, logfile: Callable[[], Path]) -> int:
    """start(port) on a free port near `preferred`, returning the port. A start that raised
    LocalClusterError because the server could not listen (its log, `logfile()`, says so)
    is tried again on the next free port, up to PORT_ATTEMPTS times; any other failure is
    raised at once."""
    port = preferred
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = _free_port(port)
        try:
            start(port)
            return port
        except LocalClusterError:
            log = logfile()
            if attempt == PORT_ATTEMPTS or not lost_its_port(log):
                raise
            log.unlink(missing_ok=True)
            port += 1
    raise AssertionError("unreachable")


def lost_its_port(logfile: Path) -> bool:
    """Whether a server's start failed because it could not listen on its port."""
    try:
        return "could not create any TCP/IP sockets" in logfile.read_text(errors="replace")
    except OSError:
        return False


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
