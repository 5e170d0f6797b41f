"""Rendering of the SQL templates: one Jinja Environment, strict, with quoting filters.

Every value that comes from configuration reaches SQL through one of the filters below:
``ident`` for identifiers (schema, table, function names) and ``literal`` for values
(text, numbers, booleans, intervals, JSON). Nothing is pasted as raw text.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from deployer.errors import ConfigError


def sql_root() -> Path:
    """Where the SQL templates live: $DEPLOYER_SQL_ROOT (a copy to try out, e.g. in tests),
    else inside the installed package, or the checkout's sql/."""
    override = os.environ.get("DEPLOYER_SQL_ROOT")
    if override:
        if not Path(override, "jobs.toml").is_file():
            raise ConfigError(f"DEPLOYER_SQL_ROOT={override}: there is no jobs.toml there")
        return Path(override)
    packaged = resources.files("deployer").joinpath("sql")
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "sql"
    if checkout.is_dir():
        return checkout
    raise ConfigError("the SQL templates are missing: the deployer package is incomplete")


def framework_templates(root: Path | None = None) -> list[str]:
    """The framework's templates in install order: by file name, those of framework/upgrade/
    (what brings an earlier release's objects to today's shape) among the others."""
    root = root or sql_root()
    found = [*(root / "framework").glob("*.sql"), *(root / "framework" / "upgrade").glob("*.sql")]
    return [p.relative_to(root).as_posix() for p in sorted(found, key=lambda p: (p.name, p.as_posix()))]


class BadValue(ConfigError):
    """A value a filter refuses. It keeps the value, so that the manifest's loader can name
    the variable it came from."""

    def __init__(self, message: str, value: Any):
        super().__init__(message)
        self.value = value


class MissingVariable(ConfigError):
    """A template used a variable nobody gave it; `variable` is its name."""

    def __init__(self, message: str, variable: str):
        super().__init__(message)
        self.variable = variable


def _defined(value: Any) -> Any:
    """A filter given an undefined variable raises the usual 'X is undefined' error."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def quote_ident(value: Any) -> str:
    """Quote one identifier, or a dotted pair given as a tuple/list ('schema', 'name')."""
    _defined(value)
    if isinstance(value, (tuple, list)):
        return ".".join(quote_ident(part) for part in value)
    if not isinstance(value, str) or value == "":
        raise BadValue(f"not a valid SQL identifier: {value!r}", value)
    if "\x00" in value:
        raise BadValue(f"an identifier may not contain a NUL byte: {value!r}", value)
    return '"' + value.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    """Render a Python value as a SQL literal."""
    _defined(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise BadValue(f"not a finite number: {value!r}", value)
        return repr(value)
    if isinstance(value, (dict, list)):
        return quote_literal(json.dumps(value, sort_keys=True)) + "::jsonb"
    if isinstance(value, str):
        if "\x00" in value:
            raise BadValue(f"a value may not contain a NUL byte: {value!r}", value)
        return "'" + value.replace("'", "''") + "'"
    raise BadValue(f"cannot render {type(value).__name__} {value!r} as SQL", value)


INTERVAL_RE = re.compile(
    r"^\s*(\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|min|mins?|minutes?|h|hours?|d|days?|weeks?)\s*)+$"
)


def quote_interval(value: Any) -> str:
    """A literal typed as interval: ``'3 hours'::interval``; the text is checked first."""
    _defined(value)
    if not isinstance(value, str) or not INTERVAL_RE.match(value):
        raise BadValue(f"an interval must be text such as '3 hours', not {value!r}", value)
    return quote_literal(value) + "::interval"


def quote_integer(value: Any) -> str:
    """A whole number >= 0 (amounts in cents, counts)."""
    _defined(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadValue(f"expected a whole number >= 0, not {value!r}", value)
    return str(value)


def check_flag(value: Any) -> bool:
    """A true/false switch, for {% if %}: a string such as "false" is refused, not truthy."""
    _defined(value)
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, not {value!r}", value)
    return value


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined whose error names the variable (Jinja adds the template)."""


@dataclass(frozen=True)
class Rendered:
    """One rendered template."""

    name: str  # path relative to the SQL root, e.g. 'jobs/expire_content.sql'
    sql: str


def make_env(root: Path | None = None) -> jinja2.Environment:
    """The one Environment: strict undefined, macros importable by file name."""
    root = root or sql_root()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=_Undefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ident"] = quote_ident
    env.filters["literal"] = quote_literal
    env.filters["interval"] = quote_interval
    env.filters["integer"] = quote_integer
    env.filters["flag"] = check_flag
    return env


def render(name: str, variables: dict[str, Any], env: jinja2.Environment | None = None) -> Rendered:
    """Render one template; a missing variable or a syntax error is a ConfigError."""
    env = env or make_env()
    try:
        sql = env.get_template(name).render(**variables)
    except jinja2.UndefinedError as exc:
        named = re.match(r"^'([^']+)' is undefined$", exc.message or "")
        if named:
            raise MissingVariable(f"{name}: {exc.message}", named.group(1)) from None
        raise ConfigError(f"{name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"template not found: {exc.name}") from None
    return Rendered(name=name, sql=sql)
