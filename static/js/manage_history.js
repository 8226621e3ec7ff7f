// A branch's history (/manage/<branch>/history): a period's arrivals, waits, service level,
// transactions, utilisation and pauses, each as a chart with its table and its CSV, from
// GET /api/v1/branches/<b>/reports/history (the period and filters live in the address bar).

import { _ } from "./i18n.js";
import { PeriodReport, fmtCount, fmtHour, fmtMinutes, fmtShare, fmtShortDay, rowObjects, setTile, weekdayName } from "./manage_common.js";
import { ACTIVITY_COLOURS, COLOURS, arrivalsAndServed, axisTip, axisTooltip, baseOption, categoryAxis, draw, fitHeight, itemTip, pct, percentAxis, rightAxis, rowTip, ticketsAndMinutes, tooltipBox, valueAxis } from "./manage_charts.js";

const state = new PeriodReport();

const minutesWord = (v) => (v == null ? "—" : _("%(num)s min", { num: fmtMinutes(v) }));
const percentWord = (v) => (v == null ? "—" : `${v} %`);

// sections ---------------------------------------------------------------------------------------
function renderTotals() {
  const t = rowObjects(state.table("totals"))[0] || {};
  const target = state.payload.target_minutes;
  setTile("arrivals", fmtCount(t.arrivals), _("%(no_shows)s no-shows, %(cancelled)s cancelled", { no_shows: t.no_shows ?? 0, cancelled: t.cancelled ?? 0 }));
  setTile("served", fmtCount(t.served), t.transactions != null ? _("%(num)s transactions", { num: t.transactions }) : "");
  setTile("service-level", fmtShare(t.service_level), _("called within %(num)s min", { num: target }), t.service_level == null ? "" : t.service_level >= 0.8 ? "good" : "warn");
  setTile("wait", t.wait_p50_min == null ? "—" : minutesWord(t.wait_p50_min), t.wait_max_min == null ? "" : _("longest %(num)s min", { num: t.wait_max_min }));
  setTile("wait-p90", t.wait_p90_min == null ? "—" : minutesWord(t.wait_p90_min), _("9 in 10 waited less"));
  setTile("duration", t.duration_p50_min == null ? "—" : minutesWord(t.duration_p50_min), t.duration_p90_min == null ? "" : _("p90 %(num)s min", { num: t.duration_p90_min }));
  setTile("util-open", fmtShare(t.utilisation_open), _("%(num)s min open", { num: fmtMinutes(t.open_min) }));
  setTile("util-staffed", fmtShare(t.utilisation_staffed), _("%(num)s min paused", { num: fmtMinutes(t.paused_min) }));
  state.csv("totals");
}

function renderByDay() {
  const rows = rowObjects(state.table("by_day"));
  draw(
    document.getElementById("by_day-chart"),
    baseOption({
      tooltip: axisTip(axisTooltip((i, v) => (i === 2 ? percentWord(v) : v == null ? "—" : String(v)))),
      xAxis: categoryAxis(rows.map((r) => fmtShortDay(r.day))),
      yAxis: [valueAxis({ name: _("tickets"), minInterval: 1 }), rightAxis(percentAxis({ name: _("service level"), splitLine: { show: false } }))],
      dataZoom: rows.length > 31 ? [{ type: "inside" }, { type: "slider", height: 18, bottom: 0, textStyle: { color: COLOURS.muted } }] : [],
      grid: { left: 8, right: 16, top: 52, bottom: rows.length > 31 ? 30 : 8, containLabel: true },
      series: [
        ...arrivalsAndServed(rows, 24),
        { type: "line", name: _("Service level"), yAxisIndex: 1, data: rows.map((r) => pct(r.service_level)), connectNulls: false, symbolSize: 7, itemStyle: { color: COLOURS.accent } },
      ],
    }),
    { empty: !rows.some((r) => r.arrivals) },
  );
  state.showTable("by_day", { caption: _("By day") });
}

function renderByHour() {
  const rows = rowObjects(state.table("by_hour"));
  draw(
    document.getElementById("by_hour-chart"),
    baseOption({
      tooltip: axisTip(axisTooltip((i, v) => (i >= 2 ? minutesWord(v) : v == null ? "—" : String(v)))),
      xAxis: categoryAxis(rows.map((r) => fmtHour(r.hour))),
      yAxis: ticketsAndMinutes(),
      series: [
        ...arrivalsAndServed(rows, 26),
        { type: "line", name: _("Median wait (min)"), yAxisIndex: 1, data: rows.map((r) => r.wait_p50_min), smooth: true, connectNulls: true, itemStyle: { color: COLOURS.accent } },
        { type: "line", name: _("Wait p90 (min)"), yAxisIndex: 1, data: rows.map((r) => r.wait_p90_min), smooth: true, connectNulls: true, lineStyle: { type: "dashed" }, itemStyle: { color: COLOURS.danger } },
      ],
    }),
    { empty: !rows.length },
  );
  state.showTable("by_hour", { caption: _("By hour of the day") });
}

function renderByService() {
  const rows = rowObjects(state.table("by_service"));
  draw(
    document.getElementById("by_service-chart"),
    baseOption({
      tooltip: axisTip(axisTooltip((i, v) => (i === 4 ? percentWord(v) : minutesWord(v)))),
      xAxis: categoryAxis(rows.map((r) => state.names.service(r.service)), { axisLabel: { color: COLOURS.text, interval: 0, width: 120, overflow: "truncate" } }),
      yAxis: [valueAxis({ name: _("min") }), rightAxis(percentAxis({ name: _("service level"), splitLine: { show: false } }))],
      series: [
        { type: "bar", name: _("Median wait (min)"), data: rows.map((r) => r.wait_p50_min), barMaxWidth: 22 },
        { type: "bar", name: _("Wait p90 (min)"), data: rows.map((r) => r.wait_p90_min), barMaxWidth: 22 },
        { type: "bar", name: _("Median transaction (min)"), data: rows.map((r) => r.duration_p50_min), barMaxWidth: 22 },
        { type: "bar", name: _("Transaction p90 (min)"), data: rows.map((r) => r.duration_p90_min), barMaxWidth: 22 },
        { type: "scatter", name: _("Service level"), yAxisIndex: 1, data: rows.map((r) => pct(r.service_level)), symbol: "diamond", symbolSize: 16, itemStyle: { color: COLOURS.accent } },
      ],
    }),
    { empty: !rows.length },
  );
  state.showTable("by_service", { caption: _("By service") });
}

function renderByCounter() {
  const rows = rowObjects(state.table("by_counter"));
  const node = fitHeight(document.getElementById("by_counter-chart"), rows.length, 44, 70);
  const activities = [
    ["serving_min", "serving", _("Serving")],
    ["wrap_up_min", "wrap_up", _("Wrapping up")],
    ["paused_min", "paused", _("Paused")],
    ["idle_min", "idle", _("Idle")],
  ];
  const labels = rows.map((r) => state.names.counter(r.counter));
  const wide = node.clientWidth >= 620;
  draw(
    node,
    baseOption({
      tooltip: rowTip(rows, (row, list) => [
        ...list.map((p) => ({ colour: p.color, label: p.seriesName, value: minutesWord(p.value) })),
        { label: _("Utilisation of open time"), value: fmtShare(row.utilisation_open) },
        { label: _("Utilisation of staffed time"), value: fmtShare(row.utilisation_staffed) },
      ]),
      xAxis: valueAxis({ name: _("min") }),
      yAxis: categoryAxis(labels, { inverse: true, axisLabel: { color: COLOURS.text, fontWeight: "bold" } }),
      series: [
        ...activities.map(([key, activity, name]) => ({
          type: "bar",
          name,
          stack: "time",
          data: rows.map((r) => r[key]),
          barMaxWidth: 26,
          itemStyle: { color: ACTIVITY_COLOURS[activity] },
        })),
        {
          // the utilisation, written at the end of each bar
          type: "bar",
          name: "",
          stack: "time",
          data: rows.map(() => 0),
          tooltip: { show: false },
          label: {
            show: wide,
            position: "right",
            color: COLOURS.text,
            formatter: (d) => _("%(open)s of open · %(staffed)s of staffed", { open: fmtShare(rows[d.dataIndex].utilisation_open, 0), staffed: fmtShare(rows[d.dataIndex].utilisation_staffed, 0) }),
          },
        },
      ],
      legend: { ...baseOption().legend, data: activities.map((a) => a[2]) },
      // room for the utilisation after each bar, when there is room at all (a phone has it in the table)
      grid: { left: 8, right: wide ? 200 : 16, top: 52, bottom: 8, containLabel: true },
    }),
    { empty: !rows.length },
  );
  state.showTable("by_counter", { caption: _("By counter") });
}

function renderPauses() {
  const rows = rowObjects(state.table("pauses"));
  draw(
    fitHeight(document.getElementById("pauses-chart"), rows.length, 44, 70),
    baseOption({
      tooltip: rowTip(rows, (row) => [
        { label: _("Pauses"), value: String(row.pauses) },
        { label: _("Total (min)"), value: fmtMinutes(row.total_min) },
        { label: _("Declared (min)"), value: fmtMinutes(row.declared_min) },
        { colour: COLOURS.danger, label: _("Overrun (min)"), value: fmtMinutes(row.overrun_min) },
        { label: _("Overran"), value: String(row.overran) },
      ]),
      xAxis: valueAxis({ name: _("min") }),
      yAxis: categoryAxis(rows.map((r) => state.names.reason(r.reason)), { inverse: true, axisLabel: { color: COLOURS.text } }),
      series: [
        { type: "bar", name: _("within the declared time"), stack: "pause", data: rows.map((r) => Math.max(0, Math.round((r.total_min - r.overrun_min) * 10) / 10)), itemStyle: { color: COLOURS.paused }, barMaxWidth: 26 },
        {
          type: "bar",
          name: _("past the declared time"),
          stack: "pause",
          data: rows.map((r) => r.overrun_min),
          itemStyle: { color: COLOURS.danger },
          barMaxWidth: 26,
          label: { show: true, position: "right", color: COLOURS.text, formatter: (d) => (d.value ? _("+%(num)s min", { num: d.value }) : "") },
        },
        { type: "scatter", name: _("declared"), data: rows.map((r) => r.declared_min), symbol: "rect", symbolSize: [4, 30], itemStyle: { color: COLOURS.text } },
      ],
      grid: { left: 8, right: 70, top: 52, bottom: 8, containLabel: true },
    }),
    { empty: !rows.length },
  );
  state.showTable("pauses", { caption: _("Pauses by reason"), empty: _("No pauses in this period.") });
}

function renderHeatmap() {
  const rows = rowObjects(state.table("heatmap"));
  const hours = [...new Set(rows.map((r) => r.hour))].sort((a, b) => a - b);
  const weekdays = [...new Set(rows.map((r) => r.weekday))].sort((a, b) => a - b);
  const max = Math.max(1, ...rows.map((r) => r.wait_mean_min || 0));
  draw(
    fitHeight(document.getElementById("heatmap-chart"), weekdays.length, 40, 110),
    baseOption({
      legend: { show: false },
      tooltip: itemTip((params) => {
        const row = rows[params.dataIndex];
        return tooltipBox(`${weekdayName(row.weekday, "long")} ${fmtHour(row.hour)}`, [
          { label: _("Mean wait (min)"), value: fmtMinutes(row.wait_mean_min) },
          { label: _("Wait p90 (min)"), value: fmtMinutes(row.wait_p90_min) },
          { label: _("Tickets"), value: String(row.tickets) },
        ]);
      }),
      grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
      xAxis: categoryAxis(hours.map(fmtHour), { splitArea: { show: false } }),
      yAxis: categoryAxis(weekdays.map((w) => weekdayName(w)), { inverse: true, axisLabel: { color: COLOURS.text } }),
      visualMap: {
        min: 0,
        max,
        calculable: true,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        itemHeight: 160,
        text: [_("longer"), _("shorter")],
        textStyle: { color: COLOURS.muted },
        inRange: { color: ["#1b2a4a", "#2f6f9f", "#ffd43b", "#ff6b6b"] },
      },
      series: [
        {
          type: "heatmap",
          name: _("Mean wait (min)"),
          data: rows.map((r) => [hours.indexOf(r.hour), weekdays.indexOf(r.weekday), r.wait_mean_min ?? 0]),
          label: { show: hours.length <= 12, color: COLOURS.text, fontSize: 11, formatter: (d) => fmtMinutes(rows[d.dataIndex].wait_mean_min) },
          itemStyle: { borderColor: COLOURS.panel, borderWidth: 2 },
        },
      ],
    }),
    { empty: !rows.length },
  );
  state.showTable("heatmap", { caption: _("Waits by weekday and hour") });
}

function render() {
  renderTotals();
  renderByDay();
  renderByHour();
  renderByService();
  renderByCounter();
  renderPauses();
  renderHeatmap();
}

state.start(document.getElementById("history"), () => _("History"), render);
