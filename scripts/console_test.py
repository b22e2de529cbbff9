#!/usr/bin/env python3
"""Real-browser end-to-end test of Cortex's web console, run by scripts/console_browser.sh.

Drives Debian's headless Chromium through Selenium against a running `cortex serve`:
  console_test.py --base http://127.0.0.1:PORT --api-key KEY --artifacts DIR

Each check is a named step, run in order. On the first failure the step's screenshot
(DIR/STEP.png), page source (DIR/STEP.html) and the browser's console log (DIR/STEP.log) are
saved, the step and its error are printed, and the exit status is 1. Every wait is bounded
(WAIT seconds); nothing sleeps a fixed time hoping that something happened meanwhile.

Standard library and selenium only.
"""

import argparse
import base64
import html.parser
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 10  # seconds, for every wait: the browser, the feed and each HTTP request
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SESSION_COOKIE = "cortex_session"
EVENT = {"type": "checkout.completed", "data": {"email": "ada@example.com", "product": "P2P"}}
NO_SUCH_TYPE = "no.such.type"

# The activity feed's rows, read in one script so that a row replaced by the feed's own
# refresh (at least every 2 s) cannot go stale between finding it and reading its cells.
# Rows are looked for anywhere in the table, not only under <tbody>: rows that a script appends
# to a <table> directly are not put in a <tbody> by the browser.
FEED_ROWS_JS = """
return Array.from(document.querySelectorAll('table#activity-feed tr.activity')).map(function (row) {
  function cell(name) {
    var td = row.querySelector('td.' + name);
    return td ? td.textContent.trim() : null;
  }
  return {id: row.getAttribute('data-id'), type: cell('type'), email: cell('email'),
          occurred: cell('occurred'), shown: row.getClientRects().length > 0};
});
"""


class StepFailed(Exception):
    """A check that did not hold; its message says what was expected and what was seen."""


def check(condition, message):
    if not condition:
        raise StepFailed(message)


# --- HTTP, outside the browser ------------------------------------------------------------

# No proxy from the environment: the server is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as error:
            raise StepFailed(f"answer {self.status} is not JSON ({error}): {self.body[:300]!r}")

    def error_code(self):
        """The `code` of a `{"error": {"code": ...}}` body, or None."""
        body = self.json()
        error = body.get("error") if isinstance(body, dict) else None
        return error.get("code") if isinstance(error, dict) else None

    def __repr__(self):
        return f"{self.status} {self.body[:300]!r}"


def http(base, method, path, headers=None, body=None):
    """One request; an HTTP error status is returned like any other, not raised."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=WAIT) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as answer:
        return Response(answer.code, answer.headers, answer.read())


class ScriptFinder(html.parser.HTMLParser):
    """Collects each <script>'s src and inline text, to check that all script is same-origin."""

    def __init__(self):
        super().__init__()
        self.scripts = []  # [type, src, inline text]
        self._open = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            attrs = dict(attrs)
            self._open = [(attrs.get("type") or "").strip().lower(), attrs.get("src"), ""]
            self.scripts.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


# --- the browser --------------------------------------------------------------------------

def start_browser():
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    # The page's console messages (script errors, CSP violations) for the failure artifacts.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # With both paths given, selenium does not ask Selenium Manager to download anything.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    return driver


class Console:
    """What the steps share: the browser, the server's address and what earlier steps learnt."""

    def __init__(self, driver, base, api_key):
        self.driver = driver
        self.base = base
        self.api_key = api_key
        self.browser_log = []  # every console entry so far; get_log() hands each out only once
        self.session_cookie = None  # the cortex_session value, once signed in
        self.activity_id = None  # the id of the event posted in live-feed
        self.message_id = None  # the id of the message queued in messages
        self.automation_id = None  # the automation made in the automation step

    def wait(self, condition, what):
        """Waits at most WAIT seconds for condition(driver) to be truthy, and returns it."""
        try:
            # A page that redraws replaces the elements a condition was reading: ask again.
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(condition)
        except TimeoutException:
            raise StepFailed(f"waited {WAIT} s for {what}") from None

    def shown(self, css):
        """The first displayed element matching css, or None."""
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            try:
                if element.is_displayed():
                    return element
            except WebDriverException:  # replaced by the page meanwhile
                pass
        return None

    def wait_shown(self, css):
        return self.wait(lambda _: self.shown(css), f"{css} to be shown")

    def wait_hidden(self, css):
        self.wait(lambda _: self.shown(css) is None, f"{css} to be gone")

    def type_into(self, element, text):
        """Replaces an input's text the way a person does (select all, delete, type), so that
        the page sees real input events; Selenium's clear() fires none in Chromium."""
        element.click()
        element.send_keys(Keys.CONTROL + "a")
        element.send_keys(Keys.BACKSPACE)
        if text:
            element.send_keys(text)
        value = element.get_property("value")
        check(value == text, f"typed {text!r} into #{element.get_attribute('id')}, it holds {value!r}")

    def feed_rows(self):
        return self.driver.execute_script(FEED_ROWS_JS)

    def shown_row(self, activity_id):
        for row in self.feed_rows():
            if row["id"] == str(activity_id) and row["shown"]:
                return row
        return None

    def collect_log(self):
        try:
            self.browser_log.extend(self.driver.get_log("browser"))
        except WebDriverException:
            pass

    def request(self, method, path, headers=None, body=None):
        return http(self.base, method, path, headers, body)

    def with_cookie(self):
        """The headers of a request that carries only the browser's session cookie."""
        return {"Cookie": f"{SESSION_COOKIE}={self.session_cookie}"}

    def bearer(self):
        return {"Authorization": f"Bearer {self.api_key}"}


# --- the steps, in the order they run -----------------------------------------------------

def step_csp(c):
    answer = c.request("GET", "/")
    check(answer.status == 200, f"GET / answered {answer!r}")
    content_type = answer.headers.get("Content-Type", "")
    check(content_type.startswith("text/html"), f"GET / is {content_type!r}, not text/html")
    csp = answer.headers.get("Content-Security-Policy")
    check(csp, "GET / has no Content-Security-Policy header")
    directives = {}
    for directive in csp.split(";"):
        words = directive.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    check("'self'" in directives.get("default-src", []),
          f"the CSP has no default-src 'self': {csp!r}")
    # script-src-elem and script-src-attr fall back to script-src, which falls back to
    # default-src: none of them may allow inline script.
    for name in ("default-src", "script-src", "script-src-elem", "script-src-attr"):
        check("'unsafe-inline'" not in directives.get(name, []),
              f"the CSP allows inline script in {name}: {csp!r}")
    nosniff = answer.headers.get("X-Content-Type-Options", "")
    check(nosniff.strip().lower() == "nosniff", f"X-Content-Type-Options is {nosniff!r}, not nosniff")

    # Scripts from the same origin only: every script is a src= on this origin, none inline
    # (JSON data blocks are not run, so they are let be).
    finder = ScriptFinder()
    finder.feed(answer.body.decode("utf-8", "replace"))
    origin = urllib.parse.urlsplit(c.base + "/")
    for kind, src, text in finder.scripts:
        if kind not in ("", "text/javascript", "application/javascript", "module"):
            continue
        check(src or not text.strip(), f"GET / has an inline script: {text.strip()[:200]!r}")
        if src:
            where = urllib.parse.urlsplit(urllib.parse.urljoin(c.base + "/", src))
            check((where.scheme, where.netloc) == (origin.scheme, origin.netloc),
                  f"GET / loads a script from another origin: {src!r}")


def step_signed_out(c):
    c.driver.get(c.base + "/")
    form = c.wait_shown("form#sign-in")
    api_key = c.wait_shown("input#api-key")
    labels = c.driver.find_elements(By.CSS_SELECTOR, 'label[for="api-key"]')
    check(labels, 'no <label for="api-key">')
    check(labels[0].get_attribute("textContent").strip(), '<label for="api-key"> has no text')
    check(api_key.get_property("labels"), "input#api-key is not labelled (input.labels is empty)")
    buttons = [b for b in form.find_elements(By.CSS_SELECTOR, "button[type=submit]") if b.is_displayed()]
    check(buttons, "form#sign-in has no shown button[type=submit]")
    check(c.shown("nav#nav") is None, "nav#nav is shown while signed out")


def submit_key(c, key):
    c.type_into(c.wait_shown("input#api-key"), key)
    c.wait_shown("form#sign-in button[type=submit]").click()


def error_text(c):
    error = c.shown("#sign-in-error")
    return error.text.strip() if error else ""


def step_wrong_key(c):
    check(not error_text(c), f"#sign-in-error already shows {error_text(c)!r} before any sign in")
    submit_key(c, "wrong-" + c.api_key)
    text = c.wait(lambda _: error_text(c), "#sign-in-error to show a text")
    print(f"       wrong key: {text!r}")
    check(c.shown("form#sign-in"), "form#sign-in is gone after a wrong key")
    check(c.shown("nav#nav") is None, "nav#nav is shown after a wrong key")


def step_sign_in(c):
    submit_key(c, c.api_key)
    c.wait_shown("nav#nav")
    c.wait_shown("button#sign-out")
    c.wait_shown("section#activity")
    # Present in the section rather than "shown": an empty table may have no height at all.
    c.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "section#activity table#activity-feed"),
           "table#activity-feed in section#activity")
    c.wait_hidden("form#sign-in")


def step_cookie(c):
    cookie = c.driver.get_cookie(SESSION_COOKIE)
    check(cookie, f"the browser has no {SESSION_COOKIE} cookie; it has "
                  f"{[k['name'] for k in c.driver.get_cookies()]}")
    seen = {k: v for k, v in cookie.items() if k != "value"}  # no session token in the output
    check(cookie.get("httpOnly") is True, f"{SESSION_COOKIE} is not HttpOnly: {seen}")
    check(cookie.get("sameSite") == "Strict", f"{SESSION_COOKIE} is not SameSite=Strict: {seen}")
    check(cookie.get("path") == "/", f"{SESSION_COOKIE} has path {cookie.get('path')!r}, not /")
    https = c.base.startswith("https:")
    check(bool(cookie.get("secure")) == https,
          f"{SESSION_COOKIE} secure={cookie.get('secure')} on an {'https' if https else 'http'} URL")
    c.session_cookie = cookie["value"]


def step_live_feed(c):
    # Marks this document: a reload or navigation would make a new one, without the mark.
    c.driver.execute_script("window.cortexConsoleTestMark = true;")
    answer = c.request("POST", "/v1/events", c.bearer(), EVENT)
    check(answer.status == 202, f"POST /v1/events with the bearer key answered {answer!r}")
    ids = answer.json().get("activity_ids")
    check(isinstance(ids, list) and ids, f"POST /v1/events gave no activity_ids: {answer!r}")

    def posted_row(_):
        for activity_id in ids:
            row = c.shown_row(activity_id)
            if row and row["type"] == EVENT["type"]:
                return row
        return None

    row = c.wait(posted_row, f"a shown tr.activity with data-id in {ids} and td.type {EVENT['type']}")
    check(row["email"] == EVENT["data"]["email"], f"the row's td.email is {row['email']!r}")
    check(row["occurred"], "the row's td.occurred is empty")
    check(c.driver.execute_script("return window.cortexConsoleTestMark === true;"),
          "the page was reloaded to show the new activity")
    c.activity_id = row["id"]


def step_filter(c):
    field = c.wait_shown("input#activity-type")
    c.type_into(field, NO_SUCH_TYPE)
    # Tab moves the focus on, so a page that listens for `change` rather than `input` sees it.
    field.send_keys(Keys.TAB)
    c.wait(lambda _: not any(row["shown"] for row in c.feed_rows()),
           f"the feed to show no row for type {NO_SUCH_TYPE}")
    # The feed refreshes itself at least every 2 s; a refresh must keep the filter. Watching
    # that nothing comes back for longer than one refresh is bounded, and asserts an absence.
    until = time.monotonic() + 2.5
    while time.monotonic() < until:
        shown = [row for row in c.feed_rows() if row["shown"]]
        check(not shown, f"with the filter {NO_SUCH_TYPE} the feed's refresh brought back {shown}")
        time.sleep(0.2)
    c.type_into(field, "")
    field.send_keys(Keys.TAB)
    c.wait(lambda _: c.shown_row(c.activity_id),
           f"tr.activity data-id={c.activity_id} to be back once the filter is cleared")


def step_feed_paging(c):
    # 55 events of one type: the feed shows the newest 50, "Load older" the other 5 (no row
    # twice, live updates paused), "Back to live" the newest page again.
    for n in range(55):
        answer = c.request("POST", "/v1/events", c.bearer(),
                           {"type": "paging.check", "data": {"email": f"page{n}@example.com"}})
        check(answer.status == 202, f"POST /v1/events answered {answer!r}")
    field = c.wait_shown("input#activity-type")
    c.type_into(field, "paging.check")
    c.wait(lambda _: len(c.driver.find_elements(By.CSS_SELECTOR, "#activity-feed tr.activity")) == 50
           and c.shown("button#activity-older") is not None, "the newest 50 and a 'Load older' button")
    c.wait_shown("button#activity-older").click()
    c.wait(lambda _: len(c.driver.find_elements(By.CSS_SELECTOR, "#activity-feed tr.activity")) == 55, "all 55 after 'Load older'")
    ids = [r.get_attribute("data-id") for r in c.driver.find_elements(By.CSS_SELECTOR, "#activity-feed tr.activity")]
    check(len(set(ids)) == 55 and ids == sorted(ids, key=int, reverse=True), f"the feed's rows are not each once, newest first: {ids!r}")
    check(c.shown("button#activity-older") is None, "'Load older' is offered past the last page")
    check("paused" in c.wait_shown("#activity-status").text, "the feed does not say its live updates are paused")
    # For longer than one refresh the older rows stay (an absence of change, watched for a bound).
    until = time.monotonic() + 2.5
    while time.monotonic() < until:
        check(len(c.driver.find_elements(By.CSS_SELECTOR, "#activity-feed tr.activity")) == 55, "a refresh dropped the older rows")
        time.sleep(0.2)
    c.wait_shown("button#activity-live").click()
    c.wait(lambda _: len(c.driver.find_elements(By.CSS_SELECTOR, "#activity-feed tr.activity")) == 50, "the newest 50 again")
    c.type_into(field, "")


def step_reload_keeps_session(c):
    c.driver.execute_script("window.cortexConsoleTestMark = true;")
    c.driver.refresh()
    check(not c.driver.execute_script("return window.cortexConsoleTestMark === true;"),
          "the page was not reloaded")
    c.wait_shown("nav#nav")
    c.wait_hidden("form#sign-in")
    c.wait(lambda _: c.shown_row(c.activity_id),
           f"tr.activity data-id={c.activity_id} in the feed after the reload")
    cookie = c.driver.get_cookie(SESSION_COOKIE)
    check(cookie, f"the {SESSION_COOKIE} cookie is gone after a reload")
    c.session_cookie = cookie["value"]


def step_csrf_refused(c):
    answer = c.request("POST", "/v1/events", c.with_cookie(), EVENT)
    check(answer.status == 403, f"POST /v1/events with the cookie and no X-CSRF-Token answered {answer!r}")
    check(answer.error_code() == "csrf", f"the 403 is not error code csrf: {answer!r}")
    answer = c.request("GET", "/v1/activities", c.with_cookie())
    check(answer.status == 200, f"GET /v1/activities with only the cookie answered {answer!r}")
    answer.json()
    # And the way that is meant to work: the token from GET /console/session lets the write in.
    answer = c.request("GET", "/console/session", c.with_cookie())
    check(answer.status == 200, f"GET /console/session with the cookie answered {answer!r}")
    token = answer.json().get("csrf_token")
    check(isinstance(token, str) and token, f"GET /console/session gave no csrf_token: {answer!r}")
    answer = c.request("POST", "/v1/events", {**c.with_cookie(), "X-CSRF-Token": token}, EVENT)
    check(answer.status == 202, f"POST /v1/events with the cookie and its X-CSRF-Token answered {answer!r}")


def step_no_session_refused(c):
    answer = c.request("GET", "/v1/activities")
    check(answer.status == 401, f"GET /v1/activities with no cookie and no key answered {answer!r}")
    check(answer.error_code() == "auth", f"the 401 is not error code auth: {answer!r}")
    answer = c.request("GET", "/console/session")
    check(answer.status == 401, f"GET /console/session with no cookie answered {answer!r}")


def step_sign_out(c):
    c.wait_shown("button#sign-out").click()
    c.wait_shown("form#sign-in")
    c.wait_shown("input#api-key")
    c.wait_hidden("nav#nav")
    # The page may show the form before its DELETE has been answered: wait for it, bounded.
    old = c.with_cookie()
    seen = []

    def refused(_):
        seen[:] = [c.request("GET", "/v1/activities", old)]
        return seen[0].status == 401

    try:
        c.wait(refused, "GET /v1/activities with the signed-out cookie to answer 401")
    except StepFailed as error:
        raise StepFailed(f"{error}; the last answer: {seen[0] if seen else None!r}") from None
    answer = c.request("GET", "/console/session", old)
    check(answer.status == 401, f"GET /console/session with the signed-out cookie answered {answer!r}")


# --- the directory ---------------------------------------------------------------------------

def contact_json(c):
    """Ada as the API holds her (bearer key), to check what the page changed."""
    answer = c.request("GET", "/v1/contacts/ada@example.com", c.bearer())
    check(answer.status == 200, f"GET /v1/contacts/ada@example.com answered {answer!r}")
    return answer.json()


def contact_row_shown(c, email):
    return c.shown(f'table#contacts tr.contact[data-email="{email}"]')


def step_directory(c):
    c.wait_shown('nav#nav a[data-page="contacts"]').click()
    c.wait_shown("table#contacts")
    c.wait(lambda _: contact_row_shown(c, "ada@example.com"), "Ada's row in the directory")
    search = c.wait_shown("input#contact-search")
    c.type_into(search, "no-such-person")
    c.wait(lambda _: contact_row_shown(c, "ada@example.com") is None, "Ada's row to go for a search that misses her")
    c.type_into(search, "ada")
    c.wait(lambda _: contact_row_shown(c, "ada@example.com"), "Ada's row for a search of 'ada'")


def step_contact_page(c):
    contact_row_shown(c, "ada@example.com").find_element(By.CSS_SELECTOR, "td.email a").click()
    c.wait_shown("section#contact")
    c.wait(lambda _: any(e.text == "checkout.completed" for e in c.driver.find_elements(By.CSS_SELECTOR, "#timeline li.activity .type")),
           "checkout.completed in Ada's timeline")


def step_tags(c):
    c.type_into(c.wait_shown("input#new-tag"), "VIP")
    c.wait_shown("form#add-tag button[type=submit]").click()
    c.wait_shown('#contact-tags li.chip[data-tag="VIP"]')
    check("VIP" in contact_json(c)["tags"], "the tag added on the page is not in the API's answer")
    c.wait_shown('#contact-tags li.chip[data-tag="VIP"] button').click()
    c.wait(lambda _: c.shown('#contact-tags li.chip[data-tag="VIP"]') is None, "the VIP chip to go")
    check("VIP" not in contact_json(c)["tags"], "the tag removed on the page is still in the API's answer")


def step_consent(c):
    Select(c.wait_shown("select#consent")).select_by_value("revoked")
    c.wait(lambda _: contact_json(c)["consent"]["status"] == "revoked", "Ada's consent to be revoked through the page")
    c.wait(lambda _: (c.shown("select#consent") is not None
                      and Select(c.shown("select#consent")).first_selected_option.get_attribute("value") == "revoked"),
           "the page to show the revoked consent")


# --- smart lists -------------------------------------------------------------------------------

def step_list_builder(c):
    c.wait_shown('nav#nav a[data-page="lists"]').click()
    c.wait_shown("form#list-form")
    # The first condition is an activity (checkout.completed): narrow it to P2P buyers.
    c.type_into(c.wait_shown("#list-tree input.where"), "product=P2P")
    c.wait(lambda _: c.shown("#list-count") is not None and c.shown("#list-count").text == "1", "the live count of P2P buyers (1)")
    # The JSON sits in a closed <details>: read, not shown.
    shown = json.loads(c.driver.find_element(By.CSS_SELECTOR, "#list-json").get_attribute("textContent"))
    check(shown == {"all": [{"activity": {"type": "checkout.completed", "where": {"product": "P2P"}}}]},
          f"the JSON the builder shows is {shown!r}")
    # A condition the server refuses: its words are shown, the count is not.
    Select(c.wait_shown("#list-tree select.add-condition")).select_by_value("field")
    field = c.wait_shown("#list-tree li.condition:last-child select.field")
    Select(field).select_by_value("created_at")
    Select(c.wait_shown("#list-tree li.condition:last-child select.op")).select_by_value("gt")
    c.type_into(c.wait_shown("#list-tree li.condition:last-child input.value"), "yesterday")
    c.wait(lambda _: c.shown("#list-error") is not None and c.shown("#list-error").text.startswith("/all/1"),
           "the server's invalid_filter message under the builder")
    c.wait_shown("#list-tree li.condition:last-child button.link").click()
    c.wait(lambda _: c.shown("#list-error") is None and c.shown("#list-count").text == "1", "the count back once the bad condition is removed")


def step_list_save(c):
    c.type_into(c.wait_shown("input#list-name"), "Bought P2P")
    c.wait_shown("button#save-list").click()
    c.wait(lambda _: any(r.text.startswith("Bought P2P") for r in c.driver.find_elements(By.CSS_SELECTOR, "table#lists-table tr.list")),
           "the saved list in the table")
    answer = c.request("GET", "/v1/lists", c.bearer())
    saved = [l for l in answer.json()["data"] if l["name"] == "Bought P2P"]
    check(len(saved) == 1 and saved[0]["count"] == 1, f"GET /v1/lists answered {answer!r}")




def step_directory_chips(c):
    # The saved list as a directory filter: only its member, the filter shown as a chip that
    # removes it.
    c.wait_shown('nav#nav a[data-page="contacts"]').click()
    select = c.wait_shown("select#contact-list")
    c.wait(lambda _: any(o.text == "Bought P2P" for o in Select(select).options), "the smart list offered as a filter")
    Select(select).select_by_visible_text("Bought P2P")
    c.wait(lambda _: [r.get_attribute("data-email") for r in c.driver.find_elements(By.CSS_SELECTOR, "table#contacts tr.contact")]
           == ["ada@example.com"], "only the list's member in the directory")
    chip = c.wait_shown('#directory-chips li[data-filter="list"]')
    check(chip.text.startswith("list: Bought P2P"), f"the filter's chip reads {chip.text!r}")
    chip.find_element(By.CSS_SELECTOR, "button").click()
    c.wait(lambda _: len(c.driver.find_elements(By.CSS_SELECTOR, "table#contacts tr.contact")) > 1, "everyone back once the chip is removed")
    check(Select(c.wait_shown("select#contact-list")).first_selected_option.get_attribute("value") == "", "the list filter was not cleared")


# --- automations -------------------------------------------------------------------------------

def step_automation(c):
    # The README's welcome graph, as a React Flow canvas saved it, with a sender of its own.
    with open(os.path.join(os.path.dirname(__file__), "..", "contracts", "automations", "welcome-p2p.json")) as source:
        graph = json.load(source)
    for node in graph["nodes"]:
        if node["type"] == "send_email":
            node["data"]["from"] = "Shop <shop@example.com>"
    answer = c.request("POST", "/v1/automations", c.bearer(), {"name": "Welcome P2P", "graph": graph})
    check(answer.status == 201, f"POST /v1/automations answered {answer!r}")
    automation_id = answer.json()["id"]
    c.automation_id = automation_id
    c.wait_shown('nav#nav a[data-page="automations"]').click()
    c.wait_shown(f'table#automations-table tr.automation[data-id="{automation_id}"] a').click()
    c.wait_shown("button#activate-automation").click()
    c.wait(lambda _: c.shown("#automation-status") is not None and c.shown("#automation-status").text.startswith("active"),
           "the automation to be shown active")
    c.wait_shown("button#pause-automation")
    # A purchase enters Ada; the page shows her execution and the trigger's count without a reload.
    answer = c.request("POST", "/v1/events", c.bearer(), EVENT)
    check(answer.status == 202, f"POST /v1/events answered {answer!r}")
    c.wait_shown("table#automation-executions tr.execution a")
    c.wait(lambda _: c.shown('tr.node[data-node="trigger-1"] td[data-count="entered"]') is not None
           and c.shown('tr.node[data-node="trigger-1"] td[data-count="entered"]').text == "1", "the trigger's entered count (1)")


def step_execution_log(c):
    c.wait_shown("table#automation-executions tr.execution a").click()
    c.wait_shown("#execution-log")
    c.wait(lambda _: any("Queued email" in e.text for e in c.driver.find_elements(By.CSS_SELECTOR, "#execution-log li.log")),
           "the execution's log with its queued email")



def automation_graph(c):
    answer = c.request("GET", f"/v1/automations/{c.automation_id}", c.bearer())
    check(answer.status == 200, f"GET /v1/automations/{c.automation_id} answered {answer!r}")
    return answer.json()["graph"]


def edit_node(c, node_id, fields, more=None):
    """Selects the node and fills its side panel's form: {input id: text}, and whatever `more`
    does; then Apply. (Selecting a node redraws the panel, so all of it happens after.)"""
    c.wait_shown(f'.node[data-node="{node_id}"]').click()
    if more:
        more()
    for input_id, text in fields.items():
        c.type_into(c.wait_shown(f"#{input_id}"), text)
    c.wait_shown("button#apply-node").click()


def drop(c, node_type, x, y):
    """Drags a palette item onto the board so that it lands at (x, y) of the board's top left
    (Selenium's offsets are from an element's centre)."""
    board = c.wait_shown("#canvas-board")
    item = c.wait_shown(f'.palette-item[data-type="{node_type}"]')
    size = board.size
    ActionChains(c.driver).click_and_hold(item).move_to_element_with_offset(
        board, int(x - size["width"] / 2), int(y - size["height"] / 2)).release().perform()


def connect(c, source, target, handle=None):
    """Drags from the source node's handle (its only one, or `handle`) onto the target node."""
    selector = f'.node[data-node="{source}"] .handle.source' + (f'[data-handle="{handle}"]' if handle else "")
    ActionChains(c.driver).click_and_hold(c.wait_shown(selector)).move_to_element(
        c.wait_shown(f'.node[data-node="{target}"]')).release().perform()
    edge = f"{source}>{target}" + (f":{handle}" if handle else "")
    c.wait(lambda _: c.driver.find_elements(By.CSS_SELECTOR, f'path.edge[data-edge="{edge}"]'), f"the edge {edge} on the canvas")


def step_canvas(c):
    c.driver.get(f"{c.base}/#/automations/{c.automation_id}")
    c.wait_shown("a#open-canvas").click()
    c.wait_shown('.node[data-node="tag-no"]')
    # Drag "Add tag" from the palette onto the canvas, then connect tag-no's handle to it.
    drop(c, "add_tag", 500, 40)
    c.wait_shown('.node[data-node="add_tag-1"]')
    connect(c, "tag-no", "add_tag-1")
    # Edit the new node in the side panel's form, and save the graph.
    edit_node(c, "add_tag-1", {"node-field-label": "Loyal", "node-field-tag": "Loyal"})
    c.wait(lambda _: c.shown('.node[data-node="add_tag-1"] .node-label') is not None
           and c.shown('.node[data-node="add_tag-1"] .node-label').text == "Loyal", "the node's new label")
    c.wait_shown("button#save-graph").click()
    c.wait(lambda _: c.shown("#canvas-result") is not None and c.shown("#canvas-result").text.startswith("Saved as version"), "the save's answer")
    graph = automation_graph(c)
    nodes = {n["id"]: n for n in graph["nodes"]}
    check(nodes.get("add_tag-1", {}).get("data") == {"label": "Loyal", "tag": "Loyal"}, f"the saved graph's new node: {nodes.get('add_tag-1')!r}")
    check(any(e["source"] == "tag-no" and e["target"] == "add_tag-1" for e in graph["edges"]), "the saved graph has no tag-no -> add_tag-1 edge")
    check(nodes["trigger-1"].get("measured") == {"width": 220, "height": 64}, "React Flow's own fields were not kept")
    check(nodes["mail-1"]["data"]["stream"] == "transactional", "a field the form shows was changed without an edit")


def step_canvas_error(c):
    # A node the server refuses (an add_tag without its tag): its message, and the node marked.
    edit_node(c, "add_tag-1", {"node-field-tag": ""})
    c.wait_shown("button#save-graph").click()
    c.wait_shown("#canvas-error")
    c.wait_shown('.node.invalid[data-node="add_tag-1"]')
    # Corrected in the form but not applied: Save applies the open form first.
    c.wait_shown('.node[data-node="add_tag-1"]').click()
    c.type_into(c.wait_shown("#node-field-tag"), "Loyal")
    c.wait_shown("button#save-graph").click()
    c.wait(lambda _: c.shown('.node.invalid') is None and c.shown("#canvas-result") is not None
           and c.shown("#canvas-result").text.startswith("Saved"), "the corrected graph saved")


def step_canvas_simulate(c):
    # The saved welcome graph, simulated on the page: a purchase sends the mail and waits 2 days.
    c.wait_shown("button#simulate").click()
    c.wait(lambda _: c.shown("#simulate-status") is not None and c.shown("#simulate-status").text.startswith("Status: "),
           "the simulation's answer")
    entries = [e.text for e in c.driver.find_elements(By.CSS_SELECTOR, "#simulate-log li.log")]
    check(any("Queued email" in e for e in entries), f"the simulated log reads {entries!r}")
    check(any("Added tag 'P2P only'" in e for e in entries), f"without a Canva purchase the log reads {entries!r}")
    # A Canva purchase an hour later, given as a later event: the condition takes the other way.
    c.wait_shown("#simulate-panel details summary").click()
    later = [{"after_seconds": 3600, "event": {"type": "checkout.completed", "data": {"email": "test@example.com", "product": "Canva"}}}]
    c.type_into(c.wait_shown("textarea#simulate-then"), json.dumps(later))
    c.wait_shown("button#simulate").click()
    c.wait(lambda _: any("Added tag 'Bundle buyer'" in e.text for e in c.driver.find_elements(By.CSS_SELECTOR, "#simulate-log li.log")),
           "the simulated log with the later purchase")


def step_new_automation(c):
    c.wait_shown('nav#nav a[data-page="automations"]').click()
    c.type_into(c.wait_shown("input#new-automation-name"), "From the console")
    c.wait_shown("form#new-automation button[type=submit]").click()
    c.wait_shown("#canvas-board")
    c.wait_shown('.node[data-node="trigger-1"]')
    answer = c.request("GET", "/v1/automations", c.bearer())
    made = [a for a in answer.json()["data"] if a["name"] == "From the console"]
    check(len(made) == 1, f"GET /v1/automations answered {answer!r}")
    c.built_id = made[0]["id"]


def step_canvas_build(c):
    # trigger -> send_email -> delay -> condition -> add_tag (and exit on false), each dragged
    # from the palette, filled in its form and connected handle to handle.
    edit_node(c, "trigger-1", {"node-field-label": "Finished a course", "node-field-event": "course.completed"})
    drop(c, "send_email", 300, 150)
    edit_node(c, "send_email-1", {"node-field-subject": "Well done, {{contact.first_name}}", "node-field-from": "Shop <shop@example.com>",
                                  "node-field-html": "<p>Congratulations on finishing!</p>"})
    drop(c, "delay", 300, 250)
    edit_node(c, "delay-1", {"node-field-amount": "1"},
              lambda: Select(c.wait_shown("select#node-field-unit")).select_by_value("seconds"))
    drop(c, "condition", 300, 350)

    def activity_condition():
        # The smart-list builder in the panel: an activity condition in place of the default tag.
        Select(c.wait_shown("#node-field-filter select.add-condition")).select_by_value("activity")
        c.wait_shown('#node-field-filter button[aria-label="Remove condition"]').click()
        c.type_into(c.wait_shown("#node-field-filter input.activity-type"), "checkout.completed")
        c.type_into(c.wait_shown("#node-field-filter input.where"), "product=P2P")
    edit_node(c, "condition-1", {"node-field-label": "Bought P2P?"}, activity_condition)
    drop(c, "add_tag", 160, 450)
    edit_node(c, "add_tag-1", {"node-field-tag": "P2P graduate"})
    drop(c, "exit", 440, 450)
    connect(c, "trigger-1", "send_email-1")
    connect(c, "send_email-1", "delay-1")
    connect(c, "delay-1", "condition-1")
    connect(c, "condition-1", "add_tag-1", "true")
    connect(c, "condition-1", "exit-1", "false")
    c.wait_shown("button#save-graph").click()
    c.wait(lambda _: c.shown("#canvas-result") is not None and c.shown("#canvas-result").text.startswith("Saved as version"),
           "the built graph saved")
    answer = c.request("GET", f"/v1/automations/{c.built_id}", c.bearer())
    graph = answer.json()["graph"]
    data = {n["id"]: n["data"] for n in graph["nodes"]}
    edges = sorted((e["source"], e["target"], e.get("sourceHandle")) for e in graph["edges"])
    check(data["trigger-1"].get("event") == "course.completed", f"the trigger saved as {data['trigger-1']!r}")
    check(data["delay-1"] == {"label": "Delay", "seconds": 1}, f"the delay saved as {data['delay-1']!r}")
    check(data["condition-1"].get("filter") == {"activity": {"type": "checkout.completed", "where": {"product": "P2P"}}},
          f"the condition saved as {data['condition-1']!r}")
    check(data["add_tag-1"].get("tag") == "P2P graduate", f"the add_tag saved as {data['add_tag-1']!r}")
    check(edges == sorted([("trigger-1", "send_email-1", None), ("send_email-1", "delay-1", None), ("delay-1", "condition-1", None),
                           ("condition-1", "add_tag-1", "true"), ("condition-1", "exit-1", "false")]), f"the saved edges: {edges!r}")


def step_canvas_run(c):
    # Activated on its page; an event posted with curl runs it; its execution and log appear.
    c.wait_shown("#canvas-page p a").click()
    c.wait_shown("button#activate-automation").click()
    c.wait(lambda _: c.shown("#automation-status") is not None and c.shown("#automation-status").text.startswith("active"),
           "the built automation to be active")
    event = json.dumps({"type": "course.completed", "data": {"email": "ada@example.com", "course": "P2P"}})
    posted = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", f"{c.base}/v1/events",
                             "-H", f"Authorization: Bearer {c.api_key}", "-H", "Content-Type: application/json", "-d", event],
                            capture_output=True, text=True, timeout=WAIT, check=False)
    check(posted.stdout == "202", f"curl POST /v1/events answered {posted.stdout!r} {posted.stderr!r}")
    c.wait_shown("table#automation-executions tr.execution a").click()
    c.wait(lambda _: c.shown("#execution-status") is not None and c.shown("#execution-status").text == "completed",
           "the execution to complete (its page refreshes itself)")
    entries = [e.text for e in c.driver.find_elements(By.CSS_SELECTOR, "#execution-log li.log")]
    for expected in ("email", "Condition", "Added tag 'P2P graduate'"):
        check(any(expected in e for e in entries), f"the execution's log has no {expected!r}: {entries!r}")
    check("P2P graduate" in contact_json(c)["tags"], "the tag the canvas's node adds is not on Ada")


def step_canvas_keyboard(c):
    # Without a mouse: a palette item pressed with Enter adds its node, the side panel's form
    # and "Then" selects connect it, and the save goes through.
    c.driver.get(f"{c.base}/#/canvas/{c.built_id}")
    c.wait_shown('.node[data-node="add_tag-1"]')
    c.wait_shown('.palette-item[data-type="remove_tag"]').send_keys(Keys.ENTER)
    c.wait_shown('.node.selected[data-node="remove_tag-1"]')
    c.type_into(c.wait_shown("#node-field-tag"), "Student")
    Select(c.wait_shown("select#node-next-out")).select_by_value("exit-1")
    c.wait(lambda _: c.driver.find_elements(By.CSS_SELECTOR, 'path.edge[data-edge="remove_tag-1>exit-1"]'), "the edge made with the select")
    node = c.wait_shown('.node[data-node="add_tag-1"]')
    node.send_keys(Keys.ENTER)
    c.wait_shown('.node.selected[data-node="add_tag-1"]')
    Select(c.wait_shown("select#node-next-out")).select_by_value("remove_tag-1")
    c.wait_shown("button#save-graph").send_keys(Keys.ENTER)
    c.wait(lambda _: c.shown("#canvas-result") is not None and c.shown("#canvas-result").text.startswith("Saved as version"),
           "the graph saved from the keyboard")
    graph = c.request("GET", f"/v1/automations/{c.built_id}", c.bearer()).json()["graph"]
    edges = {(e["source"], e["target"]) for e in graph["edges"]}
    tags = {n["id"]: n["data"].get("tag") for n in graph["nodes"]}
    check(("add_tag-1", "remove_tag-1") in edges and ("remove_tag-1", "exit-1") in edges, f"the saved edges: {edges!r}")
    check(tags.get("remove_tag-1") == "Student", f"the new node's tag: {tags!r}")


# --- campaigns ---------------------------------------------------------------------------------

def step_campaign_wizard(c):
    # Ada opted out in the consent step; she opts in again so the campaign has its recipient.
    answer = c.request("PUT", "/v1/contacts/ada@example.com", c.bearer(), {"consent": "granted", "first_name": "Ada"})
    check(answer.status in (200, 201), f"PUT /v1/contacts/ada@example.com answered {answer!r}")
    c.wait_shown('nav#nav a[data-page="campaigns"]').click()
    c.wait_shown("a#new-campaign").click()
    c.type_into(c.wait_shown("input#campaign-name"), "P2P news")
    c.type_into(c.wait_shown("input#campaign-from"), "Shop <shop@example.com>")
    c.type_into(c.wait_shown("input#campaign-subject"), "Hi {{contact.first_name}}")
    c.wait_shown("button#wizard-next").click()
    select = c.wait_shown("select#campaign-list")
    c.wait(lambda _: len(Select(select).options) > 1, "the smart lists in the audience step")
    Select(select).select_by_index(1)
    check("Bought P2P (1 now)" in Select(select).first_selected_option.text, "the list and its count are not offered")
    c.wait_shown("button#wizard-next").click()
    c.type_into(c.wait_shown("textarea#campaign-html"), "<p style=\"color: rgb(200, 0, 0)\">Hi {{contact.first_name}}</p>")
    c.wait_shown("button#preview-campaign").click()
    frame = c.wait_shown("iframe#campaign-preview")
    c.wait(lambda _: "/preview" in (frame.get_attribute("src") or ""), "the preview frame to load the draft")
    c.driver.switch_to.frame(frame)
    try:
        paragraph = c.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "p"), "the preview's paragraph")[0]
        check(paragraph.text == "Hi Sample", f"the preview reads {paragraph.text!r}")
        check(paragraph.value_of_css_property("color") in ("rgba(200, 0, 0, 1)", "rgb(200, 0, 0)"),
              "the email's inline style is not applied in the preview")
    finally:
        c.driver.switch_to.default_content()
    c.wait_shown("button#wizard-next").click()
    c.type_into(c.wait_shown("input#test-to"), "me@example.com")
    c.wait_shown("button#send-test").click()
    c.wait(lambda _: c.shown("#wizard-result") is not None and c.shown("#wizard-result").text == "Test sent to me@example.com.",
           "the test send's answer")


def step_campaign_send(c):
    c.wait_shown("button#send-campaign").click()
    c.wait(lambda _: c.shown("#campaign-status") is not None and c.shown("#campaign-status").text == "sent", "the campaign to be sent")
    c.campaign_id = int(c.driver.current_url.rsplit("/", 1)[-1])
    for stat, value in [("recipients", "1"), ("sent", "1")]:
        shown = c.wait_shown(f'#campaign-stats dd[data-stat="{stat}"]').text
        check(shown == value, f"{stat} shows {shown!r}, expected {value}")


def step_campaign_chart(c):
    # Ada opens the campaign's mail and clicks in it: Postmark's webhooks about the message the
    # dry-run provider "sent", and the campaign page draws them in its chart.
    answer = c.request("GET", "/v1/messages?email=ada%40example.com&limit=50", c.bearer())
    check(answer.status == 200, f"GET /v1/messages answered {answer!r}")
    rows = [m for m in answer.json()["data"] if (m.get("metadata") or {}).get("campaign_id") == c.campaign_id]
    check(len(rows) == 1 and rows[0].get("provider_message_id"), f"the campaign's ledger row for Ada: {rows!r}")
    auth = "Basic " + base64.b64encode(b"postmark:console-test-webhook").decode()
    for record in ("Open", "Click"):
        body = {"RecordType": record, "Recipient": "ada@example.com", "MessageID": rows[0]["provider_message_id"],
                "ReceivedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        answer = c.request("POST", "/webhooks/postmark", {"Authorization": auth}, body)
        check(answer.status == 202, f"POST /webhooks/postmark ({record}) answered {answer!r}")
    c.driver.refresh()
    c.wait_shown('#campaign-chart rect.bar.opened[data-count="1"]')
    c.wait_shown('#campaign-chart rect.bar.clicked[data-count="1"]')
    for stat in ("opened", "clicked"):
        shown = c.wait_shown(f'#campaign-stats dd[data-stat="{stat}"]').text
        check(shown == "1", f"{stat} shows {shown!r}, expected 1")


# --- the ledger and the archive ----------------------------------------------------------------

def step_messages(c):
    message = {"to": "ada@example.com", "from": "shop@example.com", "subject": "Your P2P receipt",
               "text": "Thanks!", "idempotency_key": "console-test-receipt"}
    answer = c.request("POST", "/v1/messages", c.bearer(), message)
    check(answer.status == 202, f"POST /v1/messages answered {answer!r}")
    message_id = answer.json()["id"]
    c.wait_shown('nav#nav a[data-page="messages"]').click()
    row = c.wait_shown(f'table#messages-table tr.message[data-id="{message_id}"]')
    check("Your P2P receipt" in row.text, f"the message's row reads {row.text!r}")
    c.message_id = message_id


def step_messages_filter(c):
    Select(c.wait_shown("select#message-status")).select_by_value("failed")
    c.wait(lambda _: c.shown(f'tr.message[data-id="{c.message_id}"]') is None, "the message to leave a 'failed' filter")
    Select(c.wait_shown("select#message-status")).select_by_value("")
    c.wait_shown(f'tr.message[data-id="{c.message_id}"]')


def step_inbound(c):
    c.wait_shown('nav#nav a[data-page="inbound"]').click()
    # More deliveries than a page (the feed step's 55 events and the rest): "Load more" adds the
    # next page below, each delivery once.
    c.wait(lambda _: len(c.driver.find_elements(By.CSS_SELECTOR, "table#inbound-table tr.delivery")) == 50, "the newest 50 deliveries")
    c.wait_shown("button#inbound-more").click()
    c.wait(lambda _: len(c.driver.find_elements(By.CSS_SELECTOR, "table#inbound-table tr.delivery")) > 50, "the next page of deliveries")
    ids = [r.get_attribute("data-id") for r in c.driver.find_elements(By.CSS_SELECTOR, "table#inbound-table tr.delivery")]
    check(len(set(ids)) == len(ids) and ids == sorted(ids, key=int, reverse=True), f"the deliveries are not each once, newest first: {ids!r}")
    row = c.wait_shown("table#inbound-table tr.delivery")
    check("accepted" in row.text, f"the newest delivery reads {row.text!r}")
    row.find_element(By.CSS_SELECTOR, "button.replay").click()
    c.wait(lambda _: "Done: 1 activity." in row.text, "the replay's answer next to its button")



def step_settings(c):
    c.wait_shown('nav#nav a[data-page="settings"]').click()
    c.wait(lambda _: c.shown("#sender-state") is not None and c.shown("#sender-state").text == "sending", "the sender's state (sending)")
    check(c.wait_shown("#instance-status").text == "ready", "the instance is not shown ready")
    check(c.wait_shown("#mail-provider").text.startswith("dry run"), "the mail provider is not shown")
    check(c.wait_shown('#inbound-sources li[data-source="postmark"]').text == "postmark ✓", "the Postmark source is not shown on")


def step_api_keys(c):
    # A key made on the page works at once (curl, as an integration would use it) and stops
    # working when it is revoked there; the page shows it once, and only its last four after.
    c.type_into(c.wait_shown("input#new-key-name"), "Zapier")
    c.wait_shown("form#new-key button[type=submit]").click()
    key = c.wait_shown("#new-key-value").text
    check(key.startswith("ck_") and len(key) > 20, f"the new key reads {key!r}")
    row = c.wait_shown("table#keys-table tr.api-key")
    check("Zapier" in row.text and ("ck_…" + key[-4:]) in row.text and "active" in row.text, f"the key's row reads {row.text!r}")

    def status_with(secret):
        answer = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{c.base}/v1/instance",
                                 "-H", f"Authorization: Bearer {secret}"], capture_output=True, text=True, timeout=WAIT, check=False)
        return answer.stdout
    check(status_with(key) == "200", "the new key is refused")
    button = c.wait_shown("table#keys-table tr.api-key button.revoke")
    button.click()
    check(status_with(key) == "200", "one click revoked the key; it takes two")
    c.wait_shown("table#keys-table tr.api-key button.revoke").click()
    c.wait(lambda _: c.shown("table#keys-table tr.api-key.revoked") is not None, "the key shown revoked")
    check(status_with(key) == "401", "the revoked key still works")


def step_narrow_window(c):
    # A phone-sized window: every page fits its width (wide tables scroll inside their frame),
    # and the navigation stays reachable.
    c.driver.set_window_size(390, 844)
    try:
        for page, ready in [("activity", "#activity-feed"), ("contacts", "#directory"), ("lists", "#lists"),
                            ("automations", "#automations-table"), (f"automations/{c.built_id}", "#automation-nodes"),
                            (f"canvas/{c.built_id}", "#canvas-board"), ("campaigns", "#campaigns-table"),
                            (f"campaigns/{c.campaign_id}", "#campaign-chart"), ("messages", "#messages-table"),
                            ("inbound", "#inbound-table"), ("settings", "#keys-table")]:
            c.driver.get(f"{c.base}/#/{page}")
            c.wait_shown(ready)
            widths = c.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            check(widths[0] <= widths[1], f"#/{page} is {widths[0]} px wide in a {widths[1]} px window")
            check(c.shown('nav#nav a[data-page="settings"]') is not None, f"#/{page}: the navigation is not reachable")
            if page == "activity" and getattr(c, "screenshots", None):
                c.driver.save_screenshot(os.path.join(c.screenshots, "narrow.png"))
    finally:
        c.driver.set_window_size(1280, 900)


STEPS = [
    ("csp", step_csp),
    ("signed-out", step_signed_out),
    ("wrong-key", step_wrong_key),
    ("sign-in", step_sign_in),
    ("cookie", step_cookie),
    ("live-feed", step_live_feed),
    ("filter", step_filter),
    ("reload-keeps-session", step_reload_keeps_session),
    ("feed-paging", step_feed_paging),
    ("directory", step_directory),
    ("contact-page", step_contact_page),
    ("tags", step_tags),
    ("consent", step_consent),
    ("list-builder", step_list_builder),
    ("list-save", step_list_save),
    ("directory-chips", step_directory_chips),
    ("automation", step_automation),
    ("execution-log", step_execution_log),
    ("canvas", step_canvas),
    ("canvas-error", step_canvas_error),
    ("canvas-simulate", step_canvas_simulate),
    ("new-automation", step_new_automation),
    ("canvas-build", step_canvas_build),
    ("canvas-run", step_canvas_run),
    ("canvas-keyboard", step_canvas_keyboard),
    ("campaign-wizard", step_campaign_wizard),
    ("campaign-send", step_campaign_send),
    ("campaign-chart", step_campaign_chart),
    ("messages", step_messages),
    ("messages-filter", step_messages_filter),
    ("inbound", step_inbound),
    ("settings", step_settings),
    ("api-keys", step_api_keys),
    ("narrow-window", step_narrow_window),
    ("csrf-refused", step_csrf_refused),
    ("no-session-refused", step_no_session_refused),
    ("sign-out", step_sign_out),
]


# The page each of these steps leaves on screen, by the picture's name (--screenshots).
PAGE_SHOTS = {
    "signed-out": "sign-in.png",
    "live-feed": "activity.png",
    "directory": "directory.png",
    "consent": "contact.png",
    "list-save": "lists.png",
    "automation": "automation.png",
    "execution-log": "execution.png",
    "canvas-build": "canvas.png",
    "campaign-wizard": "campaign-wizard.png",
    "campaign-chart": "campaign.png",
    "messages": "messages.png",
    "inbound": "inbound.png",
    "api-keys": "settings.png",
}


# --- running them -------------------------------------------------------------------------

def save_artifacts(c, step, artifacts):
    """Screenshot, page source and browser log of the failing step; each saved on its own,
    so that a browser that died still leaves whatever can be had."""
    saved = []
    try:
        if c.driver.save_screenshot(os.path.join(artifacts, f"{step}.png")):
            saved.append(f"{step}.png")
    except Exception as error:  # noqa: BLE001 - the failure itself matters more
        print(f"       (no screenshot: {error})", file=sys.stderr)
    try:
        with open(os.path.join(artifacts, f"{step}.html"), "w", encoding="utf-8") as out:
            out.write(f"<!-- {c.driver.current_url} -->\n{c.driver.page_source}")
        saved.append(f"{step}.html")
    except Exception as error:  # noqa: BLE001
        print(f"       (no page source: {error})", file=sys.stderr)
    c.collect_log()
    with open(os.path.join(artifacts, f"{step}.log"), "w", encoding="utf-8") as out:
        for entry in c.browser_log:
            out.write(f"{entry.get('timestamp')} {entry.get('level')} {entry.get('source')} "
                      f"{entry.get('message')}\n")
    saved.append(f"{step}.log")
    return saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the console's URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--api-key", required=True, help="an API key the server accepts")
    parser.add_argument("--artifacts", required=True, help="folder for a failing step's files")
    parser.add_argument("--screenshots", help="also save a picture of each page (docs/console/) here")
    arguments = parser.parse_args()
    os.makedirs(arguments.artifacts, exist_ok=True)

    try:
        driver = start_browser()
    except Exception as error:  # noqa: BLE001
        print(f"console browser test FAILED: could not start headless Chromium: {error}", file=sys.stderr)
        return 1
    c = Console(driver, arguments.base.rstrip("/"), arguments.api_key)
    c.screenshots = arguments.screenshots
    try:
        for name, step in STEPS:
            started = time.monotonic()
            try:
                step(c)
            except Exception as error:  # noqa: BLE001 - any exception fails the step
                saved = save_artifacts(c, name, arguments.artifacts)
                print(f"FAILED {name}: {type(error).__name__}: {error}", file=sys.stderr)
                if not isinstance(error, StepFailed):
                    traceback.print_exc()
                print(f"       saved {', '.join(saved)} in {arguments.artifacts}", file=sys.stderr)
                return 1
            c.collect_log()
            if arguments.screenshots and name in PAGE_SHOTS:
                os.makedirs(arguments.screenshots, exist_ok=True)
                c.driver.save_screenshot(os.path.join(arguments.screenshots, PAGE_SHOTS[name]))
            print(f"ok     {name} ({time.monotonic() - started:.1f} s)")
    finally:
        driver.quit()

    # Script errors and CSP violations: not a failure by themselves, but worth a look. Failed
    # requests ("network": the 401s this test provokes, a missing favicon) are left out.
    errors = [e for e in c.browser_log if e.get("level") == "SEVERE" and e.get("source") != "network"]
    for entry in errors:
        print(f"note: browser console error: {entry.get('message')}")
    print(f"console browser test: {len(STEPS)} steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
