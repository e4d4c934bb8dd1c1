"""torchgrader: grade PyTorch notebook assignments with a sandboxed student process and a
trusted judge.

The library API lives in :mod:`grader.api` (``grade``, ``list_assignments``); it is imported lazily
so that the code running inside the sandbox (:mod:`grader.student`) pulls in nothing but torch.
No module of the grader imports this package's own names: the version is :mod:`grader.version`'s.
"""

from grader.version import __version__

__all__ = ["grade", "list_assignments", "load_assignment", "__version__"]


def __getattr__(name):
    if name in ("grade", "list_assignments", "load_assignment"):
        from grader import api

        return getattr(api, name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
