"""Forging runners: a hidden test that trusts what the student process says passes under one of
them, and a sound suite passes under none."""

from __future__ import annotations

import shutil

import pytest
import torch

from grader import assignment, forge
from conftest import MINI_COURSE

WEAK_TESTS = '''
import torch

from grader.testing import expect, probe, question, tensors_close


@probe
def is_module(ns):
    return {"ok": isinstance(ns.Scale(1.0), nn.Module)}


@probe
def scaled(ns, x):
    m = ns.Scale(3.0)
    return {"y": m(x).detach(), "factor": m.factor.detach()}


@probe
def marked(ns, marks):
    answers = []
    for i in range(len(marks)):
        m = ns.Scale(1.0)
        m.mark = marks[i]                       # a value the judge sent, read back
        answers.append({"kind": type(m).__name__, "mark": m.mark.clone()})
    return answers


@question("q2", points=0)
def test_trusts_an_echoed_row(student):
    marks = torch.randn(3, 2, generator=student.generator)
    for answer, mark in zip(student.probe(marked, marks=marks), marks):
        expect(answer["kind"] == "Scale", "Scale must be a class")
        tensors_close(answer["mark"], mark)


@question("q2", points=0)
def test_trusts_a_flag(student):
    expect(student.probe(is_module)["ok"], "Scale must be a module")


@question("q2", points=0)
def test_reference_from_reported_weights(student):
    x = torch.randn(2, 3, generator=student.generator)
    r = student.probe(scaled, x=x)
    tensors_close(r["y"], x * r["factor"], equal_nan=True)


@question("q2", points=0)
def test_compares_two_answers(student):
    x = torch.randn(2, 3, generator=student.generator)
    expect(torch.equal(student.probe(scaled, x=x)["y"], student.probe(scaled, x=x)["y"]), "not repeatable")
'''


def _mini(tmp_path, extra: str | None = None):
    root = tmp_path / "course"
    shutil.copytree(MINI_COURSE / "solutions", root / "solutions")
    if extra is not None:
        (root / "solutions" / "mini" / "tests" / "test_weak.py").write_text(extra)
    return assignment.load("mini", root)


@pytest.mark.slow
def test_a_sound_suite_passes_under_no_forger(tmp_path):
    asg = _mini(tmp_path)
    report = forge.check_assignment(asg, asg.directory / "mini.ipynb")
    assert report.tests == 4
    assert sorted(report.survivors) == sorted(forge.FORGERS)
    assert report.surviving == 0, report.survivors


@pytest.mark.slow
def test_each_kind_of_trust_is_caught_by_a_forger(tmp_path):
    asg = _mini(tmp_path, WEAK_TESTS)
    report = forge.check_assignment(asg, asg.directory / "mini.ipynb")
    survivors = {kind: sorted(n.rsplit("::", 1)[-1] for n in nodeids)
                 for kind, nodeids in report.survivors.items()}
    both = ["test_compares_two_answers", "test_trusts_a_flag"]
    with_ref = sorted([*both, "test_reference_from_reported_weights"])
    # NaN equals nothing, so two NaN answers are not "the same" and NaN weights make no reference
    nan = ["test_reference_from_reported_weights", "test_trusts_a_flag"]
    rows = sorted([*both, "test_trusts_an_echoed_row"])      # row i of the judge's marks, echoed
    assert survivors == {"replay": both, "echo": both, "rows": rows, "nan": nan, "zeros": with_ref,
                         "identity": both}


def test_a_forgery_keeps_the_structure_and_drops_every_value():
    like = {"y": torch.randn(3, 3), "w": torch.nn.Parameter(torch.randn(2)), "n": 4, "lr": 0.5,
            "ok": False, "kind": "Linear", "pair": (torch.arange(3), None), "size": torch.Size([3, 3]),
            "dtype": torch.float16}
    other = {"kind": "RemovableHandle", "n": 7, "pair": (torch.arange(5),)}
    x = torch.randn(3, 3)
    nan = forge.forge("nan", like, other, [x])
    assert torch.isnan(nan["y"]).all() and nan["lr"] != nan["lr"] and nan["n"] == 0
    assert isinstance(nan["w"], torch.nn.Parameter) and nan["w"].shape == (2,)
    assert nan["ok"] is True and nan["kind"] == "RemovableHandle"
    assert isinstance(nan["pair"], tuple) and nan["pair"][0].dtype == torch.int64
    assert torch.equal(nan["pair"][0], torch.zeros(3, dtype=torch.int64)) and nan["pair"][1] is None
    assert nan["size"] == torch.Size([3, 3]) and nan["dtype"] is torch.float16
    echo = forge.forge("echo", like, other, [x])
    assert torch.equal(echo["y"], x) and echo["n"] == 7 and torch.equal(echo["w"], torch.zeros(2))
    ident = forge.forge("identity", like, None, [x])
    assert torch.equal(ident["y"], torch.eye(3)) and ident["n"] == 1 and ident["kind"] == ""
    assert torch.equal(forge.forge("zeros", like, None, [])["y"], torch.zeros(3, 3))


def test_the_rows_forger_echoes_the_judges_row_for_each_item_of_a_list():
    marks, counts = torch.randn(4, 3), torch.tensor([7, 8, 9, 10])
    like = [{"outcome": "returned", "mark": torch.zeros(3), "n": 0, "ids": [5, 5]}] * 4
    rows = forge.forge("rows", like, None, [marks, counts])
    for i, item in enumerate(rows):
        assert torch.equal(item["mark"], marks[i]) and item["n"] == 10 - 3 + i
        assert item["outcome"] == "" and item["ids"] == [7 + i, 7 + i]   # the row, inside as well
    echo = forge.forge("echo", like, None, [marks, counts])
    assert all(torch.equal(item["mark"], torch.zeros(3)) and item["n"] == 0 for item in echo)
    assert forge.forge("rows", [torch.zeros(2)], None, [torch.ones(3, 2)])[0].sum() == 0  # 1 != 3
