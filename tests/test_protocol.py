"""The wire format: plain data round-trips, anything else is refused or reduced to a type name."""

import json
import struct

import pytest
import torch

from grader import protocol


def roundtrip(value):
    frame = protocol.encode_frame({"op": "t"}, {"value": value})
    view = memoryview(frame)
    pos = 0

    def read_exact(n):
        nonlocal pos
        chunk = bytes(view[pos:pos + n])
        pos += n
        return chunk

    header, payload = protocol.read_frame(read_exact)
    return payload.decode()["value"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16,
                                   torch.int64, torch.int8, torch.uint8, torch.bool, torch.complex64])
def test_tensors_roundtrip_bit_exact(dtype):
    t = (torch.randn(3, 4) * 10).to(dtype)
    back = roundtrip(t)
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_views_scalars_and_empty_tensors():
    base = torch.arange(12.0).reshape(3, 4)
    z = torch.complex(base, -base)
    for t in (base.T, base[:, 1], torch.tensor(2.5), torch.empty(0, 3), base.expand(2, 3, 4),
              z.conj(), z.conj().imag, base.bfloat16().T):       # lazy conjugate and negative bits
        back = roundtrip(t)
        assert back.shape == t.shape and back.dtype == t.dtype and torch.equal(back, t.resolve_conj().resolve_neg())
        assert not back.is_conj() and not back.is_neg()
        back.zero_()                                               # rebuilt tensors are the judge's own


def test_plain_data_keeps_its_shape():
    value = {"a": [1, 2.5, None, True, "s"], "t": (1, (2, 3)), 3: "int key",
             "size": torch.Size([2, 3]), "dtype": torch.float16, "nan": float("nan"),
             "inf": [float("inf"), -float("inf")], "e": {}, "empty": ((), [])}
    back = roundtrip(value)
    assert back["a"] == [1, 2.5, None, True, "s"] and back["t"] == (1, (2, 3)) and back[3] == "int key"
    assert back["size"] == torch.Size([2, 3]) and back["dtype"] is torch.float16
    assert back["nan"] != back["nan"] and back["inf"] == [float("inf"), -float("inf")]
    assert back["e"] == {} and back["empty"] == ((), [])
    assert [type(x) for x in back["a"]] == [int, float, type(None), bool, str] and list(back) == list(value)


def test_dicts_that_look_like_tags_stay_dicts():
    """A student's dict whose one key is a tag name comes back as that dict, never as the tagged value."""
    value = [{"$tensor": ["float32", [1], 0, False, False]}, {"$tuple": [1]}, {"$x": 1, "y": 2},
             {None: 1, 1.5: 2, True: 3}, {"$object": "Linear"}]
    back = roundtrip(value)
    assert back == value and [type(b) for b in back] == [dict] * 5


def test_requires_grad_and_parameters_are_reported():
    p = torch.nn.Parameter(torch.ones(2))
    back = roundtrip({"p": p, "g": torch.ones(2, requires_grad=True) * 2})
    assert type(back["p"]) is torch.nn.Parameter
    assert back["g"].requires_grad and type(back["g"]) is torch.Tensor


def test_objects_are_never_rebuilt():
    class Sneaky:
        def __eq__(self, other):
            return True

    class Sub(torch.Tensor):
        pass

    back = roundtrip([Sneaky(), torch.nn.Linear(2, 2), torch.ones(2).as_subclass(Sub), 3 + 0j])
    assert [type(b).__name__ for b in back] == ["UnsupportedValue"] * 4
    assert [b.type_name for b in back] == ["Sneaky", "Linear", "Sub", "complex"]
    assert back[0] != 1


def test_bad_keys_and_deep_nesting_are_refused():
    with pytest.raises(protocol.EncodeError, match="dict key"):
        protocol.encode_frame({}, {"v": {(1, 2): 3}})
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(protocol.EncodeError, match="nested too deeply"):
        protocol.encode_frame({}, {"v": deep})


@pytest.mark.parametrize("node,blobs,match", [
    ({"$tensor": ["float32", [2], 0, False, False]}, [b"\0" * 7], "byte length"),
    ({"$tensor": ["object", [1], 0, False, False]}, [b"\0"], "malformed tensor"),
    ({"$tensor": {"dtype": "float32", "shape": [1], "blob": 0}}, [b"\0" * 4], "malformed tensor"),
    ({"$tensor": ["float32", [1], 3, False, False]}, [], "missing blob"),
    ({"$tensor": ["float32", [-1], 0, False, False]}, [b""], "malformed shape"),
    ({"$tensor": ["float32", [1.5], 0, False, False]}, [b""], "malformed shape"),
    ({"$pickle": "gASVAAAA"}, [], "unknown tag"),
    ({"$dict": [[[1], 2]]}, [], "not plain data"),
    ({"$dict": [[1, 2, 3]]}, [], "malformed dict item"),
    ({"$dtype": "object"}, [], "unknown dtype"),
    ({"$size": "12"}, [], "expected a list"),
])
def test_malformed_values_fail_closed(node, blobs, match):
    with pytest.raises(ValueError, match=match):
        protocol.loads(json.dumps({"value": [1, node]}), blobs)


def test_malformed_frames_fail_closed():
    """Whatever bytes the student process writes, the judge gets a ValueError, never another error."""
    def frame(header: bytes, data: bytes = b"", blobs=()):
        raw = struct.pack(">III", len(header), len(data), len(blobs)) + struct.pack(f">{len(blobs)}I", *map(len, blobs))
        raw += header + data + b"".join(blobs)
        pos = [0]

        def read_exact(n):
            out = raw[pos[0]:pos[0] + n]
            pos[0] += n
            return out
        header, payload = protocol.read_frame(read_exact)
        return payload.decode()

    assert frame(b'{"op": "x"}', b'{"value": [1, NaN]}')["value"][0] == 1
    for header, data, match in [(b"\xff", b"", "malformed message header"), (b"[1]", b"", "not an object"),
                                (b"{}", b"[1]", "data is not an object"), (b"{}", b"{\"v\": ", "malformed data"),
                                (b"{}", b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not an object"),
                                (b"{}", b'{"v": 1' + b"0" * 5000 + b"}", "digits")]:
        with pytest.raises(ValueError, match=match):
            frame(header, data)


def test_oversized_frames_are_refused_before_reading():
    huge = struct.pack(">III", protocol.MAX_HEADER_BYTES + 1, 0, 0)
    with pytest.raises(ValueError, match="header is too large"):
        protocol.read_frame(lambda n, data=iter([huge]): next(data))
    many = struct.pack(">III", 2, 0, protocol.MAX_BLOBS + 1)
    with pytest.raises(ValueError, match="too many blobs"):
        protocol.read_frame(lambda n, data=iter([many]): next(data))
    raw = struct.pack(">III", 2, 0, 1) + struct.pack(">I", protocol.MAX_BLOB_BYTES + 1) + b"{}"
    pos = [0]

    def read_exact(n):
        out = raw[pos[0]:pos[0] + n]
        pos[0] += n
        return out

    with pytest.raises(ValueError, match="too large"):
        protocol.read_frame(read_exact)


def test_buffered_reader_splits_a_stream_into_frames_whatever_the_chunks():
    import random

    values = [{"a": torch.arange(float(i)), "b": [torch.ones(2, i), "x" * i]} for i in range(1, 8)]
    stream = b"".join(protocol.encode_frame({"op": "t", "i": i}, {"value": v}) for i, v in enumerate(values))
    rng = random.Random(7)
    for _ in range(20):                      # the socket hands over arbitrary pieces of the stream
        pos, calls = 0, []

        def recv(n):
            nonlocal pos
            take = min(n, rng.randint(1, 300))
            calls.append(take)
            chunk, pos = stream[pos:pos + take], pos + take
            return chunk

        reader = protocol.BufferedReader(recv)
        for i, v in enumerate(values):
            header, payload = protocol.read_frame(reader.read_exact)
            back = payload.decode()["value"]
            assert header["i"] == i and torch.equal(back["a"], v["a"]) and back["b"][1] == v["b"][1]
        with pytest.raises(EOFError):
            reader.read_exact(1)
    assert len(stream) < 1 << 16
    calls = []
    whole = protocol.BufferedReader(lambda n: calls.append(n) or stream)   # everything arrived at once
    for _ in values:
        protocol.read_frame(whole.read_exact)
    assert len(calls) == 1                  # one system call for the seven frames and their tensors


@pytest.mark.slow
def test_a_probe_source_crosses_once_and_a_runner_without_it_asks_for_it(tmp_path):
    """The judge sends a probe's source only where the runner may lack it; a runner that lacks a
    probe the judge thought it had (a zygote that could not define it ahead) gets it on request."""
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend

    source = "def times(ns, y):\n    return ns.x * y\n"
    other = "def times(ns, y):\n    return ns.x + y\n"        # the same name, another probe
    spec = LaunchSpec(workdir=tmp_path, probes=(("times", source),))     # claimed defined ahead
    backend = resolve_backend("none")
    launch = backend.launch

    def as_if_forked(spec):           # a zygote's child, which did not define the probe after all
        proc = launch(spec)
        proc.warm = True
        return proc

    backend.launch = as_if_forked
    session = StudentSession(backend, spec, cell_timeout=10, notebook_timeout=20, probe_timeout=10)
    sent = []
    real_send = session._send
    session._send = lambda header, data=None: sent.append(dict(header)) or real_send(header, data)
    try:
        assert session.run_notebook([{"index": 0, "source": "x = 5"}]).status == "ok"
        answers = [session.probe("times", source, {"y": 2}), session.probe("times", source, {"y": 3}),
                   session.probe("times", other, {"y": 3}), session.probe("times", other, {"y": 4})]
    finally:
        session.close()
    assert answers == [10, 15, 8, 9]
    probes = [h for h in sent if h["op"] == "probe"]
    assert ["source" in h for h in probes] == [False, True, False, True, False]
    assert probes[0]["key"] == probes[1]["key"] != probes[3]["key"]


def test_a_process_started_afresh_gets_each_probe_source_with_its_first_call(tmp_path):
    """Only a zygote's child may have probes defined ahead: any other gets the source at once,
    without the round trip of a no_source answer."""
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend

    source = "def times(ns, y):\n    return ns.x * y\n"
    spec = LaunchSpec(workdir=tmp_path, probes=(("times", source),))
    session = StudentSession(resolve_backend("none"), spec, cell_timeout=10, notebook_timeout=20,
                             probe_timeout=10)
    sent = []
    real_send = session._send
    session._send = lambda header, data=None: sent.append(dict(header)) or real_send(header, data)
    try:
        assert session.run_notebook([{"index": 0, "source": "x = 5"}]).status == "ok"
        answers = [session.probe("times", source, {"y": 2}), session.probe("times", source, {"y": 3})]
    finally:
        session.close()
    assert answers == [10, 15]
    assert ["source" in h for h in sent if h["op"] == "probe"] == [True, False]


def _frame(header: dict, data: bytes = b"", blobs=()) -> bytes:
    h = json.dumps(header).encode()
    return (struct.pack(">III", len(h), len(data), len(blobs)) + struct.pack(f">{len(blobs)}I", *map(len, blobs))
            + h + data + b"".join(blobs))


def _read(raw: bytes):
    pos = [0]

    def read_exact(n):
        out = raw[pos[0]:pos[0] + n]
        pos[0] += n
        return out
    return protocol.read_frame(read_exact)


def test_one_blob_named_by_many_tensors_costs_its_size_per_name():
    """Every tensor rebuilt is charged to the budget before it is allocated, aliases included."""
    blob = bytes(1 << 20)
    names = json.dumps({"value": [{"$tensor": ["uint8", [1 << 20], 0, False, False]}] * 44}).encode()
    _, payload = _read(_frame({"op": "result", "id": 1}, names, [blob]))
    with pytest.raises(protocol.AnswerTooLarge):
        payload.decode(budget=10 << 20)
    assert 10 << 20 < payload.cost <= (11 << 20) + len(names)       # stopped at the eleventh copy
    value = payload.decode(budget=64 << 20)["value"]
    assert len(value) == 44 and payload.cost == (44 << 20) + len(names)
    value[0][0] = 1
    assert value[1][0] == 0                                           # each a copy of the judge's own


def test_a_tensor_with_wrong_typed_flags_is_malformed():
    for flags in (["yes", False], [False, 1], [None, None]):
        with pytest.raises(ValueError, match="malformed tensor"):
            protocol.loads(json.dumps({"value": {"$tensor": ["float32", [1], 0, *flags]}}), [b"\0" * 4])


FORGE = '''
import gc, json, struct, sys
from grader.student import runner as _runner
_r = next(o for o in gc.get_objects() if type(o) is _runner.Runner)

def _answer(header, payload, snapshot):
    h = dict(HEADER, id=header["id"]) if "id" not in HEADER else HEADER
    h = json.dumps(h).encode()
    blobs = BLOBS
    _r.sock.sendall(struct.pack(">III", len(h), len(DATA), len(blobs))
                    + struct.pack(f">{len(blobs)}I", *map(len, blobs)) + h + DATA + b"".join(blobs))

_r.answer_probe = _answer
'''
TENSOR = json.dumps({"value": {"$tensor": ["float32", [1], 0, False, False]}}).encode()


def _forging_session(tmp_path, header: dict, data: bytes, blobs=(), **limits):
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend

    session = StudentSession(resolve_backend("none"), LaunchSpec(workdir=tmp_path), cell_timeout=10,
                             notebook_timeout=20, probe_timeout=10, **limits)
    cell = f"HEADER = {header!r}\nDATA = {data!r}\nBLOBS = {list(blobs)!r}\n" + FORGE
    run = session.run_notebook([{"index": 1, "source": cell}])
    assert run.status == "ok", run.cells
    return session


@pytest.mark.parametrize("header,data", [
    ({"op": "result", "id": "1"}, b'{"value": 1}'),
    ({"op": ["result"]}, b'{"value": 1}'),
    ({"op": "result", "compute": {"s": 1}}, b'{"value": 1}'),
    ({"op": "result", "compute": True}, b'{"value": 1}'),
    ({"op": "error", "kind": 7, "message": "x"}, b""),
    ({"op": "error", "kind": "student", "message": ["x"]}, b""),
    ({"op": "result"}, b'{}'),
    ({"op": "result"}, b'{"value": 1, "extra": 2}'),
    ({"op": "result"}, json.dumps({"value": {"$tensor": ["object", [1], 0, False, False]}}).encode()),
    ({"op": "result"}, json.dumps({"value": {"$tensor": ["float32", [2 ** 70], 0, False, False]}}).encode()),
    ({"op": "result"}, json.dumps({"value": {"$tensor": ["float32", [1], 0, "no", False]}}).encode()),
])
@pytest.mark.slow
def test_a_forged_answer_with_a_wrong_typed_field_stops_the_student_as_crashed(tmp_path, header, data):
    from grader.errors import StudentUnavailable

    session = _forging_session(tmp_path, header, data, [b"\0" * 4] if b"$tensor" in data else [])
    try:
        with pytest.raises(StudentUnavailable, match="malformed"):
            session.probe("p", "def p(ns):\n    return 1\n", {})
    finally:
        session.close()
    assert session.dead_status == "crashed" and "malformed" in session.dead_reason


@pytest.mark.slow
def test_answers_are_counted_against_one_budget_per_submission(tmp_path):
    from grader.errors import StudentUnavailable

    names = json.dumps({"value": [{"$tensor": ["uint8", [1 << 20], 0, False, False]}] * 3}).encode()
    session = _forging_session(tmp_path, {"op": "result"}, names, [bytes(1 << 20)], answer_bytes=10 << 20)
    try:
        assert [len(session.probe("p", "def p(ns):\n    return 1\n", {})) for _ in range(3)] == [3, 3, 3]
        with pytest.raises(StudentUnavailable, match="too large"):       # 12 MiB in all: over 10
            session.probe("p", "def p(ns):\n    return 1\n", {})
    finally:
        session.close()
    assert session.dead_status == "crashed" and "answers to the tests were too large" in session.dead_reason
    assert session.answers == 3


@pytest.mark.slow
def test_the_probes_of_a_submission_share_one_deadline(tmp_path):
    """Each probe is well within its own timeout; together they pass the overall judging
    deadline, and the submission is stopped as `timeout` there."""
    from grader.errors import StudentUnavailable
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend

    session = StudentSession(resolve_backend("none"), LaunchSpec(workdir=tmp_path), cell_timeout=10,
                             notebook_timeout=20, probe_timeout=30, judge_timeout=4)
    slow = "def slow(ns):\n    import time\n    time.sleep(2.5)\n    return 1\n"
    try:
        assert session.run_notebook([{"index": 1, "source": "x = 1"}]).status == "ok"
        assert session.probe("slow", slow, {}) == 1
        with pytest.raises(StudentUnavailable, match="in all"):
            session.probe("slow", slow, {})
        with pytest.raises(StudentUnavailable):
            session.probe("slow", slow, {})
    finally:
        session.close()
    assert session.dead_status == "timeout" and "took longer than 4 s in all" in session.dead_reason
    assert session.probe_time < 10


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["none", "bwrap"])
def test_run_settings_come_in_the_run_message_and_the_environment_cannot_raise_them(tmp_path, backend):
    """The output kept per cell, torch's threads and the address-space limit are the judge's, sent
    with the cells: a notebook that rewrites the environment it was started with changes none."""
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, Limits, resolve_backend

    work = tmp_path / "work"
    work.mkdir(mode=0o777)
    work.chmod(0o777)
    spec = LaunchSpec(workdir=work, output_kb=3, torch_threads=1, limits=Limits(memory_mb=1536),
                      unsafe_no_cgroups=True)
    session = StudentSession(resolve_backend(backend), spec, cell_timeout=30, notebook_timeout=60, probe_timeout=10)
    cells = [{"index": 1, "source": "import os\nos.environ.update(GRADER_OUTPUT_KB='99999', "
                                     "GRADER_TORCH_THREADS='8', GRADER_RLIMIT_AS_MB='999999')"},
             {"index": 2, "source": "import sys, resource, torch\ncap = sys.stdout.cap\n"
                                    "threads = torch.get_num_threads()\n"
                                    "soft_as = resource.getrlimit(resource.RLIMIT_AS)[0]"}]
    try:
        run = session.run_notebook(cells)
        assert run.status == "ok", run.cells
        seen = session.probe("p", "def p(ns):\n    return [ns.cap, ns.threads, ns.soft_as]\n", {})
    finally:
        session.close()
    cap, threads, soft_as = seen
    assert cap == 3 * 1024 and threads == 1
    assert 0 < soft_as < (1536 << 20) + (8 << 30)       # what torch mapped, plus 1536 MiB
