"""Viewers benchmark: simulated readers over Streamlit's own websocket protocol, one replica against two.

    .venv/bin/python bench/viewers.py                       # 1 and 2 replicas behind nginx, both phases
    .venv/bin/python bench/viewers.py --replicas 1,2,3 --duration 90
    .venv/bin/python bench/viewers.py --url http://localhost:8080 --viewers 20 --think 5   # a running server

Each simulated viewer is what a browser tab does, without the browser: it loads the page over HTTP (which
gives it the load balancer's affinity cookie), opens ws://host/_stcore/stream and sends the rerun BackMsg
a browser sends (ClientState: the page's url path as page_name on the first run, then the page's script
hash from the navigation ForwardMsg, the query string, its widget states), and reads ForwardMsgs until
script_finished: that is one page run, timed from the request to script_finished. Then it thinks (default
10 s, exponential; uniform on request) and opens another public page (`PUBLIC_PAGES`, as app.py names
them) in the same session, as a reader clicking through the sidebar does.

Viewers read as signed-out members of the public: the benchmark starts the dashboards with sign-in
configured (a throwaway [auth] section whose provider is never contacted, PEER_DEMO_MODE=off), so a
visitor who has not signed in is the public reader. Against a server in demo mode (--url), each viewer
first switches "View the dashboard as" to the public, as a person would in the sidebar.

For each replica count (`python -m dashboard.replicas`, nginx in front, so one and two replicas pay the
same proxy) it runs two phases over the same warehouse (the demo state, built once under bench/out/):

- throughput: `--busy-viewers` (16) viewers with no think time for `--duration` seconds: page runs/s;
- readers: `--viewers` (50) viewers thinking `--think` (10) s between pages: p50/p95 page-run latency.

Viewers are spread evenly over the replicas (each presents an affinity cookie that nginx maps to its
replica), as many readers would be; --random-affinity lets each take nginx's random cookie instead.
Runs finished inside the measured window count (a ramp and warm-up before it do not). Errors are failed
connections, timeouts, script exceptions, error alerts and "page not found". Results: bench/results/
viewers.json and a Markdown table on stdout. The machine's CPU use, the dashboards' and this client's own
CPU time are reported with each phase: on a small machine the simulated viewers compete with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results" / "viewers.json"

PUBLIC_PAGES = ("", "integration", "regions", "certification", "retention", "billing", "definitions")
"""The url paths (app.py) of the pages a signed-out reader may open; "" is the overview."""
PUBLIC_CHOICE = "Public: signed-out visitor"  # dashboard.auth's demo-mode switcher option for the public
DEMO_SWITCH = "View the dashboard as"


class ProtocolError(Exception):
    pass


@dataclass
class PageRun:
    """One script run: what the page showed (text elements) and how long it took."""

    page: str
    seconds: float
    finished: float  # time.monotonic() when script_finished arrived
    texts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    replica: str = ""
    selectboxes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # label -> (widget id, options)

    @property
    def ok(self) -> bool:
        return not self.errors


def _texts(element, out: list[str], errors: list[str], boxes: dict) -> None:
    kind = element.WhichOneof("type")
    if kind in ("markdown", "heading", "text"):
        out.append(getattr(element, kind).body)
    elif kind == "metric":
        out.append(f"{element.metric.label}: {element.metric.body}")
    elif kind == "alert":
        out.append(element.alert.body)
        if element.alert.format == 1:  # Alert.ERROR
            errors.append(f"error alert: {element.alert.body[:200]}")
    elif kind == "exception":
        errors.append(f"exception: {element.exception.type}: {element.exception.message[:200]}")
    elif kind == "selectbox":
        boxes[element.selectbox.label] = (element.selectbox.id, list(element.selectbox.options))


class Session:
    """One browser tab on the dashboard: an affinity cookie, one websocket, one Streamlit session."""

    def __init__(self, base_url: str, timeout: float = 120.0):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.ws = None
        self.cookie = ""
        self.replica = ""  # the load balancer's X-Peer-Replica for this session ("" straight to a server)
        self.page_hashes: dict[str, str] = {}  # url path -> page script hash (from the navigation message)
        self.query_string = ""
        self.widgets: dict[str, str] = {}  # widget id -> string value this tab has set
        self.page: str | None = None  # the page shown
        self.runs = 0

    def _get_page(self, path: str) -> None:
        request = urllib.request.Request(f"{self.base}/{path}", headers={"Cookie": self.cookie} if self.cookie else {})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            for header in response.headers.get_all("Set-Cookie") or ():
                pair = header.split(";", 1)[0].strip()
                name = pair.split("=", 1)[0]
                kept = [c for c in self.cookie.split("; ") if c and c.split("=", 1)[0] != name]
                self.cookie = "; ".join([*kept, pair])
            self.replica = response.headers.get("X-Peer-Replica", "") or self.replica

    async def open(self, page: str = "") -> PageRun:
        """Load the page as a browser does (HTML, then the websocket) and run it once."""
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._get_page, page)
        ws_url = "ws" + self.base[4:] + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit"], origin=self.base, max_size=None,
                                additional_headers={"Cookie": self.cookie} if self.cookie else None,
                                open_timeout=30, ping_interval=None)
        self.replica = self.ws.response.headers.get("X-Peer-Replica", "") or self.replica  # where the session lives
        return await self.run(page)

    async def run(self, page: str, widgets: dict[str, str] | None = None) -> PageRun:
        """Ask for a rerun of `page` (url path) and read ForwardMsgs until the run has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.widgets.update(widgets or {})
        back = BackMsg()
        state = back.rerun_script
        if self.page is not None and page != self.page:
            self.query_string = ""  # the browser drops the address's parameters on a page change (the app
            # puts back what it keeps: its filters, demo mode's person)
        state.query_string = self.query_string
        if page in self.page_hashes:
            state.page_script_hash = self.page_hashes[page]  # a click in the sidebar
        else:
            state.page_name = page  # a first visit to /<page>
        state.widget_states.SetInParent()
        for widget_id, value in self.widgets.items():
            w = state.widget_states.widgets.add()
            w.id, w.string_value = widget_id, value
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        state.context_info.url = f"{self.base}/{page}"
        run = PageRun(page, 0.0, 0.0, replica=self.replica)
        started = time.monotonic()
        await self.ws.send(back.SerializeToString())
        deadline = started + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"page {page!r}: no script_finished within {self.timeout:.0f} s")
            data = await asyncio.wait_for(self.ws.recv(), timeout=left)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                _texts(msg.delta.new_element, run.texts, run.errors, run.selectboxes)
            elif kind == "navigation":
                self.page_hashes = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                run.errors.append(f"page not found: {page!r}")
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:  # the app asked for a rerun: it goes on
                    run.texts.clear()
                    continue
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.errors.append("script compile error")
                run.finished = time.monotonic()
                run.seconds = run.finished - started
                self.runs += 1
                self.page = page
                return run

    async def become_public(self, last: PageRun) -> PageRun:
        """In demo mode, switch the sidebar's viewer to the signed-out public (no-op with sign-in configured)."""
        box = last.selectboxes.get(DEMO_SWITCH)
        if box is None:
            return last
        widget_id, options = box
        if PUBLIC_CHOICE not in options:
            raise ProtocolError(f"{DEMO_SWITCH!r} has no {PUBLIC_CHOICE!r} option: {options}")
        run = await self.run(last.page, {widget_id: PUBLIC_CHOICE})
        if DEMO_SWITCH not in run.selectboxes or not any("Public" in t for t in run.texts if "viewing as" in t):
            raise ProtocolError(f"the switch to {PUBLIC_CHOICE!r} did not take: {run.texts[:8]}")
        return run

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None


async def open_public(base_url: str, page: str = "", timeout: float = 120.0,
                      cookie: str = "") -> tuple[Session, PageRun]:
    """A session showing `page` to a signed-out public reader (`cookie`: an affinity cookie to present)."""
    session = Session(base_url, timeout)
    session.cookie = cookie
    run = await session.open(page)
    run = await session.become_public(run)
    return session, run


# --- load ------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    window: tuple[float, float] = (0.0, 0.0)
    latencies: list[float] = field(default_factory=list)
    by_page: dict[str, list[float]] = field(default_factory=dict)
    by_replica: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    runs_total: int = 0

    def inside(self, t: float) -> bool:
        return self.window[0] <= t <= self.window[1]

    def add(self, run: PageRun) -> None:
        self.runs_total += 1
        if not self.inside(run.finished):
            return
        if run.errors:
            self.errors.extend(run.errors)
            return
        self.latencies.append(run.seconds)
        self.by_page.setdefault(run.page or "overview", []).append(run.seconds)
        self.by_replica[run.replica or "-"] = self.by_replica.get(run.replica or "-", 0) + 1

    def error(self, message: str, when: float | None = None) -> None:
        if self.inside(time.monotonic() if when is None else when):
            self.errors.append(message)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def think_time(mean: float, how: str, rng: random.Random) -> float:
    if mean <= 0:
        return 0.0
    return rng.expovariate(1 / mean) if how == "exponential" else rng.uniform(0, 2 * mean)


def affinity_cookies(base_url: str, probes: int = 64) -> dict[str, str]:
    """One affinity cookie per replica behind the load balancer ({} when `base_url` is a single server)."""
    from dashboard.replicas import COOKIE, REPLICA_HEADER

    found: dict[str, str] = {}
    for i in range(probes):
        cookie = f"{COOKIE}=viewer-{i}"
        request = urllib.request.Request(f"{base_url}/_stcore/health", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=10) as response:
            replica = response.headers.get(REPLICA_HEADER)
        if not replica:
            return {}
        found.setdefault(replica, cookie)
    return dict(sorted(found.items()))


async def viewer(base_url: str, tally: Tally, stop_at: float, think: float, how: str, rng: random.Random,
                 pages: tuple[str, ...], start_delay: float, timeout: float, cookie: str = "") -> None:
    await asyncio.sleep(start_delay)
    session = None
    while time.monotonic() < stop_at:
        try:
            if session is None:  # a new reader arrives (or a tab reconnects after an error): setup, not counted
                session, _ = await open_public(base_url, rng.choice(pages), timeout, cookie)
                await asyncio.sleep(min(think_time(think, how, rng), max(0.0, stop_at - time.monotonic())))
                continue
            run = await session.run(rng.choice(pages))
            tally.add(run)
        except Exception as exc:  # noqa: BLE001 - every failure is an error of the run, then a new tab
            tally.error(f"{type(exc).__name__}: {str(exc)[:200]}")
            if session is not None:
                await session.close()
            session = None
            await asyncio.sleep(1)
            continue
        await asyncio.sleep(min(think_time(think, how, rng), max(0.0, stop_at - time.monotonic())))
    if session is not None:
        await session.close()


class CpuMeter:
    """CPU used during a phase, in cores: by the servers (the launcher, nginx and the replicas), by this
    client, and by anything else on the machine (other_cores: whatever else competed for the CPU)."""

    def __init__(self, pids: list[int]):
        self.pids = pids

    @staticmethod
    def _machine() -> tuple[float, float]:
        with open("/proc/stat") as fh:
            fields = [float(x) for x in fh.readline().split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    def _procs(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    parts = fh.read().rsplit(")", 1)[1].split()
                total += (float(parts[11]) + float(parts[12])) / ticks  # utime, stime
            except OSError:
                continue
        return total

    def _tree(self) -> set[int]:
        """The pids and their live descendants."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry))
                except (OSError, ValueError, IndexError):
                    continue
        found, todo = set(), list(self.pids)
        while todo:
            pid = todo.pop()
            if pid not in found:
                found.add(pid)
                todo.extend(children.get(pid, ()))
        return found

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.m0 = self._machine()
        self.p0 = self._procs()
        self.s0 = resource.getrusage(resource.RUSAGE_SELF)

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        total, idle = self._machine()
        busy = (total - self.m0[0]) - (idle - self.m0[1])
        mine = resource.getrusage(resource.RUSAGE_SELF)
        client = (mine.ru_utime - self.s0.ru_utime) + (mine.ru_stime - self.s0.ru_stime)
        cores = os.cpu_count() or 1
        busy_cores = cores * busy / max(total - self.m0[0], 1e-9)
        servers, client = (self._procs() - self.p0) / wall, client / wall
        return {"machine_busy_pct": round(100 * busy_cores / cores, 1), "servers_cores": round(servers, 2),
                "client_cores": round(client, 2),
                "other_cores": round(max(0.0, busy_cores - servers - client), 2)}  # the rest of the machine


async def phase(base_url: str, viewers: int, think: float, how: str, duration: float, warmup: float,
                pages: tuple[str, ...], seed: int, pids: list[int], timeout: float, balance: bool = True) -> dict:
    """`viewers` readers for ramp + warmup + duration seconds; the last `duration` seconds are measured.

    With `balance`, viewer i presents the affinity cookie of replica i mod N, so N replicas get the same
    number of viewers; without, each gets its own random cookie from nginx, as browsers do, and the split is
    binomial (16 viewers on 2 replicas: 11/5 or worse about one time in five).
    """
    rng = random.Random(seed)
    cookies = list((await asyncio.to_thread(affinity_cookies, base_url)).values()) if balance else []
    ramp = min(think, 10.0) if think > 0 else 2.0  # arrivals spread out, as readers do not all click at once
    now = time.monotonic()
    start, end = now + ramp + warmup, now + ramp + warmup + duration
    tally = Tally(window=(start, end))
    meter = CpuMeter(pids)
    tasks = [asyncio.create_task(viewer(base_url, tally, end, think, how, random.Random(rng.random()), pages,
                                        ramp * i / max(viewers, 1), timeout,
                                        cookies[i % len(cookies)] if cookies else "")) for i in range(viewers)]
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    meter.start()
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    cpu = meter.stop()
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:  # a run still going at the end of the window is not counted
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    distinct: dict[str, int] = {}
    for e in tally.errors:
        distinct[e] = distinct.get(e, 0) + 1
    lat = tally.latencies
    return {
        "viewers": viewers, "balanced": bool(cookies), "think_s": think, "think": how if think > 0 else "none",
        "measured_s": duration,
        "page_runs": len(lat), "runs_per_s": round(len(lat) / duration, 2),
        "p50_s": _round(percentile(lat, 0.5)), "p95_s": _round(percentile(lat, 0.95)),
        "max_s": _round(max(lat) if lat else None),
        "errors": len(tally.errors), "error_kinds": dict(sorted(distinct.items(), key=lambda kv: -kv[1])[:5]),
        "runs_by_replica": dict(sorted(tally.by_replica.items())),
        "p95_by_page_s": {p: _round(percentile(v, 0.95)) for p, v in sorted(tally.by_page.items())},
        **cpu,
        # the servers' CPU per page run: what a run costs, whatever else the machine was doing
        "server_cpu_s_per_run": round(cpu["servers_cores"] * duration / len(lat), 3) if lat else None,
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


# --- servers ---------------------------------------------------------------------------------------------


def demo_warehouse(folder: Path) -> tuple[Path, Path]:
    """The demo state, built once under bench/out/ (reused while it exists): (warehouse, published snapshot)."""
    db, snap = folder / "warehouse.duckdb", folder / "published" / "warehouse.duckdb"
    if not (db.exists() and snap.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(snap)}
        env.pop("PEER_AS_OF", None)
        print(f"building the demo warehouse in {folder} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pipelines", "demo"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return db, snap


def public_secrets(folder: Path, port: int) -> Path:
    """Sign-in configured (so a visitor who has not signed in is the public), with a provider never contacted."""
    import secrets

    path = folder / "secrets.toml"
    path.write_text(f"""[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "viewers-benchmark"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
""")
    return path


@contextlib.contextmanager
def replicas(count: int, db: Path, snap: Path, work: Path, demo_mode: bool = False):
    """`python -m dashboard.replicas` on a free port; yields (url, [launcher pid, replica pids], replica ports)."""
    from dashboard.replicas import free_port

    port = free_port()
    ready = work / f"ready-{count}"
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PEER_DB": str(db), "PEER_SNAPSHOT": str(snap)}
    for name in ("PEER_AS_OF", "STREAMLIT_SECRETS_FILES"):
        env.pop(name, None)
    extra = ["--server.fileWatcherType", "none"]
    if not demo_mode:
        env["PEER_DEMO_MODE"] = "off"
        extra += ["--secrets.files", str(public_secrets(work, port))]
    log = open(work / f"replicas-{count}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.replicas", "--replicas", str(count), "--port",
                             str(port), "--listen", "127.0.0.1", "--base-port", "0", "--ready-file", str(ready),
                             "--", *extra], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not ready.exists() or not ready.read_text().strip():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"replicas did not start:\n{(work / f'replicas-{count}.log').read_text()}")
            time.sleep(0.3)
        numbers = [int(x) for x in ready.read_text().split()]
        ports, pids = numbers[1:1 + count], numbers[1 + count:]
        yield f"http://127.0.0.1:{port}", [proc.pid, *pids], ports
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


async def warm(ports: list[int], pages: tuple[str, ...], timeout: float) -> float:
    """Each replica runs every page once as the public (its caches are its own): a fresh server's cost."""
    started = time.monotonic()
    for port in ports:
        session, _ = await open_public(f"http://127.0.0.1:{port}", pages[0], timeout)
        for page in pages[1:]:
            run = await session.run(page)
            if run.errors:
                raise RuntimeError(f"warm-up of {page!r} on port {port}: {run.errors}")
        await session.close()
    return time.monotonic() - started


def machine() -> dict:
    import duckdb
    import streamlit

    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    nginx = subprocess.run(["nginx", "-v"], check=False, capture_output=True, text=True).stderr.strip()
    return {"cores": os.cpu_count(), "cpu": model, "ram_gib": round(mem_kb / 2**20),
            "python": platform.python_version(), "streamlit": streamlit.__version__, "duckdb": duckdb.__version__,
            "nginx": nginx.split("/")[-1]}


def table(results: dict) -> str:
    rows = [("| replicas | phase | viewers | think | page runs/s | p50 s | p95 s | errors | runs per replica "
             "| machine CPU | servers (cores) | client (cores) | other processes (cores) |"), "|---" * 13 + "|"]
    for count, phases in results["runs"].items():
        for name, r in phases.items():
            if not isinstance(r, dict) or "viewers" not in r:
                continue
            rows.append(f"| {count} | {name} | {r['viewers']} | {r['think_s']:g} s {r['think']} | {r['runs_per_s']} | "
                        f"{r['p50_s']} | {r['p95_s']} | {r['errors']} | "
                        f"{'/'.join(str(v) for v in r['runs_by_replica'].values())} | {r['machine_busy_pct']}% | "
                        f"{r['servers_cores']} | {r['client_cores']} | {r['other_cores']} |")
    return "\n".join(rows)


def verdict(results: dict) -> dict:
    runs = results["runs"]
    out = {}
    if "1" in runs and "2" in runs and "throughput" in runs["1"] and "throughput" in runs["2"]:
        one, two = runs["1"]["throughput"]["runs_per_s"], runs["2"]["throughput"]["runs_per_s"]
        ratio = round(two / one, 2) if one else None
        out["throughput_ratio_2_over_1"] = ratio
        out["throughput_goal_1_7x_met"] = bool(ratio and ratio >= 1.7)
    for count, phases in runs.items():
        r = phases.get("readers")
        if r and r["p95_s"] is not None:
            out[f"p95_under_2s_{count}_replica"] = r["p95_s"] < 2.0 and r["errors"] == 0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", default="1,2", help="replica counts to compare (default 1,2)")
    parser.add_argument("--url", help="measure a running dashboard or load balancer instead of starting replicas")
    parser.add_argument("--busy-viewers", type=int, default=16, help="viewers with no think time (throughput)")
    parser.add_argument("--viewers", type=int, default=50, help="viewers with think time (latency)")
    parser.add_argument("--think", type=float, default=10.0, help="mean think time between pages, s (default 10)")
    parser.add_argument("--think-dist", choices=("exponential", "uniform"), default="exponential")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per phase (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds after the ramp (default 10)")
    parser.add_argument("--phases", default="throughput,readers", help="throughput, readers or both")
    parser.add_argument("--pages", default=",".join(p or "overview" for p in PUBLIC_PAGES),
                        help="url paths the viewers pick from (overview = the default page)")
    parser.add_argument("--db", type=Path, help="warehouse (default: the demo, built once in bench/out/viewers-demo)")
    parser.add_argument("--snapshot", type=Path, help="its published snapshot (default: published/ beside --db)")
    parser.add_argument("--demo-mode", action="store_true", help="serve in demo mode; viewers switch to the public")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a page run may take (default 120)")
    parser.add_argument("--random-affinity", action="store_true",
                        help="each viewer takes the random cookie nginx sets (default: viewers spread evenly)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    pages = tuple("" if p == "overview" else p for p in args.pages.split(","))
    wanted = [p.strip() for p in args.phases.split(",")]
    settings = {k: v for k, v in vars(args).items() if k not in ("output",)}
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
                     "settings": {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}, "runs": {}}

    async def measure(url: str, pids: list[int], ports: list[int]) -> dict:
        out = {}
        if ports:
            out["warm_up_s"] = round(await warm(ports, pages, args.timeout), 1)
        if "throughput" in wanted:
            out["throughput"] = await phase(url, args.busy_viewers, 0.0, args.think_dist, args.duration, args.warmup,
                                            pages, args.seed, pids, args.timeout, not args.random_affinity)
            print(f"  throughput: {json.dumps(out['throughput'])}", file=sys.stderr)
        if "readers" in wanted:
            out["readers"] = await phase(url, args.viewers, args.think, args.think_dist, args.duration, args.warmup,
                                         pages, args.seed + 1, pids, args.timeout, not args.random_affinity)
            print(f"  readers: {json.dumps(out['readers'])}", file=sys.stderr)
        return out

    if args.url:
        results["runs"]["url"] = asyncio.run(measure(args.url, [], []))
    else:
        if args.db:
            db = args.db.resolve()
            snap = (args.snapshot or db.parent / "published" / db.name).resolve()
        else:
            db, snap = demo_warehouse(OUT / "viewers-demo")
        results["warehouse"] = {"db": os.path.relpath(db, ROOT), "snapshot": os.path.relpath(snap, ROOT)}
        with tempfile.TemporaryDirectory(prefix="viewers-") as tmp:
            for count in (int(c) for c in args.replicas.split(",")):
                print(f"{count} replica(s) behind nginx:", file=sys.stderr)
                with replicas(count, db, snap, Path(tmp), args.demo_mode) as (url, pids, ports):
                    results["runs"][str(count)] = asyncio.run(measure(url, pids, ports))
    results["goals"] = verdict(results)
    if not args.url:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.output}", file=sys.stderr)
    print(table(results))
    print(json.dumps(results["goals"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
