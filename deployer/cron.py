"""pg_cron's schedules, as pg_cron itself reads them: a port of its parser and of its clock.

Written from pg_cron's C source, in our words: the schedule parser (src/entry.c, Vixie
cron's load_entry cut down to the schedule, with misc.c's character reader), the `N
seconds` form (TryParseInterval in src/job_metadata.c, 1.5+) and the test each minute runs
(ShouldRunTask in src/pg_cron.c). It reproduces pg_cron's leniencies, because a schedule
means what pg_cron makes of it:

- a field is read up to the first character that cannot continue it, and the rest of the
  field is skipped (`FRI#5` is `FRI`, `*abc` is `*`, `*-5` is `*`);
- anything after the fifth field, or after an @macro's word, is ignored;
- a range whose end comes before its start (`13-10`) selects nothing in 1.4 and 1.5; in 1.6
  its bits are set by Vixie's bit_nset, which sets from the start to the end of the start's
  byte and from the start of the end's byte to the end (`22-3` in hours: 22, 23, 0-3;
  `13-10`: nothing, one byte);
- numbers go through C's atoi: `4294967296` is 0;
- a day field that merely starts with `*` (`*/2`) makes the day test an AND, as `*` does;
- `@midnight` is `@daily`, `@restart` is `@reboot`; 1.6's `@yearly` and `@annually` never
  fire (their month is set from FIRST_MINUTE, 0, which set_element refuses).

`parse` gives the Entry pg_cron would build (None where it says "invalid schedule"), with
`notes` on what it silently skipped or bent (the manifest refuses those); `next_fire` and
`last_fire` walk its clock. Versions: "1.4" (1.4.x), "1.5" (adds `N seconds` and
cron.timezone), "1.6" (1.6.5 and later: adds `$`, set_range, refuses a step larger than the
field's top; 1.6.0 to 1.6.1 read every day field a day late, a bug 1.6.2 fixed and not
followed here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

VERSIONS = ("1.4", "1.5", "1.6")
NEWEST = VERSIONS[-1]

DOM_STAR, DOW_STAR, WHEN_REBOOT, MIN_STAR, HR_STAR, DOM_LAST = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
# (what, low, high, names) per field, in order.
FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day-of-month", 1, 31, None),
          ("month", 1, 12, MONTH_NAMES), ("day-of-week", 0, 7, DOW_NAMES))
MACROS = ("reboot", "restart", "yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly")
MAX_SCHEDULE = 999  # parse_cron_entry refuses 1000 bytes and more

EOF = None
LONG_MAX = 2**63 - 1
ULONG_MAX = 2**64 - 1


@dataclass(frozen=True)
class Entry:
    """What pg_cron keeps of a schedule: one bit per allowed value (bit 0 is the field's
    low end: minute 0, hour 0, day 1, month 1, Sunday), flags, and the interval of an `N
    seconds` schedule. `notes`: what pg_cron skipped or bent on the way, (kind, detail)."""

    minute: int = 0
    hour: int = 0
    dom: int = 0
    month: int = 0
    dow: int = 0
    flags: int = 0
    seconds: int = 0
    notes: tuple[tuple[str, str], ...] = ()

    @property
    def reboot(self) -> bool:
        return bool(self.flags & WHEN_REBOOT)


def _at_least(version: str, wanted: str) -> bool:
    if version not in VERSIONS:
        raise ValueError(f"unknown pg_cron version {version!r} (known: {', '.join(VERSIONS)})")
    return VERSIONS.index(version) >= VERSIONS.index(wanted)


class _Reader:
    """misc.c's get_char over the schedule's bytes: each byte, then one NUL, then EOF."""

    def __init__(self, data: bytes):
        self.data, self.pos, self.back = data, 0, []

    def get(self):
        if self.back:
            return self.back.pop()
        self.pos += 1
        if self.pos - 1 < len(self.data):
            return chr(self.data[self.pos - 1])
        return "\0" if self.pos - 1 == len(self.data) else EOF

    def unget(self, ch) -> None:
        self.back.append(ch)


def _alnum(ch) -> bool:
    return ch is not EOF and ch < "\x80" and ch.isalnum()


def _blank(ch) -> bool:
    return ch in (" ", "\t")


def _atoi(digits: str) -> int:
    """glibc's atoi: (int) strtol(s, NULL, 10), saturating at LONG_MAX, then cut to 32 bits."""
    value = min(int(digits), LONG_MAX) & 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def _bit_nset(bits: int, start: int, stop: int) -> int:
    """bitstring.h's bit_nset, byte by byte, as it behaves when start > stop too."""
    first, last = start // 8, stop // 8
    if first == last:
        mask = (0xFF << (start & 7)) & (0xFF >> (7 - (stop & 7))) & 0xFF
        return bits | (mask << (8 * first))
    bits |= ((0xFF << (start & 7)) & 0xFF) << (8 * first)
    for byte in range(first + 1, last):
        bits |= 0xFF << (8 * byte)
    return bits | ((0xFF >> (7 - (stop & 7))) << (8 * last))


class _Parser:
    def __init__(self, schedule: str, version: str):
        self.version = version
        self.reader = _Reader(schedule.encode())
        self.notes: list[tuple[str, str]] = []

    def number(self, ch, low: int, names):
        """get_number: (value, next character), or (None, EOF)."""
        text = ""
        while _alnum(ch):
            text += ch
            ch = self.reader.get()
        if not text:
            return None, EOF
        if names and text.lower() in names:
            return names.index(text.lower()) + low, ch
        if text.isdigit():
            value = _atoi(text)
            if value != int(text):
                self.notes.append(("wrapped", text))
            return value, ch
        return None, EOF

    def range(self, bits: int, low: int, high: int, names, ch):
        """get_range: (bits, next character); next character EOF when pg_cron refuses."""
        if ch == "*":
            first, last = low, high
            ch = self.reader.get()
        else:
            first, ch = self.number(ch, low, names)
            if ch is EOF:
                return bits, EOF
            if ch != "-":
                if ch == "/" or not low <= first <= high:  # a step needs a range
                    return bits, EOF
                return bits | 1 << (first - low), ch
            ch = self.reader.get()
            last, ch = self.number(ch, low, names)
            if ch is EOF:
                return bits, EOF
        step = 1
        if ch == "/":
            step, ch = self.number(self.reader.get(), 0, None)
            if ch is EOF or step <= 0:
                return bits, EOF
        if not (low <= first <= high and low <= last <= high):
            return bits, EOF
        if _at_least(self.version, "1.6") and step > high:
            return bits, EOF
        if first > last:
            self.notes.append(("reversed", f"{first}-{last}"))
            if _at_least(self.version, "1.6") and step == 1:
                return _bit_nset(bits, first - low, last - low), ch
            return bits, ch
        if _at_least(self.version, "1.6") and step == 1:
            return _bit_nset(bits, first - low, last - low), ch
        for value in range(first, last + 1, step):
            bits |= 1 << (value - low)
        return bits, ch

    def list(self, what: str, low: int, high: int, names, ch):
        """get_list: the field's bits and the first character of the next field (EOF: refused)."""
        bits = 0
        while True:
            bits, ch = self.range(bits, low, high, names, ch)
            if ch != ",":
                break
            ch = self.reader.get()
        skipped = ""
        while ch is not EOF and ch not in ("\t", " ", "\n", "\0"):
            skipped += ch
            ch = self.reader.get()
        if skipped:
            self.notes.append(("skipped", f"{skipped!r} in the {what} field"))
        while _blank(ch):
            ch = self.reader.get()
        return bits, ch

    def skip_comments(self) -> None:
        """Leading blank lines and lines starting with #."""
        while (ch := self.reader.get()) is not EOF:
            while _blank(ch):
                ch = self.reader.get()
            if ch is EOF:
                break
            if ch not in ("\n", "#"):
                break
            while ch not in ("\n", EOF):
                ch = self.reader.get()
        if ch is not EOF:
            self.reader.unget(ch)

    def macro(self) -> Entry | None:
        word = ""
        while (ch := self.reader.get()) is not EOF and ch not in (" ", "\t", "\n", "\0"):
            word += ch
        if word not in MACROS:
            return None
        rest = self.reader.data[self.reader.pos:].decode(errors="replace")
        if ch not in (EOF, "\0") and rest.strip():
            self.notes.append(("skipped", f"{rest.strip()!r} after @{word}"))
        every = {"minute": (1 << 60) - 1, "hour": (1 << 24) - 1, "dom": (1 << 31) - 1, "month": (1 << 12) - 1,
                 "dow": 0xFF}
        if word in ("reboot", "restart"):
            return Entry(flags=WHEN_REBOOT, notes=tuple(self.notes))
        if word in ("yearly", "annually"):
            # 1.6 sets the month from FIRST_MINUTE (0): refused by set_element, so no month.
            month = 0 if _at_least(self.version, "1.6") else 1
            return Entry(1, 1, 1, month, every["dow"], DOW_STAR, notes=tuple(self.notes))
        if word == "monthly":
            return Entry(1, 1, 1, every["month"], every["dow"], DOW_STAR, notes=tuple(self.notes))
        if word == "weekly":  # 1.4 flags DOM_STAR, 1.6 DOW_STAR: either makes it an AND
            flags = DOW_STAR if _at_least(self.version, "1.6") else DOM_STAR
            return Entry(1, 1, every["dom"], every["month"], 0b10000001, flags, notes=tuple(self.notes))
        if word in ("daily", "midnight"):
            return Entry(1, 1, every["dom"], every["month"], every["dow"], 0, notes=tuple(self.notes))
        return Entry(1, every["hour"], every["dom"], every["month"], every["dow"], HR_STAR, notes=tuple(self.notes))

    def entry(self) -> Entry | None:
        self.skip_comments()
        ch = self.reader.get()
        if ch is EOF:
            return None
        if ch == "@":
            return self.macro()
        values, flags = [], 0
        for index, (what, low, high, names) in enumerate(FIELDS):
            if index == 2 and ch == "$" and _at_least(self.version, "1.6"):
                ch = self.reader.get()
                if not _blank(ch):
                    return None
                while _blank(ch):
                    ch = self.reader.get()
                flags |= DOM_LAST
                values.append(0)
                continue
            if ch == "*":
                flags |= (MIN_STAR, HR_STAR, DOM_STAR, 0, DOW_STAR)[index]
            bits, ch = self.list(what, low, high, names, ch)
            if ch is EOF:
                return None
            values.append(bits)
        if ch not in ("\0", EOF):
            rest = self.reader.data[self.reader.pos - 1:].decode(errors="replace").strip()
            if rest:
                self.notes.append(("skipped", f"{rest!r} after the fifth field"))
        if values[4] & 0x81:  # Sunday is 0 and 7
            values[4] |= 0x81
        return Entry(*values, flags=flags, notes=tuple(self.notes))


def _seconds(schedule: str) -> int:
    """TryParseInterval: sscanf(lower(schedule), " %u secon%c%c %c") read as pg_cron does.
    The interval, or 0 where it is not one."""
    text = schedule.encode().lower().decode(errors="replace")
    spaces = " \t\n\v\f\r"
    i = len(text) - len(text.lstrip(spaces))
    j = i + (1 if text[i:i + 1] in ("+", "-") else 0)
    k = j
    while k < len(text) and "0" <= text[k] <= "9":
        k += 1
    if k == j:
        return 0
    magnitude = int(text[j:k])
    value = ULONG_MAX if magnitude > ULONG_MAX else (-magnitude if text[i] == "-" else magnitude) % 2**64
    value &= 0xFFFFFFFF  # stored in an unsigned int
    rest = text[k:].lstrip(spaces)
    if not rest.startswith("secon") or rest[5:6] != "d":
        return 0
    tail = rest[6:]
    if tail == "" or (tail[0] == "s" and tail[1:].strip(spaces) == ""):
        return value if 0 < value < 60 else 0
    return 0


def parse(schedule: str, version: str = NEWEST) -> Entry | None:
    """The Entry pg_cron `version` makes of `schedule`, or None where cron.schedule refuses it."""
    _at_least(version, "1.4")
    if "\0" in schedule:  # text never holds one
        return None
    found = _Parser(schedule, version).entry() if len(schedule.encode()) <= MAX_SCHEDULE else None
    if found is None and _at_least(version, "1.5"):
        seconds = _seconds(schedule)
        if seconds:
            return Entry(seconds=seconds)
    return found


# -- the clock ---------------------------------------------------------------------------------

def zone_of(name: str | None, version: str) -> tzinfo:
    """Where a version's schedules are read: UTC before 1.5, cron.timezone (default GMT) after."""
    if not _at_least(version, "1.5") or not name:
        return timezone.utc
    return timezone.utc if name.upper() in ("UTC", "GMT") else ZoneInfo(name)


def matches(entry: Entry, at: datetime, zone: tzinfo) -> bool:
    """ShouldRunTask for the minute starting at `at`: its fields read in `zone`, and
    `$` true when the same moment 24 hours later falls on a 1st."""
    local = at.astimezone(zone)
    dow = (local.weekday() + 1) % 7  # tm_wday: Sunday 0
    last_dom = (at + timedelta(hours=24)).astimezone(zone).day == 1
    this_dom = bool(entry.dom >> (local.day - 1) & 1) or (last_dom and bool(entry.flags & DOM_LAST))
    this_dow = bool(entry.dow >> dow & 1)
    day = (this_dom and this_dow) if entry.flags & (DOM_STAR | DOW_STAR) else (this_dom or this_dow)
    return bool(entry.minute >> local.minute & 1 and entry.hour >> local.hour & 1
                and entry.month >> (local.month - 1) & 1 and day)


HORIZON = timedelta(days=146097 + 366)  # one Gregorian cycle, after which every calendar repeats


def _day_start(day: date, zone: tzinfo) -> datetime:
    """The first moment of a local date (a skipped midnight: the moment the date begins)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _walk(entry: Entry, at: datetime, zone: tzinfo, step: int) -> datetime | None:
    """Minute by minute from `at` (a minute start) in direction `step` (+1 or -1) to the
    first minute pg_cron would run the entry, skipping whole local days whose date cannot
    match and whole local hours whose hour cannot."""
    t, end = at, at + step * HORIZON
    day_fixed = not entry.flags & DOM_LAST
    while (t < end) if step > 0 else (t > end):
        local = t.astimezone(zone)
        dow = (local.weekday() + 1) % 7
        this_dom, this_dow = bool(entry.dom >> (local.day - 1) & 1), bool(entry.dow >> dow & 1)
        day_ok = (this_dom and this_dow) if entry.flags & (DOM_STAR | DOW_STAR) else (this_dom or this_dow)
        if not entry.month >> (local.month - 1) & 1 or (day_fixed and not day_ok):
            if step > 0:
                t = _day_start(local.date() + timedelta(days=1), zone)
            else:
                t = _day_start(local.date(), zone) - timedelta(minutes=1)
        elif not entry.hour >> local.hour & 1:
            t += timedelta(minutes=60 - local.minute) if step > 0 else -timedelta(minutes=local.minute + 1)
        elif matches(entry, t, zone):
            return t
        elif not entry.minute >> local.minute & 1 or day_fixed:
            t += step * timedelta(minutes=1)
        else:  # `$`: whether 24 hours on is a 1st changes only on a half hour of local time
            t += timedelta(minutes=30 - local.minute % 30) if step > 0 else -timedelta(minutes=local.minute % 30 + 1)
    return None


def can_fire(entry: Entry) -> bool:
    """Whether some day of the 400-year calendar has a minute the entry matches (before
    time zones: a zone whose clock skips the only times it names every year is not seen)."""
    if not (entry.minute & (1 << 60) - 1 and entry.hour & (1 << 24) - 1 and entry.month & 0xFFF):
        return False
    longest = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}
    dom = bool(entry.flags & DOM_LAST) or any(
        entry.month >> (m - 1) & 1 and entry.dom & (1 << longest.get(m, 31)) - 1 for m in range(1, 13))
    dow = bool(entry.dow & 0x7F)
    return (dom and dow) if entry.flags & (DOM_STAR | DOW_STAR) else (dom or dow)


def _minute(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc)
    return at.replace(second=0, microsecond=0)


def next_fire(entry: Entry, after: datetime, zone: tzinfo = timezone.utc) -> datetime | None:
    """The first moment after `after` when pg_cron starts the entry: a minute start, or for
    an `N seconds` schedule `after` + N seconds (pg_cron starts it N seconds after its
    previous start). None for @reboot and for a schedule that never fires."""
    if entry.reboot:
        return None
    if entry.seconds:
        return after + timedelta(seconds=entry.seconds)
    if not can_fire(entry):
        return None
    return _walk(entry, _minute(after) + timedelta(minutes=1), zone, 1)


def last_fire(entry: Entry, at: datetime, zone: tzinfo = timezone.utc) -> datetime | None:
    """The last moment at or before `at` when pg_cron started (or should have started) the
    entry; `at` itself for an `N seconds` schedule (one is always due)."""
    if entry.reboot:
        return None
    if entry.seconds:
        return at
    if not can_fire(entry):
        return None
    return _walk(entry, _minute(at), zone, -1)
