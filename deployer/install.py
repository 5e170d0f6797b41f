"""Installing the job set: render every unit (deployer.units), compare with what is
deployed, apply the difference in one transaction, then bring pg_cron in line. The one
writer: the readers (run, status, the dashboard) do not import it.
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass, field

import psycopg

from deployer import citus, indexes, rights, schedule, units
from deployer.db import connect, exists, translated
from deployer.errors import ConfigError, DatabaseError, DeployBusy, MissingRights
from deployer.manifest import Manifest
from deployer.release import release
from deployer.render import quote_ident
from deployer.status import catalog_drift, deployed_checksums
from deployer.units import PRIVILEGES_UNIT, Unit, app_units, job_units

# The SnapBet tables the built jobs work on; deploy checks they exist before anything.
APP_TABLES = ("users", "bankrolls", "bets", "games", "posts", "pick_actions", "stories", "messages", "comments",
              "notifications")
DEPLOY_LOCK = "snapbet.jobs.deploy"


@dataclass(frozen=True)
class RoleChange:
    role: str
    purpose: str  # 'owner', 'runner', 'monitor', or a job's run_as role
    sql: str
    kind: str = "create"  # 'create', 'member' (the deploying role joins it), 'bypassrls', 'stats'
    optional: bool = False  # made when the deploying role may; otherwise judged by its effect

    def describe(self) -> str:
        if self.kind == "member":
            return f"grant role {self.role} to the deploying role ({self.purpose})"
        if self.kind == "bypassrls":
            return f"give role {self.role} BYPASSRLS (row security must hide no row from the jobs)"
        if self.kind == "stats":
            return f"grant role {STATS_ROLE} to {self.role} (to tell a live run's backend from a reused PID)"
        if self.kind == "login":
            return (f"let role {self.role} log in (Citus: the coordinator reaches the workers as the role that runs "
                    "a statement)")
        return f"create role {self.role} ({self.purpose})"

    def fix(self, me: str) -> str:
        """How to make this change by other means, for a deploying role that may not."""
        if self.kind == "member":
            return f"as a superuser, GRANT {quote_ident(self.role)} TO {quote_ident(me)}"
        if self.kind == "bypassrls":
            return f"as a superuser, ALTER ROLE {quote_ident(self.role)} BYPASSRLS"
        if self.kind == "login":
            return f"as a superuser, ALTER ROLE {quote_ident(self.role)} LOGIN"
        return (f"as a superuser, {self.sql} and GRANT {quote_ident(self.role)} TO {quote_ident(me)}, or "
                f"ALTER ROLE {quote_ident(me)} CREATEROLE")


@dataclass
class Plan:
    units: list[Unit] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)  # jobs no longer listed
    cron: list[schedule.CronChange] = field(default_factory=list)
    cron_note: str = ""
    indexes: list[indexes.IndexChange] = field(default_factory=list)  # built after the transaction
    repairs: dict[str, str] = field(default_factory=dict)  # unit -> what drifted in the catalog
    extra_routines: list[str] = field(default_factory=list)  # in the jobs schema, not ours: dropped
    extra_registry: list[str] = field(default_factory=list)  # registry rows no unit wrote: deleted
    roles: list[RoleChange] = field(default_factory=list)  # the job set's roles, created when missing
    rendered: list[Unit] = field(default_factory=list)  # every unit of the manifest, changed or not
    missing: list[rights.Missing] = field(default_factory=list)  # rights the deploy lacks (--plan)
    bypass_refused: str | None = None  # why the owner could not be given BYPASSRLS
    warnings: list[str] = field(default_factory=list)  # optional changes the deploying role may not make

    @property
    def empty(self) -> bool:
        return not (self.roles or self.units or self.drops or self.cron or self.indexes or self.extra_routines
                    or self.extra_registry)

    def lines(self) -> list[str]:
        out = [r.describe() for r in self.roles]
        for u in self.units:
            if u.name in self.repairs:
                out.append(f"repair {u.name} ({self.repairs[u.name]})")
            elif units.is_registry(u.name):
                out.append(f"register {units.job_of(u.name)}")
            else:
                out.append(f"install {u.name}")
        out += [f"drop extra routine {sig}" for sig in self.extra_routines]
        out += [f"delete extra registry row {name}" for name in self.extra_registry]
        out += [f"remove job {name}" for name in self.drops]
        out += [c.describe() for c in self.cron]
        out += [c.describe() + ", concurrently" for c in self.indexes]
        return out


# What each role may do besides its grants: the owner never logs in (and sees every role's
# pg_cron rows and backends), pg_cron logs in as the runner, people are granted the monitor.
ROLE_ATTRIBUTES = {"owner": "NOLOGIN", "runner": "LOGIN", "monitor": "NOLOGIN"}
# pg_read_all_stats: job_health and cleanup tell a live run from an abandoned one by its
# backend in pg_stat_activity, which shows other roles' backends only to holders of it.
STATS_ROLE = "pg_read_all_stats"


def role_plan(conn: psycopg.Connection, manifest: Manifest, create: bool) -> list[RoleChange]:
    """The roles to create (with create=False, --no-roles, a missing one is a ConfigError);
    the memberships the deploying role needs (in the owner, to hand it the jobs schema; in
    each run_as role, for the SET ROLE of pg_cron's command); and BYPASSRLS for the owner,
    whose jobs act on every user's rows whatever the app's row security says (optional:
    where the deploying role may not give it, the deploy judges whether row security would
    hide anything, rights.blindness)."""
    names = dict(manifest.roles)
    run_as = sorted({j.run_as for j in manifest.jobs.values()})
    present = {r["rolname"]: r for r in conn.execute(
        "SELECT rolname, rolbypassrls, rolcanlogin, pg_has_role(current_user, oid, 'MEMBER') AS member FROM pg_roles"
        " WHERE rolname = ANY (%s)", (list(names.values()) + run_as,)).fetchall()}
    for job in manifest.jobs.values():
        if job.run_as not in names.values() and job.run_as not in present:
            raise ConfigError(f"[jobs.{job.name}] run_as: role {job.run_as!r} does not exist; create it "
                              f"(a member of {names['runner']!r}) or leave run_as out")
    missing = [(purpose, name) for purpose, name in names.items() if name not in present]
    if missing and not create:
        purpose, name = missing[0]
        raise ConfigError(f"the {purpose} role {name!r} does not exist: create it, name an existing one in "
                          "[roles], or deploy without --no-roles")
    superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()["rolsuper"]
    changes = [RoleChange(name, purpose, f"CREATE ROLE {quote_ident(name)} {ROLE_ATTRIBUTES[purpose]}")
               for purpose, name in missing]
    # Optional: PostgreSQL 16 and later let only a holder of ADMIN OPTION on it grant it
    # (Supabase's postgres has pg_monitor without); without it job_health and cleanup tell a
    # live run by its PID alone.
    stats = {r["rolname"] for r in conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY (%s) AND pg_has_role(oid, %s, 'MEMBER')",
        ([names["owner"], names["monitor"]], STATS_ROLE)).fetchall()}
    changes += [RoleChange(names[p], p, f"GRANT {STATS_ROLE} TO {quote_ident(names[p])}", kind="stats", optional=True)
                for p in ("owner", "monitor") if names[p] not in stats]
    if not superuser:
        needs = {names["owner"]: "to hand it the jobs schema"}
        needs.update({role: "to run jobs as it from pg_cron" for role in run_as})
        for role, why in needs.items():
            if not (present.get(role) or {}).get("member"):
                changes.append(RoleChange(role, why, f"GRANT {quote_ident(role)} TO CURRENT_USER", kind="member"))
    if citus.role(conn) == "coordinator" and not (present.get(names["owner"]) or {}).get("rolcanlogin"):
        # The job functions run as the owner (SECURITY DEFINER), and Citus opens its
        # connections to the workers as the role that runs a statement (docs/citus.md).
        changes.append(RoleChange(names["owner"], "owner", f"ALTER ROLE {quote_ident(names['owner'])} LOGIN",
                                  kind="login"))
    if not (present.get(names["owner"]) or {}).get("rolbypassrls"):
        changes.append(RoleChange(names["owner"], "owner", f"ALTER ROLE {quote_ident(names['owner'])} BYPASSRLS",
                                  kind="bypassrls", optional=True))
    return changes


def check_app_tables(conn: psycopg.Connection, manifest: Manifest) -> None:
    schema = manifest.settings["app_schema"]
    rows = conn.execute(
        "SELECT t FROM unnest(%s::text[]) AS t"
        " WHERE to_regclass(quote_ident(%s) || '.' || quote_ident(t)) IS NULL",
        (list(APP_TABLES), schema),
    ).fetchall()
    if rows:
        missing = ", ".join(r["t"] for r in rows)
        raise ConfigError(
            f"schema {schema!r} lacks SnapBet's tables ({missing}): deploy onto SnapBet's database, "
            "set app_schema in the manifest, or install the reference schema with --with-app-schema"
        )


def overdue(conn: psycopg.Connection, js: str) -> list[str]:
    """The jobs job_health calls overdue (none before the first deploy)."""
    row = conn.execute("SELECT to_regclass(%s) AS v", (f"{quote_ident(js)}.job_health",)).fetchone()
    if row["v"] is None:
        return []
    return [r["job_name"] for r in conn.execute(
        f"SELECT job_name FROM {quote_ident(js)}.job_health WHERE state = 'overdue' ORDER BY job_name").fetchall()]


def make_plan(
    conn: psycopg.Connection, manifest: Manifest, target: schedule.CronTarget, with_schedule: bool = True,
    with_roles: bool = True,
) -> Plan:
    js = manifest.settings["jobs_schema"]
    deployed = (deployed_checksums(conn, js) if exists(conn, "table", f"{quote_ident(js)}.deployed_objects")
                else {})
    rendered = job_units(manifest)
    repairs: dict[str, list[str]] = {}
    plan = Plan(roles=role_plan(conn, manifest, create=with_roles))
    for d in catalog_drift(conn, js):
        if d["kind"] != "extra":
            repairs.setdefault(d["unit"], []).append(f"{d['object']} {d['kind']}")
        elif d["object"].startswith("registry row "):
            plan.extra_registry.append(d["job_name"])
        else:
            plan.extra_routines.append(d["object"])
    plan.rendered = rendered
    plan.units = [u for u in rendered if deployed.get(u.name) != u.checksum or u.name in repairs]
    # Whatever was created is handed to the owner and granted again. Not for an optional
    # role change alone (pg_read_all_stats, BYPASSRLS): privileges.sql grants nothing of
    # theirs, and one the deploying role may never make would otherwise be planned forever.
    if ((plan.units or any(not r.optional for r in plan.roles))
            and not (plan.units and plan.units[-1].name == PRIVILEGES_UNIT)):
        plan.units.append(rendered[-1])
    plan.repairs = {name: "; ".join(what) for name, what in repairs.items()
                    if any(u.name == name and deployed.get(name) == u.checksum for u in rendered)}
    # An extra registry row of a job the manifest lists is simply registered again.
    plan.extra_registry = [name for name in plan.extra_registry if name not in manifest.jobs]
    # Read from the names: a database an earlier release deployed has no deployed_objects.job_name
    # until this deploy's framework units add it.
    plan.drops = sorted(
        job for job in (units.job_of(name) for name in deployed if units.is_registry(name))
        if job not in manifest.jobs
    )
    plan.cron = (schedule.plan(manifest, target, again={schedule.cron_name(manifest, job, target)
                                                        for job in overdue(conn, js)})
                 if with_schedule else [])
    plan.cron_note = target.why if with_schedule else ""
    plan.indexes = indexes.plan(conn, manifest)
    return plan


def install_app_schema(conn: psycopg.Connection, variables: dict) -> int:
    """Install the reference schema (idempotent). Returns the number of files run."""
    files = app_units(variables)
    with translated():
        on_citus = citus.role(conn) == "coordinator"
        for rendered in files:
            citus.execute(conn, rendered.sql, on_citus=on_citus)
    return len(files)


def _apply(conn: psycopg.Connection, manifest: Manifest, plan: Plan) -> None:
    js = manifest.settings["jobs_schema"]
    for role in plan.roles:
        conn.execute(role.sql)
    for signature in plan.extra_routines:
        _drop_routine(conn, signature)
    for name in plan.extra_registry:
        conn.execute(f"DELETE FROM {quote_ident(js)}.job_registry WHERE job_name = %s", (name,))
    on_citus = citus.role(conn) == "coordinator"
    for unit in plan.units:
        citus.execute(conn, unit.sql, unit.params, on_citus=on_citus)
    for unit in plan.units:  # the table exists once the framework units ran
        conn.execute(
            f"INSERT INTO {quote_ident(js)}.deployed_objects (unit, checksum) VALUES (%s, %s)"
            " ON CONFLICT (unit) DO UPDATE SET checksum = EXCLUDED.checksum, deployed_at = now()",
            (unit.name, unit.checksum),
        )
    for name in plan.drops:
        for signature in units.JOB_SIGNATURES:
            conn.execute(f"DROP FUNCTION IF EXISTS {quote_ident((js, name))}({signature})")
        # and the other routines its unit made (cleanup_media: the triggers' functions)
        catalog = conn.execute(f"SELECT catalog FROM {quote_ident(js)}.deployed_objects WHERE unit = %s",
                               (units.job_unit(name),)).fetchone()
        for signature in ((catalog or {}).get("catalog") or {}).get("routines", {}):
            _drop_routine(conn, signature)
        conn.execute(f"DELETE FROM {quote_ident(js)}.job_registry WHERE job_name = %s", (name,))
        conn.execute(
            f"DELETE FROM {quote_ident(js)}.deployed_objects WHERE unit IN (%s, %s)",
            (units.job_unit(name), units.registry_unit(name)),
        )
    if plan.units and on_citus:
        citus.distribute_job_tables(conn, manifest.settings["app_schema"])
    _record_catalog(conn, manifest, plan.rendered)
    # A handful of rows autovacuum never analyzes: without statistics the planner takes the
    # registry for hundreds of rows, and job_health's plan for one worth compiling (JIT).
    conn.execute(f"ANALYZE {quote_ident(js)}.job_registry")


def _drop_routine(conn: psycopg.Connection, signature: str) -> None:
    """Drop a routine of the jobs schema, if it is there; a trigger function with the triggers
    that call it (the job set's own, on the app's tables: cleanup_media's journal)."""
    routine = conn.execute(
        "SELECT CASE prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS k,"
        " prorettype = 'trigger'::regtype AS trigger FROM pg_proc WHERE oid = to_regprocedure(%s)",
        (signature,)).fetchone()
    if routine:  # regprocedure text: already quoted
        conn.execute(f"DROP {routine['k']} {signature}{' CASCADE' if routine['trigger'] else ''}")


def _record_catalog(conn: psycopg.Connection, manifest: Manifest, rendered: list[Unit]) -> None:
    """Remember what each unit left in the catalog, so catalog_drift() sees a later hand edit."""
    js = quote_ident(manifest.settings["jobs_schema"])
    conn.execute(
        f"UPDATE {js}.deployed_objects AS o"
        f" SET catalog = {js}.unit_catalog(o.unit, ARRAY(SELECT jsonb_array_elements_text(u.routines)))"
        " FROM jsonb_each(%s::jsonb) AS u (unit, routines) WHERE o.unit = u.unit",
        (json.dumps({u.name: u.routines for u in rendered}),),
    )


def _record_deployment(conn: psycopg.Connection, manifest: Manifest, plan: Plan) -> None:
    js = quote_ident(manifest.settings["jobs_schema"])
    try:
        client = f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        client = None
    conn.execute(
        f"INSERT INTO {js}.deployments (client, version, environment, changes, checksums)"
        f" VALUES (%s, %s, %s, %s, (SELECT coalesce(jsonb_object_agg(unit, checksum), '{{}}')"
        f" FROM {js}.deployed_objects))",
        (client, release(), manifest.environment, plan.lines()),
    )


def _record_schedule(conn: psycopg.Connection, manifest: Manifest, target: schedule.CronTarget | None,
                     plan: Plan) -> None:
    """The registry's record of what was scheduled, which job_health judges pg_cron by:
    scheduled_at, when each enabled job was scheduled (kept while it stays so), and
    cron_command, the command pg_cron should run for it. With target None (`deploy
    --no-schedule`), nothing is scheduled on purpose: both NULL."""
    js = quote_ident(manifest.settings["jobs_schema"])
    wanted = schedule.desired(manifest, target) if target is not None and target.available else {}
    changed = {c.job.name for c in plan.cron if c.action == "schedule"}
    names = {job.name: schedule.cron_name(manifest, job.name, target) if target is not None else None
             for job in manifest.jobs.values()}
    commands = {job: wanted[cron].command for job, cron in names.items() if cron in wanted}
    conn.execute(
        f"UPDATE {js}.job_registry SET scheduled_at = CASE"
        " WHEN NOT job_name = ANY (%s) THEN NULL WHEN job_name = ANY (%s) THEN now()"
        " ELSE coalesce(scheduled_at, now()) END,"
        " cron_command = (%s::jsonb)->>job_name WHERE job_name = ANY (%s)",
        (list(commands), [job for job, cron in names.items() if cron in changed], json.dumps(commands),
         list(names)),
    )


def deploy(
    dsn: str, manifest: Manifest, *, dry_run: bool = False, with_app_schema: bool = False, with_schedule: bool = True,
    with_roles: bool = True,
) -> Plan:
    """Deploy in one transaction. With dry_run=True rehearse it in that transaction and roll it
    back, returning the plan with the rights it lacks (plan.missing); for real, a missing
    right is a MissingRights error before anything is committed. With with_schedule=False
    leave pg_cron as it is (without it, a server lacking pg_cron is a ConfigError); with
    with_roles=False the manifest's roles must exist already."""
    conn = connect(dsn, autocommit=False)
    target = None
    try:
        take_deploy_lock(conn, manifest, session=False)
        with translated():
            on_citus = citus.require_coordinator(conn)
            if on_citus:  # SnapBet's triggers fire on the shards (docs/citus.md)
                conn.execute("SET LOCAL citus.enable_unsafe_triggers = on")
                manifest = citus.for_database(conn, manifest)
                citus.keep_roles_local(conn)
            if with_app_schema:
                install_app_schema(conn, manifest.template_vars())  # rolled back with a dry run
                if on_citus:
                    citus.distribute_app_schema(conn, manifest.template_vars())
            check_app_tables(conn, manifest)
            target = schedule.locate(conn, dsn)
            if with_schedule and not target.available:
                raise ConfigError(f"cannot schedule the jobs: {target.why}; deploy with --no-schedule to install "
                                  "them without a schedule")
            plan = make_plan(conn, manifest, target, with_schedule, with_roles)
            if on_citus:
                citus.check_roles(conn, [r.describe() for r in plan.roles if not r.optional])
            plan.missing = rights.check(conn, plan, manifest, target, with_schedule)
            if with_schedule and schedule.desired(manifest, target) and schedule.launcher_running(target) is False:
                plan.warnings.append(f"pg_cron's launcher is not running in database {target.conn.info.dbname}: no "
                                     f"scheduled job will start ({schedule.LAUNCHER_MISSING})")
            if dry_run:
                _rehearse(conn, manifest, target, plan)
                return plan
            if plan.missing:
                raise MissingRights([m.line() for m in plan.missing])
            _apply(conn, manifest, plan)
            blind = rights.blindness(conn, manifest, plan.bypass_refused)
            if blind:
                raise MissingRights([m.line() for m in blind])
            _record_schedule(conn, manifest, target if with_schedule else None, plan)
            _record_deployment(conn, manifest, plan)
            if target.local:
                schedule.apply(plan.cron, target)
                conn.commit()
            else:
                if plan.cron:
                    schedule.apply(plan.cron, target)
                conn.commit()  # first: pg_cron must not start a job the transaction may still lose
                if target.available:
                    target.conn.commit()
        if plan.indexes:
            with connect(dsn) as index_conn:
                # Planned again under the deploy lock (a session lock: each build commits):
                # a concurrent deploy may have built some meanwhile.
                take_deploy_lock(index_conn, manifest, session=True)
                with translated():
                        indexes.apply(index_conn, manifest, indexes.plan(index_conn, manifest))
        return plan
    finally:
        if target is not None:
            target.close()
        conn.close()


def _rehearse(conn: psycopg.Connection, manifest: Manifest, target: schedule.CronTarget, plan: Plan) -> None:
    """For --plan: do what deploy would, in this transaction and pg_cron's, and roll both
    back, adding to plan.missing whatever would stop it. Skipped where rights are missing
    already (it would only fail on the first of them)."""
    try:
        if plan.missing:
            plan.missing += rights.bypass_hint(conn, manifest, plan.bypass_refused)
            return
        try:
            with translated():
                _apply(conn, manifest, plan)
                plan.missing += rights.blindness(conn, manifest, plan.bypass_refused)
                if plan.cron:
                    schedule.apply(plan.cron, target)
        except DatabaseError as exc:
            plan.missing.append(rights.Missing("deploy would fail", str(exc)))
    finally:
        conn.rollback()
        if target.available and not target.local:
            target.conn.rollback()


def take_deploy_lock(conn: psycopg.Connection, manifest: Manifest, *, session: bool) -> None:
    """Serialise deploys (and uninstalls): wait at most deploy_lock_wait for another one to
    finish, then fail with one line and change nothing. A transaction lock for the
    deploy's transaction; a session lock for the index builds, which commit one by one."""
    wait = manifest.settings["deploy_lock_wait"]
    function = "pg_advisory_lock" if session else "pg_advisory_xact_lock"
    local = not session
    try:
        with translated():
            before = conn.execute("SELECT current_setting('lock_timeout') AS v").fetchone()["v"]
            conn.execute("SELECT set_config('lock_timeout', %s, %s)", (wait, local))
            conn.execute(f"SELECT {function}(hashtextextended(%s, 0))", (DEPLOY_LOCK,))
            conn.execute("SELECT set_config('lock_timeout', %s, %s)", (before, local))
    except DatabaseError as exc:
        if exc.sqlstate != "55P03":
            raise
        raise DeployBusy(f"another deploy of this database is in progress: waited {wait} for it "
                         "(deploy_lock_wait); nothing was changed") from None


def uninstall(dsn: str, manifest: Manifest) -> list[str]:
    """Unschedule our cron jobs and drop the jobs schema. SnapBet's tables are left alone.
    pg_cron's side commits first: a schema left behind is mended by a deploy, a cron job
    left calling a dropped procedure would fail every hour."""
    conn = connect(dsn, autocommit=False)
    target = None
    try:
        take_deploy_lock(conn, manifest, session=False)
        with translated():
            target = schedule.locate(conn, dsn)
            changes = [schedule.CronChange("unschedule", job) for job in schedule.owned(manifest, target)]
            schedule.apply(changes, target)
            if not target.local and target.available:
                target.conn.commit()
            js = manifest.settings["jobs_schema"]
            present = exists(conn, "schema", quote_ident(js))
            if present:
                conn.execute(f"DROP SCHEMA {quote_ident(js)} CASCADE")
            conn.commit()
        with connect(dsn) as index_conn:
            dropped = indexes.drop_all(index_conn, manifest)
        return [c.describe() for c in changes] + ([f"drop schema {js}"] if present else []) + dropped
    finally:
        if target is not None:
            target.close()
        conn.close()
