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

    auto: bubblewrap (namespaces, ~30 ms a start) where it works, else podman, else, as root,
    `drop`, else an error: it never falls back to running without isolation.  Where bubblewrap
    works but no cgroup can be made, auto keeps it, and its start refuses with what to do
    (cgroup.refusal): on a machine of one's own, a weaker backend is never picked for that.
    platform (what the Gradescope and PrairieLearn bundles run, inside the platform's container,
    as root): bubblewrap with its cgroups, else `drop`."""
    if name in ("auto", "platform"):
        reasons = []
        for candidate in _auto_candidates(name):
            reason = candidate.unavailable_reason()
            if reason is None and name == "platform" and _cgroups_missing(candidate):
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
    them (its uid is root to the kernel)."""
    return candidate.needs_cgroups and os.geteuid() == 0 and not cgroup.usable()


def in_container() -> bool:
    """Whether this process runs in a Docker or Podman container (a platform's grading one)."""
    return os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")


def _auto_candidates(name: str) -> tuple[type[Sandbox], ...]:
    """What auto (or platform) tries, strongest first: in a platform's container, or any
    container, a nested podman is not among them."""
    if name == "platform" or in_container():
        return (BwrapSandbox, DropSandbox)
    return (BwrapSandbox, PodmanSandbox, DropSandbox)


def _make(backend: type[Sandbox], image: str | None, warm: bool) -> Sandbox:
    if backend in (PodmanSandbox, DockerSandbox):
        return backend(image=image)
    if backend is BwrapSandbox:
        return backend(warm=warm)
    return backend()
