#!/usr/bin/env python3
"""Browser tests of the MasterPlan review UI, in Debian's headless chromium (DevTools protocol).

    python3 Tests/Browser/browser_test.py --base-url http://127.0.0.1:8080 \\
        --email ann@example.org --password secret --screenshots /tmp/masterplan-shots [--flow tour,demo]

Flows (comma-separated, default "tour"):
  tour      log in (a wrong password first), visit every page that has data at 1280x900 and at
            390x844 (phone), screenshot each, fail on JavaScript errors or on a page wider than
            the phone screen; keyboard checks (skip link, visible focus, dialogs open and close
            with the keyboard); the usage page shows GET /usage's figures; an expired session
            returns to the login page with a message.
  mutate    on a draft plan: edit a task and put it back (two versions are recorded).
  demo      the issue's end-to-end run on a stack started like `masterplan up` (executor and demo
            model running): submit "create a FastAPI app with JWT auth", watch the plan appear
            live, approve, execute, watch the waves live, resolve every review, see `completed`,
            download the workspace. Takes minutes; --demo-timeout bounds it.
Environment fallbacks: MASTERPLAN_URL, MASTERPLAN_EMAIL, MASTERPLAN_PASSWORD, MASTERPLAN_SCREENSHOTS,
CHROMIUM. Exit status 0 when every flow passed. Screenshots are named NN-page-desktop.png and
NN-page-phone.png in the screenshot folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, WaitTimeout  # noqa: E402

DESKTOP = (1280, 900, False)
PHONE = (390, 844, True)
DEMO_REQUEST = "create a FastAPI app with JWT auth"


class UI:
    """The review UI as a user sees it: pages, buttons, text."""

    def __init__(self, browser: Browser, base_url: str, shots: str, verbose: bool = False):
        self.b = browser
        self.base = base_url.rstrip("/")
        self.shots = shots
        self.verbose = verbose
        self.counter = 0
        self.taken: list[str] = []
        os.makedirs(shots, exist_ok=True)

    def log(self, message: str) -> None:
        print(f"  {message}", flush=True)

    # Navigation and checks

    def go(self, route: str, ready: str, timeout: float = 20, what: str | None = None) -> None:
        """Opens `#route` and waits until `ready` (a JS expression) is true."""
        current = self.b.eval("location.href")
        target = f"{self.base}/#{route}"
        if current.startswith(self.base):
            self.b.eval(f"location.hash = {json.dumps('#' + route)}")
        else:
            self.b.goto(target)
        self.b.wait_for(ready, timeout=timeout, what=what or f"page #{route}")
        self.b.wait_for("!document.querySelector('main .loading')", timeout=timeout, what=f"#{route} to finish loading")

    def assert_no_errors(self, where: str) -> None:
        if self.b.errors:
            errors, self.b.errors = self.b.errors[:], []
            raise AssertionError(f"JavaScript errors on {where}: {errors}")

    def assert_fits(self, where: str) -> None:
        overflow = self.b.eval("""(() => {
            const w = window.innerWidth, doc = document.documentElement.scrollWidth;
            if (doc <= w + 1) return null;
            const wide = [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > w + 1)
              .filter(e => !e.closest('.table-wrap, .code-wrap, .dag-wrap, .tabs'))
              .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.'));
            return {doc, w, wide};
        })()""")
        if overflow:
            raise AssertionError(f"{where} is wider than the screen at {self.b.viewport[0]} px: {overflow}")

    def snap(self, name: str, both: bool = True) -> None:
        """Screenshots at desktop size, then (if `both`) at phone size, checking the layout fits."""
        self.counter += 1
        base = os.path.join(self.shots, f"{self.counter:02d}-{name}")
        sizes = [("desktop", DESKTOP), ("phone", PHONE)] if both else [("desktop", DESKTOP)]
        for label, (w, h, mobile) in sizes:
            self.b.set_viewport(w, h, mobile)
            self.b.session.pump(0.25)
            self.assert_fits(f"{name} ({label})")
            path = self.b.screenshot(f"{base}-{label}.png")
            self.taken.append(path)
        self.b.set_viewport(*DESKTOP)
        self.assert_no_errors(name)
        self.log(f"ok  {name}")

    def api(self, path: str, method: str = "GET", body=None):
        """Calls the API with the page's own session token (to find ids to visit)."""
        return self.b.eval(f"""(async () => {{
            const s = JSON.parse(sessionStorage.getItem('masterplan.session') || 'null');
            const r = await fetch('/api/v1' + {json.dumps(path)}, {{method: {json.dumps(method)},
                headers: {{Authorization: 'Bearer ' + (s && s.token), 'Content-Type': 'application/json'}},
                body: {json.dumps(json.dumps(body)) if body is not None else 'undefined'}}});
            return {{status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : null}};
        }})()""")

    # Login

    def ensure_login(self, email: str, password: str) -> None:
        """Logs in unless this browser already has a session on the stack."""
        on_stack = self.b.eval("location.href").startswith(self.base)
        if not on_stack or not self.b.eval("!!JSON.parse(sessionStorage.getItem('masterplan.session') || 'null')"):
            self.login(email, password)

    def login(self, email: str, password: str, check_wrong_password: bool = False) -> None:
        self.b.goto(f"{self.base}/#/login")
        self.b.wait_for("document.querySelector('#login-email')", what="the login form")
        if check_wrong_password:
            self.b.fill("#login-email", email)
            self.b.fill("#login-password", password + "-wrong")
            self.b.click_text("Log in", "button")
            self.b.wait_for("document.querySelector('.login-form [role=alert]')", what="the login error")
            message = self.b.text(".login-form [role=alert]")
            assert "not valid" in message.lower() or "password" in message.lower() or "credentials" in message.lower(), message
            self.snap("login-error")
        self.b.fill("#login-email", email)
        self.b.fill("#login-password", password)
        self.b.press("Enter")
        self.b.wait_for("location.hash.startsWith('#/plans') && document.querySelector('main h1')?.textContent === 'Plans'",
                        what="the plans page after login")


# Flows ----------------------------------------------------------------------------------------------


def flow_tour(ui: UI, args) -> None:
    b = ui.b
    ui.login(args.email, args.password, check_wrong_password=True)
    ui.go("/plans", "document.querySelector('.plans-table, .empty')")
    # Plans of the same project read apart: each title carries its short id.
    titles = b.eval("[...document.querySelectorAll('.plans-table .plan-name')].map((e) => e.querySelector('a').textContent + e.querySelector('.plan-short-id').textContent)")
    assert len(titles) == len(set(titles)), f"two plans read the same in the list: {titles}"
    ui.snap("plans")

    plans = ui.api("/masterplans?limit=200")["body"]["items"]
    ui.go("/chat", "document.querySelector('.composer')")
    # A new conversation says which stacks a plan can run as.
    b.wait_for("['Python', 'Node.js', 'Go'].every((name) => document.querySelector('.supported-stacks')?.textContent.includes(name))",
               what="the supported stacks in the new conversation")
    ui.snap("chat-new")
    # The "Make a plan" box keeps the person's choice across visits.
    b.click(".composer input[type=checkbox]")
    assert b.eval("!document.querySelector('.composer input[type=checkbox]').checked")
    b.session.call("Page.reload")
    b.wait_for("document.readyState === 'complete' && document.querySelector('.composer input[type=checkbox]')", what="the new conversation again")
    assert b.eval("!document.querySelector('.composer input[type=checkbox]').checked"), "the Make a plan box forgot its state"
    b.click(".composer input[type=checkbox]")
    assert b.eval("document.querySelector('.composer input[type=checkbox]').checked")
    conversations = ui.api("/conversations?limit=5")["body"]["items"]
    if conversations:
        ui.go(f"/chat/{conversations[0]['id']}", "document.querySelector('.message')")
        ui.snap("chat-conversation")
    # A very long word (an identifier, a path) wraps at phone width: no page scrolls sideways.
    long_word = "supercalifragilisticexpialidocious_" * 10
    made = ui.api("/conversations", "POST", {"title": long_word[:80]})
    assert made["status"] == 201, made
    sent = ui.api(f"/conversations/{made['body']['id']}/messages", "POST", {"content": f"Does {long_word} fit on a phone?"})
    assert sent["status"] == 202, sent
    ui.go(f"/chat/{made['body']['id']}", "document.querySelector('.message')")
    ui.snap("chat-long-word")

    with_tasks = [p for p in plans if p["total_tasks"] > 0]
    draft = next((p for p in with_tasks if p["status"] == "draft"), None)
    detail = draft or (with_tasks[0] if with_tasks else None)
    if detail:
        pid = detail["id"]
        ui.go(f"/plans/{pid}?tab=tasks", "document.querySelector('.task')")
        ui.snap("plan-tasks")
        ui.go(f"/plans/{pid}?tab=graph", "document.querySelector('svg.dag')")
        ui.snap("plan-dependencies")
        ui.go(f"/plans/{pid}?tab=tests", "document.querySelector('.tests, .empty')")
        b.eval("document.querySelector('details.test')?.setAttribute('open', '')")
        ui.snap("plan-tests")
        ui.go(f"/plans/{pid}?tab=discovery", "document.querySelector('.discovery, .empty')")
        ui.snap("plan-discovery")
        ui.go(f"/plans/{pid}?tab=history", "document.querySelector('.history')")
        compare = b.count(".history button")
        if compare:
            b.click(".history button")
            b.wait_for("document.querySelector('.compare .version-changes')", what="the version's changes, task by task")
            # Every version records the same fields: comparing two never reports a field as missing.
            assert "did not record" not in b.text(".compare .version-changes"), b.text(".compare .version-changes")
        ui.snap("plan-history")
        keyboard_checks(ui, pid, draft is not None)
    else:
        ui.log("skip plan pages: no plan with tasks yet")

    # A plan that does not exist: the page says so, and offers no "Try again" that could only fail again.
    ui.go("/plans/00000000-0000-4000-8000-000000000000", "document.querySelector('.error-box')", what="the not-found plan page")
    if b.eval("[...document.querySelectorAll('.error-box button')].some((e) => e.textContent.includes('Try again'))"):
        raise AssertionError("a not-found page offers Try again")
    ui.snap("plan-not-found")

    generating = next((p for p in plans if p["status"] == "generating"), None)
    if generating:
        ui.go(f"/plans/{generating['id']}", "document.querySelector('.generation')")
        ui.snap("plan-generating")

    executing = next((p for p in plans if p["total_waves"] > 0), None)
    if executing:
        pid = executing["id"]
        ui.go(f"/plans/{pid}?tab=tasks", "document.querySelector('.task')")
        ui.snap("plan-executing")
        ui.go(f"/plans/{pid}/execution", "document.querySelector('.wave, .empty') && document.querySelector('.live-live')",
              what="the execution page, live")
        retried = b.eval("""(() => { const rows = [...document.querySelectorAll('.atoms-table tbody tr[data-atom-id]')];
            const row = rows.find(r => Number(r.children[3].textContent) > 1); if (!row) return false;
            row.querySelector('button').click(); return true; })()""")
        if retried:
            b.wait_for("document.querySelector('.atom-detail .attempt')", what="the atom's attempts")
        ui.snap("execution")
        ui.go(f"/plans/{pid}/workspace", "document.querySelector('.file-tree, .workspace .error-box, .workspace .empty')", timeout=30)
        first_file = b.eval("document.querySelector('.file-tree a[href]')?.getAttribute('href')")
        if first_file:
            b.eval("([...document.querySelectorAll('.file-tree a[data-size]')].find(a => Number(a.dataset.size) > 0) || document.querySelector('.file-tree a')).setAttribute('data-pick', '')")
            b.click(".file-tree a[data-pick]")
            b.wait_for("document.querySelector('.file-view .code-wrap, .file-view p')", what="a file's content")
        ui.snap("workspace")
    else:
        ui.log("skip execution and workspace: no plan has waves yet")

    ui.go("/reviews", "document.querySelector('.reviews-table, .empty')")
    ui.snap("reviews")
    reviews = ui.api("/reviews?limit=50")["body"]["items"]
    if reviews:
        pending = next((r for r in reviews if r["status"] == "pending"), reviews[0])
        ui.go(f"/reviews/{pending['id']}", "document.querySelector('.review-layout')")
        ui.snap("review")
        if pending["status"] == "pending" and pending.get("atom_id"):
            b.click_text("Edit", ".review-actions button", exact=True)
            b.wait_for("document.querySelector('.review-editor textarea')", what="the review editor")
            b.click_text("Show my changes", "button")
            b.wait_for("document.querySelector('.review-editor .diff')")
            ui.snap("review-edit")
            b.click_text("Cancel", ".review-editor button", exact=True)
    else:
        ui.log("skip review page: no review yet")

    usage_page(ui)

    # The scripted-demo banner: shown when the server reports "demo_model": true. When this server
    # does not (a real model, or a build without the field), the answer is simulated in the page.
    ui.go("/plans", "document.querySelector('.plans-table, .empty')")
    real = ui.api("/me")["body"].get("demo_model") is True or (b.eval("fetch('/health/ready').then(r => r.json())") or {}).get("demo_model") is True
    if not real:
        b.eval("""(() => { const original = window.fetch; window.__originalFetch = original;
            window.fetch = async (url, options) => { const r = await original(url, options);
              if (String(url).endsWith('/health/ready')) { const body = await r.json();
                return new Response(JSON.stringify({...body, demo_model: true, model: 'demo-cassette'}), {status: r.status, headers: {'Content-Type': 'application/json'}}); }
              return r; }; })()""")
        b.eval("import('/js/main.js').then(m => m.refreshDemoBanner())")
    b.wait_for("!document.querySelector('.demo-banner').hidden", what="the demo banner")
    assert "demo" in b.text(".demo-banner").lower()
    ui.snap("demo-banner" + ("" if real else "-simulated"))
    if not real:
        b.eval("window.fetch = window.__originalFetch; import('/js/main.js').then(m => m.refreshDemoBanner())")

    # An expired or forged token: the next API call sends the user to the login page with a message.
    b.eval("""(() => { const s = JSON.parse(sessionStorage.getItem('masterplan.session'));
        s.token = 'eyJhbGciOiJIUzI1NiJ9.e30.forged'; sessionStorage.setItem('masterplan.session', JSON.stringify(s)); })()""")
    b.eval("location.hash = '#/plans?status=draft'")
    b.wait_for("location.hash.startsWith('#/login') && document.querySelector('.login-card .notice')",
               what="the login page after a 401")
    assert "session" in b.text(".login-card .notice").lower()
    ui.snap("login-after-401", both=False)
    ui.login(args.email, args.password)


def usage_page(ui: UI) -> None:
    """The usage page shows GET /usage's figures: calls, tokens, the cached share, "≈" where a figure
    includes estimated usage, a row per plan, purpose and model, and in demo mode that the model is free."""
    b = ui.b
    ui.go("/usage", "document.querySelector('.usage-totals, main .empty')")
    usage = ui.api("/usage")["body"]
    me = ui.api("/me")["body"]
    if usage["calls"]:
        shown = b.text(".usage-totals .card:first-child .stat-value")
        assert shown == f"{usage['calls']:,}", f"the page shows {shown!r} calls, the API {usage['calls']}"
        for group, rows in (("by-plan", usage["by_plan"]), ("by-purpose", usage["by_purpose"]), ("by-model", usage["by_model"])):
            assert b.count(f".usage-table[data-group={group}] tbody tr") == len(rows), f"{group}: one row per API row"
        totals = b.text(".usage-totals")
        if usage["usage_estimated"]:
            assert "≈" in totals and b.exists(".usage-legend .estimated"), "estimated figures are marked ≈ and explained"
        else:
            assert "≈" not in totals, "nothing estimated, yet ≈ is shown"
        if usage["input_tokens"] is not None:
            assert f"{usage['input_tokens']:,}" in totals, f"input tokens {usage['input_tokens']} not in {totals!r}"
        cached = b.text(".usage-totals .card:nth-child(3) .stat-value")
        if usage["cached_input_share"] is None:
            assert cached == "—", f"no share reported, yet the page shows {cached!r}"
        else:
            assert cached.endswith(" %") and abs(float(cached[:-2]) - 100 * usage["cached_input_share"]) <= 0.5, \
                f"the page shows {cached!r} read from cache, the API {usage['cached_input_share']}"
    ui.snap("usage")
    # Demo mode says the scripted model is free; simulated in the page when this server has a real model.
    real = me.get("demo_model") is True
    if not real:
        b.eval("""(() => { const original = window.fetch; window.__usageFetch = original;
            window.fetch = async (url, options) => { const r = await original(url, options);
              if (String(url).endsWith('/api/v1/me')) { const body = await r.json();
                return new Response(JSON.stringify({...body, demo_model: true, model: 'demo-cassette'}), {status: r.status, headers: {'Content-Type': 'application/json'}}); }
              return r; }; })()""")
        ui.go("/usage?period=30d", "document.querySelector('.demo-note')")
    assert "free" in b.text(".demo-note").lower(), "demo mode says the scripted model is free"
    ui.snap("usage-demo" + ("" if real else "-simulated"), both=False)
    if not real:
        b.eval("window.fetch = window.__usageFetch")


def keyboard_checks(ui: UI, plan_id: str, is_draft: bool) -> None:
    """The page works from the keyboard: skip link first, visible focus, dialogs open and close."""
    b = ui.b
    ui.go(f"/plans/{plan_id}?tab=tasks", "document.querySelector('.task')")
    # A fresh load, so sequential focus starts at the top of the document.
    b.session.call("Page.reload")
    b.wait_for("document.readyState === 'complete' && document.querySelector('.task')", what="the reloaded plan page")
    b.press("Tab")
    first = b.focused()
    assert "skip" in first["text"].lower(), f"the first Tab should reach the skip link, got {first}"
    seen = []
    for _ in range(12):
        b.press("Tab")
        f = b.focused()
        seen.append(f)
        assert f["tag"] != "body", "focus left the page while tabbing"
        assert f["outline"], f"no visible focus outline on {f}"
    # Reach an action button by keyboard and open its dialog with Enter, close it with Escape.
    action = b.eval("""(() => { const el = document.querySelector('.action-bar button'); if (!el) return null;
        el.focus(); return el.textContent; })()""")
    if action:
        b.press("Enter")
        b.wait_for("document.querySelector('dialog[open]')", what=f"the {action} dialog")
        focused = b.focused()
        assert focused["tag"] in ("input", "textarea", "button"), f"focus should be inside the dialog, got {focused}"
        ui.snap(f"dialog-{action.lower().replace(' ', '-')}")
        b.press("Escape")
        b.wait_for("!document.querySelector('dialog[open]')", what="the dialog to close on Escape")
        back = b.focused()
        assert back["tag"] == "button" and back["text"] == action, f"focus should return to the {action} button, got {back}"
    ui.log(f"ok  keyboard: {len(seen)} tab stops with visible focus" + (f", {action} dialog" if action else ""))


def flow_mutate(ui: UI, args) -> None:
    """Edits a draft's task through the UI and puts it back."""
    b = ui.b
    ui.ensure_login(args.email, args.password)
    plans = [p for p in ui.api("/masterplans?status=draft&limit=50")["body"]["items"] if p["total_tasks"] > 0]
    if not plans:
        ui.log("skip mutate: no draft plan")
        return
    pid = plans[0]["id"]
    ui.go(f"/plans/{pid}", "document.querySelector('.task-edit')")
    version = ui.api(f"/masterplans/{pid}")["body"]["version"]
    original = b.text(".task .task-head h4")
    b.click(".task-edit")
    b.wait_for("document.querySelector('.task-editor input')")
    b.fill(".task-editor input[type=text]", original + " (edited)")
    ui.snap("task-edit", both=False)
    b.click_text("Save task", "button")
    b.wait_text(original + " (edited)", ".task-head h4")
    b.click(".task-edit")
    b.wait_for("document.querySelector('.task-editor input')")
    b.fill(".task-editor input[type=text]", original)
    b.click_text("Save task", "button")
    b.wait_for(f"document.querySelector('.task-head h4')?.textContent === {json.dumps(original)}", what="the task name restored")
    after = ui.api(f"/masterplans/{pid}")["body"]["version"]
    assert after == version + 2, f"two edits should record two versions ({version} → {after})"
    # The history compares versions task by task: the rename, as a field of task N, old and new.
    number = b.eval("document.querySelector('.task .task-number')?.textContent")
    ui.go(f"/plans/{pid}?tab=history", "document.querySelector('.history button')")
    b.click(".history button")
    b.wait_for("document.querySelector('.compare .version-changes')", what="the version's changes, task by task")
    changes = b.text(".compare .version-changes")
    assert "Changed tasks" in changes and number in changes, changes
    # (Each value starts with a "was " / "now " that only screen readers hear.)
    assert b.eval(f"[...document.querySelectorAll('.compare .version-changes del')].some((e) => e.textContent.replace(/^was /, '') === {json.dumps(original + ' (edited)')})"), changes
    assert b.eval(f"[...document.querySelectorAll('.compare .version-changes ins')].some((e) => e.textContent.replace(/^now /, '') === {json.dumps(original)})"), changes
    assert not b.exists(".compare .raw-diff[open]"), "the JSON diff is one click away, not in the way"
    ui.snap("version-changes")
    ui.go(f"/plans/{pid}?tab=tasks", "document.querySelector('.task-edit')")
    # A change made elsewhere while a task is being edited: the warning says what saving will do, and
    # saving does exactly that (only the fields changed in the form replace the server's).
    task_number = int(number.lstrip("#"))
    before = next(t for ph in ui.api(f"/masterplans/{pid}")["body"]["phases"] for m in ph["milestones"] for t in m["tasks"] if t["number"] == task_number)
    b.click(".task-edit")
    b.wait_for("document.querySelector('.task-editor input')")
    b.fill(".task-editor input[type=text]", original + " (mine)")
    elsewhere = ui.api(f"/masterplans/{pid}/tasks/{task_number}", "PATCH", {"description": "Changed in another tab."})
    assert elsewhere["status"] == 200, elsewhere
    b.wait_for("[...document.querySelectorAll('.notice')].some((e) => e.textContent.includes('Saving sends only the fields you changed'))",
               timeout=20, what="the stale-edit warning")
    ui.snap("stale-edit-warning")
    b.click_text("Save task", "button")
    b.wait_text(original + " (mine)", ".task-head h4")
    saved = next(t for ph in ui.api(f"/masterplans/{pid}")["body"]["phases"] for m in ph["milestones"] for t in m["tasks"] if t["number"] == task_number)
    assert saved["name"] == original + " (mine)" and saved["description"] == "Changed in another tab.", saved
    # Put both back, so the plan is the generated one again (the regeneration below compares with it).
    assert ui.api(f"/masterplans/{pid}/tasks/{task_number}", "PATCH", {"name": original, "description": before["description"]})["status"] == 200
    ui.go(f"/plans/{pid}?tab=tasks", "document.querySelector('.task-edit')")
    b.wait_for(f"document.querySelector('.task-head h4')?.textContent === {json.dumps(original)}", what="the task name put back")
    # A validation error is shown in plain words, in the form.
    b.click(".task-edit")
    b.wait_for("document.querySelector('.task-editor')")
    b.fill(".task-editor input[inputmode=numeric]", "999")
    b.click_text("Save task", "button")
    b.wait_for("document.querySelector('.task-editor .error-box')", what="the validation error")
    ui.snap("task-edit-error", both=False)
    b.click_text("Cancel", ".task-editor button", exact=True)
    ui.assert_no_errors("task edit")
    # A rejection's reason can start a regeneration instead, and a regeneration that returns the same
    # plan says so (the scripted model always does).
    version = ui.api(f"/masterplans/{pid}")["body"]["version"]
    b.click("[data-action=reject]")
    b.fill("dialog textarea", "Make the tasks smaller.")
    b.click("dialog input[type=checkbox]")
    ui.snap("reject-to-regenerate")
    b.click_text("Reject", "dialog button[type=submit]")
    b.wait_for("[...document.querySelectorAll('.notice')].some((e) => e.textContent.includes('the model returned the same plan'))",
               timeout=120, what="the notice that the regeneration changed nothing")
    ui.snap("regenerated-same-plan")
    after_regeneration = ui.api(f"/masterplans/{pid}/versions?limit=1")["body"]["items"][0]
    assert after_regeneration["number"] == version + 1 and "the model returned the same plan" in after_regeneration["change_note"], after_regeneration
    assert "feedback: Make the tasks smaller." in after_regeneration["change_note"], after_regeneration
    assert ui.api(f"/masterplans/{pid}/status")["body"]["status"] == "draft", "the rejection's reason regenerated the plan, not rejected it"
    ui.log(f"ok  task edited and restored (version {version} → {after})")


def flow_demo(ui: UI, args) -> None:
    """The demo run, end to end, in the browser."""
    b = ui.b
    deadline = time.monotonic() + args.demo_timeout
    left = lambda: max(5.0, deadline - time.monotonic())  # noqa: E731
    ui.login(args.email, args.password)
    ui.go("/chat", "document.querySelector('.composer textarea')")
    b.fill(".composer textarea", DEMO_REQUEST)
    b.click_text("Send", ".composer button", exact=True)
    b.wait_for("location.hash.startsWith('#/chat/') && document.querySelector('.plan-card')", what="the plan card")
    b.wait_for("document.querySelector('.plan-card .event-log .event')", timeout=left(), what="the first live generation event")
    ui.snap("demo-generating")
    # Ask, don't assume: the discovery's questions come to the person, with the answers it assumed.
    b.wait_for("document.querySelectorAll('.plan-card .questions .question').length >= 1", timeout=left(), what="the discovery's questions")
    questions = b.eval("[...document.querySelectorAll('.plan-card .questions .question-text')].map((e) => e.textContent)")
    assumed = b.eval("[...document.querySelectorAll('.plan-card .questions .assumed')].map((e) => e.textContent)")
    assert all(a.startswith("Assumed: ") and len(a) > 10 for a in assumed), assumed
    assert "waiting for your answers" in b.text(".plan-card .plan-card-head .badge")
    # The demo's last question asks how users log in: answer that one, keep the assumption for the rest.
    b.fill(".plan-card .questions .question:last-child textarea", "An email address and a password.")
    ui.snap("demo-questions")
    b.click_text("Plan with my answers", ".plan-card .questions button")
    b.wait_for("!document.querySelector('.plan-card .questions')", timeout=30, what="the questions to be answered")
    # The plan streams into the page as the model writes it, with a label for each step.
    b.wait_for("/Writing the (plan|acceptance tests)/.test(document.querySelector('.plan-card .live-answer h3')?.textContent || '')"
               " && document.querySelector('.plan-card .live-text').textContent.length > 40", timeout=left(), what="the plan as it is written")
    ui.snap("demo-plan-live")
    b.wait_for("[...document.querySelectorAll('.plan-card .event')].some((e) => e.textContent.includes('Writing the acceptance tests'))",
               timeout=left(), what="the acceptance-test step's own label")
    b.wait_for("document.querySelector('.plan-ready a')", timeout=left(), what="the plan to be ready")
    ui.snap("demo-plan-ready")
    b.click(".plan-ready a")
    b.wait_for("document.querySelector('.task') && document.querySelector('[data-action=approve]')", timeout=60, what="the draft with its Approve button")
    ui.snap("demo-draft")
    # The discovery tab shows the answers the plan was built on: the person's, and the assumption kept.
    plan_id = b.eval("location.hash.split('/')[2].split('?')[0]")
    ui.go(f"/plans/{plan_id}?tab=discovery", "document.querySelector('.discovery .answers')")
    shown = b.text(".discovery .answers")
    assert "An email address and a password." in shown and "your answer" in shown, shown
    assert all(q in shown for q in questions), (questions, shown)
    if len(questions) > 1:
        assert "assumed" in shown, shown
    ui.snap("demo-answers")
    ui.go(f"/plans/{plan_id}", "document.querySelector('[data-action=approve]')")
    b.click("[data-action=approve]")
    b.click_text("Approve", "dialog button[type=submit]")
    b.wait_for("document.querySelector('[data-action=execute]')", timeout=60, what="the Execute button after approval")
    # After the dialog, focus is on the result: the plan's heading, above its new status.
    b.wait_for("document.activeElement === document.querySelector('main h1')", timeout=10, what="focus on the plan after Approve")
    b.click("[data-action=execute]")
    b.click_text("Execute", "dialog button[type=submit]")
    # After Execute the page goes to the execution view by itself.
    b.wait_for("location.hash.endsWith('/execution') && document.querySelector('.live-live')", timeout=60,
               what="the execution page, live, after Execute")
    # Every value the Atoms card shows from now on, to check that it never goes backwards (the demo's
    # first wave has a repair round, which produces accepted atoms again).
    b.eval(r"""window.__accepted = []; window.__acceptedTimer = setInterval(() => {
        const card = [...document.querySelectorAll('.summary-grid .stat')].find((e) => e.querySelector('h2')?.textContent === 'Atoms');
        const m = /^(\d+) of \d+ accepted/.exec(card?.querySelector('.progress-text')?.textContent || '');
        if (m) window.__accepted.push(Number(m[1])); }, 100)""")
    b.wait_for("document.querySelectorAll('.execution-side .event').length > 0", timeout=left(), what="live execution events")
    ui.snap("demo-executing")
    plan_id = b.eval("location.hash.split('/')[2]")
    resolved = 0
    while time.monotonic() < deadline:
        shown = b.eval("document.querySelector('.page-meta .badge')?.textContent || ''")
        if shown in ("completed", "failed", "cancelled"):
            break
        # Held only by a review: "waiting for your review", not "blocked", with a button that opens it.
        if shown == "waiting for your review":
            assert b.exists("[data-open-review]"), "no button opens the waiting review"
            assert "Waiting for your review" in b.text(".attention"), b.text(".attention")
            if not resolved:
                ui.snap("demo-waiting-for-review")
            b.click("[data-open-review]")
            b.wait_for("location.hash.startsWith('#/reviews/') && document.querySelector('.review-actions')", what="the review the button opens")
            # Reviews with context: the whole file, highlighted, first; the diff one click away; the
            # tests that cover the file with their latest run.
            b.wait_for("document.querySelector('.review-code .code .tok-keyword')", what="the whole file, highlighted")
            pressed = b.eval("document.querySelector('.segmented [aria-pressed=true]')?.textContent || ''")
            assert pressed.startswith("Whole file"), pressed
            b.wait_for("document.querySelectorAll('.covering-tests .covering-test').length > 0", what="the tests that cover the file")
            assert b.exists(".covering-tests .covering-test .badge"), b.text(".covering-tests")
            ui.snap(f"demo-review-{resolved + 1}")
            if b.exists(".segmented [data-view=diff]"):
                b.click(".segmented [data-view=diff]")
                b.wait_for("document.querySelector('.review-code .diff')", what="the diff, one click away")
                b.click(".segmented [data-view=code]")
            # A rejection's reason can ask for a new attempt instead (here only looked at, then cancelled).
            b.click("[data-action=reject]")
            b.wait_for("document.querySelector('dialog[open] input[type=checkbox]')", what="the reject dialog's regenerate option")
            assert "regenerate" in b.text("dialog[open]").lower(), b.text("dialog[open]")
            b.press("Escape")
            b.wait_for("!document.querySelector('dialog[open]')", what="the reject dialog to close")
            b.click("[data-action=approve]")
            b.click_text("Approve", "dialog button[type=submit]")
            # Then the plan's execution page, saying what the decision did to the plan.
            b.wait_for("location.hash.includes('/execution') && document.querySelector('.after-review')", what="the plan after the review")
            resolved += 1
            b.wait_for("/resumed|completed|still wait/.test(document.querySelector('.after-review')?.textContent || '')",
                       timeout=left(), what="what the review did to the plan")
            ui.snap(f"demo-after-review-{resolved}")
        b.session.pump(1)
    assert resolved >= 1, "the demo's review never came to the person"
    ui.go(f"/plans/{plan_id}/execution", "document.querySelector('.wave')")
    b.wait_for("document.querySelector('.page-meta .badge')?.textContent === 'completed'", timeout=left(), what="status completed")
    ui.snap("demo-completed")
    seen = b.eval("clearInterval(window.__acceptedTimer), window.__accepted")
    assert seen and all(a <= b2 for a, b2 in zip(seen, seen[1:])), f"the accepted atoms went backwards: {seen}"
    assert "Took " in b.text(".summary-grid"), "the execution page does not say how long the plan took"
    ui.log(f"ok  accepted atoms never went backwards ({len(seen)} readings, {seen[0]} → {seen[-1]})")
    # A finished plan opens on its summary: built, verified, time, tokens and cost, next steps.
    ui.go(f"/plans/{plan_id}", "document.querySelector('.completion-summary')")
    summary = ui.api(f"/masterplans/{plan_id}/summary")["body"]
    text = b.text(".completion-summary")
    assert f"{summary['built']['files']:,}" in text and f"{summary['built']['lines']:,}" in text, (summary["built"], text)
    subjects = [c["subject"] for c in summary["built"]["history"]]
    assert summary["built"]["commits"] == len(subjects), summary["built"]
    for wave in range(1, summary["verified"]["waves"] + 1):
        assert any(x.startswith(f"wave {wave}:") for x in subjects), f"no commit for wave {wave}: {subjects}"
    assert sum(1 for x in subjects if "repair round" in x) == summary["verified"]["repair_rounds"], subjects
    assert "All " in text and "acceptance tests passed" in text, text
    assert summary["next_steps"]["archive_name"] == "fastapi-jwt-auth.tar.gz", summary["next_steps"]
    for step in summary["next_steps"]["steps"]:
        if step["command"]:
            assert step["command"] in text, (step, text)
    me = ui.api("/me")["body"]
    if me.get("demo_model") is True:
        assert "Free" in text or "free" in text, "demo mode says the scripted model is free"
    ui.snap("demo-summary")
    before = set(os.listdir(args.downloads))
    b.click("[data-download]")
    dl_deadline = time.monotonic() + 30
    while time.monotonic() < dl_deadline:
        named = [f for f in set(os.listdir(args.downloads)) - before if f == "fastapi-jwt-auth.tar.gz"]
        if named:
            break
        b.session.pump(0.3)
    else:
        raise AssertionError(f"the summary's download did not arrive as fastapi-jwt-auth.tar.gz: {sorted(os.listdir(args.downloads))}")
    import tarfile
    with tarfile.open(os.path.join(args.downloads, "fastapi-jwt-auth.tar.gz")) as archive:
        names = archive.getnames()
    assert "fastapi-jwt-auth/.git/HEAD" in names and "fastapi-jwt-auth/app/main.py" in names, names[:20]
    ui.log(f"ok  summary: {summary['built']['files']} files, {summary['built']['lines']} lines, {summary['built']['commits']} commits; archive with history")
    # Completed means verified here, and the page says so; the evidence tab shows what proves each task.
    b.wait_for("Array.from(document.querySelectorAll('.page-meta .badge')).some((e) => e.textContent === 'verified')",
               timeout=60, what="the verified badge")
    ui.go(f"/plans/{plan_id}?tab=evidence", "document.querySelector('.evidence-task')")
    b.wait_for("document.querySelector('.page-meta .stack-badge')?.textContent === 'Python'", what="the plan's stack badge")
    b.wait_for("document.querySelector('.evidence .verification')", what="the verification note on the evidence tab")
    b.eval("document.querySelector('details.evidence-test')?.setAttribute('open', '')")
    ui.snap("demo-evidence")
    ui.go(f"/plans/{plan_id}/workspace", "document.querySelector('.file-tree a')", timeout=60)
    b.click(".file-tree a[href]")
    b.wait_for("document.querySelector('.file-view .code-wrap')")
    ui.snap("demo-workspace")
    # The summary's download already brought this name: the workspace page's must arrive again.
    os.remove(os.path.join(args.downloads, "fastapi-jwt-auth.tar.gz"))
    before = set(os.listdir(args.downloads))
    b.click_text("Download .tar.gz", "button")
    dl_deadline = time.monotonic() + 30
    while time.monotonic() < dl_deadline:
        new = [f for f in set(os.listdir(args.downloads)) - before if f.endswith(".tar.gz")]
        if new:
            break
        b.session.pump(0.3)
    else:
        raise AssertionError("the workspace archive was not downloaded")
    assert new == ["fastapi-jwt-auth.tar.gz"], f"the archive is named after the project: {new}"
    # A link opened in a new tab keeps the session (borrowed from this tab, in memory), and no token
    # is left where it would outlive the tabs.
    opened = b.in_new_tab(f"{ui.base}/#/plans/{plan_id}?tab=tasks",
                          "!location.hash.startsWith('#/login') && document.querySelector('main h1')?.textContent")
    assert opened == "fastapi-jwt-auth", f"the new tab shows {opened!r}"
    stored = b.eval("Object.keys(localStorage).map((k) => localStorage.getItem(k)).join(' ')")
    assert "eyJ" not in stored and "token" not in stored, f"a token in localStorage: {stored[:200]}"
    ui.log("ok  a new tab kept the session; nothing in localStorage")
    # The conversation that started the plan is named after it.
    ui.go("/chat", "document.querySelector('.conversation-list, .conversations')")
    b.wait_for("document.body.innerText.includes('fastapi-jwt-auth')", what="the conversation named after its plan")
    ui.assert_no_errors("demo")
    ui.log(f"ok  demo completed with {resolved} review(s) resolved; archive {new[0]}")
    questions_on_the_plan_page(ui, left)
    paused_then_cancelled(ui, left)


def paused_then_cancelled(ui: UI, left) -> None:
    """A paused plan is not shown as running, and a cancelled one shows no wave as running (page and API)."""
    b = ui.b
    created = ui.api("/masterplans", "POST", {"request": DEMO_REQUEST, "ask_questions": False})
    assert created["status"] == 202, created
    pid = created["body"]["plan_id"]
    deadline = time.monotonic() + left()
    while ui.api(f"/masterplans/{pid}/status")["body"]["status"] != "draft":
        assert time.monotonic() < deadline, "the plan to pause was not generated"
        b.session.pump(0.5)
    assert ui.api(f"/masterplans/{pid}/approve", "POST", {})["status"] == 200
    ui.go(f"/plans/{pid}", "document.querySelector('[data-action=execute]')")
    b.click("[data-action=execute]")
    b.click_text("Execute", "dialog button[type=submit]")
    b.wait_for("location.hash.endsWith('/execution') && document.querySelector('[data-action=pause]')", timeout=60, what="Pause on the execution page")
    b.click("[data-action=pause]")
    b.click_text("Pause", "dialog button[type=submit]")
    b.wait_for("document.querySelector('.page-meta .badge')?.textContent === 'paused'", timeout=60, what="the paused plan")
    b.wait_for("/^Paus/.test(document.querySelector('.jobs-line')?.textContent || '')", timeout=30, what="what a paused plan's job does")
    assert "job running" not in b.text(".summary-grid"), b.text(".summary-grid")
    ui.snap("execution-paused")
    b.click("[data-action=cancel]")
    b.click_text("Cancel plan", "dialog button[type=submit]")
    b.wait_for("document.querySelector('.page-meta .badge')?.textContent === 'cancelled'", timeout=60, what="the cancelled plan")
    b.wait_for("![...document.querySelectorAll('.wave-head .badge, .atoms-table .badge')].some((e) => /^(running|pending|gating)$/.test(e.textContent))",
               timeout=30, what="no wave or atom shown as running")
    waves = ui.api(f"/masterplans/{pid}/waves")["body"]["items"]
    assert not [w for w in waves if w["status"] in ("running", "pending", "gating")], waves
    ui.snap("execution-cancelled")
    ui.log(f"ok  paused, then cancelled: waves {[w['status'] for w in waves]}")


def questions_on_the_plan_page(ui: UI, left) -> None:
    """A plan requested through the API waits for the discovery's answers on its own page: the
    questions are there with the assumed answers, and "Use the assumed answers" moves it on to a draft."""
    b = ui.b
    created = ui.api("/masterplans", "POST", {"request": DEMO_REQUEST})
    assert created["status"] == 202, created
    pid = created["body"]["plan_id"]
    ui.go(f"/plans/{pid}", "document.querySelector('.page-meta .badge')")
    b.wait_for("document.querySelector('main .questions .question')", timeout=left(), what="the questions on the plan page")
    assert b.text(".page-meta .badge") == "waiting for your answers", b.text(".page-meta .badge")
    assert b.text("main h1") == "Plan waiting for your answers", b.text("main h1")
    # Only the actions that make sense now: no Approve or Execute, a way to drop the request.
    assert not b.exists("[data-action=approve]") and b.exists("[data-action=reject]")
    ui.snap("plan-questions")
    b.click_text("Use the assumed answers", "main .questions button")
    b.wait_for("document.querySelector('.page-meta .badge')?.textContent === 'draft'", timeout=left(), what="the draft from the assumed answers")
    assert not b.exists("main .questions"), "the questions stay after they were answered"
    ui.go(f"/plans/{pid}?tab=discovery", "document.querySelector('.discovery .answers')")
    shown = b.text(".discovery .answers")
    assert "assumed" in shown and "your answer" not in shown, shown
    ui.assert_no_errors("questions on the plan page")
    ui.log("ok  questions answered on the plan page with the assumptions")


FLOWS = {"tour": flow_tour, "mutate": flow_mutate, "demo": flow_demo}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("MASTERPLAN_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--email", default=os.environ.get("MASTERPLAN_EMAIL"))
    parser.add_argument("--password", default=os.environ.get("MASTERPLAN_PASSWORD"))
    parser.add_argument("--screenshots", default=os.environ.get("MASTERPLAN_SCREENSHOTS", "/tmp/masterplan-screenshots"))
    parser.add_argument("--flow", default=os.environ.get("MASTERPLAN_BROWSER_FLOW", "tour"), help="comma-separated: tour, mutate, demo")
    parser.add_argument("--demo-timeout", type=float, default=float(os.environ.get("MASTERPLAN_DEMO_TIMEOUT", "900")))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM"))
    parser.add_argument("--headed", action="store_true", help="show the browser window (needs a display)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.email or not args.password:
        parser.error("--email and --password (or MASTERPLAN_EMAIL / MASTERPLAN_PASSWORD) are required")
    flows = [f.strip() for f in args.flow.split(",") if f.strip()]
    unknown = [f for f in flows if f not in FLOWS]
    if unknown:
        parser.error(f"unknown flow(s) {unknown}; choose from {sorted(FLOWS)}")
    args.downloads = os.path.join(args.screenshots, "downloads")
    failures = 0
    with Browser(chromium=args.chromium, headless=not args.headed, download_dir=args.downloads, verbose=args.verbose) as browser:
        ui = UI(browser, args.base_url, args.screenshots, args.verbose)
        for name in flows:
            print(f"{name}:", flush=True)
            try:
                FLOWS[name](ui, args)
            except Exception as error:  # report and go on with the next flow
                failures += 1
                failed = ui.b.screenshot(os.path.join(args.screenshots, f"FAILED-{name}.png"), full_page=False)
                print(f"FAIL {name}: {error}\n  screenshot: {failed}", flush=True)
                if args.verbose:
                    traceback.print_exc()
                    print("\n".join(browser.console[-20:]))
    print(f"{len(flows) - failures} of {len(flows)} flows passed; {len(ui.taken)} screenshots in {args.screenshots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
