"""The wire format between the trusted judge and the sandboxed student process.

A frame is ``u32 header length | JSON header | blob 0 | blob 1 | ...``; the header lists the blob
lengths under ``"$blobs"``.  Values are JSON with tagged nodes for what JSON cannot say:

    {"$tuple": [...]}                      a tuple
    {"$dict": [[key, value], ...]}         a dict (keys: str, int, float, bool or None)
    {"$tensor": {"dtype", "shape", "blob", "requires_grad", "kind"}}   raw little-endian bytes
    {"$dtype": "float32"}  {"$size": [2, 3]}
    {"$object": "TypeName"}                something that is not plain data (never reconstructed)

Nothing is ever unpickled: tensors are rebuilt from bytes with a whitelisted dtype, everything
else is JSON.  This module runs on both sides and imports only the standard library (torch lazily),
so the student process needs nothing else.  The student side captures the functions it uses at
import time, before any student code runs, so monkeypatching torch or builtins later cannot change
how values are encoded.
"""

from __future__ import annotations

import json
import math
import struct

MAX_HEADER_BYTES = 16 << 20
MAX_BLOB_BYTES = 64 << 20
MAX_DEPTH = 48
MAX_NODES = 200_000

_HEADER = struct.Struct(">I")

DTYPES = (
    "float32", "float64", "float16", "bfloat16", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "bool",
)

# Captured before any student code can run in this interpreter.
_type, _len, _isinstance, _str, _list = type, len, isinstance, str, list
_PLAIN_KEYS = (str, int, float, bool, type(None))


class EncodeError(ValueError):
    """A value that is not plain data (raised on the side that encodes)."""


def _torch():
    import torch

    return torch


class _TorchRefs:
    """Tensor functions taken from torch once, so later patches cannot reach them."""

    def __init__(self) -> None:
        torch = _torch()
        T = torch.Tensor
        self.Tensor, self.Parameter, self.Size, self.dtype = T, torch.nn.Parameter, torch.Size, torch.dtype
        self.detach, self.to, self.contiguous = T.detach, T.to, T.contiguous
        self.reshape, self.view, self.numpy = T.reshape, T.view, T.numpy
        self.resolve_conj, self.resolve_neg = T.resolve_conj, T.resolve_neg
        self.is_sparse = lambda t: t.layout != torch.strided
        self.uint8 = torch.uint8
        self.no_torch_function = torch._C.DisableTorchFunctionSubclass
        self.names = {getattr(torch, n): n for n in DTYPES}


_refs: _TorchRefs | None = None


def capture_torch() -> None:
    """Take the tensor functions the encoder uses now (call before running untrusted code)."""
    global _refs
    _refs = _TorchRefs()


def _tensor_bytes(t) -> bytes:
    r = _refs
    with r.no_torch_function():
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
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise EncodeError("the value is nested too deeply")
        if self.nodes > MAX_NODES:
            raise EncodeError("the value has too many elements")
        t = _type(v)
        if v is None or t is bool or t is int or t is str:
            return v
        if t is float:
            return v if math.isfinite(v) else {"$float": repr(v)}
        if t is list:
            return [self.encode(x, depth + 1) for x in v]
        if t is tuple:
            return {"$tuple": [self.encode(x, depth + 1) for x in v]}
        if t is dict:
            return {"$dict": [[self._key(k), self.encode(x, depth + 1)] for k, x in v.items()]}
        return self._torch_value(v, t, depth)

    def _key(self, k):
        if _type(k) not in _PLAIN_KEYS:
            raise EncodeError(f"a dict key of type {_type(k).__name__} is not plain data")
        return self.encode(k)

    def _torch_value(self, v, t, depth):
        r = _refs
        if r is None:
            return {"$object": t.__name__}
        if t is r.Size:
            return {"$size": [int(x) for x in tuple.__iter__(v)]}
        if t is r.dtype:
            name = r.names.get(v)
            return {"$dtype": name} if name else {"$object": f"dtype {v}"}
        if t is r.Tensor or t is r.Parameter:
            return self._tensor(v, "Parameter" if t is r.Parameter else "Tensor")
        return {"$object": t.__name__}

    def _tensor(self, v, kind):
        r = _refs
        with r.no_torch_function():
            if r.is_sparse(v):
                raise EncodeError("sparse tensors cannot be returned; use .to_dense()")
            name = r.names.get(v.dtype)
            if name is None:
                raise EncodeError(f"tensors of dtype {v.dtype} cannot be returned")
            shape = [int(x) for x in v.shape]
            requires_grad = bool(v.requires_grad)
        data = _tensor_bytes(v)
        self.size += _len(data)
        if self.size > MAX_BLOB_BYTES:
            raise EncodeError("the returned tensors are too large")
        self.blobs.append(data)
        return {"$tensor": {"dtype": name, "shape": shape, "blob": _len(self.blobs) - 1,
                            "requires_grad": requires_grad, "kind": kind}}


def encode_frame(header: dict, data: dict | None = None) -> bytes:
    """Serialise a message: `header` is JSON as is, each item of `data` is encoded as plain data."""
    if _refs is None and data:
        capture_torch()
    enc = _Encoder()
    header = dict(header)
    for key, value in (data or {}).items():
        header[key] = enc.encode(value)
    header["$blobs"] = [_len(b) for b in enc.blobs]
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return b"".join([_HEADER.pack(_len(raw)), raw, *enc.blobs])


class UnsupportedValue:
    """Stands in, on the judge side, for a student object that is not plain data."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object from the notebook>"


def decode_value(node, blobs: list[bytes], depth: int = 0):
    """Rebuild plain data from a decoded header node; raises ProtocolError-compatible ValueError."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    t = type(node)
    if node is None or t in (bool, int, float, str):
        return node
    if t is list:
        return [decode_value(x, blobs, depth + 1) for x in node]
    if t is not dict or len(node) != 1:
        raise ValueError("malformed value node")
    (tag, body), = node.items()
    if tag == "$tuple":
        return tuple(decode_value(x, blobs, depth + 1) for x in _as_list(body))
    if tag == "$dict":
        return {_hashable(decode_value(k, blobs, depth + 1)): decode_value(x, blobs, depth + 1)
                for k, x in (_pair(p) for p in _as_list(body))}
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise ValueError("malformed float")
        return float(body)
    if tag == "$object":
        return UnsupportedValue(str(body))
    if tag == "$dtype":
        if body not in DTYPES:
            raise ValueError("unknown dtype")
        return getattr(_torch(), body)
    if tag == "$size":
        return _torch().Size(_ints(body))
    if tag == "$tensor":
        return _decode_tensor(body, blobs)
    raise ValueError(f"unknown tag {tag!r}")


def _as_list(x) -> list:
    if type(x) is not list:
        raise ValueError("expected a list")
    return x


def _pair(p):
    if type(p) is not list or len(p) != 2:
        raise ValueError("malformed dict item")
    return p


def _hashable(k):
    if type(k) not in (str, int, float, bool, type(None)):
        raise ValueError("dict key is not plain data")
    return k


def _ints(xs) -> list[int]:
    xs = _as_list(xs)
    if len(xs) > 64 or any(type(x) is not int or x < 0 for x in xs):
        raise ValueError("malformed shape")
    return xs


def _decode_tensor(body, blobs):
    torch = _torch()
    if type(body) is not dict or body.get("dtype") not in DTYPES:
        raise ValueError("malformed tensor")
    dtype = getattr(torch, body["dtype"])
    shape = _ints(body.get("shape"))
    index = body.get("blob")
    if type(index) is not int or not 0 <= index < len(blobs):
        raise ValueError("tensor refers to a missing blob")
    data = blobs[index]
    numel = math.prod(shape)
    itemsize = dtype.itemsize
    if numel * itemsize != len(data):
        raise ValueError("tensor byte length does not match its shape")
    np_dtype = _numpy_dtypes().get(body["dtype"])
    if np_dtype is not None:
        import numpy

        t = torch.from_numpy(numpy.frombuffer(bytearray(data), dtype=np_dtype).reshape(shape))
    else:
        t = torch.frombuffer(bytearray(data), dtype=dtype) if data else torch.empty(0, dtype=dtype)
        t = t.reshape(shape)
    if body.get("requires_grad") is True and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    if body.get("kind") == "Parameter":
        return torch.nn.Parameter(t.detach(), requires_grad=t.requires_grad)
    return t


_NUMPY_DTYPES: dict | None = None


def _numpy_dtypes() -> dict:
    """numpy's dtype for each wire dtype it has (numpy rebuilds small tensors faster than torch);
    empty where numpy is missing."""
    global _NUMPY_DTYPES
    if _NUMPY_DTYPES is None:
        try:
            import numpy
        except ImportError:
            _NUMPY_DTYPES = {}
        else:
            _NUMPY_DTYPES = {name: numpy.dtype(name) for name in DTYPES if name != "bfloat16"}
    return _NUMPY_DTYPES


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


def read_frame(read_exact) -> tuple[dict, list[bytes]]:
    """Read one frame with `read_exact(n) -> bytes`; returns (header, blobs).  Raises ValueError."""
    (n,) = _HEADER.unpack(read_exact(_HEADER.size))
    if n > MAX_HEADER_BYTES:
        raise ValueError("message header is too large")
    header = json.loads(read_exact(n).decode("utf-8"))
    if type(header) is not dict:
        raise ValueError("message header is not an object")
    sizes = header.pop("$blobs", [])
    if type(sizes) is not list or any(type(s) is not int or s < 0 for s in sizes):
        raise ValueError("malformed blob list")
    if sum(sizes) > MAX_BLOB_BYTES:
        raise ValueError("message data is too large")
    return header, [read_exact(s) for s in sizes]
