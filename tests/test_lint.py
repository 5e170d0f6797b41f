"""`deployer lint`: sqlfluff over the templates and plpgsql_check over the functions, on the
project's own SQL (clean) and on copies of sql/ with one deliberate mistake each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from deployer.render import sql_root
from tests.support import cli


def deployer(*args: str, **kwargs):
    """`deployer` as a subprocess; sqlfluff's result for a template it has linted before is
    kept for the session (tests/sqlfluff_memo.py), so each lint lints anew only what changed."""
    return cli(*args, sqlfluff_memo=True, **kwargs)


def _sql_copy(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(sql_root(), root)
    return root


def test_lint_passes_on_the_project_sql(db):
    result = deployer("lint", "--json", dsn=db)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["sqlfluff"] == [] and report["plpgsql_check"] == []
    templates = report["checked"]["templates"]
    assert len(templates) == 50 and "jobs/settle_games.sql" in templates and "seed/seed.sql" in templates
    assert {t.split("/")[0] for t in templates} == {"framework", "app", "jobs", "indexes", "seed", "privileges.sql"}
    assert len(report["checked"]["functions"]) == 28
    assert "jobs.cleanup(timestamp with time zone,boolean,integer,jsonb)" in report["checked"]["functions"]


def test_lint_fails_on_a_function_body_naming_a_missing_column(db, tmp_path):
    root = _sql_copy(tmp_path)
    job = root / "jobs" / "expire_content.sql"
    text = job.read_text()
    rule = "'t.deleted_at IS NULL AND t.expires_at <= p_now', by_expiry,\n               heap=true) }}\n\n{{ soft_delete('messages'"
    assert rule in text
    job.write_text(text.replace(rule, rule.replace("t.expires_at", "t.expires_on"), 1))
    result = deployer("lint", dsn=db, env={"DEPLOYER_SQL_ROOT": str(root)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1
    assert errors[0].startswith("jobs.expire_content(timestamp with time zone,boolean,integer,jsonb) line ")
    assert "column t.expires_on does not exist" in errors[0] and "[SQLSTATE 42703]" in errors[0]
    assert lines[-1] == "50 templates, 0 sqlfluff findings; 28 functions checked, 1 errors, 0 warnings"


def test_lint_fails_on_a_template_sqlfluff_cannot_parse(db, tmp_path):
    root = _sql_copy(tmp_path)
    index = root / "indexes" / "cleanup.sql"
    n = len(index.read_text().splitlines())
    with index.open("a") as f:
        f.write("CREATE INDEX CONCURRENTLY jobset_oops_idx\n    ON {{ app_schema | ident }}.posts (id) WHERE AND;\n")
    result = deployer("lint", "--json", dsn=db, env={"DEPLOYER_SQL_ROOT": str(root)})
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["plpgsql_check"] == []
    assert [(f["path"], f["rule"]) for f in report["sqlfluff"]] == [("sql/indexes/cleanup.sql", "PRS")]
    assert report["sqlfluff"][0]["line"] in (n + 1, n + 2)
    text = deployer("lint", dsn=db, env={"DEPLOYER_SQL_ROOT": str(root)})
    assert text.returncode == 1
    assert text.stdout.splitlines()[0].startswith(f"sql/indexes/cleanup.sql:{report['sqlfluff'][0]['line']}: PRS ")


def test_lint_without_a_database_is_exit_2(tmp_path):
    result = deployer("lint", cwd=tmp_path)
    assert result.returncode == 2
    assert "no database" in result.stderr


def test_lint_flags_a_security_definer_function_without_pinned_search_path_or_reason(db, tmp_path):
    root = _sql_copy(tmp_path)
    with (root / "framework" / "30_helpers.sql").open("a") as f:
        f.write("\nCREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.loose() RETURNS integer\n"
                "LANGUAGE sql SECURITY DEFINER AS $fn$ SELECT 1 $fn$;\n"
                "CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.open_to_all() RETURNS integer\n"
                "LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$ SELECT 2 $fn$;\n")
    # privileges.sql revokes PUBLIC's EXECUTE from every routine; a later grant undoes it.
    with (root / "privileges.sql").open("a") as f:
        f.write("GRANT EXECUTE ON FUNCTION {{ jobs_schema | ident }}.open_to_all() TO PUBLIC;\n")
    result = deployer("lint", dsn=db, env={"DEPLOYER_SQL_ROOT": str(root)})
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "jobs.loose(): error: SECURITY DEFINER without a pinned search_path: add SET search_path = pg_catalog, ..., "
        "pg_temp",
        "jobs.loose(): error: SECURITY DEFINER without a reason: its COMMENT must start with 'SECURITY DEFINER' "
        "and say why",
        "jobs.open_to_all(): error: executable by PUBLIC: REVOKE ALL ON ROUTINE ... FROM PUBLIC",
    ]
