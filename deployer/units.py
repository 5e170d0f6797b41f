"""The unit model: what a deploy installs, one unit at a time, and the grammar of unit names.

A unit is one rendered template (framework file, job file, app schema file) or one job's
registry row. Its checksum is remembered in jobs.deployed_objects, so a deploy that
changes nothing executes nothing. Unit names are built and read here, and nowhere else in
Python: `framework/<file>` (and `framework/upgrade/<file>`), `jobs/<job>.sql`,
`registry/<job>`, `privileges.sql`. The SQL side reads the same grammar in one place, the
generated column deployed_objects.job_name (sql/macros/registry.sql, unit_job_name).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deployer.render import Rendered, framework_templates, make_env, quote_ident, render, sql_root

if TYPE_CHECKING:  # the manifest names its jobs' templates with job_unit
    import jinja2

    from deployer.manifest import Manifest

PRIVILEGES_UNIT = "privileges.sql"
JOBS_PREFIX = "jobs/"
REGISTRY_PREFIX = "registry/"
# A job function's arguments now, and in earlier releases (p_after came later).
JOB_SIGNATURES = ("timestamptz, boolean, integer, jsonb", "timestamptz, boolean, integer")
# The routines a unit creates, so the catalog they leave can be recorded and watched.
ROUTINE_RE = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+\"?[\w$]+\"?\.\"?([\w$]+)\"?\s*\(",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    name: str  # 'framework/40_run_job.sql', 'jobs/expire_content.sql', 'registry/expire_content'
    sql: str
    params: tuple = ()

    @property
    def checksum(self) -> str:
        payload = self.sql + "\x00" + json.dumps(self.params, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def routines(self) -> list[str]:
        """Names of the job set's functions and procedures this unit creates."""
        return sorted(set(ROUTINE_RE.findall(self.sql)))


def job_unit(job: str) -> str:
    """The unit (and template) of a job's function: 'jobs/<job>.sql'."""
    return f"{JOBS_PREFIX}{job}.sql"


def registry_unit(job: str) -> str:
    """The unit of a job's registry row: 'registry/<job>'."""
    return f"{REGISTRY_PREFIX}{job}"


def is_registry(name: str) -> bool:
    """Whether the unit is a job's registry row (not a template)."""
    return name.startswith(REGISTRY_PREFIX)


def job_of(name: str) -> str | None:
    """The job a unit belongs to: <job> of 'registry/<job>' and of 'jobs/<job>.sql'; None for
    the framework's units and privileges.sql. Python's reading of what the database keeps as
    deployed_objects.job_name: where a name comes from the database, read that column."""
    if is_registry(name):
        return name[len(REGISTRY_PREFIX):]
    if name.startswith(JOBS_PREFIX):
        return name[len(JOBS_PREFIX):].removesuffix(".sql")
    return None


def app_units(variables: dict) -> list[Rendered]:
    """The reference SnapBet schema (sql/app), in file-name order; needs app_schema and
    storage_schema."""
    env = make_env()
    names = sorted(p.name for p in (sql_root() / "app").glob("*.sql"))
    return [render(f"app/{name}", variables, env) for name in names]


def _job_sql(manifest: Manifest, name: str, env: jinja2.Environment) -> str:
    """A job's function, rendered: what manifest.load rendered when the SQL root and the
    variables are still the same, else rendered now."""
    variables = manifest.template_vars(manifest.jobs[name])
    done = manifest.rendered.get(name)
    if done is not None and done[:2] == (sql_root(), variables):
        return done[2]
    return render(job_unit(name), variables, env).sql


def job_units(manifest: Manifest) -> list[Unit]:
    """Framework, job functions and registry rows, then the privileges, in install order."""
    env = make_env()
    units = [Unit(name, render(name, manifest.template_vars(), env).sql) for name in framework_templates()]
    js = manifest.settings["jobs_schema"]
    # The row's columns are the SQL side's (sql/framework/26_register_job.sql), in its order.
    registry_sql = (f"SELECT {quote_ident(js)}.register_job(%s, %s, %s, %s, %s, %s::interval, %s, %s, %s::interval,"
                    " %s, %s, %s, %s, %s::text[])")
    s = manifest.settings
    for job in manifest.jobs.values():
        units.append(Unit(job_unit(job.name), _job_sql(manifest, job.name, env)))
        units.append(Unit(registry_unit(job.name), registry_sql, (
            job.name, job.description, job.schedule, job.enabled, job.batch_size, job.batch_time,
            job.min_batch_size, job.max_batch_size, job.time_budget,
            s["lock_timeout"], s["max_retries"], s["retry_backoff_ms"], job.confirm, list(job.after))))
    units.append(Unit(PRIVILEGES_UNIT, render(PRIVILEGES_UNIT, manifest.template_vars(), env).sql))
    return units
