"""Grading inside Gradescope's and PrairieLearn's containers, simulated for real.

Each platform's harness runs in a podman container started as root with podman's default seccomp
profile, on a root directory made from this machine's /usr and Python (no image is pulled): the
grader's Python is the container's `python3`, with torch and the grader's dependencies in its
site-packages and no grader, which the bundle installs from its wheel.  setup.sh runs once, then
each submission gets a fresh container, as on the platforms.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader.platforms import common, export
from grader.platforms import gradescope as gradescope_entry
from grader.platforms import prairielearn as prairielearn_entry

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "tests" / "data" / "schemas"
HW = "custom_model"
SOLUTION = REPO / "solutions" / HW / f"{HW}.ipynb"
BLANK = REPO / "assignments" / HW / f"{HW}.ipynb"
PYHOME = str(Path(os.path.realpath(sys.executable)).parent.parent)       # the base interpreter
SITE = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}_results.schema.json").read_text())


def rootfs(dest: Path) -> Path:
    """A root directory with mount points, the usual symlinks, root and nobody."""
    for d in ("usr", "tmp", "proc", "dev", "sys", "etc/ssl", "run", "var", "root",
              PYHOME.strip("/"), "autograder", "grade", "opt/torchgrader"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    (dest / "tmp").chmod(0o1777)
    (dest / "root").chmod(0o755)
    for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"),
                         ("sbin", "usr/sbin")):
        (dest / link).symlink_to(target)
    (dest / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    (dest / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (dest / "etc/ld.so.cache").touch()
    return dest


def container(root: Path, mounts: dict[str, Path], command: str, *, env: dict | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess:
    """`command` (bash) in a fresh podman container, as root, default seccomp, no network."""
    argv = ["podman", "--runtime", "runc", "run", "--rm", "--network", "none",
            "-e", f"PATH={PYHOME}/bin:/usr/bin:/bin"]
    for name, res in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        hard = resource.getrlimit(res)[1]      # podman's defaults may exceed what this host allows
        value = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
        argv += ["--ulimit", f"{name}={value}:{value}"]
    for key, value in (env or {}).items():
        argv += ["-e", f"{key}={value}"]
    for src, dst in (("/usr", "/usr"), ("/etc/ld.so.cache", "/etc/ld.so.cache"),
                     ("/etc/ssl", "/etc/ssl"), (PYHOME, PYHOME),
                     # the image's python3 has torch and the grader's dependencies, not the grader
                     (str(Path(sys.prefix) / SITE), f"{PYHOME}/{SITE}")):
        argv += ["-v", f"{src}:{dst}:ro"]
    for dst, src in mounts.items():
        argv += ["-v", f"{src}:{dst}"]
    argv += ["--rootfs", str(root), "/usr/bin/bash", "-c", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def notebook_with(cell: str, base: Path = BLANK) -> nbformat.NotebookNode:
    nb = nbformat.read(base, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(cell))
    return nb


# -- the bundles' layout (fast) ------------------------------------------------------------------

def test_gradescope_zip_layout(tmp_path):
    out = export.export("gradescope", HW, out=tmp_path / "autograder.zip", course=REPO)
    with zipfile.ZipFile(out) as z:
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in z.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert modes["torchgrader.json"] == 0o600
    course = {n: m for n, m in modes.items() if n.startswith("course/")}
    assert f"course/solutions/{HW}/assignment.toml" in course
    assert any(n.startswith(f"course/solutions/{HW}/tests/test_") for n in course)
    assert set(course.values()) == {0o600}                    # hidden tests, solutions: root only
    assert not any("/mutants/" in n for n in modes)
    assert [n for n in modes if n.startswith("wheels/")] == [
        n for n in modes if n.startswith("wheels/torchgrader-") and n.endswith(".whl")]


def test_prairielearn_dir_layout(tmp_path):
    out = export.export("prairielearn", HW, out=tmp_path / "q", course=REPO)
    info = json.loads((out / "info.json").read_text())
    assert info["gradingMethod"] == "External"
    assert info["externalGradingOptions"]["entrypoint"] == "/grade/tests/run.sh"
    assert (out / "tests/run.sh").stat().st_mode & 0o111
    assert (out / f"tests/course/solutions/{HW}/assignment.toml").is_file()
    assert list((out / "image").glob("torchgrader-*.whl"))
    assert "FROM " in (out / "image/Dockerfile").read_text()
    assert f'file-names="{HW}.ipynb"' in (out / "question.html").read_text()


def test_export_refuses_what_it_cannot_write(tmp_path):
    from grader.errors import UsageError

    with pytest.raises(UsageError, match=r"\.zip"):
        export.export("gradescope", HW, out=tmp_path / "autograder.tar", course=REPO)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="empty directory"):
        export.export("prairielearn", HW, out=tmp_path / "full", course=REPO)
    with pytest.raises(UsageError, match="unknown platform"):
        export.export("moodle", HW, out=tmp_path / "m", course=REPO)


def test_gradescope_times_from_metadata():
    meta = {"created_at": "2026-10-06T10:00:00.123456+09:00",
            "assignment": {"due_date": "2026-10-05T23:59:00.000000+09:00"}}
    submitted, due = gradescope_entry.times(meta)
    assert (submitted.isoformat(), due.isoformat()) == ("2026-10-06T10:00:00.123456+09:00",
                                                        "2026-10-05T23:59:00+09:00")
    assert gradescope_entry.times({}) == (None, None)
    assert gradescope_entry.times({"created_at": "yesterday", "assignment": "x"}) == (None, None)
    assert gradescope_entry.times({"created_at": "2026-10-06T10:00:00"})[0] is None   # no zone


def test_apply_deadline_uses_the_platforms_due_date():
    from grader import policy
    from grader.results import Result

    def graded(score):
        return Result(student="s", assignment=HW, status="graded", score=score, max_score=10)

    p = policy.parse({"due": "2026-10-05T23:59:00+09:00", "late": "per_day", "penalty": 0.25},
                     REPO / "assignment.toml")
    r = graded(10.0)
    common.apply_deadline(r, p, common.parse_time("2026-10-06T01:00:00+09:00"),
                          common.parse_time("2026-10-06T00:30:00+09:00"), "gradescope")
    assert r.score == 7.5 and r.lateness["raw_score"] == 10.0       # 30 min after its own due
    r = graded(10.0)
    common.apply_deadline(r, policy.parse({}, REPO / "assignment.toml"),
                          common.parse_time("2030-01-01T00:00:00+00:00"), None, "gradescope")
    assert r.score == 10.0 and not r.lateness        # no [policy] deadline: the platform's rules


def test_prairielearn_results_of_an_invalid_notebook():
    from grader.results import Result

    r = Result(student="s", assignment=HW, status="invalid", reason="not JSON: line 1")
    data = prairielearn_entry.results_json(r)
    jsonschema.validate(data, schema("prairielearn"))
    assert data["gradable"] is False and data["message"] == "not JSON: line 1"


# -- Gradescope's harness -----------------------------------------------------------------------

class Gradescope:
    """/autograder on the host; setup.sh run once, run_autograder in a fresh container each."""

    def __init__(self, base: Path) -> None:
        self.root = rootfs(base / "rootfs")
        self.ag = base / "autograder"
        (self.ag / "source").mkdir(parents=True)
        with zipfile.ZipFile(export.export("gradescope", HW, out=base / "autograder.zip",
                                           course=REPO)) as z:
            z.extractall(self.ag / "source")
        for name in ("setup.sh", "run_autograder"):
            (self.ag / "source" / name).chmod(0o755)
        self.setup = container(self.root, {"/autograder": self.ag},
                               "bash /autograder/source/setup.sh")

    def grade(self, nb, metadata: dict | None = None) -> dict:
        for d in ("submission", "results"):
            shutil.rmtree(self.ag / d, ignore_errors=True)
            (self.ag / d).mkdir()
        nbformat.write(nb, self.ag / "submission" / f"{HW}.ipynb")
        (self.ag / "submission_metadata.json").write_text(json.dumps(metadata or {}))
        self.run = container(self.root, {"/autograder": self.ag},
                             "bash /autograder/source/run_autograder")
        assert self.run.returncode == 0, self.run.stderr
        data = json.loads((self.ag / "results" / "results.json").read_text())
        jsonschema.validate(data, schema("gradescope"))
        return data

    def attack_note(self, name: str) -> str:
        """What an attack cell wrote about itself to the container's /tmp."""
        return (self.root / "tmp" / f"attack-{name}").read_text()


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory):
    return Gradescope(tmp_path_factory.mktemp("gradescope"))


def _max(data: dict) -> float:
    return sum(t["max_score"] for t in data["tests"])


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_gradescope_setup_installs_offline(gradescope):
    assert gradescope.setup.returncode == 0, gradescope.setup.stderr
    assert "torchgrader installed" in gradescope.setup.stdout
    wheel = list((gradescope.ag / "venv").rglob("grader/platforms/gradescope.py"))
    assert wheel, "the wheel was not installed into the autograder's venv"
    source = gradescope.ag / "source"
    assert stat.S_IMODE(source.stat().st_mode) == 0o700
    assert not any(p.stat().st_mode & 0o077 for p in source.rglob("*") if not p.is_symlink())


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_gradescope_solution_full_blank_zero(gradescope):
    full = gradescope.grade(nbformat.read(SOLUTION, as_version=4))
    assert full["score"] == _max(full) > 0
    assert "drop sandbox" in full["output"]
    assert full["extra_data"]["sandbox"] == "drop"          # bubblewrap starts, but no cgroup
    assert full["extra_data"]["isolation"]["uid"] == 65534
    assert {t["visibility"] for t in full["tests"]} == {"after_published"}   # assignment.toml's
    assert full["execution_time"] > 0 and full["stdout_visibility"] == "hidden"
    blank = gradescope.grade(nbformat.read(BLANK, as_version=4))
    assert blank["score"] == 0 and _max(blank) == _max(full)


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_gradescope_late_policy_from_metadata(gradescope):
    nb = nbformat.read(SOLUTION, as_version=4)
    on_time = gradescope.grade(nb, {"created_at": "2026-10-05T10:00:00+09:00",
                                    "assignment": {"due_date": "2026-10-05T23:59:00+09:00"}})
    assert on_time["score"] == _max(on_time)
    # 26 h after Gradescope's due date: two days started, 10% each (the course's [policy])
    late = gradescope.grade(nb, {"created_at": "2026-10-07T01:59:00+09:00",
                                 "assignment": {"due_date": "2026-10-05T23:59:00+09:00"}})
    assert late["score"] == pytest.approx(_max(late) * 0.8)
    assert "2 days late" in late["output"]
    # the student's own due date (an extension given on Gradescope) wins over the assignment's
    extended = gradescope.grade(nb, {"created_at": "2026-10-07T01:59:00+09:00",
                                     "assignment": {"due_date": "2026-10-05T23:59:00+09:00"},
                                     "users": [{"assignment": {"due_date":
                                                               "2026-10-08T00:00:00+09:00"}}]})
    assert extended["score"] == _max(extended)


ATTACKS = {
    "read_source": """
import os
try:
    note = open("/autograder/source/torchgrader.json").read()
except OSError as exc:
    note = type(exc).__name__
try:
    note += " " + ",".join(os.listdir("/autograder/source"))
except OSError as exc:
    note += " " + type(exc).__name__
open("/tmp/attack-read_source", "w").write(note)
""",
    "write_results": """
import json
try:
    with open("/autograder/results/results.json", "w") as f:
        json.dump({"score": 1000, "tests": []}, f)
    note = "written"
except OSError as exc:
    note = type(exc).__name__
open("/tmp/attack-write_results", "w").write(note)
""",
    "fake_json": 'print(\'{"score": 1000, "tests": []}\')\nprint("All tests passed!")',
    "os_exit": "import os\nos._exit(0)",
    "fork_bomb": """
import os, time
open("/tmp/attack-fork_bomb", "w").write("started")
for _ in range(100000):
    try:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
    except OSError as exc:
        open("/tmp/attack-fork_bomb", "w").write(type(exc).__name__)
        break
""",
    "memory": """
try:
    hog = bytearray(6 << 30)
    note = "allocated"
except MemoryError:
    note = "MemoryError"
open("/tmp/attack-memory", "w").write(note)
""",
    "infinite_loop": "while True:\n    pass",
}


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_gradescope_attacks_hold(gradescope, attack):
    data = gradescope.grade(notebook_with(ATTACKS[attack]))
    assert data["score"] == 0 and _max(data) > 0        # results.json is the judge's, never theirs
    if attack == "read_source":
        assert gradescope.attack_note(attack) == "PermissionError PermissionError"
    if attack == "write_results":
        assert gradescope.attack_note(attack) == "PermissionError"
    if attack == "fork_bomb":
        assert gradescope.attack_note(attack) == "BlockingIOError"     # RLIMIT_NPROC held it
    if attack == "memory":
        assert gradescope.attack_note(attack) == "MemoryError"         # the address space limit
    if attack == "infinite_loop":
        assert "time" in data["output"].lower()


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_gradescope_without_a_notebook(gradescope):
    for d in ("submission", "results"):
        shutil.rmtree(gradescope.ag / d, ignore_errors=True)
        (gradescope.ag / d).mkdir()
    (gradescope.ag / "submission" / "answers.txt").write_text("hi")
    run = container(gradescope.root, {"/autograder": gradescope.ag},
                    "bash /autograder/source/run_autograder")
    assert run.returncode == 0, run.stderr
    data = json.loads((gradescope.ag / "results" / "results.json").read_text())
    jsonschema.validate(data, schema("gradescope"))
    assert data["score"] == 0 and f"{HW}.ipynb" in data["output"]


# -- PrairieLearn's harness ---------------------------------------------------------------------

class PrairieLearn:
    """/grade on the host; the grading image's venv built once (as its Dockerfile does, offline)."""

    def __init__(self, base: Path) -> None:
        self.root = rootfs(base / "rootfs")
        self.question = export.export("prairielearn", HW, out=base / "question", course=REPO)
        self.opt = base / "opt"
        self.opt.mkdir()
        wheel = next((self.question / "image").glob("torchgrader-*.whl"))
        shutil.copy(wheel, self.opt)
        self.build = container(self.root, {"/opt/torchgrader": self.opt}, (
            "python3 -m venv --system-site-packages /opt/torchgrader/venv && "
            f"/opt/torchgrader/venv/bin/pip install --quiet --no-index --no-deps "
            f"/opt/torchgrader/{wheel.name} && chmod -R go+rX /opt/torchgrader"))
        self.grade_dir = base / "grade"

    def grade(self, payload: bytes, name: str = f"{HW}.ipynb") -> dict:
        shutil.rmtree(self.grade_dir, ignore_errors=True)
        shutil.copytree(self.question / "tests", self.grade_dir / "tests")
        for d in ("student", "results", "data"):
            (self.grade_dir / d).mkdir()
        (self.grade_dir / "student" / name).write_bytes(payload)
        (self.grade_dir / "data" / "data.json").write_text(json.dumps({"params": {}}))
        run = container(self.root, {"/grade": self.grade_dir, "/opt/torchgrader": self.opt},
                        "bash /grade/tests/run.sh")
        assert run.returncode == 0, run.stderr
        data = json.loads((self.grade_dir / "results" / "results.json").read_text())
        jsonschema.validate(data, schema("prairielearn"))
        return data


@pytest.fixture(scope="module")
def prairielearn(tmp_path_factory):
    return PrairieLearn(tmp_path_factory.mktemp("prairielearn"))


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_prairielearn_solution_full_blank_zero(prairielearn):
    assert prairielearn.build.returncode == 0, prairielearn.build.stderr
    full = prairielearn.grade(SOLUTION.read_bytes())
    assert full["gradable"] is True and full["score"] == 1
    assert all(t["points"] == t["max_points"] for t in full["tests"])
    blank = prairielearn.grade(BLANK.read_bytes())
    assert blank["gradable"] is True and blank["score"] == 0
    most = sum(t["max_points"] for t in full["tests"])
    assert sum(t["max_points"] for t in blank["tests"]) == most > 0


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_prairielearn_ungradable_notebook(prairielearn):
    data = prairielearn.grade(b"{not a notebook")
    assert data["gradable"] is False and data["message"]


@pytest.mark.slow
@pytest.mark.requires("root", "podman")
def test_prairielearn_hidden_tests_unreadable(prairielearn):
    nb = notebook_with("""
import os
try:
    note = ",".join(os.listdir("/grade/tests"))
except OSError as exc:
    note = type(exc).__name__
try:
    open("/grade/results/results.json", "w").write('{"gradable": true, "score": 1}')
    note += " written"
except OSError as exc:
    note += " " + type(exc).__name__
open("/tmp/attack-pl", "w").write(note)
""")
    data = prairielearn.grade(nbformat.writes(nb).encode())
    assert data["gradable"] is True and data["score"] == 0
    note = (prairielearn.root / "tmp" / "attack-pl").read_text()
    assert note == "PermissionError PermissionError"


def test_export_cli_exit_codes(tmp_path, capsys):
    from grader.cli import main

    assert main(["--course", str(REPO), "export", "gradescope", "no_such_hw",
                 "-o", str(tmp_path / "a.zip")]) == 2
    assert "no_such_hw" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists()
    with pytest.raises(SystemExit) as stop:
        main(["export", "moodle", HW, "-o", str(tmp_path / "m")])
    assert stop.value.code == 2
    assert main(["--course", str(REPO), "export", "gradescope", HW,
                 "-o", str(tmp_path / "autograder.zip")]) == 0
    assert "autograder.zip" in capsys.readouterr().out
