"""Load and soak benchmark (not a test): the real server answering /api/rate, /api/search and
/api/timeline at fixed request rates on loopback, and its memory over a long run.

Load mode: for each endpoint and each --rates value (default 200, 500 and 1,000 requests/s),
--duration seconds of varied queries; one row per run: achieved rate, p50/p90/p99/max latency,
errors. Soak mode (--soak-minutes M): the three endpoints mixed at --soak-rate (default 200)
for M minutes while the server's memory (RSS, and PSS summed over its worker processes) is
sampled every --sample-seconds; the samples go to a JSON file and a plot (matplotlib) of memory
over time, and the report gives the growth (last minute vs first minute, and the fitted slope).

The server: `tariffstack serve` (one uvicorn worker, engine in memory), or with --workers N a
pre-fork launcher (this file, internal `--serve-workers N`): it loads the engine once, freezes
it out of the garbage collector, binds the socket, then forks N uvicorn workers that share the
socket and the model pages copy-on-write.

Load tool: wrk (apt-get install wrk) with a generated Lua script when available, each connection
paced with wrk's delay() hook; else (or --tool python) an open-loop asyncio + httpx generator
that sends each request at its scheduled time and measures latency from that time, so queueing
is counted (no coordinated omission). Both run on the same cores as the server: on two cores the
generator takes a share of the CPU, so the figures are a floor for a dedicated client.

Run:
  .venv/bin/python benchmarks/bench_load.py --duration 20                   # 3 endpoints x 3 rates
  .venv/bin/python benchmarks/bench_load.py --endpoints rate --rates 200 --workers 2
  .venv/bin/python benchmarks/bench_load.py --soak-minutes 10 --plot soak.png  # memory over time
Targets: p99 <= 20 ms at 200 requests/s on 2 cores, zero errors; in the soak, no memory growth
beyond noise (the report's growth figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ORIGINS = ["CN", "HK", "VN", "DE", "FR", "IT", "GB", "CA", "MX", "JP", "KR", "IN", "BR", "TW",
           "TH", "MY", "ID", "CH", "AU", "TR", "ZA", "RU", "SG", "PH", "BD", "KH", "IL", "CL",
           "AR", "NG"]
CHAPTERS = ["03", "09", "22", "27", "29", "30", "39", "40", "44", "48", "61", "62", "64", "69",
            "72", "73", "76", "84", "85", "87", "88", "90", "94", "95"]
WORDS = ["laptop", "smartphone", "steel", "aluminum", "copper wire", "coffee", "tea", "wine",
         "shoes", "t-shirt", "bicycle", "toys", "furniture", "car parts", "solar panels", "salmon",
         "lumber", "tires", "cotton", "printer", "television", "medicine", "8517", "7208.51",
         "0901", "9403", "8703.23", "6109.10"]
ENDPOINTS = ("rate", "search", "timeline", "bulk")
BULK_LINES = 50   # lines per uploaded file on the bulk endpoint (POST /api/calc/file, text/csv)
TARGET_P99_MS = 20.0


# ---- the server ---------------------------------------------------------------------------------

def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, int]:
    """`tariffstack serve` (one worker) or the pre-fork launcher (--workers N); its URL."""
    if args.workers > 1:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-workers", str(args.workers)]
    else:
        cmd = [sys.executable, "-m", "tariffstack.surfaces.cli"]
    if args.data_dir:
        cmd += ["--data-dir", str(args.data_dir)]
    if args.home:
        cmd += ["--home", str(args.home)]
    if args.workers <= 1:
        cmd += ["serve", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "tariffstack serving on http://127.0.0.1:PORT/ ..."
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
    url = next(w for w in line.split() if w.startswith("http://"))
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    return proc, url.rstrip("/"), port


def serve_workers(args: argparse.Namespace) -> None:
    """The pre-fork launcher: one engine, N uvicorn workers on one socket (Linux fork)."""
    from tariffstack.engine.us import Engine
    from tariffstack.surfaces.api.app import bind, create_app, make_server, url_for

    engine = Engine.load(args.data_dir, args.home)
    app = create_app(engine, data_dir=args.data_dir, home=args.home)
    app.state.service.warm()
    gc.collect()
    gc.freeze()  # the model's objects are never collected: keep them out of every GC pass
    sock = bind("127.0.0.1", 0)
    children: list[int] = []
    for _ in range(args.serve_workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            make_server(app, sock).run(sockets=[sock])
            os._exit(0)
        children.append(pid)
    print(f"tariffstack serving on {url_for(sock, '127.0.0.1')} ({len(children)} workers)", flush=True)

    def stop(*_: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        os._exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        signal.pause()


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def split_request(path: str) -> tuple[str, str, str | None]:
    """(method, path, body): a bulk request is written "POST <path>" and its CSV body on the
    following lines; every other one is a GET path."""
    if path.startswith("POST "):
        head, _, body = path.partition("\n")
        return "POST", head.removeprefix("POST "), body
    return "GET", path, None


def get_json(conn: http.client.HTTPConnection, path: str) -> tuple[int, Any]:
    method, target, body = split_request(path)
    conn.request(method, target, body=body, headers={"Content-Type": "text/csv"} if body is not None else {})
    resp = conn.getresponse()
    body = resp.read()
    try:
        return resp.status, json.loads(body) if body else None
    except ValueError:
        return resp.status, None


# ---- memory -------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    """Every process whose parent chain leads to ``pid`` (the forked workers), by /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found


def _kib(path: str, key: str) -> int:
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def memory_mib(pid: int) -> dict[str, float]:
    """RSS of the server process, and RSS and PSS summed over it and its workers, in MiB.

    PSS splits pages shared between forked workers among them, so the sum counts each once.
    """
    pids = [pid, *_children(pid)]
    rss = [_kib(f"/proc/{p}/status", "VmRSS:") for p in pids]
    pss = [_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids]
    return {"rss_main": round(rss[0] / 1024, 1), "rss_sum": round(sum(rss) / 1024, 1),
            "pss_sum": round(sum(pss) / 1024, 1), "processes": len(pids)}


class Sampler(threading.Thread):
    """Samples the server's memory every ``every`` seconds until stopped."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[dict[str, float]] = []
        self.stopped = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append({"t_s": round(time.monotonic() - self.t0, 1), **memory_mib(self.pid)})
            self.stopped.wait(self.every)

    def stop(self) -> list[dict[str, float]]:
        self.stopped.set()
        self.join(timeout=10)
        return self.samples


def growth(samples: list[dict[str, float]], key: str) -> dict[str, float | None]:
    """Median of the last minute minus the first (after warm-up), and the least-squares slope."""
    if len(samples) < 3:
        return {"first_minute_mib": None, "last_minute_mib": None, "growth_mib": None, "slope_mib_per_min": None}
    end = samples[-1]["t_s"]
    first = [s[key] for s in samples if s["t_s"] <= 60] or [samples[0][key]]
    last = [s[key] for s in samples if s["t_s"] >= end - 60] or [samples[-1][key]]
    ts = [s["t_s"] / 60 for s in samples]
    ys = [s[key] for s in samples]
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    den = sum((t - mt) ** 2 for t in ts)
    slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / den if den else 0.0
    return {"first_minute_mib": round(statistics.median(first), 1), "last_minute_mib": round(statistics.median(last), 1),
            "growth_mib": round(statistics.median(last) - statistics.median(first), 1),
            "slope_mib_per_min": round(slope, 3)}


def plot_memory(samples: list[dict[str, float]], out: Path, title: str) -> None:
    """Memory over time as a PNG or SVG (written through a temporary, so never half a file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tariffstack.files import atomic_path

    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    ts = [s["t_s"] / 60 for s in samples]
    ax.plot(ts, [s["rss_sum"] for s in samples], label="RSS (sum over processes)")
    if any(s["pss_sum"] for s in samples):
        ax.plot(ts, [s["pss_sum"] for s in samples], label="PSS (shared pages counted once)")
    ax.set_xlabel("minutes under load")
    ax.set_ylabel("MiB")
    ax.set_ylim(0, max(s["rss_sum"] for s in samples) * 1.2)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    with atomic_path(out) as tmp, tmp.open("wb") as fh:
        fig.savefig(fh, format=out.suffix.lstrip(".") or "png")
    plt.close(fig)


# ---- the queries --------------------------------------------------------------------------------

def make_paths(port: int, endpoint: str, n: int, seed: int) -> tuple[list[str], int, float]:
    """n varied paths of one endpoint answered 200 in warm-up (each asked once, which warms the
    server). Returns the paths, how many candidates were dropped (a code not in force on that
    date is a correct 404, not a server error) and the warm-up median latency in ms."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    _, health = get_json(conn, "/api/health")
    first = date.fromisoformat(health["coverage"]["first"])
    last = date.fromisoformat(health["coverage"]["last"])
    codes: list[str] = []
    for ch in CHAPTERS:
        _, got = get_json(conn, "/api/search?" + urlencode({"q": ch, "limit": 50}))
        codes += [h["hts"] for h in got["hits"]]
    span = (last - first).days
    dates = sorted({first + timedelta(days=rng.randrange(span + 1)) for _ in range(60)})

    def candidate() -> str:
        if endpoint == "rate":
            q = {"hts10": rng.choice(codes), "origin": rng.choice(ORIGINS), "date": rng.choice(dates).isoformat()}
        elif endpoint == "search":
            q = {"q": rng.choice(WORDS), "limit": rng.choice([5, 10, 20])}
        elif endpoint == "bulk":
            rows = [f"{rng.choice(codes)},{rng.choice(ORIGINS)},{rng.choice(dates).isoformat()},"
                    f"{rng.randint(100, 90000)}" for _ in range(BULK_LINES)]
            return "POST /api/calc/file\nhts10,origin,entry_date,value\n" + "\n".join(rows) + "\n"
        else:
            lo, hi = sorted(rng.sample(dates, 2))
            q = {"hts10": rng.choice(codes), "origins": ",".join(rng.sample(ORIGINS, rng.randint(1, 3))),
                 "from": lo.isoformat(), "to": hi.isoformat()}
        return f"/api/{endpoint}?" + urlencode(q)

    paths: list[str] = []
    dropped, lat, tries = 0, [], 0
    while len(paths) < n and tries < n * 3:
        tries += 1
        path = candidate()
        t0 = time.perf_counter()
        status, _ = get_json(conn, path)
        lat.append((time.perf_counter() - t0) * 1000)
        if status == 200:
            paths.append(path)
        else:
            dropped += 1
    conn.close()
    return paths, dropped, statistics.median(lat)


# ---- wrk ----------------------------------------------------------------------------------------

LUA = """
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } tsv_timeval;
           int gettimeofday(tsv_timeval *tv, void *tz); ]]
local tv = ffi.new("tsv_timeval")
local function now_ms() ffi.C.gettimeofday(tv, nil); return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000 end
local paths = {%(paths)s}
local cycle = %(cycle)f  -- ms between two requests of one wrk thread: threads / rate
local due = nil
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) math.randomseed(tid * 7919) end
function request()
  local p = paths[math.random(#paths)]
  local nl = p:find("\\n", 1, true)
  if nl and p:sub(1, 5) == "POST " then
    return wrk.format("POST", p:sub(6, nl - 1), {["Content-Type"] = "text/csv"}, p:sub(nl + 1))
  end
  return wrk.format("GET", p)
end
function delay()  -- a fixed schedule per thread; a late request is sent at once, never in a burst
  local t = now_ms()
  if due == nil then due = t + math.random() * cycle end
  due = due + cycle
  if due < t then due = t end
  return due - t
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"mean_us":%%f,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""
THREADS = 2


def run_wrk(url: str, paths: list[str], rate: float, duration: int, conns: int) -> dict[str, Any]:
    """wrk with a fixed schedule per thread (a LuaJIT clock in delay()): the rate is the
    target's unless the server falls behind, and then the achieved rate says so. wrk times each
    request from its sending, so a backlog shows in the achieved rate, not in the latency."""
    conns = max(conns, THREADS, int(rate // 5))  # enough that 200 ms answers still keep the pace
    lua = LUA % {"paths": ",".join(json.dumps(p) for p in paths), "cycle": 1000.0 * THREADS / rate}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
        script = fh.name
    try:
        out = subprocess.run(["wrk", "-t", str(THREADS), "-c", str(conns), "-d", f"{duration}s", "--timeout", "5s",
                              "-s", script, url], capture_output=True, text=True, timeout=duration + 60, check=True)
    finally:
        os.unlink(script)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
    w = json.loads(line.removeprefix("WRKJSON "))
    errors = {k: w[k] for k in ("connect", "read", "write", "status", "timeout") if w[k]}
    secs = w["duration_us"] / 1e6
    return {
        "tool": f"wrk ({THREADS} threads, {conns} connections, fixed schedule per thread)",
        "requests": w["requests"], "duration_s": round(secs, 2), "achieved_rps": round(w["requests"] / secs, 1),
        "latency_ms": {"p50": w["p50_us"] / 1000, "p90": w["p90_us"] / 1000, "p99": w["p99_us"] / 1000,
                       "max": w["max_us"] / 1000, "mean": round(w["mean_us"] / 1000, 3)},
        "errors": sum(errors.values()), "error_kinds": errors,
    }


# ---- open-loop python generator -----------------------------------------------------------------

async def _open_loop(url: str, paths: list[str], rate: float, duration: float, seed: int) -> dict[str, Any]:
    import httpx

    rng = random.Random(seed)
    n = int(rate * duration)
    lat: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=5.0) as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def one(due: float, path: str) -> None:
            try:
                method, target, body = split_request(path)
                resp = await (client.post(target, content=body, headers={"Content-Type": "text/csv"})
                              if method == "POST" else client.get(target))
                if resp.status_code != 200:
                    errors[str(resp.status_code)] = errors.get(str(resp.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            lat.append((loop.time() - due) * 1000)  # from the scheduled time: queueing counts

        pending: set[asyncio.Task[None]] = set()
        for i in range(n):  # tasks are made as they fall due, so a long soak holds few at once
            due = start + i / rate
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(one(due, rng.choice(paths)))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        secs = loop.time() - start
    lat.sort()

    def q(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3)

    return {
        "tool": "python open-loop (asyncio + httpx; latency from each request's scheduled time)",
        "requests": n, "duration_s": round(secs, 2), "achieved_rps": round(n / secs, 1),
        "latency_ms": {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": round(lat[-1], 3),
                       "mean": round(statistics.fmean(lat), 3)},
        "errors": sum(errors.values()), "error_kinds": errors,
    }


def drive(tool: str, url: str, paths: list[str], rate: float, duration: int,
          args: argparse.Namespace) -> dict[str, Any]:
    if tool == "wrk":
        return run_wrk(url, paths, rate, duration, args.connections)
    return asyncio.run(_open_loop(url, paths, rate, duration, args.seed))


# ---- main ---------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--endpoints", default=",".join(ENDPOINTS), help="comma list of rate,search,timeline,bulk")
    ap.add_argument("--rates", default="200,500,1000", help="comma list of requests per second")
    ap.add_argument("--rate", type=float, help="one rate (same as --rates N)")
    ap.add_argument("--duration", type=int, default=20, help="seconds of measured load per run")
    ap.add_argument("--soak-minutes", type=float, default=0.0, help="soak mode: minutes of mixed load")
    ap.add_argument("--soak-rate", type=float, default=200.0, help="requests per second in the soak")
    ap.add_argument("--soak-endpoints", default="rate,search",
                    help="endpoints mixed in the soak (timeline holds ~10-20 req/s on 2 cores: add it at a lower rate)")
    ap.add_argument("--sample-seconds", type=float, default=5.0, help="memory sampling period")
    ap.add_argument("--plot", type=Path, default=Path("soak-memory.png"), help="soak chart (.png or .svg)")
    ap.add_argument("--samples-out", type=Path, help="soak samples as JSON (default: beside the plot)")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes (pre-fork when > 1)")
    ap.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections (at least rate/5)")
    ap.add_argument("--queries", type=int, default=1000, help="distinct queries per endpoint")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--home", type=Path)
    ap.add_argument("--serve-workers", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_workers:
        serve_workers(args)
        return
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    if args.soak_minutes > 0:
        endpoints = [e.strip() for e in args.soak_endpoints.split(",") if e.strip()]
    if bad := [e for e in endpoints if e not in ENDPOINTS]:
        raise SystemExit(f"unknown endpoint(s) {', '.join(bad)}: use {', '.join(ENDPOINTS)}")
    rates = [args.rate] if args.rate else [float(r) for r in args.rates.split(",")]
    t0 = time.perf_counter()
    proc, url, port = start_server(args)
    startup_s = time.perf_counter() - t0
    server = f"tariffstack serve ({args.workers} uvicorn worker{'s' if args.workers > 1 else ''})"
    report: dict[str, Any] = {"server": server, "tool": tool, "cpus": os.cpu_count(),
                              "server_startup_s": round(startup_s, 2), "memory_at_start_mib": memory_mib(proc.pid)}
    try:
        paths = {e: make_paths(port, e, args.queries, args.seed) for e in endpoints}
        report["warmup"] = {e: {"distinct": len(p), "dropped_non_200": d, "median_ms": round(m, 3)}
                            for e, (p, d, m) in paths.items()}
        if args.soak_minutes > 0:
            report["soak"] = soak(tool, url, proc.pid, paths, args)
        else:
            runs = []
            for e in endpoints:
                for r in rates:
                    res = drive(tool, url, paths[e][0], r, args.duration, args)
                    runs.append({"endpoint": "/api/calc/file (POST, 50 lines)" if e == "bulk" else f"/api/{e}", "target_rps": r, **res})
                    print(_row(runs[-1]), file=sys.stderr, flush=True)
            report["runs"] = runs
            at200 = [x for x in runs if x["target_rps"] == 200 and x["endpoint"] == "/api/rate"]
            if at200:
                report["target"] = {"p99_ms": TARGET_P99_MS, "errors": 0,
                                    "met": at200[0]["latency_ms"]["p99"] <= TARGET_P99_MS and at200[0]["errors"] == 0}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        report["server_alive_after"] = get_json(conn, "/api/health")[0] == 200
        report["memory_at_end_mib"] = memory_mib(proc.pid)
    finally:
        stop_server(proc)
    print(json.dumps(report, indent=2))


def soak(tool: str, url: str, pid: int, paths: dict[str, tuple[list[str], int, float]],
         args: argparse.Namespace) -> dict[str, Any]:
    """Mixed load for --soak-minutes with memory sampled; writes the samples and the plot."""
    chosen = [e.strip() for e in args.soak_endpoints.split(",") if e.strip()]
    mixed = [p for e in chosen for p in paths[e][0]]
    random.Random(args.seed).shuffle(mixed)
    sampler = Sampler(pid, args.sample_seconds)
    sampler.start()
    res = drive(tool, url, mixed, args.soak_rate, int(args.soak_minutes * 60), args)
    samples = sampler.stop()
    title = (f"tariffstack serve memory, {args.soak_rate:g} req/s of {'/'.join(chosen)}, "
             f"{args.workers} worker{'s' if args.workers > 1 else ''}")
    plot_memory(samples, args.plot, title)
    out = args.samples_out or args.plot.with_suffix(".json")
    out.write_text(json.dumps(samples, indent=0) + "\n", encoding="utf-8")
    return {"minutes": args.soak_minutes, "endpoints": chosen, "target_rps": args.soak_rate, **res,
            "memory_samples": len(samples), "rss_sum": growth(samples, "rss_sum"),
            "pss_sum": growth(samples, "pss_sum"), "plot": str(args.plot), "samples": str(out)}


def _row(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    return (f"{r['endpoint']:14} {r['target_rps']:6g} req/s -> {r['achieved_rps']:7.1f} achieved, p50 {lat['p50']:.1f} "
            f"p99 {lat['p99']:.1f} max {lat['max']:.1f} ms, errors {r['errors']}")


if __name__ == "__main__":
    main()
