"""Every scenario directory graded in one batch per sandbox backend, each checked against its
expected.toml: the backbone of the engine's integration tests (see tests/scenarios/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import api
from conftest import MINI_COURSE
from corpus import build_class, cases, cgroups_of, check, expected, processes_of

SCENARIOS = Path(__file__).parent / "scenarios"
CASES = cases(SCENARIOS)
BACKENDS = ["bwrap", "podman", "none"]
PAIRS = [(b, c) for b in BACKENDS for c in CASES if b in expected(SCENARIOS, c).get("backends", BACKENDS)]


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Grades the scenario class once per backend, on first use."""
    cache = {}

    def get(backend: str):
        if backend not in cache:
            root = tmp_path_factory.mktemp(f"class-{backend}")
            names = build_class(SCENARIOS, root / "subs", backend, BACKENDS)
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
    _, _, results, _ = batches(backend)
    check(results[case], expected(SCENARIOS, case), max_score=5)
    assert results[case].environment["sandbox"] == backend


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
    assert processes_of(run_id) == [], "processes of the batch outlived it"
    assert cgroups_of(run_id) == []


def test_every_record_matches_the_schema(graded):
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
