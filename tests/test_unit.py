"""No database: rendering, quoting, the manifest, argument parsing, the installed wheel."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from deployer import manifest, render, run, status, units
from deployer.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("value", "quoted"), [
    ("users", '"users"'),
    ('we"ird', '"we""ird"'),
    ("x; DROP TABLE users; --", '"x; DROP TABLE users; --"'),
    (("jobs", "run_job"), '"jobs"."run_job"'),
])
def test_ident_filter_quotes_identifiers(value, quoted):
    assert render.quote_ident(value) == quoted


@pytest.mark.parametrize(("value", "quoted"), [
    ("it's", "'it''s'"),
    ("'; DROP TABLE users; --", "'''; DROP TABLE users; --'"),
    (42, "42"),
    (True, "true"),
    (None, "NULL"),
    ({"a": 1}, "'{\"a\": 1}'::jsonb"),
])
def test_literal_filter_quotes_values(value, quoted):
    assert render.quote_literal(value) == quoted


@pytest.mark.parametrize("bad", ["", "a\x00b", 3])
def test_ident_filter_refuses_non_identifiers(bad):
    with pytest.raises(ConfigError):
        render.quote_ident(bad)


def test_interval_filter_types_its_literal():
    assert render.quote_interval("3 hours") == "'3 hours'::interval"
    with pytest.raises(ConfigError):
        render.quote_interval(3)


def test_a_missing_variable_names_the_template_and_the_variable():
    m = manifest.load()
    variables = m.template_vars(m.job("expire_content"))
    del variables["pick_grace"]
    with pytest.raises(ConfigError, match=r"jobs/expire_content.sql: 'pick_grace' is undefined"):
        render.render("jobs/expire_content.sql", variables)


def test_every_template_renders_without_leftover_jinja():
    m = manifest.load()
    for name in ["framework/40_run_job.sql", "framework/25_job_state.sql", *(f"jobs/{job}.sql" for job in m.jobs)]:
        job = m.jobs.get(Path(name).stem)
        sql = render.render(name, m.template_vars(job)).sql
        assert "{{" not in sql and "{%" not in sql and "{#" not in sql


def test_manifest_environment_overrides_settings():
    assert manifest.load().settings["lock_timeout"] == "5s"
    test = manifest.load(environment="test")
    assert (test.settings["lock_timeout"], test.settings["retry_backoff_ms"]) == ("2s", 20)
    assert test.settings["app_schema"] == "public"


def test_manifest_jobs_and_their_variables():
    m = manifest.load()
    assert list(m.jobs) == ["expire_content", "settle_games", "rollup_stats", "calculate_badges", "reset_bankrolls",
                            "cleanup", "cleanup_media"]
    assert m.job("expire_content").vars == {"pick_grace": "3 hours", "hard_delete_after": "30 days"}
    assert m.job("reset_bankrolls").confirm is True
    assert (m.job("settle_games").vars, m.job("rollup_stats").vars) == ({"notify": True}, {"settle_lag": "1 hour"})
    with pytest.raises(ConfigError, match="unknown job 'nope'"):
        m.job("nope")


@pytest.mark.parametrize("expr", ["0 * * * *", "*/15 2-4 * * 1-5", "@daily", "  5  *  * * * "])
def test_valid_schedules(expr):
    assert manifest.validate_schedule(expr, "x") == " ".join(expr.split())


@pytest.mark.parametrize("expr", ["61 * * * *", "* * * *", "* * * * * *", "30 seconds", "", 5])
def test_invalid_schedules(expr):
    with pytest.raises(ConfigError):
        manifest.validate_schedule(expr, "x")


def test_unknown_keys_in_the_manifest_are_errors(tmp_path):
    path = tmp_path / "jobs.toml"
    path.write_text('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 1\ntime_budget = "1 minute"\n'
                    'batchsize = 3\n')
    with pytest.raises(ConfigError, match="unknown key 'batchsize'"):
        manifest.load(path)


def test_batch_settings_default_to_an_adaptive_range_around_batch_size(tmp_path):
    path = tmp_path / "jobs.toml"
    path.write_text('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 300\ntime_budget = "1 minute"\n'
                    '[jobs.expire_content.vars]\npick_grace = "3 hours"\nhard_delete_after = "30 days"\n')
    job = manifest.load(path).job("expire_content")
    assert (job.batch_size, job.min_batch_size, job.max_batch_size, job.batch_time) == (
        300, 1, 3000, "200 milliseconds")


def test_parse_now():
    assert run.parse_now("2026-11-30T00:00:00Z") == datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert run.parse_now("2026-11-30 01:00").tzinfo == timezone.utc
    assert run.parse_now(None) is None
    with pytest.raises(UsageError):
        run.parse_now("next monday")
    with pytest.raises(UsageError):
        run.check_limit(-1)


def test_description():
    # next_run asks the database (jobs.cron_fire): tests/test_cron.py
    assert status.describe("0 3 * * *") == "At 03:00 AM"


def test_a_plain_install_of_the_wheel_works(tmp_path):
    """The wheel, installed without extras into a fresh venv pinned by requirements.lock,
    gives a working `deployer` that finds sql/ inside the package, and every module of the
    package imports there: each one it needs is a declared dependency."""
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "deployer/sql/jobs.toml" in names and "deployer/sql/jobs/expire_content.sql" in names
    for page in ("templates/jobs.html", "templates/job.html", "templates/live.html", "static/style.css",
                 "static/live.js"):
        assert f"deployer/dashboard/{page}" in names, page
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "requirements.lock"), str(wheel)],
        capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}

    def deployer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "deployer"), *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)

    for args in (["--help"], ["run", "--help"]):
        shown = deployer(*args)
        assert shown.returncode == 0, shown.stderr
        assert "Usage" in shown.stdout and "Traceback" not in shown.stderr
    out_dir = tmp_path / "rendered"
    rendered = deployer("render", "--out", str(out_dir))
    assert rendered.returncode == 0, rendered.stderr
    assert 'CREATE OR REPLACE FUNCTION "jobs"."reset_bankrolls"(' in (out_dir / "jobs" / "reset_bankrolls.sql").read_text()
    def python(code: str) -> str:
        ran = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=120)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.strip()

    root = python("import importlib, pkgutil, deployer, deployer.render as r;"
                  " [importlib.import_module('deployer.' + m.name) for m in pkgutil.iter_modules(deployer.__path__)];"
                  " print(r.sql_root())")
    assert root.startswith(str(venv)) and root.endswith("deployer/sql")
    # The dashboard finds its templates and static files inside the installed package.
    static = python("from deployer.dashboard import app;"
                    " [app.make_templates().get_template(t) for t in ('jobs.html', 'job.html', 'live.html')];"
                    " print(app.HERE / 'static' / 'live.js', (app.HERE / 'static' / 'live.js').is_file())")
    assert static.startswith(str(venv)) and static.endswith(" True")


def test_a_switch_variable_must_be_true_or_false():
    """notify = "false" (text) would be truthy in a template; it is refused instead."""
    m = manifest.load()
    jobs = dict(m.jobs)
    jobs["settle_games"] = dataclasses.replace(jobs["settle_games"], vars={"notify": "false"})
    with pytest.raises(ConfigError, match="expected true or false, not 'false'"):
        units.job_units(dataclasses.replace(m, jobs=jobs))


@pytest.mark.parametrize(("now", "zone", "moment"), [
    ("2026-11-29T21:00:00+00:00", "UTC", "2026-11-29T20:00:00+00:00"),  # Sunday evening: today's
    ("2026-11-29T20:00:00+00:00", "UTC", "2026-11-29T20:00:00+00:00"),
    ("2026-11-29T19:59:00+00:00", "UTC", "2026-11-22T20:00:00+00:00"),  # before it: last week's
    ("2026-12-02T12:00:00+00:00", "UTC", "2026-11-29T20:00:00+00:00"),  # Wednesday
    ("2026-11-02T03:00:00+00:00", "America/New_York", "2026-11-02T01:00:00+00:00"),  # 20:00 EST, DST just ended
])
def test_the_demo_runs_at_the_latest_sunday_evening(now, zone, moment):
    from deployer.demo import demo_moment

    assert demo_moment(datetime.fromisoformat(now), zone) == datetime.fromisoformat(moment)


def test_the_demo_names_deployer_as_the_user_ran_it(tmp_path, monkeypatch):
    """The demo's closing hint is a command the user can type: a plain install's `deployer`,
    the bootstrap's `.venv/bin/deployer`, or the module form."""
    from deployer.demo import how_invoked

    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "deployer"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(bindir))
    assert how_invoked(str(script)) == "deployer"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert how_invoked("bin/deployer") == "bin/deployer"
    assert how_invoked(str(tmp_path / "deployer" / "cli.py")) == "python3 -m deployer.cli"


def test_the_readmes_table_of_jobs_is_the_manifests():
    """A job is described once, in sql/jobs.toml; the README's table must say the same."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The jobs\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    m = manifest.load()
    assert rows == [f"| `{j.name}` | `{j.schedule}` | {j.description} |" for j in m.jobs.values()]


def test_a_job_functions_comment_is_its_manifest_description(test_manifest):
    for unit in units.job_units(test_manifest):
        if unit.name.startswith("jobs/"):
            job = test_manifest.jobs[units.job_of(unit.name)]
            assert f"IS 'SECURITY DEFINER (runs as the owner role for the runner role). {job.description}. " in unit.sql


def test_a_template_is_split_into_its_statements_at_the_semicolons_outside_quotes_and_comments():
    from deployer.citus import statements

    text = ("SELECT 1; -- a; b\nSELECT $x$;$x$; SELECT 'a;''b'; /* c; /* d; */ */ SELECT \"x;\";\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$BEGIN RETURN 1; END$fn$;\n-- the end;\n")
    assert statements(text) == [
        "SELECT 1", "-- a; b\nSELECT $x$;$x$", "SELECT 'a;''b'", "/* c; /* d; */ */ SELECT \"x;\"",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$BEGIN RETURN 1; END$fn$"]


def test_every_unit_rendered_for_citus_splits_into_whole_statements(test_manifest):
    import dataclasses

    from deployer.citus import statements
    from deployer.units import job_units

    for unit in job_units(dataclasses.replace(test_manifest, citus=True)):
        parts = statements(unit.sql)
        assert parts, unit.name
        for part in parts:  # every dollar quote closed within its statement
            assert part.count("$fn$") % 2 == 0, (unit.name, part[:80])
