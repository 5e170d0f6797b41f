"""A real pg_cron tick for schedules pg_cron reads in its own way: jobs.cron_fire says when
they fire, and the server's pg_cron fires them then (a minute's wait: marked slow)."""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@pytest.mark.slow
def test_pg_cron_fires_a_skipped_hash_and_a_reversed_range_when_cron_fire_says(admin_dsn, conn):
    with psycopg.connect(admin_dsn, autocommit=True, row_factory=dict_row) as admin:
        now = admin.execute("SELECT now() AS now, coalesce(current_setting('cron.timezone', true), 'UTC') AS zone"
                            ).fetchone()
        # The next minute start at least 15 seconds away, read in pg_cron's zone.
        fire = (now["now"] + timedelta(seconds=75)).replace(second=0, microsecond=0)
        local = admin.execute("SELECT %s::timestamptz AT TIME ZONE %s AS t", (fire, now["zone"])).fetchone()["t"]
        weekday = DOW_NAMES[(local.weekday() + 1) % 7]
        nth = 5 if local.day <= 28 else 1  # not today's place among its weekdays: pg_cron skips it anyway
        reversed_hours = "23-16" if local.hour < 16 else "7-0"  # within one byte: nothing, in 1.4 and 1.6
        schedules = {"jobset_test_tick_hash": f"{local.minute} {local.hour} * * {weekday.upper()}#{nth}",
                     "jobset_test_tick_reversed": f"{local.minute} {reversed_hours},{local.hour} * * *"}
        for schedule in schedules.values():
            assert conn.execute("SELECT jobs.cron_fire(%s, %s) AS n", (schedule, now["now"])).fetchone()["n"] == fire
        ids = {}
        try:
            for name, schedule in schedules.items():
                ids[name] = admin.execute("SELECT cron.schedule(%s, %s, 'SELECT 1') AS id",
                                          (name, schedule)).fetchone()["id"]
            runs = []
            deadline = time.monotonic() + (fire - now["now"]).total_seconds() + 90
            while time.monotonic() < deadline:
                runs = admin.execute("SELECT jobid, status, start_time FROM cron.job_run_details"
                                     " WHERE jobid = ANY (%s) AND status <> 'running'", (list(ids.values()),)).fetchall()
                if len(runs) == len(ids):
                    break
                time.sleep(1)
            assert sorted(r["jobid"] for r in runs) == sorted(ids.values()), (schedules, runs)
            for run in runs:
                assert run["status"] == "succeeded" and fire <= run["start_time"] < fire + timedelta(minutes=1), run
        finally:
            for jobid in ids.values():
                admin.execute("SELECT cron.unschedule(%s)", (jobid,))
