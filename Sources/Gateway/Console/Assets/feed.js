// The activity feed: newest first, refreshed every 2 s while shown, filtered by exact type.
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
  show(el("section", { id: "activity" },
    el("h1", {}, "Activity"),
    el("div", { class: "toolbar" }, el("label", { for: "activity-type" }, "Type"), typeInput, status),
    error,
    el("div", { class: "table-wrap" }, table)));

  let generation = 0;
  async function load() {
    stopTimer();
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
    if (mine === generation && state.csrf) every(2000, load);
  }
  typeInput.addEventListener("input", () => { generation++; load(); });
  load();
}

function row(activity) {
  return el("tr", { class: "activity", "data-id": activity.id },
    el("td", { class: "occurred" }, when(activity.occurred_at)),
    el("td", { class: "type" }, activity.type),
    el("td", { class: "email" }, el("a", { href: href("contacts", activity.contact_email) }, activity.contact_email)),
    el("td", { class: "source" }, activity.source));
}

