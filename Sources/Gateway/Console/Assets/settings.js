// Settings: what the instance says of itself (/readyz: the database, and the sender, with why
// it is paused when the provider refused its configuration).
"use strict";

page({ id: "settings", title: "Settings", render: renderSettings });

async function renderSettings() {
  const state = el("dl", { id: "instance-state" }, el("dt", {}, "Status"), el("dd", {}, "Loading…"));
  const error = el("p", { id: "settings-error", class: "error", role: "alert" });
  error.hidden = true;
  show(el("section", { id: "settings" },
    el("h1", {}, "Settings"),
    error,
    el("div", { class: "card" }, el("h2", {}, "This instance"), state),
    el("div", { class: "card" }, el("h2", {}, "API keys"),
      el("p", {}, "Create a key on the server with ", el("code", {}, "cortex keys create NAME"),
        " or list keys in CORTEX_API_KEYS; the console signs in with any of them."))));
  try {
    const answer = await api("GET", "/readyz");
    state.replaceChildren(
      el("dt", {}, "Status"), el("dd", { id: "instance-status" }, answer.status),
      el("dt", {}, "Database"), el("dd", {}, answer.database),
      el("dt", {}, "Sender"), el("dd", { id: "sender-state" }, answer.sender));
  } catch (problem) {
    error.textContent = "Cortex is not ready: " + problem.message;
    error.hidden = false;
  }
}
