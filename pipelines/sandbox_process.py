"""Run a workbench query in a child process, so the operating system enforces what DuckDB cannot.

DuckDB checks for an interrupt only between chunks of work (one `max(repeat('x', 100000000))` over
a large range ignored a 5 s interrupt for 28 s), and its memory limit does not cover every string it
builds. The child runs `sandbox.run` under an address-space limit and is killed one second after the
time limit; a crash or a kill becomes a plain-language refusal and never touches the dashboard process.

Before it reads the request's SQL, the child gives up writing files for good (a seccomp filter on Linux
x86_64 and aarch64, kept by every thread): opening a file for writing, creating, truncating, renaming,
removing or linking one fails with "permission denied". DuckDB's own file sandbox lets a connection
write to its database file, so without this a statement that slipped past the check could overwrite
the published snapshot. Where the filter cannot be installed, the child refuses to run queries.

    parent -> child (stdin):  JSON {sql, params, max_rows, timeout_s, path}
    child -> parent (stdout): b"R" + JSON header line + Arrow IPC stream, or b"E" + JSON {message, code}
"""

from __future__ import annotations

import ctypes
import errno
import io
import json
import os
import platform
import struct
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from pipelines import sandbox, settings

ADDRESS_SPACE = 6 << 30  # bytes the query process may map: DuckDB's 2 GB limit, Python and the result
GRACE_S = 1.0  # after the time limit, the child is killed if it has not answered
MEMORY_EXIT = 3

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


def run(sql: str, *, path: Path | None = None, max_rows: int | None = None, timeout_s: float | None = None,
        params: dict | None = None, address_space: int = ADDRESS_SPACE) -> sandbox.QueryResult:
    """`sandbox.run` in a child process: same answers and refusals, with hard time and memory limits."""
    timeout_s = settings.sql_timeout_s() if timeout_s is None else timeout_s
    request = {"sql": sql, "params": params or {}, "max_rows": max_rows, "timeout_s": timeout_s,
               "path": str(path or settings.snapshot_path()), "address_space": address_space}
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pipelines.sandbox_process"], input=json.dumps(request).encode(),
                              capture_output=True, timeout=timeout_s + GRACE_S)
    except subprocess.TimeoutExpired:
        raise sandbox.Refused(f"The query was stopped after the {timeout_s:g} s time limit. Narrow it (filters, "
                              "LIMIT) or aggregate first.", "timeout") from None
    out = done.stdout
    if done.returncode == 0 and out[:1] == b"R":
        header, _, arrow = out[1:].partition(b"\n")
        meta = json.loads(header)
        frame = pl.read_ipc_stream(io.BytesIO(arrow))
        return sandbox.QueryResult(frame, meta["truncated"], time.perf_counter() - started, meta.get("too_big", False))
    if done.returncode == 0 and out[:1] == b"E":
        refusal = json.loads(out[1:])
        raise sandbox.Refused(refusal["message"], refusal["code"])
    if done.returncode in (MEMORY_EXIT, -6, -9, -11):  # MemoryError, or DuckDB aborted/killed when out of memory
        raise sandbox.Refused("The query used more memory than the workbench allows and was stopped. Filter or "
                              "aggregate first.", "memory")
    raise sandbox.Refused(f"The query process stopped unexpectedly (exit status {done.returncode}). Try again; if "
                          "it keeps happening, tell the warehouse's administrator.", "error")


def _serve() -> None:
    """The child: read one request, run it under the address-space limit, write the answer."""
    import resource

    request = json.loads(sys.stdin.buffer.read())
    resource.setrlimit(resource.RLIMIT_AS, (request["address_space"], request["address_space"]))
    try:
        forbid_file_writes()
    except OSError as exc:
        sys.stdout.buffer.write(b"E" + json.dumps({
            "message": f"The SQL sandbox cannot stop queries from writing files on this system ({exc}), so it "
                       "runs none. Use your own DuckDB client on the snapshot: duckdb -readonly FILE.",
            "code": "error"}).encode())
        return
    try:
        con = sandbox.open_snapshot(Path(request["path"]))
        try:
            result = sandbox.run(request["sql"], con=con, max_rows=request["max_rows"],
                                 timeout_s=request["timeout_s"], params=request["params"])
        finally:
            con.close()
        buffer = io.BytesIO()
        result.frame.write_ipc_stream(buffer)
        sys.stdout.buffer.write(b"R" + json.dumps({"truncated": result.truncated, "too_big": result.too_big}).encode()
                                + b"\n"
                                + buffer.getvalue())
    except sandbox.Refused as refused:
        sys.stdout.buffer.write(b"E" + json.dumps({"message": str(refused), "code": refused.code}).encode())
    except MemoryError:
        sys.exit(MEMORY_EXIT)


if __name__ == "__main__":
    _serve()
