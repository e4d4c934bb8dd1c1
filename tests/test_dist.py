"""`make dist`: what students install holds the grader package alone, takes the torch they have,
and runs `grader check` outside the checkout."""

import json
import os
import subprocess
import tarfile
import zipfile

import pytest

from conftest import MINI_COURSE, ROOT

PY = ROOT / ".venv" / "bin" / "python"
TOP_FILES = {"PKG-INFO", "README.md", "pyproject.toml", "setup.cfg", "MANIFEST.in"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # -o: build with the venv as it stands, whatever the age of its stamp
    r = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "dist",
                        f"DIST={out}"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == 1, list(out.iterdir())
    return wheels[0], sdists[0]


def _tops(names):
    return {n.split("/")[0] for n in names}


@pytest.mark.slow
def test_the_wheel_and_sdist_hold_the_grader_package_alone(dist):
    wheel, sdist = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert _tops(names) == {"grader", "torchgrader-0.1.0.dist-info"}
    for needed in ("grader/check.py", "grader/cli.py", "grader/reports/templates/student.html",
                   "grader/reports/templates/summary.html", "grader/schema/result.schema.json"):
        assert needed in names
    with tarfile.open(sdist) as tar:
        members = [m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name]
    assert "grader/check.py" in members
    outside = {m.split("/")[0] for m in members} - {"grader", "torchgrader.egg-info"} - TOP_FILES
    assert outside == set(), outside
    for name in names + members:
        parts = name.split("/")
        assert not {"solutions", "tests", "assignments", "mutants"} & set(parts), name
    metadata = zipfile.ZipFile(wheel).read("torchgrader-0.1.0.dist-info/METADATA").decode()
    torch = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: torch")]
    assert torch == ["Requires-Dist: torch>=2.1"]


@pytest.mark.slow
def test_installing_the_wheel_keeps_the_installed_torch(dist, tmp_path):
    """Where torch 2.13.0 is installed (CI's venv), pip installs torchgrader alone: the range
    does not pull another torch."""
    report = tmp_path / "report.json"
    r = subprocess.run([str(PY), "-m", "pip", "install", "--dry-run", "--quiet", "--report",
                        str(report), str(dist[0])], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    installs = [(i["metadata"]["name"], i["metadata"]["version"])
                for i in json.loads(report.read_text())["install"]]
    assert installs == [("torchgrader", "0.1.0")]


@pytest.mark.slow
def test_the_installed_wheel_checks_a_release_outside_the_checkout(dist, tmp_path):
    target = tmp_path / "site"
    r = subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                        str(target), str(dist[0])], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    home = tmp_path / "student"
    home.mkdir()
    release = MINI_COURSE / "assignments" / "mini" / "mini.ipynb"
    (home / "mini.ipynb").write_bytes(release.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([str(PY), "-c", "import grader; print(grader.__file__)"], cwd=home,
                           env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    check = subprocess.run([str(PY), "-m", "grader.cli", "check", "mini.ipynb", "--sandbox",
                            "none"], cwd=home, env=env, capture_output=True, text=True)
    assert check.returncode == 1, check.stdout + check.stderr     # the blank release fails
    assert "ran top to bottom unsandboxed (--sandbox none)" in check.stdout
    assert "  q1: public tests fail" in check.stdout and "  q2: public tests fail" in check.stdout
