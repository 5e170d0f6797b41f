"""pg_cron's schedules, one truth: deployer/cron.py (the port of pg_cron's parser and clock),
the SQL evaluator jobs.cron_fire, and the manifest, held to a real pg_cron and to each other.

A seeded corpus of schedules (numbers, names, ranges reversed or not, steps on ranges, stars
and single numbers, lists with `*` inside, `#`, `L`, `W`, `?`, `$`, @macros, `N seconds`,
stray characters, too few and too many fields) goes through the session server's own
cron.schedule, a savepoint each, all rolled back: the port must accept exactly what it
accepts, and the manifest never more (less only for its documented reasons). The fires of
the SQL evaluator must equal the port's over month ends, leap days, Sunday boundaries and
both DST changes, whatever the session's time zone. scripts/ci-pg-cron-1.6 runs this file
on pg_cron 1.6 as well.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import cron, status
from deployer.errors import ConfigError
from deployer.manifest import validate_schedule

UTC = timezone.utc

# -- the corpus ----------------------------------------------------------------------------------

FIELDS = [(0, 59, None), (0, 23, None), (1, 31, None), (1, 12, list(cron.MONTH_NAMES)),
          (0, 7, list(cron.DOW_NAMES[:7]))]
ODD_ITEMS = ["L", "W", "?", "5L", "15W", "LW", "$", "#", "", "*/", ",", "1,", ",1"]
MACROS = ["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@reboot", "@restart",
          "@Daily", "@daily foo", "@ daily", "@weekly\tx", "@every", "@", "@hourly\n", " @daily", "@daily,"]
SECONDS = ["1 second", "5 seconds", "59 seconds", "60 seconds", "0 seconds", "+5 seconds", "-5 seconds", "05 seconds",
           "5seconds", "5 SECONDS", " 5 seconds ", "5 second ", "5 seconds x", "5 secs", "4294967301 seconds",
           "-4294967291 seconds", "30 Seconds\n", "5 secondss", "10 sec", "second", "5 minutes"]
WHOLE = ["", " ", "\n", "# comment", "# c\n0 * * * *", "\n\t 5 4 * * *", "a b c d e", "* * * *", "* * * * * *",
         "0 0 1 1 * 2026", "\r0 * * * *", "0\n* * * *", "0 * * * *\nx", "*****", "0 0 $ * *", "0 0 $\t* 1",
         "0 0 $x * *", "0 0 $,1 * *", "56 6 * * FRI#5", "0 13-10,22 * * *", "0 22-3 * * *", "0 0 * nov-mar *",
         "50-10 * * * *", "0 0 */2 * 1", "0 0 27-27 * *", "0 0 1,* * 1", "*/60 * * * *", "0 */24 * * *",
         "0 0 */32 * *", "0 0 * */13 *", "0 0 * * */8", "0 0 * * */7", "4294967296 * * * *", "6/2 * * * *"]


def _number(rng: random.Random, lo: int, hi: int, names, clean: bool) -> str:
    r = rng.random() * (0.8 if clean else 1)
    if names and r < 0.25:
        name = rng.choice(names)
        return rng.choice([name, name.upper(), name.capitalize(), name + "x", name[:2]])
    if r < 0.8:
        return str(rng.randint(lo, hi))
    return rng.choice([str(hi + 1), str(max(lo - 1, 0)), "0" + str(rng.randint(lo, hi)), "4294967296", str(2**32 + lo),
                       "99999999999999999999", str(rng.randint(hi, 99)), "-1", ""])


def _item(rng: random.Random, lo: int, hi: int, names, clean: bool) -> str:
    r = rng.random()
    if r < 0.2:
        base = "*"
    elif r < 0.55:
        base = _number(rng, lo, hi, names, clean)
    else:
        ends = [_number(rng, lo, hi, names, clean), _number(rng, lo, hi, names, clean)]
        if clean and all(e.isdigit() for e in ends) and rng.random() < 0.85:
            ends.sort(key=int)  # mostly in order: reversed ones are a fifth of the rest
        base = "-".join(ends)
    if rng.random() < 0.3 and not (clean and base[:1] != "*" and "-" not in base):
        steps = [str(rng.randint(1, hi)), "0", str(hi + 1), str(rng.randint(1, 3 * hi + 3)), "x", ""]
        base += "/" + (steps[0] if clean else rng.choice(steps))
    if rng.random() < (0.03 if clean else 0.08):
        base += rng.choice(["#2", "#5", "L", "W", "?", "x", "%", "-", "é", "/", "-3", "*"])
    return base


def _field(rng: random.Random, index: int, clean: bool) -> str:
    lo, hi, names = FIELDS[index]
    r = rng.random() * (10 if clean else 1)
    if r < 0.05:
        return rng.choice(ODD_ITEMS)
    if index == 2 and r < 0.08:
        return rng.choice(["$", "$x", "$,1", "1,$"])
    count = 1 if rng.random() < 0.6 else rng.randint(2, 4)
    return ",".join(_item(rng, lo, hi, names, clean) for _ in range(count))


def _schedule(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.06:
        return rng.choice(MACROS)
    if r < 0.11:
        return rng.choice(SECONDS)
    clean = rng.random() < 0.7
    fields = [_field(rng, i, clean) for i in range(5)]
    if rng.random() < 0.05:
        fields = fields[:rng.randint(1, 4)]
    if rng.random() < 0.05:
        fields.append(rng.choice(["2026", "x", "*", "#"]))
    out = "".join(f + rng.choice([" ", " ", " ", "  ", "\t", " \t"]) for f in fields).rstrip(" \t")
    if rng.random() < 0.05:
        out = rng.choice([" ", "\t", "\n", "# x\n"]) + out
    if rng.random() < 0.04:
        out += rng.choice([" ", "\n", "\t#"])
    return out


def corpus(size: int = 3000, seed: int = 23) -> list[str]:
    """`size` distinct schedules, the same every run: the hand-picked ones, then generated."""
    rng = random.Random(seed)
    out = list(dict.fromkeys(WHOLE + MACROS + SECONDS))
    seen = set(out)
    while len(out) < size:
        schedule = _schedule(rng)
        if schedule not in seen:
            seen.add(schedule)
            out.append(schedule)
    return out


CORPUS = corpus()
# What the manifest sends of each: its whitespace normalized.
SENT = {s: " ".join(s.split()) for s in CORPUS}


@pytest.fixture(scope="module")
def server(admin_dsn: str) -> dict:
    """The session server's pg_cron: its version as deployer.cron names it, its zone, and
    what its cron.schedule says of every schedule of the corpus."""
    with psycopg.connect(admin_dsn, row_factory=dict_row) as admin:
        version = admin.execute("SELECT extversion AS v FROM pg_extension WHERE extname = 'pg_cron'").fetchone()["v"]
        zone = admin.execute("SELECT current_setting('cron.timezone', true) AS z").fetchone()["z"]
        taken = {}
        for schedule in dict.fromkeys(CORPUS + list(SENT.values())):
            admin.execute("SAVEPOINT one")
            try:
                admin.execute("SELECT cron.schedule(%s, 'SELECT 1')", (schedule,))
                taken[schedule] = True
            except psycopg.errors.InvalidParameterValue:
                taken[schedule] = False
            admin.execute("ROLLBACK TO SAVEPOINT one")
        admin.rollback()
    return {"version": version[:3], "zone": zone, "taken": taken}


def fires(conn, cases: list[tuple]) -> list[datetime | None]:
    """jobs.cron_fire(schedule, at, before, zone, version) of each case, in one statement."""
    rows = conn.execute(
        "SELECT jobs.cron_fire(c.s, c.a, c.b, c.z, c.v) AT TIME ZONE 'UTC' AS fire"
        " FROM unnest(%s::text[], %s::timestamptz[], %s::boolean[], %s::text[], %s::text[]) WITH ORDINALITY"
        " AS c (s, a, b, z, v, i) ORDER BY c.i", [list(column) for column in zip(*cases)]).fetchall()
    return [r["fire"] and r["fire"].replace(tzinfo=UTC) for r in rows]


def port_fire(schedule: str, at: datetime, before: bool, zone: str, version: str) -> datetime | None:
    entry = cron.parse(schedule, version)
    if entry is None:
        return None
    where = cron.zone_of(zone, version)
    return cron.last_fire(entry, at, where) if before else cron.next_fire(entry, at, where)


# -- the port and the manifest against the real pg_cron -------------------------------------------

def test_the_port_accepts_exactly_what_the_servers_pg_cron_accepts(server):
    taken = server["taken"]
    differ = [s for s in taken if (cron.parse(s, server["version"]) is not None) != taken[s]]
    assert differ == []
    accepted = sum(taken[s] for s in CORPUS)
    # The corpus tries both sides hard (of 3,000: 1,093 taken by 1.4, 1,094 by 1.6).
    assert accepted > 900 and len(CORPUS) - accepted > 1500, accepted


def test_the_manifest_never_takes_what_pg_cron_refuses_and_says_why_it_refuses_more(server):
    stricter, taken = {}, 0
    for schedule in CORPUS:
        try:
            assert validate_schedule(schedule, "[jobs.x]") == SENT[schedule]
        except ConfigError as exc:
            if server["taken"][SENT[schedule]]:
                stricter[schedule] = str(exc)
        else:
            taken += 1
            assert server["taken"][SENT[schedule]], schedule
            assert all(cron.parse(SENT[schedule], version) for version in cron.VERSIONS), schedule
    assert taken > 400  # 539 of 3,000
    reasons = ("pg_cron would ignore", "ends before it starts", "is out of range", "never fires",
               "but refused by", "never fires @")
    assert all(any(r in why for r in reasons) for why in stricter.values()), stricter
    assert len(stricter) > 100  # the corpus reaches every documented reason
    for reason in reasons:
        assert any(reason in why for why in stricter.values()), reason


# -- the SQL evaluator against the port -----------------------------------------------------------

MOMENTS = [
    datetime(2026, 3, 7, 12, 0, tzinfo=UTC),            # the day before New York's clocks go forward
    datetime(2026, 3, 8, 6, 59, 30, tzinfo=UTC),        # 01:59:30 EST, a moment before 03:00 EDT
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),           # 01:30 EDT: the first of two 01:30s
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),            # 01:00 EST: the hour again
    datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC),     # a Sunday's last second, a month's last day but one
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),     # the year's last second
    datetime(2028, 2, 28, 23, 59, tzinfo=UTC),          # before a leap day
    datetime(2028, 2, 29, 12, 0, tzinfo=UTC),           # a leap day (a Tuesday)
    datetime(2027, 10, 31, 0, 30, tzinfo=UTC),          # Europe's clocks go back on a month's last day
    datetime(2024, 3, 30, 22, 30, tzinfo=UTC),          # ... and forward on one
]
PICKED = ["56 6 * * FRI#5", "0 13-10,22 * * *", "0 22-3 * * *", "@midnight", "@yearly", "@weekly", "@monthly",
          "@hourly", "@reboot", "0 0 */2 * 1", "0 0 27-27 * *", "0 0 1,* * 1", "*/60 * * * *", "0 0 $ * *",
          "30 23 $ * *", "0 0 $ * 1", "5 seconds", "0 0 * nov-mar *", "50-10 * * * *", "30 2 * * *", "30 1 * * *",
          "* * * * *", "0 0 29 2 */7", "0 0 30 2 *", "0 12 1,15 * 0", "*/7 9-17 * * mon-fri", "0 0 * * 7",
          "59 23 * * sat", "0 0 29 2 *", "15 * 31 * *"]
ZONES = [("1.4", "UTC"), ("1.4", "America/New_York"), ("1.5", "Australia/Lord_Howe"), ("1.6", "America/New_York"),
         ("1.6", "Europe/Paris"), ("1.6", "UTC")]


def test_cron_fire_agrees_with_the_port_at_month_ends_leap_days_sundays_and_dst(conn):
    conn.execute("SET timezone = 'America/New_York'")  # pg_cron's clock is not the session's
    cases = [(s, at, before, zone, version) for version, zone in ZONES for s in PICKED for at in MOMENTS
             for before in (False, True)]
    got = fires(conn, cases)
    differ = [(case, fire, port_fire(*case)) for case, fire in zip(cases, got) if fire != port_fire(*case)]
    assert differ == []


def test_cron_fire_agrees_with_the_port_over_the_corpus(conn):
    conn.execute("SET timezone = 'Asia/Kolkata'")
    cases = [(s, at, before, zone, version) for s in CORPUS for before in (False, True)
             for version, zone, at in (("1.4", "UTC", datetime(2028, 2, 29, 23, 0, tzinfo=UTC)),
                                       ("1.6", "America/New_York", datetime(2026, 3, 8, 6, 59, 30, tzinfo=UTC)))]
    got = fires(conn, cases)
    differ = [(case, fire, port_fire(*case)) for case, fire in zip(cases, got) if fire != port_fire(*case)]
    assert differ == []
    assert sum(f is not None for f in got) > 2000


def test_cron_fire_reads_the_servers_pg_cron_and_zone_by_default(conn, server):
    at = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    for schedule in ("30 1 * * *", "0 0 $ * *", "5 seconds", "*/60 * * * *", "56 6 * * FRI#5"):
        row = conn.execute("SELECT jobs.cron_fire(%s, %s) AS n, jobs.cron_fire(%s, %s, true) AS p",
                           (schedule, at, schedule, at)).fetchone()
        zone = server["zone"] or "UTC"
        assert (row["n"], row["p"]) == (port_fire(schedule, at, False, zone, server["version"]),
                                        port_fire(schedule, at, True, zone, server["version"])), schedule


def test_a_role_that_may_not_read_pg_crons_settings_still_gets_fires(db, conn, server):
    """cron.timezone and its siblings are superuser-only: a monitor sees that they exist
    (the error reading them), so the version is right; the zone it takes is GMT."""
    conn.execute("DROP ROLE IF EXISTS jobset_test_cron_reader")
    conn.execute("CREATE ROLE jobset_test_cron_reader LOGIN PASSWORD 'reader'")
    try:
        conn.execute("GRANT USAGE ON SCHEMA jobs TO jobset_test_cron_reader")
        conn.execute("GRANT EXECUTE ON FUNCTION jobs.cron_fire(text, timestamptz, boolean),"
                     " jobs.cron_fire(text, timestamptz, boolean, text, text),"
                     " jobs.cron_field(text, integer, integer, text[], text) TO jobset_test_cron_reader")
        at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        with psycopg.connect(db, user="jobset_test_cron_reader", password="reader", row_factory=dict_row) as reader:
            for schedule in ("*/60 * * * *", "0 0 $ * *", "7 seconds", "0 3 * * *"):
                got = reader.execute("SELECT jobs.cron_fire(%s, %s) AS n", (schedule, at)).fetchone()["n"]
                assert got == port_fire(schedule, at, False, "GMT", server["version"]), schedule
    finally:
        conn.execute("DROP OWNED BY jobset_test_cron_reader")
        conn.execute("DROP ROLE jobset_test_cron_reader")


def test_cron_field_reads_one_field_as_get_list_does(conn):
    cases = [("*/15", 0, 59, "1.4", 1 | 1 << 15 | 1 << 30 | 1 << 45), ("13-10,22", 0, 23, "1.4", 1 << 22),
             ("22-3", 0, 23, "1.4", 0), ("22-3", 0, 23, "1.6", 0b1111 | 0b11 << 22), ("6/2", 0, 59, "1.6", None),
             ("FRI#5", 0, 7, "1.4", 1 << 5), ("*-5", 0, 59, "1.4", (1 << 60) - 1), ("*/60", 0, 59, "1.4", 1),
             ("*/60", 0, 59, "1.6", None), ("4294967296", 0, 59, "1.4", 1), ("1,", 0, 59, "1.4", None),
             ("nov-mar", 1, 12, "1.6", 0b111 | 0b111111 << 10), ("aug-feb", 1, 12, "1.6", 0), ("Jan", 1, 12, "1.4", 1)]
    for field, lo, hi, version, bits in cases:
        names = {12: list(cron.MONTH_NAMES), 7: list(cron.DOW_NAMES)}.get(hi)
        got = conn.execute("SELECT jobs.cron_field(%s, %s, %s, %s, %s) AS b",
                           (field, lo, hi, names, version)).fetchone()["b"]
        assert got == bits, (field, version)


# -- the port's own reading, case by case (no database) ---------------------------------------------

def entry(schedule: str, version: str = "1.4") -> cron.Entry | None:
    return cron.parse(schedule, version)


def test_the_port_reproduces_pg_crons_leniencies():
    # `#5` is skipped: every Friday.
    assert entry("56 6 * * FRI#5").dow == 1 << 5 and entry("56 6 * * FRI#5").notes == (
        ("skipped", "'#5' in the day-of-week field"),)
    assert cron.next_fire(entry("56 6 * * FRI#5"), datetime(2026, 11, 30, tzinfo=UTC)) == datetime(
        2026, 12, 4, 6, 56, tzinfo=UTC)
    # A reversed range selects nothing (1.4); 1.6 sets it with bit_nset.
    assert entry("0 13-10,22 * * *").hour == 1 << 22
    assert entry("0 22-3 * * *", "1.6").hour == 0b1111 | 0b11 << 22
    # A day field that starts with `*` makes an AND: odd days that are Mondays.
    assert cron.next_fire(entry("0 0 */2 * 1"), datetime(2026, 11, 30, tzinfo=UTC)) == datetime(
        2026, 12, 7, tzinfo=UTC)
    # ... and `*` later in a list does not: every day, the list being all of them.
    assert cron.next_fire(entry("0 0 1,* * 1"), datetime(2026, 12, 1, 12, tzinfo=UTC)) == datetime(
        2026, 12, 2, tzinfo=UTC)
    assert entry("0 0 27-27 * *").dom == 1 << 26
    assert entry("@midnight") == entry("@daily")
    assert entry("@daily foo").minute == 1 and entry("* * * * * 2026").notes
    assert entry("4294967296 * * * *").minute == 1
    for refused in ("6/2 * * * *", "L * * * *", "15W * * * *", "? * * * *", "0 0 5L * *", "* * * *", "@Daily",
                    "# only a comment", "0\n* * * *"):
        assert entry(refused) is None and entry(refused, "1.6") is None, refused


def test_what_each_version_adds():
    assert entry("5 seconds") is None and entry("5 seconds", "1.5").seconds == 5
    assert [entry(s, "1.6") and entry(s, "1.6").seconds for s in ("+5 seconds", "5second", "5 second ", "60 seconds",
                                                                  "-4294967291 seconds", "5 SECONDS\n")] == [
        5, 5, None, None, 5, 5]
    assert entry("0 0 $ * *") is None and entry("0 0 $ * *", "1.6").flags & cron.DOM_LAST
    assert entry("0 0 $x * *", "1.6") is None
    assert entry("*/60 * * * *").minute == 1 and entry("*/60 * * * *", "1.6") is None
    assert entry("@yearly").month == 1 and entry("@yearly", "1.6").month == 0
    assert cron.next_fire(entry("@yearly", "1.6"), datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_the_port_walks_pg_crons_clock():
    new_york = cron.zone_of("America/New_York", "1.6")
    # 02:30 does not happen on 2026-03-08 in New York: the next one is the 9th's.
    assert cron.next_fire(entry("30 2 * * *", "1.6"), datetime(2026, 3, 7, 12, tzinfo=UTC), new_york) == datetime(
        2026, 3, 9, 6, 30, tzinfo=UTC)
    # 01:30 happens twice on 2026-11-01: pg_cron runs at both.
    twice = entry("30 1 * * *", "1.6")
    assert cron.next_fire(twice, datetime(2026, 11, 1, 5, tzinfo=UTC), new_york) == datetime(2026, 11, 1, 5, 30,
                                                                                             tzinfo=UTC)
    assert cron.next_fire(twice, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), new_york) == datetime(2026, 11, 1, 6, 30,
                                                                                                 tzinfo=UTC)
    # `$` is whether 24 hours on is a 1st: at 00:00 on a 25-hour 1st of November too.
    last = entry("0 0 $ * *", "1.6")
    assert cron.last_fire(last, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), new_york) == datetime(2026, 11, 1, 4,
                                                                                               tzinfo=UTC)
    # 1.4 reads UTC, whatever zone is asked.
    assert cron.zone_of("America/New_York", "1.4") == UTC
    # Feb 29th that is a Sunday: 2032.
    assert cron.next_fire(entry("0 0 29 2 */7"), datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2032, 2, 29, tzinfo=UTC)
    assert cron.next_fire(entry("0 0 30 2 *"), datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert cron.next_fire(entry("5 seconds", "1.6"), datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert cron.last_fire(entry("@reboot"), datetime(2026, 1, 1, tzinfo=UTC)) is None
    # The next fire is strictly after the moment, the last one at or before it.
    hourly = entry("0 * * * *")
    at = datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert (cron.next_fire(hourly, at), cron.last_fire(hourly, at)) == (at + timedelta(hours=1), at)


# -- the manifest, and what `deployer status` shows -----------------------------------------------

@pytest.mark.parametrize("schedule, why", [
    ("56 6 * * FRI#5", "pg_cron would ignore '#5' in the day-of-week field"),
    ("0 13-10,22 * * *", "the range 13-10 ends before it starts"),
    ("6/2 * * * *", "is not a valid five-field cron expression pg_cron takes"),
    ("0 0 L * *", "is not a valid five-field cron expression pg_cron takes"),
    ("0 0 15W * *", "is not a valid five-field cron expression pg_cron takes"),
    ("0 0 ? * *", "is not a valid five-field cron expression pg_cron takes"),
    ("@daily at noon", "pg_cron would ignore 'at noon' after @daily"),
    ("0 0 1 1 * 2027", "pg_cron would ignore '2027' after the fifth field"),
    ("*/60 * * * *", "is taken by pg_cron 1.4, 1.5 but refused by 1.6"),
    ("0 0 $ * *", "is taken by pg_cron 1.6 but refused by 1.4, 1.5"),
    ("30 seconds", "is taken by pg_cron 1.5, 1.6 but refused by 1.4"),
    ("@yearly", "pg_cron 1.6 never fires @yearly; write '0 0 1 1 *'"),
    ("4294967296 * * * *", "4294967296 is out of range"),
    ("0 0 30 2 *", "never fires"),
])
def test_the_manifest_refuses_with_the_reason(schedule, why):
    with pytest.raises(ConfigError, match="^\\[jobs.x\\]: ") as refused:
        validate_schedule(schedule, "[jobs.x]")
    assert why in str(refused.value)


def test_the_manifest_takes_what_every_pg_cron_takes_alike():
    for schedule in ("0 * * * *", "*/30 * * * *", "@midnight", "@reboot", "@weekly", "0 0 */2 * 1", "0 0 1,* * 1",
                     "30 6 * jan,jul sun", "0 0 29 2 *", "10-20/5 */6 13 * 5"):
        assert validate_schedule(schedule, "[jobs.x]") == schedule
    assert validate_schedule(" 0\t3  * * *\n", "[jobs.x]") == "0 3 * * *"


def test_status_describes_only_what_pg_cron_does_and_reads_next_runs_from_sql(conn, server):
    assert status.describe("0 3 * * *") == "At 03:00 AM"
    assert status.describe("@daily") == "At 12:00 AM"
    for shown_as_is in ("0 0 */2 * 1", "0 12 1,15 * 0", "56 6 * * FRI#5", "0 0 1,* * 1", "@yearly", "@reboot",
                        "5 seconds", "0 13-10,22 * * *"):
        assert status.describe(shown_as_is) == shown_as_is
    after = datetime(2026, 11, 29, 10, 7, tzinfo=UTC)
    zone = server["zone"] or "UTC"
    for schedule in ("5 * * * *", "@daily", "0 0 */2 * 1", "56 6 * * FRI#5"):
        assert status.next_run(conn, "jobs", schedule, after) == port_fire(schedule, after, False, zone,
                                                                           server["version"])
    assert status.next_run(conn, "jobs", "@reboot", after) is None
