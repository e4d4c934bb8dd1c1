"""The `grader` command: a thin layer over :mod:`grader.api`.

Exit status: 0 when the command did its job (whatever the scores), 2 for a usage problem with a
one-line message, 1 for an internal failure, 130 when interrupted (Ctrl-C: the results finished
so far are kept, and the same command resumes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.errors import GraderError
from grader.text import clean, shorten

def _limit_flags() -> list[tuple[str, str, type, str]]:
    """(flag, limit key, type, help) of the limits `grader grade` overrides (assignment.LIMIT_KEYS;
    notebook_timeout's --timeout is its own option)."""
    from grader.assignment import LIMIT_KEYS

    return [(flag, key, float if isinstance(types, tuple) else types,
             what if what[:2].isupper() else what[0].lower() + what[1:])
            for key, (types, _, what, flag) in LIMIT_KEYS.items() if flag and key != "notebook_timeout"]


STATUS_STYLE = {"graded": "green", "invalid": "yellow", "timeout": "red", "memory": "red",
                "crashed": "red", "error": "magenta"}
REASON_CHARS = 120      # a reason in the table of `grader grade` (grades.csv has up to 1,000)


def shown(text: object, limit: int | None = None) -> str:
    """Text from a submission as rich markup that shows exactly that text: no control codes
    reach the terminal, and no `[...]` of the student's is read as markup."""
    from rich.markup import escape

    return escape(clean(text, limit))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"grader: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from grader.sandbox import CHOICES

    p = _Parser(prog="grader", description="Grade PyTorch notebook assignments in sandboxes.")
    p.add_argument("--course", type=Path, default=None,
                   help="course directory holding solutions/ and assignments/ (default: current directory)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("grade", help="grade a class's notebooks: a directory, one file, or a zip")
    g.add_argument("submissions", type=Path,
                   help="a directory of .ipynb files (one per student), one .ipynb file, or a "
                        ".zip: a plain one, a Canvas \"Download Submissions\" zip or a Gradescope "
                        "export (extracted under OUT, every entry checked first)")
    g.add_argument("-a", "--assignment", required=True, help="assignment name under solutions/, or its path")
    g.add_argument("-o", "--out", type=Path, required=True, help="output directory (results, grades.csv)")
    g.add_argument("-j", "--jobs", type=int, default=None, help="parallel worker slots (default: CPU cores)")
    g.add_argument("--sandbox", choices=CHOICES, default="auto",
                   help="isolation backend (auto: the strongest that works here)")
    g.add_argument("--image", default=None,
                   help="container image for --sandbox podman/docker (default for podman: no image, the "
                        "host's Python bound read-only)")
    g.add_argument("--timeout", type=float, default=None,
                   help="seconds the whole notebook may run (overrides assignment.toml)")
    lim = g.add_argument_group("limits", "override assignment.toml's [limits] for this run")
    for flag, key, kind, what in _limit_flags():
        lim.add_argument(flag, dest=key, type=kind, default=None, metavar=key.split("_")[-1].upper(), help=what)
    g.add_argument("--cold", action="store_true",
                   help="start a fresh sandbox and pytest for every submission instead of the warm ones "
                        "kept per worker slot (slower; for comparison)")
    g.add_argument("--unsafe-no-cgroups", action="store_true",
                   help="grade in bubblewrap even where no per-submission pids and memory cgroup can "
                        "be set (rlimits only; one submission's fork bomb or allocation can then "
                        "reach the others); every result is flagged")
    g.add_argument("--roster", type=Path, default=None,
                   help="CSV of enrolled students (column 'student'; optional name, email, canvas_id, "
                        "sis_user_id, sis_login_id, section): maps LMS ids and adds a row per missing student")
    g.add_argument("--submitted-at", type=Path, default=None, metavar="FILE",
                   help="CSV student,submitted_at (the ids of grades.csv; ISO 8601 with a zone "
                        "offset): submission times for the [policy] deadline, over what an export "
                        "says (Canvas zips give none)")
    g.add_argument("--extensions", type=Path, default=None, metavar="FILE",
                   help="CSV student,due (a time with a zone offset) or student,extra_hours (the ids "
                        "of grades.csv)")
    g.add_argument("--times", choices=("mtime",), default=None,
                   help="mtime: take the notebook files' modification times as submission times "
                        "where nothing else gives one (extraction and copying change them)")
    g.add_argument("--manual", action="append", type=Path, default=[], metavar="CSV",
                   help="manual.csv of the grading pages (grader manual), or one written by hand: "
                        "student,question,points[,items,comment,grader,graded_at,sha256]; "
                        "repeatable; the scores join the records without regrading anything")
    g.add_argument("--manual-key", type=Path, default=None, metavar="CSV",
                   help="the manual-key.csv of grader manual, for a manual.csv of anonymous ids "
                        "(default: one beside the manual.csv)")
    g.add_argument("--format", action="append", dest="formats", default=[], choices=("otter", "canvas"),
                   help="also write otter's final_grades.csv or a Canvas import file (repeatable)")
    g.add_argument("--gpus", default="auto",
                   help="auto (a GPU per slot when the assignment uses one and the machine has one), "
                        "none, all, or indices like 0,1")
    g.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where worker slots run: local processes, or Ray actors")
    g.add_argument("--ray-address", default=None,
                   help="Ray cluster to join (e.g. 10.0.0.5:6379 or auto); default: a local Ray instance")
    g.add_argument("--quiet", action="store_true", help="print only the final summary")

    m = sub.add_parser("manual", help="grading pages for the written answers: one HTML page per "
                                      "manual question, anonymised, rubric and keyboard")
    m.add_argument("assignment", help="assignment name under solutions/, or its path")
    m.add_argument("submissions", type=Path,
                   help="as for grade: a directory of .ipynb files, one .ipynb or an LMS .zip")
    m.add_argument("-o", "--out", type=Path, required=True,
                   help="where the pages and manual-key.csv (anonymous id -> student) go")
    m.add_argument("--roster", type=Path, default=None, help="as for grade: maps LMS ids")
    m.add_argument("--seed", default=None,
                   help="keys the anonymous ids and the order (default: the one kept in OUT)")

    sub.add_parser("list", help="list the assignments with their questions and points")

    n = sub.add_parser("new", help="start an assignment: solutions/<hw>/ with a master notebook, a hidden "
                                   "test and a mutant, ready for assign and verify")
    n.add_argument("name", help="the assignment's name, a Python identifier (e.g. hw1)")
    n.add_argument("--title", default=None, help="its title (default: the name)")

    a = sub.add_parser("assign", help="release assignments/<hw>/ from the master notebook (otter assign)")
    a.add_argument("names", nargs="*", help="assignment names (default with --all: every assignment)")
    a.add_argument("--all", action="store_true", help="release every assignment under solutions/")
    a.add_argument("--check", action="store_true",
                   help="write nothing; fail when assignments/ does not match a fresh release")

    c = sub.add_parser("check", help="students: run your notebook as grading will, then its public tests")
    c.add_argument("notebook", type=Path, help="your .ipynb file")
    c.add_argument("-q", "--question", action="append", dest="questions", help="check only this question")
    c.add_argument("--sandbox", choices=CHOICES, default="auto",
                   help="isolation backend (auto: the strongest that works here, else none, saying so)")
    c.add_argument("--timeout", type=float, default=None,
                   help="seconds the whole notebook may run (default: the limit the release carries)")
    lim = c.add_argument_group("limits", "override the limits the released notebook carries")
    for flag, key, kind, what in _limit_flags():
        lim.add_argument(flag, dest=key, type=kind, default=None, metavar=key.split("_")[-1].upper(), help=what)

    v = sub.add_parser("verify", help="solution full marks, blank zero, every mutant loses points")
    v.add_argument("names", nargs="*", help="assignment names (default: every assignment)")
    v.add_argument("-j", "--jobs", type=int, default=None, help="parallel worker slots")
    v.add_argument("--sandbox", choices=CHOICES, default="auto", help="isolation backend")
    v.add_argument("-o", "--out", type=Path, default=None, help="keep the graded notebooks and results here")
    v.add_argument("--seeds", type=int, default=None,
                   help="grade the solution and every mutant under this many seeds (default 20)")
    _serve_parser(sub, CHOICES)

    x = sub.add_parser("export", help="a Gradescope autograder zip or a PrairieLearn question that "
                                      "grades with this grader inside the platform's container")
    x.add_argument("platform", choices=("gradescope", "prairielearn"), help="where it runs")
    x.add_argument("name", help="assignment name under solutions/")
    x.add_argument("-o", "--out", type=Path, required=True,
                   help="gradescope: the .zip to write; prairielearn: a new question directory")
    return p


def _serve_parser(sub, sandboxes) -> None:
    """grader serve [tokens | add-staff]: the submission service (grader.serve)."""
    s = sub.add_parser("serve", help="the submission service: students upload, reports come back")
    s.add_argument("--course", dest="serve_course", type=Path, default=None, metavar="DIR",
                   help="course directory (default: the global --course, else the current one)")
    s.add_argument("--roster", type=Path, default=None, metavar="CSV",
                   help="CSV of enrolled students (column 'student'; optional 'name')")
    s.add_argument("--data", type=Path, default=Path("serve-data"), metavar="DIR",
                   help="database, notebooks and logs (default: ./serve-data)")
    s.add_argument("--db", default=None, metavar="URL",
                   help="postgresql://... (default: SQLite under --data)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("-j", "--jobs", type=int, default=1, help="worker slots grading uploads")
    s.add_argument("--sandbox", choices=sandboxes, default="auto", help="isolation backend")
    s.add_argument("--https", action="store_true",
                   help="served behind TLS: session cookies are marked Secure")
    s.add_argument("--unsafe-no-cgroups", action="store_true", help="as for grader grade")
    s.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="worker slots on this machine, or Ray actors (--ray-address)")
    s.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="the Ray cluster to grade on (default: start one on this machine)")
    s.add_argument("--log-format", choices=("text", "json"), default="text",
                   help="stderr log lines as text or as one JSON object each")
    ss = s.add_subparsers(dest="serve_command", parser_class=_Parser)
    t = ss.add_parser("tokens", help="a sign-in token and link for every student on the roster")
    t.add_argument("--roster", dest="tokens_roster", type=Path, required=True, metavar="CSV")
    t.add_argument("--data", dest="tokens_data", type=Path, required=True, metavar="DIR")
    t.add_argument("--db", dest="tokens_db", default=None, metavar="URL")
    t.add_argument("--out", type=Path, required=True, metavar="CSV",
                   help="CSV to write: student,token,link")
    t.add_argument("--base-url", default="http://127.0.0.1:8000", metavar="URL",
                   help="where students reach the service, for the links")
    a = ss.add_parser("add-staff", help="a staff account; prints its one-time token")
    a.add_argument("name")
    a.add_argument("--data", dest="staff_data", type=Path, required=True, metavar="DIR")
    a.add_argument("--db", dest="staff_db", default=None, metavar="URL")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GraderError as exc:
        print(f"grader: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grader: interrupted; finished results are saved, run the same command to resume",
              file=sys.stderr)
        return 130
    except BrokenPipeError:          # `grader list | head`: the reader left, nothing more to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class Progress:
    """One line per finished submission (with rate and time left) above a live progress bar."""

    def __init__(self, console, quiet: bool) -> None:
        import time

        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as Bar

        self.console, self.quiet, self.started, self.clock = console, quiet, time.monotonic(), time.monotonic
        self.bar = Bar(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=console, transient=True, disable=quiet or not console.is_terminal)
        self.task = None
        self.graded = 0

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def __call__(self, result, done, total, reused) -> None:
        if self.task is None:
            self.task = self.bar.add_task("grading", total=total)
        self.bar.update(self.task, completed=done)
        self.graded += not reused
        if self.quiet:
            return
        elapsed = self.clock() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate else 0.0
        tag = "reused" if reused else f"{result.timing.get('wall_s', 0):.1f}s"
        style = STATUS_STYLE.get(result.status, "white")
        self.bar.console.print(
            f"[{done}/{total}] {shown(result.student)}: [{style}]{result.status}[/] "
            f"{result.score:g}/{result.max_score:g} "
            f"({tag}) · {rate:.2f}/s · {left:.0f}s left", highlight=False)


def cmd_grade(args) -> int:
    from rich.console import Console

    from grader import api

    console = Console(highlight=False)
    with Progress(console, args.quiet) as progress:
        batch = api.grade(args.submissions, assignment=args.assignment, out=args.out, jobs=args.jobs,
                          sandbox=args.sandbox, timeout=args.timeout, course=args.course, roster=args.roster,
                          formats=tuple(args.formats), executor=args.executor, image=args.image,
                          gpus=args.gpus, warm=not args.cold, unsafe_no_cgroups=args.unsafe_no_cgroups,
                          limits={key: getattr(args, key) for _, key, _, _ in _limit_flags()
                                  if getattr(args, key) is not None},
                          ray_address=args.ray_address, submitted_at=args.submitted_at,
                          extensions=args.extensions, times=args.times,
                          manual=args.manual, manual_key=args.manual_key, on_result=progress)
    print_summary(console, batch)
    return 0


def print_summary(console, batch) -> None:
    from rich.table import Table

    table = Table(title=f"{len(batch.results)} students", show_lines=False)
    for col in ("student", "score", "status", "reason"):
        table.add_column(col, overflow="fold")
    for r in sorted(batch.results, key=lambda r: r.student):
        style = STATUS_STYLE.get(r.status, "white")
        table.add_row(shown(r.student), f"{r.score:g}/{r.max_score:g}", f"[{style}]{r.status}[/]",
                      shown(shorten(r.reason, REASON_CHARS)))
    console.print(table)
    print_distribution(console, batch)
    warn = "  (WARNING: --sandbox none: submissions ran without isolation)" if batch.sandbox == "none" else ""
    console.print(f"sandbox: {batch.sandbox}{warn}; {batch.wall_s:.1f} s")
    for line in summary_lines(batch):
        console.print(line)
    for note in batch.notes:
        console.print(f"[yellow]note:[/] {shown(note)}")
    console.print(f"wrote {batch.files['grades']}, {batch.files['summary']}, "
                  f"{batch.out / 'results'}/, {batch.files['reports']}/ and {batch.files['gradescope']}/")


def summary_lines(batch) -> list[str]:
    """The batch in numbers, each with one meaning: the students by status, the results made now
    or reused, and the class mean (saying what it does with rows that have no score)."""
    from grader.reports.summary import zero_rows_note

    results, counts = batch.results, batch.counts()
    n, graded = len(results), [r for r in results if r.status == "graded"]
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    lines = [f"{n} students: {by_status}",
             f"results: {batch.graded_now} made in this run, {batch.reused} reused from an "
             "earlier run"]
    if results:
        top = max(r.max_score for r in results)
        note = zero_rows_note(counts)
        mean = f"mean {sum(r.score for r in results) / n:.2f}/{top:g} of all {n}"
        mean += f" ({note})" if note else ""
        if graded and len(graded) < n:
            mean += (f"; {sum(r.score for r in graded) / len(graded):.2f}/{top:g} "
                     f"of the {len(graded)} graded")
        lines.append(mean)
    waiting = sum(len(r.pending()) for r in results)
    if waiting:
        lines.append(f"written answers: {waiting} to be graded by hand, not counted yet "
                     "(grader manual, then grade --manual)")
    return lines


def print_distribution(console, batch) -> None:
    """Status counts and a text histogram of scores, in deciles of the maximum."""
    from rich.table import Table

    results = batch.results
    top = max((r.max_score for r in results), default=0) or 1
    bins = [0] * 10
    for r in results:
        bins[min(9, int(10 * r.score / top))] += 1
    table = Table(title="score distribution", show_header=True)
    table.add_column("score")
    table.add_column("submissions")
    widest = max(bins) or 1
    for i, n in enumerate(bins):
        lo, hi = top * i / 10, top * (i + 1) / 10
        label = f"{lo:g}-{hi:g}" + ("" if i < 9 else " (incl.)")
        table.add_row(label, ("█" * max(1, round(24 * n / widest)) if n else "") + f" {n}")
    console.print(table)


def cmd_manual(args) -> int:
    from grader import api

    files = api.manual(args.submissions, assignment=args.assignment, out=args.out,
                       course=args.course, roster=args.roster, seed=args.seed)
    pages = [p for k, p in files.items() if k != "key"]
    print(f"wrote {len(pages)} grading page{'s' * (len(pages) != 1)}: "
          + ", ".join(str(p) for p in pages))
    print(f"wrote {files['key']} (anonymous id -> student: keep it off the graders' screens)")
    print("grade with the keys n/p and 1-9, then Download manual.csv and run "
          "grader grade ... --manual manual.csv --manual-key " + str(files["key"]))
    return 0


def cmd_list(args) -> int:
    from grader import api

    assignments = api.list_assignments(course=args.course)
    if not assignments:
        root = args.course or Path.cwd()
        print(f"no assignments under {Path(root) / 'solutions'}", file=sys.stderr)
        return 2
    for a in assignments:
        print(f"{a.name}: {a.title}  ({a.max_score:g} points, gpu: {a.gpu})")
        for q in a.questions:
            print(f"  {q.id:<6} {q.points:>4g}  {q.title}"
                  + (f"  (graded by hand, {len(q.rubric)} rubric items)" if q.manual else ""))
    return 0


def cmd_new(args) -> int:
    from grader import api

    written = api.new(args.name, course=args.course, title=args.title)
    directory = written[0].parent
    print(f"wrote {directory}/:")
    for path in written:
        print(f"  {path.relative_to(directory)}")
    course = "" if args.course is None else f"--course {args.course} "
    print(f"next: edit {args.name}.ipynb and tests/, then `grader {course}assign {args.name}` and "
          f"`grader {course}verify {args.name}`")
    return 0


def cmd_assign(args) -> int:
    from grader import api

    if not args.names and not args.all:
        print("grader: UsageError: name the assignments to release, or pass --all", file=sys.stderr)
        return 2
    report = api.assign(args.names, course=args.course, check=args.check)
    problems = [p for diffs in report.values() for p in diffs]
    for name, diffs in report.items():
        print(f"{name}: {'out of date' if diffs else ('up to date' if args.check else 'released')}")
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


def cmd_check(args) -> int:
    from rich.console import Console

    from grader.check import check_notebook

    console = Console(highlight=False)
    report = check_notebook(args.notebook, questions=args.questions, sandbox=args.sandbox,
                            limits=_check_limits(args))
    if report.sandbox != "none":
        where = f"in a clean {report.sandbox} sandbox"
    else:
        where = "unsandboxed" if report.unsandboxed else "unsandboxed (--sandbox none)"
    console.print(f"[bold]{shown(report.notebook.name)}[/] ({shown(report.assignment)}): ran top to bottom "
                  f"{where}{'' if report.status == 'ok' else f' but it stopped: {shown(report.reason)}'}",
                  soft_wrap=True)
    if report.unsandboxed:
        console.print(f"[yellow]unsandboxed:[/] {shown(report.unsandboxed)}; it ran as a plain process "
                      "with resource limits, which is fine for your own notebook", soft_wrap=True)
    for q in report.questions:
        mark = "[green]pass[/]" if q.passed else "[red]fail[/]"
        console.print(f"  {shown(q.label)}: public tests {mark}", soft_wrap=True)
        for line in q.problems:
            console.print(f"    {shown(line)}", soft_wrap=True)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {shown(w)}", soft_wrap=True)
    console.print("Public tests are a first check only: the hidden tests decide the grade.")
    return 0 if report.all_passed else 1


def _check_limits(args) -> dict:
    """The limits given on `grader check`'s command line."""
    given = {key: getattr(args, key) for _, key, _, _ in _limit_flags() if getattr(args, key) is not None}
    return given | ({} if args.timeout is None else {"notebook_timeout": args.timeout})


def cmd_verify(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from grader import api

    console = Console(highlight=False)
    seeds = {} if args.seeds is None else {"seeds": args.seeds}
    checks = api.verify(args.names, course=args.course, sandbox=args.sandbox, jobs=args.jobs, out=args.out,
                        **seeds)
    table = Table(title="verify")
    for col in ("assignment", "notebook", "expected", "score", "result", "detail"):
        table.add_column(col, overflow="fold")
    for c in checks:
        table.add_row(shown(c.assignment), shown(c.notebook), shown(c.expectation),
                      f"{c.score:g}/{c.max_score:g}", "[green]ok[/]" if c.ok else "[red]FAIL[/]",
                      shown(c.detail))
    console.print(table)
    failed = [c for c in checks if not c.ok]
    n_mutants = sum(c.notebook.startswith("mutant-") for c in checks)
    forged = [c for c in checks if c.notebook == api.FORGERS_NOTEBOOK]
    console.print(f"{len(checks) - len(failed)} of {len(checks)} checks hold "
                  f"({n_mutants} mutants over {len({c.assignment for c in checks})} assignments); "
                  f"{sum(c.score for c in forged):g} of {sum(c.max_score for c in forged):g} "
                  "(forger, hidden test) pairs pass under a forging runner")
    rates = []
    for name in dict.fromkeys(c.assignment for c in checks):
        mutants = [c for c in checks if c.assignment == name and c.notebook.startswith("mutant-")]
        if mutants:
            rates.append(f"{shown(name)} {min(c.score / c.max_score for c in mutants):.0%}")
    if rates:
        console.print("lowest kill rate of a mutant over the seeds: " + ", ".join(rates))
    return 1 if failed else 0


def cmd_serve(args) -> int:
    from grader.serve import cli as serve_cli

    return serve_cli.run(args)


def cmd_export(args) -> int:
    from grader.platforms.export import export

    out = export(args.platform, args.name, out=args.out, course=args.course)
    print(f"wrote {out}")
    return 0


COMMANDS = {"serve": cmd_serve, "grade": cmd_grade, "list": cmd_list, "assign": cmd_assign, "verify": cmd_verify,
            "check": cmd_check, "new": cmd_new, "export": cmd_export, "manual": cmd_manual}


if __name__ == "__main__":
    sys.exit(main())
