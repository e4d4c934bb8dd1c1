"""Sandbox backends behind one interface: `bwrap` (default where it works), `podman`, `docker`,
`drop` (a platform's container, as root without namespaces), `none`."""

from __future__ import annotations

import os

from grader.errors import SandboxError, UsageError
from grader.sandbox import cgroup
from grader.sandbox.base import Limits, LaunchSpec, Sandbox, SandboxProcess
from grader.sandbox.bwrap import BwrapSandbox
from grader.sandbox.drop import DropSandbox
from grader.sandbox.none import NoSandbox
from grader.sandbox.oci import DockerSandbox, PodmanSandbox

BACKENDS: dict[str, type[Sandbox]] = {"bwrap": BwrapSandbox, "podman": PodmanSandbox, "docker": DockerSandbox,
                                      "drop": DropSandbox, "none": NoSandbox}
CHOICES = ("auto", *BACKENDS)

__all__ = ["BACKENDS", "CHOICES", "Limits", "LaunchSpec", "Sandbox", "SandboxProcess", "resolve_backend"]


def resolve_backend(name: str, *, image: str | None = None, warm: bool = True) -> Sandbox:
    """The backend called `name` ("auto" picks the strongest that works here), ready to launch.

    auto: bubblewrap (namespaces, ~30 ms a start) where it works, else podman, else, as root
    (a platform's container without namespaces), `drop`, else an error: it never falls back to
    running without isolation."""
    if name == "auto":
        reasons = []
        for candidate in _auto_candidates():
            reason = candidate.unavailable_reason()
            if reason is None and _cgroups_missing(candidate):
                reason = "no pids and memory cgroup can be made for each submission here"
            if reason is None:
                return _make(candidate, image, warm)
            reasons.append(f"{candidate.name}: {reason}")
        raise SandboxError("no isolating sandbox works on this machine (" + "; ".join(reasons) + "). "
                           "Install bubblewrap, or pass --sandbox none to run submissions without isolation.")
    if name not in BACKENDS:
        raise UsageError(f"unknown sandbox {name!r}; choose one of: {', '.join(CHOICES)}")
    backend = BACKENDS[name]
    reason = backend.unavailable_reason()
    if reason is not None:
        raise SandboxError(f"the {name} sandbox cannot run here: {reason}")
    return _make(backend, image, warm)


def _cgroups_missing(candidate: type[Sandbox]) -> bool:
    """As root, a backend whose pids and memory limits are cgroups cannot hold a fork bomb without
    them (its uid is root to the kernel), so auto passes it over; a user's own uid is held by
    RLIMIT_NPROC."""
    return candidate.needs_cgroups and os.geteuid() == 0 and not cgroup.usable()


def in_container() -> bool:
    """Whether this process runs in a Docker or Podman container (a platform's grading one)."""
    return os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")


def _auto_candidates() -> tuple[type[Sandbox], ...]:
    """What auto tries, strongest first: in a container, a nested podman is not among them."""
    if in_container():
        return (BwrapSandbox, DropSandbox)
    return (BwrapSandbox, PodmanSandbox, DropSandbox)


def _make(backend: type[Sandbox], image: str | None, warm: bool) -> Sandbox:
    if backend in (PodmanSandbox, DockerSandbox):
        return backend(image=image)
    if backend is BwrapSandbox:
        return backend(warm=warm)
    return backend()
