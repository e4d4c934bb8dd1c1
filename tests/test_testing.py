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


# -- autograd, modes, state_dict and identity ---------------------------------------------------
def secret_free(msg: str, *tensors) -> str:
    """`msg`, after checking that no value of `tensors` appears in it, in any usual spelling."""
    for t in tensors:
        for v in t.detach().double().reshape(-1).tolist():
            for spelling in (f"{v:.2f}", f"{v:.4g}", str(round(v, 3))):
                assert spelling not in msg, (spelling, msg)
    return msg


class Stack(torch.nn.Module):
    def __init__(self, n=2, width=3):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(n))

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


class PlainListStack(Stack):
    def __init__(self, n=2, width=3):
        torch.nn.Module.__init__(self)
        self.layers = [torch.nn.Linear(width, width) for _ in range(n)]


class DetachedStack(Stack):
    def forward(self, x):
        return self.layers[1](self.layers[0](x).detach())


class FrozenStack(Stack):
    def __init__(self):
        super().__init__()
        self.layers[1].weight.requires_grad_(False)


class PlainTensorLinear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.randn(3, 3, requires_grad=True)

    def forward(self, x):
        return x @ self.weight.T


STACK_NAMES = {f"layers.{i}.{kind}": shape for i in range(2)
               for kind, shape in (("weight", (3, 3)), ("bias", (3,)))}


def test_every_parameter_must_receive_a_gradient():
    from grader.testing import expect_param_grads, parameter_grads

    x = SECRET[:, :1].repeat(1, 3)
    grads = expect_param_grads(parameter_grads(Stack(), x), STACK_NAMES, what="Stack")
    assert set(grads) == set(STACK_NAMES) and all(type(g) is torch.Tensor for g in grads.values())
    torch.manual_seed(0)
    model, c = Stack(), torch.randn(2, 3)
    got = expect_param_grads(parameter_grads(model, x, grad_output=c), list(STACK_NAMES),
                             what="Stack")
    model.zero_grad()
    (model(x) * c).sum().backward()
    tensors_close(got["layers.0.weight"], model.layers[0].weight.grad)    # the gradients themselves
    msg = secret_free(message(expect_param_grads, parameter_grads(PlainListStack(), x), STACK_NAMES,
                              what="Stack"), SECRET)
    assert "does not register the parameter(s) `layers.0.weight`" in msg and "keeps `layers`" in msg
    assert "keeps `weight`" in message(expect_param_grads, parameter_grads(PlainTensorLinear(), x),
                                       ["weight"], what="MyLinear")
    msg = message(expect_param_grads, parameter_grads(DetachedStack(), x), STACK_NAMES,
                  what="Stack")
    assert "`layers.0.weight`, `layers.0.bias`" in msg and "detached copy" in msg
    assert "layers.1" not in msg
    msg = message(expect_param_grads, parameter_grads(FrozenStack(), x), STACK_NAMES, what="Stack")
    assert "`layers.1.weight` has requires_grad=False" in msg
    assert "raised an error (forward: RuntimeError)" in message(
        expect_param_grads, parameter_grads(Stack(), torch.zeros(2, 5)), STACK_NAMES, what="Stack")


def test_a_gradient_report_is_checked_not_believed():
    from grader.testing import expect_param_grads, parameter_grads

    honest = parameter_grads(Stack(), torch.randn(2, 3))
    wrong_shape = dict(honest, grads=[torch.zeros(1)] * 4)
    assert "shape (1,)" in message(expect_param_grads, wrong_shape, STACK_NAMES, what="Stack")
    claimed = dict(wrong_shape, shapes=[[1]] * 4)      # the judge's shapes, not the claimed ones
    assert "it should be (3, 3)" in message(expect_param_grads, claimed, STACK_NAMES, what="Stack")
    nan = dict(honest, grads=[torch.full((3, 3), float("nan")), torch.zeros(3)] * 2)
    assert "NaN or infinite" in message(expect_param_grads, nan, STACK_NAMES, what="Stack")
    for forged in (None, [], dict(honest, names="layers"), dict(honest, grads=[]),
                   dict(honest, names=["a"] * 4), dict(honest, shapes=["3"] * 4)):
        assert "could not be checked" in message(expect_param_grads, forged, STACK_NAMES,
                                                 what="Stack")
    empty = dict(honest, names=[], shapes=[], requires_grad=[], grads=[])   # reports no parameter
    assert "does not register the parameter(s) `layers.0.weight`" in message(
        expect_param_grads, empty, STACK_NAMES, what="Stack")
    with pytest.raises(TypeError):
        expect_param_grads(empty, what="Stack")                  # the judge must name them
    with pytest.raises(ValueError, match="needs the names"):
        expect_param_grads(empty, [], what="Stack")


def cube(x):
    return x ** 3


def scaled_cube(x, k):
    return cube(x) * k[0]


class WrongCube(torch.autograd.Function):
    """x ** 3 with the gradient of x ** 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


def test_gradcheck_decides_on_the_judges_own_jacobian():
    from grader.testing import expect_gradcheck, gradcheck_report, reference_jacobian

    inputs = [SECRET / 1000, torch.tensor([2, 3])]          # an integer input is passed through
    report = gradcheck_report(scaled_cube, inputs)
    expect_gradcheck(report, inputs, scaled_cube, what="cube")
    assert report["analytical"].shape == (4, 4) and report["output"].dtype == torch.float64
    tensors_close(report["output"], cube(SECRET.double() / 1000) * 2)
    out, jac = reference_jacobian(scaled_cube, inputs)
    tensors_close(jac, torch.diag(6 * (SECRET.double() / 1000).reshape(-1) ** 2))
    expect_gradcheck(report, inputs, jac, what="cube")            # a Jacobian the judge computed
    # the finite differences and gradcheck's verdict are the process's claims: no verdict on them
    expect_gradcheck(dict(report, numerical=torch.zeros(4, 4), passed=False), inputs, jac,
                     what="cube")
    msg = secret_free(message(expect_gradcheck, gradcheck_report(WrongCube.apply, inputs[:1]),
                              inputs[:1], cube, what="cube"), SECRET, SECRET / 1000)
    assert "are wrong in 4 of 16 entries of its Jacobian: a hand-written backward is wrong" in msg
    forged = dict(report, analytical=report["numerical"] + 1)
    assert "in 16 of 16 entries" in message(expect_gradcheck, forged, inputs, scaled_cube,
                                            what="cube")
    zeros = torch.zeros(4, 4, dtype=torch.float64)       # both Jacobians zero, "passed", right output
    forged = dict(report, analytical=zeros, numerical=zeros, passed=True)
    assert "wrong in 4 of 16 entries" in message(expect_gradcheck, forged, inputs, scaled_cube,
                                                 what="cube")
    assert "wrong in 4 of 16 entries" in message(expect_gradcheck, forged, inputs, jac, what="cube")
    lying = dict(report, output=report["output"] + 1)
    assert "the output of cube has the right shape and dtype, but 4 of 4 values differ" in message(
        expect_gradcheck, lying, inputs, scaled_cube, what="cube")
    assert "should be (5,)" in message(expect_gradcheck, report, [torch.zeros(5), inputs[1]],
                                       scaled_cube, what="cube")
    assert "should be (5, 5)" in message(expect_gradcheck, report, inputs,
                                         torch.zeros(5, 5), what="cube")


@pytest.mark.parametrize("fn,says", [
    (lambda x: x.float() ** 3, "returned a torch.float32 tensor for float64 inputs"),
    (lambda x: torch.tensor(x.tolist(), dtype=torch.float64) ** 3,
     "not connected to its inputs by autograd"),
    (lambda x: x.nonexistent, "raised AttributeError when called on float64 inputs"),
    (lambda x: [x], "should return a tensor, but it returned list"),
])
def test_a_function_gradcheck_cannot_run_on_is_a_safe_failure(fn, says):
    from grader.testing import expect_gradcheck, gradcheck_report

    msg = message(expect_gradcheck, gradcheck_report(fn, [SECRET]), [SECRET], cube, what="cube")
    assert says in secret_free(msg, SECRET)
    for forged in ({"problem": "made_up"}, dict(gradcheck_report(fn, [SECRET]), problem=7)):
        assert "could not be checked" in message(expect_gradcheck, forged, [SECRET], cube,
                                                 what="cube")


def sigmoid_scaled_in_place(x):
    y = torch.sigmoid(x)
    y.mul_(2)                  # sigmoid's backward needs its output
    return y


def add_to_input(x):
    x += 1
    return x


def write_into_unbind_view(x):
    first, _ = (x * 1).unbind(0)
    first.mul_(2)
    return first


def freed_twice(x):
    y = (x * x).sum()
    y.backward()
    return y


@pytest.mark.parametrize("fn,kind,says", [
    (sigmoid_scaled_in_place, "inplace", "modified by an inplace operation"),
    (add_to_input, "leaf_inplace", "changes a tensor that requires grad"),
    (write_into_unbind_view, "view_inplace", "changes a view in place"),
    (freed_twice, "graph_freed", "through the same graph twice"),
    (lambda x: x.detach() * 2, "no_graph", "not connected to autograd"),
    (lambda x: x.tolist(), "not_tensor", "returned list"),
    (lambda x: x @ torch.zeros(7, 7), "forward_error", "raised RuntimeError on the test's input"),
])
def test_what_broke_autograd_is_named_by_category(fn, kind, says):
    from grader.testing import backward_report, expect_backward_ok

    report = backward_report(fn, [SECRET])
    assert report["kind"] == kind
    assert says in secret_free(message(expect_backward_ok, report, what="f"), SECRET)


def test_a_sound_backward_pass_returns_the_input_gradients():
    from grader.testing import backward_report, expect_backward_ok

    grads = expect_backward_ok(backward_report(lambda x, k: torch.sigmoid(x) * 2 * k, [SECRET, 3]),
                               what="f")
    s = torch.sigmoid(SECRET)
    assert len(grads) == 1
    tensors_close(grads[0], 6 * s * (1 - s))
    for forged in ({"kind": "fine", "raised": None, "grads": []}, {"kind": "ok"},
                   {"kind": "ok", "raised": None, "grads": "all"},
                   {"kind": ["ok"], "raised": 1, "grads": []}):
        assert "could not be checked" in message(expect_backward_ok, forged, what="f")


class ModeNet(torch.nn.Module):
    """Linear, BatchNorm1d and dropout; `functional_dropout` is always on, `bn_in_eval` updates the
    running statistics in eval mode too."""

    def __init__(self, functional_dropout=False, bn_in_eval=False, p=0.5):
        super().__init__()
        torch.manual_seed(3)
        self.fc, self.bn = torch.nn.Linear(2, 6), torch.nn.BatchNorm1d(6)
        self.drop = torch.nn.Dropout(p)
        self.functional_dropout, self.bn_in_eval = functional_dropout, bn_in_eval

    def forward(self, x):
        h = self.fc(x)
        if self.bn_in_eval:
            h = torch.nn.functional.batch_norm(h, self.bn.running_mean, self.bn.running_var,
                                               self.bn.weight, self.bn.bias, training=True)
        else:
            h = self.bn(h)
        if self.functional_dropout:
            return torch.nn.functional.dropout(h, 0.5, training=True)
        return self.drop(h)


SEEDS = [11, 12, 13, 14]


def test_eval_is_deterministic_and_keeps_the_statistics_train_varies_and_updates():
    from grader.testing import expect_modes, mode_report

    x = SECRET.repeat(2, 1) / 100
    ref = mode_report(ModeNet(), x, SEEDS)            # the judge's own model: same weights and seeds
    expect_modes(mode_report(ModeNet(), x, SEEDS), ref, what="Net", dropout=True, batchnorm=True)
    expect_modes(mode_report(ModeNet(), x, SEEDS), ref, what="Net", stats=["bn.running_mean"])
    msg = message(expect_modes, mode_report(ModeNet(functional_dropout=True), x, SEEDS), ref,
                  what="Net")
    assert "different outputs for the same input in two calls in eval mode" in secret_free(msg,
                                                                                            SECRET)
    msg = message(expect_modes, mode_report(ModeNet(bn_in_eval=True), x, SEEDS), ref, what="Net")
    assert "buffer `bn.running_mean` changed in eval mode" in msg
    msg = message(expect_modes, mode_report(ModeNet(p=0.0), x, SEEDS), ref, what="Net",
                  dropout=True)
    assert "same output for the same input in two calls in training mode" in msg
    assert "output in training mode is wrong" in message(
        expect_modes, mode_report(ModeNet(p=0.2), x, SEEDS), ref, what="Net", dropout=True)
    torch.manual_seed(4)
    plain = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.5))
    plain_ref = mode_report(plain, x, SEEDS)
    assert "no batch-norm running statistics" in message(expect_modes, mode_report(plain, x, SEEDS),
                                                         plain_ref, batchnorm=True)
    assert "should have the buffer `mean`" in message(expect_modes, mode_report(plain, x, SEEDS),
                                                      plain_ref, stats=["mean"])
    expect_modes(mode_report(plain, x, SEEDS), plain_ref, dropout=True)
    assert "Net's output in eval mode is wrong" in message(
        expect_modes, mode_report(plain, x, SEEDS), ref, what="Net")
    frozen = ModeNet()
    frozen.bn.momentum = 0.0            # running statistics that never move
    assert "`bn.running_mean` did not change in training mode" in message(
        expect_modes, mode_report(frozen, x, SEEDS), ref, what="Net", batchnorm=True)
    slow = ModeNet()
    slow.bn.momentum = 0.01             # they move, but not as the judge's do
    assert "buffer `bn.running_mean` is wrong after the calls in training mode" in message(
        expect_modes, mode_report(slow, x, SEEDS), ref, what="Net", batchnorm=True)


def test_a_mode_report_is_checked_not_believed():
    from grader.testing import expect_modes, mode_report

    honest = mode_report(ModeNet(), SECRET.repeat(2, 1) / 100, SEEDS)
    assert "returned str" in message(expect_modes, dict(honest, eval=["str", "str"]), honest)
    nan = torch.full((4, 6), float("nan"))
    assert "holds 24 NaN" in message(expect_modes, dict(honest, eval=[nan, nan]), honest)
    odd = [honest["train"][0], torch.zeros(4, 5)]
    assert "shape (4, 5)" in message(expect_modes, dict(honest, train=odd), honest)
    for forged in ({}, dict(honest, eval=[honest["eval"][0]]),
                   dict(honest, buffers=honest["buffers"][:2]),
                   dict(honest, buffer_names="bn.running_mean")):
        assert "could not be checked" in message(expect_modes, forged, honest)
    # outputs that look right to each other: eval the same twice, training varying, stats moving
    y = honest["eval"][0]
    start = honest["buffers"][0]
    moved = [b + 1 for b in start]
    forged = dict(honest, eval=[y, y], train=[y, y + 1], buffers=[start, start, moved])
    assert "output in training mode is wrong" in message(expect_modes, forged, honest,
                                                         dropout=True, batchnorm=True)
    forged = dict(forged, train=honest["train"])
    assert "is wrong after the calls in training mode" in message(expect_modes, forged, honest,
                                                                  dropout=True, batchnorm=True)


def test_state_dict_keys_name_what_is_missing_and_unexpected():
    from grader.testing import expect_keys

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        model[0].weight.copy_(SECRET)
    keys = list(model.state_dict())
    expect_keys(keys, reversed(keys))
    expect_keys(keys, keys, order=True)
    msg = message(expect_keys, keys[:-1] + ["1.näme"], keys, what="Net's state_dict()",
                  hint="(see q3)")
    assert secret_free(msg, SECRET) == ("Net's state_dict() is missing `1.num_batches_tracked` and "
                                        "has unexpected `1.näme`. (see q3)")
    assert "is missing 1 key(s)" in message(expect_keys, keys[1:], keys, show_missing=False)
    assert "more than once" in message(expect_keys, keys + keys[:1], keys)
    assert "wrong order" in message(expect_keys, list(reversed(keys)), keys, order=True)
    assert "and 12 more" in message(expect_keys, [f"k{i}" for i in range(20)], [])
    assert "could not be checked" in message(expect_keys, {"0.weight": 1}, keys)
    assert len(message(expect_keys, ["x" * 10_000] * 100, [])) < 1000     # hostile names are cut


def test_the_same_object_is_decided_from_the_ids_as_well():
    import copy

    from grader.testing import expect_same_objects, same_objects

    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    report = same_objects({"layer": (model[0], model[0]),
                           "copy": (model[0], copy.deepcopy(model[0]))})
    expect_same_objects(report, ["layer"], what="get_layer")
    assert "get_layer: copy is a Linear that is not the model's own object" in message(
        expect_same_objects, report, ["layer", "copy"], what="get_layer")
    lie = {"copy": dict(report["copy"], same=True)}                  # a claim the ids contradict
    assert "not the model's own object" in message(expect_same_objects, lie, ["copy"],
                                                   what="get_layer")
    for forged in ({}, {"layer": True}, {"layer": {"same": 1, "ids": [1, 1]}},
                   {"layer": {"same": True, "ids": [1]}},
                   {"layer": {"same": True, "ids": ["1", "1"]}}):
        assert "could not be checked" in message(expect_same_objects, forged, ["layer"],
                                                 what="get_layer")


def test_the_probe_side_helpers_stand_alone():
    """Each travels with @probe(uses=[...]): its source needs nothing of this package."""
    from grader import testing

    for helper in (testing.parameter_grads, testing.gradcheck_report, testing.backward_report,
                   testing.mode_report, testing.same_objects):
        namespace = {}
        exec(Probe(helper).source, namespace)
        assert set(namespace) - {"__builtins__"} == {helper.__name__}


NOTEBOOK_FOR_HELPERS = '''
import copy
import torch
from torch import nn


class Stack(nn.Module):
    def __init__(self, detach=False):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(3, 3) for _ in range(2))
        self.bn, self.drop, self.detach = nn.BatchNorm1d(3), nn.Dropout(0.5), detach

    def forward(self, x):
        h = self.layers[0](x)
        return self.drop(self.bn(self.layers[1](h.detach() if self.detach else h)))


def scaled_in_place(x):
    y = torch.sigmoid(x)
    y.mul_(2)
    return y


def first_layer(model, copy_it):
    return copy.deepcopy(model.layers[0]) if copy_it else model.layers[0]
'''


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["bwrap"])
def test_the_probe_side_helpers_answer_from_a_sandboxed_student_process(tmp_path, backend):
    """Shipped with @probe(uses=[...]) into a real student process, each helper's report crosses
    the wire as plain data, and the judge-side check decides on it."""
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend
    from grader.testing import (backward_report, expect_backward_ok, expect_gradcheck, expect_keys,
                                expect_modes, expect_param_grads, expect_same_objects,
                                gradcheck_report, mode_report, parameter_grads, same_objects)

    @probe(uses=[parameter_grads, gradcheck_report, backward_report, mode_report, same_objects])
    def everything(ns, x, detach, copy_it):
        torch.manual_seed(0)                  # the judge builds its own models under these seeds
        model = ns.Stack(detach)
        grads, modes = parameter_grads(model, x), mode_report(model, x, [1, 2, 3, 4])
        torch.manual_seed(1)
        return {"grads": grads, "modes": modes,
                "gradcheck": gradcheck_report(ns.Stack().layers[0].double(), [x[:1]]),
                "backward": backward_report(ns.scaled_in_place, [x]),
                "keys": list(model.state_dict()),
                "same": same_objects({"what it returned": (model.layers[0],
                                                           ns.first_layer(model, copy_it))})}

    work = tmp_path / "work"
    work.mkdir(mode=0o777)
    work.chmod(0o777)
    session = StudentSession(resolve_backend(backend), LaunchSpec(workdir=work), cell_timeout=30,
                             notebook_timeout=60, probe_timeout=20)
    x = SECRET[:, :1].repeat(2, 3) / 1000
    try:
        assert session.run_notebook([{"index": 0, "source": NOTEBOOK_FOR_HELPERS}]).status == "ok"
        right = session.probe(everything.name, everything.source,
                              {"x": x, "detach": False, "copy_it": False})
        wrong = session.probe(everything.name, everything.source,
                              {"x": x, "detach": True, "copy_it": True})
    finally:
        session.close()
    judge = {}                                    # the judge's own models, from the same code
    exec(NOTEBOOK_FOR_HELPERS, judge)
    torch.manual_seed(0)
    model = judge["Stack"]()
    grads, modes = parameter_grads(model, x), mode_report(model, x, [1, 2, 3, 4])
    torch.manual_seed(1)
    layer = judge["Stack"]().layers[0].double()
    names = [f"layers.{i}.{kind}" for i in range(2) for kind in ("weight", "bias")]
    got = expect_param_grads(right["grads"], names, what="Stack")
    for name, g in zip(grads["names"], grads["grads"]):
        if name in got:
            tensors_close(got[name], g, name=name)
    assert "no gradient reached Stack's parameter(s) `layers.0.weight`, `layers.0.bias`" in message(
        expect_param_grads, wrong["grads"], names, what="Stack")
    expect_gradcheck(right["gradcheck"], [x[:1]], layer, what="the first layer")
    assert "modified by an inplace operation" in message(expect_backward_ok, right["backward"],
                                                         what="scaled_in_place")
    expect_modes(right["modes"], modes, what="Stack", dropout=True, batchnorm=True)
    expect_keys(right["keys"], names + ["bn.weight", "bn.bias", "bn.running_mean",
                                        "bn.running_var", "bn.num_batches_tracked"])
    expect_same_objects(right["same"], ["what it returned"], what="first_layer")
    assert "what it returned is a Linear that is not the model's own object" in message(
        expect_same_objects, wrong["same"], ["what it returned"], what="first_layer")


FIXTURE_MODULE = '''
import pytest
from grader.testing import question


@pytest.fixture
def table():
    yield [1, 2, 3]


@question("{first}", points=1)
def test_{name}_first(student, table):
    assert table == [1, 2, 3]


@question("{second}", points=1)
def test_{name}_second(student, table):
    assert len(table) == 3
'''


def test_a_warm_suite_run_for_some_questions_leaves_pytest_ready_for_the_next_run(tmp_path):
    """Tests with fixtures of their own go through pytest's setup state, whose teardown is told
    which test comes next: in a run of some questions that must be the next one that runs, or
    the next run starts with "previous item was not torn down properly"."""
    from grader.judge import plugin

    for name, first, second in (("a", "q2", "q1"), ("b", "q2", "q1")):
        (tmp_path / f"test_{name}.py").write_text(FIXTURE_MODULE.format(name=name, first=first,
                                                                        second=second))

    class Session:
        device = "cpu"

    key = f"fixtures-{tmp_path}"
    for questions in (frozenset({"q1"}), None, frozenset({"q2"}), frozenset({"q1"}), None):
        outcomes = plugin.run(tmp_path, Session(), "seed", warm_key=key, questions=questions)
        want = {"q1": {"test_a_second", "test_b_second"}, "q2": {"test_a_first", "test_b_first"}}
        names = set().union(*(want[q] for q in (questions or want)))
        assert {o.name: o.outcome for o in outcomes} == {n: "passed" for n in names}, questions


def test_suites_whose_files_share_a_name_are_each_read_from_their_own_folder(tmp_path):
    """Two assignments' `test_q1.py` in one process (a service's worker grades several): a warm
    suite, a collection and a cold run of the other each read their own file."""
    from grader.judge import plugin

    suites = {}
    for name, points in (("one", 1), ("two", 3)):
        d = tmp_path / name / "tests"
        d.mkdir(parents=True)
        (d / "test_q1.py").write_text(
            "from grader.testing import question\n\n\n"
            f"@question('q1', points={points})\ndef test_{name}(student):\n    assert True\n")
        suites[name] = d

    class Session:
        device = "cpu"

    warm = plugin.run(suites["one"], Session(), "seed", warm_key=f"one-{tmp_path}")
    assert [(o.name, o.points) for o in warm] == [("test_one", 1)]
    assert [(o.name, o.points) for o in plugin.collect(suites["two"])] == [("test_two", 3)]
    cold = plugin.run(suites["two"], Session(), "seed")
    assert [(o.name, o.outcome) for o in cold] == [("test_two", "passed")]
    warm_two = plugin.run(suites["two"], Session(), "seed", warm_key=f"two-{tmp_path}")
    assert [(o.name, o.points) for o in warm_two] == [("test_two", 3)]
    again = plugin.run(suites["one"], Session(), "seed", warm_key=f"one-{tmp_path}")
    assert [(o.name, o.outcome) for o in again] == [("test_one", "passed")]
