// Were the promises kept (/manage/<branch>/promises): the ranges customers were told against the
// waits they had, over a period: calibration (below / within p10–p90 / above), the mean error,
// broken promises, by service, hour and counter, and the worst broken promises with a link to
// each ticket's story. From GET /api/v1/branches/<b>/reports/history (its quality_* tables).

import { formatClock } from "./format.js";
import { _, language, onLanguageChange } from "./i18n.js";
import {
  Names,
  PeriodForm,
  el,
  fmtCount,
  fmtHour,
  fmtMinutes,
  fmtShare,
  getJson,
  initNav,
  managePath,
  page,
  periodSummary,
  queryString,
  renderTable,
  reportsPath,
  rowObjects,
  setCsvLink,
  setText,
  setTile,
  showBranchName,
  showError,
  toldWords,
  withQuery,
} from "./manage_common.js";
import { COLOURS, baseOption, categoryAxis, draw, pct, percentAxis, tooltipBox } from "./manage_charts.js";

const state = { payload: null, names: new Names(null), query: {} };
const main = document.getElementById("promises");

function table(name) {
  return state.payload && state.payload.tables[name];
}

function renderTotals() {
  const t = rowObjects(table("quality_totals"))[0] || {};
  const honest = (share, expected) => (share == null ? "" : Math.abs(share - expected) <= 0.05 ? "good" : "warn");
  setTile("promised", fmtCount(t.promised), _("tickets told a range and called"));
  setTile("within", fmtShare(t.within_p10_p90), _("honest ranges: 80 %"), honest(t.within_p10_p90, 0.8));
  setTile("below", fmtShare(t.below_p10), _("honest ranges: 10 %"), honest(t.below_p10, 0.1));
  setTile("above", fmtShare(t.above_p90), _("honest ranges: 10 %"), honest(t.above_p90, 0.1));
  setTile("mae", t.mae_min == null ? "—" : _("%(num)s min", { num: fmtMinutes(t.mae_min) }), _("wait against the median told"));
  setTile(
    "broken",
    fmtShare(t.broken_share),
    t.promised ? _("%(broken)s of %(num)s", { broken: t.broken ?? 0, num: t.promised }) : "",
    t.broken_share == null ? "" : t.broken_share > 0.1 ? "warn" : "good",
  );
  setTile("overshoot", t.mean_overshoot_min == null ? "—" : _("%(num)s min", { num: fmtMinutes(t.mean_overshoot_min) }), _("past the promise, when broken"));
  setCsvLink(document.getElementById("quality_totals-csv"), "quality_totals", state.query);
}

/** The calibration chart of a quality table: stacked shares below / within / above, one bar per row. */
function renderCalibration(name, label) {
  const rows = rowObjects(table(name));
  const node = document.getElementById(`${name}-chart`);
  node.style.height = `${Math.max(200, rows.length * 34 + 80)}px`;
  const labels = rows.map(label);
  const series = [
    ["below_p10", _("shorter than the range"), COLOURS.serving],
    ["within_p10_p90", _("within p10–p90"), COLOURS.idle],
    ["above_p90", _("longer than the range"), COLOURS.danger],
  ].map(([key, seriesName, colour], index) => ({
    type: "bar",
    name: seriesName,
    stack: "calibration",
    data: rows.map((r) => pct(r[key])),
    itemStyle: { color: colour },
    barMaxWidth: 24,
    label: { show: true, color: "#0b1020", fontWeight: "bold", formatter: (d) => (d.value >= 8 ? `${Math.round(d.value)} %` : "") },
    ...(index === 1
      ? {
          // where an honest forecast's shares would end: 10 % below, 80 % within
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { color: COLOURS.text, type: "dashed" },
            label: { color: COLOURS.muted, position: "start", formatter: (d) => `${d.value} %` },
            data: [{ xAxis: 10 }, { xAxis: 90 }],
          },
        }
      : {}),
  }));
  draw(
    node,
    baseOption({
      tooltip: {
        ...baseOption().tooltip,
        formatter: (params) => {
          const list = Array.isArray(params) ? params : [params];
          const row = rows[list[0].dataIndex];
          return tooltipBox(list[0].name, [
            ...list.map((p) => ({ colour: p.color, label: p.seriesName, value: p.value == null ? "—" : `${p.value} %` })),
            { label: _("Promised"), value: String(row.promised) },
            { label: _("Broken"), value: `${row.broken} (${fmtShare(row.broken_share)})` },
            { label: _("Mean error (min)"), value: fmtMinutes(row.mae_min) },
          ]);
        },
      },
      xAxis: percentAxis(),
      yAxis: categoryAxis(labels, { inverse: true, axisLabel: { color: COLOURS.text, width: 120, overflow: "truncate" } }),
      series,
    }),
    { empty: !rows.length },
  );
  renderTable(document.getElementById(`${name}-table`), table(name), { names: state.names, empty: _("No promises in this period.") });
  setCsvLink(document.getElementById(`${name}-csv`), name, state.query);
}

function ticketLink(label, row) {
  const params = new URLSearchParams();
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (lang) params.set("lang", lang);
  const a = el("a", "mg-ticket-link ticket-label", label);
  const query = params.toString();
  const path = managePath(page.branch, `tickets/${encodeURIComponent(row.day)}/${encodeURIComponent(label)}`);
  a.href = withQuery(path, query);
  a.dataset.keepLang = "";
  return a;
}

function renderBroken() {
  const source = table("broken_promises");
  const columns = ["ticket", "day", "issued_at", "service", "counter", "told", "waited_min", "over_by_min"];
  const shown = source ? { columns, rows: rowObjects(source).map((r) => columns.map((c) => (c === "told" ? [r.told_low_min, r.told_high_min] : c === "issued_at" ? [r.issued_at, r.day] : r[c]))) } : null;
  renderTable(document.getElementById("broken_promises-table"), shown, {
    names: state.names,
    empty: _("No promise was broken in this period."),
    cell: { ticket: ticketLink },
    format: {
      told: (value) => toldWords(value[0], value[1]),
      // the issue time in the branch's local time of that day (the payload has each day's offset)
      issued_at: ([at, day]) => {
        const offset = (state.payload.utc_offsets || {})[day];
        return offset == null ? "—" : formatClock(at * 1000, offset / 60);
      },
    },
    headers: { told: _("Told") },
    caption: _("The worst broken promises"),
  });
  setCsvLink(document.getElementById("broken_promises-csv"), "broken_promises", state.query);
}

function render() {
  if (!state.payload) return;
  state.names = new Names(state.payload.config);
  showBranchName(state.names);
  document.title = [_("Promises"), state.names.branch(), "queue_board"].join(" — ");
  setText(document.getElementById("period-summary"), periodSummary(state.payload, state.names));
  renderTotals();
  renderBroken();
  renderCalibration("quality_by_service", (r) => state.names.service(r.service));
  renderCalibration("quality_by_hour", (r) => fmtHour(r.hour));
  renderCalibration("quality_by_counter", (r) => state.names.counter(r.counter));
}

let latest = 0;

async function load(query) {
  const ticket = ++latest;
  document.body.dataset.loading = "1";
  try {
    const text = queryString(query);
    const payload = await getJson(withQuery(`${reportsPath()}/history`, text));
    if (ticket !== latest) return;
    state.payload = payload;
    form.loaded(payload);
    state.query = { ...form.query };
    form.markInvalid(null);
    showError(null);
    delete main.dataset.error;
    render();
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
}

initNav();
const form = new PeriodForm(load);
onLanguageChange(() => render());
document.documentElement.dataset.lang = language();
load(form.query);
