# Every probe answered, through the runner's own encoder, with values of the wrong type: a list
# where the tests read a dict, a dict where they read a tensor.  The tests fail for the student;
# none of them is shown to the instructor as broken.
import gc
import json
import struct
from grader.student import runner as _runner

_r = next(o for o in gc.get_objects() if type(o) is _runner.Runner)


def _send(header, data=b"", blobs=()):
    h = json.dumps(header).encode()
    _r.sock.sendall(struct.pack(">III", len(h), len(data), len(blobs))
                    + struct.pack(f">{len(blobs)}I", *map(len, blobs)) + h + data + b"".join(blobs))
from grader import protocol as _protocol

_values = iter([{"y": 1}, [1, 2], [3], {"params": 1}])
_r.answer_probe = lambda header, payload, snapshot: _r.sock.sendall(_protocol.encode_frame(
    {"op": "result", "id": header["id"], "compute": 0.0}, {"value": next(_values, None)}))
