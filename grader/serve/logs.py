"""The service's logs: one line per event on stderr, as text or as JSON (`--log-format json`,
for a log collector).  An event's fields (`extra=` on the logging call: submission, status,
score, latency_s, ...) are keys of the JSON object and `key=value` pairs after the text line's
message.  Every value is cleaned of control codes and lone surrogates first, so a hostile path
or student id can never start a forged line.  Tokens are never passed to a logger."""

from __future__ import annotations

import json
import logging
import sys
import time

from grader.text import clean

FIELDS = ("event", "submission", "student", "assignment", "status", "score", "max_score",
          "question", "points", "latency_s", "http_status", "method", "path", "recovered",
          "slots", "port")


def _fields(record: logging.LogRecord) -> dict:
    out = {}
    for key in FIELDS:
        value = getattr(record, key, None)
        if value is None:
            continue
        out[key] = value if isinstance(value, (int, float, bool)) else clean(str(value), 300)
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                 + f".{int(record.msecs):03d}Z",
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": clean(record.getMessage(), 2000), **_fields(record)}
        if record.exc_info:
            entry["error"] = clean(self.formatException(record.exc_info), 4000)
        return json.dumps(entry, ensure_ascii=False, allow_nan=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = clean(super().format(record), 4000).replace("\n", " | ")
        pairs = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                         for k, v in _fields(record).items())
        return f"{line} {pairs}" if pairs else line


def setup(fmt: str = "text") -> None:
    """Send the service's and uvicorn's logs to stderr in `fmt` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
