// Settings: how this Cortex is set up (/v1/instance: the store, the mail provider, the sender's
// state and why it is paused, the inbound sources), its readiness (/readyz), and the API keys:
// create one (shown once), revoke one.
"use strict";

page({ id: "settings", title: "Settings", render: renderSettings });

async function renderSettings() {
  const error = el("p", { id: "settings-error", class: "error", role: "alert" });
  error.hidden = true;
  const instance = el("dl", { id: "instance-state" }, el("dt", {}, "Status"), el("dd", {}, "Loading…"));
  const mail = el("dl", { id: "mail-state" });
  const sources = el("ul", { id: "inbound-sources", class: "chips" });
  const keys = el("div", { id: "api-keys" }, el("p", { class: "status" }, "Loading…"));
  show(el("section", { id: "settings" },
    el("h1", {}, "Settings"),
    error,
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("h2", {}, "This instance"), instance),
      el("div", { class: "card" }, el("h2", {}, "Mail"), mail),
      el("div", { class: "card" }, el("h2", {}, "Inbound sources"), sources,
        el("p", { class: "status" }, "A source is on once its secret is set in the server's environment (see the README)."))),
    el("div", { class: "card" }, el("h2", {}, "API keys"), keys)));
  drawKeys(keys);
  let ready, setup;
  try {
    [ready, setup] = await Promise.all([api("GET", "/readyz").catch((problem) => ({ status: "not ready: " + problem.message })),
      api("GET", "/v1/instance")]);
  } catch (problem) {
    error.textContent = "Could not read the set-up: " + problem.message;
    error.hidden = false;
    return;
  }
  const row = (list, term, value, id) => list.append(el("dt", {}, term), el("dd", id ? { id } : {}, value));
  instance.replaceChildren();
  row(instance, "Status", ready.status, "instance-status");
  row(instance, "Database", setup.database === "postgres" ? "PostgreSQL" : "SQLite", "instance-database");
  row(instance, "Public URL", setup.public_url || "not set (campaigns cannot be sent)");
  row(instance, "Inbound archive", "kept " + setup.archive_retention_days + " days");
  const m = setup.mail;
  row(mail, "Provider", { "dry-run": "dry run (nothing leaves Cortex)", postmark: "Postmark", smtp: "SMTP" }[m.provider] || m.provider, "mail-provider");
  const paused = setup.sender.state === "paused";
  row(mail, "Sender", paused ? "paused: " + setup.sender.paused_reason : "sending", "sender-state");
  if (paused) mail.querySelector("#sender-state").className = "error";
  row(mail, "Default from", m.from || "none (each message names its sender)");
  row(mail, "Rate", m.send_rate ? m.send_rate + " messages a second" : "as fast as the provider takes");
  if (m.broadcast_stream) row(mail, "Broadcast stream", m.broadcast_stream);
  if (m.api_url) row(mail, "Postmark API", m.api_url);
  if (m.smtp_server) row(mail, "SMTP server", m.smtp_server);
  sources.replaceChildren(...Object.entries(setup.inbound_sources).map(([name, on]) =>
    el("li", { class: "chip" + (on ? "" : " off"), "data-source": name }, name + (on ? " ✓" : " (off)"))));
}

// The stored keys, newest first, with revoke; a form to create one. A new key is shown once.
async function drawKeys(container) {
  const name = el("input", { id: "new-key-name", autocomplete: "off", required: true, placeholder: "Checkout form", maxlength: 100 });
  const create = el("form", { id: "new-key", class: "inline" }, el("label", { for: "new-key-name" }, "New key named"), name,
    el("button", { type: "submit" }, "Create key"));
  const made = el("div", { id: "new-key-result", role: "status" });
  const problem = el("p", { id: "keys-error", class: "error", role: "alert" });
  problem.hidden = true;
  const body = el("tbody");
  const note = el("p", { class: "status" });
  container.replaceChildren(create, made, problem,
    el("div", { class: "table-wrap" }, el("table", { id: "keys-table" },
      el("thead", {}, el("tr", {}, ...["Name", "Key", "Created", "State", ""].map((t) => el("th", { scope: "col" }, t)))), body)),
    note);
  const fail = (message) => { problem.textContent = message; problem.hidden = false; };

  async function load() {
    let answer;
    try {
      answer = await api("GET", "/v1/keys");
    } catch (e) {
      fail("Could not list the keys: " + e.message);
      return;
    }
    body.replaceChildren(...answer.data.map((key) => el("tr", { class: "api-key" + (key.revoked_at ? " revoked" : ""), "data-id": key.id },
      el("td", {}, key.name), el("td", {}, el("code", {}, key.hint ? "ck_…" + key.hint : "ck_…")), el("td", {}, when(key.created_at)),
      el("td", { class: "key-state" }, key.revoked_at ? el("span", {}, "revoked ", when(key.revoked_at)) : "active"),
      el("td", {}, key.revoked_at ? "" : revokeButton(key)))));
    if (!answer.data.length) body.append(el("tr", {}, el("td", { class: "empty", colspan: 5 }, "No keys made here yet.")));
    note.textContent = answer.configured_keys
      ? answer.configured_keys + (answer.configured_keys === 1 ? " more key comes" : " more keys come") +
        " from CORTEX_API_KEYS; change those in the server's environment."
      : "";
  }

  // Two steps, so a slip does not cut off an integration; revoking the key this console signed
  // in with ends this session too.
  function revokeButton(key) {
    const button = el("button", { type: "button", class: "quiet revoke" }, "Revoke");
    button.addEventListener("click", async () => {
      if (!button.dataset.armed) {
        button.dataset.armed = "1";
        button.textContent = "Revoke “" + key.name + "” now";
        return;
      }
      button.disabled = true;
      button.textContent = "Revoking…";
      try {
        await api("DELETE", "/v1/keys/" + encodeURIComponent(key.id));
        problem.hidden = true;
        load();
      } catch (e) {
        button.disabled = false;
        button.textContent = "Revoke";
        delete button.dataset.armed;
        fail("Could not revoke “" + key.name + "”: " + e.message);
      }
    });
    return button;
  }

  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const button = create.querySelector("button");
    button.disabled = true;
    button.textContent = "Creating…";
    try {
      const key = await api("POST", "/v1/keys", { name: name.value.trim() });
      name.value = "";
      made.replaceChildren(el("div", { class: "card secret" },
        el("p", {}, "The key for “" + key.name + "”. Copy it now: Cortex keeps only its hash and cannot show it again."),
        el("code", { id: "new-key-value" }, key.key)));
      load();
    } catch (e) {
      fail(e.message);
      name.focus();
    } finally {
      button.disabled = false;
      button.textContent = "Create key";
    }
  });
  load();
}
