// Campaigns: the list with each one's status and stats, a campaign's page (stats, cancel), and
// the wizard: settings → audience → design → review (test send, send now or at a time).
"use strict";

page({
  id: "campaigns", title: "Campaigns",
  render: (args) => (args[0] === "new" ? renderWizard() : args.length ? renderCampaign(args[0]) : renderCampaigns()),
});

const STATS = ["recipients", "queued", "sent", "failed", "suppressed", "cancelled", "delivered", "opened", "clicked", "bounced",
  "complained", "unsubscribed"];

async function renderCampaigns() {
  const body = el("tbody");
  const error = el("p", { id: "campaigns-error", class: "error", role: "alert" });
  error.hidden = true;
  show(el("section", { id: "campaigns" },
    el("h1", {}, "Campaigns"),
    el("p", {}, el("a", { id: "new-campaign", class: "button", href: href("campaigns", "new") }, "New campaign")),
    error,
    el("div", { class: "table-wrap" }, el("table", { id: "campaigns-table" },
      el("thead", {}, el("tr", {}, ...["Name", "Status", "Recipients", "Sent", "Opened", "Clicked", "Updated"]
        .map((t) => el("th", { scope: "col" }, t)))),
      body))));
  try {
    const answer = await api("GET", "/v1/campaigns");
    body.replaceChildren(...answer.data.map((c) => el("tr", { class: "campaign", "data-id": c.id },
      el("td", {}, el("a", { href: href("campaigns", c.id) }, c.name)),
      el("td", { class: "status-cell" }, c.status),
      el("td", {}, String(c.stats.recipients)), el("td", {}, String(c.stats.sent)),
      el("td", {}, String(c.stats.opened)), el("td", {}, String(c.stats.clicked)),
      el("td", {}, when(c.updated_at)))));
    if (!answer.data.length) body.append(el("tr", {}, el("td", { class: "empty", colspan: 7 }, "No campaigns yet.")));
  } catch (problem) {
    error.textContent = "Could not load campaigns: " + problem.message;
    error.hidden = false;
  }
}

// A campaign: its stats, refreshed every 2 s while it is on its way, and cancel while it can.
async function renderCampaign(id) {
  const section = el("section", { id: "campaign" }, el("p", { class: "status" }, "Loading…"));
  show(section);
  const error = el("p", { id: "campaign-error", class: "error", role: "alert" });
  error.hidden = true;
  const status = el("strong", { id: "campaign-status" });
  const stats = el("dl", { id: "campaign-stats", class: "stats" });
  const actions = el("div", { class: "inline" });
  const chart = el("figure", { id: "campaign-chart", class: "chart" }, el("p", { class: "status" }, "Loading…"));
  let drawn = false;
  async function load() {
    let campaign;
    try {
      campaign = await api("GET", "/v1/campaigns/" + encodeURIComponent(id));
    } catch (problem) {
      section.replaceChildren(el("h1", {}, "Campaign " + id), el("p", { class: "error", role: "alert" },
        problem.status === 404 ? "There is no such campaign." : "Could not load it: " + problem.message));
      return;
    }
    if (!drawn) {
      drawn = true;
      section.replaceChildren(el("p", {}, el("a", { href: href("campaigns") }, "← Campaigns")),
        el("h1", {}, campaign.name), el("p", {}, "Status: ", status, " · Subject: ", el("code", {}, campaign.subject)),
        error, actions, el("div", { class: "card" }, el("h2", {}, "Stats"), stats),
        el("div", { class: "card" }, el("h2", {}, "Opens and clicks over time"), chart));
    }
    drawChart(chart, id);
    status.textContent = campaign.status + (campaign.scheduled_at && campaign.status === "scheduled" ? " for " + new Date(campaign.scheduled_at).toLocaleString() : "");
    stats.replaceChildren(...STATS.map((s) => el("div", { class: "stat" }, el("dt", {}, s), el("dd", { "data-stat": s }, String(campaign.stats[s])))));
    actions.replaceChildren(...(campaign.status === "scheduled" || campaign.status === "sending"
      ? [el("button", { id: "cancel-campaign", type: "button", class: "quiet", onclick: cancel }, "Cancel campaign")] : []));
    if (campaign.status === "scheduled" || campaign.status === "sending") every(2000, load);
  }
  async function cancel() {
    try {
      await api("POST", "/v1/campaigns/" + encodeURIComponent(id) + "/cancel");
      load();
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  }
  load();
}

// The chart of first opens and clicks per hour (per day once the series spans more than four
// days), from /v1/campaigns/{id}/timeline: bars drawn as SVG, the numbers also in a table.
const HOUR = 3600 * 1000;

async function drawChart(figure, id) {
  let bucket = "hour";
  let answer;
  try {
    answer = await api("GET", "/v1/campaigns/" + encodeURIComponent(id) + "/timeline?bucket=hour");
    const times = answer.data.map((p) => Date.parse(p.at));
    if (times.length && (times[times.length - 1] - times[0]) / HOUR > 96) {
      bucket = "day";
      answer = await api("GET", "/v1/campaigns/" + encodeURIComponent(id) + "/timeline?bucket=day");
    }
  } catch (problem) {
    figure.replaceChildren(el("p", { class: "error", role: "alert" }, "Could not load the chart: " + problem.message));
    return;
  }
  if (!answer.data.length) {
    figure.replaceChildren(el("p", { class: "status", id: "chart-empty" }, "No opens or clicks yet."));
    return;
  }
  // Every span from the first to the last, the quiet ones as zero.
  const step = bucket === "day" ? 24 * HOUR : HOUR;
  const byTime = new Map(answer.data.map((p) => [Date.parse(p.at), p]));
  const first = Date.parse(answer.data[0].at), last = Date.parse(answer.data[answer.data.length - 1].at);
  const points = [];
  for (let t = first; t <= last; t += step) points.push(byTime.get(t) || { at: new Date(t).toISOString(), opened: 0, clicked: 0 });
  const label = (p) => bucket === "day" ? new Date(p.at).toLocaleDateString() : new Date(p.at).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

  const width = 640, height = 200, left = 36, bottom = 24, top = 8;
  const plotWidth = width - left - 8, plotHeight = height - top - bottom;
  const most = Math.max(1, ...points.flatMap((p) => [p.opened, p.clicked]));
  const y = (n) => top + plotHeight - (n / most) * plotHeight;
  const slot = plotWidth / points.length;
  const bar = Math.max(1, Math.min(18, slot * 0.4));
  const graph = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart-svg",
    "aria-label": `Opens and clicks per ${bucket}: ${answer.data.reduce((n, p) => n + p.opened, 0)} opened, ${answer.data.reduce((n, p) => n + p.clicked, 0)} clicked` });
  for (const n of new Set([most, Math.round(most / 2), 0])) {
    graph.append(svgEl("line", { x1: left, x2: width - 8, y1: y(n), y2: y(n), class: "grid-line" }),
      svgEl("text", { x: left - 6, y: y(n) + 4, "text-anchor": "end", class: "axis" }, String(n)));
  }
  points.forEach((p, i) => {
    const x = left + i * slot + slot / 2;
    for (const [kind, offset] of [["opened", -bar], ["clicked", 0]]) {
      graph.append(svgEl("rect", { x: x + offset, y: y(p[kind]), width: bar, height: Math.max(0, top + plotHeight - y(p[kind])),
        class: "bar " + kind, "data-at": p.at, "data-kind": kind, "data-count": p[kind] },
      svgEl("title", {}, `${label(p)}: ${p[kind]} ${kind}`)));
    }
  });
  const ticks = points.length > 1 ? [0, points.length - 1] : [0];
  for (const i of ticks) {
    graph.append(svgEl("text", { x: left + i * slot + slot / 2, y: height - 6, "text-anchor": i ? "end" : "start", class: "axis" }, label(points[i])));
  }
  const table = el("table", { id: "chart-table" },
    el("thead", {}, el("tr", {}, ...[bucket === "day" ? "Day" : "Hour", "Opened", "Clicked"].map((t) => el("th", { scope: "col" }, t)))),
    el("tbody", {}, ...answer.data.map((p) => el("tr", {}, el("td", {}, label(p)), el("td", {}, String(p.opened)), el("td", {}, String(p.clicked))))));
  figure.replaceChildren(graph,
    el("figcaption", { class: "legend" }, el("span", { class: "key opened" }, "First opens"), el("span", { class: "key clicked" }, "First clicks"),
      el("span", { class: "status" }, " per " + bucket + " (each contact counted once, when they first opened or clicked)")),
    el("details", {}, el("summary", {}, "The numbers"), el("div", { class: "table-wrap" }, table)));
}

// The wizard keeps one draft; "Create draft" saves it through the API (which validates it and
// says what is wrong), then the review offers a test send and the send itself.
function renderWizard() {
  const draft = { name: "", from: "", subject: "", list_id: "", consent: "granted", html: "", text: "", design: null };
  const steps = ["Settings", "Audience", "Design", "Review"];
  let current = 0;
  let campaignID = null;
  const stepper = el("ol", { id: "wizard-steps", class: "steps" });
  const panel = el("div", { id: "wizard-panel", class: "card" });
  const error = el("p", { id: "wizard-error", class: "error", role: "alert" });
  error.hidden = true;
  const back = el("button", { id: "wizard-back", type: "button", class: "quiet" }, "Back");
  const next = el("button", { id: "wizard-next", type: "button" }, "Next");
  back.addEventListener("click", () => { current -= 1; draw(); });
  next.addEventListener("click", () => { current += 1; draw(); });
  show(el("section", { id: "wizard" }, el("h1", {}, "New campaign"), stepper, error, panel, el("div", { class: "inline" }, back, next)));

  const field = (key, label, attributes) => {
    const input = el(attributes && attributes.multiline ? "textarea" : "input",
      Object.assign({ id: "campaign-" + key, autocomplete: "off" }, attributes && attributes.multiline ? { rows: 10 } : {}, attributes || {}));
    input.removeAttribute("multiline");
    input.value = draft[key] || "";
    input.addEventListener("input", () => { draft[key] = input.value; });
    return [el("label", { for: "campaign-" + key }, label), input];
  };

  // Saves the draft (created on first use, replaced after): the server checks it and says what
  // is wrong, and the preview and the sends work on what it holds.
  async function ensureSaved() {
    const body = { name: draft.name, from: draft.from, subject: draft.subject, html: draft.html, consent: draft.consent };
    if (draft.text) body.text = draft.text;
    if (draft.design !== null) body.design = draft.design;
    if (draft.list_id) body.list_id = Number(draft.list_id);
    const saved = campaignID ? await api("PUT", "/v1/campaigns/" + campaignID, body) : await api("POST", "/v1/campaigns", body);
    campaignID = saved.id;
    return saved;
  }

  async function audience() {
    const select = el("select", { id: "campaign-list" }, el("option", { value: "" }, "Loading lists…"));
    const consent = el("select", { id: "campaign-consent" },
      el("option", { value: "granted", selected: draft.consent === "granted" }, "only contacts who opted in"),
      el("option", { value: "any", selected: draft.consent === "any" }, "everyone not revoked"));
    consent.addEventListener("change", () => { draft.consent = consent.value; });
    panel.replaceChildren(el("div", { class: "form-grid" },
      el("label", { for: "campaign-list" }, "Smart list"), select, el("label", { for: "campaign-consent" }, "Send to"), consent));
    try {
      const answer = await api("GET", "/v1/lists");
      select.replaceChildren(el("option", { value: "" }, "— pick a list —"),
        ...answer.data.map((l) => el("option", { value: l.id, selected: String(l.id) === String(draft.list_id) }, l.name + " (" + l.count + " now)")));
      select.addEventListener("change", () => { draft.list_id = select.value; });
    } catch (problem) {
      error.textContent = "Could not load the lists: " + problem.message;
      error.hidden = false;
    }
  }

  function design() {
    const file = el("input", { id: "unlayer-import", type: "file", accept: "application/json,.json" });
    const imported = el("span", { class: "status", role: "status" });
    file.addEventListener("change", async () => {
      try {
        const exported = JSON.parse(await file.files[0].text());
        if (typeof exported.html !== "string") throw new Error("the file has no \"html\"");
        draft.html = exported.html;
        draft.design = exported.design === undefined ? null : exported.design;
        imported.textContent = "Imported: the HTML below, and the design kept for editing again.";
        design();
      } catch (problem) {
        imported.textContent = "Not an Unlayer export: " + problem.message;
      }
    });
    // The preview is the server's rendering of the saved draft, in a frame without scripts,
    // served under its own policy so the email's inline styles show.
    const frame = el("iframe", { id: "campaign-preview", title: "Preview", sandbox: "" });
    frame.hidden = true;
    const previewButton = el("button", { id: "preview-campaign", type: "button", class: "quiet" }, "Preview");
    previewButton.addEventListener("click", async () => {
      error.hidden = true;
      try {
        await ensureSaved();
        frame.src = "/v1/campaigns/" + campaignID + "/preview?at=" + Date.now();
        frame.hidden = false;
      } catch (problem) {
        error.textContent = "Cannot preview yet: " + problem.message;
        error.hidden = false;
      }
    });
    panel.replaceChildren(el("div", { class: "form-grid" },
      ...field("html", "HTML", { multiline: true, placeholder: "<p>Hi {{contact.first_name}}</p>" }),
      ...field("text", "Plain text (optional)", { multiline: true }),
      el("label", { for: "unlayer-import" }, "Import an Unlayer export"), el("span", {}, file, " ", imported)),
      el("p", { class: "status" }, "{{contact.first_name}} and the other contact fields are filled per recipient; ",
        "{{unsubscribe_url}} places the one-click unsubscribe link (a footer link is added when it is missing)."),
      el("div", { class: "inline" }, previewButton), frame);
  }

  function review() {
    const testTo = el("input", { id: "test-to", type: "email", autocomplete: "off", placeholder: "me@example.com" });
    const at = el("input", { id: "send-at", type: "datetime-local" });
    const result = el("p", { id: "wizard-result", class: "status", role: "status" });
    async function act(work) {
      error.hidden = true;
      try {
        await work();
      } catch (problem) {
        error.textContent = problem.message;
        error.hidden = false;
        result.textContent = "";
      }
    }
    const test = el("button", { id: "send-test", type: "button", class: "quiet" }, "Send test");
    test.addEventListener("click", () => act(async () => {
      await ensureSaved();
      await api("POST", "/v1/campaigns/" + campaignID + "/test", { to: [testTo.value.trim()] });
      result.textContent = "Test sent to " + testTo.value.trim() + ".";
    }));
    const send = el("button", { id: "send-campaign", type: "button" }, "Send");
    send.addEventListener("click", () => act(async () => {
      await ensureSaved();
      const body = at.value ? { at: new Date(at.value).toISOString() } : undefined;
      await api("POST", "/v1/campaigns/" + campaignID + "/send", body);
      location.hash = href("campaigns", campaignID);
    }));
    panel.replaceChildren(el("dl", {},
      el("dt", {}, "Name"), el("dd", {}, draft.name || "—"), el("dt", {}, "From"), el("dd", {}, draft.from || "—"),
      el("dt", {}, "Subject"), el("dd", {}, draft.subject || "—"), el("dt", {}, "List"), el("dd", {}, draft.list_id || "—"),
      el("dt", {}, "HTML"), el("dd", {}, draft.html ? draft.html.length + " characters" : "—")),
      el("div", { class: "form-grid" }, el("label", { for: "test-to" }, "Test to"), el("span", {}, testTo, " ", test),
        el("label", { for: "send-at" }, "Send at (empty: now)"), el("span", {}, at, " ", send)),
      result);
  }

  function draw() {
    error.hidden = true;
    stepper.replaceChildren(...steps.map((s, i) => el("li", { "aria-current": i === current ? "step" : false }, (i + 1) + ". " + s)));
    back.disabled = current === 0;
    next.hidden = current === steps.length - 1;
    if (current === 0) {
      panel.replaceChildren(el("div", { class: "form-grid" }, ...field("name", "Name"), ...field("from", "From", { placeholder: "Shop <shop@example.com>" }),
        ...field("subject", "Subject", { placeholder: "News for {{contact.first_name}}" })));
    } else if (current === 1) audience();
    else if (current === 2) design();
    else review();
  }
  draw();
}
