"""The `none` backend: a plain subprocess with resource limits.  Nothing is isolated."""

from __future__ import annotations

from grader.sandbox.base import BOOT, LaunchSpec, Sandbox, base_env, package_dir


class NoSandbox(Sandbox):
    """Runs the student runner as a child process of the grader, with rlimits only."""

    name = "none"
    isolated = False

    def command(self, spec: LaunchSpec, fd: int):
        import sys

        env = base_env(spec, home=str(spec.workdir))
        return [sys.executable, "-I", "-c", BOOT, str(fd), str(package_dir().parent)], env
