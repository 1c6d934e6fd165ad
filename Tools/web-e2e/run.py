#!/usr/bin/env python3
"""End-to-end test of `opps web` in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium). What a rep and a manager do in a browser, from the README's
demo: open the board, move a card, see a gate refusal, edit a field, log an activity, withdraw
a request, approve a request as a manager, go offline (the hub stopped), keep working, sync when it is back — and the
hub has every change. Saves screenshots of the board, a deal page and the funnel in English and
Chinese into the folder given (docs/screenshots keeps the committed ones).

Usage: Tools/web-e2e/run.py BIN_DIR SCREENSHOT_DIR      (BIN_DIR holds opps and opps-hub)
Prints '1 passed, 0 failed' and exits 0, or the failing step and exits 1.
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BIN, SHOTS = sys.argv[1], sys.argv[2]
OPPS, HUB = os.path.join(BIN, "opps"), os.path.join(BIN, "opps-hub")
work = tempfile.mkdtemp(prefix="opps-web-e2e-")
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(*args, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def start(args, ready, log):
    """Starts a process and waits for a line matching `ready` in its output."""
    out = open(os.path.join(work, log), "w+")
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True)
    procs.append(p)
    deadline = time.time() + 300
    while time.time() < deadline:
        out.seek(0)
        text = out.read()
        m = re.search(ready, text)
        if m:
            return p, text, m
        if p.poll() is not None:
            raise AssertionError(f"{args[0]} exited: {text[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"{args[0]} did not start: {log}")


def browser(lang):
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000", f"--lang={lang}", "--hide-scrollbars"]:
        o.add_argument(a)
    o.add_experimental_option("prefs", {"intl.accept_languages": lang})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=o)


def message(d):
    """The message an action left on the page: (ok, text, items)."""
    m = d.find_element(By.CSS_SELECTOR, ".msg")
    return "ok" in m.get_attribute("class").split(), m.text, [li.text for li in m.find_elements(By.TAG_NAME, "li")]


def gone(old):
    """True once `old` is no longer in the page. Chromium may answer a check that races the
    page's replacement with "Node … does not belong to the document" rather than the stale-element
    error Selenium's staleness_of expects: that too means it is gone."""
    def check(_):
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
    return check


def submit(d, button):
    """Clicks a form's button and waits for the page it leads to."""
    old = d.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(d, 120).until(gone(old))


def edit_field(d, page, name, text):
    """Types a new value into a field's form on a deal page and saves it; returns the message."""
    d.get(page)
    form = d.find_element(By.XPATH, f"//form[input[@name='field' and @value='{name}']]")
    # A field in a folded group: unfold it as a reader would.
    for fold in form.find_elements(By.XPATH, "ancestor::details"):
        if fold.get_attribute("open") is None:
            fold.find_element(By.TAG_NAME, "summary").click()
    box = form.find_element(By.NAME, "value")
    box.clear()
    box.send_keys(text)
    submit(d, form.find_element(By.TAG_NAME, "button"))
    return message(d)


def shot(d, name):
    os.makedirs(SHOTS, exist_ok=True)
    d.save_screenshot(os.path.join(SHOTS, name))


def main():
    hub_port = free_port()
    hub_dir = os.path.join(work, "hub")
    hub, text, _ = start([HUB, "demo", "--data", hub_dir, "--port", str(hub_port), "--deals", "120"], r"Press Ctrl-C", "hub.log")
    tokens = dict(re.findall(r"^  (\w+)\s+\w+\s+(opps_[0-9a-f]{64})$", text, re.M))
    url = f"http://127.0.0.1:{hub_port}"
    for user in ["sam", "max"]:
        run(OPPS, "init", "--hub", url, "--token", tokens[user], "--home", os.path.join(work, user))

    # sam's web app, in English, then in Chinese.
    _, text, m = start([OPPS, "web", "--home", os.path.join(work, "sam"), "--sync-minutes", "0"], r"(http://127\.0\.0\.1:\d+/\?k=[0-9a-f]{64})", "web-sam.log")
    sam_url = m.group(1)
    base = sam_url.split("/?")[0]
    d = browser("en-US")
    try:
        d.get(sam_url)
        assert d.find_elements(By.CSS_SELECTOR, ".column"), "the board has columns"
        shot(d, "board-en.png")
        # A card in discovery moved straight to negotiation: refused with what is missing.
        card = d.find_element(By.CSS_SELECTOR, ".column[data-stage=discovery] .card")
        short = card.get_attribute("data-id")
        Select(card.find_element(By.CSS_SELECTOR, "select[name=stage]")).select_by_value("negotiation")
        submit(d, card.find_element(By.CSS_SELECTOR, "form.move button"))
        ok, said, items = message(d)
        assert not ok and items, f"a gate refusal names what is missing: {said} {items}"
        # The deal page: edit the next step, log an activity.
        ok, said, _ = edit_field(d, f"{base}/deal/{short}", "next_step", "Send the pilot plan (browser)")
        assert ok, f"the edit is queued: {said}"
        log = d.find_element(By.CSS_SELECTOR, "form.log")
        Select(log.find_element(By.NAME, "kind")).select_by_value("call")
        log.find_element(By.NAME, "note").send_keys("Budget confirmed in the browser")
        submit(d, log.find_element(By.TAG_NAME, "button"))
        assert message(d)[0] and "Budget confirmed in the browser" in d.page_source
        shot(d, "deal-en.png")
        # A card dragged onto the next column (the page's own drag-and-drop script submits the
        # card's move form), where the gate allows or says what is missing.
        d.get(base + "/")
        cards = d.find_elements(By.CSS_SELECTOR, ".column[data-stage=qualified] .card") or d.find_elements(By.CSS_SELECTOR, ".column[data-stage=solution] .card")
        assert cards, "sam has a card in qualified or solution to drag"
        if cards:
            target = "discovery" if cards[0].find_element(By.XPATH, "..").get_attribute("data-stage") == "qualified" else "proposal"
            column = d.find_element(By.CSS_SELECTOR, f".column[data-stage={target}]")
            old = d.find_element(By.TAG_NAME, "html")
            d.execute_script(
                """const [src, dst] = arguments; const dt = new DataTransfer();
                src.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
                dst.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
                dst.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));""",
                cards[0], column)
            WebDriverWait(d, 120).until(gone(old))
            ok, said, items = message(d)
            assert ok or items, f"a dragged card either moves or names what is missing: {said}"
            print(f"dragged a card to {target}: {said} {items}")
        # A new deal from the board's folded form: its page follows, the deal queued to sync.
        d.get(base + "/")
        d.find_element(By.CSS_SELECTOR, "details.new summary").click()
        form = d.find_element(By.CSS_SELECTOR, "details.new form")
        form.find_element(By.NAME, "name").send_keys("Browser-made pilot")
        form.find_element(By.NAME, "account").send_keys("Browser Account Co")
        form.find_element(By.NAME, "amount").send_keys("42000")
        Select(form.find_element(By.NAME, "currency")).select_by_value("USD")
        submit(d, form.find_element(By.TAG_NAME, "button"))
        ok, said, _ = message(d)
        assert ok and d.find_element(By.TAG_NAME, "h1").text.startswith("Browser-made pilot"), f"the new deal's page: {said}"
        shot(d, "new-deal-en.png")
        # A discount above the threshold on it is a request; sam takes it back on the approvals
        # page before it ever reaches the hub (the hub then never makes it wait, nor locks the deal).
        pilot = d.current_url.split("/deal/")[1].split("?")[0]
        ok, said, _ = edit_field(d, f"{base}/deal/{pilot}", "discount", "18")
        assert ok and "approval" in said, f"a discount above 10% is asked for: {said}"
        d.get(base + "/approvals")
        withdraw = d.find_elements(By.CSS_SELECTOR, "button[name=withdraw]")
        assert withdraw, "the request sam made has a Withdraw button"
        submit(d, withdraw[0])
        ok, said, _ = message(d)
        assert ok and said.startswith("Withdrawn: discount"), f"withdrawn: {said}"
        assert "withdrawn (not yet at the hub)" in d.page_source and not d.find_elements(By.CSS_SELECTOR, "button[name=withdraw]")
        # A step typed on the wrong deal: the bar's Undo takes it back before any sync sends it.
        ok, said, _ = edit_field(d, f"{base}/deal/{pilot}", "next_step", "Typed on the wrong deal")
        assert ok, f"the step is written: {said}"
        submit(d, d.find_element(By.CSS_SELECTOR, "#syncbar form[action='/undo'] button"))
        ok, said, items = message(d)
        assert ok and said.startswith("Took back your last edit") and any("Typed on the wrong deal" in i for i in items), f"undone: {said} {items}"
        assert "Typed on the wrong deal" not in d.find_element(By.TAG_NAME, "main").get_attribute("innerHTML"), "the field shows what it held"
        d.get(base + "/reports")
        assert d.find_elements(By.CSS_SELECTOR, "svg.chart rect"), "the funnel is drawn"
        shot(d, "funnel-en.png")
        # The hub goes away: work goes on, the sync says so and keeps it.
        hub.terminate()
        hub.wait(timeout=30)
        assert edit_field(d, f"{base}/deal/{short}", "next_step", "Written offline")[0]
        submit(d, d.find_element(By.CSS_SELECTOR, "#syncbar form button"))
        ok, said, _ = message(d)
        assert not ok and "reach" in said, f"offline sync says the hub cannot be reached: {said}"
        assert int(d.find_element(By.ID, "pending").text) > 0, "the work is pending"
        hub, _, _ = start([HUB, "serve", "--data", hub_dir, "--port", str(hub_port)], r"listening on", "hub2.log")
        submit(d, d.find_element(By.CSS_SELECTOR, "#syncbar form button"))
        ok, said, _ = message(d)
        assert ok, f"the sync goes through when the hub is back: {said}"
        assert d.find_element(By.ID, "pending").text == "0"
        # In Chinese.
        d.get(base + "/?lang=zh-CN")
        assert "商机看板" in d.page_source
        shot(d, "board-zh.png")
        d.get(f"{base}/deal/{short}")
        shot(d, "deal-zh.png")
        d.get(base + "/reports")
        shot(d, "funnel-zh.png")
        # On a phone's width no page scrolls sideways, and the board's stages stand one under
        # another, each as wide as the page (its second column was cut off at the edge).
        d.set_window_size(420, 900)
        for page in ["/", "/today", f"/deal/{short}", "/reports", "/approvals", "/conflicts"]:
            d.get(base + page)
            wide = d.execute_script("return document.documentElement.scrollWidth")
            inner = d.execute_script("return document.documentElement.clientWidth")
            assert wide <= inner, f"{page} at 420 px is {wide} px wide (the window shows {inner})"
        d.get(base + "/")
        columns = d.find_elements(By.CSS_SELECTOR, ".column")
        lefts = {c.rect["x"] for c in columns}
        assert len(columns) > 1 and len(lefts) == 1, f"the stages stack at 420 px: {sorted(lefts)}"
        assert all(c.rect["width"] > 300 for c in columns), "each stage is as wide as the page"
        # A line of the stages at the top jumps to each (the board is many screens long there).
        jumps = d.find_elements(By.CSS_SELECTOR, "nav.stages a")
        assert jumps and jumps[0].is_displayed(), "the stages' line shows on a phone"
        for a in jumps:
            target = a.get_attribute("href").split("#")[1]
            assert d.find_elements(By.ID, target), f"{target} is on the board"
        d.set_window_size(1400, 1000)
        d.get(base + "/")
        assert not d.find_element(By.CSS_SELECTOR, "nav.stages").is_displayed(), "the columns stand side by side on a wide screen, without it"
    finally:
        d.quit()

    # The manager approves in the browser.
    run(OPPS, "sync", "--home", os.path.join(work, "max"))
    _, _, m = start([OPPS, "web", "--home", os.path.join(work, "max"), "--sync-minutes", "0"], r"(http://127\.0\.0\.1:\d+/\?k=[0-9a-f]{64})", "web-max.log")
    d = browser("en-US")
    try:
        d.get(m.group(1))
        # On his phone: each request a card, its buttons on the screen (they were off its right
        # edge, in a table that scrolled sideways).
        d.set_window_size(420, 900)
        d.get(m.group(1).split("/?")[0] + "/approvals")
        buttons = d.find_elements(By.CSS_SELECTOR, "button[value=approved]")
        assert buttons, "the demo leaves a request waiting for max"
        inner = d.execute_script("return document.documentElement.clientWidth")
        for b in d.find_elements(By.CSS_SELECTOR, "table.requests button"):
            assert b.rect["x"] >= 0 and b.rect["x"] + b.rect["width"] <= inner, f"{b.text} at {b.rect} is off a {inner} px screen"
        submit(d, buttons[0])
        assert message(d)[0], "approved"
        submit(d, d.find_element(By.CSS_SELECTOR, "#syncbar form button"))
        assert message(d)[0], "the decision reaches the hub"
    finally:
        d.quit()

    # The hub has every change: a new replica of sam's, made from the hub alone.
    run(OPPS, "init", "--hub", url, "--token", tokens["sam"], "--home", os.path.join(work, "sam-check"))
    shown = json.loads(run(OPPS, "show", short, "--home", os.path.join(work, "sam-check"), "--json").stdout)
    assert shown["fields"]["next_step"] == "Written offline", shown["fields"]["next_step"]
    history = run(OPPS, "show", short, "--home", os.path.join(work, "sam-check")).stdout
    assert "Budget confirmed in the browser" in history, "the activity is at the hub"
    asked = json.loads(run(OPPS, "approvals", "--all", "--home", os.path.join(work, "sam-check"), "--json").stdout)
    assert any(a["state"] == "withdrawn" and a["field"] == "discount" for a in asked), f"the withdrawn request is at the hub: {asked}"


if __name__ == "__main__":
    try:
        main()
        print("web e2e: 1 passed, 0 failed")
        code = 0
    except Exception:
        traceback.print_exc()
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                print(f"--- {name}\n" + open(os.path.join(work, name)).read()[-3000:])
        print("web e2e: 0 passed, 1 failed")
        code = 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except Exception:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)
