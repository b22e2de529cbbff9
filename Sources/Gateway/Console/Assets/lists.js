// Smart lists: the saved ones with their live counts, and a visual builder of the filter
// language (ENGINE.md §2): all / any groups, "not" on any condition, tag, field and activity
// conditions. Every change asks the server for the count and a sample (nothing is saved until
// "Save"), and the JSON the list will hold is shown as it is built.
"use strict";

page({ id: "lists", title: "Smart lists", render: renderLists });

const FIELDS = ["email", "first_name", "last_name", "external_id", "timezone", "lifecycle", "consent", "suppressed",
  "created_at", "last_activity_at"];
const OPERATORS = ["eq", "neq", "contains", "starts_with", "ends_with", "gt", "gte", "lt", "lte", "exists", "not_exists"];

// The builder's model: a group {match: "all"|"any", not, items: [...]}, and conditions
// {kind: "tag"|"field"|"activity", not, ...}.
function newCondition(kind) {
  if (kind === "group") return { kind: "group", match: "all", not: false, items: [newCondition("tag")] };
  if (kind === "field") return { kind, not: false, field: "lifecycle", op: "eq", value: "customer" };
  if (kind === "activity") return { kind, not: false, type: "checkout.completed", where: "", days: "" };
  return { kind: "tag", not: false, tag: "" };
}

// A value as typed: numbers and true/false keep their type (equality is type-aware).
function typed(text) {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

function toFilter(node) {
  let filter;
  if (node.kind === "group") filter = { [node.match]: node.items.map(toFilter) };
  else if (node.kind === "tag") filter = { tag: node.tag };
  else if (node.kind === "field") {
    filter = { field: node.field, op: node.op };
    if (node.op !== "exists" && node.op !== "not_exists") filter.value = typed(node.value);
  } else {
    const activity = { type: node.type };
    const where = node.where.split(",").map((pair) => pair.split("=")).filter((p) => p.length === 2 && p[0].trim());
    if (where.length) activity.where = Object.fromEntries(where.map(([k, v]) => [k.trim(), typed(v.trim())]));
    if (node.days.trim()) activity.within_days = typed(node.days.trim());
    filter = { activity };
  }
  return node.not ? { not: filter } : filter;
}

// The model of a saved filter, for the shapes the builder writes; null for any other shape
// (such a list is shown as JSON, and edited through the API).
function fromFilter(filter, negated) {
  if (filter === null || typeof filter !== "object") return null;
  const keys = Object.keys(filter);
  if (keys.length !== 1) return filter.field ? fieldNode(filter, negated) : null;
  const key = keys[0];
  const value = filter[key];
  if (key === "not") return negated ? null : fromFilter(value, true);
  if (key === "all" || key === "any") {
    const items = Array.isArray(value) ? value.map((item) => fromFilter(item, false)) : [null];
    return items.includes(null) ? null : { kind: "group", match: key, not: !!negated, items };
  }
  if (key === "tag" && typeof value === "string") return { kind: "tag", not: !!negated, tag: value };
  if (key === "activity" && value && typeof value.type === "string") {
    const where = Object.entries(value.where || {}).filter(([, v]) => typeof v !== "object").map(([k, v]) => k + "=" + v).join(", ");
    return { kind: "activity", not: !!negated, type: value.type, where, days: value.within_days === undefined ? "" : String(value.within_days) };
  }
  return null;
}

function fieldNode(filter, negated) {
  if (typeof filter.field !== "string" || typeof filter.op !== "string") return null;
  return { kind: "field", not: !!negated, field: filter.field, op: filter.op, value: filter.value === undefined ? "" : String(filter.value) };
}

async function renderLists() {
  const lists = el("tbody");
  const listError = el("p", { id: "lists-error", class: "error", role: "alert" });
  listError.hidden = true;
  const builder = el("div", { id: "list-builder" });
  show(el("section", { id: "lists" },
    el("h1", {}, "Smart lists"),
    listError,
    el("div", { class: "table-wrap" }, el("table", { id: "lists-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Members now"), el("th", { scope: "col" }, ""))),
      lists)),
    el("h2", { id: "builder-title" }, "New list"),
    builder));
  async function loadLists() {
    try {
      const answer = await api("GET", "/v1/lists");
      lists.replaceChildren(...answer.data.map((list) => el("tr", { class: "list", "data-id": list.id },
        el("td", { class: "name" }, list.name),
        el("td", { class: "count" }, String(list.count)),
        el("td", {}, el("button", { type: "button", class: "quiet", onclick: () => edit(list) }, "Edit")))));
      if (!answer.data.length) lists.append(el("tr", {}, el("td", { class: "empty", colspan: 3 }, "No smart lists yet.")));
    } catch (problem) {
      listError.textContent = "Could not load the lists: " + problem.message;
      listError.hidden = false;
    }
  }
  function edit(list) {
    const model = fromFilter(list.filter, false);
    document.getElementById("builder-title").textContent = "Edit “" + list.name + "”";
    renderBuilder(builder, { id: list.id, name: list.name, model: model && model.kind === "group" ? model
      : model ? { kind: "group", match: "all", not: false, items: [model] } : null, raw: list.filter }, loadLists);
  }
  renderBuilder(builder, { id: null, name: "", model: { kind: "group", match: "all", not: false, items: [newCondition("activity")] } }, loadLists);
  loadLists();
}

function renderBuilder(container, draft, saved) {
  const count = el("strong", { id: "list-count" }, "…");
  const sample = el("ul", { id: "list-sample", class: "chips" });
  const error = el("p", { id: "list-error", class: "error", role: "alert" });
  error.hidden = true;
  const json = el("pre", { id: "list-json" });
  const name = el("input", { id: "list-name", value: draft.name, autocomplete: "off", required: true });
  const save = el("button", { id: "save-list", type: "submit" }, draft.id ? "Save changes" : "Save list");
  const saveResult = el("span", { class: "status", role: "status" });
  if (!draft.model) {
    container.replaceChildren(el("p", {}, "This list's filter uses shapes the builder does not draw; it is shown as saved:"),
      el("pre", { id: "list-json" }, JSON.stringify(draft.raw, null, 2)));
    return;
  }
  const tree = el("div", { id: "list-tree" });
  const form = el("form", { id: "list-form", class: "card" },
    el("div", { class: "inline" }, el("label", { for: "list-name" }, "Name"), name),
    tree,
    el("p", {}, "Members now: ", count), sample, error,
    el("div", { class: "inline" }, save, saveResult),
    el("details", {}, el("summary", {}, "The filter as JSON"), json));
  container.replaceChildren(form);

  let asked = 0;
  let waiting = null;
  // A structural change redraws the tree; typing in a condition only refreshes the JSON and the
  // count (changed.quiet), so the cursor stays where it is.
  function refresh() {
    const filter = toFilter(draft.model);
    json.textContent = JSON.stringify(filter, null, 2);
    clearTimeout(waiting);
    waiting = setTimeout(() => preview(filter), 300);
  }
  function changed() {
    tree.replaceChildren(groupView(draft.model, null, changed));
    refresh();
  }
  changed.quiet = refresh;
  async function preview(filter) {
    const mine = ++asked;
    count.textContent = "…";
    try {
      const answer = await api("POST", "/v1/lists/preview", { filter });
      if (mine !== asked) return;
      error.hidden = true;
      count.textContent = String(answer.count);
      sample.replaceChildren(...answer.sample.slice(0, 10).map((c) => el("li", { class: "chip" }, c.email)));
    } catch (problem) {
      if (mine !== asked) return;
      count.textContent = "—";
      sample.replaceChildren();
      error.textContent = problem.message;
      error.hidden = false;
    }
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    saveResult.textContent = "Saving…";
    try {
      const body = { name: name.value.trim(), filter: toFilter(draft.model) };
      const list = await api(draft.id ? "PUT" : "POST", draft.id ? "/v1/lists/" + draft.id : "/v1/lists", body);
      draft.id = list.id;
      document.getElementById("builder-title").textContent = "Edit “" + list.name + "”";
      save.textContent = "Save changes";
      saveResult.textContent = "Saved: " + list.count + (list.count === 1 ? " member" : " members") + " now.";
      saved();
    } catch (problem) {
      saveResult.textContent = "";
      error.textContent = problem.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });
  changed();
}

// A group: its match, its items, and buttons to add a condition or a nested group.
function groupView(group, remove, changed) {
  const match = el("select", { class: "match", "aria-label": "Match" },
    el("option", { value: "all", selected: group.match === "all" }, "all of"),
    el("option", { value: "any", selected: group.match === "any" }, "any of"));
  match.addEventListener("change", () => { group.match = match.value; changed(); });
  const add = el("select", { class: "add-condition", "aria-label": "Add a condition" },
    el("option", { value: "" }, "+ add…"), el("option", { value: "tag" }, "tag"), el("option", { value: "field" }, "field"),
    el("option", { value: "activity" }, "activity"), el("option", { value: "group" }, "group"));
  add.addEventListener("change", () => {
    if (!add.value) return;
    group.items.push(newCondition(add.value));
    changed();
  });
  return el("fieldset", { class: "group" },
    el("legend", {}, notBox(group, changed), " Contacts matching ", match),
    el("ul", { class: "conditions" }, ...group.items.map((item, index) => el("li", { class: "condition" },
      item.kind === "group"
        ? groupView(item, () => { group.items.splice(index, 1); changed(); }, changed)
        : conditionView(item, changed),
      group.items.length > 1 && item.kind !== "group"
        ? el("button", { type: "button", class: "link", "aria-label": "Remove condition",
          onclick: () => { group.items.splice(index, 1); changed(); } }, "×") : null))),
    el("div", { class: "inline" }, add,
      remove ? el("button", { type: "button", class: "quiet", onclick: remove }, "Remove group") : null));
}

function notBox(node, changed) {
  const box = el("input", { type: "checkbox", class: "not", checked: node.not, "aria-label": "not" });
  box.addEventListener("change", () => { node.not = box.checked; changed(); });
  return el("label", { class: "not-label" }, box, " not");
}

// One condition's inputs; typing updates the model (and the preview) without redrawing, so
// the cursor stays where it is.
function conditionView(node, changed) {
  const input = (key, attributes) => {
    const field = el("input", Object.assign({ value: node[key], autocomplete: "off", "data-key": key }, attributes));
    field.addEventListener("input", () => { node[key] = field.value; changed.quiet(); });
    return field;
  };
  const parts = [notBox(node, changed), " ", el("span", { class: "kind" }, node.kind), " "];
  if (node.kind === "tag") parts.push(input("tag", { class: "tag", "aria-label": "Tag", placeholder: "P2P" }));
  if (node.kind === "field") {
    const field = el("select", { class: "field", "aria-label": "Field" }, ...FIELDS.concat(FIELDS.includes(node.field) ? [] : [node.field])
      .map((f) => el("option", { value: f, selected: f === node.field }, f)));
    field.addEventListener("change", () => { node.field = field.value; changed(); });
    const op = el("select", { class: "op", "aria-label": "Operator" }, ...OPERATORS.map((o) => el("option", { value: o, selected: o === node.op }, o)));
    op.addEventListener("change", () => { node.op = op.value; changed(); });
    parts.push(field, " ", op, " ", input("value", { class: "value", "aria-label": "Value" }));
  }
  if (node.kind === "activity") {
    parts.push(input("type", { class: "activity-type", "aria-label": "Activity type", placeholder: "checkout.completed" }),
      " where ", input("where", { class: "where", "aria-label": "Where (key=value, ...)", placeholder: "product=P2P" }),
      " within ", input("days", { class: "days", "aria-label": "Within days", placeholder: "any", size: 4 }), " days");
  }
  return el("span", { class: "condition-inputs" }, ...parts);
}
