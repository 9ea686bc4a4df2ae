"""Run a workbench query in a child process, so the operating system enforces what DuckDB cannot.

DuckDB checks for an interrupt only between chunks of work (one `max(repeat('x', 100000000))` over
a large range ignored a 5 s interrupt for 28 s), and its memory limit does not cover every string it
builds. The child runs `sandbox.run` under an address-space limit and is killed one second after the
time limit; a crash or a kill becomes a plain-language refusal and never touches the dashboard process.

    parent -> child (stdin):  JSON {sql, params, max_rows, timeout_s, path}
    child -> parent (stdout): b"R" + JSON header line + Arrow IPC stream, or b"E" + JSON {message, code}
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from pipelines import sandbox, settings

ADDRESS_SPACE = 6 << 30  # bytes the query process may map: DuckDB's 2 GB limit, Python and the result
GRACE_S = 1.0  # after the time limit, the child is killed if it has not answered


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
        return sandbox.QueryResult(frame, meta["truncated"], time.perf_counter() - started)
    if done.returncode == 0 and out[:1] == b"E":
        refusal = json.loads(out[1:])
        raise sandbox.Refused(refusal["message"], refusal["code"])
    raise sandbox.Refused("The query used more memory than the workbench allows and was stopped. Filter or "
                          "aggregate first.", "memory")


def _serve() -> None:
    """The child: read one request, run it under the address-space limit, write the answer."""
    import resource

    request = json.loads(sys.stdin.buffer.read())
    resource.setrlimit(resource.RLIMIT_AS, (request["address_space"], request["address_space"]))
    try:
        con = sandbox.open_snapshot(Path(request["path"]))
        try:
            result = sandbox.run(request["sql"], con=con, max_rows=request["max_rows"],
                                 timeout_s=request["timeout_s"], params=request["params"])
        finally:
            con.close()
        buffer = io.BytesIO()
        result.frame.write_ipc_stream(buffer)
        sys.stdout.buffer.write(b"R" + json.dumps({"truncated": result.truncated}).encode() + b"\n"
                                + buffer.getvalue())
    except sandbox.Refused as refused:
        sys.stdout.buffer.write(b"E" + json.dumps({"message": str(refused), "code": refused.code}).encode())
    except MemoryError:
        sys.exit(3)


if __name__ == "__main__":
    _serve()
