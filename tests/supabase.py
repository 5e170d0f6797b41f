"""A throwaway PostgreSQL 15 shaped like a Supabase project's database, with SnapBet's real
migrations applied, for testing the job set where it really runs.

On Supabase the developer's `postgres` role is not a superuser: the platform's superuser is
`supabase_admin`, and the supautils library lets `postgres` do a few superuser things
(allow-listed extensions, BYPASSRLS roles, policies on auth and storage tables) and
nothing more. Tests on a cluster where `postgres` is a superuser cannot see what that
forbids, so this fixture builds the database the way Supabase does, from Supabase's own
scripts (tests/supabase_platform/README.md says which, from where, and what is left out):

1. initdb with `supabase_admin` as the bootstrap superuser; supautils, pg_cron and
   Supabase's other available libraries preloaded; supautils configured by Supabase's own
   supautils.conf; pg_cron running its jobs in `postgres` through the socket directory.
2. The image's migrate.sh: `postgres` created as a superuser, the init scripts run as
   `postgres`, then the platform migrations as `supabase_admin`, the first of which demotes
   `postgres` to NOSUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS.
3. The services' own migrations, as they run them at their first start: Auth (GoTrue) as
   `supabase_auth_admin`, Storage as `supabase_storage_admin`.
4. pg_cron created by `supabase_admin`: supautils runs Supabase's after-create script, which
   leaves `postgres` USAGE on schema cron, all on its functions and tables, and only SELECT on
   cron.job.
5. SnapBet's migrations (tests/snapbet/) as `postgres`, in file-name order, each file in one
   transaction as the Supabase CLI applies them; except the files holding statements that
   fail on any PostgreSQL (SNAPBET_ERRORS), run statement by statement as psql runs them,
   those statements and no others failing (tests/snapbet/README.md).

Everything runs as the cluster's own roles over 127.0.0.1 with trust authentication (as
Supabase's pg_hba trusts loopback). The server is stopped and its directory removed on the
way out, however the block ends.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg

from deployer import local
from deployer.errors import LocalClusterError

HERE = Path(__file__).resolve().parent
PLATFORM = HERE / "supabase_platform"
SNAPBET = HERE / "snapbet"

ADMIN = "supabase_admin"
DATABASE = "postgres"
DEFAULT_PORT = 58432
# Supabase's shared_preload_libraries, less what is not built here (pgaudit, pg_net,
# pgsodium, timescaledb, auto_explain, pg_tle, plan_filter), plus supautils.
PRELOAD = "pg_stat_statements, plpgsql, plpgsql_check, pg_cron, supautils"
# Libraries the fixture loads or creates; supautils, safeupdate and vector come from vendor/
# (scripts/build-vendor), pg_cron and plpgsql_check from Debian.
LIBRARIES = ("supautils", "safeupdate", "vector", "pg_cron", "plpgsql_check")

# Edits to Supabase's (otherwise unmodified) scripts, made as a file is read, each checked to
# still apply: two statements that need an extension not built here (SnapBet uses neither),
# and the change upstream made later for supautils 3 (a superuser's event trigger must run a
# function a superuser owns; upstream's later version of that file has the same line).
EDITS = {
    "init-scripts/00000000000000-initial-schema.sql": [
        ("create extension if not exists pgjwt            with schema extensions;\n", ""),
    ],
    "migrations/20230529180330_alter_api_roles_for_inherit.sql": [
        ("GRANT pgsodium_keyholder to service_role;\n", ""),
    ],
    "migrations/20231020085357_revoke_writes_on_cron_job_from_postgres.sql": [
        ("drop event trigger if exists issue_pg_cron_access;\n",
         "drop event trigger if exists issue_pg_cron_access;\n"
         "alter function extensions.grant_pg_cron_access owner to supabase_admin;\n"),
    ],
}
# SnapBet's migrations do not apply cleanly on any PostgreSQL, Supabase's included: these
# statements fail, by file and the line psql reports, with their SQLSTATE. A file holding one
# cannot be applied whole (the Supabase CLI runs a file in one transaction and would stop
# there); such a file is applied statement by statement, as psql does without
# ON_ERROR_STOP, and its errors must be exactly these. None is a privilege error or a
# missing piece of Supabase: tests/snapbet/README.md says what each one is.
SNAPBET_ERRORS = {
    "001_initial_schema.sql": {
        205: ("42P17", "index idx_posts_feed: its predicate calls now()"),
        237: ("42P17", "index idx_stories_active: its predicate calls now()"),
        1063: ("42601", "policy games_insert: an INSERT policy with USING"),
    },
    "004_notifications.sql": {
        36: ("42710", "policy notifications_select: 001 already made it"),
        40: ("42710", "policy notifications_update: 001 already made it"),
    },
    "011_search_indexes.sql": {
        30: ("42P17", "index idx_bets_user_created_week: its predicate calls now()"),
    },
    "017_messaging_privacy.sql": {
        157: ("42703", 'policy "Admins can view all reports": users has no user_metadata'),
    },
    "021_add_group_messaging_support.sql": {
        2: ("42704", "ALTER TYPE message_type: no such type (messages.message_type is text)"),
        13: ("23502", "the system user: no oauth_provider, which users requires"),
    },
    "033_add_rag_support.sql": {
        208: ("42P13", "function find_similar_posts: parameter user_id is also a result column; "
                       "the file's own BEGIN ... COMMIT then rolls all of 033 back"),
    },
    "035_remove_all_team_preferences.sql": {
        11: ("42703", "index idx_users_last_embedding_update: profile_embedding (033) is missing"),
    },
    "036_add_smart_notification_types.sql": {
        2: ("42704", "ALTER TYPE notification_type: no such type (notifications.type is text)"),
        3: ("42704", "ALTER TYPE notification_type: no such type"),
        4: ("42704", "ALTER TYPE notification_type: no such type"),
        9: ("42703", "index idx_bets_user_created_archived: bets.archived (033) is missing"),
        14: ("42703", "index idx_bets_game_type_team: bets.archived (033) is missing"),
    },
}
# psql's report of a statement after an error inside a file's own transaction block: not an
# error of its own (the block is rolled back with the rest).
IN_FAILED_TRANSACTION = "25P02"
# What GoTrue's migrator puts for its template (pop's Options["Namespace"]).
AUTH_NAMESPACE = re.compile(r"\{\{ ?index \.Options \"Namespace\" \}\}")
# The settings Storage's migrator gives its session (src/internal/database/migrations).
STORAGE_SETTINGS = {
    "search_path": "storage, public, extensions",
    "storage.install_roles": "false",
    "storage.multitenant": "false",
    "storage.anon_role": "anon",
    "storage.authenticated_role": "authenticated",
    "storage.service_role": "service_role",
    "storage.super_user": "postgres",
    "storage.iceberg_default_shard": "",
    "storage.iceberg_shards": "{}",
    "storage.vector_bucket_provider": "s3",
}


@dataclass(frozen=True)
class SupabaseServer:
    """A running Supabase-shaped server. `dsn(user, dbname)` connects as any of its roles
    (trust on 127.0.0.1, no password)."""

    port: int
    socket_dir: Path
    snapbet_migrations: tuple[str, ...] = ()
    failed_statements: tuple[str, ...] = ()
    startup_seconds: float = 0.0

    def dsn(self, user: str = "postgres", dbname: str = DATABASE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    @property
    def admin_dsn(self) -> str:
        """The platform's superuser, `supabase_admin`, in database postgres."""
        return self.dsn(ADMIN)

    @property
    def postgres_dsn(self) -> str:
        """The developer's `postgres` role (not a superuser), in database postgres."""
        return self.dsn("postgres")


def missing_libraries() -> list[str]:
    """The libraries of LIBRARIES this PostgreSQL lacks (empty when the fixture can start)."""
    try:
        pg_config = local.bindir() / "pg_config"
    except LocalClusterError:
        return list(LIBRARIES)
    out = subprocess.run([str(pg_config), "--pkglibdir"], capture_output=True, text=True, check=False)
    libdir = Path(out.stdout.strip() or "/usr/lib/postgresql/15/lib")
    return [name for name in LIBRARIES if not (libdir / f"{name}.so").is_file()]


@contextmanager
def supabase_server(preferred_port: int = DEFAULT_PORT) -> Iterator[SupabaseServer]:
    """Start the server, build the Supabase project's database with SnapBet's migrations,
    yield it, then stop it and delete its files (on failure too)."""
    started = time.monotonic()
    missing = missing_libraries()
    if missing:
        raise LocalClusterError(f"not installed: {', '.join(missing)}; run scripts/build-vendor")
    home = Path(tempfile.mkdtemp(prefix="supabase-"))
    home.chmod(0o755)
    local._chown_server(home)
    try:
        if not local._server_can_use(home):
            raise LocalClusterError(f"the server user cannot reach {home}: set TMPDIR to a directory it can")
        server = SupabaseServer(port=0, socket_dir=home / "run")
        _initdb(home, server)
        server = _start(home, server, preferred_port)
        _build_platform(server)
        applied, failed = _apply_snapbet(server)
        yield replace(server, snapbet_migrations=applied, failed_statements=failed,
                      startup_seconds=time.monotonic() - started)
    finally:
        _pg_ctl(home, "stop", "-w", "-m", "immediate", check=False)
        shutil.rmtree(home, ignore_errors=True)


# --- the cluster -------------------------------------------------------------------------

def _initdb(home: Path, server: SupabaseServer) -> None:
    """initdb as Supabase's image does it (bootstrap superuser supabase_admin), then the
    settings: deployer.local's, Supabase's preloads, pg_cron in `postgres` connecting back
    through the socket directory, and Supabase's supautils.conf with its extension scripts
    (copied beside the data directory, where the server user can read them)."""
    server.socket_dir.mkdir()
    local._chown_server(server.socket_dir)
    data = home / "data"
    cmd = [str(local.bindir() / "initdb"), "-D", str(data), "-U", ADMIN, "-A", "trust", "-E", "UTF8",
           "--locale=C.UTF-8"]
    done = subprocess.run(local._as_server_user(cmd), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LocalClusterError(f"initdb failed: {done.stderr.strip()}")
    shutil.copy(PLATFORM / "supautils.conf", home / "supautils.conf")
    shutil.copytree(PLATFORM / "extension-custom-scripts", home / "extension-custom-scripts")
    settings = {
        **local.SETTINGS,
        "unix_socket_directories": f"'{server.socket_dir}'",
        "shared_preload_libraries": f"'{PRELOAD}'",
        "cron.database_name": f"'{DATABASE}'",
        "cron.host": f"'{server.socket_dir}'",
    }
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("\n# added by tests/supabase.py\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        conf.write(f"include = '{home / 'supautils.conf'}'\n")
        # Under the name supautils 3 reads: it still defines the old name Supabase's file uses,
        # privileged_extensions_custom_scripts_path, but defining the new one afterwards resets
        # the value they share, so the old name alone leaves no path and no script runs.
        conf.write(f"supautils.extension_custom_scripts_path = '{home / 'extension-custom-scripts'}'\n")


def _start(home: Path, server: SupabaseServer, preferred_port: int) -> SupabaseServer:
    """Start on a free port near `preferred_port` (given on the command line, not in the
    settings, so that another try can take another)."""
    log = home / "postgres.log"
    port = local.start_on_free_port(
        lambda port: _pg_ctl(home, "start", "-w", "-t", "60", "-l", str(log), "-o", f"-p {port}"),
        preferred_port, lambda: log)
    return replace(server, port=port)


def _pg_ctl(home: Path, action: str, *args: str, check: bool = True) -> None:
    """pg_ctl as the server user; a failure reports the server log's last lines."""
    cmd = [str(local.bindir() / "pg_ctl"), action, "-D", str(home / "data"), *args]
    done = subprocess.run(local._as_server_user(cmd), capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        log = (home / "postgres.log").read_text(errors="replace").strip().splitlines()[-3:]
        raise LocalClusterError(f"pg_ctl {action} failed: {' | '.join(log) or done.stderr.strip()}")


# --- the database ------------------------------------------------------------------------

def _build_platform(server: SupabaseServer) -> None:
    """Steps 2 to 4 of the module's docstring."""
    with _connect(server.admin_dsn) as admin:
        # migrate.sh: "postgres role is pre-created during AMI build", else created here.
        admin.execute("CREATE ROLE postgres SUPERUSER LOGIN")
        admin.execute("ALTER DATABASE postgres OWNER TO postgres")
    with _connect(server.postgres_dsn) as postgres:
        _apply_dir(postgres, "init-scripts")
    with _connect(server.admin_dsn) as admin:
        _apply_dir(admin, "migrations")
    with _connect(server.dsn("supabase_auth_admin")) as auth:
        for path in sorted((PLATFORM / "auth").glob("*.up.sql")):
            _apply(auth, path, AUTH_NAMESPACE.sub("auth", path.read_text()))
    with _connect(server.dsn("supabase_storage_admin"), STORAGE_SETTINGS) as storage:
        for path in sorted((PLATFORM / "storage").glob("*.sql"), key=_storage_id):
            sql = path.read_text()
            if "-- postgres-migrations ignore" not in sql:  # the migrator runs SELECT 1 instead
                _apply(storage, path, sql)
    with _connect(server.admin_dsn) as admin:
        admin.execute("CREATE EXTENSION pg_cron")


def _apply_dir(conn: psycopg.Connection, folder: str) -> None:
    """Supabase's scripts of one folder in file-name order, as migrate.sh runs them."""
    for path in sorted((PLATFORM / folder).glob("*.sql")):
        sql = path.read_text()
        for old, new in EDITS.get(f"{folder}/{path.name}", []):
            if old not in sql:
                raise LocalClusterError(f"{folder}/{path.name} no longer has: {old.strip()}")
            sql = sql.replace(old, new)
        _apply(conn, path, sql)


def _storage_id(path: Path) -> int:
    """Storage's migrator orders files by their number (0009 < 00010 < 0011)."""
    return int(path.name.split("-", 1)[0])


def _apply_snapbet(server: SupabaseServer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """SnapBet's migrations as `postgres`, in file-name order as the Supabase CLI lists them
    (its pattern <version>_<name>.sql: no rollback_ file is among them): each file whole, in
    one transaction as the CLI runs it, except those of SNAPBET_ERRORS. Returns the files
    applied and the statements that failed."""
    paths = sorted(p for p in SNAPBET.glob("*.sql") if re.match(r"^[0-9]+_.*\.sql$", p.name))
    failed: list[str] = []
    with _connect(server.postgres_dsn) as postgres:
        for path in paths:
            if path.name in SNAPBET_ERRORS:
                failed += _apply_by_statement(server, path)
            else:
                _apply(postgres, path, path.read_text())
    return tuple(p.name for p in paths), tuple(failed)


def _apply_by_statement(server: SupabaseServer, path: Path) -> list[str]:
    """A file that cannot apply whole: psql runs it statement by statement (as it does
    without ON_ERROR_STOP), and the statements that fail must be exactly SNAPBET_ERRORS's."""
    cmd = [str(local.bindir() / "psql"), "-X", "-q", "-v", "VERBOSITY=verbose", "-d", server.postgres_dsn,
           "-f", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    errors = {int(line): state
              for line, state in re.findall(r"^psql:.*?:(\d+): ERROR:  (\w{5}): ", done.stderr, re.M)
              if state != IN_FAILED_TRANSACTION}
    expected = SNAPBET_ERRORS[path.name]
    if done.returncode != 0 or errors != {line: state for line, (state, _) in expected.items()}:
        raise LocalClusterError(f"{path.relative_to(HERE)}: expected these statements to fail: "
                                f"{expected}; psql said:\n{done.stderr}")
    return [f"{path.name}:{line} {state} {what}" for line, (state, what) in sorted(expected.items())]


def _apply(conn: psycopg.Connection, path: Path, sql: str) -> None:
    """One file as one simple query: its statements in one implicit transaction (a file
    with its own BEGIN/COMMIT keeps them), so a failing file leaves nothing behind."""
    try:
        conn.execute(sql)
    except psycopg.Error as exc:
        where = path.relative_to(HERE)
        raise LocalClusterError(f"{where} failed as {conn.info.user}: {exc.sqlstate} {exc}") from exc


def _connect(dsn: str, settings: dict[str, str] | None = None) -> psycopg.Connection:
    """An autocommit session, with `settings` set for the session as a service's migrator
    sets them."""
    conn = psycopg.connect(dsn, autocommit=True)
    for key, value in (settings or {}).items():
        conn.execute("SELECT pg_catalog.set_config(%s, %s, false)", (key, value))
    return conn
