// ECharts for the managers' pages: one chart per element, resized with its box, drawn on canvas
// in the screens' dark palette, tooltips built as DOM nodes (textContent only, no HTML strings).
// ECharts comes from node_modules via /vendor/echarts.min.js (a classic script before the modules).

import { _ } from "./i18n.js";
import { el } from "./live.js";

/** The palette of common.css, for canvas (which cannot read CSS variables cheaply). */
export const COLOURS = {
  text: "#f4f6fb",
  muted: "#b3bdd1",
  faint: "#7d89a3",
  line: "#2b3757",
  panel: "#131b2e",
  accent: "#ffd43b",
  serving: "#74c0fc",
  wrap_up: "#b197fc",
  paused: "#ffa94d",
  idle: "#69db7c",
  closed: "#4a5160",
  danger: "#ff8787",
  series: ["#74c0fc", "#69db7c", "#ffd43b", "#ff8787", "#b197fc", "#ffa94d", "#63e6be", "#f783ac"],
};

/** The colour of each counter activity (the same on the cards, the timeline and the legend). */
export const ACTIVITY_COLOURS = {
  serving: COLOURS.serving,
  wrap_up: COLOURS.wrap_up,
  paused: COLOURS.paused,
  idle: COLOURS.idle,
  closed: COLOURS.closed,
};

const FONT = '"Segoe UI", "Helvetica Neue", Roboto, "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", system-ui, sans-serif';

const charts = new Map();

/** Whether the chart library loaded (else the tables still show, and the charts say why not). */
export function chartsAvailable() {
  return typeof window.echarts === "object" && window.echarts !== null;
}

/** The ECharts instance of `node` (made on first use, resized with its box). */
export function chartOf(node) {
  if (!node) return null;
  if (!chartsAvailable()) {
    if (!node.dataset.unavailable) {
      node.dataset.unavailable = "1";
      node.replaceChildren(el("p", "mg-empty", _("Charts are unavailable: the chart library did not load. The tables below have every figure.")));
    }
    return null;
  }
  let chart = charts.get(node);
  if (!chart) {
    chart = window.echarts.init(node, null, { renderer: "canvas" });
    charts.set(node, chart);
    if (typeof ResizeObserver === "function") {
      let frame = 0;
      new ResizeObserver(() => {
        window.cancelAnimationFrame(frame);
        frame = window.requestAnimationFrame(() => chart.resize());
      }).observe(node);
    }
  }
  return chart;
}

/** What every chart shares: transparent background, the palette, the font, a compact grid. */
export function baseOption(extra = {}) {
  return {
    backgroundColor: "transparent",
    color: COLOURS.series,
    textStyle: { color: COLOURS.muted, fontFamily: FONT, fontSize: 12 },
    animationDuration: 300,
    animationDurationUpdate: 300,
    // room above the plot for the legend, and below it for the axes' names
    grid: { left: 8, right: 16, top: 52, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: { color: COLOURS.muted, fontFamily: FONT }, itemWidth: 14, itemHeight: 10, type: "scroll", pageTextStyle: { color: COLOURS.muted } },
    tooltip: {
      trigger: "axis",
      confine: true,
      backgroundColor: "#0b1020",
      borderColor: COLOURS.line,
      textStyle: { color: COLOURS.text, fontFamily: FONT },
      axisPointer: { type: "shadow" },
    },
    ...extra,
  };
}

/** A value axis in the palette. */
export function valueAxis(extra = {}) {
  return {
    type: "value",
    axisLine: { show: false },
    axisLabel: { color: COLOURS.muted },
    splitLine: { lineStyle: { color: COLOURS.line } },
    nameTextStyle: { color: COLOURS.muted, align: "left" },
    ...extra,
  };
}

/** A category axis in the palette. */
export function categoryAxis(data, extra = {}) {
  return {
    type: "category",
    data,
    axisLine: { lineStyle: { color: COLOURS.line } },
    axisTick: { show: false },
    axisLabel: { color: COLOURS.muted, hideOverlap: true },
    ...extra,
  };
}

/** An axis on the right of the chart (its name aligned so it stays inside the chart). */
export function rightAxis(axis) {
  return { ...axis, nameTextStyle: { ...(axis.nameTextStyle || {}), color: COLOURS.muted, align: "right" } };
}

/** A percentage axis (0–100 %) for shares. */
export function percentAxis(extra = {}) {
  return valueAxis({ min: 0, max: 100, axisLabel: { color: COLOURS.muted, formatter: "{value} %" }, ...extra });
}

/** A share 0..1 as a percentage for a chart (null stays a gap). */
export function pct(value) {
  return value == null ? null : Math.round(Number(value) * 1000) / 10;
}

/**
 * A tooltip as DOM: a title, then lines of (colour, label, value). Returned from an ECharts
 * `formatter`, which then inserts the node as it is (no HTML is parsed).
 */
export function tooltipBox(title, lines = []) {
  const box = el("div", "mg-tip");
  if (title) box.append(el("p", "mg-tip-title", title));
  for (const line of lines) {
    const p = el("p", "mg-tip-line");
    if (line.colour) {
      const dot = el("span", "mg-tip-dot");
      dot.style.background = line.colour;
      p.append(dot);
    }
    p.append(el("span", "mg-tip-label", line.label));
    if (line.value != null) p.append(el("span", "mg-tip-value", line.value));
    box.append(p);
  }
  return box;
}

/** The tooltip of baseOption (over one category of the axis) with `formatter`. */
export function axisTip(formatter) {
  return { ...baseOption().tooltip, formatter };
}

/** A tooltip over one item (a heat map's cell, a timeline's segment) with `formatter`. */
export function itemTip(formatter) {
  return { trigger: "item", confine: true, backgroundColor: "#0b1020", borderColor: COLOURS.line, formatter };
}

/**
 * An axis tooltip over one category that is one row of `rows`: titled with the category, its
 * lines `lines(row, params)` (`params`: the category's series, as ECharts gives them).
 */
export function rowTip(rows, lines) {
  return axisTip((params) => {
    const list = Array.isArray(params) ? params : [params];
    return tooltipBox(list[0].name, lines(rows[list[0].dataIndex], list));
  });
}

/** Make the chart `node` tall enough for `count` bars of `perBar` px and `extra` px (at least `least`). */
export function fitHeight(node, count, perBar, extra, least = 200) {
  node.style.height = `${Math.max(least, count * perBar + extra)}px`;
  return node;
}

/** The two y axes of counts and waits: tickets on the left, minutes on the right. */
export function ticketsAndMinutes() {
  return [valueAxis({ name: _("tickets"), minInterval: 1 }), rightAxis(valueAxis({ name: _("min"), splitLine: { show: false } }))];
}

/** The bars of each row's arrivals and served. */
export function arrivalsAndServed(rows, barMaxWidth) {
  return [
    { type: "bar", name: _("Arrivals"), data: rows.map((r) => r.arrivals), barMaxWidth },
    { type: "bar", name: _("Served"), data: rows.map((r) => r.served), barMaxWidth },
  ];
}

/** An axis tooltip over the series of one category, each value worded by `word(seriesIndex, value)`. */
export function axisTooltip(word) {
  return (params) => {
    const list = Array.isArray(params) ? params : [params];
    if (!list.length) return "";
    return tooltipBox(
      list[0].axisValueLabel || list[0].name,
      list.map((p) => ({ colour: typeof p.color === "string" ? p.color : null, label: p.seriesName, value: word(p.seriesIndex, p.value) })),
    );
  };
}

/** Draw `option` on the chart of `node` (replacing the previous option), or say there are no data. */
export function draw(node, option, { empty = false } = {}) {
  const chart = chartOf(node);
  if (!chart) return null;
  node.dataset.empty = empty ? "1" : "0";
  if (empty) {
    chart.clear();
    chart.setOption({
      backgroundColor: "transparent",
      title: { text: _("No data for this period."), left: "center", top: "middle", textStyle: { color: COLOURS.faint, fontSize: 14, fontWeight: "normal", fontFamily: FONT } },
    });
    return chart;
  }
  chart.setOption(option, { notMerge: true, lazyUpdate: true });
  return chart;
}
