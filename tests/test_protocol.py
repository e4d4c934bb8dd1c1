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


def test_a_probe_source_crosses_once_and_a_runner_without_it_asks_for_it(tmp_path):
    """The judge sends a probe's source only where the runner may lack it; a runner that lacks a
    probe the judge thought it had (a zygote that could not define it ahead) gets it on request."""
    from grader.judge.session import StudentSession
    from grader.sandbox import LaunchSpec, resolve_backend

    source = "def times(ns, y):\n    return ns.x * y\n"
    other = "def times(ns, y):\n    return ns.x + y\n"        # the same name, another probe
    spec = LaunchSpec(workdir=tmp_path, probes=(("times", source),))     # claimed defined ahead
    session = StudentSession(resolve_backend("none"), spec, cell_timeout=10, notebook_timeout=20, probe_timeout=10)
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
