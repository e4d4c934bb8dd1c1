"""Builds custom_model.ipynb, the otter-assign master notebook of this assignment.

    .venv/bin/python solutions/custom_model/build_notebook.py

Each question below is written once (explanation, solution, public tests) and turned into otter's
raw-cell layout.  The points are checked against assignment.toml so the two never drift apart.
Then `otter assign custom_model.ipynb dist` makes the student and autograder notebooks.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "custom_model.ipynb"

CONFIG = """\
# ASSIGNMENT CONFIG
name: custom_model
requirements: null
export_cell: false
generate: false
run_tests: false
init_cell: true
check_all_cell: false
environment: null
files: []
tests:
  files: false"""

INTRO = """\
# Custom `nn.Module`s, hooks and `apply`

In this assignment you build your own modules and look inside them:

* how an `nn.Module` registers parameters (파라미터 등록), submodules (서브모듈) and buffers (버퍼),
* how to list them and find them by name,
* how hooks (훅) run your own code during the forward and backward pass,
* how `apply` walks through every module of a model, e.g. for weight initialisation (가중치 초기화).

**How this notebook is graded**

* Every question says exactly which names to define (classes, functions, their arguments and what
  they return). Keep those names and signatures: the grader calls them.
* The public tests under each answer check one small, fixed example. The grader runs hidden tests
  with other sizes, random inputs and other models, so write code that works in general, not just
  for the example.
* Each question is graded on its own: an error in one answer does not cost you the others, and no
  question's hidden tests call a function or class that another question asks for.
* Unless a question says otherwise, a float tensor is compared with the grader's reference as
  `torch.allclose(result, reference, rtol=1e-4, atol=1e-5)`, and it must have the reference's shape
  and dtype.
* Where a question asks for a Python `int`, it means exactly that type: a `numpy.int64` or a tensor
  is not accepted (`int(...)` or `.item()` gives an `int`).
* Where a question says to compute something with a particular function (Question 1's
  `torch.addmm`), the grader checks that your code calls it, as well as the values.
* No function or `forward` may change the tensors it is given in place (for example with `mul_` or
  `-=`) unless the question says so: they belong to the caller.
* Your code may print (for debugging) anywhere: the checks do not look at what it prints.
* Before you submit, restart the kernel and run all cells from top to bottom.
* You may import the standard library, `numpy`, `torch` and `matplotlib` (for your own plots); do
  not install or import other packages."""

SETUP = """\
import torch
import torch.nn as nn

torch.manual_seed(0)"""


def q(name, points, explanation, solution, tests):
    return {"name": name, "points": points, "explanation": explanation,
            "solution": solution, "tests": tests}


QUESTIONS = []

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q1", 3, [r"""
## Question 1: your own linear layer (`nn.Parameter`, `torch.addmm`)

`nn.Linear(in_features, out_features)` computes $y = x W^\top + b$. Here you build the same layer
yourself.

A tensor becomes a learnable parameter of a module (파라미터 등록) when you wrap it in
`nn.Parameter` and assign it to an attribute inside `__init__`, after `super().__init__()`.
A plain tensor attribute is *not* registered: it is missing from `parameters()`, an optimizer
never updates it, and `state_dict()` does not save it.

`nn.Linear` stores its weight with shape `(out_features, in_features)`, one row per output, and
multiplies by the transpose. Use the same layout, so your layer's `state_dict` could be loaded into
an `nn.Linear` and back.

`torch.addmm(input, mat1, mat2)` computes `input + mat1 @ mat2` in one call (add + matrix
multiply); `input` is broadcast, so a bias of shape `(out_features,)` works.

`extra_repr` is the method `nn.Module` calls to fill in the brackets when a module is printed: it
must **return** a string (not print it).
""", r"""
**Implement** `class MyLinear(nn.Module)`:

* `__init__(self, in_features, out_features, bias=True)`
  * store `self.in_features` and `self.out_features` (the two ints);
  * `self.weight`: an `nn.Parameter` of shape `(out_features, in_features)`, initialised with
    `torch.randn(out_features, in_features)`;
  * if `bias` is true, `self.bias`: an `nn.Parameter` of shape `(out_features,)` filled with zeros;
    if `bias` is false, no bias parameter at all: `self.register_parameter("bias", None)` (this is
    what `nn.Linear` does; `self.bias` is then `None`);
  * create `weight` before `bias`, so `named_parameters()` lists `weight` first.
* `forward(self, x)`: `x` has shape `(N, in_features)`; return the tensor of shape
  `(N, out_features)` equal to `x @ weight.T + bias`, computed with **one call of `torch.addmm`**
  (`torch.addmm(...)` or the tensor method `.addmm(...)`; the grader checks that forward calls it
  exactly once when there is a bias). Without a bias, return `x @ self.weight.T`. Any `N`,
  `in_features` and `out_features` of 1 or more must work.
* `extra_repr(self)`: return the string `in_features=I, out_features=O, bias=B`, for example
  `"in_features=4, out_features=3, bias=True"`, so that `print(MyLinear(4, 3))` shows
  `MyLinear(in_features=4, out_features=3, bias=True)` just like `nn.Linear`.
"""], """\
class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        # BEGIN SOLUTION
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        if self.bias is None:
            return x @ self.weight.T
        return torch.addmm(self.bias, x, self.weight.T)
        # END SOLUTION

    def extra_repr(self):
        # BEGIN SOLUTION
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    layer = MyLinear(4, 3)
    x = torch.ones(2, 4)
    y = layer(x)
    text = repr(layer)
    no_bias = MyLinear(4, 3, bias=False)
assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
assert torch.allclose(y, x @ layer.weight.T + layer.bias, rtol=1e-4, atol=1e-5)
assert text == "MyLinear(in_features=4, out_features=3, bias=True)"
assert no_bias.bias is None"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q2", 3, [r"""
## Question 2: containers (`nn.ModuleList`, `nn.ModuleDict`)

A module finds its submodules (서브모듈) through its attributes. When you assign an `nn.Module`
to `self.something`, it is registered; when you put modules into a **plain Python `list` or
`dict`**, PyTorch cannot see inside it: their parameters are missing from `parameters()` (so the
optimizer never trains them), from `state_dict()`, and `.to(device)` does not move them.

PyTorch's containers register what they hold:

* `nn.Sequential(m1, m2, ...)`: runs the modules one after another in its own `forward`;
* `nn.ModuleList([m1, m2, ...])`: a list of modules; you write the loop in `forward` yourself
  (모듈 리스트);
* `nn.ModuleDict({"name": m, ...})`: a dict of modules, looked up by key.

Inside a container, modules are named by position (`layers.0`, `layers.1`, ...) or by key
(`heads.cls`).
""", r"""
**Implement** two classes.

`class Stack(nn.Module)`:

* `__init__(self, n_layers, width)`: `self.layers` is an `nn.ModuleList` holding `n_layers`
  **separate** `nn.Linear(width, width)` layers (create a new layer each time; do not put the same
  layer object in the list several times);
* `forward(self, x)`: for each layer in order, `x = torch.relu(layer(x))`; return the final `x`.

`class Heads(nn.Module)`:

* `__init__(self, in_features, head_sizes)`: `head_sizes` is a dict `{name: out_features}`.
  `self.heads` is an `nn.ModuleDict` with one `nn.Linear(in_features, out_features)` per entry,
  under the same name and in the same order as `head_sizes` (the order of its keys as given, not
  sorted);
* `forward(self, x, name)`: return the output of the head called `name` for input `x`.
"""], """\
class Stack(nn.Module):
    def __init__(self, n_layers, width):
        super().__init__()
        # BEGIN SOLUTION
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(n_layers)])
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x
        # END SOLUTION


class Heads(nn.Module):
    def __init__(self, in_features, head_sizes):
        super().__init__()
        # BEGIN SOLUTION
        self.heads = nn.ModuleDict({name: nn.Linear(in_features, size) for name, size in head_sizes.items()})
        # END SOLUTION

    def forward(self, x, name):
        # BEGIN SOLUTION
        return self.heads[name](x)
        # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    stack = Stack(3, 5)
    y = stack(torch.randn(2, 5))
assert isinstance(stack.layers, nn.ModuleList)
assert len(list(stack.parameters())) == 6          # 3 layers x (weight, bias)
assert y.shape == (2, 5)""", """\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    heads = Heads(4, {"cls": 3, "box": 4})
    y = heads(torch.randn(2, 4), "box")
assert isinstance(heads.heads, nn.ModuleDict)
assert [n for n, _ in heads.named_parameters()] == [
    "heads.cls.weight", "heads.cls.bias", "heads.box.weight", "heads.box.bias"]
assert y.shape == (2, 4)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q3", 3, [r"""
## Question 3: buffers (`register_buffer`, persistent or not)

Some tensors belong to a module but are **not learned**: a running average, a mask, a counter.
Register them as buffers (버퍼) with `self.register_buffer(name, tensor)`:

|                                  | parameter | buffer | buffer, `persistent=False` | plain tensor attribute |
|----------------------------------|:---------:|:------:|:--------------------------:|:----------------------:|
| in `parameters()` (trained)      | yes       | no     | no                         | no                     |
| in `named_buffers()`             | no        | yes    | yes                        | no                     |
| moved by `.to(...)`, `.double()` | yes       | yes    | yes                        | **no**                 |
| saved in `state_dict()`          | yes       | yes    | **no**                     | no                     |

`nn.BatchNorm1d` keeps its running statistics this way. A non-persistent buffer is for state that
can be recomputed and should not be saved in checkpoints.

After `register_buffer("mean", t)`, `self.mean` reads the buffer, and assigning a tensor to
`self.mean` replaces the buffer's value (it stays a buffer). `self.training` is `True` after
`model.train()` and `False` after `model.eval()`.
""", r"""
**Implement** `class RunningMean(nn.Module)`, which keeps a running mean of its inputs and
subtracts it:

* `__init__(self, num_features, momentum=0.1)`: store `self.momentum`; register a **persistent**
  buffer `mean` and then a **non-persistent** buffer `last_mean`, both `torch.zeros(num_features)`.
  The module has no parameters.
* `forward(self, x)`: `x` has shape `(N, num_features)`.
  * In training mode (`self.training` is true): let `batch_mean = x.detach().mean(dim=0)` (computing
    it under `torch.no_grad()` works as well: the buffers must not carry autograd history); set
    `last_mean` to `batch_mean` and `mean` to `(1 - momentum) * mean + momentum * batch_mean`.
  * In eval mode: change no buffer.
  * In both modes return `x - self.mean` (with the mean *after* the update), a new tensor that
    gradients flow through back to `x`; do not change `x` itself.
  * It must work for any `N` and `num_features` of 1 or more, and for float64 inputs after
    `model.double()` (which converts the buffers).

So `state_dict()` has exactly one key, `mean`, while `named_buffers()` lists `mean` and
`last_mean`.
"""], """\
class RunningMean(nn.Module):
    def __init__(self, num_features, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        # BEGIN SOLUTION
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("last_mean", torch.zeros(num_features), persistent=False)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        if self.training:
            batch_mean = x.detach().mean(dim=0)
            self.last_mean = batch_mean
            self.mean = (1 - self.momentum) * self.mean + self.momentum * batch_mean
        return x - self.mean
        # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    rm = RunningMean(3, momentum=0.5)
assert len(list(rm.parameters())) == 0
assert [n for n, _ in rm.named_buffers()] == ["mean", "last_mean"]
assert list(rm.state_dict().keys()) == ["mean"]""", """\
import contextlib, io
x = torch.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    rm = RunningMean(3, momentum=0.5)
    out = rm(x)
assert torch.allclose(x, torch.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]))   # x itself is unchanged
assert torch.allclose(rm.last_mean, torch.tensor([2.0, 3.0, 4.0]), rtol=1e-4, atol=1e-5)
assert torch.allclose(rm.mean, torch.tensor([1.0, 1.5, 2.0]), rtol=1e-4, atol=1e-5)
assert torch.allclose(out, x - rm.mean, rtol=1e-4, atol=1e-5)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    _ = rm.eval()               # `_ =` keeps the returned module from being printed
    _ = rm(x)
assert torch.allclose(rm.mean, torch.tensor([1.0, 1.5, 2.0]), rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q4", 2, [r"""
## Question 4: listing what a model contains (`named_*`)

Every module can list what it contains, as `(name, object)` pairs:

* `named_children()`: only the direct submodules, one level down (자식 모듈);
* `named_modules()`: the module itself (name `""`) and every submodule at every depth, parents
  before their children, with dotted names such as `"2.1"`;
* `named_parameters()`: every parameter at every depth, e.g. `"2.1.weight"`;
* `named_buffers()`: every buffer at every depth, e.g. `"1.running_mean"`.

Note that `state_dict().keys()` is not the same as the parameter names: it also contains the
(persistent) buffers.
""", r"""
**Implement** four functions. Each takes any `nn.Module` and returns a **list of str**, in the
order PyTorch's own method gives them:

* `child_names(model)`: the names of the direct children (`named_children`);
* `module_names(model)`: the names of all submodules at every depth (`named_modules`), **without**
  the model itself (leave out the empty name `""`);
* `parameter_names(model)`: the names of all parameters (`named_parameters`);
* `buffer_names(model)`: the names of all buffers (`named_buffers`), persistent or not: a buffer
  registered with `persistent=False` is missing from `state_dict()` but is still a buffer.

For a module without submodules (a single `nn.Linear`, say), `child_names` and `module_names`
return empty lists.

The example model in the test below is
`nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Sequential(nn.ReLU(), nn.Linear(8, 2)))`.
"""], """\
def child_names(model):
    # BEGIN SOLUTION
    return [name for name, _ in model.named_children()]
    # END SOLUTION


def module_names(model):
    # BEGIN SOLUTION
    return [name for name, _ in model.named_modules() if name != ""]
    # END SOLUTION


def parameter_names(model):
    # BEGIN SOLUTION
    return [name for name, _ in model.named_parameters()]
    # END SOLUTION


def buffer_names(model):
    # BEGIN SOLUTION
    return [name for name, _ in model.named_buffers()]
    # END SOLUTION""", ["""\
import contextlib, io
example = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Sequential(nn.ReLU(), nn.Linear(8, 2)))
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    answers = [child_names(example), module_names(example), parameter_names(example), buffer_names(example)]
assert answers[0] == ["0", "1", "2"]
assert answers[1] == ["0", "1", "2", "2.0", "2.1"]
assert answers[2] == ["0.weight", "0.bias", "1.weight", "1.bias", "2.1.weight", "2.1.bias"]
assert answers[3] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q5", 2, [r"""
## Question 5: finding things by dotted path (`get_submodule`, `get_parameter`, `get_buffer`)

The names from Question 4 are paths: `"2.1.weight"` means "child `2`, its child `1`, its parameter
`weight`". Three methods follow such a path and return **the object itself** (not a copy):

* `model.get_submodule("2.1")` → the module;
* `model.get_parameter("2.1.weight")` → the `nn.Parameter`;
* `model.get_buffer("1.running_mean")` → the buffer tensor.

The empty path `""` means the model itself: `model.get_submodule("")` is `model`.

`state_dict()[path]` is **not** the same: it gives a detached tensor that shares memory with the
parameter, but it is a different object, not the `nn.Parameter` (it has no gradient, and an
optimizer given it would not train the model).

`p.numel()` is the number of values in a tensor (`torch.zeros(3, 4).numel()` is 12).
""", r"""
**Implement** two functions:

* `lookup(model, path, kind)`: return the object at dotted `path` in `model`; `kind` is
  `"module"`, `"parameter"` or `"buffer"`. The result must be the very same object that is inside
  the model (`get_submodule` / `get_parameter` / `get_buffer` give it); the empty path `""` with
  kind `"module"` gives `model` itself. For any other `kind`, raise a `ValueError`.
* `count_params(model, path)`: the total number of values (`numel`) in all parameters of the
  submodule at `path`, including the parameters of its own submodules, as a Python `int` (0 for a
  module without parameters). `path` may be `""` (the whole model).
"""], """\
def lookup(model, path, kind):
    # BEGIN SOLUTION
    if kind == "module":
        return model.get_submodule(path)
    if kind == "parameter":
        return model.get_parameter(path)
    if kind == "buffer":
        return model.get_buffer(path)
    raise ValueError(f"unknown kind {kind!r}: use 'module', 'parameter' or 'buffer'")
    # END SOLUTION


def count_params(model, path):
    # BEGIN SOLUTION
    return sum(p.numel() for p in model.get_submodule(path).parameters())
    # END SOLUTION""", ["""\
import contextlib, io
example = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Sequential(nn.ReLU(), nn.Linear(8, 2)))
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    found = [lookup(example, "2.1", "module"), lookup(example, "2.1.bias", "parameter"),
             lookup(example, "1.running_mean", "buffer"), lookup(example, "", "module")]
    counts = [count_params(example, "2"), count_params(example, "")]
assert found[0] is example[2][1]
assert found[1] is example[2][1].bias
assert found[2] is example[1].running_mean
assert found[3] is example
assert type(counts[0]) is int and counts[0] == 8 * 2 + 2
assert counts[1] == (4 * 8 + 8) + (8 + 8) + (8 * 2 + 2)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q6", 3, [r"""
## Question 6: forward hooks (훅)

A hook is a function you give to PyTorch, and PyTorch calls it for you at a fixed moment, here
around a module's `forward`:

* **forward pre-hook**, `module.register_forward_pre_hook(hook)`: called *before* `forward` as
  `hook(module, args)`, where `args` is the **tuple** of positional inputs. Return `None` to keep
  the inputs, or a new tuple to replace them.
* **forward hook**, `module.register_forward_hook(hook)`: called *after* `forward` as
  `hook(module, args, output)`. Return `None` to keep the output, or a new value to replace it.
  Computing a new value without returning it changes nothing.

Both `register_*` methods return a handle (핸들, a `RemovableHandle`); `handle.remove()`
unregisters the hook again.

Do not change the input tensor in place (e.g. with `mul_`) inside a hook: that tensor belongs to
the caller. Build a new tensor instead.
""", r"""
**Implement** two functions. Each registers one hook on `module` and **returns the handle** that
registration gives you:

* `add_input_scale(module, factor)`: a forward pre-hook that multiplies the **first** positional
  input by `factor` (a float) and passes every other positional input on unchanged, however many
  there are. For example, with the hook on an `nn.Linear`, `module(x)` returns what it would return
  for `factor * x`; on a module called as `module(x1, x2)` it gives the result for
  `(factor * x1, x2)`, and as `module(a, b, c)` the result for `(factor * a, b, c)`. The input
  keeps its dtype (float32 or float64).
* `add_output_clamp(module, low, high)`: a forward hook that replaces the module's output by
  `output.clamp(low, high)`.
"""], """\
def add_input_scale(module, factor):
    # BEGIN SOLUTION
    def hook(module, args):
        return (args[0] * factor,) + tuple(args[1:])

    return module.register_forward_pre_hook(hook)
    # END SOLUTION


def add_output_clamp(module, low, high):
    # BEGIN SOLUTION
    def hook(module, args, output):
        return output.clamp(low, high)

    return module.register_forward_hook(hook)
    # END SOLUTION""", ["""\
import contextlib, io
lin = nn.Linear(3, 2)
x = torch.randn(4, 3)
plain = lin(x)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    handle = add_input_scale(lin, 2.0)
    scaled = lin(x)
    handle.remove()
    after = lin(x)
assert torch.allclose(scaled, nn.functional.linear(2.0 * x, lin.weight, lin.bias), rtol=1e-4, atol=1e-5)
assert torch.allclose(after, plain, rtol=1e-4, atol=1e-5)""", """\
import contextlib, io
lin = nn.Linear(3, 2)
x = torch.randn(4, 3)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    handle = add_output_clamp(lin, -0.1, 0.1)
    clamped = lin(x)
    handle.remove()
    after = lin(x)
reference = nn.functional.linear(x, lin.weight, lin.bias)
assert torch.allclose(clamped, reference.clamp(-0.1, 0.1), rtol=1e-4, atol=1e-5)
assert torch.allclose(after, reference, rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q7", 3, [r"""
## Question 7: backward hooks (역전파 훅)

Hooks also run during `backward()`:

* **module full backward hook**, `module.register_full_backward_hook(hook)`: called as
  `hook(module, grad_input, grad_output)` once the gradients with respect to the module's inputs
  are computed. `grad_output` is a tuple with the gradient of the loss with respect to each output
  of the module, `grad_input` the same for each positional input (`None` for an input that does
  not require grad). Return `None` to leave the gradients unchanged.
  The older `register_backward_hook` is deprecated and **wrong** for most modules: it only sees
  the last operation inside the module, so its `grad_input` is not the gradient with respect to
  the module's input. Always use `register_full_backward_hook`.
* **tensor hook**, `tensor.register_hook(hook)`: called as `hook(grad)` when the gradient of that
  one tensor (for example a parameter) is computed. Return `None` to keep it, or a new tensor to
  use instead: this is how you can scale or clip the gradient of a single parameter.

Both return a handle with `.remove()`. The gradient tensors PyTorch passes to a hook belong to
PyTorch; to keep one, store a copy: `g.detach().clone()`.
""", r"""
**Implement** two functions. Each returns the handle of the hook it registers:

* `record_grads(module, log)`: `log` is a list. Register a **full** backward hook on `module` that,
  at every backward pass through the module, appends the tuple `(grad_input[0], grad_output[0])`
  to `log`, each as a `.detach().clone()` copy, or `None` where PyTorch gives `None` (it does for
  `grad_input[0]` when the module's input does not require grad). The hook must not change any
  gradient (return `None`).
* `scale_grad(param, factor)`: register a tensor hook on `param` that multiplies its gradient by
  `factor`, so that after `backward()` `param.grad` is `factor` times what it would be without the
  hook. Other tensors' gradients stay as they are.
"""], """\
def record_grads(module, log):
    # BEGIN SOLUTION
    def hook(module, grad_input, grad_output):
        g_in, g_out = grad_input[0], grad_output[0]
        log.append((None if g_in is None else g_in.detach().clone(),
                    None if g_out is None else g_out.detach().clone()))

    return module.register_full_backward_hook(hook)
    # END SOLUTION


def scale_grad(param, factor):
    # BEGIN SOLUTION
    return param.register_hook(lambda grad: grad * factor)
    # END SOLUTION""", ["""\
import contextlib, io
lin = nn.Linear(3, 2)
x = torch.randn(4, 3, requires_grad=True)
log = []
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    handle = record_grads(lin, log)
    lin(x).sum().backward()
    handle.remove()
assert len(log) == 1
g_in, g_out = log[0]
assert torch.allclose(g_out, torch.ones(4, 2), rtol=1e-4, atol=1e-5)   # d(sum)/d(output) is all ones
assert torch.allclose(g_in, x.grad, rtol=1e-4, atol=1e-5)   # gradient with respect to the module's input""", """\
import contextlib, io
w = nn.Parameter(torch.ones(3))
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    handle = scale_grad(w, 10.0)
    (2 * w).sum().backward()
    handle.remove()
assert torch.allclose(w.grad, torch.full((3,), 20.0), rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q8", 2, [r"""
## Question 8: removing hooks with their handles

Every call of `register_forward_hook` adds one more hook, even if it is the same function on the
same module: register twice and it runs twice. Hooks also stay until you remove them. The handle
returned by the registration is how you remove one: `handle.remove()`. Removing the same handle a
second time does nothing.

A common pattern is a small helper object that owns its handle: attaching it somewhere else first
removes the old hook, so it is never registered twice.
""", r"""
**Complete** `class OutputRecorder` (a plain Python class, not an `nn.Module`; `__init__` is
given):

* `attach(self, module)`: if the recorder is already attached (to this or another module), first
  remove that hook. Then register a forward hook on `module` that appends `output.detach()` to
  `self.outputs` and returns `None` (the module's output must stay unchanged), and keep its handle
  in `self.handle`.
* `remove(self)`: remove the hook if there is one and set `self.handle` back to `None`. Calling
  `remove()` when nothing is attached does nothing.

`self.outputs` keeps everything recorded so far; neither method clears it.
"""], """\
class OutputRecorder:
    def __init__(self):
        self.outputs = []
        self.handle = None

    def attach(self, module):
        # BEGIN SOLUTION
        self.remove()

        def hook(module, args, output):
            self.outputs.append(output.detach())

        self.handle = module.register_forward_hook(hook)
        # END SOLUTION

    def remove(self):
        # BEGIN SOLUTION
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
        # END SOLUTION""", ["""\
import contextlib, io
lin = nn.Linear(3, 2)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    rec = OutputRecorder()
    rec.attach(lin)
    rec.attach(lin)             # attaching again must not record twice
    y = lin(torch.randn(1, 3))
    recorded = list(rec.outputs)
    rec.remove()
    _ = lin(torch.randn(1, 3))
assert len(recorded) == 1 and torch.equal(recorded[0], y.detach())
assert len(rec.outputs) == 1    # removed: nothing more is recorded"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q9", 2, [r"""
## Question 9: weight initialisation with `apply` (가중치 초기화)

`model.apply(fn)` calls `fn(m)` once for **every** module `m` of the model: every submodule at
every depth, and the model itself. So `fn` only has to handle the one module it is given, usually
after checking its type with `isinstance(m, nn.Linear)`.

The functions in `nn.init` whose names end in `_` (`nn.init.xavier_uniform_`, `nn.init.zeros_`,
...) fill an existing tensor **in place** (without recording the operation for autograd) and return
it. That is what initialisation should do: keep the same `nn.Parameter` object and overwrite its
values, in the memory it already has.

Two other ways look similar but are not in place:

* creating a new `nn.Parameter` (`module.weight = nn.Parameter(...)`) replaces the parameter: an
  optimizer that was created earlier still holds the old one and would train a tensor the model
  no longer uses;
* assigning a new tensor to `.data` (`module.weight.data = torch.empty(...)`) keeps the same
  `nn.Parameter` object (an optimizer created earlier still trains it), but gives it new memory:
  any tensor that shared the old memory (a view such as `module.weight.detach()`, taken before)
  no longer sees the parameter's values, and `.data` accepts a tensor of any shape or dtype
  without a check.
""", r"""
**Implement** `init_weights(module)`, to be used as `model.apply(init_weights)`:

* if `module` is an `nn.Linear`: fill its weight in place with `nn.init.xavier_uniform_`, then, if
  it has a bias (`module.bias is not None`), fill the bias in place with `nn.init.zeros_`. The
  grader checks the values these draw (after the same `torch.manual_seed`) and that each parameter
  is the same object, in the same memory, as before;
* any other module: leave it unchanged.

It returns nothing. Look only at the module you are given (do not loop over its submodules
yourself: `apply` already visits them).
"""], """\
def init_weights(module):
    # BEGIN SOLUTION
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    # END SOLUTION""", ["""\
import contextlib, io
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
weight_before = net[0].weight
memory_before = net[0].weight.data_ptr()
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    _ = net.apply(init_weights)                    # apply returns the model itself
assert net[0].weight is weight_before              # same Parameter object, new values
assert net[0].weight.data_ptr() == memory_before   # in the same memory
assert torch.all(net[2].bias == 0)
bound = (6 / (4 + 8)) ** 0.5                       # xavier_uniform_ draws from [-bound, bound]
assert net[0].weight.abs().max() <= bound"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q10", 3, [r"""
## Question 10: the order of `apply`, and adding a parameter to every layer

`apply` visits the children **before** their parent: for each child (in order) it first applies
itself to that child's whole subtree, and calls `fn` on the module itself last. The model itself
is therefore the last call. This is the reverse of what you may expect from `named_modules()`,
which lists parents first.

To turn a module object back into its name, build a dict from `named_modules()` first:
`names = {m: name for name, m in model.named_modules()}` (modules can be dict keys).

A function passed to `apply` can also add things to modules: `m.register_parameter("gain", p)`
(or `m.gain = p` with `p` an `nn.Parameter`) adds a parameter to `m`, and from then on it appears
in `model.named_parameters()` as e.g. `"0.gain"` and in `state_dict()`.
""", r"""
**Implement** two functions:

* `apply_order(model)`: return the list of module names (as `named_modules()` names them; the model
  itself is `""`) in the order `model.apply` calls its function (the easiest way is to let
  `model.apply` record it). For a model without submodules it is `[""]`.
* `add_gain(model)`: give every `nn.Linear` in the model (the model itself included, if it is one;
  `model.apply` visits them all) a new parameter named `gain`: an `nn.Parameter` of shape
  `(out_features,)` filled with ones, with the same dtype and device as that layer's weight (so it
  still works after `model.double()`). Each layer gets its own new `gain`; other modules get
  nothing. It returns nothing.
"""], """\
def apply_order(model):
    # BEGIN SOLUTION
    names = {m: name for name, m in model.named_modules()}
    order = []
    model.apply(lambda m: order.append(names[m]))
    return order
    # END SOLUTION


def add_gain(model):
    # BEGIN SOLUTION
    def add(m):
        if isinstance(m, nn.Linear):
            gain = torch.ones(m.out_features, dtype=m.weight.dtype, device=m.weight.device)
            m.register_parameter("gain", nn.Parameter(gain))

    model.apply(add)
    # END SOLUTION""", ["""\
import contextlib, io
net = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.ReLU(), nn.Linear(8, 2)))
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    order = apply_order(net)
    add_gain(net)
assert order == ["0", "1.0", "1.1", "1", ""]
assert [n for n, _ in net.named_parameters()] == [
    "0.weight", "0.bias", "0.gain", "1.1.weight", "1.1.bias", "1.1.gain"]
assert torch.equal(net[1][1].gain, torch.ones(2))"""]))


# ---------------------------------------------------------------------------------------------
def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def build() -> nbformat.NotebookNode:
    raw, md, code = nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [raw(CONFIG), md(INTRO), code(SETUP)]
    for question in QUESTIONS:
        cells.append(raw(f"# BEGIN QUESTION\nname: {question['name']}\npoints: {question['points']}"))
        cells.extend(md(dedent(text)) for text in question["explanation"])
        cells += [raw("# BEGIN SOLUTION"), code(question["solution"]), raw("# END SOLUTION"),
                  raw("# BEGIN TESTS")]
        cells.extend(code(test) for test in question["tests"])
        cells += [raw("# END TESTS"), raw("# END QUESTION")]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:03d}"  # fixed ids: rebuilding without changes gives the same file
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def check_points() -> None:
    """The points here must be those of assignment.toml, question by question."""
    declared = tomllib.loads((HERE / "assignment.toml").read_text(encoding="utf-8"))["questions"]
    here = [(q["name"], q["points"]) for q in QUESTIONS]
    there = [(q["id"], q["points"]) for q in declared]
    if here != there:
        raise SystemExit(f"points differ from assignment.toml:\n  notebook: {here}\n  toml:     {there}")


if __name__ == "__main__":
    check_points()
    notebook = build()
    nbformat.validate(notebook)
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(HERE.parent.parent)} ({len(notebook.cells)} cells)")
