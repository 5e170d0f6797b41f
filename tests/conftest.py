"""Fixtures: one server for the session, one template database with the app schema and
the job set deployed, and a fresh clone of it for every test (CREATE DATABASE … TEMPLATE)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import install, manifest
from deployer.db import dsn_for_database
from tests import pg

TEMPLATE = "jobset_template"
_counter = itertools.count(1)


def _admin(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, row_factory=dict_row)


def drop_database(admin_dsn: str, name: str) -> None:
    with _admin(admin_dsn) as conn:
        conn.execute("DELETE FROM cron.job WHERE database = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    """The server's `postgres` database, where pg_cron lives."""
    with pg.server() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def test_manifest() -> manifest.Manifest:
    return manifest.load(environment="test")


@pytest.fixture(scope="session")
def template_dsn(admin_dsn: str, test_manifest: manifest.Manifest) -> str:
    drop_database(admin_dsn, TEMPLATE)
    with _admin(admin_dsn) as conn:
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    dsn = dsn_for_database(admin_dsn, TEMPLATE)
    # Not scheduled: pg_cron must never connect to the template, or cloning it would fail.
    install.deploy(dsn, test_manifest, with_app_schema=True, with_schedule=False)
    return dsn


def new_database(admin_dsn: str, template: str) -> tuple[str, str]:
    name = f"jobset_test_{os.getpid()}_{next(_counter)}"
    with _admin(admin_dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, dsn_for_database(admin_dsn, name)


@pytest.fixture
def db(admin_dsn: str, template_dsn: str) -> Iterator[str]:
    """DSN of a fresh database: app schema and job set deployed, no rows, nothing scheduled."""
    name, dsn = new_database(admin_dsn, TEMPLATE)
    try:
        yield dsn
    finally:
        drop_database(admin_dsn, name)


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the fresh database, rows as dicts."""
    with psycopg.connect(db, autocommit=True, row_factory=dict_row) as connection:
        yield connection
