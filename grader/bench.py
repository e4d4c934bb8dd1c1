"""`make bench`: torchgrader against `otter run` on the same synthetic classes, in one run.

    python -m grader.bench [--assignment custom_model] [-n 500] [--small-n 64] [--jobs 2]

Builds a class from the assignment's release (the solution notebook, and the mutants in turn) and:
- times a class of one with `grader grade` as a user runs it (to its first result line, and to
  its exit), a bare `python -c "import torch"`, and `grader check` on the same notebook, the three
  interleaved --reps times;
- grades the first --small-n submissions, and the whole class at --jobs 1 and --jobs N (and
  --cold-n of them with --cold, and with podman where it works);
- grades the first --otter-n (default: --small-n) with `otter run`, --jobs of them at a time, and
  the otter autograder made from the same master notebook (public tests only, so otter does less
  work).  Where otter ran on fewer notebooks than a class, its time for that class is its time per
  notebook times the class's size, and the report says so;
- regrades a 1,000-submission class from the store;
and writes out/bench/bench.json.  Targets are reported as met or not; no test asserts them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from grader import api
from grader import assign as assign_mod
from grader import assignment as assignment_mod
from grader.sandbox.oci import PodmanSandbox

TARGETS = {"speedup_vs_otter": 30.0, "median_overhead_s": 0.100, "scaling_jobs_n_vs_1": 1.7,
           "peak_rss_mb_per_slot": 1024.0, "regrade_1000_s": 5.0,
           "class_of_one_vs_import_torch": 1.5}
HIGHER = ("speedup_vs_otter", "scaling_jobs_n_vs_1")     # targets to reach; the rest, to stay under


def build_class(asg, release, dest: Path, n: int) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    mutants = assign_mod.load_mutants(asg)
    paths = []
    for i in range(n):
        path = dest / f"student{i:04d}.ipynb"
        if i % 3 == 0 or not mutants:
            shutil.copyfile(release.solution, path)
        else:
            assign_mod.apply_mutant(release.solution, mutants[i % len(mutants)], path)
        paths.append(path)
    return paths


def grade_batch(subs: Path, out: Path, asg_dir: Path, course: Path, jobs: int,
                warm: bool = True, sandbox: str = "auto") -> tuple[float, list]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    batch = api.grade(subs, assignment=str(asg_dir), out=out, jobs=jobs, course=course, warm=warm,
                      sandbox=sandbox)
    return time.monotonic() - started, batch.results


def otter_autograder(asg, work: Path) -> Path:
    """The otter autograder zip for the same master notebook (generate: true in a copy)."""
    master = assign_mod.master_path(asg)
    copy = work / "otter-master" / master.name
    copy.parent.mkdir(parents=True)
    nb = nbformat.read(master, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("generate: false", "generate: true")
    nbformat.write(nb, copy)
    for f in asg.files:
        shutil.copy2(f, copy.parent / f.name)
    subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs",
                    str(copy), str(work / "otter-dist")],
                   check=True, capture_output=True, cwd=copy.parent)
    return next((work / "otter-dist" / "autograder").glob("*.zip"))


def otter_batch(zip_path: Path, notebooks: list[Path], work: Path, jobs: int) -> float:
    """Wall time of `otter run` on `notebooks`, `jobs` of them at a time (as `--jobs` runs ours)."""
    def one(i: int) -> None:
        out = work / f"otter-out-{i}"
        out.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out),
                        str(notebooks[i])],
                       check=True, capture_output=True, cwd=notebooks[i].parent)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, range(len(notebooks))))
    return time.monotonic() - started


def first_result(subs: Path, out: Path, asg_dir: Path, course: Path) -> tuple[float, float]:
    """`grader grade` on `subs` as a user runs it: seconds to its first result line, and to exit."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [sys.executable, "-m", "grader.cli", "--course", str(course), "grade", str(subs),
            "-a", str(asg_dir), "-o", str(out)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    first = None
    for line in proc.stdout:
        if first is None and line.startswith("[1/"):
            first = time.monotonic() - started
    if proc.wait() != 0 or first is None:
        raise RuntimeError(f"grader grade {subs} failed (exit {proc.returncode})")
    return first, time.monotonic() - started


def timed(argv: list[str], cwd: Path | None = None) -> float:
    started = time.monotonic()
    subprocess.run(argv, check=True, capture_output=True, cwd=cwd)
    return time.monotonic() - started


def start_cost(asg, release, work: Path, course: Path, reps: int) -> dict:
    """A class of one against a bare `python -c "import torch"`, and `grader check`, interleaved
    `reps` times in this one run so that the machine's load weighs on all of them alike."""
    one = work / "class-one"
    one.mkdir()
    shutil.copyfile(release.solution, one / "student.ipynb")
    for f in asg.files:
        shutil.copy2(f, one / f.name)
    runs: dict[str, list[float]] = {k: [] for k in ("import_torch_s", "first_result_s",
                                                    "class_of_one_s", "check_s")}
    for _ in range(reps):
        runs["import_torch_s"].append(timed([sys.executable, "-c", "import torch"]))
        first, last = first_result(one, work / "out-one", asg.directory, course)
        runs["first_result_s"].append(first)
        runs["class_of_one_s"].append(last)
        runs["check_s"].append(timed([sys.executable, "-m", "grader.cli", "check", "student.ipynb"],
                                     cwd=one))
    medians = {k: round(statistics.median(v), 2) for k, v in runs.items()}
    for key in ("class_of_one", "first_result"):
        ratio = medians[f"{key}_s"] / medians["import_torch_s"]
        medians[f"{key}_vs_import_torch"] = round(ratio, 2)
    return medians


def regrade_from_store(results: list, subs: Path, work: Path, asg_dir: Path, course: Path,
                       n: int = 1000) -> float:
    """Time a batch of `n` submissions whose records are all in the store already."""
    big, out = work / "big-class", work / "big-out"
    (out / "results").mkdir(parents=True)
    big.mkdir()
    graded = [r for r in results if r.status == "graded"]
    for i in range(n):
        r = graded[i % len(graded)]
        src = subs / f"{r.student}.ipynb"
        dst = big / f"s{i:05d}.ipynb"
        shutil.copyfile(src, dst)
        record = {**r.to_dict(), "student": dst.stem,
                  "submission": {**r.submission, "path": str(dst)}}
        (out / "results" / f"{dst.stem}.json").write_text(json.dumps(record))
    started = time.monotonic()
    batch = api.grade(big, assignment=str(asg_dir), out=out, jobs=2, course=course)
    elapsed = time.monotonic() - started
    if batch.reused != n:
        raise RuntimeError(f"expected {n} reused records, got {batch.reused}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="grader.bench", description=__doc__.splitlines()[0])
    p.add_argument("--assignment", default="custom_model")
    p.add_argument("-n", type=int, default=500,
                   help="submissions in the large class (a course of 500)")
    p.add_argument("--small-n", type=int, default=64, help="submissions in the small class")
    p.add_argument("--otter-n", type=int, default=None,
                   help="of the large class, graded with otter run too (default: the small class)")
    p.add_argument("--cold-n", type=int, default=24,
                   help="of them, graded with --cold too "
                        "(a fresh sandbox and pytest per submission)")
    p.add_argument("--reps", type=int, default=5, help="runs of the class of one, interleaved")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                   help="parallel slots for ours, and otter runs at a time")
    p.add_argument("--out", type=Path, default=Path("out/bench"))
    p.add_argument("--course", type=Path, default=Path.cwd())
    args = p.parse_args(argv)
    course = args.course.resolve()
    asg = assignment_mod.load(args.assignment, course)
    otter_n = min(args.otter_n or args.small_n, args.n)
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        work = Path(tmp)
        release = assign_mod.build_release(asg, work / "release")
        subs = work / "class"
        notebooks = build_class(asg, release, subs, args.n)
        start = start_cost(asg, release, work, course, args.reps)
        small = _subset(notebooks, args.small_n, work / "class-small")
        wall_small, _ = grade_batch(small, work / "out-small", asg.directory, course, args.jobs)
        wall_1, _ = grade_batch(subs, work / "out-1", asg.directory, course, 1)
        wall_n, results = grade_batch(subs, work / "out-n", asg.directory, course, args.jobs)
        cold = _subset(notebooks, args.cold_n, work / "class-cold")
        cold_wall, _ = grade_batch(cold, work / "out-cold", asg.directory, course, args.jobs,
                                   warm=False)
        podman_wall = None
        if PodmanSandbox.unavailable_reason() is None:   # containers have no zygote: what they cost
            podman_wall, _ = grade_batch(cold, work / "out-podman", asg.directory, course,
                                         args.jobs, sandbox="podman")
        otter_wall = otter_batch(otter_autograder(asg, work), notebooks[:otter_n], work, args.jobs)
        regrade_s = regrade_from_store(results, subs, work, asg.directory, course)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "assignment": asg.name, "n": args.n, "small_n": args.small_n, "otter_n": otter_n,
        "jobs": args.jobs, "sandbox": results[0].environment.get("sandbox"),
        "ours_submissions_per_s": round(args.n / wall_n, 3),
        "ours_jobs1_submissions_per_s": round(args.n / wall_1, 3),
        "ours_small_wall_s": round(wall_small, 2), "ours_wall_s": round(wall_n, 2),
        "cold_n": args.cold_n, "cold_submissions_per_s": round(args.cold_n / cold_wall, 3),
        "warm_vs_cold": round((args.n / wall_n) / (args.cold_n / cold_wall), 2),
        "podman_submissions_per_s": round(args.cold_n / podman_wall, 3) if podman_wall else None,
        "otter_wall_s": round(otter_wall, 2),
        "otter_submissions_per_s": round(otter_n / otter_wall, 3),
        **_otter_ratios(otter_wall / otter_n, args, wall_small, wall_n),
        **_overheads(results),
        "scaling_jobs_n_vs_1": round(wall_1 / wall_n, 2),
        "peak_rss_mb_per_slot": max(r.timing.get("peak_rss_mb", 0) for r in results),
        "regrade_1000_s": round(regrade_s, 2),
        "start": start, "class_of_one_vs_import_torch": start["class_of_one_vs_import_torch"],
    }
    report["targets"] = {k: {"target": t, "value": report[k], "met": report[k] >= t if k in HIGHER
                             else report[k] <= t} for k, t in TARGETS.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, indent=2))
    _print(report, args)
    return 0


def _subset(notebooks: list[Path], n: int, dest: Path) -> Path:
    dest.mkdir()
    for nb in notebooks[:n]:
        shutil.copyfile(nb, dest / nb.name)
    return dest


def _otter_ratios(otter_per_nb: float, args, wall_small: float, wall_n: float) -> dict:
    """otter's wall time over ours for the same class at the same parallelism.  Where otter ran on
    fewer notebooks than a class, its time for the class is its measured time per notebook times the
    class size (each `otter run` is a fresh process, so its cost per notebook does not fall with
    the class's size), and the report says so."""
    return {"speedup_vs_otter_small": round(otter_per_nb * args.small_n / wall_small, 1),
            "speedup_vs_otter": round(otter_per_nb * args.n / wall_n, 1),
            "otter_large_class_extrapolated": (args.otter_n or args.small_n) < args.n}


def _overheads(results: list) -> dict:
    timed_ = [r.timing for r in results if r.timing]
    # the student's own compute: its cells and its code inside probes, both timed in the student
    # process
    overheads = [t["wall_s"] - t.get("cells_s", 0) - t.get("probe_compute_s", 0) for t in timed_]

    def median_ms(f) -> float:
        return round(1000 * statistics.median(f(t) for t in timed_), 1)

    return {"median_overhead_s": round(statistics.median(overheads), 3),
            "overhead_breakdown_ms": {   # medians, ms; they need not add up to the median overhead
                "sandbox_start": median_ms(lambda t: t.get("start_s", 0)),
                "cell_protocol": median_ms(lambda t: t["notebook_s"] - t.get("start_s", 0)
                                           - t.get("cells_s", 0)),
                "probe_round_trips": median_ms(lambda t: t.get("probe_s", 0)
                                               - t.get("probe_compute_s", 0)),
                "hidden_tests_own": median_ms(lambda t: t.get("tests_s", 0)),
                "judge_rest": median_ms(lambda t: t["wall_s"] - t["notebook_s"]
                                        - t.get("probe_s", 0) - t.get("tests_s", 0)),
                "student_compute": median_ms(lambda t: t.get("cells_s", 0)
                                             + t.get("probe_compute_s", 0)),
            }}


def _print(report: dict, args) -> None:
    for key, t in report["targets"].items():
        met = "met" if t["met"] else "NOT met"
        print(f"{key:30} {t['value']:>10}   target {t['target']:<8} {met}")
    extrapolated = (" (otter's time per notebook times the class)"
                    if report["otter_large_class_extrapolated"] else "")
    print(f"speed-up over otter run, both {args.jobs} at a time: "
          f"{report['speedup_vs_otter_small']}x for {args.small_n} submissions, "
          f"{report['speedup_vs_otter']}x for {args.n}{extrapolated}")
    s = report["start"]
    print(f"class of one: first result {s['first_result_s']} s, done {s['class_of_one_s']} s; "
          f"import torch {s['import_torch_s']} s; grader check {s['check_s']} s "
          f"(medians of {args.reps})")
    print("median per submission, ms: "
          + ", ".join(f"{k} {v}" for k, v in report["overhead_breakdown_ms"].items()))
    print(f"ours {report['ours_submissions_per_s']}/s (jobs={args.jobs}, {report['sandbox']}; "
          f"--cold {report['cold_submissions_per_s']}/s), "
          f"otter run {report['otter_submissions_per_s']}/s; "
          f"wrote {args.out / 'bench.json'}")


if __name__ == "__main__":
    sys.exit(main())
