"""`make bench-serve`: `grader serve` under load from a loopback client, on SQLite and PostgreSQL.

    python -m grader.serve.bench [--assignment custom_model] [--students 50] [-n 300]
                                 [--rate 5] [--jobs 2] [--db sqlite,postgresql]

For each database it starts the real service (`grader serve`, a subprocess, its own worker slots),
makes one token per student of a roster of --students, and has that many client threads upload
-n notebooks at --rate uploads a second in all (open loop: upload k is sent at k / rate whatever
the service does), a mix of the assignment's solution, its mutants and the adversarial corpus
(tests/adversarial/, less the cases that run into a time limit).  From the database afterwards:
per submission, the time from the client starting its upload to its result being recorded, less
the notebook's own compute (its cells and its code inside probes, timed in the student process);
its p50 and p95; the throughput; and the upload answer's own latency at the client.

Then the kill phase: --kill-n more uploads at the same rate, with `kill -9` of the server a third
of the way through (restarted at once; clients whose upload failed send it again, as a student
would) and `kill -9` of a worker slot two thirds of the way.  Every receipt must end graded
exactly once (`gradings` 1); rows without a receipt are uploads cut off by the kill.

Writes out/bench-serve/bench-serve.json.  Targets are reported as met or not; no test asserts them.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from grader import assign as assign_mod
from grader import assignment as assignment_mod

TARGETS = {"p95_beyond_notebook_s": 0.300}
WAIT_S = 300


# -- the class ------------------------------------------------------------------------------
def build_mix(asg, release, course: Path, dest: Path, n: int) -> list[tuple[str, bytes]]:
    """`n` (kind, notebook bytes): a third the solution, every sixth an adversarial case (where
    the corpus is in the checkout), the rest the mutants in turn."""
    dest.mkdir(parents=True, exist_ok=True)
    mutants = assign_mod.load_mutants(asg)
    attacks = _corpus(course, dest / "corpus")
    out = []
    for i in range(n):
        if i % 6 == 5 and attacks:
            name, raw = attacks[(i // 6) % len(attacks)]
            out.append((f"attack:{name}", raw))
        elif i % 3 == 0 or not mutants:
            out.append(("solution", release.solution.read_bytes()))
        else:
            m = mutants[i % len(mutants)]
            path = dest / f"m{i}.ipynb"
            assign_mod.apply_mutant(release.solution, m, path)
            out.append((f"mutant:{m.name}", path.read_bytes()))
    return out


def _corpus(course: Path, dest: Path) -> list[tuple[str, bytes]]:
    """The adversarial corpus's notebooks, less the cases that run into a time limit (each holds
    a slot for a cell's whole timeout; the batch tests grade those)."""
    root, helper = course / "tests" / "adversarial", course / "tests" / "corpus.py"
    if not helper.is_file() or not root.is_dir():
        return []
    sys.path.insert(0, str(helper.parent))
    try:
        spec = importlib.util.spec_from_file_location("grader_bench_corpus", helper)
        corpus = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(corpus)
    finally:
        sys.path.remove(str(helper.parent))
    keep = []
    for name in corpus.cases(root):
        exp = corpus.expected(root, name)
        statuses = {exp.get("status"), *exp.get("status_in", [])}
        if "timeout" in statuses or exp.get("folder"):
            continue
        keep.append(name)
    made = corpus.build_class(root, dest, "bwrap", ["bwrap", "bwrap-cold", "podman"], only=keep,
                              values={"LISTEN_PORT": "9"})
    return [(name, (dest / f"{name}.ipynb").read_bytes()) for name in made]


# -- the service ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`grader serve` as a subprocess, started and killed as an operator would."""

    def __init__(self, course: Path, roster: Path, data: Path, db: str | None, jobs: int,
                 sandbox: str) -> None:
        self.port = _free_port()
        self.argv = [sys.executable, "-m", "grader.cli", "serve", "--course", str(course),
                     "--roster", str(roster), "--data", str(data), "--port", str(self.port),
                     "--jobs", str(jobs), "--sandbox", sandbox]
        if db:
            self.argv += ["--db", db]
        self.log = open(data / "server.log", "ab")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"grader serve exited {self.proc.returncode}; see {self.log.name}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("grader serve did not answer /healthz")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def worker_pids(self) -> list[int]:
        out = []
        for proc in Path("/proc").iterdir():
            try:
                stat = (proc / "stat").read_text()
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid and b"grader.worker" in cmd:
                out.append(int(proc.name))
        return out

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.log.close()


def request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None,
            timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def upload(port: int, token: str, assignment: str, raw: bytes) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"assignment\"\r\n\r\n"
            f"{assignment}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"notebook\"; "
            f"filename=\"submission.ipynb\"\r\nContent-Type: application/x-ipynb+json\r\n\r\n"
            ).encode() + raw + f"\r\n--{boundary}--\r\n".encode()
    status, data = request(port, "POST", "/api/submissions", body, {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        return status, json.loads(data)
    except ValueError:
        return status, {}


# -- the load -------------------------------------------------------------------------------
class Load:
    """Open-loop uploads: upload k goes out at start + k / rate, from its student's thread."""

    def __init__(self, server: Server, tokens: list[str], assignment: str,
                 mix: list[tuple[str, bytes]], rate: float) -> None:
        self.server, self.tokens, self.assignment = server, tokens, assignment
        self.mix, self.rate = mix, rate
        self.sent: list[dict] = []           # receipts: id, kind, sent, answered
        self.failed = 0                       # uploads sent again after no answer (a kill)
        self.refused: list[tuple[int, dict]] = []
        self.lock = threading.Lock()
        self.events: dict[int, threading.Event] = {}

    def run(self, at: dict[int, callable] | None = None) -> float:
        """Send every upload; `at` maps an upload's index to an action taken when it is due.
        Returns the seconds from the first upload to the last receipt."""
        start = time.time() + 0.5
        per_student: dict[int, list[int]] = {}
        for k in range(len(self.mix)):
            per_student.setdefault(k % len(self.tokens), []).append(k)
        threads = [threading.Thread(target=self._student, args=(s, ks, start), daemon=True)
                   for s, ks in per_student.items()]
        for t in threads:
            t.start()
        for k, action in sorted((at or {}).items()):
            time.sleep(max(0.0, start + k / self.rate - time.time()))
            action()
        for t in threads:
            t.join()
        return max(r["answered"] for r in self.sent) - start

    def _student(self, s: int, ks: list[int], start: float) -> None:
        for k in ks:
            time.sleep(max(0.0, start + k / self.rate - time.time()))
            kind, raw = self.mix[k]
            sent = time.time()
            while True:
                try:
                    status, body = upload(self.server.port, self.tokens[s], self.assignment, raw)
                except OSError:        # the server was killed: a student uploads again
                    with self.lock:
                        self.failed += 1
                    time.sleep(0.2)
                    continue
                if status == 202:
                    with self.lock:
                        self.sent.append({"id": body["id"], "kind": kind, "sent": sent,
                                          "answered": time.time()})
                else:
                    with self.lock:
                        self.refused.append((status, body))
                break


def wait_graded(db_url: str, ids: set[int], timeout: float = 900) -> dict[int, dict]:
    """The rows of `ids` once none is queued or running."""
    from sqlalchemy import create_engine, text

    from grader.serve.db import _driver

    engine = create_engine(_driver(db_url))
    deadline = time.monotonic() + timeout
    try:
        while True:      # a light query while the service works; the rows once, at the end
            with engine.connect() as conn:
                waiting = conn.execute(text(
                    "SELECT count(*) FROM submissions WHERE status IN ('queued', 'running')")
                ).scalar()
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with engine.connect() as conn:
            return {r.id: r._asdict() for r in conn.execute(text(
                "SELECT id, status, submitted_at, started_at, finished_at, claims, gradings, "
                "result FROM submissions"))}
    finally:
        engine.dispose()


def own_compute(row: dict) -> float:
    timing = json.loads(row["result"]).get("timing", {}) if row.get("result") else {}
    return timing.get("cells_s", 0.0) + timing.get("probe_compute_s", 0.0)


def _wall(row: dict) -> float:
    return json.loads(row["result"] or "{}").get("timing", {}).get("wall_s", 0.0)


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


# -- one database ---------------------------------------------------------------------------
def run_db(name: str, db_url: str | None, args, course: Path, asg, mix, kill_mix,
           work: Path) -> dict:
    data = work / f"data-{name}"
    data.mkdir()
    roster = work / "roster.csv"
    roster.write_text("student,name\n" + "".join(f"s{i:03d},학생 {i}\n"
                                                 for i in range(args.students)), "utf-8")
    url = db_url or f"sqlite:///{data / 'grader.sqlite3'}"
    out = subprocess.run([sys.executable, "-m", "grader.cli", "serve", "tokens", "--roster",
                          str(roster), "--data", str(data), "--db", url, "--out",
                          str(work / f"tokens-{name}.csv")], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    tokens = [line.split(",")[1] for line in
              (work / f"tokens-{name}.csv").read_text().splitlines()[1:]]
    server = Server(course, roster, data, url, args.jobs, args.sandbox)
    server.start()
    try:
        # one upload first: the slots' head start done, as on a server that has been up a while
        status, body = upload(server.port, tokens[0], asg.name, mix[0][1])
        assert status == 202, body
        wait_graded(url, {body["id"]})
        load = Load(server, tokens, asg.name, mix, args.rate)
        span = load.run()
        rows = wait_graded(url, {r["id"] for r in load.sent})
        steady = _figures(load, rows, span, args)

        if not kill_mix:
            return {"db": name, **steady, "kill": None}
        kill = Load(server, tokens, asg.name, kill_mix, args.rate)
        killed = {}

        def kill_server():
            server.kill9()
            killed["server_at"] = time.time()
            server.start()
            killed["server_back_s"] = round(time.time() - killed["server_at"], 2)

        def kill_worker():
            pids = server.worker_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed["worker"] = pids[0]

        n = len(kill_mix)
        kill.run({n // 3: kill_server, (2 * n) // 3: kill_worker})
        rows = wait_graded(url, {r["id"] for r in kill.sent})
        receipts = [r["id"] for r in kill.sent]
        before = {r["id"] for r in load.sent} | {body["id"]}
        extra = [i for i in rows if i not in before and i not in receipts]
        kill_figures = {
            "uploads": n, "receipts": len(receipts), "uploads_sent_again": kill.failed,
            "server_restart_s": killed.get("server_back_s"),
            "worker_killed": "worker" in killed,
            "receipts_graded_once": sum(1 for i in receipts if rows[i]["gradings"] == 1
                                        and rows[i]["status"] not in ("queued", "running")),
            "receipts_lost": sum(1 for i in receipts if i not in rows),
            "receipts_graded_twice": sum(1 for i in receipts if rows[i]["gradings"] > 1),
            "rows_without_receipt": len(extra),
            "claimed_again": sum(1 for i in receipts if rows[i]["claims"] > 1),
            "refused": len(kill.refused),
        }
        kill_figures["nothing_lost_or_twice"] = (
            kill_figures["receipts_graded_once"] == len(receipts) == n - len(kill.refused))
        return {"db": name, **steady, "kill": kill_figures}
    finally:
        server.stop()


def _figures(load: Load, rows: dict, span: float, args) -> dict:
    done = [r for r in load.sent if rows.get(r["id"], {}).get("finished_at")]
    beyond = [rows[r["id"]]["finished_at"] - r["sent"] - own_compute(rows[r["id"]]) for r in done]
    total = [rows[r["id"]]["finished_at"] - r["sent"] for r in done]
    # what the service adds to the engine: the upload, the queue, the database, the report
    service = [rows[r["id"]]["finished_at"] - r["sent"] - _wall(rows[r["id"]]) for r in done]
    answer = [r["answered"] - r["sent"] for r in load.sent]
    finished = max(rows[r["id"]]["finished_at"] for r in done) if done else float("nan")
    first = min(r["sent"] for r in load.sent)
    statuses: dict[str, int] = {}
    for r in load.sent:
        st = rows.get(r["id"], {}).get("status", "missing")
        statuses[st] = statuses.get(st, 0) + 1
    by_kind: dict[str, list[float]] = {}
    for r in done:
        row = rows[r["id"]]
        by_kind.setdefault(r["kind"].split(":")[0], []).append(row["finished_at"] - row["started_at"])
    wait = [rows[r["id"]]["started_at"] - r["sent"] for r in done]
    slowest = sorted(((rows[r["id"]]["finished_at"] - rows[r["id"]]["started_at"], r["kind"])
                      for r in done), reverse=True)[:8]
    timings: dict[str, list[float]] = {}
    for r in done:
        t = json.loads(rows[r["id"]]["result"] or "{}").get("timing", {})
        for key, value in t.items():
            if isinstance(value, (int, float)) and key.endswith("_s"):
                timings.setdefault(key, []).append(value)
    return {
        "p50_queue_wait_s": round(quantile(wait, 0.5), 3),
        "p95_queue_wait_s": round(quantile(wait, 0.95), 3),
        "p50_grading_s_by_kind": {k: round(quantile(v, 0.5), 3) for k, v in by_kind.items()},
        "p50_timing_s": {k: round(quantile(v, 0.5), 3) for k, v in sorted(timings.items())},
        "slowest_gradings": [{"kind": k, "s": round(t, 2)} for t, k in slowest],
        "p50_own_compute_s": round(quantile([own_compute(rows[r["id"]]) for r in done], 0.5), 3),
        "uploads": len(load.mix), "receipts": len(load.sent), "refused": len(load.refused),
        "offered_rate_per_s": args.rate,
        "upload_span_s": round(span, 2),
        "throughput_per_s": round(len(done) / (finished - first), 3),
        "p50_beyond_notebook_s": round(quantile(beyond, 0.5), 3),
        "p95_beyond_notebook_s": round(quantile(beyond, 0.95), 3),
        "p50_upload_to_report_s": round(quantile(total, 0.5), 3),
        "p95_upload_to_report_s": round(quantile(total, 0.95), 3),
        "p50_beyond_grading_s": round(quantile(service, 0.5), 3),
        "p95_beyond_grading_s": round(quantile(service, 0.95), 3),
        "p50_upload_answer_s": round(quantile(answer, 0.5), 4),
        "p95_upload_answer_s": round(quantile(answer, 0.95), 4),
        "graded_twice": sum(1 for r in load.sent if rows[r["id"]]["gradings"] > 1),
        "statuses": statuses,
    }


def start_postgres(work: Path) -> tuple[str, callable]:
    """A throwaway PostgreSQL cluster (initdb, pg_ctl; as the postgres user when root)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL here: make system-deps installs Debian's postgresql")
    bindir = found[-1].parent
    root = Path(tempfile.mkdtemp(prefix="grader-bench-pg-"))
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(root / "data"), "-A", "trust",
                    "-U", "postgres", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l",
                    str(root / "log"), "-w", "-o", f"-p {port} -k {root} "
                    "-c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)

    def stop():
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m",
                        "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="grader.serve.bench", description=__doc__.splitlines()[0])
    p.add_argument("--assignment", default="custom_model")
    p.add_argument("--students", type=int, default=50)
    p.add_argument("-n", type=int, default=300, help="uploads in the measured load")
    p.add_argument("--kill-n", type=int, default=100, help="uploads in the kill phase")
    p.add_argument("--rate", type=float, default=5.0, help="uploads a second, all students")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="worker slots")
    p.add_argument("--sandbox", default="auto")
    p.add_argument("--db", default="sqlite,postgresql",
                   help="the databases to run on, comma-separated: sqlite, postgresql")
    p.add_argument("--out", type=Path, default=Path("out/bench-serve"))
    p.add_argument("--course", type=Path, default=Path.cwd())
    args = p.parse_args(argv)
    course = args.course.resolve()
    asg = assignment_mod.load(args.assignment, course)
    runs = []
    with tempfile.TemporaryDirectory(prefix="grader-bench-serve-") as tmp:
        work = Path(tmp)
        release = assign_mod.build_release(asg, work / "release")
        mix = build_mix(asg, release, course, work / "mix", args.n)
        kill_mix = build_mix(asg, release, course, work / "mix-kill", args.kill_n) \
            if args.kill_n else []
        for name in [d.strip() for d in args.db.split(",") if d.strip()]:
            if name == "postgresql":
                url, stop = start_postgres(work)
                try:
                    runs.append(run_db(name, url, args, course, asg, mix, kill_mix, work))
                finally:
                    stop()
            elif name == "sqlite":
                runs.append(run_db(name, None, args, course, asg, mix, kill_mix, work))
            else:
                p.error(f"--db: unknown database {name!r}; choose sqlite or postgresql")
            _print(runs[-1])
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version(),
                          "load_average_at_end": os.getloadavg()},
              "assignment": asg.name, "students": args.students, "jobs": args.jobs,
              "sandbox": args.sandbox, "mix": _kinds(mix), "runs": runs,
              "targets": {f"{r['db']}:{k}": {"target": t, "value": r[k], "met": r[k] <= t}
                          for r in runs for k, t in TARGETS.items()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-serve.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out / 'bench-serve.json'}")
    ok = all((r["kill"] is None or r["kill"]["nothing_lost_or_twice"]) and not r["graded_twice"] for r in runs)
    return 0 if ok else 1


def _kinds(mix) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind, _ in mix:
        k = kind.split(":")[0]
        out[k] = out.get(k, 0) + 1
    return out


def _print(r: dict) -> None:
    print(f"{r['db']}: {r['receipts']}/{r['uploads']} receipts at {r['offered_rate_per_s']:g}/s; "
          f"throughput {r['throughput_per_s']}/s; beyond the notebook's own time p50 "
          f"{r['p50_beyond_notebook_s']} s, p95 {r['p95_beyond_notebook_s']} s; beyond the "
          f"worker's grading p50 {r['p50_beyond_grading_s']} s, p95 {r['p95_beyond_grading_s']} "
          f"s; upload answer "
          f"p95 {r['p95_upload_answer_s']} s; statuses {r['statuses']}")
    k = r["kill"]
    if k is None:
        return
    print(f"  kill -9 server + worker: {k['receipts']} receipts, {k['receipts_graded_once']} "
          f"graded once, {k['receipts_lost']} lost, {k['receipts_graded_twice']} twice, "
          f"{k['rows_without_receipt']} rows without a receipt, server back in "
          f"{k['server_restart_s']} s")


if __name__ == "__main__":
    sys.exit(main())
