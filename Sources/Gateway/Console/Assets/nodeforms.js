// The canvas's side panel forms: one per node type (ENGINE.md §4), each field labelled, so a
// node is edited in words rather than JSON. A condition's filter is edited with the smart-list
// builder (lists.js). Fields a form does not know stay in "Other fields (JSON)", so nothing a
// React Flow front end or a later Cortex put in a node's data is lost.
"use strict";

const DURATION_UNITS = [["days", 86400], ["hours", 3600], ["minutes", 60], ["seconds", 1]];

// Each type's form: the data keys it edits, and its fields. A field reads the data into inputs,
// and writes the inputs back (throwing an Error in words when an input cannot be read).
const NODE_FORMS = {
  trigger: { keys: ["event", "where", "audience"], fields: (d) => [
    textField("event", "Event type", d.event, { placeholder: "checkout.completed", required: true }),
    jsonField("where", "Only when the event's data has (JSON)", d.where),
    jsonField("audience", "Only contacts matching (filter JSON)", d.audience)] },
  send_email: { keys: ["subject", "from", "stream", "html", "text"], fields: (d) => [
    textField("subject", "Subject", d.subject, { required: true }),
    textField("from", "From", d.from, { placeholder: "the server's CORTEX_MAIL_FROM" }),
    selectField("stream", "Stream", d.stream, [["", "transactional (default)"], ["broadcast", "broadcast"]]),
    textArea("html", "HTML (Mustache: {{contact.first_name}}, {{event.…}})", d.html, 6),
    textArea("text", "Plain text (optional)", d.text, 3)] },
  add_tag: { keys: ["tag"], fields: (d) => [textField("tag", "Tag to add", d.tag, { required: true })] },
  remove_tag: { keys: ["tag"], fields: (d) => [textField("tag", "Tag to remove", d.tag, { required: true })] },
  delay: { keys: ["seconds", "minutes", "hours", "days", "until", "weekdays"], fields: (d) => [delayField(d)] },
  condition: { keys: ["filter"], fields: (d) => [filterField(d.filter)] },
  wait_for_event: { keys: ["event", "where", "timeout_seconds", "lookback_seconds"], fields: (d) => [
    textField("event", "Event type", d.event, { required: true }),
    jsonField("where", "Only when the event's data has (JSON)", d.where),
    durationField("timeout_seconds", "Give up after", d.timeout_seconds),
    durationField("lookback_seconds", "Also count events from before, up to", d.lookback_seconds)] },
  webhook: { keys: ["url", "secret"], fields: (d) => [
    textField("url", "URL", d.url, { type: "url", required: true }),
    textField("secret", "Signing secret (whsec_…, optional)", d.secret, { type: "password", autocomplete: "off" })] },
  exit: { keys: [], fields: () => [] },
};

// The side panel's form for `node`: {view, read()}; read() answers the node's new data.
function nodeForm(node) {
  const form = NODE_FORMS[node.type] || { keys: [], fields: () => [] };
  const data = node.data || {};
  const label = textField("label", "Label", data.label, {});
  const fields = [label, ...form.fields(data)];
  const other = Object.fromEntries(Object.entries(data).filter(([key]) => key !== "label" && !form.keys.includes(key)));
  const otherJSON = el("textarea", { id: "node-data", rows: 4 });
  otherJSON.value = JSON.stringify(other, null, 2);
  const view = el("div", { class: "node-form" }, ...fields.map((f) => f.view),
    el("details", { id: "node-other", open: Object.keys(other).length > 0 && !NODE_FORMS[node.type] },
      el("summary", {}, "Other fields (JSON)"), otherJSON));
  return {
    view,
    read() {
      let rest;
      try { rest = JSON.parse(otherJSON.value.trim() || "{}"); } catch (e) { throw new Error("Other fields: " + e.message); }
      if (rest === null || typeof rest !== "object" || Array.isArray(rest)) throw new Error("Other fields must be a JSON object.");
      const result = Object.assign({}, rest);
      for (const field of fields) field.write(result);
      return result;
    },
  };
}

// --- fields -------------------------------------------------------------------------------

function fieldID(key) {
  return "node-field-" + key;
}

function labelled(key, text, input, hint) {
  return el("div", { class: "field" }, el("label", { for: fieldID(key) }, text), input, hint || null);
}

// A value the form leaves out of the data when it is empty.
function put(data, key, value) {
  if (value === "" || value === null || value === undefined) delete data[key];
  else data[key] = value;
}

function textField(key, text, value, attributes) {
  const input = el("input", Object.assign({ id: fieldID(key), value: value === undefined ? "" : String(value) }, attributes));
  return { view: labelled(key, text, input), write: (data) => put(data, key, input.value.trim()) };
}

function textArea(key, text, value, rows) {
  const area = el("textarea", { id: fieldID(key), rows });
  area.value = value === undefined ? "" : String(value);
  return { view: labelled(key, text, area), write: (data) => put(data, key, area.value) };
}

function selectField(key, text, value, options) {
  const select = el("select", { id: fieldID(key) }, ...options.map(([v, t]) => el("option", { value: v, selected: (value || "") === v }, t)));
  return { view: labelled(key, text, select), write: (data) => put(data, key, select.value) };
}

function jsonField(key, text, value) {
  const area = el("textarea", { id: fieldID(key), rows: 2, placeholder: "{}" });
  area.value = value === undefined ? "" : JSON.stringify(value);
  return {
    view: labelled(key, text, area),
    write(data) {
      if (!area.value.trim()) return put(data, key, null);
      try { data[key] = JSON.parse(area.value); } catch (e) { throw new Error(text + ": " + e.message); }
    },
  };
}

// A length of time in seconds, shown in the largest unit that divides it.
function durationField(key, text, seconds) {
  const [unit, size] = DURATION_UNITS.find(([, s]) => seconds && seconds % s === 0) || ["hours", 3600];
  const amount = el("input", { id: fieldID(key), type: "number", min: 0, value: seconds ? seconds / size : "", class: "amount" });
  const units = el("select", { "aria-label": text + " (unit)", class: "unit" },
    ...DURATION_UNITS.map(([u]) => el("option", { value: u, selected: u === unit }, u)));
  return {
    view: labelled(key, text, el("span", { class: "inline" }, amount, units)),
    write(data) {
      if (amount.value === "") return put(data, key, null);
      const value = Number(amount.value);
      if (!Number.isFinite(value) || value < 0) throw new Error(text + ": give a number of " + units.value + ".");
      data[key] = Math.round(value * DURATION_UNITS.find(([u]) => u === units.value)[1]);
    },
  };
}

// A delay: n seconds / minutes / hours / days, or until a time of day (on some weekdays).
function delayField(d) {
  const unit = ["days", "hours", "minutes", "seconds"].find((u) => d[u] !== undefined) || (d.until ? "until" : "days");
  const amount = el("input", { id: fieldID("amount"), type: "number", min: 0, value: d[unit] === undefined ? "" : d[unit], class: "amount" });
  const until = el("input", { id: fieldID("until"), value: d.until || "", placeholder: "09:00", pattern: "[0-2][0-9]:[0-5][0-9]" });
  const weekdays = el("input", { id: fieldID("weekdays"), value: (d.weekdays || []).join(","), placeholder: "1,2,3,4,5 (Monday is 1)" });
  const units = el("select", { id: fieldID("unit"), "aria-label": "Wait for" },
    ...["days", "hours", "minutes", "seconds", "until"].map((u) => el("option", { value: u, selected: u === unit }, u === "until" ? "until a time of day" : u)));
  const forAmount = labelled("amount", "Wait", el("span", { class: "inline" }, amount, units));
  const forTime = el("div", {}, labelled("until", "Until (contact's time zone)", until), labelled("weekdays", "On weekdays", weekdays));
  const sync = () => { amount.hidden = units.value === "until"; forTime.hidden = units.value !== "until"; };
  units.addEventListener("change", sync);
  sync();
  return {
    view: el("div", {}, forAmount, forTime),
    write(data) {
      for (const key of ["seconds", "minutes", "hours", "days", "until", "weekdays"]) delete data[key];
      if (units.value === "until") {
        put(data, "until", until.value.trim());
        const days = weekdays.value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
        if (days.some((n) => !Number.isInteger(n))) throw new Error("Weekdays: numbers from 1 (Monday) to 7, separated by commas.");
        if (days.length) data.weekdays = days;
      } else if (amount.value !== "") {
        data[units.value] = Number(amount.value);
      }
    },
  };
}

// A condition's filter, drawn with the smart-list builder when it has a shape the builder draws,
// else as JSON.
function filterField(filter) {
  let model = filter === undefined ? newCondition("group") : fromFilter(filter, false);
  if (model && model.kind !== "group") model = { kind: "group", match: "all", not: false, items: [model] };
  if (!model) return jsonField("filter", "Filter (JSON)", filter);
  const tree = el("div", { id: fieldID("filter"), class: "filter-tree" });
  const changed = () => tree.replaceChildren(groupView(model, null, changed));
  changed.quiet = () => {};
  changed();
  return {
    view: el("div", { class: "field" }, el("span", { class: "label" }, "The contact is in"), tree),
    // A group of one condition is saved as that condition, as a person would write it.
    write: (data) => { data.filter = model.items.length === 1 && !model.not ? toFilter(model.items[0]) : toFilter(model); },
  };
}
