// Every branch a manager runs, side by side (/manage): one row per branch, the ones needing
// attention first, live from the `/manage` namespace (`overview` with every row on connect, then
// `branch_row` for a branch that changed). A change updates that row's cells only; the rows are
// re-sorted at most once per animation frame, so 200 branches stay smooth.

import { formatElapsed } from "./format.js";
import { N_, _, onLanguageChange } from "./i18n.js";
import { connectManage, el, fmtShare, initNav, manageLink, managePath, setLocalCsvLink, setText, setTile } from "./manage_common.js";

/** Why a branch needs attention, in words (branch_summary's codes, queue_board/reports/dashboard.py). */
const REASONS = {
  queue_no_staffed_counter: N_("Queue, no staffed counter"),
  wait_over_target: N_("Wait over target"),
  pause_overrun: N_("Pause past its time"),
  transaction_running_long: N_("Transaction running long"),
  alert_unseen: N_("Alert nobody has seen"),
  service_level_low: N_("Service level low"),
  promises_broken: N_("Promises broken"),
};

function reasonWord(code) {
  return REASONS[code] ? _(REASONS[code]) : code;
}

const tbody = document.getElementById("overview-rows");
const filterInput = document.getElementById("branch-filter");
const attentionOnly = document.getElementById("attention-only");
/** branch → {data, tr, cells, receivedAt, reasons} */
const rows = new Map();
let sortFrame = 0;
let targetMinutes = 10;

function buildRow(branch) {
  const tr = el("tr");
  tr.dataset.branch = branch;
  const name = el("th");
  name.scope = "row";
  name.append(manageLink("mg-branch-link", branch, managePath(branch)));
  const cells = { name, reasons: el("td", "mg-reasons") };
  tr.append(name, cells.reasons);
  for (const key of ["counters", "waiting", "longest", "utilOpen", "utilStaffed", "serviceLevel", "broken", "arrivals"]) {
    cells[key] = el("td", "num");
    tr.append(cells[key]);
  }
  tr.addEventListener("animationend", () => tr.classList.remove("mg-flash"));
  return { tr, cells, data: null, receivedAt: 0, reasons: null };
}

function longestText(entry, nowMs = Date.now()) {
  const d = entry.data;
  if (d.longest_wait_s == null || !d.waiting) return "—";
  return formatElapsed((d.longest_wait_s + (nowMs - entry.receivedAt) / 1000) * 1000);
}

function fillReasons(entry) {
  const codes = entry.data.attention || [];
  const key = codes.join(",");
  if (entry.reasons === key) return;
  entry.reasons = key;
  if (!codes.length) {
    entry.cells.reasons.replaceChildren(el("span", "mg-chip-ok", _("all well")));
    return;
  }
  const list = el("ul", "mg-chips");
  for (const code of codes) {
    const chip = el("li", "mg-chip", reasonWord(code));
    chip.dataset.reason = code;
    list.append(chip);
  }
  entry.cells.reasons.replaceChildren(list);
}

function fill(entry) {
  const d = entry.data;
  const c = entry.cells;
  entry.tr.dataset.attention = d.attention && d.attention.length ? "1" : "0";
  entry.tr.dataset.score = String(d.attention_score);
  fillReasons(entry);
  setText(c.counters, _("%(open)s / %(staffed)s of %(total)s", { open: d.open_counters, staffed: d.staffed_counters, total: d.counters }));
  setText(c.waiting, String(d.waiting));
  setText(c.longest, longestText(entry));
  setText(c.utilOpen, fmtShare(d.utilisation_open, 0));
  setText(c.utilStaffed, fmtShare(d.utilisation_staffed, 0));
  setText(c.serviceLevel, fmtShare(d.service_level, 0));
  setText(c.broken, fmtShare(d.broken_share, 0));
  setText(c.arrivals, String(d.arrivals ?? 0));
  applyFilter(entry);
}

function matches(entry) {
  const wanted = filterInput.value.trim().toLowerCase();
  if (wanted && !entry.data.branch.toLowerCase().includes(wanted)) return false;
  return !(attentionOnly.checked && !(entry.data.attention && entry.data.attention.length));
}

function applyFilter(entry) {
  const hide = !matches(entry);
  if (entry.tr.hidden !== hide) entry.tr.hidden = hide;
}

/** Upsert one branch's row (no sorting here). */
function upsert(data, flash) {
  let entry = rows.get(data.branch);
  if (!entry) {
    entry = buildRow(data.branch);
    rows.set(data.branch, entry);
    tbody.append(entry.tr);
  }
  entry.data = data;
  entry.receivedAt = Date.now();
  fill(entry);
  if (flash) {
    // restart the highlight if it is still running
    entry.tr.classList.remove("mg-flash");
    window.requestAnimationFrame(() => entry.tr.classList.add("mg-flash"));
  }
}

function compare(a, b) {
  return b.data.attention_score - a.data.attention_score || (a.data.branch < b.data.branch ? -1 : a.data.branch > b.data.branch ? 1 : 0);
}

/** Put the rows in order, moving only those out of place; then the tiles. Once per frame at most. */
function scheduleSort() {
  if (sortFrame) return;
  sortFrame = window.requestAnimationFrame(() => {
    sortFrame = 0;
    const sorted = [...rows.values()].sort(compare);
    let node = tbody.firstElementChild;
    for (const entry of sorted) {
      if (node === entry.tr) node = node.nextElementSibling;
      else tbody.insertBefore(entry.tr, node);
    }
    renderTiles(sorted);
  });
}

function renderTiles(sorted = [...rows.values()]) {
  let attention = 0;
  let waiting = 0;
  let open = 0;
  let counters = 0;
  let arrivals = 0;
  let visible = 0;
  for (const { data, tr } of sorted) {
    if (data.attention && data.attention.length) attention += 1;
    waiting += data.waiting || 0;
    open += data.open_counters || 0;
    counters += data.counters || 0;
    arrivals += data.arrivals || 0;
    if (!tr.hidden) visible += 1;
  }
  setTile("branches", String(sorted.length));
  setTile("attention", String(attention), "", attention ? "warn" : "good");
  setTile("waiting", String(waiting), _("wait target %(num)s min", { num: targetMinutes }));
  setTile("open", String(open), _("of %(num)s", { num: counters }));
  setTile("arrivals", String(arrivals));
  document.getElementById("overview-empty").hidden = visible > 0;
}

function everything(payload) {
  targetMinutes = payload.target_minutes ?? targetMinutes;
  const seen = new Set();
  for (const row of payload.branches || []) {
    seen.add(row.branch);
    upsert(row, false);
  }
  for (const [branch, entry] of rows) {
    if (!seen.has(branch)) {
      entry.tr.remove();
      rows.delete(branch);
    }
  }
  scheduleSort();
  document.body.dataset.loaded = "1";
}

function oneRow(row) {
  if (!row || !row.branch) return;
  upsert(row, true);
  scheduleSort();
}

function refilter() {
  for (const entry of rows.values()) applyFilter(entry);
  renderTiles();
}

filterInput.addEventListener("input", refilter);
attentionOnly.addEventListener("change", refilter);

const csv = document.getElementById("branches-csv");
csv.hidden = false;
csv.addEventListener("click", () => {
  // made when asked for: the rows change all the time
  const columns = ["branch", "attention", "attention_score", "open_counters", "staffed_counters", "counters", "waiting", "longest_wait_s", "utilisation_open", "utilisation_staffed", "service_level", "broken_share", "arrivals"];
  const sorted = [...rows.values()].sort(compare);
  setLocalCsvLink(csv, "overview.csv", columns, sorted.map(({ data }) => columns.map((c) => (c === "attention" ? (data.attention || []).join(" ") : data[c]))));
});

initNav();
onLanguageChange(() => {
  for (const entry of rows.values()) {
    entry.reasons = null;
    fill(entry);
  }
  renderTiles();
});
window.setInterval(() => {
  const now = Date.now();
  for (const entry of rows.values()) if (entry.data.waiting) setText(entry.cells.longest, longestText(entry, now));
}, 1000);

connectManage({ overview: true }, { overview: everything, branch_row: oneRow });
