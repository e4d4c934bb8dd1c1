"""GPU handling that can be checked without a GPU: planning slots, refusing `gpu = "required"` on a
machine without one, and CUDA-only tests reported as not run on a CPU grader."""

import shutil

import pytest

from grader import api
from grader.errors import UsageError
from grader.sandbox import gpu
from conftest import MINI_COURSE


@pytest.mark.parametrize("request_,mode,available,expected", [
    ("auto", "optional", ["0", "1"], ["0", "1"]),
    ("auto", "none", ["0", "1"], []),
    ("none", "optional", ["0"], []),
    ("all", "none", ["0", "1"], ["0", "1"]),
    ("1", "optional", ["0", "1"], ["1"]),
    ("auto", "optional", [], []),
])
def test_plan(request_, mode, available, expected):
    assert gpu.plan(request_, mode, available) == expected


@pytest.mark.parametrize("request_,mode,available,match", [
    ("auto", "required", [], "needs a GPU"),
    ("none", "required", ["0"], "--gpus none was given"),
    ("all", "optional", [], "no NVIDIA GPU"),
    ("2", "optional", ["0", "1"], "GPU 2 not found"),
    ("x", "optional", ["0"], "--gpus takes"),
])
def test_plan_refuses_clearly(request_, mode, available, match):
    with pytest.raises(UsageError, match=match):
        gpu.plan(request_, mode, available)


def test_detection_reads_the_driver_without_cuda(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu.shutil, "which", lambda name: None)
    monkeypatch.setattr(gpu, "PROC_GPUS", tmp_path / "gpus")
    assert gpu.detect() == []
    for bus in ("0000:17:00.0", "0000:65:00.0"):
        (tmp_path / "gpus" / bus).mkdir(parents=True)
    assert gpu.detect() == ["0", "1"]


@pytest.fixture
def cuda_course(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("__pycache__", "assignments"))
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text().replace('gpu = "none"', 'gpu = "optional"')
                    + '\n[[questions]]\nid = "q3"\ntitle = "on the GPU"\npoints = 2\n')
    (course / "solutions" / "mini" / "tests" / "test_cuda.py").write_text(
        "import torch\nfrom grader.testing import probe, question, requires_cuda, expect\n\n"
        "@probe\ndef on_cuda(ns):\n    return ns.double(torch.ones(2, device='cuda')).device.type\n\n"
        "@requires_cuda\n@question('q3', points=2)\ndef test_double_on_cuda(student):\n"
        "    expect(student.probe(on_cuda) == 'cuda', 'double should keep the tensor on the GPU')\n")
    return course


def test_cuda_only_tests_do_not_count_on_a_cpu_grader(cuda_course, tmp_path):
    batch = api.grade(MINI_COURSE / "submissions", assignment="mini", out=tmp_path / "out", jobs=2,
                      sandbox="none", course=cuda_course, gpus="none")
    r = {x.student: x for x in batch.results}["solution"]
    assert r.score == 5 and r.max_score == 5
    q3 = {q.id: q for q in r.questions}["q3"]
    assert q3.max_score == 0 and q3.tests[0].outcome == "skipped"
    assert "does not count" in q3.tests[0].message


def test_required_gpu_stops_before_grading(cuda_course, tmp_path, monkeypatch):
    monkeypatch.setattr(gpu, "detect", lambda: [])
    toml = cuda_course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text().replace('gpu = "optional"', 'gpu = "required"'))
    with pytest.raises(UsageError, match="needs a GPU"):
        api.grade(MINI_COURSE / "submissions", assignment="mini", out=tmp_path / "out", sandbox="none",
                  course=cuda_course)
    assert not (tmp_path / "out" / "results").exists()


# On a machine with an NVIDIA GPU: the same course graded for real, on every local backend that
# runs here, with a submission that fills the GPU's memory next to a correct one.
@pytest.fixture(scope="module")
def real_gpus():
    """The machine's NVIDIA GPUs (nvidia-smi runs when a test asks, not when tests are collected)."""
    found = gpu.detect()
    if not found:
        pytest.skip("no NVIDIA GPU on this machine: nothing to pass through")
    return found


FILL_GPU = """import torch
# %%
chunks = []
while True:
    chunks.append(torch.empty(1 << 30, dtype=torch.uint8, device="cuda"))
# %%
del chunks
torch.cuda.empty_cache()
def double(t):
    return t * 2
"""


@pytest.mark.parametrize("sandbox,warm", [("bwrap", True), ("bwrap", False), ("none", False)])
def test_grading_on_a_real_gpu(real_gpus, cuda_course, tmp_path, sandbox, warm):
    import nbformat

    from conftest import notebook_from_script

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(MINI_COURSE / "submissions" / "solution.ipynb", subs / "solution.ipynb")
    nbformat.write(notebook_from_script(FILL_GPU), subs / "fill_gpu.ipynb")
    shutil.copy(MINI_COURSE / "submissions" / "solution.ipynb", subs / "zz_after.ipynb")
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", jobs=1, sandbox=sandbox, warm=warm,
                      course=cuda_course, gpus="all")
    r = {x.student: x for x in batch.results}
    for name in ("solution", "zz_after"):
        assert r[name].environment["device"].startswith("cuda"), r[name].environment
        assert (r[name].status, r[name].score, r[name].max_score) == ("graded", 7, 7), r[name].questions
    fill = r["fill_gpu"]
    assert fill.status == "graded" and [c.ename for c in fill.cell_errors] == ["OutOfMemoryError"]
    assert fill.score == 4          # double() still counts, on the GPU too
