"""Shared fixtures: the engine's own `mini` assignment and helpers to build notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MINI_COURSE = DATA / "mini"
SCENARIOS = ROOT / "tests" / "scenarios"


def notebook_from_script(text: str) -> nbformat.NotebookNode:
    """Cells separated by `# %%` lines; `# %% [markdown]` starts a markdown cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    chunks, kind, lines = [], "code", []
    for line in text.splitlines():
        if line.startswith("# %%"):
            chunks.append((kind, "\n".join(lines)))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    chunks.append((kind, "\n".join(lines)))
    for kind, src in chunks:
        if src.strip():
            nb.cells.append(nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src))
    return nb


@pytest.fixture(scope="session")
def mini_course() -> Path:
    return MINI_COURSE


def _reports_class() -> dict[str, Path]:
    subs = MINI_COURSE / "submissions"
    return {"solution": subs / "solution.ipynb", "blank": subs / "blank.ipynb",
            "not_json": DATA.parent / "scenarios" / "not_json" / "submission.bin"}


SCENARIOS_FOR_REPORTS = _reports_class()


def chromium(prefs: dict | None = None):
    """A headless Chromium driven by Selenium (Debian's chromium and chromium-driver), with
    these Chrome `prefs`."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--window-size=1000,1400"):
        opts.add_argument(flag)
    if prefs:
        opts.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                            options=opts)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Selenium (Debian's chromium and chromium-driver)."""
    driver = chromium()
    yield driver
    driver.quit()


# -- what a test needs, and the fast tier -------------------------------------------------------
# A test that needs a part this machine lacks is skipped with the reason (and how to get it); CI's
# machine has them all (`make system-deps`).  `slow` marks what starts sandboxes, kernels or a
# browser: `make test-fast` runs the rest.
def _have(part: str) -> bool:
    import os
    import shutil

    if part == "root":
        return os.geteuid() == 0
    if part == "chromium":
        return bool(shutil.which("chromium") and shutil.which("chromedriver"))
    if part == "postgresql":
        return postgres_bin() is not None
    if part == "serve":
        import importlib.util

        return all(importlib.util.find_spec(m) for m in ("starlette", "uvicorn", "sqlalchemy"))
    return shutil.which(part) is not None


HOW_TO_GET = {"root": "run the tests as root (cgroups)", "bwrap": "make system-deps (bubblewrap)",
              "podman": "make system-deps (podman and runc)",
              "chromium": "make system-deps (chromium, chromium-driver)",
              "postgresql": "make system-deps (Debian's postgresql: initdb and pg_ctl)",
              "serve": "make setup (the serve extra: starlette, uvicorn, sqlalchemy)"}
BACKEND_NEEDS = {"bwrap": ("root", "bwrap"), "bwrap-cold": ("root", "bwrap"), "podman": ("podman",)}
# modules whose slow tests grade with the default sandbox (bubblewrap as root)
MODULE_NEEDS = {m: ("root", "bwrap") for m in ("test_demo", "test_forge", "test_assign_verify", "test_cli",
                                                "test_reports", "test_hostile_strings", "test_lms", "test_zygote",
                                                "test_units")}
SLOW_MODULES = {"test_scenarios", "test_adversarial", "test_zygote", "test_ray", "test_demo", "test_assign_verify",
                "test_forge", "test_gpu", "test_cli", "test_reports"}


def postgres_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), if installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _module(item) -> str:
    module = getattr(item, "module", None)
    return module.__name__.rsplit(".", 1)[-1] if module is not None else ""


def needs(item) -> list[str]:
    """The parts `item` needs: its `requires(...)` marks, its sandbox backend parameter, a browser,
    and the default sandbox where it is a slow test of a module that grades with it."""
    parts = [p for mark in item.iter_markers("requires") for p in mark.args]
    backend = getattr(getattr(item, "callspec", None), "params", {}).get("backend")
    if isinstance(backend, str):
        parts += BACKEND_NEEDS.get(backend, ())
    elif item.get_closest_marker("slow") is not None or _module(item) in SLOW_MODULES:
        parts += MODULE_NEEDS.get(_module(item), ())
    if "browser" in getattr(item, "fixturenames", ()):
        parts.append("chromium")
    return list(dict.fromkeys(parts))


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = needs(item)
        missing = [p for p in parts if not _have(p)]
        if missing:
            item.add_marker(pytest.mark.skip(reason="needs " + "; ".join(f"{p}: {HOW_TO_GET.get(p, p)}"
                                                                       for p in missing)))
        if _module(item) in SLOW_MODULES or parts:
            item.add_marker(pytest.mark.slow)
