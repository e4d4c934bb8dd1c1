"""Grading on Ray: same results as the local executor, and nothing lost when an actor dies."""

import json
import shutil
import threading
import time

import pytest
import ray

from grader import api
from conftest import MINI_COURSE, SCENARIOS

CASES = ["solution", "blank", "partial", "cell_error", "ipython_syntax", "sys_exit", "not_json"]


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def build_class(dest, names):
    from corpus import build_class as build

    return build(SCENARIOS, dest, "none", ["none"], only=names)


def comparable(record: dict) -> dict:
    record = dict(record)
    for key in ("timing", "run_id"):
        record.pop(key)
    record["environment"] = {k: v for k, v in record["environment"].items() if k != "host"}
    for q in record["questions"]:
        for t in q["tests"]:
            t.pop("duration")
    return record


def test_ray_and_local_give_identical_results(ray_instance, tmp_path):
    subs = tmp_path / "subs"
    build_class(subs, CASES)
    local = api.grade(subs, assignment="mini", out=tmp_path / "local", jobs=2, sandbox="none",
                      course=MINI_COURSE)
    remote = api.grade(subs, assignment="mini", out=tmp_path / "ray", jobs=2, sandbox="none",
                       course=MINI_COURSE, executor="ray")
    assert len(local.results) == len(remote.results) == len(CASES)
    assert (tmp_path / "local" / "grades.csv").read_text() == (tmp_path / "ray" / "grades.csv").read_text()
    for path in (tmp_path / "local" / "results").glob("*.json"):
        other = tmp_path / "ray" / "results" / path.name
        assert comparable(json.loads(path.read_text())) == comparable(json.loads(other.read_text()))


def test_a_killed_actor_loses_nothing(ray_instance, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    started = tmp_path / "started"          # each notebook marks here that it runs (no sandbox: it can)
    started.mkdir()
    slow = (SCENARIOS / "solution" / "notebook.py").read_text() + (
        f"\n# %%\nimport os, time\nopen(os.path.join({str(started)!r}, str(os.getpid())), 'w').close()\n"
        "time.sleep(3)\n")
    from conftest import notebook_from_script
    import nbformat

    for i in range(6):
        nbformat.write(notebook_from_script(slow), subs / f"s{i}.ipynb")
    killed = []

    def kill_one():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                     if a["name"].startswith("torchgrader-slot-")]
            if names and len(list(started.iterdir())) >= 2:      # both actors are grading a notebook
                ray.kill(ray.get_actor(sorted(names)[0]))
                killed.append(sorted(names)[0])
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()
    batch = api.grade(subs, assignment="mini", out=tmp_path / "out", jobs=2, sandbox="none",
                      course=MINI_COURSE, executor="ray")
    killer.join(5)
    assert killed, "no actor was killed"
    assert sorted(r.student for r in batch.results) == [f"s{i}" for i in range(6)]
    assert all(r.status == "graded" and r.score == 5 for r in batch.results), [
        (r.student, r.status, r.reason) for r in batch.results]
    assert any("the worker grading it before died" in f for r in batch.results for f in r.flags)


def test_an_actor_slot_has_the_judge_memory_limit_and_starts_warm(ray_instance, tmp_path):
    """A Ray actor's worker gets the same heap limit and head start as a local slot."""
    from grader.ray_executor import SlotActor

    plan = {"warm": True, "assignment": str(MINI_COURSE / "solutions" / "mini"), "course": str(MINI_COURSE),
            "zygote_work": None}
    actor = SlotActor(0, str(tmp_path / "logs"), "t", False, prestart=plan, memory_mb=1536)
    try:
        assert actor.slot.proc is not None and actor.slot.proc.poll() is None     # started at once
        deadline = time.monotonic() + 120
        limit = None
        while time.monotonic() < deadline:
            line = [x for x in open(f"/proc/{actor.slot.proc.pid}/limits") if x.startswith("Max data size")]
            limit = line[0].split()[3]
            if limit != "unlimited":
                break
            time.sleep(0.2)
        assert limit == str(1536 << 20)
    finally:
        actor.slot.kill()


@pytest.mark.requires("serve")
def test_grader_serve_grades_on_ray_actors_and_a_killed_actor_loses_nothing(ray_instance,
                                                                            tmp_path):
    """`grader serve --executor ray`: uploads are graded by Ray actors; an actor killed between
    two uploads is replaced and the next upload graded once, flagged."""
    from test_serve import SOLUTION, Running

    from grader.ray_executor import ACTOR_PREFIX

    running = Running(tmp_path, executor="ray")
    try:
        token = running.tokens["ada"]
        first = running.client.upload(token, SOLUTION.read_bytes())
        assert first[0] == 202, first
        done = running.client.wait(json.loads(first[2])["id"], token)
        assert done["status"] == "graded" and done["score"] == done["max_score"] > 0
        names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                 if a["name"].startswith(ACTOR_PREFIX)]
        assert names, "no slot actor is running"
        for name in names:
            ray.kill(ray.get_actor(name))
        second = running.client.upload(token, SOLUTION.read_bytes())
        sub_id = json.loads(second[2])["id"]
        done = running.client.wait(sub_id, token)
        assert done["status"] == "graded" and done["score"] == done["max_score"]
        record = running.service.result(running.service.get(sub_id))
        assert any("graded on attempt 2" in f for f in record.flags), record.flags
        from grader.serve.db import Submission
        with running.service.db.session() as s:
            assert s.get(Submission, sub_id).gradings == 1
    finally:
        running.close()
