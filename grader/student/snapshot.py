"""The pristine state of builtins, torch and its core classes, taken before the first student cell
runs and put back in place after each cell and around each probe.

A convenience, not a boundary: a cell can replace these methods too, so the judge trusts nothing
the student process tells it but plain values it checks itself.  Stdlib only (torch is imported
when a snapshot is taken).
"""

from __future__ import annotations

import builtins
import math
import operator
import random
import sys
from dataclasses import dataclass

_MISSING = object()


@dataclass(slots=True)
class Saved:
    """One saved namespace (a module's or a class's) and how to tell, fast, that it is untouched.

    Dicts keep insertion order and append new keys at the end: untouched, a dict still starts with
    the saved values, object for object.  A deletion shifts every later value left, so only a run
    of one object at the very end could hide it: those dicts compare `keys` too.  Where CPython's
    dict version tags can be read (`real` is the dict behind vars(obj)), a dict whose tag has not
    moved since the last check (`tag`) was not written to at all, and is skipped."""

    obj: object
    saved: dict
    keys: tuple               # the saved keys where the values end in a run, else ()
    values: tuple
    is_class: bool
    real: dict | None
    tag: int | None = None

    @classmethod
    def of(cls, obj, is_class: bool) -> Saved:
        saved = dict(vars(obj))
        return cls(obj, saved, tuple(saved) if _ends_in_a_run(saved) else (),
                   tuple(saved.values()), is_class, _real_dict(obj))

    def unchanged(self) -> bool:
        """Whether vars(obj) still holds the saved objects (a class: and nothing more)."""
        current = vars(self.obj)
        n = len(current)
        size_ok = n == len(self.values) if self.is_class else n >= len(self.values)
        return (size_ok and all(map(operator.is_, current.values(), self.values))
                and all(map(operator.is_, current, self.keys)))

    def put_back(self) -> list[str]:
        """Restore the saved objects (a class: and remove what was added); the dotted names that
        had changed."""
        changed = []
        obj, name = self.obj, self.obj.__name__
        for k, v in self.saved.items():
            if vars(obj).get(k, _MISSING) is not v:
                changed.append(f"{name}.{k}")
                try:
                    setattr(obj, k, v)
                except (AttributeError, TypeError):
                    pass
        if self.is_class:
            for k in [k for k in vars(obj) if k not in self.saved]:
                changed.append(f"{name}.{k}")
                try:
                    delattr(obj, k)
                except (AttributeError, TypeError):
                    pass
        return changed


class Snapshot:
    """The pristine state of builtins, torch and its core classes, restorable in place."""

    def __init__(self) -> None:
        import torch
        import torch.nn.functional
        import torch.nn.init

        modules = [builtins, torch, torch.nn.functional, torch.nn.init, torch.nn, math, random]
        classes = [torch.Tensor, torch.nn.Module, torch.nn.Parameter, torch._C.TensorBase]
        self.checks = [*(Saved.of(m, is_class=False) for m in modules),    # builtins first
                       *(Saved.of(c, is_class=True) for c in classes)]

    def restore(self, builtins_only: bool = False) -> list[str]:
        """Put back everything that changed; returns the dotted names that had been replaced.
        Called around every cell and probe, so the check that nothing changed runs at C speed."""
        changed = []
        for check in self.checks[:1] if builtins_only else self.checks:
            d = check.real
            if d is not None and check.tag is not None and _dict_version(d) == check.tag:
                continue
            if not check.unchanged():
                changed += check.put_back()
            if d is not None:
                check.tag = _dict_version(d)
        return changed

    def builtins_dict(self) -> dict:
        """A copy of the pristine builtins, for code that must not see the notebook's."""
        return dict(self.checks[0].saved)


def _version_reader():
    """A function reading a dict's version tag (PEP 509: any write to the dict changes it), or None
    where this interpreter's dicts do not keep one where expected; a self-test decides."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13):
        return None
    import ctypes

    def read(d: dict) -> int:
        return ctypes.c_uint64.from_address(id(d) + 3 * ctypes.sizeof(ctypes.c_ssize_t)).value

    try:
        d = {"a": 1}
        if ctypes.c_ssize_t.from_address(id(d) + 2 * ctypes.sizeof(ctypes.c_ssize_t)).value != 1:
            return None                                # not the layout this expects (ma_used)
        seen = [read(d)]
        for write in (lambda: d.__setitem__("a", 2), lambda: d.__setitem__("b", 3),
                      lambda: d.pop("b"), lambda: d.__setitem__("a", 5), lambda: d.update(c=4),
                      lambda: d.clear()):
            write()
            seen.append(read(d))
        if len(set(seen)) != len(seen):
            return None
    except Exception:  # noqa: BLE001 - no shortcut, the full check
        return None
    return read


def _real_dict(obj) -> dict | None:
    """The dict behind vars(obj) (a class's is behind a read-only proxy); None without version
    tags."""
    if _dict_version is None:
        return None
    d = vars(obj)
    if type(d) is dict:
        return d
    import gc

    inner = [r for r in gc.get_referents(d) if type(r) is dict]
    return inner[0] if len(inner) == 1 else None


_dict_version = _version_reader()


def _ends_in_a_run(saved: dict) -> bool:
    values = list(saved.values())
    return len(values) >= 2 and values[-1] is values[-2]
