"""`grader export gradescope|prairielearn HW`: the bundles each platform takes.

Both carry the assignment's hidden suite and solution directory (its wrong answers left out), its
released files, the grader's wheel built from this checkout and the pinned torch; the grading
container installs them and runs this package's entry point as root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

from grader import assignment as assignment_mod
from grader.errors import UsageError
from grader.platforms.common import BUNDLE_FILE

PLATFORMS = ("gradescope", "prairielearn")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TEMPLATES = Path(__file__).parent / "templates"
LEFT_OUT = ("mutants", "__pycache__", ".ipynb_checkpoints")


def torch_pin() -> str:
    """The torch version this grader runs with (its local `+cpu` tag dropped)."""
    import torch

    return torch.__version__.split("+")[0]


def build_wheel(dest: Path) -> Path:
    """The torchgrader wheel built from this checkout (the grader package alone) into `dest`."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "pyproject.toml").is_file():
        raise UsageError(f"{checkout} is not a torchgrader checkout: export builds the grader's "
                         "wheel from one")
    with tempfile.TemporaryDirectory(prefix="torchgrader-wheel-") as tmp:
        r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--no-build-isolation", "--wheel-dir", tmp, str(checkout)],
                           capture_output=True, text=True, cwd=tmp)
        wheels = sorted(Path(tmp).glob("torchgrader-*.whl"))
        if r.returncode != 0 or not wheels:
            raise UsageError(f"the grader's wheel could not be built: {r.stderr.strip()[-500:]}")
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))


def _course_files(asg, course: Path) -> list[tuple[Path, str]]:
    """(file, path in the bundle's course/) of the assignment: solutions/<hw>/ but its wrong
    answers, and assignments/<hw>/ (the release and its data files)."""
    out = []
    for top in (asg.directory, course / "assignments" / asg.directory.name):
        if not top.is_dir():
            continue
        for p in sorted(top.rglob("*")):
            rel = p.relative_to(top)
            if p.is_file() and not any(part in LEFT_OUT for part in rel.parts):
                out.append((p, f"{top.parent.name}/{top.name}/{rel.as_posix()}"))
    return out


def settings(asg, platform: str) -> dict:
    """torchgrader.json: what the entry point grades and how."""
    return {"assignment": asg.name, "platform": platform, "sandbox": "platform",
            "visibility": asg.gradescope_visibility, "torch": torch_pin(), "gpu": asg.gpu}


def _template(name: str, asg) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    index = "" if asg.gpu != "none" else CPU_INDEX
    return (text.replace("@TORCH@", torch_pin()).replace("@TORCH_INDEX@", index)
            .replace("@ASSIGNMENT@", asg.name).replace("@NOTEBOOK@", asg.notebook))


def _load(name: str, course: Path | None):
    course = Path(course).resolve() if course else Path.cwd().resolve()
    return assignment_mod.load(name, course), course


def gradescope(name: str, *, out: Path, course: Path | None = None) -> Path:
    """autograder.zip for Gradescope: setup.sh and run_autograder at its top, the course copy, the
    wheel and torchgrader.json; the course copy's members are mode 0600 (root only)."""
    asg, course = _load(name, course)
    out = Path(out)
    if out.suffix != ".zip":
        raise UsageError(f"-o {out}: Gradescope takes a .zip (e.g. -o autograder.zip)")
    with tempfile.TemporaryDirectory(prefix="torchgrader-export-") as tmp:
        wheel = build_wheel(Path(tmp))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.{os.getpid()}")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for script in ("setup.sh", "run_autograder"):
                _add(z, script, _template(f"gradescope_{script}", asg).encode(), 0o755)
            _add(z, BUNDLE_FILE, json.dumps(settings(asg, "gradescope"), indent=1).encode(), 0o600)
            _add(z, f"wheels/{wheel.name}", wheel.read_bytes(), 0o644)
            for path, arc in _course_files(asg, course):
                _add(z, f"course/{arc}", path.read_bytes(), 0o600)
        os.replace(partial, out)
    return out


def _add(z: zipfile.ZipFile, arc: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


def prairielearn(name: str, *, out: Path, course: Path | None = None) -> Path:
    """A PrairieLearn question directory: info.json, question.html, tests/ (run.sh, the course
    copy, torchgrader.json) and image/ (Dockerfile and the wheel) for the grading image."""
    asg, course = _load(name, course)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"-o {out}: give a new or empty directory")
    tests, image = out / "tests", out / "image"
    for path, arc in _course_files(asg, course):
        dest = tests / "course" / arc
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    _write(tests / BUNDLE_FILE, json.dumps(settings(asg, "prairielearn"), indent=1), 0o644)
    _write(tests / "run.sh", _template("prairielearn_run.sh", asg), 0o755)
    image.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(image)
    _write(image / "Dockerfile", _template("prairielearn_Dockerfile", asg)
           .replace("@WHEEL@", wheel.name), 0o644)
    _write(out / "question.html", _template("prairielearn_question.html", asg), 0o644)
    _write(out / "info.json", json.dumps(info_json(asg), indent=2) + "\n", 0o644)
    return out


def info_json(asg) -> dict:
    """The question's info.json: external grading in the image built from image/Dockerfile."""
    timeout = int(asg.limits.get("notebook_timeout", 120)) + 180    # installs, start, judge
    return {"uuid": str(uuid.uuid4()), "title": asg.title, "topic": "PyTorch", "tags": ["notebook"],
            "type": "v3", "singleVariant": True, "gradingMethod": "External",
            "externalGradingOptions": {"enabled": True, "image": f"torchgrader-{asg.name}",
                                       "entrypoint": "/grade/tests/run.sh", "timeout": timeout}}


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def export(platform: str, name: str, *, out: Path, course: Path | None = None) -> Path:
    """Build `platform`'s bundle for assignment `name` at `out`."""
    if platform not in PLATFORMS:
        raise UsageError(f"unknown platform {platform!r}; choose one of: {', '.join(PLATFORMS)}")
    return (gradescope if platform == "gradescope" else prairielearn)(name, out=out, course=course)
