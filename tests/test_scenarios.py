"""Every scenario directory graded in one batch per sandbox backend, each checked against its
expected.toml: the backbone of the engine's integration tests (see tests/scenarios/README.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import nbformat
import pytest

from grader import api
from conftest import MINI_COURSE, notebook_from_script

SCENARIOS = Path(__file__).parent / "scenarios"
CASES = sorted(p.name for p in SCENARIOS.iterdir() if (p / "expected.toml").is_file())
BACKENDS = ["bwrap", "podman", "none"]


def expected(name: str) -> dict:
    return tomllib.loads((SCENARIOS / name / "expected.toml").read_text())


def build_class(dest: Path, backend: str, only: list[str] | None = None) -> list[str]:
    dest.mkdir(parents=True)
    names = []
    for name in only or CASES:
        exp, src = expected(name), SCENARIOS / name
        if backend not in exp.get("backends", BACKENDS):
            continue
        target = dest / f"{name}.ipynb"
        if exp.get("folder"):
            target.mkdir()
        elif (src / "submission.bin").exists():
            target.write_bytes((src / "submission.bin").read_bytes())
        else:
            nbformat.write(notebook_from_script((src / "notebook.py").read_text()), target)
        names.append(name)
    return names


PAIRS = [(b, c) for b in BACKENDS for c in CASES if b in expected(c).get("backends", BACKENDS)]


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Grades the scenario class once per backend, on first use."""
    cache = {}

    def get(backend: str):
        if backend not in cache:
            root = tmp_path_factory.mktemp(f"class-{backend}")
            names = build_class(root / "subs", backend)
            batch = api.grade(root / "subs", assignment="mini", out=root / "out", jobs=2,
                              sandbox=backend, course=MINI_COURSE)
            cache[backend] = (backend, names, {r.student: r for r in batch.results}, root)
        return cache[backend]

    return get


@pytest.fixture(params=BACKENDS)
def graded(request, batches):
    return batches(request.param)


@pytest.mark.parametrize("backend,case", PAIRS)
def test_scenario(batches, backend, case):
    _, names, results, _ = batches(backend)
    exp = expected(case)
    r = results[case]
    assert r.status == exp["status"], (r.status, r.reason)
    if "score" in exp:
        assert r.score == exp["score"], [(t.name, t.outcome, t.message) for q in r.questions for t in q.tests]
    if "score_at_most" in exp:
        assert r.score <= exp["score_at_most"]
    assert exp.get("reason_contains", "") in r.reason
    if "cell_errors" in exp:
        assert [c.ename for c in r.cell_errors] == exp["cell_errors"]
    for text in exp.get("flags_contain", []):
        assert any(text in f for f in r.flags), r.flags
    messages = [t.message for q in r.questions for t in q.tests]
    for text in exp.get("messages_contain", []):
        assert any(text in m for m in messages), messages
    assert r.max_score == 5
    assert r.environment["sandbox"] == backend


def test_every_submission_has_a_row(graded):
    _, names, results, root = graded
    assert sorted(results) == sorted(names)
    rows = (root / "out" / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("student,score,max_score,status,q1,q2")
    assert len(rows) == len(names) + 1
    assert {row.split(",")[0] for row in rows[1:]} == set(names)


def test_no_process_is_left_behind(graded):
    _, _, results, _ = graded
    run_id = next(iter(results.values())).run_id
    marker = f"GRADER_RUN={run_id}".encode()
    left = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                left.append(environ.parent.name)
        except OSError:
            pass
    assert left == [], "processes of the batch outlived it"
    cgroups = list(Path("/sys/fs/cgroup").glob(f"*/**/torchgrader-{run_id}-*"))
    assert cgroups == []


def test_every_record_matches_the_schema(graded):
    import json

    import jsonschema

    schema = json.loads((Path(api.__file__).parent / "schema" / "result.schema.json").read_text())
    _, _, results, root = graded
    for r in results.values():
        jsonschema.validate(r.to_dict(), schema)
        on_disk = json.loads((root / "out" / "results" / f"{r.student}.json").read_text())
        jsonschema.validate(on_disk, schema)
        assert on_disk == r.to_dict()


def test_messages_never_quote_the_tests(graded):
    _, _, results, _ = graded
    source = (MINI_COURSE / "solutions" / "mini" / "tests" / "test_mini.py").read_text()
    secrets = ["tensors_equal(", "x * 2", "generator=student.generator", "scale_module"]
    assert all(s in source for s in secrets)
    for r in results.values():
        for q in r.questions:
            for t in q.tests:
                assert not any(s in t.message for s in secrets), t.message
