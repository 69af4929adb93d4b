"""Requests per second under uvicorn, end to end: a 50 KB page through the middleware, beside a lol-html middleware.

Run: ``python benchmarks/serve.py`` (needs the ``bench`` extra and uvicorn; with
uvicorn's ``standard`` extra, uvloop and httptools, uvicorn picks them, as it does in
production: the figures say which). Issue #14's target: at least twice the requests per
second of the lol-html wrapper.

Servers. One uvicorn per contender, each its own subprocess (``--workers 1``,
``--log-level warning``, a loopback port), serving the same ~50 KB job-board page
(``rewrite.make_page``; ``--page dense-s`` for the tracker-dense one) whole, with a
``Content-Length``, as Starlette's ``HTMLResponse`` does, from a minimal ASGI app:

* ``GPC C`` / ``GPC py``: wrapped in ``GPCMiddleware`` configured as a site does
  (``middleware.site_policy``); ``GPC py`` runs with ``GPC_MIDDLEWARE_PURE_PYTHON=1``,
  ``GPC C`` is skipped while the compiled core is not built;
* ``lol-html``: wrapped in ``middleware.LolhtmlASGIMiddleware`` (lol-html driven the
  fastest fair way, the same removals);
* ``bare``: the app alone (the server's and the client's own cost, for reference).

All the servers run at once for the whole benchmark, so none pays a start-up or a cold
interpreter in a round: an idle uvicorn takes no CPU, and only one is loaded at a time.

Client. The same for every server, and as light as possible: one process (this one),
``--connections`` threads, each with one keep-alive connection over a raw socket, sending
one pre-built request (a browser's headers for a visitor who refused analytics and
targeting: ``Sec-GPC: 1`` and a consent cookie, ``middleware.visitor_headers``) and
reading the response by its ``Content-Length``, for ``--duration`` seconds. The threads
share the GIL, so the client never takes more than one CPU. The machine has two: the
server has one to itself only while the client and the kernel's loopback work leave it
free, so client and server compete somewhat; this hits every server alike, but it
compresses the ratios toward 1 (the cheaper a server's request, the larger the share of
the fixed client cost). The servers' own CPU time per request (from ``/proc``) is printed
too: that figure is what the server spends, without the client's share of the wall time.

Rounds. Each round loads every server once, in turn (so a slower moment of the machine
hits all alike); each figure is the best round of its server. ``vs lol-html`` is the
contender's req/s over lol-html's (higher is better), and for the CPU column lol-html's
CPU per request over the contender's.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from middleware import (
    ASGIApp,
    LolhtmlASGIMiddleware,
    Receive,
    Scope,
    Send,
    site_policy,
    visitor_headers,
)
from rewrite import make_dense_page, make_page

from gpc_middleware import GPCMiddleware
from gpc_middleware.enforcement.tokenizer import accel

HERE = Path(__file__).resolve().parent
#: Environment of a server subprocess: which app it serves, which page.
APP_ENV = "GPC_BENCH_SERVE_APP"
PAGE_ENV = "GPC_BENCH_SERVE_PAGE"
PAGES = {"small": lambda: make_page(50_000), "dense-s": lambda: make_dense_page(50_000)}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- the server side (run by uvicorn in a subprocess) -----------------------------------


def page_app(page: bytes) -> ASGIApp:
    """An ASGI app sending ``page`` whole, with its ``Content-Length``."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", b"%d" % len(page)),
        ],
    }
    body = {"type": "http.response.body", "body": page}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send(dict(start))
        await send(dict(body))

    return app


def app_factory() -> ASGIApp:
    """uvicorn ``--factory`` target: the app named by ``GPC_BENCH_SERVE_APP``."""
    app = page_app(PAGES[os.environ.get(PAGE_ENV, "small")]())
    kind = os.environ[APP_ENV]
    if kind == "gpc":
        print(f"GPC server {os.getpid()}: {accel.core_description()}", file=sys.stderr)
        return GPCMiddleware(app, policy=site_policy())
    if kind == "lol-html":
        return LolhtmlASGIMiddleware(app)
    if kind == "bare":
        return app
    raise ValueError(f"unknown app {kind!r}")


# -- the client side ----------------------------------------------------------------------


class Server:
    """One uvicorn subprocess (ended by :meth:`stop`)."""

    def __init__(self, name: str, kind: str, page: str, pure_python: bool) -> None:
        self.name = name
        self.port = _free_port()
        env = {**os.environ, APP_ENV: kind, PAGE_ENV: page}
        env.pop(accel.PURE_PYTHON_ENV, None)
        if pure_python:
            env[accel.PURE_PYTHON_ENV] = "1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "serve:app_factory",
                "--app-dir",
                str(HERE),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            env=env,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: uvicorn exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name}: uvicorn did not listen within {timeout} s")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def request_bytes(port: int) -> bytes:
    headers = [(b"host", b"127.0.0.1:%d" % port)]
    headers += [(k, v) for k, v in visitor_headers(site_policy()) if k != b"host"]
    lines = [b"GET /jobs HTTP/1.1"] + [k + b": " + v for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _read_response(sock: socket.socket, buffer: bytearray) -> int:
    """Read one response (``Content-Length`` framed) off ``sock``; the body's length.
    ``buffer`` keeps bytes read past it (none with one request in flight)."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        data = sock.recv(262144)
        if not data:
            raise ConnectionError("server closed the connection")
        buffer += data
    head = bytes(buffer[:end]).lower()
    if not head.startswith(b"http/1.1 200"):
        raise RuntimeError(f"unexpected response: {head[:200]!r}")
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        raise RuntimeError("response without a Content-Length")
    line_end = head.find(b"\r\n", at + 2)
    length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
    total = end + 4 + length
    while len(buffer) < total:
        data = sock.recv(max(262144, total - len(buffer)))
        if not data:
            raise ConnectionError("server closed the connection")
        buffer += data
    del buffer[:total]
    return length


def load(port: int, connections: int, duration: float) -> tuple[int, int]:
    """(responses, body length of one) from ``connections`` keep-alive clients for
    ``duration`` seconds."""
    request = request_bytes(port)
    counts = [0] * connections
    lengths = [0] * connections
    errors: list[BaseException] = []
    stop = threading.Event()

    def client(i: int) -> None:
        try:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buffer = bytearray()
                n = 0
                while not stop.is_set():
                    sock.sendall(request)
                    lengths[i] = _read_response(sock, buffer)
                    n += 1
                counts[i] = n
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts), max(lengths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per load")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4, help="client threads")
    parser.add_argument("--page", choices=sorted(PAGES), default="small")
    args = parser.parse_args(argv)

    specs = [("GPC C", "gpc", False), ("GPC py", "gpc", True)]
    try:
        accel.use_core(accel.use_core("c"))
        c_core = "built"
    except RuntimeError as exc:
        specs = specs[1:]
        c_core = f"not built, GPC C skipped ({exc})"
    specs += [("lol-html", "lol-html", False), ("bare", "bare", False)]

    import uvicorn

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    page_size = len(PAGES[args.page]())
    print(
        f"python {sys.version.split()[0]}; uvicorn {uvicorn.__version__} (loop {loop}, http {http}), "
        f"1 worker each; {os.cpu_count()} CPUs; page {args.page} {page_size / 1e3:.1f} KB whole; "
        f"{args.connections} keep-alive connections, {args.duration:g} s per load, "
        f"{args.rounds} rounds; compiled core {c_core}"
    )
    servers = [Server(name, kind, args.page, pure) for name, kind, pure in specs]
    try:
        for server in servers:
            server.wait_ready()
        sizes: dict[str, int] = {}
        for server in servers:  # warm-up: imports, caches, the page's decisions
            _, sizes[server.name] = load(server.port, args.connections, min(1.0, args.duration))
        best_rps = {s.name: 0.0 for s in servers}
        best_cpu = {s.name: float("inf") for s in servers}
        for _ in range(args.rounds):
            for server in servers:
                cpu0 = server.cpu_seconds()
                t0 = time.perf_counter()
                n, _ = load(server.port, args.connections, args.duration)
                elapsed = time.perf_counter() - t0
                cpu = server.cpu_seconds() - cpu0
                best_rps[server.name] = max(best_rps[server.name], n / elapsed)
                best_cpu[server.name] = min(best_cpu[server.name], cpu / max(n, 1))
    finally:
        for server in servers:
            server.stop()

    header = (
        f"{'server':<9} {'req/s':>8} {'vs lol-html':>11} {'server CPU µs/req':>18} "
        f"{'vs lol-html':>11} {'body KB':>8}"
    )
    print(header)
    print("-" * len(header))
    lol_rps, lol_cpu = best_rps["lol-html"], best_cpu["lol-html"]
    for server in servers:
        name = server.name
        print(
            f"{name:<9} {best_rps[name]:>8.0f} {best_rps[name] / lol_rps:>10.2f}x "
            f"{best_cpu[name] * 1e6:>18.0f} {lol_cpu / best_cpu[name]:>10.2f}x "
            f"{sizes[name] / 1e3:>8.1f}"
        )
    print(
        "\nreq/s: the best round's responses per wall-clock second; server CPU: the uvicorn "
        "process's user+system time per response in its best round (clock-tick resolution, "
        f"1/{CLOCK_TICKS} s, over a few thousand responses). The client (one process, its "
        "threads sharing the GIL) and the server share this machine's CPUs and the loopback: "
        "the req/s ratios are compressed toward 1 by the client's fixed cost, the CPU ratios "
        "are not. body KB: the response body (lol-html blanks inline scripts' text instead of "
        "removing the element, so it sends a little more). The same request, with Sec-GPC: 1 "
        "and a consent cookie refusing analytics and targeting, goes to every server."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
