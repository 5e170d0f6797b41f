"""The suite's workers (pytest-xdist; `-n auto` in pyproject.toml's addopts).

Much of a test's time is spent waiting: on PostgreSQL, on a `deployer` subprocess, on a real
pg_cron tick (about three minutes of those). Three workers overlap those waits, even on 2
cores: one waits through the ticks while two work. Each worker is a pytest session of its
own, with its own server (tests/pg.py: its own port), template database and clones, so no
test shares a database with a test of another worker.

How many: $JOBSET_TEST_WORKERS when set (0: none, the tests run in pytest's own process);
none when the tests share one server given by JOBSET_TEST_DSN (they deploy into its
`postgres` database, one at a time); else 3, or one per core beyond 3 up to 6. `-n N` on the
command line chooses too (`-n 0`: none).

Which tests share a worker: a module's tests run on one worker, one after the other (they
share module fixtures, and some start servers of their own on a preferred port); so do the
modules sharing a session fixture that starts a server, and the modules with a test that
waits for a real pg_cron tick (SHARED). Those waits start first, then the largest units, so
that no long unit is left to run alone at the end.

The versions of the workers' servers reach the run's summary (conftest's SERVER) through
xdist's workeroutput.
"""

from __future__ import annotations

import os

import pytest

# Modules that run on one worker, one after the other: those using the same server fixture
# (one worker starts it once), and those waiting for a real pg_cron tick (one worker waits
# through them while the others work).
SHARED = {
    "tests/test_secrets.py": "password_server",
    "tests/test_bad_input.py": "password_server",
    "tests/test_supabase.py": "pg_cron ticks",  # and the Supabase server, with test_supabase_fixture
    "tests/test_supabase_fixture.py": "pg_cron ticks",
    "tests/test_cron_tick.py": "pg_cron ticks",
    "tests/test_pg_cron.py": "pg_cron ticks",
}


def scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or the group its module shares."""
    module = nodeid.split("::", 1)[0]
    return SHARED.get(module, module)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config) -> int:
    if os.environ.get("JOBSET_TEST_WORKERS"):
        return int(os.environ["JOBSET_TEST_WORKERS"])
    if os.environ.get("JOBSET_TEST_DSN"):
        return 0
    return max(3, min(os.cpu_count() or 1, 6))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "load":  # another --dist asked for by name: xdist's own
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        """xdist's scope scheduling, by scope() and in the order the workers collected."""

        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid)

    config.option.loadscopereorder = False
    return ByModule(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """In a worker, the units of work in the order they are handed out: those that wait for
    a pg_cron tick first, then the largest; the order within a unit is kept."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    units: dict[str, list] = {}
    for item in items:
        units.setdefault(scope(item.nodeid), []).append(item)
    ticks = {name for name, unit in units.items() if any(i.get_closest_marker("slow") for i in unit)}
    order = sorted(units, key=lambda name: (name not in ticks, -len(units[name])))
    items[:] = [item for name in order for item in units[name]]
