"""The web dashboard of `serve --http` at the HTTP level (docs/dashboard.md): the printed link and its cookie, the
same Origin rule as /mcp, a strict CSP with no inline script, read-only routes, the snapshot, and SSE pushing a
change within 1 s from another process's write."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from cs_harness import free_port, ok, open_session, session_id_of, start_http_server, stop_http_server
from dashboard_support import SSEReader, dashboard_link, link_token, pane_thread, request, sign_in
from threads_support import spawn_case_worker

pytestmark = pytest.mark.anyio

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_link_cookie_csp_origin_and_read_only(ws):
    server = start_http_server(ws)
    try:
        link = dashboard_link(server)
        assert link.startswith(f"http://127.0.0.1:{server.port}/?token="), link
        token = link_token(link)
        assert len(token) >= 32
        port = server.port

        # Without the cookie nothing but the refusal; a wrong token is refused.
        assert request(port, "GET", "/").status == 401
        assert request(port, "GET", "/dashboard/snapshot").status == 401
        assert request(port, "GET", "/dashboard/events").status == 401
        assert request(port, "GET", "/?token=" + "0" * len(token)).status == 401

        # The token is exchanged for an HttpOnly, SameSite=Strict cookie; the redirect drops it from the URL.
        r = request(port, "GET", f"/?token={token}")
        assert r.status == 303 and r.header("Location") == "/", (r.status, r.headers.items())
        set_cookie = r.header("Set-Cookie") or ""
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie, set_cookie
        cookie = set_cookie.split(";", 1)[0]
        assert token not in cookie, "the cookie must not be the printed token"

        page = request(port, "GET", "/", {"Cookie": cookie})
        assert page.status == 200 and page.header("Content-Type").startswith("text/html"), page.status
        csp = page.header("Content-Security-Policy") or ""
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp, csp
        assert "frame-ancestors 'none'" in csp
        assert page.header("X-Content-Type-Options") == "nosniff"
        # No inline script, no inline style, no CDN: one script file of this server.
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert scripts == ['<script src="/dashboard/app.js" defer>'], scripts
        assert "style=" not in page.text and "<style" not in page.text and "http" not in page.text.split("<body>")[0]
        js = request(port, "GET", "/dashboard/app.js", {"Cookie": cookie})
        assert js.status == 200 and js.header("Content-Type").startswith("text/javascript")
        assert "innerHTML" not in js.text and "eval(" not in js.text and "textContent" in js.text
        css = request(port, "GET", "/dashboard/app.css", {"Cookie": cookie})
        assert css.status == 200 and css.header("Content-Type").startswith("text/css")
        assert len(page.body) + len(js.body) + len(css.body) < 64 * 1024, "the embedded assets stay small"

        # Foreign origins get 403 even with the cookie; loopback origins are fine. A foreign Host too (DNS rebinding).
        assert request(port, "GET", "/", {"Cookie": cookie, "Origin": "http://evil.example"}).status == 403
        assert request(port, "GET", "/dashboard/snapshot", {"Cookie": cookie, "Origin": "https://evil.example"}).status == 403
        assert request(port, "GET", f"/?token={token}", {"Origin": "http://evil.example"}).status == 403
        assert request(port, "GET", "/", {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}).status == 200
        assert request(port, "GET", "/", {"Cookie": cookie, "Host": f"evil.example:{port}"}).status == 403
        assert request(port, "GET", "/", {"Cookie": cookie, "Host": f"localhost:{port}"}).status == 200

        # Read-only: every other method is refused on every dashboard path.
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            for path in ("/", "/dashboard/snapshot", "/dashboard/events", "/dashboard/app.js"):
                r = request(port, method, path, {"Cookie": cookie, "Content-Type": "application/json"}, b"{}")
                assert r.status == 405 and r.header("Allow") == "GET, HEAD", (method, path, r.status)
        head = request(port, "HEAD", "/dashboard/events", {"Cookie": cookie})
        assert head.status == 200 and head.body == b"" and head.header("Content-Type") == "text/event-stream"
        # /mcp keeps working beside it.
        assert request(port, "GET", "/health").status == 200
    finally:
        stop_http_server(server)


def test_server_token_also_opens_the_dashboard(ws):
    token = "t" * 24
    server = start_http_server(ws, "--token", token)
    try:
        assert sign_in(server.port, token).startswith("codestrator_dashboard=")
        assert token not in server.log_path.read_text(), "the server token is never printed"
    finally:
        stop_http_server(server)


def test_no_dashboard_off_loopback(ws):
    server = start_http_server(ws, "--token", "x" * 24, host="0.0.0.0")
    try:
        assert "dashboard" not in server.log_path.read_text()
        assert request(server.port, "GET", "/").status == 404
        assert request(server.port, "GET", "/dashboard/snapshot").status == 404
    finally:
        stop_http_server(server)


async def test_snapshot_and_sse_push_changes_from_another_process(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Dashboard check", agent_role="sim"))
        epic = await ok(c, "task.create", {"level": "epic", "title": HOSTILE, "session_id": sid})
        server = start_http_server(ws)
        try:
            port = server.port
            cookie = sign_in(port, link_token(dashboard_link(server)))
            snap = request(port, "GET", "/dashboard/snapshot", {"Cookie": cookie}).json()
            [session] = [s for s in snap["sessions"] if s["id"] == sid]
            assert session["user_request"] == "Dashboard check"
            assert [n["title"] for n in session["plan"]] == [HOSTILE], "titles travel as data, unchanged"
            assert snap["lock"]["state"] == "unlocked"

            sse = SSEReader(port, cookie)
            try:
                assert sse.status_line.endswith("200 OK"), sse.status_line
                first = sse.next_named("snapshot")
                assert [n["title"] for n in first["sessions"][0]["plan"]] == [HOSTILE]
                # Each write of the stdio server (another process) reaches the stream within 1 s.
                delays = []
                for i in range(8):
                    t0 = time.monotonic()
                    await ok(c, "task.create", {"level": "feature", "title": f"F{i}", "parent_id": epic["id"]})
                    while True:
                        ev = sse.next_named("snapshot", timeout=5)
                        titles = [k["title"] for k in ev["sessions"][0]["plan"][0]["children"]]
                        if f"F{i}" in titles:
                            break
                    delays.append(time.monotonic() - t0)
                # A guard against a stream that stops pushing, not the speed target (1 s p95): that is a figure,
                # printed here and recorded in docs/dashboard.md; a loaded CI machine must not fail on it.
                assert max(delays) < 3.0, f"delays {delays}"
                print(f"SSE change delays: median {statistics.median(delays):.3f} s, max {max(delays):.3f} s")
            finally:
                sse.close()
        finally:
            stop_http_server(server)


def test_stop_ends_open_streams(ws):
    server = start_http_server(ws)
    sse = None
    try:
        cookie = sign_in(server.port, link_token(dashboard_link(server)))
        sse = SSEReader(server.port, cookie)
        sse.next_named("snapshot")
        t0 = time.monotonic()
        server.proc.terminate()
        assert server.proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 6
    finally:
        if sse:
            sse.close()
        stop_http_server(server)


def test_demo_dashboard_shows_the_loop_live(ws):
    """`codestrator demo --dashboard` prints a link whose stream follows the demo to its merge."""
    proc = subprocess.Popen(
        [ws.binary, "demo", "--dashboard", "--dir", str(ws.tmp / "demo"), "--tmux-socket", ws.tmux_socket],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ws.server_env(),
    )
    sse = None
    try:
        link = None
        for line in proc.stdout:
            m = re.search(r"dashboard: (http://\S+)", line)
            if m:
                link = m.group(1)
                break
        assert link, "demo --dashboard printed no link"
        port = int(link.split(":")[2].split("/")[0])
        sse = SSEReader(port, sign_in(port, link_token(link)))
        snapshots = []
        try:
            while True:
                snapshots.append(sse.next_named("snapshot", timeout=60))
                s = snapshots[-1]["sessions"]
                if s and s[0]["reviews"] and s[0]["reviews"][0]["verdict"] and s[0]["merge_queue"][0]["merge_commit"]:
                    break
        except EOFError:
            pass
        assert len(snapshots) >= 3, f"only {len(snapshots)} snapshots"
        last = snapshots[-1]["sessions"][0]
        assert last["user_request"] == "Add cart endpoints"
        assert last["reviews"][0]["verdict"] == "APPROVE", last["reviews"]
        assert last["merge_queue"][0]["state"] == "merged", last["merge_queue"]
        assert [n["title"] for n in last["plan"]] == ["Shop"] and last["plan"][0]["done"] == last["plan"][0]["total"] == 4
        statuses = [[c["status"] for c in snap["sessions"][0]["children"]] for snap in snapshots if snap["sessions"]]
        assert any("running" in s or "initializing" in s for s in statuses), statuses
        # Both workers are seen completed before the end; the last snapshot may already show the demo's cleanup
        # (`stopped`) when one poll of the dashboard spans the merge and the cleanup (a loaded machine).
        assert any(len(s) >= 2 and all(x == "completed" for x in s[:2]) for s in statuses), statuses[-5:]
        out = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, out
    finally:
        if sse:
            sse.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its reaped children (the tmux clients it ran), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


async def test_ten_idle_pages_cost_almost_nothing(ws):
    """One watcher for all pages: 10 open streams on a session with 32 children (6 sim agents waiting for an
    answer, 26 panes without an agent; all 32 panes read every 3 s once they are still) cost the server under 1 % of a core; with no
    page open the watcher stops."""
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Idle pages", agent_role="sim"))
        tids = []
        for i in range(6):
            sp = await spawn_case_worker(c, sid, "worker-ask", ["ask"], prefix=f"Idle{i}")
            tids.append(sp[1]["thread"]["id"])
        for tid in tids:
            w = await ok(
                c, "thread.child.wait_status",
                {"thread_id": tid, "target_statuses": ["waiting_user_answer"], "timeout_seconds": 30},
            )
            assert w["matched"], w
        # 26 more panes without an agent (threads written straight into the database).
        for i in range(26):
            tids.append(pane_thread(ws, sid, f"idle-pane-{i}", f"echo idle pane {i}; sleep 600"))
        server = start_http_server(ws)
        readers: list[SSEReader] = []
        try:
            cookie = sign_in(server.port, link_token(dashboard_link(server)))
            for _ in range(10):
                r = SSEReader(server.port, cookie)
                r.next_named("snapshot")
                readers.append(r)
            panes = readers[0].next_named("panes", timeout=5)["panes"]
            assert sorted(int(k) for k in panes) == sorted(tids), panes
            assert all("proceed?" in panes[str(t)] for t in tids[:6]), panes
            assert all(f"idle pane {i}" in panes[str(t)] for i, t in enumerate(tids[6:])), panes
            time.sleep(11)  # idle: no pane has changed for 10 s, so panes are read every 3 s
            before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
            time.sleep(10)
            used, wall = cpu_seconds(server.proc.pid) - before, time.monotonic() - t0
            share = used / wall
            print(f"10 idle pages, 32 live children: {used:.2f} s CPU over {wall:.1f} s ({share * 100:.2f} %)")
            # A guard against a poll loop per page (ten of them would cost several %), not the 1 % target.
            assert share < 0.05, f"{share * 100:.2f} % of a core"
            for r in readers:
                r.close()
            readers = []
            # A closed page is noticed at the next write (a keep-alive every 5 s); the last one stops the watcher.
            deadline = time.monotonic() + 20
            while "dashboard stopped watching" not in server.log_path.read_text():
                assert time.monotonic() < deadline, server.log_path.read_text()
                time.sleep(0.2)
            before = cpu_seconds(server.proc.pid)
            time.sleep(5)
            idle = cpu_seconds(server.proc.pid) - before
            print(f"no page open: {idle:.2f} s CPU over 5 s")
            assert idle <= 0.25, f"{idle:.2f} s CPU with no page open"
        finally:
            for r in readers:
                r.close()
            stop_http_server(server)


def test_outside_a_repository_the_page_says_why(ws, tmp_path):
    """A server started outside a git repository serves the page, whose stream carries the reason once."""
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    port = free_port()
    log = tmp_path / "outside.stderr.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [ws.binary, "serve", "--repo", str(outside), "--http", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=ws.server_env(), cwd=str(outside),
        )
    try:
        deadline = time.monotonic() + 20
        while "open this link once" not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        link = re.search(r"(http://\S+)", log.read_text().split("open this link once")[1]).group(1)
        sse = SSEReader(port, sign_in(port, link_token(link)))
        try:
            first = sse.next_named("snapshot")
            assert "not inside a git repository" in first["error"], first
            with pytest.raises((TimeoutError, OSError, AssertionError)):
                sse.next_named("snapshot", timeout=2)  # the same failure is not sent again
        finally:
            sse.close()
        assert not (outside / ".codestrator").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
