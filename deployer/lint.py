"""`deployer lint`: static checks of the rendered job set against a real database.

Two checkers: sqlfluff over every template as deploy renders it (deployer/sqlfluff_lint.py:
parse errors, ambiguous references; the rules in .sqlfluff), and plpgsql_check inside the
function bodies, which sqlfluff reads as strings. Then the privilege rules (docs/rules.md: The runner, least
privilege): a SECURITY DEFINER routine must pin its search_path (pg_catalog first, pg_temp
last) and say why it needs the owner's rights in its COMMENT ('SECURITY DEFINER: ...'), and
no routine of the jobs schema may be executable by PUBLIC.

Every unit is rendered (a template or manifest error shows here), then installed inside
one transaction that is always rolled back, and plpgsql_check reads every PL/pgSQL
function and procedure of the jobs schema against the tables it will really run on: a
renamed column or a type mismatch is found before a deploy, not at 03:00 in pg_cron.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from deployer import install, sqlfluff_lint, units
from deployer.db import connect, translated
from deployer.errors import MissingRights
from deployer.manifest import Manifest


@dataclass(frozen=True)
class Finding:
    function: str
    line: int | None
    level: str
    message: str
    sqlstate: str | None

    def __str__(self) -> str:
        where = f"{self.function} line {self.line}" if self.line else self.function
        return f"{where}: {self.level}: {self.message}" + (f" [SQLSTATE {self.sqlstate}]" if self.sqlstate else "")


@dataclass(frozen=True)
class LintReport:
    checked: list[str]
    findings: list[Finding]
    note: str = ""
    templates: list[str] = field(default_factory=list)
    sqlfluff: list[sqlfluff_lint.SqlfluffFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.findings or self.sqlfluff)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


# A trigger function is checked as each trigger that fires it would run it (its table and
# transition tables); one no trigger fires cannot be, and is not.
CHECK = """
SELECT DISTINCT p.oid::regprocedure::text AS function, c.lineno, c.level,
       c.message || coalesce(' (' || c.detail || ')', '') AS message, c.sqlstate
  FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'plpgsql'
  LEFT JOIN pg_trigger t ON p.prorettype = 'trigger'::regtype AND t.tgfoid = p.oid
  CROSS JOIN LATERAL plpgsql_check_function_tb(p.oid, coalesce(t.tgrelid, 0),
                                               oldtable => t.tgoldtable, newtable => t.tgnewtable) AS c
 WHERE p.pronamespace = to_regnamespace(%s)
   AND (p.prorettype <> 'trigger'::regtype OR t.oid IS NOT NULL)
 ORDER BY 1, 2
"""

# A routine breaking a privilege rule, with why; every routine of the jobs schema is read.
PRIVILEGES = """
SELECT p.oid::regprocedure::text AS function, v.message
  FROM pg_proc p
 CROSS JOIN LATERAL (VALUES
       (p.prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c
                                     WHERE c ~ '^search_path=pg_catalog(, *[^,]+)*, *pg_temp$'),
        'SECURITY DEFINER without a pinned search_path: add SET search_path = pg_catalog, ..., pg_temp'),
       (p.prosecdef AND coalesce(obj_description(p.oid, 'pg_proc'), '') NOT LIKE 'SECURITY DEFINER%%',
        'SECURITY DEFINER without a reason: its COMMENT must start with ''SECURITY DEFINER'' and say why'),
       (has_function_privilege('public', p.oid, 'EXECUTE'),
        'executable by PUBLIC: REVOKE ALL ON ROUTINE ... FROM PUBLIC')
      ) AS v (broken, message)
 WHERE p.pronamespace = to_regnamespace(%s)
   AND v.broken
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
 ORDER BY 1, 2
"""


def lint(dsn: str, manifest: Manifest) -> LintReport:
    """Install into a transaction that is rolled back, and check every function there; then
    sqlfluff. The database comes first: a connection refused, a table missing or a right
    lacking is one line within seconds, not after sqlfluff's half minute."""
    rendered = units.job_units(manifest)  # renders everything: template errors surface here
    js = manifest.settings["jobs_schema"]
    note, functions, rows, privileges = "", [], [], []
    conn = connect(dsn, autocommit=False)
    try:
        with translated():
            install.check_app_tables(conn, manifest)
            available = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plpgsql_check') AS ok"
            ).fetchone()["ok"]
            if not available:
                package = f"postgresql-{conn.info.server_version // 10000}-plpgsql-check"
                note = (f"plpgsql_check is not installed on this server (Debian: {package}); only the templates "
                        "were checked")
            else:
                _create_plpgsql_check(conn)
                for role in install.role_plan(conn, manifest, create=True):
                    conn.execute(role.sql)  # rolled back with the rest
                for unit in rendered:
                    conn.execute(unit.sql, unit.params or None)
                functions = [r["f"] for r in conn.execute(
                    "SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.pronamespace = to_regnamespace(%s)"
                    " ORDER BY 1", (js,)).fetchall()]
                rows = conn.execute(CHECK, (js,)).fetchall()
                privileges = conn.execute(PRIVILEGES, (js,)).fetchall()
    finally:
        conn.rollback()
        conn.close()
    templates, style = sqlfluff_lint.lint(manifest)
    findings = [Finding(r["function"], r["lineno"], r["level"], r["message"], r["sqlstate"]) for r in rows]
    findings += [Finding(r["function"], None, "error", r["message"], None) for r in privileges]
    return LintReport(functions, findings, note, templates=templates, sqlfluff=style)


def _create_plpgsql_check(conn: psycopg.Connection) -> None:
    """CREATE EXTENSION plpgsql_check in the transaction lint rolls back; a role that may not
    (it is not a trusted extension: a superuser's right) is told how to have it made once."""
    conn.execute("SAVEPOINT deployer_lint")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check")
    except psycopg.errors.InsufficientPrivilege as exc:
        conn.execute("ROLLBACK TO SAVEPOINT deployer_lint")
        who, database = conn.execute("SELECT current_user AS u, current_database() AS d").fetchone().values()
        raise MissingRights([(
            f"lint needs the extension plpgsql_check in database {database}, which {who} may not create "
            f"({exc.diag.message_primary}): have a superuser run CREATE EXTENSION plpgsql_check there once, "
            "or lint as a superuser")]) from None
    conn.execute("RELEASE SAVEPOINT deployer_lint")
