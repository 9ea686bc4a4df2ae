"""Run workbench queries in child processes, so the operating system enforces what DuckDB cannot.

DuckDB checks for an interrupt only between chunks of work (one `max(repeat('x', 100000000))` over
a large range ignored a 5 s interrupt for 28 s), and its memory limit does not cover every string it
builds. The child runs `sandbox.run` under an address-space limit and is killed one second after the
time limit; a crash or a kill becomes a plain-language refusal and never touches the dashboard process.

Before it reads any SQL, the child gives up writing files for good (a seccomp filter on Linux x86_64
and aarch64, kept by every thread): opening a file for writing, creating, truncating, renaming, removing
or linking one fails with "permission denied". DuckDB's own file sandbox lets a connection write to its
database file, so without this a statement that slipped past the check could overwrite the published
snapshot. Where the filter cannot be installed, the child refuses to run queries.

A child is a *worker*: started once (Python, polars and DuckDB take 1-3 s to import), it opens one
generation of the snapshot (`sandbox.open_snapshot`: read-only, the sandbox configuration, locked) and
answers one query at a time for as long as it lives, so a warm worker answers `select 1` in milliseconds.
`run` is one query on a worker of its own (what `python -m pipelines query` does); `POOL` keeps up to
`POOL_SIZE` workers warm for the SQL workbench, one query at a time each. The pool kills a worker and
starts another (lazily, at the next query) when the time limit passes, when a query ran out of time or
memory or hit an internal DuckDB error, when it crashed, after MAX_QUERIES queries, and when a newer
snapshot is published (its `snapshot.generation()` changed). A worker killed from outside while idle is
replaced before the next query, which never notices. The time limit counts from the moment the query
reaches a ready worker: a slow start (a loaded machine) is bounded by STARTUP_S, not charged to the
query. A worker exits when its pipe closes (the dashboard process ended) and checks every second that its
parent still lives.

Each worker is a fresh interpreter (`python -m pipelines.sandbox_process`): its only channel is its
stdin and stdout, in frames of one kind byte, an 8-byte big-endian length and the payload:

    parent -> child:  H {path, address_space} once, then Q {sql, params, max_rows, timeout_s} per query
    child -> parent:  K {pid} when ready, or E {message, code} and exit; per query R (JSON header line +
                      Arrow IPC stream) or E {message, code, retire}: `retire` when the query ran out of
                      time or memory or DuckDB reported an internal error, and the worker should be replaced

Queries of different people run one after another on one connection; the statement check lets through
only read statements (no SET, no temporary objects, no prepared statements), so nothing one query does
survives into the next.
"""

from __future__ import annotations

import atexit
import collections
import ctypes
import errno
import io
import json
import logging
import os
import platform
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl

from pipelines import sandbox, settings

ADDRESS_SPACE = 6 << 30  # bytes the query process may map: DuckDB's 2 GB limit, Python and the result
GRACE_S = 1.0  # after the time limit, the child is killed if it has not answered
STARTUP_S = 30.0  # a worker that is not ready (imports, filter, snapshot opened) within this is given up
MEMORY_EXIT = 3
POOL_SIZE = 2  # warm workers per dashboard process: a long query does not hold up everyone else's
MAX_QUERIES = 500  # a worker is replaced after this many queries (memory its allocator kept)

log = logging.getLogger(__name__)

TIMED_OUT = "The query was stopped after the {:g} s time limit. Narrow it (filters, LIMIT) or aggregate first."
OUT_OF_MEMORY = ("The query used more memory than the workbench allows and was stopped. Filter or aggregate "
                 "first.")

# Linux system calls that create, change or remove files (besides open/openat with write flags)
_WRITE_O = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_SYSCALLS = {  # machine: (audit arch, open, openat, always refused, seccomp)
    # creat truncate ftruncate rename renameat renameat2 unlink unlinkat rmdir mkdir mkdirat link linkat
    # symlink symlinkat chmod fchmodat mknod mknodat io_uring_setup openat2 fchmodat2 open_by_handle_at
    "x86_64": (0xC000003E, 2, 257, (85, 76, 77, 82, 264, 316, 87, 263, 84, 83, 258, 86, 265, 88, 266, 90, 268,
                                    133, 259, 425, 437, 452, 304), 317),
    # truncate ftruncate renameat renameat2 unlinkat mkdirat linkat symlinkat fchmodat mknodat io_uring_setup
    # openat2 fchmodat2 open_by_handle_at
    "aarch64": (0xC00000B7, None, 56, (45, 46, 38, 276, 35, 34, 37, 36, 53, 33, 425, 437, 452, 265), 277),
}
class _Filter(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def forbid_file_writes() -> None:
    """Install a seccomp filter, on every thread, under which no file can be opened for writing, created,
    truncated, renamed, removed or linked (EACCES). Irreversible for this process. Raises OSError where
    it cannot be installed."""
    machine = platform.machine()
    if sys.platform != "linux" or machine not in _SYSCALLS:
        raise OSError(errno.ENOSYS, f"no file-write filter for {sys.platform} {machine}")
    arch, open_nr, openat_nr, refused, seccomp_nr = _SYSCALLS[machine]
    deny, allow = 0x00050000 | errno.EACCES, 0x7FFF0000  # SECCOMP_RET_ERRNO | EACCES, SECCOMP_RET_ALLOW
    load, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ/JGE/JSET|K, BPF_RET|K
    program = [(load, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, deny),  # another ABI: refuse everything
               (load, 0, 0, 0), (jge, 0, 1, 0x40000000), (ret, 0, 0, deny)]  # x32 system calls
    for nr in refused:
        program += [(jeq, 0, 1, nr), (ret, 0, 0, deny)]
    for nr, flags_arg in ((open_nr, 1), (openat_nr, 2)):
        if nr is not None:  # open(path, flags) / openat(dir, path, flags): refuse any write flag
            program += [(jeq, 0, 4, nr), (load, 0, 0, 16 + 8 * flags_arg), (jset, 0, 1, _WRITE_O),
                        (ret, 0, 0, deny), (ret, 0, 0, allow)]
    program.append((ret, 0, 0, allow))
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *step) for step in program))
    fprog = _Filter(len(program), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.syscall(seccomp_nr, 1, 1, ctypes.byref(fprog)) != 0:  # SECCOMP_SET_MODE_FILTER, FILTER_FLAG_TSYNC
        raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_SET_MODE_FILTER) failed")



# --- the parent's side: workers and the pool -----------------------------------------------------------

class _Gone(Exception):
    """The worker was dead before the query reached it: the query never ran."""


def _frame(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack(">Q", len(payload)) + payload


class Worker:
    """One child process serving queries on one generation of the snapshot at `path`, one at a time (the
    caller serializes: `Pool` hands a worker to one query at a time)."""

    def __init__(self, path: Path, address_space: int = ADDRESS_SPACE):
        from pipelines import snapshot

        self.path, self.address_space = Path(path), address_space
        self.generation = snapshot.generation(self.path)  # taken before the child opens the file: never newer
        self.served = 0
        self.broken = False  # killed, dead, or refused to start: never used again
        self._ready = False
        self._buffer = bytearray()
        self._stderr: collections.deque[bytes] = collections.deque(maxlen=40)
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "pipelines.sandbox_process"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                                         start_new_session=True)  # a Ctrl-C meant for the server is not its own
        except OSError as exc:
            raise sandbox.Refused(f"The query process could not be started ({exc.strerror or exc}). Try again in "
                                  "a moment; if it keeps happening, tell the warehouse's administrator.",
                                  "error") from exc
        threading.Thread(target=self._drain, name=f"sandbox-worker-{self.proc.pid}", daemon=True).start()
        try:
            self._send(b"H", {"path": str(self.path), "address_space": address_space})
        except OSError:
            pass  # dead at birth: the handshake reports its exit status

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def key(self) -> tuple:
        return self.path, self.generation, self.address_space

    def alive(self) -> bool:
        return not self.broken and self.proc.poll() is None

    def run(self, sql: str, *, params: dict | None = None, max_rows: int | None = None,
            timeout_s: float | None = None) -> sandbox.QueryResult:
        """One query: the answer, or `sandbox.Refused` (raises `_Gone` if the worker was dead before it)."""
        max_rows = settings.sql_max_rows() if max_rows is None else max_rows
        timeout_s = settings.sql_timeout_s() if timeout_s is None else timeout_s
        self._wait_ready()
        try:
            self._send(b"Q", {"sql": sql, "params": params or {}, "max_rows": max_rows, "timeout_s": timeout_s})
        except OSError as exc:  # a broken pipe: killed while idle
            self.broken = True
            raise _Gone from exc
        self.served += 1
        started = time.perf_counter()
        try:
            kind, payload = self._receive(time.monotonic() + timeout_s + GRACE_S)
        except TimeoutError:
            self.kill()
            raise sandbox.Refused(TIMED_OUT.format(timeout_s), "timeout") from None
        except EOFError:
            raise self._died() from None
        try:
            if kind == b"R":
                header, _, arrow = payload.partition(b"\n")
                meta = json.loads(header)
                frame = pl.read_ipc_stream(io.BytesIO(arrow))
                return sandbox.QueryResult(frame, meta["truncated"], time.perf_counter() - started,
                                           meta.get("too_big", False))
            if kind == b"E":
                refusal = json.loads(payload)
                message, code = str(refusal["message"]), str(refusal["code"])
                if refusal.get("retire"):  # the query ran out of time or memory, or upset DuckDB: start afresh
                    self.kill()
        except Exception as exc:  # an answer that cannot be read: the worker is not trusted with another query
            log.info("sandbox worker %s answered unreadably: %r", self.proc.pid, exc)
            kind = b"?"
        if kind == b"E":
            raise sandbox.Refused(message, code)
        self.kill()
        raise sandbox.Refused("The query process gave an answer the workbench could not read. Try again.", "error")

    def kill(self) -> None:
        self.broken = True
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL cannot stop
            log.warning("sandbox worker %s did not exit after SIGKILL", self.proc.pid)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def _wait_ready(self) -> None:
        if self._ready:
            return
        try:
            kind, payload = self._receive(time.monotonic() + STARTUP_S)
        except TimeoutError:
            self.kill()
            raise sandbox.Refused(f"The query process did not start within {STARTUP_S:g} s (the server is busy). Try "
                                  "again in a moment.", "error") from None
        except EOFError:
            raise self._died() from None
        if kind == b"K":
            self._ready = True
            return
        self.kill()
        refusal = json.loads(payload) if kind == b"E" else {"message": "The query process did not start.",
                                                            "code": "error"}
        raise sandbox.Refused(refusal["message"], refusal["code"])

    def _send(self, kind: bytes, message: dict) -> None:
        data = memoryview(_frame(kind, json.dumps(message).encode()))
        fd = self.proc.stdin.fileno()
        while data:
            data = data[os.write(fd, data):]

    def _receive(self, deadline: float) -> tuple[bytes, bytes]:
        """The next frame from the child; TimeoutError at `deadline` (time.monotonic), EOFError if it closed."""
        fd = self.proc.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        buffer = self._buffer
        while True:
            if len(buffer) >= 9:
                size = struct.unpack(">Q", buffer[1:9])[0]
                if len(buffer) >= 9 + size:
                    kind, payload = bytes(buffer[:1]), bytes(buffer[9:9 + size])
                    del buffer[:9 + size]
                    return kind, payload
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise TimeoutError
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError
            buffer += chunk

    def _died(self) -> sandbox.Refused:
        """The child closed its pipe: why, in plain words (its exit status)."""
        self.broken = True
        try:
            status = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            status = self.proc.returncode
        self.kill()
        if status in (MEMORY_EXIT, -6, -9, -11):  # MemoryError, or DuckDB aborted/killed when out of memory
            return sandbox.Refused(OUT_OF_MEMORY, "memory")
        log.info("sandbox worker %s exited with status %s: %s", self.proc.pid, status,
                 b"".join(self._stderr).decode(errors="replace"))
        return sandbox.Refused(f"The query process stopped unexpectedly (exit status {status}). Try again; if it keeps "
                               "happening, tell the warehouse's administrator.", "error")

    def _drain(self) -> None:
        """Keep the end of the child's stderr (for the log), so a chatty child never blocks on a full pipe."""
        stream = self.proc.stderr
        try:
            for line in iter(lambda: stream.readline(4096), b""):
                self._stderr.append(line)
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass


def run(sql: str, *, path: Path | None = None, max_rows: int | None = None, timeout_s: float | None = None,
        params: dict | None = None, address_space: int = ADDRESS_SPACE) -> sandbox.QueryResult:
    """`sandbox.run` in a child process of its own: same answers and refusals, with hard time and memory limits."""
    worker = Worker(Path(path or settings.snapshot_path()), address_space)
    try:
        return worker.run(sql, params=params, max_rows=max_rows, timeout_s=timeout_s)
    except _Gone:
        raise worker._died() from None
    finally:
        worker.kill()


class Pool:
    """Up to `size` warm workers for one process (the dashboard's), each answering one query at a time."""

    def __init__(self, size: int = POOL_SIZE, address_space: int = ADDRESS_SPACE):
        self.size, self.address_space = size, address_space
        self._cond = threading.Condition()
        self._idle: list[Worker] = []  # the most recently used last
        self._workers: set[Worker] = set()  # idle and busy

    def run(self, sql: str, *, path: Path | None = None, max_rows: int | None = None,
            timeout_s: float | None = None, params: dict | None = None) -> sandbox.QueryResult:
        """`run`, on a warm worker reading the newest snapshot (started if there is none)."""
        path = Path(path or settings.snapshot_path())
        max_rows = settings.sql_max_rows() if max_rows is None else max_rows
        timeout_s = settings.sql_timeout_s() if timeout_s is None else timeout_s
        for attempt in range(2):
            worker = self._acquire(path, timeout_s + GRACE_S + STARTUP_S)
            try:
                return worker.run(sql, params=params, max_rows=max_rows, timeout_s=timeout_s)
            except _Gone:
                if attempt:
                    raise worker._died() from None
            finally:
                self._release(worker)  # kept unless it was killed, died or retired
        raise AssertionError("unreachable")  # pragma: no cover

    def warm(self, path: Path | None = None) -> None:
        """Start a worker on the newest snapshot now, unless one is there, so the next query finds it ready."""
        path = Path(path or settings.snapshot_path())
        if not path.exists():
            return
        with self._cond:
            key = self._drop_stale(path)
            if any(w.key == key and not w.broken for w in self._workers) or len(self._workers) >= self.size:
                return
            try:
                worker = Worker(path, self.address_space)
            except sandbox.Refused:
                return
            self._workers.add(worker)
            self._idle.insert(0, worker)

    def pids(self) -> list[int]:
        """Process ids of the live workers (idle and busy)."""
        with self._cond:
            return sorted(w.pid for w in self._workers if w.alive())

    def close(self) -> None:
        """Kill every worker (at exit; busy ones answer their query with a refusal)."""
        with self._cond:
            workers, self._idle, self._workers = list(self._workers), [], set()
        for worker in workers:
            worker.kill()

    def _drop_stale(self, path: Path) -> tuple:
        """Kill idle workers that are dead, worn or on another snapshot; the key a fresh worker would have."""
        from pipelines import snapshot

        key = path, snapshot.generation(path), self.address_space
        for worker in [w for w in self._idle if not w.alive() or w.key != key or w.served >= MAX_QUERIES]:
            self._idle.remove(worker)
            self._workers.discard(worker)
            worker.kill()
        return key

    def _acquire(self, path: Path, wait_s: float) -> Worker:
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                self._drop_stale(path)
                if self._idle:
                    return self._idle.pop()
                if len(self._workers) < self.size:
                    worker = Worker(path, self.address_space)
                    self._workers.add(worker)
                    return worker
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise sandbox.Refused("The workbench is busy with other queries. Try again in a moment.", "error")
                self._cond.wait(remaining)

    def _release(self, worker: Worker) -> None:
        keep = worker.alive()
        with self._cond:
            if keep:
                self._idle.append(worker)
            else:
                self._workers.discard(worker)
            self._cond.notify()
        if not keep:
            worker.kill()


POOL = Pool()
"""The warm workers of this process (the SQL workbench's)."""
atexit.register(POOL.close)


# --- the child's side ----------------------------------------------------------------------------------

def _read_frame(stream) -> tuple[bytes, bytes] | None:
    head = stream.read(9)
    if len(head) < 9:
        return None
    payload = stream.read(struct.unpack(">Q", head[1:])[0])
    return head[:1], payload


def _write_frame(stream, kind: bytes, payload: bytes | dict) -> None:
    stream.write(_frame(kind, payload if isinstance(payload, bytes) else json.dumps(payload).encode()))
    stream.flush()


def _watch_parent(parent: int) -> None:
    """Exit once the parent is gone, even while a query runs (an idle worker sees its pipe close)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _serve() -> None:
    """The child: take the snapshot and the limits, then answer queries until the pipe closes."""
    import resource

    import duckdb

    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the answers
    hello = _read_frame(requests)
    if hello is None:
        return
    config = json.loads(hello[1])
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    resource.setrlimit(resource.RLIMIT_AS, (config["address_space"], config["address_space"]))
    try:
        forbid_file_writes()
    except OSError as exc:
        _write_frame(answers, b"E", {
            "message": f"The SQL sandbox cannot stop queries from writing files on this system ({exc}), so it "
                       "runs none. Use your own DuckDB client on the snapshot: duckdb -readonly FILE.",
            "code": "error"})
        return
    try:
        con = sandbox.open_snapshot(Path(config["path"]))
    except sandbox.Refused as refused:
        _write_frame(answers, b"E", {"message": str(refused), "code": refused.code})
        return
    except MemoryError:
        os._exit(MEMORY_EXIT)
    _write_frame(answers, b"K", {"pid": os.getpid()})
    while (frame := _read_frame(requests)) is not None:
        request = json.loads(frame[1])
        try:
            result = sandbox.run(request["sql"], con=con, max_rows=request["max_rows"],
                                 timeout_s=request["timeout_s"], params=request["params"])
            buffer = io.BytesIO()
            result.frame.write_ipc_stream(buffer)
            header = json.dumps({"truncated": result.truncated, "too_big": result.too_big}).encode()
            del result
            _write_frame(answers, b"R", header + b"\n" + buffer.getvalue())
        except sandbox.Refused as refused:
            retire = refused.code in ("timeout", "memory") or isinstance(
                refused.__cause__, (duckdb.InternalException, duckdb.FatalException))
            _write_frame(answers, b"E", {"message": str(refused), "code": refused.code, "retire": retire})
        except MemoryError:
            os._exit(MEMORY_EXIT)


if __name__ == "__main__":
    _serve()
