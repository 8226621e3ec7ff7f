// The complaint and praise log (/manage/<branch>/feedback): the period's list with its filters
// (status, category, channel, kind), each row with its linked ticket's wait against the range it
// was told and its deadline; the report tables (causes, rates per 1,000 customers, the share after
// a broken promise, the unhappy-customers estimate, overdue follow-ups), each with a CSV link; and
// the form that records one. One item (/manage/<branch>/feedback/<id>): its history, its ticket's
// story, and the buttons that move it on. From GET/POST /api/v1/branches/<b>/feedback (docs/api.md
// "Complaints and praise"); a session's writes carry the page's CSRF token in X-CSRFToken.
// (No nested template literals and no regular expressions here: the catalogue's extractor drops
// the strings after them.)

import { N_, _, language, ngettext, onLanguageChange } from "./i18n.js";
import {
  Names,
  ReportError,
  el,
  fmtCount,
  fmtDay,
  fmtMinutes,
  fmtShare,
  getJson,
  initNav,
  managePath,
  manageLink,
  page,
  renderTable,
  reportsPath,
  rowObjects,
  setText,
  setTile,
  showBranchName,
  showError,
  toldWords,
  withQuery,
  postJson,
} from "./manage_common.js";
import { COLOURS, baseOption, categoryAxis, draw, fitHeight, rowTip, valueAxis } from "./manage_charts.js";

const DASH = "—";
const body = document.body;
const feedbackId = body.dataset.feedback || null;

// words ------------------------------------------------------------------------------------------

const KINDS = { complaint: N_("Complaint"), praise: N_("Praise") };
const CHANNELS = { in_person: N_("In person"), phone: N_("By phone"), written: N_("In writing"), app: N_("In the app") };
const CATEGORIES = {
  waiting: N_("Waiting"),
  tangibles: N_("Premises and equipment"),
  reliability: N_("Reliability"),
  responsiveness: N_("Responsiveness"),
  assurance: N_("Competence and courtesy"),
  empathy: N_("Care and attention"),
};
const ASPECTS = { result: N_("The result"), process: N_("The way it was handled") };
const STATUSES = { open: N_("Open case"), in_progress: N_("In progress"), resolved: N_("Resolved"), closed: N_("Case closed") };
const OUTCOMES = {
  waiting: N_("still waiting"),
  called: N_("called"),
  serving: N_("being served"),
  done: N_("served"),
  no_show: N_("did not come"),
  cancelled: N_("left"),
  transferred: N_("transferred"),
};

/** The headers of the feedback tables' columns (those the common table labels do not have). */
const HEADERS = {
  id: N_("Entry"),
  recorded: N_("Recorded"),
  kind: N_("Kind"),
  channel: N_("Channel"),
  category: N_("Category"),
  aspect: N_("About"),
  ticket: N_("Ticket"),
  wait: N_("Waited against told"),
  status: N_("Status"),
  owner: N_("Owner"),
  deadline: N_("Deadline"),
  satisfaction: N_("Satisfaction"),
  overdue_h: N_("Overdue (h)"),
  complaints: N_("Complaints"),
  share: N_("Share of complaints"),
  result: N_("About the result"),
  process: N_("About the handling"),
  unspecified: N_("Not said"),
  praise: N_("Praise"),
  day: N_("Day"),
  customers: N_("Customers"),
  complaints_per_1000: N_("Complaints per 1,000"),
  praise_per_1000: N_("Praise per 1,000"),
  text: N_("What was said"),
};

function word(map, value) {
  if (value == null || value === "") return DASH;
  return map[value] ? _(map[value]) : String(value);
}

/** Left-align the columns of words the common table renderer takes for numbers. */
function wordColumns(node, keys = TEXT_KEYS) {
  if (!node) return;
  for (const cell of node.querySelectorAll(".num[data-column]")) if (keys.has(cell.dataset.column)) cell.classList.remove("num");
}

const TEXT_KEYS = new Set(["id", "recorded", "kind", "channel", "category", "aspect", "wait", "status", "owner", "deadline", "text"]);

function headers(columns) {
  const out = {};
  for (const key of columns) if (HEADERS[key]) out[key] = _(HEADERS[key]);
  return out;
}

/** "2026-03-02 11:00" of a timestamp with its offset (the branch's local time, as recorded). */
function localTime(ts) {
  if (!ts) return DASH;
  return ts.slice(0, 10) + " " + ts.slice(11, 16);
}

/** A datetime-local input's value as ISO 8601 with the browser's offset ("" stays null). */
function withOffset(value) {
  if (!value) return null;
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return value;
  const minutes = -when.getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  const seconds = value.length === 16 ? ":00" : "";
  return value + seconds + sign + hh + ":" + mm;
}

function minutesWords(value) {
  return value == null ? DASH : _("%(num)s min", { num: fmtMinutes(value) });
}

// the API ----------------------------------------------------------------------------------------

function feedbackPath(rest = "") {
  const base = page.root + "/api/v1/branches/" + encodeURIComponent(page.branch) + "/feedback";
  return rest ? base + "/" + rest : base;
}


/** Show a write's error at its field (`<form>-<field>-error`), or in the form's own line. */
function fieldErrors(form, error) {
  for (const node of document.querySelectorAll("[id^='" + form + "-'][id$='-error']")) {
    node.hidden = true;
    setText(node, "");
  }
  for (const input of document.querySelectorAll("#" + form + "-form [aria-invalid]")) input.removeAttribute("aria-invalid");
  if (!error) return;
  let box = error.field ? document.getElementById(form + "-" + error.field + "-error") : null;
  if (!box) box = document.getElementById(form + "-form-error") || document.getElementById(form + "-status-error");
  if (box) {
    setText(box, error.message);
    box.hidden = false;
  }
  const input = error.field ? document.querySelector("#" + form + "-form [name='" + error.field + "']") : null;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

// the list page -----------------------------------------------------------------------------------

const FILTER_KEYS = ["from", "to", "kind", "status", "category", "channel"];

const list = { payload: null, query: {}, tickets: null, names: new Names(null) };

function queryFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const out = {};
  for (const key of FILTER_KEYS) if (params.get(key)) out[key] = params.get(key);
  return out;
}

function queryText(query, withLang = false) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (query[key]) params.set(key, query[key]);
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (withLang && lang) params.set("lang", lang);
  return params.toString();
}

function itemLink(id) {
  return manageLink("mg-fb-id", id, managePath(page.branch, "feedback/" + encodeURIComponent(id)));
}

function ticketLink(ticket, day) {
  return manageLink("mg-ticket-link ticket-label", ticket, managePath(page.branch, "tickets/" + encodeURIComponent(day) + "/" + encodeURIComponent(ticket)));
}

/** The linked ticket's wait against the top of what it was told, with the verdict. */
function waitNode(row) {
  if (row.ticket == null) return document.createTextNode(DASH);
  const box = el("span", "mg-fb-wait");
  if (row.wait_min == null) {
    box.append(el("span", null, _("not in the records")));
    return box;
  }
  const told = row.told_high_min == null ? _("nothing told") : _("told up to %(num)s", { num: minutesWords(row.told_high_min) });
  box.append(el("span", null, minutesWords(row.wait_min) + " · " + told));
  if (row.broken_promise === 1 || row.broken_promise === true) {
    const flag = el("span", "mg-flag mg-fb-broken", _("Broken promise"));
    flag.dataset.tone = "warn";
    box.append(flag);
  } else if (row.broken_promise === 0 || row.broken_promise === false) {
    box.append(el("span", "mg-fb-kept", _("Promise kept")));
  }
  return box;
}

function deadlineNode(row) {
  if (!row.deadline) return document.createTextNode(DASH);
  const box = el("span", "mg-fb-deadline", localTime(row.deadline));
  if (row.overdue === 1 || row.overdue === true) {
    const flag = el("span", "mg-flag mg-fb-overdue", _("Overdue"));
    flag.dataset.tone = "warn";
    box.append(" ", flag);
  }
  return box;
}

function statusNode(value) {
  const chip = el("span", "mg-fb-status", word(STATUSES, value));
  chip.dataset.status = value || "";
  return chip;
}

function renderList() {
  const source = list.payload.tables.feedback;
  // the status and the promise first: on a phone the table scrolls sideways
  const columns = ["id", "status", "kind", "category", "ticket", "wait", "deadline", "owner", "channel", "recorded"];
  const rows = rowObjects(source);
  const shown = { columns, rows: rows.map((r) => columns.map((c) => (c === "wait" ? r : c === "deadline" ? r : r[c]))) };
  const node = renderTable(
    document.getElementById("feedback-table"),
    shown,
    {
      empty: _("Nothing was recorded in this period."),
      headers: headers(columns),
      caption: _("Complaints and praise of the period"),
      cell: {
        id: (value) => itemLink(value),
        ticket: (value, row) => (value ? ticketLink(value, row.wait.ticket_day || row.wait.day) : document.createTextNode(DASH)),
        wait: (value) => waitNode(value),
        deadline: (value) => deadlineNode(value),
        status: (value) => statusNode(value),
      },
      format: {
        recorded: (value) => localTime(value),
        kind: (value) => word(KINDS, value),
        category: (value) => word(CATEGORIES, value),
        channel: (value) => word(CHANNELS, value),
        owner: (value) => value || DASH,
      },
      rowAttrs: (row) => ({
        "data-kind": row.kind,
        "data-broken": row.wait.broken_promise === 1 ? "1" : "0",
        "data-overdue": row.wait.overdue === 1 ? "1" : "0",
      }),
    },
  );
  wordColumns(node);
}

function renderOverdue() {
  const source = list.payload.tables.overdue;
  const columns = ["id", "kind", "category", "status", "owner", "deadline", "overdue_h", "recorded"];
  const node = renderTable(document.getElementById("overdue-table"), source, {
    columns,
    empty: _("No follow-up is past its deadline."),
    headers: headers(columns),
    caption: _("Follow-ups past their deadline"),
    cell: { id: (value) => itemLink(value), status: (value) => statusNode(value) },
    format: {
      kind: (value) => word(KINDS, value),
      category: (value) => word(CATEGORIES, value),
      owner: (value) => value || DASH,
      deadline: (value) => localTime(value),
      recorded: (value) => localTime(value),
      overdue_h: (value) => (value == null ? DASH : Number(value).toFixed(1)),
    },
  });
  wordColumns(node);
}

function renderCauses() {
  const source = list.payload.tables.causes;
  const rows = rowObjects(source);
  const node = fitHeight(document.getElementById("causes-chart"), rows.length, 34, 90);
  const labels = rows.map((r) => word(CATEGORIES, r.category));
  const series = [
    ["result", _("About the result"), COLOURS.danger],
    ["process", _("About the handling"), COLOURS.paused],
    ["unspecified", _("Not said"), COLOURS.faint],
  ].map(([key, name, colour]) => ({ type: "bar", name, stack: "complaints", data: rows.map((r) => r[key]), itemStyle: { color: colour }, barMaxWidth: 22 }));
  series.push({ type: "bar", name: _("Praise"), data: rows.map((r) => r.praise), itemStyle: { color: COLOURS.idle }, barMaxWidth: 22 });
  draw(
    node,
    baseOption({
      tooltip: rowTip(rows, (row, params) => [
        ...params.map((p) => ({ colour: p.color, label: p.seriesName, value: String(p.value ?? 0) })),
        { label: _("Share of complaints"), value: fmtShare(row.share) },
      ]),
      xAxis: valueAxis({ minInterval: 1 }),
      yAxis: categoryAxis(labels, { inverse: true, axisLabel: { color: COLOURS.text, width: 130, overflow: "truncate" } }),
      series,
    }),
    { empty: !rows.length },
  );
  const columns = source ? source.columns : [];
  const table = renderTable(document.getElementById("causes-table"), source, {
    empty: _("No complaints or praise in this period."),
    headers: headers(columns),
    caption: _("Causes of complaints"),
    format: { category: (value) => word(CATEGORIES, value), share: (value) => fmtShare(value) },
  });
  wordColumns(table);
}

function dayLabel(value) {
  return value === "total" ? _("All days") : fmtDay(value);
}

function renderRates() {
  const source = list.payload.tables.rates;
  const rows = rowObjects(source);
  const days = rows.filter((r) => r.day !== "total");
  const per = (value) => (value == null ? null : value);
  draw(
    document.getElementById("rates-chart"),
    baseOption({
      tooltip: rowTip(days, (row) => [
        { colour: COLOURS.danger, label: _("Complaints per 1,000"), value: row.complaints_per_1000 == null ? DASH : String(row.complaints_per_1000) },
        { colour: COLOURS.idle, label: _("Praise per 1,000"), value: row.praise_per_1000 == null ? DASH : String(row.praise_per_1000) },
        { label: _("Customers"), value: String(row.customers) },
        { label: _("Complaints"), value: String(row.complaints) },
      ]),
      xAxis: categoryAxis(days.map((r) => fmtDay(r.day))),
      yAxis: valueAxis({ name: _("per 1,000 customers") }),
      series: [
        { type: "bar", name: _("Complaints per 1,000"), data: days.map((r) => per(r.complaints_per_1000)), itemStyle: { color: COLOURS.danger }, barMaxWidth: 28 },
        { type: "bar", name: _("Praise per 1,000"), data: days.map((r) => per(r.praise_per_1000)), itemStyle: { color: COLOURS.idle }, barMaxWidth: 28 },
      ],
    }),
    { empty: !days.some((r) => r.complaints_per_1000 != null || r.praise_per_1000 != null) },
  );
  const columns = source ? source.columns : [];
  renderTable(document.getElementById("rates-table"), source, {
    empty: _("No customers or feedback in this period."),
    headers: headers(columns),
    caption: _("Per 1,000 customers"),
    format: {
      day: (value) => dayLabel(value),
      complaints_per_1000: (value) => (value == null ? DASH : Number(value).toFixed(1)),
      praise_per_1000: (value) => (value == null ? DASH : Number(value).toFixed(1)),
    },
    rowAttrs: (row) => (row.day === "total" ? { "data-total": "1" } : {}),
  });
}

function renderPromises() {
  const t = rowObjects(list.payload.tables.promises)[0] || {};
  setTile("fb-waiting", fmtCount(t.waiting_complaints), _("complaints in the category waiting"));
  setTile("fb-linked", fmtCount(t.linked_to_a_told_ticket), _("their ticket was told a range"));
  setTile("fb-broken", fmtCount(t.after_a_broken_promise), _("waited past the top of it"), t.after_a_broken_promise ? "warn" : "");
  setTile("fb-broken-share", fmtShare(t.share_after_broken_promise), _("of the linked ones"));
}

function renderEstimate() {
  const t = rowObjects(list.payload.tables.estimate)[0] || {};
  setTile("fb-estimate", t.estimated_unhappy == null ? DASH : "≈ " + t.estimated_unhappy, _("an estimate, not a count"));
  setTile("fb-promises-broken", fmtCount(t.broken_promises), _("waits past the top of the range told"));
  setTile("fb-complaints", fmtCount(t.complaints), _("formal complaints in the period"));
  const share = t.complaining_share == null ? 0.05 : t.complaining_share;
  setText(
    document.getElementById("estimate-assumption"),
    _(
      "An estimate, not a count: it assumes that each broken promise made one customer unhappy and that about %(share)s of unhappy customers complain formally, so it is the broken promises divided by %(ratio)s.",
      { share: fmtShare(share, 0), ratio: String(share) },
    ),
  );
}

function setCsv(name) {
  const link = document.getElementById(name + "-csv");
  if (!link) return;
  link.href = withQuery(feedbackPath("report/" + encodeURIComponent(name) + ".csv"), queryText(list.query));
  link.hidden = false;
}

function periodWords(payload) {
  const { from, to } = payload.period;
  const days = Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86400000) + 1;
  const parts = [from === to ? fmtDay(from) : fmtDay(from) + " – " + fmtDay(to) + " (" + ngettext("%(num)s day", "%(num)s days", days) + ")"];
  const f = payload.filters || {};
  if (f.kind) parts.push(word(KINDS, f.kind));
  if (f.status) parts.push(word(STATUSES, f.status));
  if (f.category) parts.push(word(CATEGORIES, f.category));
  if (f.channel) parts.push(word(CHANNELS, f.channel));
  parts.push(ngettext("%(num)s entry listed", "%(num)s entries listed", payload.items.length));
  return parts.join(" · ");
}

function renderPage() {
  if (!list.payload) return;
  showBranchName(list.names, _("Complaints and praise"));
  setText(document.getElementById("period-summary"), periodWords(list.payload));
  renderList();
  renderOverdue();
  renderCauses();
  renderRates();
  renderPromises();
  renderEstimate();
  for (const name of ["feedback", "overdue", "causes", "rates", "promises", "estimate"]) setCsv(name);
}

let loading = 0;

async function loadList(query) {
  const ticket = ++loading;
  const main = document.getElementById("feedback");
  body.dataset.loading = "1";
  const filters = document.getElementById("filter-form");
  try {
    const payload = await getJson(withQuery(feedbackPath(), queryText(query)));
    if (ticket !== loading) return;
    list.payload = payload;
    list.query = { ...query, from: payload.period.from, to: payload.period.to };
    const text = queryText(list.query, true);
    window.history.replaceState(null, "", withQuery(window.location.pathname, text) + window.location.hash);
    for (const key of FILTER_KEYS) filters.elements[key].value = list.query[key] || "";
    for (const input of filters.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    showError(null);
    delete main.dataset.error;
    renderPage();
  } catch (error) {
    if (ticket !== loading) return;
    showError(error);
    const input = error.field ? filters.elements[error.field] : null;
    if (input) input.setAttribute("aria-invalid", "true");
  } finally {
    if (ticket === loading) {
      delete body.dataset.loading;
      body.dataset.loaded = "1";
    }
  }
}

// the form that records one -------------------------------------------------------------------------

function ticketOption(t) {
  const parts = [t.ticket, list.names.service(t.service)];
  if (t.wait_min != null) parts.push(_("waited %(num)s", { num: minutesWords(t.wait_min) }));
  if (t.told_high_min != null) parts.push(_("told up to %(num)s", { num: minutesWords(t.told_high_min) }));
  if (t.broken_promise) parts.push(_("broken promise"));
  if (t.outcome && OUTCOMES[t.outcome]) parts.push(_(OUTCOMES[t.outcome]));
  const option = el("option", null, parts.join(" · "));
  option.value = t.ticket;
  return option;
}

function fillTickets() {
  const select = document.getElementById("record-ticket");
  const wanted = select.value;
  const none = el("option", null, _("No ticket"));
  none.value = "";
  const tickets = (list.tickets && list.tickets.tickets) || [];
  select.replaceChildren(none, ...tickets.map(ticketOption));
  if (tickets.some((t) => t.ticket === wanted)) select.value = wanted;
  const note = document.getElementById("record-ticket-note");
  if (!list.tickets) setText(note, "");
  else if (!list.tickets.day) setText(note, _("No day is recorded yet: there is no ticket to link."));
  else setText(note, ngettext("%(num)s ticket issued on %(day)s.", "%(num)s tickets issued on %(day)s.", tickets.length, { day: fmtDay(list.tickets.day) }));
}

async function loadTickets(day) {
  const note = document.getElementById("record-ticket-note");
  try {
    const params = new URLSearchParams();
    if (day) params.set("day", day);
    const answer = await getJson(withQuery(feedbackPath("tickets"), params.toString()));
    list.tickets = answer;
    list.names = new Names(answer.config);
    const input = document.getElementById("record-ticket-day");
    if (answer.day) input.value = answer.day;
    if (answer.days.length) {
      input.min = answer.days[0];
      input.max = answer.days[answer.days.length - 1];
    }
    fillTickets();
    if (list.payload) showBranchName(list.names, _("Complaints and praise"));
  } catch (error) {
    list.tickets = null;
    fillTickets();
    setText(note, error.message);
  }
}

function readRecord(form) {
  const f = form.elements;
  const out = { kind: f.kind.value, channel: f.channel.value, category: f.category.value, text: f.text.value.trim() };
  if (f.aspect.value) out.aspect = f.aspect.value;
  if (f.ticket.value) {
    out.ticket = f.ticket.value;
    if (f.ticket_day.value) out.ticket_day = f.ticket_day.value;
  }
  if (f.owner.value.trim()) out.owner = f.owner.value.trim();
  const deadline = withOffset(f.deadline.value);
  if (deadline) out.deadline = deadline;
  return out;
}

/** `query` with its period stretched to `day` (the day of what was just recorded), at most a year. */
function periodWith(query, day) {
  if (!day || !query.from || !query.to || (query.from <= day && day <= query.to)) return query;
  const to = day > query.to ? day : query.to;
  let from = day < query.from ? day : query.from;
  const span = (Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86400000;
  if (span > 365) from = new Date(Date.parse(to + "T00:00:00Z") - 6 * 86400000).toISOString().slice(0, 10);
  return { ...query, from, to };
}

function startRecordForm() {
  const form = document.getElementById("record-form");
  const done = document.getElementById("record-done");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("record-submit");
    button.disabled = true;
    setText(done, "");
    fieldErrors("record", null);
    try {
      const answer = await postJson(feedbackPath(), readRecord(form));
      const id = answer && answer.event ? answer.event.id : null;
      done.replaceChildren(el("span", null, _("Recorded as %(id)s.", { id: id || DASH })));
      if (id) done.append(" ", itemLink(id));
      form.elements.text.value = "";
      form.elements.ticket.value = "";
      form.elements.owner.value = "";
      form.elements.deadline.value = "";
      await loadList(periodWith(list.query, answer && answer.event && answer.event.ts ? answer.event.ts.slice(0, 10) : null));
    } catch (error) {
      fieldErrors("record", error);
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("record-ticket-day").addEventListener("change", (event) => {
    if (event.target.value) loadTickets(event.target.value);
  });
}

function startListPage() {
  const filters = document.getElementById("filter-form");
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = {};
    for (const key of FILTER_KEYS) if (filters.elements[key].value) query[key] = filters.elements[key].value;
    window.history.pushState(null, "", withQuery(window.location.pathname, queryText(query, true)));
    loadList(query);
  });
  for (const key of ["kind", "status", "category", "channel"]) filters.elements[key].addEventListener("change", () => filters.requestSubmit());
  window.addEventListener("popstate", () => loadList(queryFromUrl()));
  startRecordForm();
  onLanguageChange(() => {
    renderPage();
    fillTickets();
  });
  loadList(queryFromUrl());
  loadTickets(null);
}

// one item --------------------------------------------------------------------------------------------

const item = { data: null, story: null, names: new Names(null) };

/** Where each status may go (core/branch.py FEEDBACK_TRANSITIONS, without staying). */
const NEXT = {
  open: ["in_progress", "resolved", "closed"],
  in_progress: ["resolved", "closed"],
  resolved: ["open", "in_progress", "closed"],
  closed: ["open"],
};

function changeWords(change, previous) {
  if (change.type === "feedback_recorded") return _("Recorded");
  if (previous && change.status !== previous) return _("Now: %(status)s", { status: word(STATUSES, change.status) });
  return _("Details changed");
}

function renderHistory() {
  const listNode = document.getElementById("history-list");
  let previous = null;
  const entries = item.data.history.map((change) => {
    const li = el("li", "mg-story-entry");
    li.dataset.own = "1";
    li.dataset.kind = change.type === "feedback_recorded" ? "issued" : "fb-" + change.status;
    const time = el("p", "mg-story-time");
    time.append(el("time", null, localTime(change.ts)));
    li.append(time, el("p", "mg-story-text", changeWords(change, previous)));
    const details = [];
    if (change.by) details.push(_("by %(name)s", { name: change.by }));
    if (change.owner) details.push(_("owner %(name)s", { name: change.owner }));
    if (change.deadline) details.push(_("follow up by %(time)s", { time: localTime(change.deadline) }));
    if (change.satisfaction != null) details.push(_("satisfaction %(num)s of 5", { num: change.satisfaction }));
    if (details.length) li.append(el("p", "mg-story-detail", details.join(" · ")));
    if (change.note) li.append(el("p", "mg-story-detail mg-fb-note", change.note));
    previous = change.status;
    return li;
  });
  listNode.replaceChildren(...entries);
}

function renderStory() {
  const data = item.data;
  const none = document.getElementById("item-no-ticket");
  const box = document.getElementById("item-story-body");
  if (!data.ticket) {
    none.hidden = false;
    box.hidden = true;
    return;
  }
  none.hidden = true;
  box.hidden = false;
  const story = item.story || data.story;
  const link = document.getElementById("item-story-link");
  const path = managePath(page.branch, "tickets/" + encodeURIComponent(data.ticket_day) + "/" + encodeURIComponent(data.ticket));
  const lang = new URLSearchParams(window.location.search).get("lang");
  link.href = lang ? withQuery(path, "lang=" + encodeURIComponent(lang)) : path;
  if (!story) {
    setTile("story-service", DASH, _("the records have no such ticket"));
    setTile("story-told", DASH);
    setTile("story-waited", DASH);
    setTile("story-verdict", DASH);
    return;
  }
  const told = story.told_high_s == null ? null : toldWords(story.told ? story.told[0] / 60 : 0, story.told_high_s / 60);
  setTile("story-service", item.names.service(story.service), data.ticket + " · " + fmtDay(data.ticket_day));
  setTile("story-told", told || DASH, told ? "" : _("no range in the log"));
  setTile("story-waited", minutesWords(Math.round(story.wait_s / 6) / 10), _("from issue to its first call"));
  if (data.broken_promise === true) setTile("story-verdict", _("Broken"), _("by %(over)s", { over: minutesWords(Math.round((data.wait_s - data.told_high_s) / 6) / 10) }), "warn");
  else if (data.broken_promise === false) setTile("story-verdict", _("Kept"), "", "good");
  else setTile("story-verdict", DASH, _("nothing to keep"));
}

function renderItem() {
  const data = item.data;
  if (!data) return;
  showBranchName(item.names, data.id, _("Complaints and praise"));
  setText(document.getElementById("item-recorded"), _("recorded %(time)s", { time: localTime(data.recorded_ts) }));
  const kind = word(KINDS, data.kind) + " · " + word(CATEGORIES, data.category);
  setTile("item-kind", kind, word(CHANNELS, data.channel) + (data.aspect ? " · " + word(ASPECTS, data.aspect) : ""), data.kind === "complaint" ? "" : "good");
  setTile("item-status", word(STATUSES, data.status), "", data.status === "closed" || data.status === "resolved" ? "good" : "");
  document.getElementById("tile-item-status").dataset.status = data.status;
  setTile("item-owner", data.owner || DASH, data.owner ? "" : _("nobody yet"));
  setTile("item-deadline", data.deadline ? localTime(data.deadline) : DASH, data.overdue ? _("overdue") : "", data.overdue ? "warn" : "");
  if (data.ticket) {
    const note = data.wait_s == null ? _("not in the records") : _("waited %(num)s", { num: minutesWords(Math.round(data.wait_s / 6) / 10) });
    setTile("item-ticket", data.ticket, note + (data.broken_promise ? " · " + _("broken promise") : ""), data.broken_promise ? "warn" : "");
  } else setTile("item-ticket", DASH, _("none"));
  setTile("item-satisfaction", data.satisfaction == null ? DASH : _("%(num)s of 5", { num: data.satisfaction }), data.status === "closed" ? "" : _("asked when closed"));
  setText(document.getElementById("item-text"), data.text);
  renderHistory();
  renderStory();
  const allowed = new Set([...NEXT[data.status], "same"]);
  for (const button of document.querySelectorAll("#update-buttons [data-status]")) {
    button.hidden = !allowed.has(button.dataset.status);
  }
  const reopen = document.querySelector('#update-buttons [data-status="open"]');
  if (reopen) {
    // from resolved it goes back to work; from closed it is reopened (with a note saying why)
    reopen.dataset.i18n = data.status === "closed" ? N_("Reopen (needs a note)") : N_("Reopen");
    setText(reopen, _(reopen.dataset.i18n));
  }
}

async function loadItem() {
  const main = document.getElementById("feedback");
  try {
    const data = await getJson(feedbackPath(encodeURIComponent(feedbackId)));
    item.data = data;
    if (data.ticket && data.ticket_day) {
      try {
        item.story = await getJson(reportsPath() + "/tickets/" + encodeURIComponent(data.ticket_day) + "/" + encodeURIComponent(data.ticket));
        item.names = new Names(item.story.config);
      } catch {
        item.story = null;
      }
    }
    showError(null);
    delete main.dataset.error;
    renderItem();
  } catch (error) {
    showError(error);
    main.dataset.error = "1";
  } finally {
    body.dataset.loaded = "1";
  }
}

function startItemPage() {
  const form = document.getElementById("update-form");
  const done = document.getElementById("update-done");
  form.addEventListener("submit", (event) => event.preventDefault());
  for (const button of document.querySelectorAll("#update-buttons [data-status]")) {
    button.addEventListener("click", async () => {
      if (!item.data) return;
      const f = form.elements;
      const status = button.dataset.status === "same" ? item.data.status : button.dataset.status;
      const payload = { status };
      if (f.note.value.trim()) payload.note = f.note.value.trim();
      if (f.owner.value.trim()) payload.owner = f.owner.value.trim();
      const deadline = withOffset(f.deadline.value);
      if (deadline) payload.deadline = deadline;
      if (status === "closed" && f.satisfaction.value) payload.satisfaction = Number(f.satisfaction.value);
      fieldErrors("update", null);
      setText(done, "");
      for (const b of document.querySelectorAll("#update-buttons button")) b.disabled = true;
      try {
        await postJson(feedbackPath(encodeURIComponent(item.data.id)), payload);
        f.note.value = "";
        f.owner.value = "";
        f.deadline.value = "";
        f.satisfaction.value = "";
        setText(done, _("Saved: %(status)s.", { status: word(STATUSES, status) }));
        await loadItem();
      } catch (error) {
        fieldErrors("update", error);
      } finally {
        for (const b of document.querySelectorAll("#update-buttons button")) b.disabled = false;
      }
    });
  }
  onLanguageChange(() => renderItem());
  loadItem();
}

initNav();
if (feedbackId) startItemPage();
else startListPage();
document.documentElement.dataset.lang = language();
