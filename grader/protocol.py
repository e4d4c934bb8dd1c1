"""The wire format between the trusted judge and the sandboxed student process.

A frame is ``u32 header length | u32 data length | u32 blob count | u32 blob lengths... | header
JSON | data JSON | blob 0 | blob 1 | ...``.  The header is control (op, id, status...) and is read
as plain JSON; the data section is a JSON object of named values (a probe's kwargs, its result)
in which JSON objects with one ``$`` key stand for what JSON cannot say:

    {"$tuple": [...]}                      a tuple
    {"$dict": [[key, value], ...]}         a dict with a key that is not a str, or starts with "$"
    {"$tensor": [dtype, shape, blob, requires_grad, is_parameter]}   raw little-endian bytes
    {"$dtype": "float32"}  {"$size": [2, 3]}
    {"$object": "TypeName"}                something that is not plain data (never reconstructed)

Any other dict is a JSON object, lists are arrays, and non-finite floats are JSON's NaN and
Infinity extension, so the C JSON parser rebuilds plain data itself and only tagged objects cost
a Python call.  Nothing is ever unpickled: tensors are rebuilt from bytes with a whitelisted
dtype, everything else is JSON.  This module runs on both sides and imports only the standard
library (torch and numpy lazily), so the student process needs nothing else.  Both sides capture
the functions they use at import time, before any student code runs, so monkeypatching torch or
builtins later cannot change how values are encoded or rebuilt.
"""

from __future__ import annotations

import json
import math
import struct
from enum import StrEnum

from grader.errors import AnswerTooLarge, EncodeError  # noqa: F401 - raised here, caught by both sides


class Op(StrEnum):
    """A frame's `op`: judge -> runner (RUN, PROBE, EXIT) and runner -> judge (the rest)."""

    READY = "ready"                   # the runner is up: {torch, device, python}
    RUN = "run"                       # the cells, cell_timeout and the run settings
    CELL_START = "cell_start"
    CELL_DONE = "cell_done"           # {index, status, error, duration}
    NOTEBOOK_DONE = "notebook_done"   # {patched}
    PROBE = "probe"                   # {id, name, source?, timeout} + the kwargs
    RESULT = "result"                 # {id, compute} + the value
    ERROR = "error"                   # {id, kind, message, where?}
    EXIT = "exit"


class ErrorKind(StrEnum):
    """Why a probe returned no value (an ERROR frame's `kind`)."""

    MISSING_NAME = "missing_name"     # the notebook does not define a name the probe used
    TIMEOUT = "timeout"
    ENCODE = "encode"                 # the value is not plain data
    STUDENT = "student"               # the student's code raised
    NO_SOURCE = "no_source"           # the runner lacks the probe: send its source


class CellStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"

MAX_HEADER_BYTES = 16 << 20
MAX_BLOB_BYTES = 64 << 20
MAX_BLOBS = 1 << 16
MAX_DEPTH = 48
MAX_NODES = 200_000

_PREFIX = struct.Struct(">III")

DTYPES = (
    "float32", "float64", "float16", "bfloat16", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "bool",
)

# Captured before any student code can run in this interpreter.
_type, _len, _str = type, len, str
_SCALARS = frozenset({str, int, float, bool, type(None)})
_PLAIN_KEYS = _SCALARS
_json_dumps, _json_decoder = json.dumps, json.JSONDecoder


def _torch():
    import torch

    return torch


class _TorchRefs:
    """Tensor functions taken from torch (and numpy) once, so later patches cannot reach them."""

    def __init__(self) -> None:
        torch = _torch()
        T = torch.Tensor
        self.Tensor, self.Parameter, self.Size, self.dtype = T, torch.nn.Parameter, torch.Size, torch.dtype
        self.detach, self.to, self.contiguous = T.detach, T.to, T.contiguous
        self.reshape, self.view, self.numpy = T.reshape, T.view, T.numpy
        self.resolve_conj, self.resolve_neg = T.resolve_conj, T.resolve_neg
        self.requires_grad_ = T.requires_grad_
        self.is_floating_point, self.is_complex = T.is_floating_point, T.is_complex
        self.strided, self.uint8 = torch.strided, torch.uint8
        self.no_torch_function = torch._C.DisableTorchFunctionSubclass
        self.names = {getattr(torch, n): n for n in DTYPES}
        self.dtypes = {n: getattr(torch, n) for n in DTYPES}
        self.frombuffer, self.empty, self.from_numpy = torch.frombuffer, torch.empty, torch.from_numpy
        try:
            import numpy
        except ImportError:
            self.np_frombuffer, self.np_dtypes = None, {}
        else:      # numpy rebuilds small tensors faster than torch.frombuffer
            self.np_frombuffer = numpy.frombuffer
            self.np_dtypes = {name: numpy.dtype(name) for name in DTYPES if name != "bfloat16"}


_refs: _TorchRefs | None = None


def capture_torch() -> None:
    """Take the tensor functions the encoder and decoder use now (call before running untrusted code)."""
    global _refs
    _refs = _TorchRefs()


def _tensor_bytes(t) -> bytes:
    """The tensor's elements in C order (call with torch functions of subclasses disabled)."""
    r = _refs
    t = r.detach(t)
    try:    # a CPU tensor of a dtype numpy has, without a conjugate or negative bit: one C-order copy
        return r.numpy(t).tobytes()
    except (TypeError, RuntimeError):
        pass
    t = r.to(t, "cpu")
    t = r.resolve_neg(r.resolve_conj(t))
    t = r.contiguous(r.reshape(t, (-1,)))
    return r.numpy(r.view(t, r.uint8)).tobytes()


class _Encoder:
    def __init__(self) -> None:
        self.blobs: list[bytes] = []
        self.size = 0
        self.nodes = 0

    def encode(self, v, depth: int = 0):
        t = _type(v)
        if t in _SCALARS:
            return v
        if depth >= MAX_DEPTH:
            raise EncodeError("the value is nested too deeply")
        if t is list or t is tuple or t is dict:
            self.nodes += _len(v) + 1
            if self.nodes > MAX_NODES:
                raise EncodeError("the value has too many elements")
            d = depth + 1
            if t is list:
                return [x if _type(x) in _SCALARS else self.encode(x, d) for x in v]
            if t is tuple:
                return {"$tuple": [x if _type(x) in _SCALARS else self.encode(x, d) for x in v]}
            for k in v:
                if _type(k) is not str or k[:1] == "$":
                    return {"$dict": [[self._key(k), x if _type(x) in _SCALARS else self.encode(x, d)]
                                      for k, x in v.items()]}
            return {k: x if _type(x) in _SCALARS else self.encode(x, d) for k, x in v.items()}
        return self._torch_value(v, t)

    @staticmethod
    def _key(k):
        if _type(k) not in _PLAIN_KEYS:
            raise EncodeError(f"a dict key of type {_type(k).__name__} is not plain data")
        return k

    def _torch_value(self, v, t):
        r = _refs
        if r is None:
            return {"$object": t.__name__}
        if t is r.Size:
            return {"$size": [int(x) for x in tuple.__iter__(v)]}
        if t is r.dtype:
            name = r.names.get(v)
            return {"$dtype": name} if name else {"$object": f"dtype {v}"}
        if t is r.Tensor or t is r.Parameter:
            return self._tensor(v, t is r.Parameter)
        return {"$object": t.__name__}

    def _tensor(self, v, is_parameter: bool):
        r = _refs
        if v.layout is not r.strided:
            raise EncodeError("sparse tensors cannot be returned; use .to_dense()")
        name = r.names.get(v.dtype)
        if name is None:
            raise EncodeError(f"tensors of dtype {v.dtype} cannot be returned")
        shape = list(v.shape)        # an exact Tensor's: Python ints
        requires_grad = v.requires_grad
        data = _tensor_bytes(v)
        self.size += _len(data)
        if self.size > MAX_BLOB_BYTES:
            raise EncodeError("the returned tensors are too large")
        self.blobs.append(data)
        return {"$tensor": [name, shape, _len(self.blobs) - 1, requires_grad, is_parameter]}


def encode_frame(header: dict, data: dict | None = None) -> bytes:
    """Serialise a message: `header` is JSON as is (control), each item of `data` is encoded as plain data."""
    raw_header = _json_dumps(header, separators=(",", ":")).encode("utf-8")
    blobs: list[bytes] = []
    raw_data = b""
    if data:
        if _refs is None:
            capture_torch()
        enc = _Encoder()
        with _refs.no_torch_function():        # a tensor subclass's hooks never run while encoding
            encoded = {_str(k): enc.encode(v) for k, v in data.items()}
        raw_data = _json_dumps(encoded, separators=(",", ":")).encode("utf-8")
        blobs = enc.blobs
    sizes = struct.pack(f">{_len(blobs)}I", *(_len(b) for b in blobs))
    return b"".join([_PREFIX.pack(_len(raw_header), _len(raw_data), _len(blobs)), sizes, raw_header, raw_data, *blobs])


def probe_key(name: str, source: str) -> str:
    """A probe's identity on the wire: the runner keeps each probe it defined under this key, so
    the judge sends a probe's source once (or never, where the zygote defined it ahead)."""
    key = _probe_keys.get((name, source))
    if key is None:
        import hashlib

        key = _probe_keys[(name, source)] = hashlib.sha256(f"{name}\0{source}".encode()).hexdigest()[:24]
    return key


_probe_keys: dict = {}


class UnsupportedValue:
    """Stands in, on the judge side, for a student object that is not plain data."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object from the notebook>"


class Payload:
    """The data section of a received frame, decoded when asked (`decode`).  `cost` is what the
    last decode rebuilt: the JSON text's bytes plus each tensor's bytes every time one was made."""

    __slots__ = ("raw", "blobs", "cost")

    def __init__(self, raw: bytes, blobs: list[bytes]) -> None:
        self.raw, self.blobs, self.cost = raw, blobs, 0

    def decode(self, budget: int | None = None) -> dict:
        """The named values; raises ValueError (ProtocolError-compatible) on malformed data, and
        AnswerTooLarge (a ValueError) before rebuilding more than `budget` bytes."""
        if not self.raw:
            return {}
        tags = _Tags(self.blobs, budget)
        try:
            value = _loads(self.raw, tags)
        finally:
            self.cost = tags.used
        if _type(value) is not dict:
            raise ValueError("message data is not an object")
        return value


def loads(raw: bytes | str, blobs: list[bytes], budget: int | None = None):
    """Rebuild plain data from its encoded JSON text and the frame's blobs; raises ValueError, and
    AnswerTooLarge before rebuilding more than `budget` bytes (aliases of one blob count each time)."""
    return _loads(raw, _Tags(blobs, budget))


def _loads(raw: bytes | str, tags: "_Tags"):
    if _refs is None:
        capture_torch()
    tags.charge(_len(raw))
    decoder = _json_decoder(object_hook=tags.hook)
    try:
        return decoder.decode(raw.decode("utf-8") if _type(raw) is bytes else raw)
    except RecursionError:
        raise ValueError("value nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed data: {exc}") from None


class _Tags:
    """The JSON parser's hook for objects: a one-key object whose key starts with `$` is a tagged
    value, rebuilt here; any other object is a plain dict.  Every byte rebuilt is charged to the
    budget before it is allocated, so one blob named by many tensors costs its size per name."""

    def __init__(self, blobs: list[bytes], budget: int | None = None) -> None:
        self.blobs, self.budget, self.used = blobs, budget, 0

    def charge(self, n: int) -> None:
        self.used += n
        if self.budget is not None and self.used > self.budget:
            raise AnswerTooLarge(f"more than {self.budget} bytes of data")

    def hook(self, obj: dict):
        if _len(obj) != 1:
            return obj
        tag = next(iter(obj))
        if tag[:1] != "$":
            return obj
        body = obj[tag]
        if tag == "$tensor":
            return self._tensor(body)
        if tag == "$tuple":
            return tuple(_as_list(body))
        if tag == "$dict":
            return {_hashable(k): x for k, x in (_pair(p) for p in _as_list(body))}
        if tag == "$object":
            return UnsupportedValue(str(body))
        if tag == "$dtype":
            if body not in DTYPES:
                raise ValueError("unknown dtype")
            return _refs.dtypes[body]
        if tag == "$size":
            return _refs.Size(_ints(body))
        raise ValueError(f"unknown tag {tag!r}")

    def _tensor(self, body):
        r = _refs
        if _type(body) is not list or _len(body) != 5 or body[0] not in DTYPES:
            raise ValueError("malformed tensor")
        name, shape, index, requires_grad, is_parameter = body
        shape = _ints(shape)
        if _type(index) is not int or not 0 <= index < _len(self.blobs):
            raise ValueError("tensor refers to a missing blob")
        if _type(requires_grad) is not bool or _type(is_parameter) is not bool:
            raise ValueError("malformed tensor flags")
        data = self.blobs[index]
        dtype = r.dtypes[name]
        if math.prod(shape) * dtype.itemsize != _len(data):
            raise ValueError("tensor byte length does not match its shape")
        self.charge(_len(data))
        np_dtype = r.np_dtypes.get(name)
        if np_dtype is not None:
            t = r.from_numpy(r.np_frombuffer(bytearray(data), dtype=np_dtype).reshape(shape))
        else:
            t = r.frombuffer(bytearray(data), dtype=dtype) if data else r.empty(0, dtype=dtype)
            t = r.reshape(t, shape)
        if requires_grad is True and (r.is_floating_point(t) or r.is_complex(t)):
            r.requires_grad_(t, True)
        if is_parameter is True:
            return r.Parameter(r.detach(t), requires_grad=t.requires_grad)
        return t


def _as_list(x) -> list:
    if type(x) is not list:
        raise ValueError("expected a list")
    return x


def _pair(p):
    if type(p) is not list or len(p) != 2:
        raise ValueError("malformed dict item")
    return p


def _hashable(k):
    if type(k) not in _PLAIN_KEYS:
        raise ValueError("dict key is not plain data")
    return k


def _ints(xs) -> list[int]:
    xs = _as_list(xs)
    if len(xs) > 64 or any(type(x) is not int or x < 0 for x in xs):
        raise ValueError("malformed shape")
    return xs


class BufferedReader:
    """`read_exact` over a stream: each system call takes whatever has arrived (at least 64 KiB
    asked for), so a frame with many tensors costs a read or two, not one per piece.  `recv(n)`
    returns b"" at EOF."""

    def __init__(self, recv) -> None:
        self._recv = recv
        self._buf = bytearray()
        self._pos = 0

    def read_exact(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n:
            if self._pos:
                del self._buf[:self._pos]
                self._pos = 0
            chunk = self._recv(max(n - len(self._buf), 1 << 16))
            if not chunk:
                raise EOFError("the other side closed the connection")
            self._buf += chunk
        out = bytes(self._buf[self._pos:self._pos + n])
        self._pos += n
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        return out


def read_frame(read_exact) -> tuple[dict, Payload]:
    """Read one frame with `read_exact(n) -> bytes`; returns (header, payload).  Raises ValueError."""
    n_header, n_data, n_blobs = _PREFIX.unpack(read_exact(_PREFIX.size))
    if n_header + n_data > MAX_HEADER_BYTES:
        raise ValueError("message header is too large")
    if n_blobs > MAX_BLOBS:
        raise ValueError("message has too many blobs")
    sizes = struct.unpack(f">{n_blobs}I", read_exact(4 * n_blobs)) if n_blobs else ()
    if sum(sizes) > MAX_BLOB_BYTES:
        raise ValueError("message data is too large")
    try:
        header = json.loads(read_exact(n_header).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"malformed message header: {exc}") from None
    if type(header) is not dict:
        raise ValueError("message header is not an object")
    raw = read_exact(n_data) if n_data else b""
    return header, Payload(raw, [read_exact(s) for s in sizes])
