"""The authoring helpers: exact checks, and failure messages that never give the answer away."""

import pytest
import torch

from grader.protocol import UnsupportedValue
from grader.testing import (GradingFailure, Probe, assert_tensor, assert_type, expect, probe, question,
                            tensors_close, tensors_equal)

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
    tensors_equal(torch.tensor([float("nan")]), torch.tensor([float("nan")]))
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


def test_question_validates_its_arguments():
    with pytest.raises(TypeError):
        question("", points=1)
    with pytest.raises(TypeError):
        question("q1", points=-1)
    mark = question("q1", points=2).mark
    assert mark.args == ("q1",) and mark.kwargs == {"points": 2}
