// The automation canvas: nodes dragged from a palette, moved, connected handle to handle
// (condition: true / false; wait for event: event / timeout), edited in a side panel, and saved
// as the graph JSON of ENGINE.md §4 (React Flow's own shape: a graph saved by a React Flow front
// end opens with its layout, and the fields this canvas does not know are kept as they were).
// The server validates the graph; its error is shown on the offending node.
"use strict";

page({ id: "canvas", title: "Canvas", hidden: true, render: (args) => renderCanvas(args[0]) });

const NODE_TYPES = {
  trigger: { label: "Trigger", data: { event: "checkout.completed" }, handles: ["out"], target: false },
  send_email: { label: "Send email", data: { subject: "Hello {{contact.first_name}}", html: "<p>Hi</p>" }, handles: ["out"] },
  delay: { label: "Delay", data: { days: 1 }, handles: ["out"] },
  condition: { label: "Condition", data: { filter: { tag: "VIP" } }, handles: ["true", "false"] },
  wait_for_event: { label: "Wait for event", data: { event: "checkout.completed", timeout_seconds: 86400 }, handles: ["event", "timeout"] },
  add_tag: { label: "Add tag", data: { tag: "Customer" }, handles: ["out"] },
  remove_tag: { label: "Remove tag", data: { tag: "Lead" }, handles: ["out"] },
  webhook: { label: "Webhook", data: { url: "https://hooks.example.com/cortex" }, handles: ["out"] },
  exit: { label: "Exit", data: {}, handles: [] },
};
const NODE_WIDTH = 200;
const NODE_HEIGHT = 64;

async function renderCanvas(id) {
  const section = el("section", { id: "canvas-page" }, el("p", { class: "status" }, "Loading…"));
  show(section);
  let automation;
  try {
    automation = await api("GET", "/v1/automations/" + encodeURIComponent(id));
  } catch (problem) {
    section.replaceChildren(el("h1", {}, "Automation " + id), el("p", { class: "error", role: "alert" }, problem.message));
    return;
  }
  const graph = JSON.parse(JSON.stringify(automation.graph));
  graph.nodes = graph.nodes || [];
  graph.edges = graph.edges || [];
  let selected = null;
  let connecting = null; // {source, handle} while a connection is drawn
  let pending = null; // applies the side panel's form to its node; Save applies it first

  const board = el("div", { id: "canvas-board", class: "board" });
  const svg = svgEl("svg", { class: "edges" });
  const panel = el("aside", { id: "canvas-panel", class: "card" });
  const error = el("p", { id: "canvas-error", class: "error", role: "alert" });
  error.hidden = true;
  const result = el("span", { id: "canvas-result", class: "status", role: "status" });
  const save = el("button", { id: "save-graph", type: "button" }, "Save graph");
  const palette = el("div", { id: "canvas-palette", class: "palette", "aria-label": "Nodes to drag onto the canvas" },
    ...Object.entries(NODE_TYPES).map(([type, info]) => el("button", { type: "button", class: "palette-item", "data-type": type,
      title: "Drag onto the canvas, or press to add below the last node" }, info.label)));
  section.replaceChildren(
    el("p", {}, el("a", { href: href("automations", id) }, "← " + automation.name)),
    el("h1", {}, "Canvas · " + automation.name),
    el("div", { class: "inline" }, save, result), error,
    el("div", { class: "canvas-layout" }, palette, board, panel),
    simulatePanel(id, graph));
  board.append(svg);

  // Dragging uses pointer events (not HTML drag and drop), so it works with a mouse, a pen, a
  // finger and a test driver alike.
  for (const item of palette.children) {
    item.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      const ghost = el("div", { class: "node ghost" }, item.textContent);
      document.body.append(ghost);
      const move = (e) => { ghost.style.left = e.clientX + 4 + "px"; ghost.style.top = e.clientY + 4 + "px"; };
      move(event);
      const up = (e) => {
        document.removeEventListener("pointermove", move);
        document.removeEventListener("pointerup", up);
        ghost.remove();
        const box = board.getBoundingClientRect();
        if (e.clientX < box.left || e.clientX > box.right || e.clientY < box.top || e.clientY > box.bottom) return;
        addNode(item.dataset.type, e.clientX - box.left + board.scrollLeft - NODE_WIDTH / 2, e.clientY - box.top + board.scrollTop - 20);
      };
      document.addEventListener("pointermove", move);
      document.addEventListener("pointerup", up);
    });
    // Without a pointer (the keyboard, a click in place): the node goes below the lowest one.
    item.addEventListener("click", () => {
      const lowest = graph.nodes.reduce((y, n) => Math.max(y, n.position.y + NODE_HEIGHT), 0);
      addNode(item.dataset.type, 40, graph.nodes.length ? lowest + 40 : 40);
      const view = board.querySelector(`.node[data-node="${CSS.escape(selected)}"]`);
      if (view) view.focus();
    });
  }

  function addNode(type, x, y) {
    let n = 1;
    while (graph.nodes.some((node) => node.id === type + "-" + n)) n++;
    const node = { id: type + "-" + n, type, position: { x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)) },
      data: Object.assign({ label: NODE_TYPES[type].label }, JSON.parse(JSON.stringify(NODE_TYPES[type].data))) };
    graph.nodes.push(node);
    selected = node.id;
    draw();
  }

  function handlesOf(node) {
    return (NODE_TYPES[node.type] || { handles: ["out"] }).handles;
  }

  function handlePoint(node, handle) {
    const handles = handlesOf(node);
    if (handle === "in") return { x: node.position.x + NODE_WIDTH / 2, y: node.position.y };
    const index = Math.max(0, handles.indexOf(handle || "out"));
    return { x: node.position.x + (NODE_WIDTH * (index + 1)) / (handles.length + 1), y: node.position.y + NODE_HEIGHT };
  }

  function draw() {
    // Leaving a node keeps what was typed in its form (applied if it reads; an input that does
    // not, such as broken JSON, leaves the node as it was).
    if (pending && panelFor !== selected) {
      try { pending(); } catch (_) { /* the node keeps its data */ }
      pending = null;
    }
    for (const old of board.querySelectorAll(".node")) old.remove();
    for (const node of graph.nodes) board.append(nodeView(node));
    const arrow = svgEl("defs", {}, svgEl("marker", { id: "edge-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse" }, svgEl("path", { d: "M0,0 L10,5 L0,10 z", class: "edge-arrow" })));
    svg.replaceChildren(arrow, ...graph.edges.map((edge) => {
      const source = graph.nodes.find((n) => n.id === edge.source);
      const target = graph.nodes.find((n) => n.id === edge.target);
      if (!source || !target) return document.createComment("dangling edge");
      const a = handlePoint(source, edge.sourceHandle);
      const b = handlePoint(target, "in");
      const middle = (a.y + b.y) / 2;
      return svgEl("path", {
        d: `M${a.x},${a.y} C${a.x},${middle} ${b.x},${middle} ${b.x},${b.y}`, class: "edge", "marker-end": "url(#edge-arrow)",
        "data-edge": edge.source + ">" + edge.target + (edge.sourceHandle ? ":" + edge.sourceHandle : ""),
      });
    }));
    const extent = graph.nodes.reduce((m, n) => ({ x: Math.max(m.x, n.position.x + NODE_WIDTH + 40), y: Math.max(m.y, n.position.y + NODE_HEIGHT + 40) }), { x: 600, y: 400 });
    svg.setAttribute("width", extent.x);
    svg.setAttribute("height", extent.y);
    drawPanel();
  }

  function nodeView(node) {
    const info = NODE_TYPES[node.type] || { label: node.type, handles: ["out"] };
    const view = el("div", { class: "node" + (node.id === selected ? " selected" : ""), "data-node": node.id, tabindex: 0 },
      el("div", { class: "node-type" }, info.label + summary(node)), el("div", { class: "node-label" }, (node.data && node.data.label) || node.id));
    view.style.left = node.position.x + "px";
    view.style.top = node.position.y + "px";
    if (info.target !== false) {
      const target = el("span", { class: "handle target", "data-handle": "in", title: "in" });
      view.append(target);
    }
    handlesOf(node).forEach((handle, index) => {
      const source = el("span", { class: "handle source", "data-handle": handle, title: handle },
        handle === "out" ? "" : el("span", { class: "handle-label" }, handle));
      source.style.left = ((index + 1) / (handlesOf(node).length + 1)) * 100 + "%";
      source.addEventListener("pointerdown", (event) => {
        event.stopPropagation();
        event.preventDefault();
        connecting = { source: node.id, handle: handle === "out" ? null : handle };
        const up = (e) => {
          document.removeEventListener("pointerup", up);
          const over = document.elementFromPoint(e.clientX, e.clientY);
          const targetView = over && over.closest(".node");
          if (connecting && targetView && targetView.dataset.node !== connecting.source) connect(connecting, targetView.dataset.node);
          connecting = null;
        };
        document.addEventListener("pointerup", up);
      });
      view.append(source);
    });
    view.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      selected = node.id;
      draw();
      const first = panel.querySelector("input, select, textarea");
      if (first) first.focus();
    });
    view.addEventListener("pointerdown", (event) => {
      if (event.target.classList.contains("handle")) return;
      event.preventDefault();
      selected = node.id;
      const start = { x: event.clientX, y: event.clientY, left: node.position.x, top: node.position.y };
      const move = (e) => {
        node.position.x = Math.max(0, Math.round(start.left + e.clientX - start.x));
        node.position.y = Math.max(0, Math.round(start.top + e.clientY - start.y));
        view.style.left = node.position.x + "px";
        view.style.top = node.position.y + "px";
      };
      const up = () => {
        document.removeEventListener("pointermove", move);
        document.removeEventListener("pointerup", up);
        draw();
      };
      document.addEventListener("pointermove", move);
      document.addEventListener("pointerup", up);
    });
    return view;
  }

  // Where each of the node's handles leads, as selects: connecting without dragging.
  function nextSteps(node) {
    const others = graph.nodes.filter((n) => n.id !== node.id && n.type !== "trigger");
    return el("div", { class: "next-steps" }, ...handlesOf(node).map((handle) => {
      const from = { source: node.id, handle: handle === "out" ? null : handle };
      const current = graph.edges.find((e) => e.source === node.id && (e.sourceHandle || null) === from.handle);
      const id = "node-next-" + handle;
      const select = el("select", { id }, el("option", { value: "" }, "— nowhere —"),
        ...others.map((n) => el("option", { value: n.id, selected: current && current.target === n.id }, ((n.data && n.data.label) || n.id) + " (" + n.id + ")")));
      select.addEventListener("change", () => {
        if (select.value) connect(from, select.value);
        else {
          graph.edges = graph.edges.filter((e) => !(e.source === from.source && (e.sourceHandle || null) === from.handle));
          draw();
        }
      });
      return el("div", { class: "field" }, el("label", { for: id }, handle === "out" ? "Then" : "Then, if " + handle), select);
    }));
  }

  function connect(from, targetID) {
    // One edge per source handle: connecting again replaces it.
    graph.edges = graph.edges.filter((e) => !(e.source === from.source && (e.sourceHandle || null) === from.handle));
    let n = 1;
    while (graph.edges.some((e) => e.id === "e" + n)) n++;
    graph.edges.push({ id: "e" + n, source: from.source, target: targetID, sourceHandle: from.handle, targetHandle: null });
    draw();
  }

  // The side panel: the selected node's form (nodeforms.js), apply, and delete.
  // The form is built again only when another node is selected, so what is typed in it and not
  // yet applied survives a move, a new edge or a click on the same node; its "Then" selects
  // follow the graph.
  let panelFor = null;
  let nextSlot = null;
  function drawPanel() {
    const node = graph.nodes.find((n) => n.id === selected);
    if (node && node.id === panelFor && nextSlot) {
      nextSlot.replaceChildren(nextSteps(node));
      return;
    }
    panelFor = node ? node.id : null;
    pending = null;
    if (!node) {
      panel.replaceChildren(el("h2", {}, "Node"), el("p", { class: "status" }, "Drag a node from the palette, or select one."));
      return;
    }
    const form = nodeForm(node);
    pending = () => { node.data = form.read(); };
    const problem = el("p", { id: "node-error", class: "error", role: "alert" });
    problem.hidden = true;
    const apply = el("button", { id: "apply-node", type: "submit" }, "Apply");
    const edit = el("form", { id: "node-form", novalidate: true }, form.view, problem);
    edit.addEventListener("submit", (event) => {
      event.preventDefault();
      try {
        node.data = form.read();
        draw();
      } catch (e) {
        problem.textContent = e.message;
        problem.hidden = false;
      }
    });
    const remove = el("button", { id: "delete-node", type: "button", class: "quiet" }, "Delete node");
    remove.addEventListener("click", () => {
      graph.nodes = graph.nodes.filter((n) => n.id !== node.id);
      graph.edges = graph.edges.filter((e) => e.source !== node.id && e.target !== node.id);
      selected = null;
      draw();
    });
    nextSlot = el("div", {}, nextSteps(node));
    edit.append(nextSlot, el("div", { class: "inline" }, apply, remove));
    panel.replaceChildren(el("h2", {}, ((NODE_TYPES[node.type] || {}).label || node.type) + " · " + node.id), edit);
  }

  save.addEventListener("click", async () => {
    error.hidden = true;
    for (const view of board.querySelectorAll(".node.invalid")) view.classList.remove("invalid");
    result.textContent = "Saving…";
    try {
      if (pending) pending();
    } catch (problem) {
      result.textContent = "";
      error.textContent = "The selected node's form: " + problem.message;
      error.hidden = false;
      return;
    }
    try {
      // The whole definition: PUT replaces it, so what the canvas does not edit goes back as read.
      const body = { name: automation.name, graph };
      for (const key of ["reentry", "exit_when", "timezone"]) if (automation[key] !== null && automation[key] !== undefined) body[key] = automation[key];
      const saved = await api("PUT", "/v1/automations/" + encodeURIComponent(id), body);
      result.textContent = "Saved as version " + saved.version + ".";
    } catch (problem) {
      result.textContent = "";
      error.textContent = problem.message;
      error.hidden = false;
      if (problem.details && problem.details.node_id) {
        const view = board.querySelector(`.node[data-node="${CSS.escape(problem.details.node_id)}"]`);
        if (view) view.classList.add("invalid");
      }
    }
  });
  draw();
}

// What a node does, in a few words beside its type: " · course.completed", " · 2 days".
function summary(node) {
  const d = node.data || {};
  const plural = (n, unit) => n + " " + (n === 1 ? unit.slice(0, -1) : unit);
  const unit = ["days", "hours", "minutes", "seconds"].find((u) => typeof d[u] === "number");
  const words = {
    trigger: d.event, send_email: d.subject, add_tag: d.tag, remove_tag: d.tag, wait_for_event: d.event,
    delay: unit ? plural(d[unit], unit) : d.until ? "until " + d.until : "", webhook: d.url,
  }[node.type];
  return typeof words === "string" && words ? " · " + words : "";
}

// Simulate: an event through the saved graph on the virtual clock (nothing is written), the
// step log with each step's offset. It runs what was last saved, not unsaved edits.
function simulatePanel(id, graph) {
  const trigger = graph.nodes.find((n) => n.type === "trigger");
  const event = el("textarea", { id: "simulate-event", rows: 4 });
  // An event the trigger takes: its type, and the plain values its "where" asks for.
  const where = (trigger && trigger.data && trigger.data.where) || {};
  const data = Object.assign({ email: "test@example.com" },
    Object.fromEntries(Object.entries(where).filter(([, v]) => v === null || typeof v !== "object")));
  event.value = JSON.stringify({ type: (trigger && trigger.data && trigger.data.event) || "checkout.completed", data }, null, 2);
  // What the run knows of the contact beyond what is stored, and events that arrive later
  // (for waits and conditions): both optional, as the API takes them.
  const contact = el("textarea", { id: "simulate-contact", rows: 2, placeholder: '{"timezone": "Europe/Berlin", "tags": ["VIP"]}' });
  const then = el("textarea", { id: "simulate-then", rows: 3,
    placeholder: '[{"after_seconds": 3600, "event": {"type": "checkout.completed", "data": {"product": "Canva"}}}]' });
  const run = el("button", { id: "simulate", type: "button" }, "Simulate");
  const outcome = el("p", { id: "simulate-status", class: "status", role: "status" });
  const log = el("ol", { id: "simulate-log", class: "timeline" });
  run.addEventListener("click", async () => {
    log.replaceChildren();
    outcome.className = "status";
    outcome.textContent = "Simulating…";
    try {
      const read = (area, what) => {
        try { return area.value.trim() ? JSON.parse(area.value) : undefined; } catch (e) { throw new Error(what + ": " + e.message); }
      };
      const body = { event: read(event, "Event"), contact: read(contact, "Contact"), then: read(then, "Later events") };
      const answer = await api("POST", "/v1/automations/" + encodeURIComponent(id) + "/simulate", body);
      outcome.textContent = "Status: " + answer.status + (answer.emails.length ? " · " + answer.emails.length + " email(s)" : "");
      log.replaceChildren(...answer.logs.map((entry) => el("li", { class: "log" },
        el("span", { class: "status" }, "+" + Math.round(entry.offset_ms / 1000) + " s "), el("strong", {}, entry.node_id || "—"),
        " ", entry.message)));
    } catch (problem) {
      outcome.className = "error";
      outcome.textContent = problem.message;
    }
  });
  return el("div", { id: "simulate-panel", class: "card" }, el("h2", {}, "Simulate (the saved graph)"),
    el("label", { for: "simulate-event" }, "Event"), event,
    el("details", {}, el("summary", {}, "With contact fields and later events"),
      el("label", { for: "simulate-contact" }, "Contact (JSON, optional)"), contact,
      el("label", { for: "simulate-then" }, "Later events (JSON, optional)"), then),
    el("div", { class: "inline" }, run), outcome, log);
}
