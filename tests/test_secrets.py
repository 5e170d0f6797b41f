"""Secrets (docs/rules.md: The deployer): a session that connects with a password never shows it, in any output,
error, --json document, job history row or rendered file; and libpq's own sources of it
(PGPASSWORD, a password file, a service file) work without it in the DSN."""

from __future__ import annotations

import os

import psycopg

from tests.conftest import PASSWORD, PW_USER
from tests.support import cli as deployer


def test_a_session_that_used_a_password_never_shows_it(password_server, tmp_path):
    dsn = password_server["with_password"]
    outputs = []

    def run(*args: str, **kwargs):
        result = deployer(*args, dsn=kwargs.pop("dsn", dsn), **kwargs)
        outputs.append((args, result.stdout + result.stderr))
        return result

    assert run("deploy", "--no-schedule").returncode == 0
    assert run("deploy", "--plan", "--no-schedule", "--json").returncode == 0
    assert run("run", "expire_content", "--json").returncode == 0
    assert run("run", "expire_content", "--dry-run", "--verbose").returncode == 0
    assert run("run", "nope").returncode == 2
    assert run("history", "--json").returncode == 0
    assert run("status", "--json").returncode == 0  # deployed without a schedule (no pg_cron here): by hand
    assert run("schedule").returncode == 0
    assert run("deploy").returncode == 2  # no pg_cron: an error naming the server
    url = run("db", "url")
    assert url.returncode == 0 and f"postgresql://{PW_USER}:***@127.0.0.1:" in url.stdout  # a URL stays a URL
    down = dsn.replace(password_server["port"], "1")
    assert run("status", dsn=down).returncode == 2
    assert run("render", "--out", str(tmp_path / "rendered")).returncode == 0
    rendered = [p.read_text() for p in (tmp_path / "rendered").rglob("*.sql")]
    assert len(rendered) > 10

    with psycopg.connect(dsn) as conn:
        history = conn.execute("SELECT jsonb_agg(e)::text FROM jobs.job_executions AS e").fetchone()[0]
        deployments = conn.execute("SELECT jsonb_agg(d)::text FROM jobs.deployments AS d").fetchone()[0]
    assert history and deployments and "expire_content" in history
    leaks = [args for args, text in outputs if PASSWORD in text]
    assert leaks == [] and PASSWORD not in history + deployments and not any(PASSWORD in t for t in rendered)
    assert any("***" in text for args, text in outputs if args[0] == "status")  # the error names the server


def test_libpq_finds_the_password_in_pgpassword_a_password_file_and_a_service_file(password_server, tmp_path):
    bare = password_server["without_password"]
    port = password_server["port"]
    assert deployer("deploy", "--no-schedule", dsn=password_server["with_password"]).returncode == 0
    refused = deployer("history", dsn=bare, env={"PGPASSWORD": "", "PGPASSFILE": str(tmp_path / "none")})
    assert refused.returncode == 2 and "password" in refused.stderr

    assert deployer("history", dsn=bare, env={"PGPASSWORD": PASSWORD}).returncode == 0

    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{port}:*:{PW_USER}:{PASSWORD}\n")
    os.chmod(passfile, 0o600)
    assert deployer("history", dsn=bare, env={"PGPASSFILE": str(passfile)}).returncode == 0

    services = tmp_path / "pg_service.conf"
    services.write_text(f"[snapbet]\nhost=127.0.0.1\nport={port}\ndbname=postgres\nuser={PW_USER}\n"
                        f"password={PASSWORD}\n")
    result = deployer("history", dsn="service=snapbet", env={"PGSERVICEFILE": str(services)})
    assert result.returncode == 0 and PASSWORD not in result.stdout + result.stderr
    # PGSERVICE names the service when the DSN does not.
    result = deployer("history", dsn="dbname=postgres", env={"PGSERVICEFILE": str(services), "PGSERVICE": "snapbet"})
    assert result.returncode == 0 and PASSWORD not in result.stdout + result.stderr
