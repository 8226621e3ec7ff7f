// What the managers' pages share: the page's branch and session, the nav bar (language and branch
// switchers), JSON reads of the reports API with its error messages, the report tables rendered
// with translated headers and a "Download CSV" link, the period form of the history and promises
// pages, names of services and pause reasons in the page's language, and the live `/manage` feed.
// Data reach the DOM through textContent only (the pages' CSP forbids inline script and style).

import { counterName, formatRange, nameIn, pauseReason } from "./format.js";
import { INTL_LOCALES, N_, _, language, ngettext, onLanguageChange, setLanguage, translatePage } from "./i18n.js";
import { ApiError, RECONNECTION, ServerClock, connectionStatus, connectionWords, el, failureMessage, followConnection, jsonOrNull, setText, uuid4 } from "./live.js";

export { el, setText };

const body = document.body;

/** The page's branch, day and ticket (from `<body data-…>`), and where the app is mounted. */
export const page = {
  branch: body.dataset.branch || null,
  day: body.dataset.day || null,
  ticket: body.dataset.ticket || null,
  root: body.dataset.root || "",
  kind: body.dataset.kind || "",
};

/** The URL of a manager's page of `branch` (`part`: "", "history", "promises", "tickets/<day>/<ticket>"). */
export function managePath(branch, part = "") {
  const base = branch ? `${page.root}/manage/${encodeURIComponent(branch)}` : `${page.root}/manage`;
  return part ? `${base}/${part}` : base;
}

/** `path` with `?query` when there is one (no nested template literals: the catalogue's extractor cannot read them). */
export function withQuery(path, query) {
  return query ? `${path}?${query}` : path;
}

/** The branch's reports API base. */
export function reportsPath(branch = page.branch) {
  return `${page.root}/api/v1/branches/${encodeURIComponent(branch)}/reports`;
}

// errors -------------------------------------------------------------------------------------

/** An answer of the API that is not 2xx: its status, code, message and (for a 422) the field. */
export class ReportError extends ApiError {
  constructor(status, code, message, field = null) {
    super(status, code, message);
    this.field = field;
  }
}

/** GET JSON from the reports API with the session cookie; throws ReportError with the server's words. */
export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, {
      headers: { Accept: "application/json", "Accept-Language": language() },
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ReportError(0, "network", _("The server could not be reached. Check the connection and try again."));
  }
  const data = await jsonOrNull(response);
  if (response.ok && data) return data;
  if (response.status === 401) {
    throw new ReportError(401, "unauthorized", _("Your session has ended: sign in again to see the reports."));
  }
  throw new ReportError(response.status, (data && data.error) || "http_error", failureMessage(response, data), (data && data.field) || null);
}

/** POST JSON as the signed-in manager (the CSRF header, an idempotency key); throws ReportError with the field. */
export async function postJson(url, payload) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Accept-Language": language(),
        "Content-Type": "application/json",
        "X-CSRFToken": body.dataset.csrf || "",
        "Idempotency-Key": uuid4(),
      },
      credentials: "same-origin",
      cache: "no-store",
      body: JSON.stringify(payload),
    });
  } catch {
    throw new ReportError(0, "network", _("The server could not be reached. Check the connection and try again."));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok) return data;
  if (response.status === 401) throw new ReportError(401, "unauthorized", _("Your session has ended: sign in again to see the reports."));
  const message = (data && data.message) || _("The server answered %(status)s", { status: String(response.status) });
  throw new ReportError(response.status, (data && data.error) || "http_error", message, (data && data.field) || null);
}

/** Show `error` (a ReportError) in the page's error box (`#report-error`), or hide the box with null. */
export function showError(error) {
  const box = document.getElementById("report-error");
  if (!box) return;
  if (!error) {
    box.hidden = true;
    return;
  }
  const text = box.querySelector(".mg-error-text");
  setText(text, error.message || String(error));
  const link = box.querySelector(".mg-error-sign-in");
  if (link) link.hidden = error.status !== 401;
  box.hidden = false;
}

// numbers and names --------------------------------------------------------------------------

const DASH = "—";

function pad(n) {
  return String(n).padStart(2, "0");
}

/** A share 0..1 as "58.5 %" ("—" when there is none). */
export function fmtShare(value, digits = 1) {
  if (value == null || !Number.isFinite(Number(value))) return DASH;
  return `${(Number(value) * 100).toFixed(digits)} %`;
}

/** Minutes to one decimal ("—" when there are none). */
export function fmtMinutes(value) {
  if (value == null || !Number.isFinite(Number(value))) return DASH;
  return Number(value).toFixed(1);
}

/** A count ("—" for none). */
export function fmtCount(value) {
  if (value == null || !Number.isFinite(Number(value))) return DASH;
  return String(value);
}

/** "12 min" for minutes, "45 s" under a minute. */
export function fmtDurationWords(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return DASH;
  if (seconds < 60) return _("%(num)s s", { num: Math.max(0, Math.round(seconds)) });
  return _("%(num)s min", { num: Math.round(seconds / 60) });
}

/** An hour of the day as "09:00". */
export function fmtHour(hour) {
  return `${pad(hour)}:00`;
}

/** The short weekday name of `weekday` (0 = Monday) in the page's language. */
export function weekdayName(weekday, style = "short") {
  const d = new Date(Date.UTC(2024, 0, 1 + Number(weekday))); // 1 January 2024 was a Monday
  try {
    return new Intl.DateTimeFormat(INTL_LOCALES[language()] || "en-GB", { weekday: style, timeZone: "UTC" }).format(d);
  } catch {
    return String(weekday);
  }
}

/** "2026-03-02 Mon" for a YYYY-MM-DD day. */
export function fmtDay(iso) {
  if (!iso) return DASH;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  const weekday = (d.getUTCDay() + 6) % 7;
  return `${iso} ${weekdayName(weekday)}`;
}

/** "Mon 2 Mar" for a YYYY-MM-DD day, in the page's language (chart axes). */
export function fmtShortDay(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(INTL_LOCALES[language()] || "en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" })
      .format(d)
      .replace(/,/g, "");
  } catch {
    return iso;
  }
}

/** Names from a branch configuration (`config` of a payload), in the page's language. */
export class Names {
  constructor(config) {
    this.config = config || {};
  }

  service(code) {
    if (code == null || code === "") return DASH;
    const found = (this.config.services || []).find((s) => s.code === code);
    return found ? nameIn(found.names, language(), code) : String(code);
  }

  reason(code) {
    if (!code) return _("No reason given");
    // the server sends the reasons in effect (the defaults when the branch names none)
    return pauseReason(code, this.config.pause_reasons || []) || String(code);
  }

  counter(name) {
    return name == null || name === "" ? DASH : counterName(name);
  }

  branch() {
    return nameIn(this.config.names, language(), this.config.name || page.branch || "");
  }

  counters() {
    return (this.config.counters || []).map((c) => c.name);
  }
}

/** What a customer was told, from the bottom and top of the range as the screens worded it (minutes). */
export function toldWords(lowMin, highMin) {
  if (highMin == null) return DASH;
  if (highMin <= 1 && !lowMin) return _("under 1 min");
  return formatRange({ p10: (lowMin || 0) * 60, p90: highMin * 60 });
}

// report tables -------------------------------------------------------------------------------

/** Each report column's header (docs/reports.md defines them); an unknown column shows its key. */
const COLUMN_LABELS = {
  day: N_("Day"),
  hour: N_("Hour"),
  weekday: N_("Weekday"),
  service: N_("Service"),
  counter: N_("Counter"),
  reason: N_("Reason"),
  ticket: N_("Ticket"),
  arrivals: N_("Arrivals"),
  served: N_("Served"),
  no_shows: N_("No-shows"),
  cancelled: N_("Cancelled"),
  first_calls: N_("First calls"),
  wait_p50_min: N_("Median wait (min)"),
  wait_p90_min: N_("Wait p90 (min)"),
  wait_max_min: N_("Longest wait (min)"),
  wait_mean_min: N_("Mean wait (min)"),
  service_level: N_("Service level"),
  transactions: N_("Transactions"),
  duration_p50_min: N_("Median transaction (min)"),
  duration_p90_min: N_("Transaction p90 (min)"),
  duration_mean_min: N_("Mean transaction (min)"),
  serving_min: N_("Serving (min)"),
  wrap_up_min: N_("Wrap-up (min)"),
  paused_min: N_("Paused (min)"),
  idle_min: N_("Idle (min)"),
  open_min: N_("Open (min)"),
  utilisation_open: N_("Utilisation of open time"),
  utilisation_staffed: N_("Utilisation of staffed time"),
  pauses: N_("Pauses"),
  total_min: N_("Total (min)"),
  declared_min: N_("Declared (min)"),
  overran: N_("Overran"),
  overrun_min: N_("Overrun (min)"),
  worst_overrun_min: N_("Worst overrun (min)"),
  longest_min: N_("Longest (min)"),
  tickets: N_("Tickets"),
  promised: N_("Promised"),
  mae_min: N_("Mean error (min)"),
  below_p10: N_("Below the range"),
  within_p10_p90: N_("Within p10–p90"),
  above_p90: N_("Above the range"),
  broken: N_("Broken"),
  broken_share: N_("Broken share"),
  mean_overshoot_min: N_("Mean overshoot (min)"),
  issued_at: N_("Issued"),
  told_low_min: N_("Told from (min)"),
  told_high_min: N_("Told up to (min)"),
  waited_min: N_("Waited (min)"),
  over_by_min: N_("Over by (min)"),
  waiting: N_("Waiting"),
  longest_wait: N_("Longest wait"),
  longest_ticket: N_("Longest waiting ticket"),
  activity: N_("State"),
  from: N_("From"),
  to: N_("To"),
  length: N_("Length"),
  told: N_("Told"),
};

/** Columns holding a share 0..1 (shown as a percentage). */
const SHARE_COLUMNS = new Set(["service_level", "utilisation_open", "utilisation_staffed", "below_p10", "within_p10_p90", "above_p90", "broken_share"]);
const TEXT_COLUMNS = new Set(["day", "service", "counter", "reason", "ticket", "weekday", "activity", "longest_ticket", "told"]);

/** The translated header of a report column. */
export function columnLabel(key) {
  return COLUMN_LABELS[key] ? _(COLUMN_LABELS[key]) : key;
}

/** A report cell as text, by its column's kind. `names` names services, reasons and counters. */
export function formatCell(key, value, names) {
  if (value == null || value === "") return key === "reason" && names ? names.reason(value) : DASH;
  if (SHARE_COLUMNS.has(key)) return fmtShare(value);
  if (key.endsWith("_min")) return fmtMinutes(value);
  switch (key) {
    case "hour":
      return fmtHour(value);
    case "weekday":
      return weekdayName(value, "long");
    case "day":
      return fmtDay(value);
    case "service":
      return names ? names.service(value) : String(value);
    case "reason":
      return names ? names.reason(value) : String(value);
    case "counter":
      return names ? names.counter(value) : String(value);
    default:
      return String(value);
  }
}

/** Whether a column holds numbers (right-aligned). */
export function isNumeric(key) {
  return !TEXT_COLUMNS.has(key);
}

/** Rows of a `{columns, rows}` table as objects keyed by column. */
export function rowObjects(table) {
  if (!table) return [];
  return table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])));
}

/**
 * Render `table` ({name, columns, rows}) into `container` (replacing what was there).
 * Options: `columns` (keys to show, in order; default all), `names`, `format` ({key: (value, row) → text}),
 * `cell` ({key: (value, row) → Node}, e.g. links), `empty` (text when there are no rows),
 * `caption` (visually hidden), `rowAttrs` ((row) → {attr: value}).
 */
export function renderTable(container, table, options = {}) {
  const columns = options.columns || (table ? table.columns : []);
  const rows = rowObjects(table);
  const wrap = el("div", "mg-table-wrap");
  wrap.tabIndex = 0; // scrollable regions are reachable from the keyboard
  if (!rows.length) {
    container.replaceChildren(el("p", "mg-empty", options.empty || _("No data for this period.")));
    return null;
  }
  const tableNode = el("table", "mg-table");
  if (options.caption) tableNode.append(el("caption", "visually-hidden", options.caption));
  const head = el("thead");
  const headRow = el("tr");
  for (const key of columns) {
    const th = el("th", isNumeric(key) ? "num" : null, options.headers && options.headers[key] ? options.headers[key] : columnLabel(key));
    th.scope = "col";
    th.dataset.column = key;
    headRow.append(th);
  }
  head.append(headRow);
  const bodyNode = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    tr.dataset.key = String(row[columns[0]] ?? ""); // the row's key as the report has it (tests and links find rows by it)
    if (options.rowAttrs) for (const [k, v] of Object.entries(options.rowAttrs(row))) tr.setAttribute(k, v);
    for (const [index, key] of columns.entries()) {
      const value = row[key];
      const cell = el(index === 0 ? "th" : "td", isNumeric(key) ? "num" : null);
      if (index === 0) cell.scope = "row";
      cell.dataset.column = key;
      if (options.cell && options.cell[key]) cell.append(options.cell[key](value, row));
      else cell.textContent = options.format && options.format[key] ? options.format[key](value, row) : formatCell(key, value, options.names);
      tr.append(cell);
    }
    bodyNode.append(tr);
  }
  tableNode.append(head, bodyNode);
  wrap.append(tableNode);
  container.replaceChildren(wrap);
  return tableNode;
}

/** Point a "Download CSV" link at the API's CSV of `table` with the page's query (from, to, filters, target). */
export function setCsvLink(link, table, query, branch = page.branch) {
  if (!link) return;
  link.href = withQuery(`${reportsPath(branch)}/history/${encodeURIComponent(table)}.csv`, queryString(query));
  link.removeAttribute("download"); // the server names the file (Content-Disposition)
  link.hidden = false;
}

const QUOTE = String.fromCharCode(34);

function csvCell(value) {
  const text = value == null ? "" : String(value);
  if (![",", "\n", "\r", QUOTE].some((c) => text.includes(c))) return text;
  return QUOTE + text.split(QUOTE).join(QUOTE + QUOTE) + QUOTE;
}

const blobUrls = new WeakMap();

/** Point a "Download CSV" link at a CSV made here of `columns` and `rows` (arrays), named `filename`. */
export function setLocalCsvLink(link, filename, columns, rows) {
  if (!link) return;
  const text = [columns, ...rows].map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
  const old = blobUrls.get(link);
  if (old) URL.revokeObjectURL(old);
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  blobUrls.set(link, url);
  link.href = url;
  link.download = filename;
  link.hidden = false;
}

// nav bar -------------------------------------------------------------------------------------

/** Keep `?lang=` in the address and in every nav link, so a reload or a click keeps the language. */
function keepLanguage(lang) {
  const params = new URLSearchParams(window.location.search);
  params.set("lang", lang);
  window.history.replaceState(window.history.state, "", `${window.location.pathname}?${params}${window.location.hash}`);
  for (const link of document.querySelectorAll("a[data-keep-lang]")) {
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("lang", lang);
    link.href = `${url.pathname}${url.search}${url.hash}`;
  }
}

/** The language switcher and the branch switcher of the nav bar. */
export function initNav() {
  const select = document.getElementById("language");
  if (select) {
    select.addEventListener("change", () => {
      setLanguage(select.value);
      keepLanguage(select.value);
    });
    onLanguageChange((lang) => {
      select.value = lang;
    });
  }
  const switcher = document.getElementById("branch-switch");
  if (switcher) {
    switcher.addEventListener("change", () => {
      const target = switcher.value;
      if (!target || target === page.branch) return;
      const part = { "manage-history": "history", "manage-promises": "promises" }[page.kind] || "";
      const params = new URLSearchParams();
      const current = new URLSearchParams(window.location.search);
      // the period and target carry over; filters are the branch's own
      for (const key of ["lang", "from", "to", "target"]) if (current.get(key) && (part || key === "lang")) params.set(key, current.get(key));
      const query = params.toString();
      window.location.assign(withQuery(managePath(target, part), query));
    });
  }
  translatePage();
}

/** Set the branch's name in the header (from its configuration), and the document title: `title`'s parts, the branch, "queue_board". */
export function showBranchName(names, ...title) {
  document.title = [...title, names.branch(), "queue_board"].join(" — ");
  const node = document.getElementById("branch-name");
  if (node && page.branch) setText(node, names.branch() || page.branch);
  const id = document.getElementById("branch-id");
  if (id) {
    // the branch's code too, when its name is something else (the switcher lists codes)
    setText(id, page.branch);
    id.hidden = !page.branch || names.branch() === page.branch;
  }
}

// the live feed -------------------------------------------------------------------------------

/**
 * Follow the `/manage` namespace with `auth` ({branch} or {overview: true}); `handlers` maps
 * event names to functions. Never polls: a dropped connection shows the banner after a grace
 * period and the client reconnects by itself. Returns {socket, clock} (clock: the server's time).
 */
export function connectManage(auth, handlers) {
  const clock = new ServerClock();
  let state = "connecting";
  const indicator = document.querySelector("#live-state .live-text");
  const status = connectionStatus(
    clock,
    (since) => _("Connection lost since %(time)s — reconnecting… The figures may be out of date.", { time: since }),
    (value) => {
      state = value;
      setText(indicator, connectionWords(value));
    },
  );
  onLanguageChange(() => setText(indicator, connectionWords(state)));

  if (typeof window.io !== "function") {
    status("refused", () => _("Live updates are unavailable: the Socket.IO client did not load."));
    return { socket: null, clock };
  }
  const socket = window.io("/manage", { path: `${page.root}/socket.io`, auth, ...RECONNECTION });
  status("connecting");
  followConnection(socket, clock, status, (error) => status("refused", () => _("The server refused the live view: %(reason)s", { reason: error.message })));
  for (const [name, handler] of Object.entries(handlers)) {
    socket.on(name, (payload) => {
      if (payload && Number.isFinite(payload.now)) clock.observe({ now: new Date(payload.now * 1000).toISOString() });
      handler(payload);
    });
  }
  window.queueBoardManage = { socket, clock };
  return { socket, clock };
}

// the period form (history and promises) -------------------------------------------------------

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return isoDay(d);
}

/** The browser's calendar day (for "Today" on the quick buttons). */
function todayIso() {
  const now = new Date();
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** The keys of a report's query (the address bar's, the API's). */
const QUERY_KEYS = ["from", "to", "service", "counter", "target"];

/** The report's query from the address bar: from, to, service, counter, target. */
export function queryFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const out = {};
  for (const key of QUERY_KEYS) {
    const value = params.get(key);
    if (value) out[key] = value;
  }
  return out;
}

/** The query as a URL query string (without "?"), keeping `lang`. */
export function queryString(query, { withLang = false } = {}) {
  const params = new URLSearchParams();
  for (const key of QUERY_KEYS) if (query[key]) params.set(key, query[key]);
  if (withLang) keepLang(params);
  return params.toString();
}

/** Add the address bar's `lang` to `params`, if it has one. */
function keepLang(params) {
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (lang) params.set("lang", lang);
  return params;
}

/** A link to a manager's page at `path`, keeping the page's `?lang=` (and following a language switch). */
export function manageLink(className, text, path) {
  const a = el("a", className, text);
  a.href = withQuery(path, keepLang(new URLSearchParams()).toString());
  a.dataset.keepLang = "";
  return a;
}

/**
 * The form `#period-form`: from/to dates, quick ranges over the branch's recorded days,
 * service and counter filters, the service-level target. The query lives in the address bar
 * (a link shares it); `onChange(query)` loads the report for it.
 */
export class PeriodForm {
  constructor(onChange) {
    this.form = document.getElementById("period-form");
    this.onChange = onChange;
    this.query = queryFromUrl();
    this.recordedDays = [];
    this.config = null;
    this.counters = [];
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(this.read());
    });
    for (const button of this.form.querySelectorAll("[data-quick]")) {
      button.addEventListener("click", () => {
        const range = this.quickRange(button.dataset.quick);
        if (range) this.submit({ ...this.read(), ...range });
      });
    }
    for (const name of ["service", "counter"]) {
      this.form.elements[name].addEventListener("change", () => this.submit(this.read()));
    }
    window.addEventListener("popstate", () => {
      this.query = queryFromUrl();
      this.fill();
      this.onChange(this.query);
    });
    onLanguageChange(() => this.fillOptions());
    this.fill();
  }

  read() {
    const f = this.form.elements;
    const query = {};
    for (const key of QUERY_KEYS) {
      const value = f[key].value.trim();
      if (value) query[key] = value;
    }
    return query;
  }

  submit(query) {
    this.query = query;
    const text = queryString(query, { withLang: true });
    window.history.pushState(null, "", withQuery(window.location.pathname, text));
    this.markQuick();
    this.onChange(query);
  }

  /** Fill the inputs from the query. */
  fill() {
    const f = this.form.elements;
    for (const key of ["from", "to", "target"]) f[key].value = this.query[key] || "";
    this.fillOptions();
    this.markQuick();
  }

  /** After a report arrived: the period it covered, its recorded days, services and counters. */
  loaded(payload) {
    this.recordedDays = payload.recorded_days || [];
    this.config = payload.config || null;
    const byCounter = payload.tables && payload.tables.by_counter ? payload.tables.by_counter.rows.map((r) => String(r[0])) : [];
    const configured = ((this.config && this.config.counters) || []).map((c) => c.name);
    this.counters = [...new Set([...configured, ...byCounter, ...(this.query.counter ? [this.query.counter] : [])])];
    const resolved = { ...this.query, from: payload.period.from, to: payload.period.to };
    if (!this.query.target && payload.target_minutes != null) this.form.elements.target.placeholder = String(payload.target_minutes);
    if (resolved.from !== this.query.from || resolved.to !== this.query.to) {
      // pin the period in the address: a shared link shows the same days
      this.query = resolved;
      const text = queryString(resolved, { withLang: true });
      window.history.replaceState(null, "", `${window.location.pathname}?${text}`);
    }
    const f = this.form.elements;
    f.from.value = this.query.from;
    f.to.value = this.query.to;
    if (this.recordedDays.length) {
      f.from.min = f.to.min = this.recordedDays[0];
      f.from.max = f.to.max = this.recordedDays[this.recordedDays.length - 1];
    }
    for (const button of this.form.querySelectorAll("[data-quick]")) {
      button.disabled = !this.recordedDays.length || (button.dataset.quick === "previous" && this.recordedDays.length < 2);
    }
    this.fillOptions();
    this.markQuick();
    const latest = this.recordedDays[this.recordedDays.length - 1];
    const latestButton = this.form.querySelector('[data-quick="latest"]');
    if (latestButton) {
      // the newest recorded day is "Today" only when it is today
      const words = latest === todayIso() ? N_("Today") : N_("Latest day");
      latestButton.dataset.i18n = words;
      setText(latestButton, _(words));
    }
  }

  fillOptions() {
    const names = new Names(this.config);
    const service = this.form.elements.service;
    const services = ((this.config && this.config.services) || []).map((s) => s.code);
    if (this.query.service && !services.includes(this.query.service)) services.push(this.query.service);
    const serviceOptions = [el("option", null, _("All services")), ...services.map((code) => el("option", null, names.service(code)))];
    serviceOptions[0].value = "";
    services.forEach((code, i) => {
      serviceOptions[i + 1].value = code;
    });
    service.replaceChildren(...serviceOptions);
    service.value = this.query.service || "";
    const counter = this.form.elements.counter;
    const counterOptions = [el("option", null, _("All counters")), ...this.counters.map((c) => el("option", null, names.counter(c)))];
    counterOptions[0].value = "";
    this.counters.forEach((c, i) => {
      counterOptions[i + 1].value = c;
    });
    counter.replaceChildren(...counterOptions);
    counter.value = this.query.counter || "";
  }

  /** The from/to of a quick button, anchored on the branch's latest recorded day. */
  quickRange(kind) {
    const days = this.recordedDays;
    if (!days.length) return null;
    const latest = days[days.length - 1];
    switch (kind) {
      case "latest":
        return { from: latest, to: latest };
      case "previous": {
        const previous = days.length > 1 ? days[days.length - 2] : null;
        return previous ? { from: previous, to: previous } : null;
      }
      default: {
        const n = Number(kind);
        return Number.isFinite(n) && n > 0 ? { from: addDays(latest, -(n - 1)), to: latest } : null;
      }
    }
  }

  markQuick() {
    for (const button of this.form.querySelectorAll("[data-quick]")) {
      const range = this.quickRange(button.dataset.quick);
      const pressed = !!range && range.from === this.query.from && range.to === this.query.to;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
    }
  }

  /** Mark the input the server named as wrong (a 422's `field`), or clear the marks. */
  markInvalid(field) {
    for (const input of this.form.querySelectorAll("input, select")) input.removeAttribute("aria-invalid");
    if (field && this.form.elements[field]) this.form.elements[field].setAttribute("aria-invalid", "true");
  }
}

/**
 * The report behind a period page (history, promises): `payload` (GET …/reports/history for the
 * period form's query), the `names` of its configuration and the `query` it answers.
 */
export class PeriodReport {
  constructor() {
    this.payload = null;
    this.names = new Names(null);
    this.query = {};
  }

  /** The report's table `name` ({columns, rows}), if loaded. */
  table(name) {
    return this.payload && this.payload.tables[name];
  }

  /** Point `#<name>-csv` at the CSV of the report's table `name`. */
  csv(name) {
    setCsvLink(document.getElementById(`${name}-csv`), name, this.query);
  }

  /** Render the table `name` (or `shown` in its place) into `#<name>-table` with `options` (renderTable's), and its CSV link. */
  showTable(name, options = {}, shown = this.table(name)) {
    renderTable(document.getElementById(`${name}-table`), shown, { names: this.names, ...options });
    this.csv(name);
  }

  /**
   * Run the page: the nav bar, the period form, and a report loaded for each query it makes (the
   * latest one wins). Each report titles the page (`title()`, the branch) and states its period,
   * then `render()` draws it; a failure shows in the error box, marks the field it names, and
   * marks `main` (its cards hide rather than show stale figures).
   */
  start(main, title, render) {
    let latest = 0;
    const draw = () => {
      if (!this.payload) return;
      this.names = new Names(this.payload.config);
      showBranchName(this.names, title());
      setText(document.getElementById("period-summary"), periodSummary(this.payload, this.names));
      render();
    };
    const load = async (query) => {
      const ticket = ++latest;
      document.body.dataset.loading = "1";
      try {
        const payload = await getJson(withQuery(`${reportsPath()}/history`, queryString(query)));
        if (ticket !== latest) return;
        this.payload = payload;
        form.loaded(payload);
        this.query = { ...form.query };
        form.markInvalid(null);
        showError(null);
        delete main.dataset.error;
        draw();
      } catch (error) {
        if (ticket !== latest) return;
        showError(error);
        form.markInvalid(error.field);
        main.dataset.error = "1";
      } finally {
        if (ticket === latest) {
          delete document.body.dataset.loading;
          document.body.dataset.loaded = "1";
        }
      }
    };
    initNav();
    const form = new PeriodForm(load);
    onLanguageChange(() => draw());
    load(form.query);
  }
}

/** "Showing 2026-02-24 – 2026-03-02 (7 days) · Deposits · counter 2 · target 10 min" for a loaded report. */
export function periodSummary(payload, names) {
  const { from, to } = payload.period;
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
  const count = ngettext("%(num)s day", "%(num)s days", days);
  const parts = [from === to ? fmtDay(from) : `${fmtDay(from)} – ${fmtDay(to)} (${count})`];
  if (payload.filters && payload.filters.service) parts.push(names.service(payload.filters.service));
  if (payload.filters && payload.filters.counter) parts.push(names.counter(payload.filters.counter));
  parts.push(_("service level target %(num)s min", { num: payload.target_minutes }));
  return parts.join(" · ");
}

/** A KPI tile's value and note (`#tile-<key>` with .mg-tile-value and .mg-tile-note); `tone`: "good", "warn" or "". */
export function setTile(key, value, note = "", tone = "") {
  const tile = document.getElementById(`tile-${key}`);
  if (!tile) return;
  setText(tile.querySelector(".mg-tile-value"), value);
  setText(tile.querySelector(".mg-tile-note"), note);
  if (tone) tile.dataset.tone = tone;
  else delete tile.dataset.tone;
}
