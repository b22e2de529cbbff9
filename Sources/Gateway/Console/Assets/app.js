// The Cortex console: a client of Cortex's own /v1 API (ENGINE.md §6). No framework, no build
// step, no third-party code: it is served from the binary. Signing in trades an API key for an
// HttpOnly session cookie; the CSRF token that every write must carry is kept in memory only
// (a reload asks the server for it again).
"use strict";

const state = { csrf: null, feedTimer: null };

// --- HTTP -----------------------------------------------------------------------------------

class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Calls the API with the session cookie; writes carry the CSRF token. Errors become APIError
// with the server's own words, so each page can show them where they happened.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new APIError(0, "network", "Cortex did not answer (" + error.message + ")");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { /* not JSON: reported below */ }
  if (!response.ok) {
    const error = json && json.error ? json.error : { code: "http_" + response.status, message: text || response.statusText };
    if (response.status === 401 && path !== "/console/session") signedOut();
    throw new APIError(response.status, error.code, error.message);
  }
  return json;
}

// --- DOM helpers ----------------------------------------------------------------------------

// Builds an element: el("td", {class: "type"}, "text", child...). Text is always set as text,
// never as HTML, so nothing an event carries can become markup.
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(view) {
  const main = document.getElementById("main");
  main.replaceChildren(view);
}

// --- Session --------------------------------------------------------------------------------

function signedOut() {
  state.csrf = null;
  stopFeed();
  document.getElementById("session-slot").replaceChildren();
  renderSignIn();
}

function signedIn(session) {
  state.csrf = session.csrf_token;
  const nav = el("nav", { id: "nav", "aria-label": "Console" },
    el("a", { href: "#/activity", "aria-current": "page" }, "Activity"));
  const signOut = el("button", { id: "sign-out", type: "button", class: "quiet", onclick: onSignOut }, "Sign out");
  document.getElementById("session-slot").replaceChildren(nav, signOut);
  route();
}

function renderSignIn() {
  const error = el("p", { id: "sign-in-error", class: "error", role: "alert" });
  error.hidden = true;
  const input = el("input", { id: "api-key", name: "api_key", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { id: "sign-in", class: "card", novalidate: true },
    el("label", { for: "api-key" }, "API key"),
    input,
    el("button", { type: "submit" }, "Sign in"),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const key = input.value.trim();
    if (!key) { fail("Enter an API key."); return; }
    const button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      signedIn(await api("POST", "/console/session", { api_key: key }));
    } catch (problem) {
      fail(problem.status === 401 ? "That API key is not valid." : problem.message);
    } finally {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    input.focus();
  }
  show(el("section", { id: "sign-in-view" }, el("h1", {}, "Sign in to Cortex"), form));
  input.focus();
}

async function onSignOut() {
  try {
    await api("DELETE", "/console/session");
  } catch (_) {
    // The session may have ended already; either way the page is signed out.
  }
  signedOut();
}

// --- Pages ----------------------------------------------------------------------------------

function route() {
  if (!state.csrf) return;
  // One page so far; the hash names it so links and reloads land on it.
  if (location.hash !== "#/activity") history.replaceState(null, "", "#/activity");
  renderActivity();
}

function stopFeed() {
  if (state.feedTimer) clearTimeout(state.feedTimer);
  state.feedTimer = null;
}

// The activity feed: newest first, refreshed every 2 s while shown, filtered by exact type.
function renderActivity() {
  stopFeed();
  const typeInput = el("input", { id: "activity-type", type: "search", placeholder: "e.g. checkout.completed", autocomplete: "off" });
  const status = el("span", { id: "activity-status", class: "status", "aria-live": "polite" }, "Loading…");
  const error = el("p", { id: "activity-error", class: "error", role: "alert" });
  error.hidden = true;
  const body = el("tbody");
  const table = el("table", { id: "activity-feed" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "When"), el("th", { scope: "col" }, "Type"),
      el("th", { scope: "col" }, "Contact"), el("th", { scope: "col", class: "source" }, "Source"))),
    body);
  show(el("section", { id: "activity" },
    el("h1", {}, "Activity"),
    el("div", { class: "toolbar" }, el("label", { for: "activity-type" }, "Type"), typeInput, status),
    error,
    el("div", { class: "table-wrap" }, table)));

  let generation = 0;
  async function load() {
    stopFeed();
    const mine = ++generation;
    const type = typeInput.value.trim();
    const query = new URLSearchParams({ limit: "100" });
    if (type) query.set("type", type);
    try {
      const answer = await api("GET", "/v1/activities?" + query.toString());
      if (mine !== generation) return; // a newer load (the filter changed) owns the table
      error.hidden = true;
      body.replaceChildren(...answer.data.map(row));
      if (answer.data.length === 0) {
        body.append(el("tr", {}, el("td", { class: "empty", colspan: 4 }, type ? "No activity of this type." : "No activity yet.")));
      }
      status.textContent = answer.data.length + (answer.data.length === 100 ? "+ " : " ") + "shown · live";
    } catch (problem) {
      if (mine !== generation || !state.csrf) return;
      error.textContent = "Could not load the feed: " + problem.message;
      error.hidden = false;
      status.textContent = "retrying";
    }
    if (mine === generation && state.csrf) state.feedTimer = setTimeout(load, 2000);
  }
  typeInput.addEventListener("input", () => { generation++; load(); });
  load();
}

function row(activity) {
  const when = new Date(activity.occurred_at);
  return el("tr", { class: "activity", "data-id": activity.id },
    el("td", { class: "occurred", title: activity.occurred_at }, isNaN(when) ? activity.occurred_at : when.toLocaleString()),
    el("td", { class: "type" }, activity.type),
    el("td", { class: "email" }, activity.contact_email),
    el("td", { class: "source" }, activity.source));
}

// --- Start ----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  window.addEventListener("hashchange", route);
  try {
    signedIn(await api("GET", "/console/session"));
  } catch (_) {
    signedOut();
  }
});
