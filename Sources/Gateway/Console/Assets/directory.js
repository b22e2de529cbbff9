// The directory: contacts by search and tag, a page at a time, and a contact's own page with
// its timeline, tags (add, remove), consent, suppression (lift), executions and messages.
"use strict";

page({ id: "contacts", title: "Directory", render: (args) => (args.length ? renderContact(args[0]) : renderDirectory()) });

function renderDirectory() {
  const search = el("input", { id: "contact-search", type: "search", placeholder: "email or name", autocomplete: "off" });
  const tag = el("input", { id: "contact-tag", type: "search", placeholder: "a tag", autocomplete: "off" });
  const list = el("select", { id: "contact-list" }, el("option", { value: "" }, "anyone"));
  // The filters in force, each a chip that removes it.
  const chips = el("ul", { id: "directory-chips", class: "chips", "aria-label": "Filters" });
  const status = el("span", { class: "status", "aria-live": "polite" });
  const error = el("p", { id: "directory-error", class: "error", role: "alert" });
  error.hidden = true;
  const body = el("tbody");
  const more = el("button", { id: "contacts-more", type: "button", class: "quiet" }, "Load more");
  more.hidden = true;
  show(el("section", { id: "directory" },
    el("h1", {}, "Directory"),
    el("div", { class: "toolbar" },
      el("label", { for: "contact-search" }, "Search"), search,
      el("label", { for: "contact-tag" }, "Tag"), tag,
      el("label", { for: "contact-list" }, "In list"), list, status),
    chips,
    error,
    el("div", { class: "table-wrap" }, el("table", { id: "contacts" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "Email"), el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Tags"),
        el("th", { scope: "col" }, "Lifecycle"), el("th", { scope: "col" }, "Consent"),
        el("th", { scope: "col", class: "source" }, "Last activity"))),
      body)),
    el("p", {}, more)));

  let generation = 0;
  let cursor = null;
  async function load(append) {
    const mine = append ? generation : ++generation;
    const query = new URLSearchParams({ limit: "50" });
    if (search.value.trim()) query.set("q", search.value.trim());
    if (tag.value.trim()) query.set("tag", tag.value.trim());
    if (list.value) query.set("list_id", list.value);
    if (append && cursor) query.set("cursor", cursor);
    if (!append) drawChips();
    status.textContent = "Loading…";
    more.disabled = true;
    try {
      const answer = await api("GET", "/v1/contacts?" + query.toString());
      if (mine !== generation) return;
      error.hidden = true;
      const rows = answer.data.map(contactRow);
      if (append) body.append(...rows);
      else body.replaceChildren(...rows);
      if (!body.children.length) body.append(el("tr", {}, el("td", { class: "empty", colspan: 6 }, "No contacts match.")));
      cursor = answer.next_cursor;
      more.hidden = !cursor;
      status.textContent = body.querySelectorAll("tr.contact").length + " shown" + (cursor ? ", more below" : "");
    } catch (problem) {
      if (mine !== generation) return;
      error.textContent = "Could not load contacts: " + problem.message;
      error.hidden = false;
      status.textContent = "";
    } finally {
      more.disabled = false;
    }
  }
  function drawChips() {
    const active = [["search", search, search.value.trim()], ["tag", tag, tag.value.trim()],
      ["list", list, list.value && list.selectedOptions[0].textContent]].filter(([, , text]) => text);
    chips.replaceChildren(...active.map(([name, input, text]) => el("li", { class: "chip", "data-filter": name }, name + ": " + text, " ",
      el("button", { type: "button", class: "link", "aria-label": "Remove the " + name + " filter",
        onclick: () => { input.value = ""; load(false); } }, "×"))));
  }
  // A tag in a row filters by it.
  body.addEventListener("click", (event) => {
    const chip = event.target.closest("button.tag-chip");
    if (!chip) return;
    tag.value = chip.dataset.tag;
    load(false);
  });
  list.addEventListener("change", () => load(false));
  api("GET", "/v1/lists").then((answer) => list.append(...answer.data.map((l) => el("option", { value: l.id }, l.name))),
    (problem) => { error.textContent = "Could not load the smart lists: " + problem.message; error.hidden = false; });
  // Typing waits a moment before asking, so a word is one request, not one per letter.
  let typing = null;
  for (const input of [search, tag]) {
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => load(false), 250);
    });
  }
  more.addEventListener("click", () => load(true));
  load(false);
  search.focus();
}

function contactRow(contact) {
  const name = [contact.first_name, contact.last_name].filter(Boolean).join(" ");
  return el("tr", { class: "contact", "data-email": contact.email },
    el("td", { class: "email" }, el("a", { href: href("contacts", contact.email) }, contact.email)),
    el("td", {}, name || "—"),
    el("td", { class: "tags" }, ...contact.tags.map((t) => el("button", { type: "button", class: "chip tag-chip", "data-tag": t,
      title: "Show contacts tagged " + t }, t))),
    el("td", {}, contact.lifecycle),
    el("td", {}, contact.consent.status + (contact.suppressed ? " · suppressed" : "")),
    el("td", { class: "source" }, when(contact.last_activity_at)));
}

// One contact. Every change goes through the API and then the page is read again, so what it
// shows is what Cortex holds.
async function renderContact(email) {
  const error = el("p", { id: "contact-error", class: "error", role: "alert" });
  error.hidden = true;
  const section = el("section", { id: "contact" }, el("p", { class: "status" }, "Loading…"));
  show(section);
  let contact;
  try {
    contact = await api("GET", "/v1/contacts/" + encodeURIComponent(email));
  } catch (problem) {
    section.replaceChildren(el("h1", {}, email), el("p", { class: "error", role: "alert" },
      problem.status === 404 ? "There is no contact with this email." : "Could not load the contact: " + problem.message),
      el("p", {}, el("a", { href: href("contacts") }, "Back to the directory")));
    return;
  }
  const reload = () => renderContact(contact.email);
  async function change(method, path, body) {
    error.hidden = true;
    try {
      await api(method, path, body);
      reload();
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  }
  const base = "/v1/contacts/" + encodeURIComponent(contact.email);

  const tagInput = el("input", { id: "new-tag", autocomplete: "off", required: true });
  const tagForm = el("form", { id: "add-tag", class: "inline" },
    el("label", { for: "new-tag" }, "Add a tag"), tagInput, el("button", { type: "submit" }, "Add"));
  tagForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (tagInput.value.trim()) change("POST", base + "/tags", { tags: [tagInput.value.trim()] });
  });
  const tags = el("ul", { id: "contact-tags", class: "chips" }, ...contact.tags.map((t) =>
    el("li", { class: "chip", "data-tag": t }, t, " ",
      el("button", { type: "button", class: "link", "aria-label": "Remove tag " + t,
        onclick: () => change("DELETE", base + "/tags/" + encodeURIComponent(t)) }, "×"))));

  const consent = el("select", { id: "consent" },
    ...["unknown", "granted", "revoked"].map((s) => el("option", { value: s, selected: s === contact.consent.status }, s)));
  consent.addEventListener("change", () => change("PUT", base, { consent: consent.value }));
  const suppression = contact.suppressed
    ? el("p", { id: "suppression" }, "Suppressed: " + (contact.suppression && contact.suppression.reason || "yes") + " ",
      el("button", { id: "lift-suppression", type: "button", class: "quiet",
        onclick: () => change("DELETE", "/v1/suppressions/" + encodeURIComponent(contact.email)) }, "Lift suppression"))
    : el("p", { id: "suppression" }, "Not suppressed.");

  const timeline = el("ol", { id: "timeline", class: "timeline" }, el("li", { class: "status" }, "Loading…"));
  const executions = el("ul", { id: "contact-executions" }, el("li", { class: "status" }, "Loading…"));
  const messages = el("ul", { id: "contact-messages" }, el("li", { class: "status" }, "Loading…"));
  const name = [contact.first_name, contact.last_name].filter(Boolean).join(" ");
  section.replaceChildren(
    el("p", {}, el("a", { href: href("contacts") }, "← Directory")),
    el("h1", {}, contact.email, name ? " · " + name : ""),
    error,
    el("div", { class: "grid" },
      el("div", { class: "card" },
        el("h2", {}, "Profile"),
        el("dl", {},
          el("dt", {}, "Lifecycle"), el("dd", {}, contact.lifecycle),
          el("dt", {}, "External id"), el("dd", {}, contact.external_id || "—"),
          el("dt", {}, "Time zone"), el("dd", {}, contact.timezone || "—"),
          el("dt", {}, "Created"), el("dd", {}, when(contact.created_at)),
          el("dt", {}, "Attributes"), el("dd", {}, el("code", {}, JSON.stringify(contact.attributes)))),
        el("h2", {}, "Tags"), tags, tagForm,
        el("h2", {}, el("label", { for: "consent" }, "Consent")), consent,
        el("h2", {}, "Suppression"), suppression),
      el("div", { class: "card" }, el("h2", {}, "Timeline"), timeline)),
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("h2", {}, "Executions"), executions),
      el("div", { class: "card" }, el("h2", {}, "Messages"), messages)));

  const who = encodeURIComponent(contact.email);
  fill(timeline, "/v1/activities?limit=50&email=" + who, (a) =>
    el("li", { class: "activity", "data-id": a.id }, when(a.occurred_at), " ", el("strong", { class: "type" }, a.type),
      " ", el("span", { class: "status" }, a.source)), "No activity.");
  fill(executions, "/v1/executions?limit=20&email=" + who, (x) =>
    el("li", { class: "execution" }, el("a", { href: href("executions", x.id) }, "Automation " + x.automation_id),
      " · " + x.status + " · ", when(x.created_at)), "No executions.");
  fill(messages, "/v1/messages?limit=20&email=" + who, (m) =>
    el("li", {}, (m.subject || "(rendered when sent)") + " · " + m.status + " · ", when(m.created_at)), "No messages.");
}

// Fills a list from a GET answering {data: [...], next_cursor}; "Load more" at its end asks for
// the next page. An error is said in the list itself.
async function fill(list, path, item, empty, cursor) {
  const more = list.querySelector("li.more");
  if (more) more.remove();
  try {
    const answer = await api("GET", path + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    const items = answer.data.map(item);
    if (cursor) list.append(...items);
    else list.replaceChildren(...(items.length ? items : [el("li", { class: "status" }, empty)]));
    if (answer.next_cursor) {
      list.append(el("li", { class: "more" }, el("button", { type: "button", class: "quiet", onclick: (event) => {
        event.target.disabled = true;
        event.target.textContent = "Loading…";
        fill(list, path, item, empty, answer.next_cursor);
      } }, "Load more")));
    }
  } catch (problem) {
    list.append(el("li", { class: "error", role: "alert" }, "Could not load: " + problem.message));
  }
}
