// The send ledger (every message Cortex queued, with its outcome) and the inbound archive
// (every authenticated delivery, raw, with its verdict), the latter with replay.
"use strict";

page({ id: "messages", title: "Messages", render: renderMessages });
page({ id: "inbound", title: "Inbound", render: renderInbound });

// A filtered table that reloads when a filter changes: filters are [{id, label, options?}],
// columns [{title, cell(row)}]. The API answers the newest first, `limit` at a time; "Load
// more" asks for the next page by the answer's `next_cursor`.
function filteredTable({ id, title, path, filters, columns, rowAttributes, emptyText, limit }) {
  const inputs = filters.map((f) => f.options
    ? el("select", { id: f.id }, el("option", { value: "" }, "any"), ...f.options.map((o) => el("option", { value: o }, o)))
    : el("input", { id: f.id, type: "search", autocomplete: "off", placeholder: f.placeholder || "" }));
  const status = el("span", { class: "status", "aria-live": "polite" });
  const error = el("p", { id: id + "-error", class: "error", role: "alert" });
  error.hidden = true;
  const body = el("tbody");
  const more = el("button", { id: id + "-more", type: "button", class: "quiet" }, "Load more");
  more.hidden = true;
  show(el("section", { id },
    el("h1", {}, title),
    el("div", { class: "toolbar" }, ...filters.flatMap((f, i) => [el("label", { for: f.id }, f.label), inputs[i]]), status),
    error,
    el("div", { class: "table-wrap" }, el("table", { id: id + "-table" },
      el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c.title)))),
      body)),
    el("p", {}, more)));
  let generation = 0;
  let cursor = null;
  // First page (cursor null) replaces the rows; a later page adds to them.
  async function load(next) {
    const mine = next ? generation : ++generation;
    const query = new URLSearchParams({ limit: String(limit) });
    filters.forEach((f, i) => { if (inputs[i].value.trim()) query.set(f.param, inputs[i].value.trim()); });
    if (next) query.set("cursor", cursor);
    status.textContent = "Loading…";
    more.disabled = true;
    try {
      const answer = await api("GET", path + "?" + query.toString());
      if (mine !== generation) return;
      error.hidden = true;
      const rows = answer.data.map((row) => el("tr", rowAttributes(row), ...columns.map((c) => el("td", {}, c.cell(row, () => load())))));
      if (next) body.append(...rows);
      else body.replaceChildren(...rows);
      if (!body.children.length) body.append(el("tr", {}, el("td", { class: "empty", colspan: columns.length }, emptyText)));
      cursor = answer.next_cursor || null;
      more.hidden = !cursor;
      const shown = body.querySelectorAll("tr[data-id]").length;
      status.textContent = shown + (cursor ? " newest shown" : " shown");
    } catch (problem) {
      if (mine !== generation) return;
      error.textContent = "Could not load: " + problem.message;
      error.hidden = false;
      status.textContent = "";
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", () => load(true));
  let typing = null;
  for (const input of inputs) {
    input.addEventListener(input.tagName === "SELECT" ? "change" : "input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => load(), 250);
    });
  }
  load();
}

function renderMessages() {
  filteredTable({
    id: "messages", title: "Messages", path: "/v1/messages", limit: 50, emptyText: "No messages.",
    filters: [
      { id: "message-email", label: "Recipient", param: "email", placeholder: "email" },
      { id: "message-status", label: "Status", param: "status",
        options: ["queued", "sending", "sent", "failed", "suppressed", "cancelled"] },
    ],
    rowAttributes: (m) => ({ class: "message", "data-id": m.id }),
    columns: [
      { title: "Queued", cell: (m) => when(m.created_at) },
      { title: "To", cell: (m) => el("a", { href: href("contacts", m.to) }, m.to) },
      { title: "Subject", cell: (m) => m.subject || (m.metadata && m.metadata.campaign_id ? "campaign " + m.metadata.campaign_id : "—") },
      { title: "Status", cell: (m) => el("span", { class: "message-status" }, m.status) },
      { title: "Provider", cell: (m) => m.provider || "—" },
      { title: "Attempts", cell: (m) => String(m.attempts) },
      { title: "Last error", cell: (m) => m.last_error || "" },
    ],
  });
}

function renderInbound() {
  filteredTable({
    id: "inbound", title: "Inbound", path: "/v1/inbound", limit: 50, emptyText: "Nothing received yet.",
    filters: [
      { id: "inbound-source", label: "Source", param: "source", placeholder: "checkout, postmark, …" },
      { id: "inbound-verdict", label: "Verdict", param: "verdict", options: ["accepted", "duplicate", "rejected"] },
    ],
    rowAttributes: (e) => ({ class: "delivery", "data-id": e.id }),
    columns: [
      { title: "Received", cell: (e) => when(e.received_at) },
      { title: "Source", cell: (e) => e.source },
      { title: "Verdict", cell: (e) => el("span", { class: "verdict" }, e.verdict) },
      { title: "Event id", cell: (e) => e.external_id || "—" },
      { title: "Reason", cell: (e) => e.reason || "" },
      { title: "", cell: (e) => replayButton(e) },
    ],
  });
}

// Replays a delivery through today's normalization; the answer is said next to the button.
function replayButton(delivery) {
  if (delivery.verdict === "duplicate") return "";
  const result = el("span", { class: "status", role: "status" });
  const button = el("button", { type: "button", class: "quiet replay", "aria-label": "Replay delivery " + delivery.id }, "Replay");
  button.addEventListener("click", async () => {
    button.disabled = true;
    result.textContent = "Replaying…";
    try {
      const answer = await api("POST", "/v1/inbound/" + delivery.id + "/replay");
      result.textContent = answer.duplicate ? "Another delivery holds this event."
        : "Done: " + answer.activity_ids.length + " activit" + (answer.activity_ids.length === 1 ? "y" : "ies") + ".";
    } catch (problem) {
      result.textContent = problem.message;
      result.className = "error";
    } finally {
      button.disabled = false;
    }
  });
  return el("span", {}, button, " ", result);
}
