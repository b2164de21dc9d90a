/// The dashboard's page, style and script, embedded in the binary (no CDN, no build step). The script
/// builds every node with `createElement` and `textContent`: a value from the state is never parsed as
/// HTML.
enum DashboardAssets {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Codestrator</title>
        <link rel="stylesheet" href="/dashboard/app.css">
        <script src="/dashboard/app.js" defer></script>
        </head>
        <body>
        <header>
        <h1>Codestrator</h1>
        <span id="conn" class="conn">connecting…</span>
        <span id="lock" class="lock"></span>
        </header>
        <section id="questions" class="questions" role="alert" hidden></section>
        <main id="sessions"><p class="muted">Loading…</p></main>
        <noscript>The dashboard needs JavaScript.</noscript>
        </body>
        </html>

        """

    static let style = """
        :root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d232b; --muted: #6a7380;
          --line: #d9dde3; --ok: #1a7f37; --bad: #c62828; --warn: #b26a00; --run: #1f6feb; }
        @media (prefers-color-scheme: dark) { :root { --bg: #0f1216; --card: #181c22; --fg: #e6e9ee;
          --muted: #98a1ad; --line: #2b313a; } }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
        header { display: flex; flex-wrap: wrap; gap: 12px; align-items: baseline; padding: 10px 16px;
          border-bottom: 1px solid var(--line); background: var(--card); position: sticky; top: 0; z-index: 2; }
        h1 { font-size: 18px; margin: 0; }
        h2 { font-size: 17px; margin: 0 0 6px; overflow-wrap: anywhere; }
        h3 { font-size: 14px; margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
        .conn, .lock, .muted { color: var(--muted); }
        .meta, .current-ref, .review, .plan-node, li { overflow-wrap: anywhere; min-width: 0; }
        .cols > div, .cards > .card { min-width: 0; }
        .conn.live { color: var(--ok); }
        main { padding: 12px 16px; display: grid; gap: 16px; }
        .session { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
        .cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
        @media (max-width: 800px) { .cols { grid-template-columns: minmax(0, 1fr); } }
        .questions { margin: 12px 16px 0; padding: 10px 14px; border: 2px solid var(--warn); border-radius: 8px;
          background: #fff4e0; color: #5a3600; font-size: 16px; font-weight: 600; }
        .questions p { margin: 4px 0; overflow-wrap: anywhere; }
        .badge { display: inline-block; padding: 0 6px; border-radius: 10px; border: 1px solid var(--line);
          font-size: 12px; white-space: nowrap; }
        .s-done, .s-completed, .s-APPROVE, .s-merged, .s-delivered { color: var(--ok); border-color: var(--ok); }
        .s-failed, .s-BLOCK, .s-blocked, .s-cancelled, .s-rejected { color: var(--bad); border-color: var(--bad); }
        .s-running, .s-in_progress, .s-initializing, .s-reviewing, .s-locked { color: var(--run); border-color: var(--run); }
        .s-waiting_user_answer, .s-queued { color: var(--warn); border-color: var(--warn); }
        ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 14px; }
        ul.tree { padding-left: 0; }
        ul.tree li { margin: 3px 0; overflow-wrap: anywhere; }
        .lvl { color: var(--muted); font-size: 11px; text-transform: uppercase; margin-right: 4px; }
        progress { width: 80px; height: 8px; vertical-align: middle; margin: 0 6px; }
        .step { color: var(--muted); }
        .step.done { color: var(--ok); }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr)); gap: 10px; }
        .card { border: 1px solid var(--line); border-radius: 8px; padding: 10px; min-width: 0; }
        .card.ask { border: 2px solid var(--warn); }
        .card .q { font-weight: 700; color: var(--warn); overflow-wrap: anywhere; }
        .card .meta { color: var(--muted); font-size: 12px; }
        .card h4 { margin: 0 0 6px; font-size: 15px; overflow-wrap: anywhere; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0; font: 12px/1.3 ui-monospace, monospace; }
        pre.pane { background: #10141a; color: #d8dee9; padding: 6px; border-radius: 6px; max-height: 220px;
          overflow: auto; white-space: pre; }
        ol.timeline, ul.list { margin: 0; padding-left: 18px; }
        ol.timeline li, ul.list li { overflow-wrap: anywhere; }
        .at { color: var(--muted); font-size: 12px; margin-right: 6px; }

        """

    static let script = #"""
        "use strict";
        // Codestrator dashboard: read-only. Every value from the state is set with textContent.
        (function () {
          var panes = {};
          var receivedAt = Date.now();

          function el(tag, cls, text) {
            var e = document.createElement(tag);
            if (cls) e.className = cls;
            if (text !== undefined && text !== null) e.textContent = String(text);
            return e;
          }
          function add(parent) {
            for (var i = 1; i < arguments.length; i++) {
              var c = arguments[i];
              if (c === null || c === undefined) continue;
              parent.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
            }
            return parent;
          }
          function badge(status) {
            var b = el("span", "badge", status);
            if (/^[A-Za-z_]+$/.test(String(status))) b.classList.add("s-" + status);
            return b;
          }
          function duration(s) {
            s = Math.max(0, Math.floor(s));
            if (s < 60) return s + " s";
            if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
            return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
          }
          function since(seconds) {
            var span = el("span", "since");
            span.dataset.since = String(seconds || 0);
            span.textContent = duration(seconds || 0);
            return span;
          }
          function tickDurations() {
            var extra = (Date.now() - receivedAt) / 1000;
            document.querySelectorAll("[data-since]").forEach(function (e) {
              e.textContent = duration(Number(e.dataset.since) + extra);
            });
            document.querySelectorAll("[data-lease]").forEach(function (e) {
              e.textContent = duration(Math.max(0, Number(e.dataset.lease) - extra));
            });
          }
          function short(sha) { return sha ? String(sha).slice(0, 10) : ""; }

          function planNode(n) {
            var li = el("li", "plan-node");
            li.dataset.level = n.level;
            li.dataset.id = String(n.id);
            add(li, el("span", "lvl", n.level), el("span", "title", n.title), " ", badge(n.cancelled ? "cancelled" : n.status));
            if (n.total > 0) {
              var p = el("progress");
              p.max = n.total;
              p.value = n.done;
              add(li, p, el("span", "progress", n.done + "/" + n.total));
            }
            if (n.blocked_reason) add(li, el("div", "q", "blocked: " + n.blocked_reason));
            var ul = el("ul");
            (n.steps || []).forEach(function (s) {
              var done = s.status === "done" || s.status === "skipped";
              var sl = el("li", "step" + (done ? " done" : ""), (done ? "✓ " : "○ ") + s.order + ". " + s.title);
              sl.dataset.status = s.status;
              ul.appendChild(sl);
            });
            (n.children || []).forEach(function (c) { ul.appendChild(planNode(c)); });
            if (ul.childNodes.length) li.appendChild(ul);
            return li;
          }

          function childCard(c) {
            var card = el("article", "card child");
            card.dataset.thread = String(c.id);
            card.dataset.status = c.status;
            var name = c.title || (c.role + " #" + c.id);
            add(card, el("h4", "name", name));
            if (c.question !== null && c.question !== undefined) {
              card.classList.add("ask");
              add(card, el("div", "q", "Needs input: " + (c.question || "(see the pane)")));
            }
            var st = el("div", "status");
            add(st, badge(c.status), " for ", since(c.status_seconds));
            if (c.provider_status) add(st, " ", el("span", "muted", "(" + c.provider_status + ")"));
            add(card, st);
            add(card, el("div", "meta", c.role + " · " + (c.provider || "?") + " · #" + c.id));
            if (c.branch || c.worktree) add(card, el("div", "meta", (c.branch || "") + (c.worktree ? "  " + c.worktree : "")));
            if (c.failure_reason) add(card, el("pre", "failure", c.failure_reason));
            if (c.last_response) {
              add(card, el("div", "muted", "Last response"), el("pre", "response", c.last_response));
            }
            if (c.directives && c.directives.length) {
              var ul = el("ul", "list directives");
              c.directives.forEach(function (d) {
                var li = el("li");
                add(li, badge(d.state), " ", el("span", "muted", d.mode), " ", d.text);
                ul.appendChild(li);
              });
              add(card, el("div", "muted", "Directives"), ul);
            }
            if (c.pane) {
              var pre = el("pre", "pane");
              pre.id = "pane-" + c.id;
              paneText(pre, panes[c.id] || "");
              add(card, pre);
            }
            return card;
          }

          function mergeSide(s) {
            var box = el("div", "merge");
            add(box, el("h3", null, "Merge queue"));
            if (!s.merge_queue.length) add(box, el("p", "muted", "empty"));
            var ul = el("ul", "list queue");
            s.merge_queue.forEach(function (q) {
              var li = el("li");
              add(li, badge(q.state), " ", q.source_branch + " → " + q.target_branch);
              if (q.merge_commit) add(li, " ", el("code", null, short(q.merge_commit)));
              if (q.error) add(li, el("div", "q", q.error));
              ul.appendChild(li);
            });
            add(box, ul, el("h3", null, "Reviews"));
            if (!s.reviews.length) add(box, el("p", "muted", "none"));
            s.reviews.forEach(function (r) {
              var d = el("div", "review");
              add(d, el("span", "verdict badge s-" + (r.verdict || r.state), r.verdict || r.state), " ",
                el("code", null, short(r.reviewed_commit)), " ", r.summary || "");
              if (Array.isArray(r.findings) && r.findings.length) {
                var fl = el("ul", "list findings");
                r.findings.forEach(function (f) {
                  fl.appendChild(el("li", null, typeof f === "string" ? f : JSON.stringify(f)));
                });
                d.appendChild(fl);
              }
              box.appendChild(d);
            });
            add(box, el("h3", null, "Merges"));
            if (!s.merges.length) add(box, el("p", "muted", "none yet"));
            var ml = el("ul", "list merges");
            s.merges.forEach(function (m) {
              var li = el("li");
              add(li, badge(m.merge_state), " ", m.branch || "", " ", el("code", null, short(m.merge_commit)));
              ml.appendChild(li);
            });
            box.appendChild(ml);
            return box;
          }

          function session(s) {
            var sec = el("section", "session");
            sec.dataset.session = String(s.id);
            add(sec, el("h2", null, "Session #" + s.id + (s.user_request ? " — " + s.user_request : "")));
            var meta = el("div", "meta muted");
            add(meta, badge(s.status), " ", (s.branch || "") + (s.worktree ? "  " + s.worktree : ""));
            sec.appendChild(meta);
            if (s.current_ref) {
              var r = s.current_ref;
              add(sec, el("div", "current-ref", "Current ref: " + r.node_type + " #" + r.node_id + " " + (r.title || "") +
                (r.next_action ? " — next: " + r.next_action : "")));
            }
            var cols = el("div", "cols");
            var left = el("div"), right = el("div");
            add(left, el("h3", null, "Plan"));
            if (!s.plan.length) add(left, el("p", "muted", "no plan yet"));
            var tree = el("ul", "tree plan");
            s.plan.forEach(function (n) { tree.appendChild(planNode(n)); });
            left.appendChild(tree);
            add(right, mergeSide(s));
            add(cols, left, right);
            sec.appendChild(cols);
            add(sec, el("h3", null, "Children"));
            if (!s.children.length) add(sec, el("p", "muted", "no children"));
            var cards = el("div", "cards");
            s.children.forEach(function (c) { cards.appendChild(childCard(c)); });
            sec.appendChild(cards);
            var cols2 = el("div", "cols");
            var inbox = el("div"), time = el("div");
            add(inbox, el("h3", null, "Inbox"));
            if (!s.inbox.length) add(inbox, el("p", "muted", "empty"));
            var il = el("ul", "list inbox");
            s.inbox.forEach(function (m) {
              var li = el("li");
              add(li, badge(m.kind), " ", el("span", "muted", (m.from || "?") + " → " + (m.to || "?") + ": "), m.message);
              il.appendChild(li);
            });
            inbox.appendChild(il);
            add(time, el("h3", null, "Timeline"));
            var tl = el("ol", "timeline");
            s.timeline.forEach(function (t) {
              var li = el("li");
              add(li, el("span", "at", String(t.at).replace("T", " ").slice(11, 19)), " ", el("span", "lvl", t.kind), " ",
                t.thread ? t.thread + ": " : "", t.text);
              tl.appendChild(li);
            });
            time.appendChild(tl);
            add(cols2, inbox, time);
            sec.appendChild(cols2);
            return sec;
          }

          function render(snap) {
            receivedAt = Date.now();
            var main = document.getElementById("sessions");
            var questions = document.getElementById("questions");
            main.replaceChildren();
            questions.replaceChildren();
            if (snap.error) { add(main, el("p", "q", snap.error)); return; }
            var lock = snap.lock || {};
            var lockEl = document.getElementById("lock");
            lockEl.replaceChildren();
            add(lockEl, "main merge lock: ", badge(lock.state || "unknown"));
            if (lock.state === "locked") {
              var left = el("span", "lease");
              left.dataset.lease = String(lock.lease_seconds_left || 0);
              add(lockEl, " session #" + lock.holder_session_id + ", lease ", left);
            }
            var asks = 0;
            snap.sessions.forEach(function (s) {
              s.children.forEach(function (c) {
                if (c.question !== null && c.question !== undefined) {
                  asks++;
                  add(questions, el("p", "question", (c.title || c.role + " #" + c.id) + " needs input: " + (c.question || "(see its pane)")));
                }
              });
              main.appendChild(session(s));
            });
            questions.hidden = asks === 0;
            // Panes show their newest lines, as a terminal does.
            document.querySelectorAll("pre.pane").forEach(function (pre) { pre.scrollTop = pre.scrollHeight; });
            if (!snap.sessions.length) add(main, el("p", "muted", "No session yet."));
            tickDurations();
          }

          // Pane text arrives with its SGR colour codes (capture-pane -e). They become spans coloured through
          // the CSSOM; every other escape sequence is dropped and the text itself is only ever textContent.
          var PALETTE = ["#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
            "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"];
          function color256(n) {
            if (n < 16) return PALETTE[n];
            if (n < 232) {
              n -= 16;
              var v = function (x) { return x ? 55 + x * 40 : 0; };
              return "rgb(" + v(Math.floor(n / 36)) + "," + v(Math.floor(n / 6) % 6) + "," + v(n % 6) + ")";
            }
            var l = 8 + (n - 232) * 10;
            return "rgb(" + l + "," + l + "," + l + ")";
          }
          function sgr(st, params) {
            var codes = params === "" ? [0] : params.split(";").map(Number);
            for (var i = 0; i < codes.length; i++) {
              var c = codes[i];
              if (c === 0) { st.fg = st.bg = null; st.bold = st.italic = st.underline = st.inverse = false; }
              else if (c === 1) st.bold = true;
              else if (c === 3) st.italic = true;
              else if (c === 4) st.underline = true;
              else if (c === 7) st.inverse = true;
              else if (c === 22) st.bold = false;
              else if (c === 23) st.italic = false;
              else if (c === 24) st.underline = false;
              else if (c === 27) st.inverse = false;
              else if (c >= 30 && c <= 37) st.fg = PALETTE[c - 30];
              else if (c >= 90 && c <= 97) st.fg = PALETTE[c - 90 + 8];
              else if (c >= 40 && c <= 47) st.bg = PALETTE[c - 40];
              else if (c >= 100 && c <= 107) st.bg = PALETTE[c - 100 + 8];
              else if (c === 39) st.fg = null;
              else if (c === 49) st.bg = null;
              else if (c === 38 || c === 48) {
                var col = null;
                if (codes[i + 1] === 5) { col = color256(codes[i + 2] || 0); i += 2; }
                else if (codes[i + 1] === 2) {
                  col = "rgb(" + (codes[i + 2] || 0) + "," + (codes[i + 3] || 0) + "," + (codes[i + 4] || 0) + ")";
                  i += 4;
                }
                if (c === 38) st.fg = col; else st.bg = col;
              }
            }
          }
          function paneText(pre, text) {
            pre.replaceChildren();
            text = String(text)
              .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
              .replace(/\x1b\[[0-9;?]*[A-Za-ln-z]/g, "")
              .replace(/\x1b[^\[]/g, "");
            var st = { fg: null, bg: null, bold: false, italic: false, underline: false, inverse: false };
            var re = /\x1b\[([0-9;]*)m/g, last = 0, m;
            function emit(t) {
              if (!t) return;
              var fg = st.inverse ? (st.bg || "#10141a") : st.fg, bg = st.inverse ? (st.fg || "#d8dee9") : st.bg;
              if (!fg && !bg && !st.bold && !st.italic && !st.underline) {
                pre.appendChild(document.createTextNode(t));
                return;
              }
              var span = el("span", "sgr", t);
              if (fg) span.style.color = fg;
              if (bg) span.style.backgroundColor = bg;
              if (st.bold) span.style.fontWeight = "bold";
              if (st.italic) span.style.fontStyle = "italic";
              if (st.underline) span.style.textDecoration = "underline";
              pre.appendChild(span);
            }
            while ((m = re.exec(text))) {
              emit(text.slice(last, m.index));
              sgr(st, m[1]);
              last = re.lastIndex;
            }
            emit(text.slice(last).replace(/\x1b/g, ""));
          }

          function applyPanes(msg) {
            Object.keys(msg.panes || {}).forEach(function (id) {
              panes[id] = msg.panes[id];
              var pre = document.getElementById("pane-" + id);
              if (pre) { paneText(pre, msg.panes[id]); pre.scrollTop = pre.scrollHeight; }
            });
            (msg.removed || []).forEach(function (id) { delete panes[id]; });
          }

          function connect() {
            var conn = document.getElementById("conn");
            var source = new EventSource("/dashboard/events");
            source.addEventListener("open", function () { conn.textContent = "live"; conn.className = "conn live"; });
            source.addEventListener("error", function () { conn.textContent = "reconnecting…"; conn.className = "conn"; });
            source.addEventListener("snapshot", function (e) { render(JSON.parse(e.data)); });
            source.addEventListener("panes", function (e) { applyPanes(JSON.parse(e.data)); });
          }

          connect();
          setInterval(tickDurations, 1000);
        })();

        """#
}
