"""The authoring helpers: exact checks, and failure messages that never give the answer away."""

import pytest
import torch

from grader.protocol import UnsupportedValue
from grader.testing import (GradingFailure, Probe, assert_finite, assert_tensor, assert_type, expect, probe,
                            question, tensors_close, tensors_equal, valid_tensor)

SECRET = torch.tensor([[1234.5, -987.25], [42.125, 7.0]])


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(GradingFailure) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_wrong_values_do_not_reveal_the_expected_tensor():
    msg = message(tensors_close, SECRET + 1, SECRET, name="output")
    assert "4 of 4 values differ" in msg
    for number in ("1234", "987", "42.1", "7.0"):
        assert number not in msg


def test_exact_type_dtype_and_shape():
    assert "should be a torch.Tensor, but your code gave list" in message(tensors_equal, [1.0], SECRET)
    assert "gave Anything" in message(tensors_equal, UnsupportedValue("Anything"), SECRET)
    assert "dtype torch.float64" in message(tensors_equal, SECRET.double(), SECRET)
    assert "shape (4,)" in message(tensors_equal, SECRET.reshape(4), SECRET)
    assert "gave Parameter" in message(assert_tensor, torch.nn.Parameter(SECRET))
    assert "type int" in message(assert_type, True, int, name="count")


def test_close_and_equal_accept_right_answers():
    tensors_equal(SECRET.clone(), SECRET)
    tensors_close(SECRET + 1e-7, SECRET)
    tensors_equal(torch.tensor([float("nan")]), torch.tensor([float("nan")]), equal_nan=True)
    tensors_close(torch.tensor([float("inf"), 1.0]), torch.tensor([float("inf"), 1.0]))
    tensors_close(torch.arange(3), torch.arange(3))
    assert_tensor(SECRET, dtype=torch.float32, shape=(2, 2))
    expect(True, "never shown")
    assert message(expect, False, "say this") == "say this"


def test_probe_source_is_standalone_without_decorators():
    @probe
    def my_probe(ns, x):
        return ns.f(x) + 1

    assert isinstance(my_probe, Probe) and my_probe.name == "my_probe"
    assert my_probe.source.startswith("def my_probe(ns, x):") and "@" not in my_probe.source
    assert my_probe(type("NS", (), {"f": staticmethod(lambda x: x)}), 1) == 2


def double_it(x):
    return 2 * x


def test_a_probe_takes_the_helpers_it_uses_along():
    @probe(uses=[double_it])
    def with_helper(ns, x):
        return double_it(x) + 1

    assert with_helper.source.startswith("def double_it(x):") and "def with_helper(ns, x):" in with_helper.source
    namespace = {}
    exec(with_helper.source, namespace)            # as the student process defines it
    assert namespace["with_helper"](None, 3) == 7
    with pytest.raises(TypeError):
        probe(uses=[with_helper])(lambda ns: 1)
    with pytest.raises(TypeError):
        probe(uses=["double_it"])(double_it)


def test_question_validates_its_arguments():
    with pytest.raises(TypeError):
        question("", points=1)
    with pytest.raises(TypeError):
        question("q1", points=-1)
    mark = question("q1", points=2).mark
    assert mark.args == ("q1",) and mark.kwargs == {"points": 2}


def test_nan_matches_nothing_unless_asked():
    nan = float("nan")
    for check in (tensors_close, tensors_equal):
        assert "1 of 2 values differ" in message(check, torch.tensor([nan, 1.0]), torch.tensor([nan, 1.0]))
        assert "2 of 2 values differ" in message(check, torch.full((2,), nan), torch.zeros(2))
        check(torch.tensor([nan, 1.0]), torch.tensor([nan, 1.0]), equal_nan=True)
    assert "1 of 2 values differ" in message(tensors_close, torch.tensor([float("inf"), 1.0]),
                                             torch.tensor([float("-inf"), 1.0]))


def test_low_precision_values_are_compared_without_overflow():
    big = torch.tensor([0.0, 2.0 ** 70], dtype=torch.bfloat16)
    tensors_close(big.clone(), big)
    assert "1 of 2 values differ" in message(tensors_close, torch.tensor([0.0, 2.0 ** 69], dtype=torch.bfloat16),
                                             big)


def test_valid_tensor_checks_before_any_arithmetic():
    w = torch.ones(3, 2, requires_grad=True)
    out = valid_tensor(w, shape=(3, 2), dtype=torch.float32, name="the weight")
    assert out.requires_grad is False and torch.equal(out, w.detach())
    assert "2 NaN or infinite values of 6" in message(valid_tensor, torch.tensor([[float("nan"), 1.0],
                                                                                   [float("inf"), 0.0],
                                                                                   [0.0, 0.0]]))
    assert "shape (1, 3, 1)" in message(valid_tensor, torch.zeros(1, 3, 1, dtype=torch.bool), shape=(3,))
    assert "should be a torch.Tensor" in message(valid_tensor, {"$tensor": 1})
    valid_tensor(torch.tensor([float("nan")]), finite=False)
    assert_finite(torch.arange(3))
    assert "NaN or infinite" in message(assert_finite, torch.tensor([float("-inf")]), name="x")


def test_close_and_equal_count_what_differs():
    nan = float("nan")
    assert "1 of 2 values differ" in message(tensors_close, torch.tensor([nan, 1.0]), torch.tensor([0.0, 1.0]))
    assert "2 of 2 values differ" in message(tensors_equal, torch.tensor([nan, 1.0]), torch.tensor([nan, 2.0]))
    assert "2 of 3 values differ" in message(tensors_close, torch.tensor([1.0, 2.1, 3.1]),
                                             torch.tensor([1.0, 2.0, 3.0]))


OUTCOME_SUITE = '''
import pytest
from grader.testing import expect, question

TEARDOWNS = []


@pytest.fixture
def broken_setup():
    raise RuntimeError("fixture failed")


@pytest.fixture
def broken_teardown():
    yield 1
    raise RuntimeError("teardown failed")


@pytest.fixture
def skipped_in_setup():
    pytest.skip("no data here")


@question("q1", points=1)
def test_passes(student):
    expect(student.seed >= 0, "never")


@question("q1", points=1)
def test_fails(student):
    expect(False, "your answer is wrong")


@question("q1", points=1)
def test_bare_assert(student):
    assert 1 == 2, "the lengths differ"


@question("q1", points=1)
def test_crashes(student):
    {}["missing"]


@question("q2", points=1)
def test_skips_in_body(student):
    pytest.skip("not on this machine")


@question("q2", points=1)
def test_skips_in_setup(student, skipped_in_setup):
    pass


@question("q2", points=1)
def test_setup_error(student, broken_setup):
    pass


@question("q2", points=1)
def test_teardown_error(student, broken_teardown):
    pass


@question("q3", points=1)
@pytest.mark.xfail(reason="known", strict=True)
def test_xfail_strict_passes(student):
    pass


@question("q3", points=1)
@pytest.mark.xfail(reason="known")
def test_xfail_fails(student):
    expect(False, "expected to fail")


@question("q3", points=1)
def test_after_the_marked_ones(student):
    expect(student.seed >= 0, "never")
'''

MORE_OUTCOMES = '''
import pytest
from grader.testing import expect, question

OPENED = []


@pytest.fixture(scope="module")
def shared():
    OPENED.append(1)
    yield len(OPENED)
    OPENED.pop()


@question("q4", points=1)
def test_plain_first(student):
    expect(not OPENED, "the module fixture is open before its first user")


@question("q4", points=1)
def test_uses_the_module_fixture(student, shared):
    expect(shared == 1, "one module fixture at a time")


@question("q4", points=1)
def test_plain_between(student):
    expect(len(OPENED) == 1, "the module fixture stays open between its users")


@question("q4", points=1)
def test_uses_it_again(student, shared):
    expect(shared == 1 and len(OPENED) == 1, "the module fixture is set up once")


@question("q4", points=1)
def test_plain_last(student):
    expect(student.seed >= 0, "never")
'''


def test_warm_suite_reports_every_outcome_as_a_full_pytest_run_does(tmp_path):
    """The warm judge runs each test's phases without pytest's report hooks on the way; failing,
    skipping, erroring and xfail tests must come out exactly as a plain pytest run has them."""
    from grader.judge import plugin, warm

    (tmp_path / "test_outcomes.py").write_text(OUTCOME_SUITE)
    (tmp_path / "test_outcomes_more.py").write_text(MORE_OUTCOMES)

    class Session:
        device = "cpu"

    def view(outcomes):
        return {o.name: (o.outcome, o.message, bool(o.detail)) for o in outcomes}

    cold = view(plugin.run(tmp_path, Session(), "seed"))
    runs = [view(plugin.run(tmp_path, Session(), "seed", warm_key=f"outcomes-{tmp_path}")) for _ in range(2)]
    assert runs[0] == runs[1] == cold
    suite = warm.warm_suite(tmp_path, f"outcomes-{tmp_path}")
    direct = {nodeid.split("::")[-1] for nodeid in suite.called_directly}
    assert direct == {"test_passes", "test_fails", "test_bare_assert", "test_crashes", "test_skips_in_body",
                      "test_after_the_marked_ones", "test_plain_first", "test_plain_between", "test_plain_last"}
    assert cold["test_passes"] == ("passed", "", False)
    assert cold["test_fails"] == ("failed", "your answer is wrong", False)
    assert cold["test_bare_assert"] == ("failed", "the lengths differ", False)
    assert cold["test_crashes"][0] == "error" and cold["test_crashes"][2]
    assert cold["test_skips_in_body"][0] == "skipped" and "not on this machine" in cold["test_skips_in_body"][1]
    assert cold["test_skips_in_setup"][0] == "skipped" and "no data here" in cold["test_skips_in_setup"][1]
    assert cold["test_setup_error"][0] == "error"
    assert cold["test_teardown_error"][0] == "error"
    assert cold["test_xfail_strict_passes"][0] == "failed"
    assert cold["test_xfail_fails"][0] == "skipped"
    for key in (None, f"outcomes-{tmp_path}"):
        outcomes = plugin.run(tmp_path, Session(), "seed", warm_key=key)
        crash = next(o for o in outcomes if o.name == "test_crashes")     # the instructor's view of a broken test
        assert "in test_crashes" in crash.detail and "KeyError: 'missing'" in crash.detail, crash.detail
        assert "_pytest" not in crash.detail and "pluggy" not in crash.detail
    assert all(cold[name][0] == "passed" for name in ("test_after_the_marked_ones", "test_plain_first",
                                                      "test_uses_the_module_fixture", "test_plain_between",
                                                      "test_uses_it_again", "test_plain_last")), cold


def test_without_the_fast_path_a_warm_suite_reports_the_same_outcomes(tmp_path, monkeypatch):
    """What the warm judge does where pytest's internals are not what it knows (another pytest):
    every test through pytest's own protocol, and the same outcomes, run after run."""
    from grader.judge import plugin, pytest_shim, warm

    (tmp_path / "test_outcomes.py").write_text(OUTCOME_SUITE)
    (tmp_path / "test_outcomes_more.py").write_text(MORE_OUTCOMES)

    class Session:
        device = "cpu"

    def view(outcomes):
        return {o.name: (o.outcome, o.message, bool(o.detail)) for o in outcomes}

    cold = view(plugin.run(tmp_path, Session(), "seed"))
    monkeypatch.setattr(pytest_shim, "FAST_PATH", False)
    key = f"no-fast-path-{tmp_path}"
    runs = [view(plugin.run(tmp_path, Session(), "seed", warm_key=key)) for _ in range(2)]
    assert runs[0] == runs[1] == cold and warm.warm_suite(tmp_path, key).called_directly == set()
    assert cold["test_fails"] == ("failed", "your answer is wrong", False)


def test_a_conftest_hook_or_fixture_sends_a_test_through_pytest_in_a_warm_suite(tmp_path):
    """A warm suite calls plain tests directly, without pytest's per-test hooks; any hook or
    autouse fixture of the suite's own (a conftest) must still see every test it would see."""
    from grader.judge import plugin, warm

    (tmp_path / "conftest.py").write_text('''
import pytest

def pytest_runtest_call(item):
    if item.name.endswith("_vetoed"):
        raise RuntimeError("vetoed by the suite's conftest")
''')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "conftest.py").write_text('''
import pytest

@pytest.fixture(autouse=True)
def always():
    pytest.skip("skipped by an autouse fixture")
''')
    test = '''
from grader.testing import question

@question("q1", points=1)
def test_plain(student):
    pass

@question("q1", points=1)
def test_plain_vetoed(student):
    pass
'''
    (tmp_path / "test_top.py").write_text(test)
    (tmp_path / "sub" / "test_sub.py").write_text(test.replace("test_plain", "test_sub"))

    class Session:
        device = "cpu"

    def view(outcomes):
        return {o.name: o.outcome for o in outcomes}

    cold = view(plugin.run(tmp_path, Session(), "seed"))
    run = view(plugin.run(tmp_path, Session(), "seed", warm_key=f"hooks-{tmp_path}"))
    assert run == cold == {"test_plain": "passed", "test_plain_vetoed": "error",
                           "test_sub": "skipped", "test_sub_vetoed": "skipped"}
    assert not warm.warm_suite(tmp_path, f"hooks-{tmp_path}").called_directly


def test_a_test_checks_several_cases():
    from grader.judge.plugin import Student

    s = Student(None, seed=11)
    cases = s.cases((1, 1), (2, 4), draw=lambda rng: (rng.randint(5, 9), rng.randint(5, 9)))
    assert cases[:2] == [(1, 1), (2, 4)] and len(cases) == 4
    assert all(5 <= a <= 9 and 5 <= b <= 9 for a, b in cases[2:])
    again = Student(None, seed=11).cases((1, 1), (2, 4), draw=lambda rng: (rng.randint(5, 9), rng.randint(5, 9)))
    assert again == cases                       # the same draws for the same notebook and test
    assert s.cases(1, 2, 3) == [1, 2, 3]
    with pytest.raises(TypeError, match="at least three"):
        s.cases(1, draw=lambda rng: 2, n=1)
    with pytest.raises(TypeError, match="needs draw"):
        s.cases(1, 2, 3, n=4)


def test_torch_calls_names_what_a_call_ran_in_every_spelling():
    from grader.testing import torch_calls

    s, labels = torch.randn(3, 4), torch.tensor([0, 3, 1])
    for spelling in (lambda: s.gather(1, labels.unsqueeze(1)), lambda: torch.gather(s, 1, labels[:, None])):
        value, names = torch_calls(spelling)
        assert "gather" in names and value.shape == (3, 1)
    value, names = torch_calls(lambda: s[torch.arange(3), labels])     # indexing instead
    assert "gather" not in names and torch.equal(value, s.gather(1, labels[:, None]).squeeze(1))
    w, b, x = torch.randn(2, 4), torch.zeros(2), torch.randn(5, 4)
    assert torch_calls(torch.addmm, b, x, w.T)[1].count("addmm") == 1
    assert "addmm" not in torch_calls(lambda: x @ w.T + b)[1]
    Probe(torch_calls)        # its source stands alone, so @probe(uses=[torch_calls]) can ship it


def test_expect_calls_decides_from_the_names_alone():
    from grader.testing import expect_calls

    expect_calls(["unsqueeze", "gather", "squeeze"], "gather", what="pick_scores")
    with pytest.raises(GradingFailure, match="should use `gather`.*never called it"):
        expect_calls(["__getitem__"], "gather", what="pick_scores")
    with pytest.raises(GradingFailure, match="at most 1 time"):
        expect_calls(["addmm", "addmm"], "addmm", what="forward", at_most=1)
    for forged in ("gather", None, [b"gather"], [["gather"]]):     # what a lying process might send
        with pytest.raises(GradingFailure, match="could not be checked"):
            expect_calls(forged, "gather", what="pick_scores")


BAD_PROBE_SUITE = '''
import torch
from grader.testing import probe, question, expect

HIDDEN = 4


def make_model(n):
    return torch.nn.Linear(n, 1)


@probe
def forward(ns, x):
    return make_model(HIDDEN)(x)        # names of this module: the student process has neither


@question("q1", points=1)
def test_forward(student):
    expect(student.probe(forward, x=torch.zeros(1, 4)) is not None, "no output")
'''


def test_a_probe_reading_a_name_of_its_test_module_is_the_instructors_error(tmp_path):
    """Caught when the suite is collected, naming the probe and the names, instead of failing every
    student with "NameError: name 'make_model' is not defined"."""
    from grader.errors import AssignmentError
    from grader.judge import plugin

    (tmp_path / "test_bad.py").write_text(BAD_PROBE_SUITE)
    with pytest.raises(AssignmentError, match="probe forward uses HIDDEN, make_model, which the student process "
                                              "cannot see"):
        plugin.collect(tmp_path)


def test_a_probe_may_use_what_the_student_process_gives_it():
    def helper(ns):
        return 1

    def sound(ns, x):
        import numpy as np
        rows = [v for v in range(3)]

        class Box:
            pass

        def inner(z):
            return torch.tensor(z) + helper(ns)
        return inner(x), np.zeros(1), F.relu, nn.Linear, math.pi, random.random(), len(rows), Box, ns.model

    assert Probe(sound, (helper,)).name == "sound"
    with pytest.raises(NameError, match="probe sound uses helper"):
        Probe(sound)
