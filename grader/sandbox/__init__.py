"""Sandbox backends behind one interface: `bwrap` (default where it works) and `none`."""

from __future__ import annotations

from grader.errors import SandboxError, UsageError
from grader.sandbox.base import Limits, LaunchSpec, Sandbox, SandboxProcess
from grader.sandbox.bwrap import BwrapSandbox
from grader.sandbox.none import NoSandbox

BACKENDS: dict[str, type[Sandbox]] = {"bwrap": BwrapSandbox, "none": NoSandbox}
CHOICES = ("auto", *BACKENDS)

__all__ = ["BACKENDS", "CHOICES", "Limits", "LaunchSpec", "Sandbox", "SandboxProcess", "resolve_backend"]


def resolve_backend(name: str) -> Sandbox:
    """The backend called `name` ("auto" picks the strongest that works here), ready to launch."""
    if name == "auto":
        reason = BwrapSandbox.unavailable_reason()
        if reason is None:
            return BwrapSandbox()
        raise SandboxError(f"no isolating sandbox works on this machine: {reason}. "
                           "Install it, or pass --sandbox none to run submissions without isolation.")
    if name not in BACKENDS:
        raise UsageError(f"unknown sandbox {name!r}; choose one of: {', '.join(CHOICES)}")
    backend = BACKENDS[name]
    reason = backend.unavailable_reason()
    if reason is not None:
        raise SandboxError(f"the {name} sandbox cannot run here: {reason}")
    return backend()
