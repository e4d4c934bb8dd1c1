"""The warm path: one zygote and one collected hidden suite per worker slot.

Submissions graded one after another on the same slot must not see each other (files, environment,
interpreter state, sockets, processes), the forked student process must be as locked down as a cold
sandbox, and the warm judge must not carry test-module state or random state from one submission to
the next.  A submission that passes its check defines `double` and `Scale`, so its score says
whether the check held."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from grader import api
from grader.sandbox import zygote
from conftest import MINI_COURSE, SCENARIOS, notebook_from_script

pytestmark = pytest.mark.skipif(not zygote.supported(), reason="the zygote needs root and bubblewrap")

ANSWERS = """
import torch.nn as nn
def double(t):
    return t * 2
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = nn.Parameter(torch.tensor(float(factor)))
    def forward(self, x):
        return x * self.factor
"""

PLANT = """
import builtins, os, socket, sys, time, torch
SPOTS = ["/tmp", "/dev/shm", "/workspace", "/var/tmp", "/run", "/dev/mqueue", "/"]
def plant():
    for d in SPOTS:
        try:
            with open(os.path.join(d, "planted-by-a"), "w") as f:
                f.write("x")
        except OSError:
            pass
plant()
os.environ["PLANTED_BY_A"] = "1"
builtins.PLANTED_BY_A = torch.PLANTED_BY_A = sys.PLANTED_BY_A = 1
listener = socket.socket(socket.AF_UNIX)
listener.bind("\\0planted-by-a")
listener.listen()
if os.fork() == 0:            # a daemon that keeps planting after the notebook ends
    os.setsid()
    while True:
        plant()
        time.sleep(0.05)
""" + ANSWERS

SEEK = """
import builtins, os, socket, sys, torch
found = []
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/sys", "/usr") or root.startswith(sys.prefix) or root.startswith(sys.base_prefix):
        dirs[:] = []
        continue
    found += [os.path.join(root, f) for f in files if f.startswith("planted-by-a")]
if "PLANTED_BY_A" in os.environ:
    found.append("environment")
if any(hasattr(m, "PLANTED_BY_A") for m in (builtins, torch, sys)):
    found.append("interpreter state")
try:
    socket.socket(socket.AF_UNIX).connect("\\0planted-by-a")
    found.append("abstract socket")
except OSError:
    pass
others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
if others:
    found.append(f"processes {others}")
print("found:", found)
if found:
    raise SystemExit(f"state of an earlier submission: {found}")
""" + ANSWERS    # same cell: what was found leaves the answers undefined

LOCKED = """
import ctypes, os, socket, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
problems = []
if (os.getuid(), os.getgid(), os.getgroups()) != (65534, 65534, []):
    problems.append(f"identity {os.getuid()} {os.getgid()} {os.getgroups()}")
for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
    if int(status[cap].strip(), 16) != 0:
        problems.append(f"{cap} {status[cap].strip()}")
if status["NoNewPrivs"].strip() != "1":
    problems.append("no_new_privs is off")
if status["Seccomp"].strip() != "2":
    problems.append("no seccomp filter")
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) == 0:
    problems.append("could create a user namespace")
if libc.unshare(0x00020000) == 0:
    problems.append("could create a mount namespace")
for path in ("/run/torchgrader", "/etc/shadow", "{canary}"):
    if os.path.exists(path):
        problems.append(f"{path} is visible")
if socket.gethostname() != "sandbox":
    problems.append("host name " + socket.gethostname())
if os.listdir("/workspace") is None or not os.access("/workspace", os.W_OK):
    problems.append("work dir not writable")
try:
    open(sys.executable + ".x", "w")
    problems.append("python install writable")
except OSError:
    pass
print("problems:", problems)
if problems:
    raise SystemExit(str(problems))
""" + ANSWERS    # same cell: a failed check leaves the answers undefined


def _write(dest, name: str, script: str) -> None:
    nbformat.write(notebook_from_script("import torch\n# %%\n" + script), dest / f"{name}.ipynb")


def test_submissions_on_one_slot_share_nothing(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _write(subs, "a_plant", PLANT)
    _write(subs, "b_seek", SEEK)
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", jobs=1, sandbox="bwrap", course=MINI_COURSE)
    results = {r.student: r for r in batch.results}
    assert results["a_plant"].timing["started"] < results["b_seek"].timing["started"]
    assert all(r.environment["warm"] for r in results.values())
    assert results["a_plant"].score == 5
    assert results["b_seek"].score == 5, results["b_seek"].cell_errors
    for r in results.values():      # the notebook's own time inside probes is part of the round trips
        assert 0 < r.timing["probe_compute_s"] <= r.timing["probe_s"] and r.timing["start_s"] > 0


def test_forked_student_process_is_locked_down(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (tmp_path / "canary.txt").write_text("host only")
    _write(subs, "locked", LOCKED.replace("{canary}", str(tmp_path / "canary.txt")))
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", jobs=1, sandbox="bwrap", course=MINI_COURSE)
    (result,) = batch.results
    assert result.environment["warm"] is True
    assert (result.status, result.score) == ("graded", 5), result.cell_errors


WARM_SUITE = """
import torch
import pytest
from grader.testing import expect, question

CALLS = []


@pytest.fixture(scope="module")
def per_module():
    return []


@question("q3", points=1)
def test_module_globals_start_fresh(student, per_module):
    CALLS.append(student.seed)
    per_module.append(student.seed)
    expect(len(CALLS) == 1, f"module globals kept {len(CALLS)} calls")
    expect(len(per_module) == 1, "a module fixture outlived its submission")


@question("q3", points=1)
def test_global_random_state_is_seeded_per_test(student):
    expect(torch.equal(torch.rand(3), torch.rand(3, generator=torch.Generator().manual_seed(student.seed))),
           "the global random state depends on what ran before")
    torch.manual_seed(0)
"""


def test_warm_suite_keeps_nothing_between_submissions(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("__pycache__", "assignments"))
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text() + '\n[[questions]]\nid = "q3"\ntitle = "warm suite"\npoints = 2\n')
    (course / "solutions" / "mini" / "tests" / "test_warm.py").write_text(WARM_SUITE)
    subs = tmp_path / "subs"
    subs.mkdir()
    solution = (SCENARIOS / "solution" / "notebook.py").read_text()
    for i in range(3):
        nbformat.write(notebook_from_script(f"# copy {i}\n" + solution), subs / f"s{i}.ipynb")
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", jobs=1, sandbox="bwrap", course=course)
    for r in batch.results:
        q3 = next(q for q in r.questions if q.id == "q3")
        assert q3.score == 2, [(t.name, t.message) for t in q3.tests]
        assert r.score == 7


def test_cold_path_grades_the_same(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("solution", "blank", "partial"):
        nbformat.write(notebook_from_script((SCENARIOS / name / "notebook.py").read_text()), subs / f"{name}.ipynb")
    scores = {}
    for warm in (True, False):
        batch = api.grade(subs, assignment="mini", out=tmp_path / f"out-{warm}", jobs=2, sandbox="bwrap",
                          course=MINI_COURSE, warm=warm)
        assert {r.environment["warm"] for r in batch.results} == {warm}
        scores[warm] = {r.student: (r.status, r.score, [q.score for q in r.questions]) for r in batch.results}
    assert scores[True] == scores[False]
    assert scores[True]["solution"][1] == 5 and scores[True]["blank"][1] == 0


def test_limits_from_the_command_line_reach_the_sandbox(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _write(subs, "limits", """
import os, resource, shutil, time
fsize = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
cpu = resource.getrlimit(resource.RLIMIT_CPU)[0]
tmp = shutil.disk_usage("/tmp").total
children = 0
for _ in range(20):
    try:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        children += 1
    except OSError:
        break
print(fsize, cpu, tmp, children)
assert fsize == 7 << 20 and cpu == 33 and 6 << 20 < tmp <= 7 << 20, (fsize, cpu, tmp)
assert 5 <= children < 12, children
""" + ANSWERS)   # same cell: a failed assert leaves the answers undefined
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", jobs=1, sandbox="bwrap", course=MINI_COURSE,
                      limits={"disk_mb": 7, "cpu_seconds": 33, "processes": 12})
    (result,) = batch.results
    assert result.score == 5, result.cell_errors


@pytest.mark.parametrize("cold", [False, True])
def test_a_python_installed_under_tmp_stays_visible(tmp_path, cold):
    """The sandbox's private /tmp must not hide a virtual environment that lives under /tmp."""
    import subprocess
    import sys

    venv = tmp_path / "venv"
    venv.symlink_to(sys.prefix)
    out = tmp_path / "out"
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "grader.cli", "--course", str(MINI_COURSE), "grade",
                        str(MINI_COURSE / "submissions"), "-a", "mini", "-o", str(out), "--sandbox", "bwrap",
                        "--quiet", *(["--cold"] if cold else [])], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "solution,5,5,graded" in (out / "grades.csv").read_text()


JAIL_PROBE = """
def jail(ns):
    import os, shutil, socket
    found = [os.path.join(d, f) for d in ("/tmp", "/dev/shm") for f in os.listdir(d) if f.startswith("mark-")]
    for d in ("/tmp", "/dev/shm"):
        open(os.path.join(d, f"mark-{os.urandom(4).hex()}"), "w").close()
    return {"tmp": shutil.disk_usage("/tmp").total, "pid": os.getpid(), "found": found,
            "host": socket.gethostname(), "work": sorted(os.listdir("/workspace"))}
"""


def test_every_submission_gets_fresh_namespaces_of_its_own_size(tmp_path):
    """The nursery keeps the next jail ready and the next student is forked into it ahead: no jail
    may serve twice, and one made for one /tmp size must not serve a submission that asked for another."""
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, Limits
    from grader.sandbox.bwrap import BwrapSandbox

    backend, sizes, seen = BwrapSandbox(warm=True), (7, 7, 9, 9, 7), []
    for i, tmp_mb in enumerate(sizes):
        work = tmp_path / f"sub-{i}"
        work.mkdir()
        work.chmod(0o777)
        (work / f"mine-{i}").write_text("x")
        session = StudentSession(backend, LaunchSpec(workdir=work, limits=Limits(tmp_mb=tmp_mb)), cell_timeout=30,
                                 notebook_timeout=60, probe_timeout=30)
        try:
            run = session.run_notebook([{"index": 0, "source": "x = 1"}])
            assert run.status == "ok", run.reason
            assert session.proc.warm
            seen.append(session.probe("jail", JAIL_PROBE, {}))
        finally:
            session.close()
    for i, (jail, tmp_mb) in enumerate(zip(seen, sizes)):
        assert (tmp_mb - 1) << 20 < jail["tmp"] <= tmp_mb << 20, (i, jail["tmp"])
        assert jail["found"] == [], (i, jail["found"])          # no earlier submission's /tmp or /dev/shm
        assert jail["work"] == [f"mine-{i}"] and jail["host"] == "sandbox"
        assert jail["pid"] == 2, (i, jail["pid"])   # the first process after the jail's own PID 1: a fresh namespace


def test_a_killed_batch_leaves_no_slot_cgroups_behind_for_long():
    """The slot groups of a batch that was killed (its worker gone, per-submission `sub-*` groups
    still inside) are removed when the next slot starts."""
    import subprocess
    from grader.sandbox import cgroup

    dead = subprocess.Popen(["true"])
    dead.wait()
    parents = cgroup._parents()
    stale = [p / f"torchgrader-slot-{dead.pid}-{i}" for i, p in enumerate(parents.values())]
    for d in stale:
        (d / "sub-0123abcd").mkdir(parents=True)
    slot = cgroup.create_parent()
    try:
        assert slot is not None
        assert [d for d in stale if d.exists()] == []
    finally:
        slot.remove()


def test_the_zygote_heap_is_backed_by_huge_pages(tmp_path):
    """Forking the zygote copies page tables in proportion to its memory; collapsed into 2 MiB
    pages (MADV_COLLAPSE, Linux 6.1 and later) its heap costs 512 times fewer entries."""
    import platform

    release = tuple(int(x) for x in platform.release().split(".")[:2] if x.isdigit())
    if release < (6, 1) or not Path("/sys/kernel/mm/transparent_hugepage").is_dir():
        pytest.skip(f"kernel {platform.release()} cannot collapse memory into huge pages")
    slot = zygote.Zygote(tmp_path, None)
    try:
        slot.resident_mb()                       # finds the zygote's own process
        rollup = Path(f"/proc/{slot._largest}/smaps_rollup").read_text()
        huge_kb = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("AnonHugePages:"))
        assert slot.huge_mb >= 32 and huge_kb >= 32 * 1024, (slot.huge_mb, huge_kb)
    finally:
        slot.close()


def test_cold_sandbox_groups_left_by_a_gone_process_are_swept():
    """A per-submission group its creator could not remove (the batch was killed, or a process was
    still exiting) goes at the next cold sandbox's `create`, once its creator is gone."""
    import os
    import subprocess
    from grader.sandbox import cgroup

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [p / f"torchgrader-0123456789ab-cdef01234567-{dead.pid}" for p in set(cgroup._parents().values())]
    for d in stale:
        d.mkdir()
    group = cgroup.create(pids_max=16, memory_mb=64, label="sweep")
    try:
        assert group is not None and all(d.name.endswith(f"-{os.getpid()}") for d in group.dirs.values())
        assert [d for d in stale if d.exists()] == []
    finally:
        group.remove()


def test_cgroup_limits_fail_closed_where_a_controller_is_missing(tmp_path):
    from grader.student import limits

    (tmp_path / "pids.max").write_text("max")          # a group with pids but no memory controller
    with pytest.raises(limits.LimitError, match="memory"):
        limits.set_cgroup([str(tmp_path)], 64, 1024)
    assert (tmp_path / "pids.max").read_text() == "64"
    with pytest.raises(limits.LimitError, match="pids and memory"):
        limits.set_cgroup([], 64, 1024)


FILTERED = """
import ctypes, errno, socket, sys, threading
from grader.student import seccomp
seccomp.confine()
import torch
libc = ctypes.CDLL(None, use_errno=True)
out = {"io_uring": libc.syscall(425, 1, ctypes.create_string_buffer(120)),
       "keyctl": libc.syscall(250, 0, -3, 0), "unshare": libc.unshare(0),
       "memfd": libc.memfd_create(b"x", 1), "memfd_sealed": libc.memfd_create(b"x", 9)}
for family in (16, 17, 40):
    try:
        socket.socket(family, socket.SOCK_RAW)
        out[family] = "opened"
    except OSError as exc:
        out[family] = exc.errno
t = threading.Thread(target=lambda: None); t.start(); t.join()
loader = torch.utils.data.DataLoader(torch.arange(4.0), batch_size=2, num_workers=2)
out["loader"] = len(list(loader))
print(out)
"""


@pytest.mark.skipif(__import__("platform").machine() != "x86_64", reason="the filter is x86-64's")
def test_the_filter_refuses_kernel_surface_and_leaves_torch_working():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", FILTERED], capture_output=True, text=True, timeout=300,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    out = __import__("ast").literal_eval(r.stdout.strip().splitlines()[-1])
    assert [out[k] for k in ("io_uring", "keyctl", "unshare", "memfd")] == [-1] * 4
    assert out["memfd_sealed"] >= 0 and out["loader"] == 2
    assert [out[f] for f in (16, 17, 40)] == [97] * 3


V2_ONLY = ("mount --make-rprivate / && mount -t cgroup2 cgroup2 /sys/fs/cgroup && "
           'exec "$0" -m grader.cli "$@"')


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare")
def test_a_cgroup_v2_only_layout_fails_closed_and_rlimits_hold_the_attacks(tmp_path):
    """A cgroup2 mount in a private mount namespace hides this machine's v1 hierarchies: its root
    offers no pids or memory controller, as on a systemd host that delegates none.  The warm path
    refuses to grade there, and with --unsafe-no-cgroups the rlimits hold a fork bomb and a 3 GiB
    allocation and every result says how it was graded."""
    import json
    import subprocess
    import sys

    from corpus import build_class, check, expected

    adversarial = Path(__file__).parent / "adversarial"
    build_class(adversarial, tmp_path / "subs", "bwrap", ["bwrap"], only=["fork_bomb", "memory_hog"])

    def grade(*extra):
        cmd = ["unshare", "--mount", "sh", "-c", V2_ONLY, sys.executable, "--course", str(MINI_COURSE),
               "grade", str(tmp_path / "subs"), "-a", "mini", "-o", str(tmp_path / "out"), "-j", "1", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                              cwd=Path(__file__).resolve().parent.parent)

    refused = grade()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "cannot be set" in refused.stderr and "--unsafe-no-cgroups" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    done = grade("--unsafe-no-cgroups")
    assert done.returncode == 0, done.stdout + done.stderr
    for case in ("fork_bomb", "memory_hog"):
        record = json.loads((tmp_path / "out" / "results" / f"{case}.json").read_text())
        from grader.results import Result

        r = Result.from_dict(record)
        check(r, expected(adversarial, case), max_score=5)
        assert r.environment["warm"] is True
        assert any("rlimits" in f for f in r.all_flags()), r.all_flags()


def test_a_notebook_that_trains_is_graded_alike_from_a_lazy_zygote_a_warm_one_and_cold(tmp_path):
    """A slot with one submission starts its zygote without the warm-up (no lazy torch imports,
    no first backward pass, no huge pages), and a cold sandbox imports torch alone: a notebook
    whose first optimizer step imports torch._dynamo (which rewraps torch.manual_seed) is graded
    as from a warm zygote, with no integrity flag."""
    import hashlib

    from grader import assignment
    from grader.judge.grade import GradeOptions, grade_one

    nb = notebook_from_script((SCENARIOS / "solution" / "notebook.py").read_text() + """
# %%
import torch
model = torch.nn.Linear(3, 1)
opt = torch.optim.Adam(model.parameters())
loss = model(torch.ones(4, 3)).pow(2).mean()
loss.backward()
opt.step()
""")
    path = tmp_path / "trains.ipynb"
    nbformat.write(nb, path)
    asg = assignment.load("mini", MINI_COURSE)
    scores = {}
    for lazy in (True, False):
        zygote.shutdown()
        work = tmp_path / f"work-{lazy}"
        work.mkdir()
        slot = zygote._for_key(work, None, lazy=lazy)
        assert slot.lazy is lazy and (slot.huge_mb == 0 if lazy else True)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        r = grade_one(asg, "trains", path, sha, GradeOptions(sandbox="bwrap"),
                      work_root=work)
        assert r.environment.get("warm") and not r.flags, (r.status, r.reason, r.flags)
        scores[lazy] = (r.status, r.score, [q.score for q in r.questions])
    zygote.shutdown()
    cold = api.grade(path, assignment="mini", out=tmp_path / "out-cold", sandbox="bwrap",
                     course=MINI_COURSE, warm=False).results[0]     # torch imported, nothing more
    assert not cold.environment["warm"] and not cold.flags, cold.flags
    scores["cold"] = (cold.status, cold.score, [q.score for q in cold.questions])
    assert scores[True] == scores[False] == scores["cold"] == ("graded", 5, [2, 3])
