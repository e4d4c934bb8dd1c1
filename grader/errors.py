"""Every error torchgrader raises on purpose, in one place.

The hierarchy::

    GraderError                  base: the CLI prints "TypeName: message" and exits 2 (usage) or 1
    ├── UsageError               a bad argument or path given by the user (exit 2)
    ├── AssignmentError          an assignment that cannot be loaded or is inconsistent (exit 2)
    │   └── LintError            a master notebook whose layout breaks a rule of grader/lint.py
    ├── SandboxError             a sandbox backend that cannot start or is missing (exit 2)
    ├── ProtocolError            malformed, oversized or unexpected data from a student process
    ├── StoreError               the results directory cannot be used (locked, not a directory)
    ├── SubmissionError          a submitted file that cannot be graded (becomes an `invalid` row)
    ├── RefusedError             an upload or request the submission service refuses (HTTP 4xx)
    └── ProbeError               a probe could not produce a value; its message is safe to show
        ├── StudentCodeError     the student's code raised inside a probe
        ├── MissingNameError     the notebook does not define a name a probe needs
        ├── ProbeTimeout         a probe ran past its time limit
        └── StudentUnavailable   the student process is gone (crashed, timed out, killed)

Errors that never reach the user, each caught where it is raised's caller decides the outcome::

    WorkerFailure                a worker process died, hung or answered garbage (its job: `error`)
    SandboxStartError            the sandbox or runner failed before the notebook started (`error`)
    EncodeError (ValueError)     a probe's value is not plain data (the student's answer fails)
    AnswerTooLarge (ValueError)  an answer would rebuild more than its budget (`crashed`)

This module imports nothing, so both sides of the sandbox boundary (grader.protocol, grader.student)
may use it.

A submission that is wrong in any way never raises out of a batch: it becomes a result row with a
status and a reason.  These errors are for the code paths that decide that row, and for the user.
"""

from __future__ import annotations


class GraderError(Exception):
    """Base of every error raised on purpose by torchgrader."""

    exit_code = 1


class UsageError(GraderError):
    """A command-line argument, path or option the user can fix."""

    exit_code = 2


class AssignmentError(GraderError):
    """An assignment directory, `assignment.toml` or hidden suite that is not usable."""

    exit_code = 2


class LintError(AssignmentError):
    """A master notebook whose layout breaks a rule of grader/lint.py; `problems` holds one line
    per problem, each naming its cell."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class SandboxError(GraderError):
    """A sandbox backend that is not installed, not usable here, or failed to start."""

    exit_code = 2


class ProtocolError(GraderError):
    """Data from the student process that breaks the protocol (fails closed)."""


class StoreError(GraderError):
    """The results directory cannot be written or is in use by another batch."""

    exit_code = 2


class SubmissionError(GraderError):
    """A submitted file that cannot be graded; the message is written for the student."""


class RefusedError(GraderError):
    """A request the submission service refuses (too large, not a notebook, past the deadline, no
    attempts left); the message is for the person who sent it, `status` its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ProbeError(GraderError):
    """A probe did not return a value.  The message is written for the student."""


class StudentCodeError(ProbeError):
    """The student's code raised an exception while a probe used it."""


class MissingNameError(ProbeError):
    """The notebook does not define a name that a probe looked up."""


class ProbeTimeout(ProbeError):
    """A probe ran past its time limit; the student process was stopped."""


class StudentUnavailable(ProbeError):
    """The student process is no longer running (it crashed, timed out or was stopped)."""


class WorkerFailure(Exception):
    """The worker process died, hung, or answered with garbage."""


class SandboxStartError(Exception):
    """The sandbox or the runner failed before the notebook could start."""


class EncodeError(ValueError):
    """A value that is not plain data (raised on the side that encodes)."""


class AnswerTooLarge(ValueError):
    """Decoding a message would rebuild more bytes than its budget allows (raised while decoding)."""
