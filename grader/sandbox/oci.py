"""The `podman` and `docker` backends: one OCI container per submission.

Policy, as for bubblewrap: no network, read-only root, non-root user, every capability dropped, no
new privileges, limits on processes, memory (swap included), CPU and open files, a sized private
/tmp, one writable work dir.  Without an image, podman runs on a minimal root directory of the
grader's own (mount points and symlinks only) with `/usr`, the Python installation, the virtual
environment and the `grader` package bound read-only: no registry is needed.  With `image=`, the
container starts from that image (built from grader/sandbox/container/Dockerfile), which must hold
the same Python environment.  Docker has no root-directory mode, so it needs an image.

A container outlives a killed client, so each carries the grading worker's pid as a label and
containers whose worker is gone are removed when a backend starts.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from grader.sandbox import staging
from grader.sandbox.base import COLD_BOOT, LaunchSpec, Sandbox, base_env, python_paths
from grader.student.boot import DATA_DIR, NOBODY, PKG_ROOT as SANDBOX_PKG_ROOT, WORKSPACE as SANDBOX_WORKDIR

OWNER_LABEL = "torchgrader.owner"
ROOTFS_HOME = Path(os.environ.get("TORCHGRADER_CACHE", "/var/tmp/torchgrader"))


class OciSandbox(Sandbox):
    """Shared by podman and docker; subclasses name the binary and how GPUs are passed."""

    binary = "podman"
    extra_args: tuple[str, ...] = ()
    stages_data = True

    def __init__(self, image: str | None = None) -> None:
        self.image = image
        remove_orphans(self.binary)

    def gpu_args(self, index: str) -> list[str]:
        return []

    def command(self, spec: LaunchSpec, fd: int):
        exe, home, prefix = python_paths()
        limits = spec.limits
        name = f"torchgrader-{uuid.uuid4().hex[:12]}"
        argv = [shutil.which(self.binary) or self.binary, "run", "--rm", "--name", name, *self.extra_args,
                "--label", f"{OWNER_LABEL}={os.getpid()}",
                "--network", "none", "--read-only", "--user", f"{NOBODY}:{NOBODY}",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--pids-limit", str(limits.nproc), "--memory", f"{limits.memory_mb}m",
                "--memory-swap", f"{limits.memory_mb}m", "--cpus", str(max(1, spec.torch_threads)),
                "--ulimit", f"nofile={limits.nofile}:{limits.nofile}",
                "--ulimit", f"nproc={limits.nproc}:{limits.nproc}",
                "--ulimit", f"fsize={limits.fsize_mb << 20}:{limits.fsize_mb << 20}",
                "--ulimit", f"cpu={limits.cpu_s}:{limits.cpu_s}",
                "--ulimit", "core=0:0",
                "--tmpfs", f"/tmp:rw,size={limits.tmp_mb}m,mode=1777",
                # a sized tmpfs, filled from the staged data files: the work dir's total is capped
                "--tmpfs", f"{SANDBOX_WORKDIR}:rw,size={spec.workspace_mb}m,mode=1777",
                *(["-v", f"{spec.stage}:{DATA_DIR}:ro"] if spec.stage is not None else []),
                "-w", SANDBOX_WORKDIR,
                "--preserve-fds", "1", "--stop-timeout", "0",
                *(self.gpu_args(spec.gpu) if spec.gpu is not None else [])]
        env = base_env(spec, home=SANDBOX_WORKDIR)
        if spec.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = "0"   # the container sees only its own GPU
        for key, value in env.items():
            argv += ["--env", f"{key}={value}"]
        if self.image:
            argv += [self.image, "python", "-I", "-c", COLD_BOOT, str(fd), SANDBOX_PKG_ROOT]
        else:
            for src, dst in (("/usr", "/usr"), ("/etc/ld.so.cache", "/etc/ld.so.cache"), (home, home),
                             (prefix, prefix), (str(staging.package()), f"{SANDBOX_PKG_ROOT}/grader")):
                argv += ["-v", f"{src}:{dst}:ro"]
            argv += ["--rootfs", str(minimal_rootfs(home, prefix)), exe, "-I", "-c", COLD_BOOT, str(fd),
                     SANDBOX_PKG_ROOT]
        return argv, None

    def stopper(self, argv: list[str]):
        name = argv[argv.index("--name") + 1]
        binary = argv[0]

        def stop() -> None:
            subprocess.run([binary, "rm", "-f", "-t", "0", name], capture_output=True, timeout=60)

        return stop


class PodmanSandbox(OciSandbox):
    """Podman with runc (crun cannot manage this host's cgroup layout)."""

    name = "podman"
    binary = "podman"
    extra_args = ("--runtime", "runc")

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _probe("podman")

    def gpu_args(self, index: str) -> list[str]:
        return ["--device", f"nvidia.com/gpu={index}"]         # CDI


class DockerSandbox(OciSandbox):
    """Docker (a daemon must be running); needs an image with the grading environment."""

    name = "docker"
    binary = "docker"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _probe("docker")

    def __init__(self, image: str | None = None) -> None:
        if not image:
            from grader.errors import UsageError

            raise UsageError("the docker backend needs --image (build grader/sandbox/container/Dockerfile)")
        super().__init__(image)

    def gpu_args(self, index: str) -> list[str]:
        return ["--gpus", f"device={index}"]


@functools.lru_cache(maxsize=4)
def _probe(binary: str) -> str | None:
    exe = shutil.which(binary)
    if exe is None:
        return f"{binary} is not installed"
    try:
        r = subprocess.run([exe, "info", "--format", "{{.Host.OCIRuntime.Name}}" if binary == "podman"
                            else "{{.ServerVersion}}"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{binary} does not answer: {exc}"
    if r.returncode != 0:
        return f"{binary} cannot run containers here: {(r.stderr or r.stdout).strip()[:300]}"
    if binary == "podman" and shutil.which("runc") is None:
        return "podman needs runc here (apt-get install runc)"
    return None


def minimal_rootfs(home: str, prefix: str) -> Path:
    """A root directory with only mount points, the usual symlinks and a passwd entry for nobody."""
    key = hashlib.sha256(f"{home}|{prefix}|{SANDBOX_PKG_ROOT}|4".encode()).hexdigest()[:12]
    root = ROOTFS_HOME / f"rootfs-{key}"
    if (root / ".complete").exists():
        return root
    tmp = root.with_name(root.name + f".{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for d in ("usr", "tmp", "proc", "dev", "sys", "etc", "run", "var", SANDBOX_WORKDIR.strip("/"),
              f"{SANDBOX_PKG_ROOT.strip('/')}/grader", DATA_DIR.strip("/"), home.strip("/"), prefix.strip("/")):
        (tmp / d).mkdir(parents=True, exist_ok=True)
    (tmp / "tmp").chmod(0o1777)          # a tmpfs mounted here takes this mode
    (tmp / SANDBOX_WORKDIR.strip("/")).chmod(0o777)     # the student (uid 65534) writes there
    for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"), ("sbin", "usr/sbin")):
        (tmp / link).symlink_to(target)
    (tmp / "etc" / "passwd").write_text(f"nobody:x:{NOBODY}:{NOBODY}:nobody:{SANDBOX_WORKDIR}:/usr/sbin/nologin\n")
    (tmp / "etc" / "group").write_text(f"nogroup:x:{NOBODY}:\n")
    (tmp / "etc" / "ld.so.cache").touch()
    (tmp / ".complete").touch()
    try:
        tmp.rename(root)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)     # another worker made it first
    return root


def remove_orphans(binary: str) -> None:
    """Remove containers left by grading workers that no longer exist."""
    exe = shutil.which(binary)
    if exe is None:
        return
    try:
        r = subprocess.run([exe, "ps", "-a", "--filter", f"label={OWNER_LABEL}", "--format",
                            "{{.ID}} {{index .Labels \"" + OWNER_LABEL + "\"}}"],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return
    for line in r.stdout.splitlines():
        cid, _, owner = line.partition(" ")
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            subprocess.run([exe, "rm", "-f", "-t", "0", cid], capture_output=True, timeout=60)
