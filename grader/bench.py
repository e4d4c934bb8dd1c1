"""`make bench`: torchgrader against `otter run` on the same synthetic class, in one run.

    python -m grader.bench [--assignment custom_model] [-n 500] [--otter-n 6] [--jobs 2]

Builds a class from the assignment's release (the solution notebook, and the mutants in turn),
grades it with `grader grade` at --jobs 1 and --jobs N (and --cold-n of them with --cold, and with
podman where it works), grades the first --otter-n notebooks with
`otter run` and the otter autograder made from the same master notebook (public tests only, so
otter does less work), regrades a 1,000-submission class from the store, and writes
out/bench/bench.json.  Targets are reported as met or not; nothing here is asserted by the tests.
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
from pathlib import Path

import nbformat

from grader import api
from grader import assign as assign_mod
from grader import assignment as assignment_mod
from grader.sandbox.oci import PodmanSandbox

TARGETS = {"speedup_vs_otter": 30.0, "median_overhead_s": 0.100, "scaling_jobs_n_vs_1": 1.7,
           "peak_rss_mb_per_slot": 1024.0, "regrade_1000_s": 5.0}


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
    subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", str(copy),
                    str(work / "otter-dist")], check=True, capture_output=True, cwd=copy.parent)
    return next((work / "otter-dist" / "autograder").glob("*.zip"))


def otter_batch(zip_path: Path, notebooks: list[Path], work: Path) -> float:
    started = time.monotonic()
    for i, nb in enumerate(notebooks):
        out = work / f"otter-out-{i}"
        out.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), str(nb)],
                       check=True, capture_output=True, cwd=nb.parent)
    return time.monotonic() - started


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
        record = {**r.to_dict(), "student": dst.stem, "submission": {**r.submission, "path": str(dst)}}
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
    p.add_argument("-n", type=int, default=500, help="submissions in the synthetic class (a course of 500)")
    p.add_argument("--otter-n", type=int, default=6, help="of them, graded with otter run too")
    p.add_argument("--cold-n", type=int, default=24,
                   help="of them, graded with --cold too (a fresh sandbox and pytest per submission)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--out", type=Path, default=Path("out/bench"))
    p.add_argument("--course", type=Path, default=Path.cwd())
    args = p.parse_args(argv)
    course = args.course.resolve()
    asg = assignment_mod.load(args.assignment, course)
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        work = Path(tmp)
        release = assign_mod.build_release(asg, work / "release")
        subs = work / "class"
        notebooks = build_class(asg, release, subs, args.n)
        wall_1, _ = grade_batch(subs, work / "out-1", asg.directory, course, 1)
        wall_n, results = grade_batch(subs, work / "out-n", asg.directory, course, args.jobs)
        cold = work / "class-cold"
        cold.mkdir()
        for nb in notebooks[:args.cold_n]:
            shutil.copyfile(nb, cold / nb.name)
        cold_wall, _ = grade_batch(cold, work / "out-cold", asg.directory, course, args.jobs, warm=False)
        podman_wall = None
        if PodmanSandbox.unavailable_reason() is None:     # containers have no zygote: what they cost
            podman_wall, _ = grade_batch(cold, work / "out-podman", asg.directory, course, args.jobs,
                                         sandbox="podman")
        otter_wall = otter_batch(otter_autograder(asg, work), notebooks[:args.otter_n], work)
        regrade_s = regrade_from_store(results, subs, work, asg.directory, course)
    ours = args.n / wall_n
    otter = args.otter_n / otter_wall
    timed = [r.timing for r in results if r.timing]
    # the student's own compute: its cells and its code inside probes, both timed in the student process
    overheads = [t["wall_s"] - t.get("cells_s", 0) - t.get("probe_compute_s", 0) for t in timed]

    def median_ms(f) -> float:
        return round(1000 * statistics.median(f(t) for t in timed), 1)

    breakdown = {   # medians, ms; they need not add up to the median overhead
        "sandbox_start": median_ms(lambda t: t.get("start_s", 0)),
        "cell_protocol": median_ms(lambda t: t["notebook_s"] - t.get("start_s", 0) - t.get("cells_s", 0)),
        "probe_round_trips": median_ms(lambda t: t.get("probe_s", 0) - t.get("probe_compute_s", 0)),
        "hidden_tests_own": median_ms(lambda t: t.get("tests_s", 0)),
        "judge_rest": median_ms(lambda t: t["wall_s"] - t["notebook_s"] - t.get("probe_s", 0) - t.get("tests_s", 0)),
        "student_compute": median_ms(lambda t: t.get("cells_s", 0) + t.get("probe_compute_s", 0)),
    }
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "assignment": asg.name, "n": args.n, "otter_n": args.otter_n, "jobs": args.jobs,
        "sandbox": results[0].environment.get("sandbox"),
        "ours_submissions_per_s": round(ours, 3), "ours_jobs1_submissions_per_s": round(args.n / wall_1, 3),
        "cold_n": args.cold_n, "cold_submissions_per_s": round(args.cold_n / cold_wall, 3),
        "warm_vs_cold": round(ours / (args.cold_n / cold_wall), 2),
        "podman_submissions_per_s": round(args.cold_n / podman_wall, 3) if podman_wall else None,
        "otter_submissions_per_s": round(otter, 3), "speedup_vs_otter": round(ours / otter, 2),
        "median_overhead_s": round(statistics.median(overheads), 3),
        "overhead_breakdown_ms": breakdown,
        "scaling_jobs_n_vs_1": round(wall_1 / wall_n, 2),
        "peak_rss_mb_per_slot": max(r.timing.get("peak_rss_mb", 0) for r in results),
        "regrade_1000_s": round(regrade_s, 2),
    }
    report["targets"] = {k: {"target": t, "value": report[k],
                             "met": report[k] >= t if k in ("speedup_vs_otter", "scaling_jobs_n_vs_1")
                             else report[k] <= t} for k, t in TARGETS.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, indent=2))
    for key, t in report["targets"].items():
        print(f"{key:24} {t['value']:>10}   target {t['target']:<8} {'met' if t['met'] else 'NOT met'}")
    print("median per submission, ms: " + ", ".join(f"{k} {v}" for k, v in breakdown.items()))
    print(f"ours {ours:.2f}/s (jobs={args.jobs}, {report['sandbox']}; --cold {report['cold_submissions_per_s']}/s), "
          f"otter run {otter:.3f}/s; "
          f"wrote {args.out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
