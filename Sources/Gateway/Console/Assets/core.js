// The Cortex console: a client of Cortex's own /v1 API (ENGINE.md §6). No framework, no build
// step, no third-party code: it is served from the binary. Signing in trades an API key for an
// HttpOnly session cookie; the CSRF token that every write must carry is kept in memory only
// (a reload asks the server for it again).
//
// This file is the core (HTTP, elements, session, routing); each page is a file of its own that
// registers itself with page() and is loaded after this one.
"use strict";

const state = { csrf: null, timer: null };

// The pages, in the order the navigation lists them: {id, title, render(args), hidden?}; the
// URL hash "#/id/arg..." shows page id with the (decoded) args; hidden pages are reached by
// links only.
const pages = [];

function page(definition) {
  pages.push(definition);
}

// --- HTTP -----------------------------------------------------------------------------------

class APIError extends Error {
  // details: the whole error object the server sent (invalid_graph adds node_id).
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
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
    throw new APIError(response.status, error.code, error.message, error);
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

// The same for SVG (the canvas's edges, the campaign chart): an element in SVG's namespace.
function svgEl(tag, attributes, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
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
  stopTimer();
  document.getElementById("session-slot").replaceChildren();
  renderSignIn();
}

function signedIn(session) {
  state.csrf = session.csrf_token;
  const nav = el("nav", { id: "nav", "aria-label": "Console" },
    ...pages.filter((p) => !p.hidden).map((p) => el("a", { href: "#/" + p.id, "data-page": p.id }, p.title)));
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

// --- Routing --------------------------------------------------------------------------------

// A page that refreshes itself schedules with every(); leaving the page stops it.
function stopTimer() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

function every(milliseconds, work) {
  stopTimer();
  state.timer = setTimeout(work, milliseconds);
}

function route() {
  if (!state.csrf) return;
  stopTimer();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const current = pages.find((p) => p.id === parts[0]);
  if (!current) {
    history.replaceState(null, "", "#/" + pages[0].id);
    return route();
  }
  for (const link of document.querySelectorAll("nav#nav a")) {
    if (link.dataset.page === current.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  current.render(parts.slice(1));
}

// Where a page's link goes: "#/contacts/ada%40example.com".
function href(pageID, ...args) {
  return "#/" + [pageID, ...args.map(encodeURIComponent)].join("/");
}

// A date as the reader's locale writes it, with the exact value on hover.
function when(text) {
  if (!text) return el("span", {}, "—");
  const date = new Date(text);
  return el("time", { datetime: text, title: text }, isNaN(date) ? text : date.toLocaleString());
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
