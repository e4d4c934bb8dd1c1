"""Every use of pytest's private internals by the warm judge (grader/judge/warm.py), each with a
way out.

The warm judge calls a plain test function directly, and runs other tests' setup, call and teardown
hooks itself; both need attributes pytest does not promise (`item._fixtureinfo`, `_request`, hook
implementations' plugin names, `TestReport`'s positional arguments).  Where one is missing or has
changed shape, the answer here is the safe one: the test is not called directly, or goes through
pytest's own `pytest_runtest_protocol`, or gets pytest's own report.  A pytest upgrade then costs
speed, never outcomes.
"""

from __future__ import annotations

import pytest

#: False sends every test through pytest's own `pytest_runtest_protocol` (the fallback, tested).
FAST_PATH = True


def student_only(item, plugin) -> bool:
    """Whether `item` asks for no fixture but `plugin`'s own `student`."""
    try:
        info = item._fixtureinfo
        if not set(item.fixturenames) <= {"student"} or tuple(info.argnames) not in ((), ("student",)):
            return False
        defs = info.name2fixturedefs.get("student", ())
        return not item.fixturenames or (len(defs) == 1 and getattr(defs[0].func, "__self__", None) is plugin)
    except (AttributeError, TypeError):
        return False


def only_own_hooks(item, plugin, hooks: tuple[str, ...], own_types: tuple, own_names: frozenset) -> bool:
    """Whether every implementation of `hooks` on `item`'s way is `plugin`'s, of a type in
    `own_types`, or of one of pytest's plugins named in `own_names`."""
    try:
        return all(impl.plugin is plugin or isinstance(impl.plugin, own_types) or impl.plugin_name in own_names
                   for hook in hooks for impl in getattr(item.ihook, hook).get_hookimpls())
    except AttributeError:
        return False


def can_run_phases(item) -> bool:
    """Whether the warm judge can set `item`'s request up and reset it as pytest's protocol does."""
    return FAST_PATH and hasattr(item, "_request") and callable(getattr(item, "_initrequest", None))


def begin(item) -> None:
    """`item`'s fixture request made anew, as pytest's protocol does before setup."""
    if not item._request:
        item._initrequest()


def end(item) -> None:
    """`item` left as pytest's protocol leaves a test after its teardown."""
    item._request = False
    item.funcargs = None


def failed_report(item, call, longrepr: str):
    """A `call`-phase failure's report built directly (None: let pytest build its own)."""
    try:
        return pytest.TestReport(item.nodeid, item.location, {k: 1 for k in item.keywords}, "failed", longrepr,
                                 "call", [], call.duration, call.start, call.stop,
                                 user_properties=item.user_properties)
    except (TypeError, AttributeError):
        return None
