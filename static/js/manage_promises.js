// Were the promises kept (/manage/<branch>/promises): the ranges customers were told against the
// waits they had, over a period: calibration (below / within p10–p90 / above), the mean error,
// broken promises, by service, hour and counter, and the worst broken promises with a link to
// each ticket's story. From GET /api/v1/branches/<b>/reports/history (its quality_* tables).

import { formatClock } from "./format.js";
import { _, language } from "./i18n.js";
import { PeriodReport, fmtCount, fmtHour, fmtMinutes, fmtShare, manageLink, managePath, page, rowObjects, setTile, toldWords } from "./manage_common.js";
import { COLOURS, baseOption, categoryAxis, draw, fitHeight, pct, percentAxis, rowTip } from "./manage_charts.js";

const state = new PeriodReport();

function renderTotals() {
  const t = rowObjects(state.table("quality_totals"))[0] || {};
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
  state.csv("quality_totals");
}

/** The calibration chart of a quality table: stacked shares below / within / above, one bar per row. */
function renderCalibration(name, label) {
  const rows = rowObjects(state.table(name));
  const node = fitHeight(document.getElementById(`${name}-chart`), rows.length, 34, 80);
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
      tooltip: rowTip(rows, (row, list) => [
        ...list.map((p) => ({ colour: p.color, label: p.seriesName, value: p.value == null ? "—" : `${p.value} %` })),
        { label: _("Promised"), value: String(row.promised) },
        { label: _("Broken"), value: `${row.broken} (${fmtShare(row.broken_share)})` },
        { label: _("Mean error (min)"), value: fmtMinutes(row.mae_min) },
      ]),
      xAxis: percentAxis(),
      yAxis: categoryAxis(labels, { inverse: true, axisLabel: { color: COLOURS.text, width: 120, overflow: "truncate" } }),
      series,
    }),
    { empty: !rows.length },
  );
  state.showTable(name, { empty: _("No promises in this period.") });
}

function ticketLink(label, row) {
  return manageLink("mg-ticket-link ticket-label", label, managePath(page.branch, `tickets/${encodeURIComponent(row.day)}/${encodeURIComponent(label)}`));
}

function renderBroken() {
  const source = state.table("broken_promises");
  const columns = ["ticket", "day", "issued_at", "service", "counter", "told", "waited_min", "over_by_min"];
  const shown = source ? { columns, rows: rowObjects(source).map((r) => columns.map((c) => (c === "told" ? [r.told_low_min, r.told_high_min] : c === "issued_at" ? [r.issued_at, r.day] : r[c]))) } : null;
  state.showTable(
    "broken_promises",
    {
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
    },
    shown,
  );
}

function render() {
  renderTotals();
  renderBroken();
  renderCalibration("quality_by_service", (r) => state.names.service(r.service));
  renderCalibration("quality_by_hour", (r) => fmtHour(r.hour));
  renderCalibration("quality_by_counter", (r) => state.names.counter(r.counter));
}

state.start(document.getElementById("promises"), () => _("Promises"), render);
document.documentElement.dataset.lang = language();
