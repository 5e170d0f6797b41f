"""One exception tree, with messages written for a person.

The CLI turns any DeployerError into one line on stderr and its ``exit_code``.
"""

from __future__ import annotations


class DeployerError(Exception):
    """Base of every error the deployer reports to a person."""

    exit_code = 2


class UsageError(DeployerError):
    """Bad input on the command line: unknown job, bad --now, negative --limit."""


class ConfigError(DeployerError):
    """The manifest or a template is wrong."""


class ConnectionFailed(DeployerError):
    """No database could be reached. `reason` is the server's or the driver's words alone,
    without the connection string, for places that must not show even a redacted one."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


class LocalClusterError(DeployerError):
    """The embedded local cluster cannot be started, stopped or found."""


class DatabaseError(DeployerError):
    """A statement failed; keeps the SQLSTATE and the constraint name."""

    def __init__(self, message: str, sqlstate: str | None = None, constraint: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.constraint = constraint


class JobFailed(DatabaseError):
    """A job ran and failed: exit code 1, not 2. Carries the run's result when known."""

    exit_code = 1
    result: object | None = None

    def with_result(self, result: object) -> "JobFailed":
        self.result = result
        return self


class MissingRights(DeployerError):
    """The deploying role lacks rights the deploy needs; one line each, with how to grant it."""

    def __init__(self, lines: list[str]):
        super().__init__(lines[0] if len(lines) == 1 else f"{len(lines)} rights are missing")
        self.lines = lines


class DeployBusy(DeployerError):
    """Another deploy held the deploy lock for longer than we were willing to wait."""

    exit_code = 1


class Aborted(DeployerError):
    """The person declined a confirmation, or one was needed and could not be asked."""


class OutputClosed(DeployerError):
    """The reader of stdout went away (`deployer … | head`): the command stops quietly, with
    the exit status of a program stopped by SIGPIPE, as a shell reports it."""

    exit_code = 141
