"""The manifest (sql/jobs.toml): jobs, schedules, variables, environments.

Everything is validated on load, so a malformed manifest is one clear line before any
database is touched.
"""

from __future__ import annotations

import re
import zoneinfo
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer import cron
from deployer.errors import ConfigError
from deployer.render import INTERVAL_RE, BadValue, MissingVariable, make_env, render, sql_root
from deployer.units import job_unit

NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
LOCK_TIMEOUT_RE = re.compile(r"^\d+(ms|s|min|h)?$")

SETTINGS_DEFAULTS: dict[str, Any] = {
    "app_schema": "public",
    "storage_schema": "storage",
    "jobs_schema": "jobs",
    "timezone": "UTC",
    "lock_timeout": "5s",
    "max_retries": 3,
    "retry_backoff_ms": 200,
    "notify_channel": "jobset_runs",  # run_job announces runs here (deployer watch, the dashboard)
    "overdue_grace": "10 minutes",    # how late a scheduled run may start before job_health calls it overdue
    "deploy_lock_wait": "60s",        # how long a deploy waits for another one to finish
}
# The job set's roles (docs/rules.md: The runner, least privilege): `owner` owns every object of the jobs schema
# and is what the job functions run as; `runner` may run jobs (run_job, the dry runs) and read
# their history; `monitor` may read history and health. pg_cron runs each job as its
# `run_as` role, the runner unless the job says otherwise.
ROLES_DEFAULTS: dict[str, str] = {"owner": "jobset_owner", "runner": "jobset_runner", "monitor": "jobset_monitor"}
JOB_KEYS = {"description", "schedule", "enabled", "batch_size", "batch_time", "min_batch_size", "max_batch_size",
            "time_budget", "confirm", "after", "run_as", "vars"}
RUNNER_KEYS = {"roles", "job_names", "job_name", "batch_size", "batch_time", "min_batch_size", "max_batch_size", "time_budget"}
BATCH_TIME_DEFAULT = "200 milliseconds"


@dataclass(frozen=True)
class Job:
    name: str
    schedule: str
    enabled: bool
    batch_size: int  # the first batch's size; later ones adapt to hold batch_time
    time_budget: str
    description: str = ""
    batch_time: str = BATCH_TIME_DEFAULT
    min_batch_size: int = 1
    max_batch_size: int = 0  # set by the loader: ten times batch_size unless given
    confirm: bool = False
    after: tuple[str, ...] = ()  # `run all` runs these first, and skips this job when one fails
    run_as: str = ""  # the role pg_cron runs it as; set by the loader (roles.runner unless given)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    settings: dict[str, Any]
    jobs: dict[str, Job]
    environment: str | None
    path: Path
    roles: dict[str, str] = field(default_factory=lambda: dict(ROLES_DEFAULTS))
    # Whether the templates render for a Citus coordinator (the `citus` variable): set by the
    # deployer when it finds one (deployer/citus.py), never by the manifest's file.
    citus: bool = False
    # Each job's function as load rendered it to validate it, with the SQL root and the
    # variables it was rendered with, so that the deploy's units (units.job_units) need not
    # render it again. Not copied by dataclasses.replace: a changed manifest renders anew.
    rendered: dict[str, tuple[Path, dict[str, Any], str]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def job(self, name: str) -> Job:
        try:
            return self.jobs[name]
        except KeyError:
            known = ", ".join(sorted(self.jobs))
            raise ConfigError(f"unknown job {name!r} (known: {known})") from None

    def template_vars(self, job: Job | None = None) -> dict[str, Any]:
        """Variables for one template: the settings, then the job's own."""
        out = dict(self.settings)
        out.update(roles=dict(self.roles), job_names=list(self.jobs), citus=self.citus)
        if job is not None:
            out.update(job.vars)
            out.update(job_name=job.name, description=job.description, batch_size=job.batch_size,
                       batch_time=job.batch_time,
                       min_batch_size=job.min_batch_size, max_batch_size=job.max_batch_size,
                       time_budget=job.time_budget)
        return out


def validate_schedule(expr: Any, where: str) -> str:
    """A schedule every pg_cron the job set runs on (1.4 to 1.6) takes, and means the same
    by: deployer.cron reads it as each does. Stricter than pg_cron where it would run the
    job otherwise than the schedule says (README, "Schedules"): no text pg_cron skips, no
    reversed range, no number C's atoi wraps, no @yearly (1.6 never fires it), none that
    never fires, nothing only a later pg_cron takes (`$`, `N seconds`, a step past the
    field's top)."""
    if not isinstance(expr, str) or not expr.strip():
        raise ConfigError(f"{where}: schedule must be a cron expression such as '0 * * * *'")
    expr = " ".join(expr.split())
    entries = {version: cron.parse(expr, version) for version in cron.VERSIONS}
    refused = [version for version, entry in entries.items() if entry is None]
    if len(refused) == len(entries):
        raise ConfigError(f"{where}: {expr!r} is not a valid five-field cron expression pg_cron takes (minute hour "
                          "day-of-month month day-of-week), nor @hourly, @daily, @midnight, @weekly, @monthly, @reboot")
    if refused:
        taken = [version for version in cron.VERSIONS if version not in refused]
        raise ConfigError(f"{where}: {expr!r} is taken by pg_cron {', '.join(taken)} but refused by "
                          f"{', '.join(refused)}, which the job set runs on too")
    entry = entries[cron.NEWEST]
    if entry.notes:
        kind, detail = entry.notes[0]
        extra = " is not a valid five-field cron expression" if detail.endswith("after the fifth field") else ""
        raise ConfigError(f"{where}: {expr!r}{extra}: " + {
            "skipped": f"pg_cron would ignore {detail}, so the job would not run as written",
            "reversed": f"the range {detail} ends before it starts: pg_cron 1.4 reads it as nothing, 1.6 as part "
                        "of a wrap-around; write it as two ranges",
            "wrapped": f"{detail} is out of range (pg_cron wraps it to another number)",
        }[kind])
    if expr.split(" ")[0] in ("@yearly", "@annually"):
        raise ConfigError(f"{where}: {expr!r}: pg_cron 1.6 never fires {expr}; write '0 0 1 1 *'")
    if not entry.reboot and not all(cron.can_fire(e) for e in entries.values()):
        raise ConfigError(f"{where}: {expr!r} never fires")
    return expr


INT4_MAX = 2**31 - 1  # what the registry's integer columns hold


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT4_MAX:
        raise ConfigError(f"{where} must be a positive integer (at most {INT4_MAX}), not {value!r}")
    return value


def _interval(value: Any, where: str) -> str:
    if not isinstance(value, str) or not INTERVAL_RE.match(value):
        raise ConfigError(f"{where} must be an interval such as '10 minutes', not {value!r}")
    return value


def _timezone(name: Any) -> str:
    """A time zone of the IANA database, which PostgreSQL reads too (Debian's builds use the
    system's copy). Stricter than PostgreSQL, which also takes POSIX strings such as
    'XYZ+3', a choice: those carry no daylight-saving rules of a real place. An unknown name
    would make every weekly job fail at run time."""
    if isinstance(name, str) and re.match(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$", name):
        try:
            zoneinfo.ZoneInfo(name)
            return name
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ConfigError(f"[settings] timezone: {name!r} is not a time zone of the IANA database (such as "
                      "'UTC' or 'Europe/Paris')")


def _check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    unknown = set(settings) - set(SETTINGS_DEFAULTS)
    if unknown:
        raise ConfigError(f"[settings]: unknown key {sorted(unknown)[0]!r}")
    out = {**SETTINGS_DEFAULTS, **settings}
    for key in ("app_schema", "storage_schema", "jobs_schema"):
        if not isinstance(out[key], str) or not NAME_RE.match(out[key]):
            raise ConfigError(f"[settings] {key} must be a lower-case SQL name, not {out[key]!r}")
    _timezone(out["timezone"])
    if not isinstance(out["lock_timeout"], str) or not LOCK_TIMEOUT_RE.match(out["lock_timeout"]):
        raise ConfigError(f"[settings] lock_timeout must look like '5s' or '500ms', not {out['lock_timeout']!r}")
    if isinstance(out["max_retries"], bool) or not isinstance(out["max_retries"], int) or out["max_retries"] < 0:
        raise ConfigError(f"[settings] max_retries must be an integer >= 0, not {out['max_retries']!r}")
    _positive_int(out["retry_backoff_ms"], "[settings] retry_backoff_ms")
    if not isinstance(out["notify_channel"], str) or not NAME_RE.match(out["notify_channel"]):
        raise ConfigError(f"[settings] notify_channel must be a lower-case SQL name, not {out['notify_channel']!r}")
    _interval(out["overdue_grace"], "[settings] overdue_grace")
    if not isinstance(out["deploy_lock_wait"], str) or not LOCK_TIMEOUT_RE.match(out["deploy_lock_wait"]):
        raise ConfigError(f"[settings] deploy_lock_wait must look like '60s' or '500ms', not {out['deploy_lock_wait']!r}")
    return out


def _check_roles(roles: Any) -> dict[str, str]:
    if not isinstance(roles, dict):
        raise ConfigError("[roles] must be a table of role names")
    unknown = set(roles) - set(ROLES_DEFAULTS)
    if unknown:
        raise ConfigError(f"[roles]: unknown key {sorted(unknown)[0]!r} (known: owner, runner, monitor)")
    out = {**ROLES_DEFAULTS, **roles}
    for key, value in out.items():
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise ConfigError(f"[roles] {key} must be a lower-case SQL role name, not {value!r}")
    if len(set(out.values())) != len(out):
        raise ConfigError("[roles]: owner, runner and monitor must be three different roles")
    return out


def _check_job(name: str, raw: Any, root: Path, roles: dict[str, str]) -> Job:
    where = f"[jobs.{name}]"
    if not NAME_RE.match(name):
        raise ConfigError(f"{where}: a job name must be a lower-case SQL name")
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(raw) - JOB_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for key in ("schedule", "batch_size", "time_budget"):
        if key not in raw:
            raise ConfigError(f"{where}: {key} is missing")
    if not (root / "jobs" / f"{name}.sql").is_file():
        raise ConfigError(f"{where}: there is no sql/jobs/{name}.sql")
    variables = raw.get("vars", {})
    if not isinstance(variables, dict) or any(isinstance(v, (dict, list)) for v in variables.values()):
        raise ConfigError(f"{where}.vars must be a table of plain values")
    clash = sorted(set(variables) & (set(SETTINGS_DEFAULTS) | RUNNER_KEYS))
    if clash:
        raise ConfigError(f"{where}.vars: {clash[0]!r} is a setting, not a job variable")
    for flag in ("enabled", "confirm"):
        if not isinstance(raw.get(flag, False), bool):
            raise ConfigError(f"{where} {flag} must be true or false")
    after = raw.get("after", [])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise ConfigError(f"{where} after must be a list of job names")
    run_as = raw.get("run_as", roles["runner"])
    if not isinstance(run_as, str) or not NAME_RE.match(run_as):
        raise ConfigError(f"{where} run_as must be a lower-case SQL role name, not {run_as!r}")
    if run_as in (roles["owner"], roles["monitor"]):
        raise ConfigError(f"{where} run_as: pg_cron must not run a job as the {'owner' if run_as == roles['owner'] else 'monitor'} "
                          f"role {run_as!r}; use the runner role or one of its members")
    batch_size = _positive_int(raw["batch_size"], f"{where} batch_size")
    smallest = _positive_int(raw.get("min_batch_size", 1), f"{where} min_batch_size")
    largest = _positive_int(raw.get("max_batch_size", 10 * batch_size), f"{where} max_batch_size")
    if not smallest <= batch_size <= largest:
        raise ConfigError(f"{where}: batch sizes must satisfy min_batch_size <= batch_size <= max_batch_size, "
                          f"not {smallest} <= {batch_size} <= {largest}")
    return Job(
        name=name,
        schedule=validate_schedule(raw["schedule"], where),
        enabled=raw.get("enabled", True),
        batch_size=batch_size,
        batch_time=_interval(raw.get("batch_time", BATCH_TIME_DEFAULT), f"{where} batch_time"),
        min_batch_size=smallest,
        max_batch_size=largest,
        time_budget=_interval(raw["time_budget"], f"{where} time_budget"),
        description=str(raw.get("description", "")),
        confirm=raw.get("confirm", False),
        after=tuple(after),
        run_as=run_as,
        vars=dict(variables),
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load(path: Path | None = None, environment: str | None = None) -> Manifest:
    """Read, merge the environment's overrides into, and validate the manifest."""
    root = sql_root()
    path = path or root / "jobs.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"manifest not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"manifest {path} is a directory: name its TOML file, such as sql/jobs.toml") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"manifest {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                          f"{exc.start}): a manifest is a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"manifest {path} cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    unknown = set(data) - {"settings", "roles", "jobs", "environments"}
    if unknown:
        raise ConfigError(f"{path.name}: unknown table [{sorted(unknown)[0]}]")
    envs = data.get("environments", {})
    if not isinstance(envs, dict) or not all(isinstance(e, dict) for e in envs.values()):
        raise ConfigError(f"{path.name}: [environments] must hold one table per environment, such as "
                          "[environments.production]")
    if environment:
        if environment not in envs:
            known = ", ".join(sorted(envs)) or "none"
            raise ConfigError(f"{path.name}: unknown environment {environment!r} (known: {known})")
        data = _merge(data, envs[environment])
    jobs_raw = data.get("jobs", {})
    if not isinstance(jobs_raw, dict) or not jobs_raw:
        raise ConfigError(f"{path.name}: no [jobs.<name>] tables")
    if not isinstance(data.get("settings", {}), dict):
        raise ConfigError("[settings] must be a table of settings")
    roles = _check_roles(data.get("roles", {}))
    manifest = Manifest(
        settings=_check_settings(data.get("settings", {})),
        jobs={name: _check_job(name, raw, root, roles) for name, raw in jobs_raw.items()},
        environment=environment,
        path=path,
        roles=roles,
    )
    run_order(manifest)  # an unknown or circular `after` is a config error now
    # Render every job once: a variable of the wrong shape is a config error now,
    # not a failure in pg_cron every hour.
    env = make_env(root)
    for job in manifest.jobs.values():
        variables = manifest.template_vars(job)
        try:
            manifest.rendered[job.name] = (root, variables, render(job_unit(job.name), variables, env).sql)
        except BadValue as exc:
            raise ConfigError(f"{_whose(job, exc.value, data, environment)}: {exc}") from None
        except MissingVariable as exc:
            raise ConfigError(f"[jobs.{job.name}.vars]: {exc.variable} is missing "
                              f"(sql/jobs/{job.name}.sql uses it)") from None
    return manifest


def _whose(job: Job, value: Any, data: dict[str, Any], environment: str | None) -> str:
    """Where a job variable's value a template refused was written: the variable's table and
    name (the environment's when it overrides the job's), else the job's table."""
    keys = ([k for k, v in job.vars.items() if v is value]
            or [k for k, v in job.vars.items() if type(v) is type(value) and v == value])
    if not keys:
        return f"[jobs.{job.name}]"
    override = (data.get("environments", {}).get(environment or "", {}).get("jobs", {}).get(job.name, {})
                .get("vars", {}))
    if isinstance(override, dict) and keys[0] in override:
        return f"[environments.{environment}.jobs.{job.name}.vars] {keys[0]}"
    return f"[jobs.{job.name}.vars] {keys[0]}"


def run_order(manifest: Manifest) -> list[str]:
    """Every job, each after the jobs its `after` names (a topological order; among jobs
    free to go, the manifest's order). An unknown name or a cycle is a ConfigError."""
    for job in manifest.jobs.values():
        for dep in job.after:
            if dep not in manifest.jobs:
                raise ConfigError(f"[jobs.{job.name}] after: unknown job {dep!r}")
            if dep == job.name:
                raise ConfigError(f"[jobs.{job.name}] after: a job cannot run after itself")
    order: list[str] = []
    placed: set[str] = set()
    pending = list(manifest.jobs)
    while pending:
        ready = [name for name in pending if all(dep in placed for dep in manifest.jobs[name].after)]
        if not ready:
            raise ConfigError(f"after: the jobs {', '.join(pending)} wait for each other in a cycle")
        order.append(ready[0])
        placed.add(ready[0])
        pending.remove(ready[0])
    return order
