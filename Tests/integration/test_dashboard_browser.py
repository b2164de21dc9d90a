"""The dashboard in a real browser: Debian's chromium, headless, driven by Selenium pointed at the system chromium and
chromedriver (nothing is downloaded). A sim session runs through the stdio server (another process) while the page
is open; the assertions are what a person sees: the plan with progress, a child changing status live, its question
loud and first, its pane text, the merge verdict and the merge; a hostile title shown as text; the page at 1280×800
and 390×844. Screenshots of each state are saved under the test's tmp dir (and in $CODESTRATOR_DASHBOARD_SHOTS when
set)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from cs_harness import ok, open_session, plan_case, session_id_of, start_http_server, stop_http_server
from dashboard_support import dashboard_link, pane_thread
from threads_support import screen, spawn, wait_until

pytestmark = pytest.mark.anyio

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run does)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

HOSTILE = '<img src=x onerror="window.__pwned=1">'
DESKTOP = (1280, 800)
PHONE = (390, 844)


class Page:
    """A headless chromium on the dashboard, with screenshots into `shots`."""

    def __init__(self, tmp: Path, shots: Path):
        os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or a driver
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", f"--user-data-dir={tmp / 'chromium-profile'}"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)
        self.extra = os.environ.get("CODESTRATOR_DASHBOARD_SHOTS")
        self.size(*DESKTOP)

    def size(self, width: int, height: int) -> None:
        self.width = width
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        if self.extra:
            Path(self.extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(self.extra) / path.name)
        return path

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    # Reads go through one script each: the page re-renders on every snapshot, so element handles go stale.
    def text(self, css: str) -> str:
        """The rendered text of every element matching `css`, joined."""
        return self.js(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText).join(' ')", css
        )

    def card_status(self, thread_id: int) -> str | None:
        return self.js(
            "var c = document.querySelector('.child[data-thread=\"' + arguments[0] + '\"]');"
            "return c ? c.dataset.status : null;",
            thread_id,
        )

    def top(self, css: str) -> float:
        return self.js("return document.querySelector(arguments[0]).getBoundingClientRect().top", css)

    def shown(self, css: str) -> bool:
        return self.js("var e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null", css)

    def no_overflow(self) -> bool:
        """Nothing wider than the device: no sideways scrolling, and no zoomed-out layout either."""
        return self.js(
            "return document.documentElement.scrollWidth <= arguments[0] && window.innerWidth == arguments[0]",
            self.width,
        )

    def errors(self) -> list[str]:
        """Console errors other than the favicon request."""
        return [
            e["message"]
            for e in self.driver.get_log("browser")
            if e["level"] == "SEVERE" and "favicon" not in e["message"]
        ]

    def close(self) -> None:
        self.driver.quit()


@pytest.fixture
def page(ws, tmp_path):
    p = Page(ws.tmp, tmp_path / "screenshots")
    yield p
    p.close()


async def until(what: str, probe, timeout: float = 20.0, detail=None):
    return await wait_until(what, probe, timeout=timeout, interval=0.1, detail=detail)


async def test_a_sim_session_seen_live_in_the_browser(ws, page):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Add cart endpoints", agent_role="sim"))
        ids = await plan_case(c, sid, ["write the handler", "test the handler"], prefix="Cart")
        server = start_http_server(ws)
        try:
            link = dashboard_link(server)
            t0 = time.monotonic()
            page.driver.get(link)
            # The token left the URL: the browser holds an HttpOnly cookie that scripts cannot read.
            assert page.driver.current_url == f"http://127.0.0.1:{server.port}/", page.driver.current_url
            assert "token" not in page.js("return document.cookie") and page.js("return document.cookie") == ""

            # The plan with progress per level.
            await until("the plan", lambda: "Cart case" in page.text(".plan"))
            first_paint = time.monotonic() - t0
            case = page.text(f'.plan-node[data-id="{ids["case"]}"]')
            assert "0/2" in case and "write the handler" in case, case
            epic = page.text(f'.plan-node[data-id="{ids["epic"]}"]')
            assert "Cart epic" in epic and "0/2" in epic, epic
            assert "Session #%d" % sid in page.text("h2") and "Add cart endpoints" in page.text("h2")
            assert page.text("#conn") == "live"
            page.shot("01-plan")

            # A child that asks: its status changes live, and its question comes first on the page.
            sp = await spawn(c, sid, "worker-ask", scope_case_ids=[ids["case"]])
            tid = sp["thread"]["id"]
            seen: list[str] = []

            def status_seen():
                s = page.card_status(tid)
                if s and (not seen or seen[-1] != s):
                    seen.append(s)
                return s == "waiting_user_answer"

            await until("the needs-input status", status_seen, detail=lambda: screen(ws, sp["thread"]["tmux_pane_id"]))
            assert page.shown("#questions") and "proceed? (y/n)" in page.text("#questions"), page.text("#questions")
            assert page.top("#questions") < page.top("#sessions"), "the question comes first"
            card = page.text(f'.child[data-thread="{tid}"]')
            assert "Needs input: " in card and "proceed? (y/n)" in card, card
            assert "worker" in card and "sim" in card, card
            # The read-only pane view shows the child's screen.
            await until("the pane text", lambda: "proceed?" in page.text(f"#pane-{tid}"), timeout=10)
            page.shot("02-needs-input")

            d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "answer", "directive": "y"})
            assert d["result"] == "directive_sent", d
            # One reading of the card per probe: a second one could see `completed` that `seen` never got.
            await until("the child completed", lambda: (status_seen(), seen[-1] == "completed")[1])
            assert "waiting_user_answer" in seen and seen[-1] == "completed", seen
            assert not page.shown("#questions")
            await until("the case at 2/2", lambda: "2/2" in page.text(f'.plan-node[data-id="{ids["case"]}"]'))
            assert "y" in page.text(f'.child[data-thread="{tid}"] .directives'), "the answer is listed as a directive"
            timeline = page.text(".timeline").lower()
            assert "step.check" in timeline and "spawn" in timeline and "completed" in timeline, timeline
            page.shot("03-completed")

            # The merge side: review verdict under the main lock, then the merge into main.
            await ok(c, "worktree.merge_to_parent", {"worktree_id": sp["thread"]["worktree_id"]})
            await ok(c, "merge.request", {"feature_task_id": ids["feature"], "session_id": sid})
            await ok(
                c,
                "merge.main.request",
                {"session_id": sid, "agent_override": {"sim_scenario": "reviewer-approve"}},
            )
            lock = await ok(c, "merge.main.acquire_lock", {"session_id": sid})
            await until("the lock holder", lambda: f"session #{sid}" in page.text("#lock"), timeout=10)
            job = lock["review_dispatch"]["review_job"]["id"]
            await until("the APPROVE verdict", lambda: "APPROVE" in page.text(".verdict"), timeout=60)
            st = await ok(c, "merge.review.thread_status", {"review_job_id": job})
            assert st["verdict"] == "APPROVE", st
            page.shot("04-approved")
            r = await ok(c, "merge.main.release_lock", {"session_id": sid})
            assert r["result"] == "merged", r
            await until("the merge on main", lambda: r["merge_commit"][:10] in page.text(".queue"), timeout=10)
            assert "merged" in page.text(".queue")
            await until("the lock released", lambda: "unlocked" in page.text("#lock"), timeout=10)
            assert page.no_overflow()
            page.shot("05-merged")

            # A phone: one column, no sideways scrolling, everything still there.
            page.size(*PHONE)
            await until("the phone layout", page.no_overflow, timeout=5)
            assert "APPROVE" in page.text(".verdict") and "Cart case" in page.text(".plan")
            page.shot("06-phone")
            assert page.errors() == [], page.errors()
            print(f"first page usable after {first_paint * 1000:.0f} ms; screenshots in {page.shots}")
        finally:
            stop_http_server(server)


def colour_pane_thread(ws, session_id: int, printf_format: str) -> int:
    """A running worker thread whose pane (on the test's tmux socket) printed `printf_format`; returns its id."""
    return pane_thread(ws, session_id, "colours", f"printf '{printf_format}\\n'; sleep 600", title="colours")


async def test_a_hostile_title_is_shown_as_text(ws, page):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, HOSTILE, agent_role="sim"))
        epic = await ok(c, "task.create", {"level": "epic", "title": HOSTILE, "session_id": sid})
        server = start_http_server(ws)
        try:
            page.driver.get(dashboard_link(server))
            await until("the hostile epic", lambda: HOSTILE in page.text(".plan"))
            assert page.text(f'.plan-node[data-id="{epic["id"]}"] > .title') == HOSTILE
            assert HOSTILE in page.text("h2")
            assert page.driver.find_elements(By.TAG_NAME, "img") == [], "no element was made from the title"
            time.sleep(0.3)
            assert page.js("return window.__pwned") is None, "no script ran"
            # Live: a second hostile title arrives through SSE as text too.
            await ok(c, "task.create", {"level": "feature", "title": HOSTILE + "2", "parent_id": epic["id"]})
            await until("the hostile feature", lambda: HOSTILE + "2" in page.text(".plan"), timeout=5)
            assert page.driver.find_elements(By.TAG_NAME, "img") == []
            assert page.js("return window.__pwned") is None

            # A child's pane: colours become styled spans, the hostile text stays text, other escapes vanish.
            tid = colour_pane_thread(ws, sid, "\\033[31mRED\\033[0m \\033[1;38;5;46mGREEN\\033[0m " + HOSTILE
                                     + " \\033]0;set-title\\007plain")
            await until("the pane text", lambda: "RED" in page.text(f"#pane-{tid}"), timeout=10)
            pane = page.text(f"#pane-{tid}")
            assert "RED GREEN " + HOSTILE + " plain" in pane and "\x1b" not in pane and "set-title" not in pane, pane
            colours = page.js(
                "return Array.from(document.querySelectorAll(arguments[0])).map("
                "s => [s.textContent, getComputedStyle(s).color, getComputedStyle(s).fontWeight])",
                f"#pane-{tid} span.sgr",
            )
            assert colours == [["RED", "rgb(205, 49, 49)", "400"], ["GREEN", "rgb(0, 255, 0)", "700"]], colours
            assert page.driver.find_elements(By.TAG_NAME, "img") == []
            assert page.js("return window.__pwned") is None
            page.shot("hostile-desktop")
            page.size(*PHONE)
            await until("the phone layout", page.no_overflow, timeout=5)
            page.shot("hostile-phone")
            assert page.errors() == [], page.errors()
        finally:
            stop_http_server(server)
