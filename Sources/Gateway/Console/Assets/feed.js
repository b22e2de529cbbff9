// The activity feed: newest first, refreshed every 2 s while shown, filtered by exact type.
// "Load older" pages back by the API's cursor; live updates pause while older pages are shown
// (new rows would shift the pages), and "Back to live" resumes them.
"use strict";

page({ id: "activity", title: "Activity", render: renderActivity });

function renderActivity() {
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
  const older = el("button", { id: "activity-older", type: "button", class: "quiet" }, "Load older");
  const live = el("button", { id: "activity-live", type: "button", class: "quiet" }, "Back to live");
  older.hidden = live.hidden = true;
  show(el("section", { id: "activity" },
    el("h1", {}, "Activity"),
    el("div", { class: "toolbar" }, el("label", { for: "activity-type" }, "Type"), typeInput, status, live),
    error,
    el("div", { class: "table-wrap" }, table),
    el("p", {}, older)));

  const PAGE = 50;
  let generation = 0;
  let cursor = null;
  let paused = false; // older pages are shown: the newest page is not reloaded over them
  // The newest page, again every 2 s; or (next) the page after the last shown, once.
  async function load(next) {
    stopTimer();
    const mine = next ? generation : ++generation;
    const type = typeInput.value.trim();
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (type) query.set("type", type);
    if (next) query.set("cursor", cursor);
    older.disabled = true;
    try {
      const answer = await api("GET", "/v1/activities?" + query.toString());
      if (mine !== generation || (!next && paused)) return; // a newer load, or older pages, own the table
      error.hidden = true;
      if (next) body.append(...answer.data.map(row));
      else body.replaceChildren(...answer.data.map(row));
      if (!body.children.length) {
        body.append(el("tr", {}, el("td", { class: "empty", colspan: 4 }, type ? "No activity of this type." : "No activity yet.")));
      }
      cursor = answer.next_cursor || null;
      older.hidden = !cursor;
      live.hidden = !next;
      const shown = body.querySelectorAll("tr.activity").length;
      status.textContent = shown + (cursor ? "+ " : " ") + "shown · " + (next ? "paused while older activity is shown" : "live");
    } catch (problem) {
      if (mine !== generation || !state.csrf) return;
      error.textContent = "Could not load the feed: " + problem.message;
      error.hidden = false;
      status.textContent = "retrying";
    } finally {
      older.disabled = false;
    }
    if (!next && !paused && mine === generation && state.csrf) every(2000, () => load());
  }
  older.addEventListener("click", () => { paused = true; stopTimer(); load(true); });
  const resume = () => { paused = false; load(); };
  live.addEventListener("click", resume);
  typeInput.addEventListener("input", resume);
  load();
}

function row(activity) {
  return el("tr", { class: "activity", "data-id": activity.id },
    el("td", { class: "occurred" }, when(activity.occurred_at)),
    el("td", { class: "type" }, activity.type),
    el("td", { class: "email" }, el("a", { href: href("contacts", activity.contact_email) }, activity.contact_email)),
    el("td", { class: "source" }, activity.source));
}

