// Automations: the list with status and entries, an automation's page (its nodes with live
// per-node counts, activate and pause, its executions), and an execution with its step log.
// A new automation starts as a trigger alone and opens on the canvas.
"use strict";

page({ id: "automations", title: "Automations", render: (args) => (args.length ? renderAutomation(args[0]) : renderAutomations()) });
page({ id: "executions", title: "Execution", hidden: true, render: (args) => renderExecution(args[0]) });

function triggerEntries(automation) {
  const trigger = (automation.graph.nodes || []).find((n) => n.type === "trigger");
  const stats = trigger && automation.stats ? automation.stats[trigger.id] : null;
  return stats ? stats.entered : 0;
}

async function renderAutomations() {
  const body = el("tbody");
  const error = el("p", { id: "automations-error", class: "error", role: "alert" });
  error.hidden = true;
  const name = el("input", { id: "new-automation-name", autocomplete: "off", placeholder: "Welcome series", required: true });
  const create = el("form", { id: "new-automation", class: "inline" },
    el("label", { for: "new-automation-name" }, "New automation"), name, el("button", { type: "submit" }, "Create"));
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const graph = { nodes: [{ id: "trigger-1", type: "trigger", position: { x: 200, y: 40 },
        data: { label: "Trigger", event: "checkout.completed" } }], edges: [] };
      const made = await api("POST", "/v1/automations", { name: name.value.trim(), graph });
      location.hash = href("canvas", made.id);
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  });
  show(el("section", { id: "automations" },
    el("h1", {}, "Automations"),
    create,
    error,
    el("div", { class: "table-wrap" }, el("table", { id: "automations-table" },
      el("thead", {}, el("tr", {}, ...["Name", "Status", "Version", "Entered", "Updated"].map((t) => el("th", { scope: "col" }, t)))),
      body))));
  try {
    const answer = await api("GET", "/v1/automations");
    body.replaceChildren(...answer.data.map((a) => el("tr", { class: "automation", "data-id": a.id },
      el("td", {}, el("a", { href: href("automations", a.id) }, a.name)),
      el("td", {}, a.status), el("td", {}, String(a.version)), el("td", {}, String(triggerEntries(a))), el("td", {}, when(a.updated_at)))));
    if (!answer.data.length) {
      body.append(el("tr", {}, el("td", { class: "empty", colspan: 5 }, "No automations yet.")));
    }
  } catch (problem) {
    error.textContent = "Could not load automations: " + problem.message;
    error.hidden = false;
  }
}

// One automation, refreshed every 2 s: its nodes in graph order with their counts, and its
// newest executions.
function renderAutomation(id) {
  const section = el("section", { id: "automation" }, el("p", { class: "status" }, "Loading…"));
  show(section);
  const error = el("p", { id: "automation-error", class: "error", role: "alert" });
  error.hidden = true;
  const status = el("strong", { id: "automation-status" });
  const actions = el("div", { class: "inline" });
  const nodes = el("tbody");
  const executions = el("tbody");
  // The newest `shown` executions, refreshed live; "Load more" shows 20 more (the API's limit
  // is 1000: past that, the executions API pages by cursor).
  let shown = 20;
  const more = el("button", { id: "more-executions", type: "button", class: "quiet",
    onclick: () => { shown = Math.min(1000, shown + 20); more.disabled = true; load(); } }, "Load more");
  more.hidden = true;
  let drawn = false;
  async function transition(action) {
    error.hidden = true;
    try {
      await api("POST", "/v1/automations/" + encodeURIComponent(id) + "/" + action);
      load();
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  }
  async function load() {
    let automation;
    let runs;
    try {
      automation = await api("GET", "/v1/automations/" + encodeURIComponent(id));
      runs = await api("GET", "/v1/executions?limit=" + shown + "&automation_id=" + encodeURIComponent(id));
    } catch (problem) {
      if (!drawn) {
        section.replaceChildren(el("h1", {}, "Automation " + id), el("p", { class: "error", role: "alert" },
          problem.status === 404 ? "There is no such automation." : "Could not load it: " + problem.message));
        return;
      }
      error.textContent = "Could not refresh: " + problem.message;
      error.hidden = false;
      every(2000, load);
      return;
    }
    if (!drawn) {
      drawn = true;
      section.replaceChildren(el("p", {}, el("a", { href: href("automations") }, "← Automations")),
        el("h1", {}, automation.name), el("p", {}, "Status: ", status), error, actions,
        el("div", { class: "card" }, el("h2", {}, "Nodes"), el("div", { class: "table-wrap" }, el("table", { id: "automation-nodes" },
          el("thead", {}, el("tr", {}, ...["Node", "Type", "Entered", "Completed", "Waiting", "Failed"].map((t) => el("th", { scope: "col" }, t)))),
          nodes))),
        el("div", { class: "card" }, el("h2", {}, "Executions"), el("div", { class: "table-wrap" }, el("table", { id: "automation-executions" },
          el("thead", {}, el("tr", {}, ...["Contact", "Status", "At node", "Started"].map((t) => el("th", { scope: "col" }, t)))),
          executions)), more));
    }
    status.textContent = automation.status + " · version " + automation.version;
    const can = { draft: ["activate"], paused: ["activate"], active: ["pause"] }[automation.status] || [];
    actions.replaceChildren(...can.map((action) => el("button", { id: action + "-automation", type: "button",
      onclick: () => transition(action) }, action === "activate" ? "Activate" : "Pause")),
    el("a", { id: "open-canvas", class: "button", href: href("canvas", automation.id) }, "Edit on the canvas"));
    nodes.replaceChildren(...(automation.graph.nodes || []).map((node) => {
      const s = (automation.stats || {})[node.id] || { entered: 0, completed: 0, waiting: 0, failed: 0 };
      return el("tr", { class: "node", "data-node": node.id },
        el("td", {}, (node.data && node.data.label) || node.id), el("td", {}, node.type),
        el("td", { "data-count": "entered" }, String(s.entered)), el("td", {}, String(s.completed)),
        el("td", {}, String(s.waiting)), el("td", {}, String(s.failed)));
    }));
    executions.replaceChildren(...runs.data.map((x) => el("tr", { class: "execution", "data-id": x.id },
      el("td", {}, el("a", { href: href("executions", x.id) }, x.contact_email)),
      el("td", {}, x.status + (x.dry_run ? " (dry run)" : "")), el("td", {}, x.current_node_id || "—"), el("td", {}, when(x.created_at)))));
    if (!runs.data.length) executions.append(el("tr", {}, el("td", { class: "empty", colspan: 4 }, "No executions yet.")));
    more.hidden = !runs.next_cursor || shown >= 1000;
    more.disabled = false;
    every(2000, load);
  }
  load();
}

// An execution and its step log, refreshed every 2 s while it runs or waits.
async function renderExecution(id) {
  const section = el("section", { id: "execution" }, el("p", { class: "status" }, "Loading…"));
  show(section);
  async function load() {
    let x;
    try {
      x = await api("GET", "/v1/executions/" + encodeURIComponent(id));
    } catch (problem) {
      section.replaceChildren(el("h1", {}, "Execution " + id), el("p", { class: "error", role: "alert" },
        problem.status === 404 ? "There is no such execution." : "Could not load it: " + problem.message));
      return;
    }
    section.replaceChildren(
      el("p", {}, el("a", { href: href("automations", x.automation_id) }, "← Automation " + x.automation_id)),
      el("h1", {}, "Execution " + x.id + " · " + x.contact_email),
      el("p", {}, "Status: ", el("strong", { id: "execution-status" }, x.status), x.wake_up_at ? " · wakes " : "", x.wake_up_at ? when(x.wake_up_at) : ""),
      el("ol", { id: "execution-log", class: "timeline" }, ...x.logs.map((log) => el("li", { class: "log", "data-node": log.node_id || "" },
        when(log.at), " ", el("strong", {}, log.node_id || "—"), " ", el("span", { class: "status" }, log.action + " · " + log.outcome),
        " ", el("span", { class: "message" }, log.message)))));
    if (x.status === "running" || x.status === "waiting") every(2000, load);
  }
  load();
}
