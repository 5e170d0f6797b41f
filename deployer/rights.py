"""The rights a deploy needs, checked before anything changes.

A deploy runs as whatever role the user connects with: on a self-hosted server often a
superuser, on Supabase `postgres`, which is not one (it has CREATEROLE and BYPASSRLS, and
pg_cron's platform grants). Everything the deploy does must then be possible for that
role, or the deploy must stop before its first change, naming each missing right and how to
grant it. `check` finds them in three ways:

- the role statements of the plan (create a role, grant the deploying role membership,
  give the owner BYPASSRLS) are tried, each in a savepoint, and rolled back: whether
  PostgreSQL or an extension such as supautils lets this role do them cannot be read from
  the catalog;
- the grants sql/privileges.sql makes to the owner role are checked in the catalog: GRANT
  ON ALL TABLES only warns where the grantor lacks the grant option, so a missing one would
  surface as a job failing hours later; and that this role may read storage.objects, which
  cleanup_media reads through a view it owns;
- pg_cron's functions and table are checked on the session that schedules.

The deploy (or its rehearsal, for --plan) then asks `jobs.blind_spots()` whether row
security would still hide rows from the owner role (`blindness`).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from deployer.db import translated
from deployer.render import quote_ident

# What sql/privileges.sql grants the owner role outside the jobs schema, by what for.
APP_TABLE_RIGHTS = ("SELECT", "INSERT", "UPDATE", "DELETE")
APP_SEQUENCE_RIGHTS = ("USAGE", "SELECT", "UPDATE")
CRON_SCHEDULE = "cron.schedule_in_database(text,text,text,text,text,boolean)"
CRON_UNSCHEDULE = "cron.unschedule(bigint)"


@dataclass(frozen=True)
class Missing:
    """A right the deploy needs and lacks: what would fail, and how to grant it."""

    what: str
    fix: str

    def line(self) -> str:
        return f"{self.what}: {self.fix}"


def attempt(conn: psycopg.Connection, sql: str, *, keep: bool = False) -> str | None:
    """Run `sql` in a savepoint, kept or rolled back; on failure rolled back and its error's
    message returned (None when it worked)."""
    conn.execute("SAVEPOINT deployer_attempt")
    try:
        conn.execute(sql)
    except psycopg.DatabaseError as exc:
        if exc.sqlstate is None:  # the connection broke: not a missing right
            raise
        conn.execute("ROLLBACK TO SAVEPOINT deployer_attempt")
        conn.execute("RELEASE SAVEPOINT deployer_attempt")
        return exc.diag.message_primary or str(exc).strip()
    if not keep:
        conn.execute("ROLLBACK TO SAVEPOINT deployer_attempt")
    conn.execute("RELEASE SAVEPOINT deployer_attempt")
    return None


def check(conn: psycopg.Connection, plan, manifest, target, with_schedule: bool) -> list[Missing]:
    """Every right `plan` needs that the deploying role lacks, each once, in the order a
    deploy would hit them. Changes nothing: whatever it tries is rolled back. Drops from
    plan.roles an optional change this role may not make (the owner's BYPASSRLS), and
    records why in plan.bypass_refused."""
    me = conn.execute("SELECT current_user AS name, rolsuper, rolcreaterole FROM pg_roles"
                      " WHERE rolname = current_user").fetchone()
    missing: list[Missing] = []
    conn.execute("SAVEPOINT deployer_rights")
    try:
        kept, uncreated = [], set()
        for change in plan.roles:
            if change.role in uncreated:
                continue  # its creation is the missing right
            error = attempt(conn, change.sql, keep=True)  # kept for the checks below, until the end
            if error is None:
                kept.append(change)
            elif change.kind == "bypassrls":
                plan.bypass_refused = error  # judged by its effect: rights.blindness
            elif change.optional:
                plan.warnings.append(f"cannot {change.describe()}: {error}; job_health and cleanup tell a live run "
                                     "by its PID alone")
            else:
                if change.kind == "create":
                    uncreated.add(change.role)
                missing.append(Missing(f"cannot {change.describe()} ({error})", change.fix(me["name"])))
        plan.roles = kept
        missing += _schema_rights(conn, manifest, me)
        missing += _owner_grants(conn, manifest, me, target)
    finally:
        conn.execute("ROLLBACK TO SAVEPOINT deployer_rights")
        conn.execute("RELEASE SAVEPOINT deployer_rights")
    if with_schedule and target.available:
        missing += _cron_rights(target, me)
    return missing


def _schema_rights(conn: psycopg.Connection, manifest, me) -> list[Missing]:
    js = manifest.settings["jobs_schema"]
    row = conn.execute(
        "SELECT current_database() AS db, has_database_privilege(current_database(), 'CREATE') AS may_create,"
        " (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s) AS owner,"
        " (SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace WHERE nspname = %s) AS acts_as",
        (js, js)).fetchone()
    out = []
    if not row["may_create"]:  # needed for CREATE SCHEMA, and to hand the schema to the owner
        out.append(Missing(f"role {me['name']} may not create schemas in database {row['db']}",
                           f"GRANT CREATE ON DATABASE {quote_ident(row['db'])} TO {quote_ident(me['name'])}"))
    objects = f"{quote_ident(manifest.settings['storage_schema'])}.objects"
    reads = conn.execute("SELECT to_regclass(%s) IS NULL OR (has_schema_privilege(%s, 'USAGE')"
                         " AND has_table_privilege(to_regclass(%s), 'SELECT')) AS ok",
                         (objects, manifest.settings["storage_schema"], objects)).fetchone()["ok"]
    if not reads:  # cleanup_media reads it through a view this role owns (jobs.storage_objects)
        who = quote_ident(me["name"])
        out.append(Missing(f"role {me['name']} may not read {objects}, which cleanup_media reads through a view "
                           "of the deploying role's",
                           f"GRANT USAGE ON SCHEMA {quote_ident(manifest.settings['storage_schema'])} TO {who}; "
                           f"GRANT SELECT ON {objects} TO {who}"))
    if row["owner"] is not None and not row["acts_as"]:
        out.append(Missing(f"schema {js} belongs to {row['owner']}, which role {me['name']} cannot act as",
                           f"GRANT {row['owner']} TO {quote_ident(me['name'])}"))
    return out


def _owner_grants(conn: psycopg.Connection, manifest, me, target) -> list[Missing]:
    """The owner's rights sql/privileges.sql grants, on each object where the owner lacks
    one and this role may not grant it."""
    owner = manifest.roles["owner"]
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone():
        return []  # it could not be created: said already
    app = manifest.settings["app_schema"]
    wanted = [("r", "n.nspname = %(app)s AND c.relkind IN ('r', 'p')", APP_TABLE_RIGHTS),
              ("S", "n.nspname = %(app)s AND c.relkind = 'S'", APP_SEQUENCE_RIGHTS)]
    if target.local:
        wanted += [("r", "n.nspname = 'cron' AND c.relname = 'job_run_details'", ("SELECT", "DELETE")),
                   ("r", "n.nspname = 'cron' AND c.relname = 'job'", ("SELECT",))]
    out = []
    for kind, where, rights in wanted:
        check = "has_sequence_privilege" if kind == "S" else "has_table_privilege"
        rows = conn.execute(
            f"SELECT c.oid::regclass::text AS name, array_agg(r ORDER BY o) AS rights"
            f"  FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            f"  CROSS JOIN unnest(%(rights)s::text[]) WITH ORDINALITY AS x (r, o)"
            f" WHERE {where} AND NOT {check}(%(owner)s, c.oid, r)"
            f"   AND NOT {check}(c.oid, r || ' WITH GRANT OPTION')"
            f" GROUP BY c.oid ORDER BY 1",
            {"app": app, "rights": list(rights), "owner": owner}).fetchall()
        for r in rows:
            what = ", ".join(r["rights"])
            thing = "SEQUENCE " if kind == "S" else ""
            out.append(Missing(f"role {me['name']} may not grant {what} on {r['name']} to {owner}",
                               f"GRANT {what} ON {thing}{r['name']} TO {quote_ident(me['name'])} WITH GRANT OPTION"
                               f" (as its owner), or GRANT {what} ON {thing}{r['name']} TO {quote_ident(owner)}"))
    return out


def _cron_rights(target, me) -> list[Missing]:
    """What scheduling needs in pg_cron's database: its two functions and its job table."""
    with translated():
        row = target.conn.execute(
            "SELECT current_database() AS db, to_regprocedure(%s) IS NOT NULL AS has_schedule,"
            " coalesce(has_function_privilege(to_regprocedure(%s), 'EXECUTE'), false) AS schedule,"
            " coalesce(has_function_privilege(to_regprocedure(%s), 'EXECUTE'), false) AS unschedule,"
            " coalesce(has_table_privilege(to_regclass('cron.job'), 'SELECT'), false) AS read,"
            " current_setting('cron.enable_superuser_jobs', true) AS superuser_jobs",
            (CRON_SCHEDULE, CRON_SCHEDULE, CRON_UNSCHEDULE)).fetchone()
        if not target.local:  # there, target.conn is the deploy's own transaction
            target.conn.rollback()
    who = quote_ident(me["name"])
    where = f"in database {row['db']}"
    if not row["has_schedule"]:
        return [Missing(f"pg_cron {where} has no cron.schedule_in_database (pg_cron 1.4 or later has it)",
                        "ALTER EXTENSION pg_cron UPDATE, as a superuser")]
    out = []
    if not row["schedule"]:
        out.append(Missing(f"role {me['name']} may not schedule jobs with pg_cron {where}",
                           f"GRANT USAGE ON SCHEMA cron TO {who}; GRANT EXECUTE ON FUNCTION {CRON_SCHEDULE} TO {who}"))
    if not row["unschedule"]:
        out.append(Missing(f"role {me['name']} may not unschedule jobs with pg_cron {where}",
                           f"GRANT EXECUTE ON FUNCTION {CRON_UNSCHEDULE} TO {who}"))
    if not row["read"]:
        out.append(Missing(f"role {me['name']} may not read pg_cron's jobs {where}",
                           f"GRANT SELECT ON cron.job TO {who}"))
    if me["rolsuper"] and row["superuser_jobs"] == "off":
        out.append(Missing(f"pg_cron runs no job scheduled by a superuser (cron.enable_superuser_jobs = off), "
                           f"and role {me['name']} is one",
                           "deploy as a role that is not a superuser (it needs CREATEROLE, or the job set's roles "
                           "made beforehand), or set cron.enable_superuser_jobs = on"))
    return out


def blindness(conn: psycopg.Connection, manifest, bypass_refused: str | None) -> list[Missing]:
    """Row security that would still hide rows from the owner role once deployed (asked of
    jobs.blind_spots(), which the deploy has just installed in this transaction)."""
    js, owner = manifest.settings["jobs_schema"], manifest.roles["owner"]
    with translated():
        tables = conn.execute(f"SELECT {quote_ident(js)}.blind_spots() AS t").fetchone()["t"]
    if not tables:
        return []
    why = f" (the deploying role may not give it that: {bypass_refused})" if bypass_refused else ""
    return [Missing(f"row level security hides rows of {', '.join(tables)} from role {owner}, the role the jobs "
                    "run as: they would see none of them and do nothing",
                    f"as a superuser, ALTER ROLE {quote_ident(owner)} BYPASSRLS{why}")]


def bypass_hint(conn: psycopg.Connection, manifest, bypass_refused: str | None) -> list[Missing]:
    """Where the deploy could not be rehearsed (other rights missing): the owner's
    BYPASSRLS, should it be refused while a table of the app has row security."""
    if not bypass_refused:
        return []
    row = conn.execute("SELECT array_agg(c.oid::regclass::text ORDER BY 1) AS t FROM pg_class AS c"
                       " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                       " WHERE n.nspname IN (%s, %s) AND c.relrowsecurity AND c.relkind IN ('r', 'p')",
                       (manifest.settings["app_schema"], manifest.settings["storage_schema"])).fetchone()
    if not row["t"]:
        return []
    owner = manifest.roles["owner"]
    return [Missing(f"role {owner} cannot be given BYPASSRLS ({bypass_refused}), and {', '.join(row['t'][:5])}"
                    f"{' …' if len(row['t']) > 5 else ''} have row level security: the jobs would see none of "
                    "their rows", f"as a superuser, ALTER ROLE {quote_ident(owner)} BYPASSRLS")]
