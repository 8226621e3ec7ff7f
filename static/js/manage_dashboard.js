// A branch's live dashboard (/manage/<branch>): today's figures, each counter's state and for how
// long, the state timeline, utilisation, queues, alerts and the hourly picture. Live from the
// `/manage` Socket.IO namespace only (a `dashboard` payload on connect and after every change;
// never polled); the timers tick here on the server's clock (offset and rate from each payload's
// `now`, so they are right in the accelerated demo too).

import { formatClock, formatDate, formatElapsed, formatRange, sentence } from "./format.js";
import { N_, _, language, ngettext, onLanguageChange } from "./i18n.js";
import {
  Names,
  connectManage,
  el,
  fmtCount,
  fmtDay,
  fmtHour,
  fmtShare,
  initNav,
  page,
  postJson,
  renderTable,
  rowObjects,
  setCsvLink,
  setLocalCsvLink,
  setText,
  setTile,
  showBranchName,
  showError,
} from "./manage_common.js";
import { ACTIVITY_COLOURS, COLOURS, arrivalsAndServed, axisTip, axisTooltip, baseOption, categoryAxis, chartOf, draw, fitHeight, itemTip, pct, percentAxis, rightAxis, ticketsAndMinutes, tooltipBox, valueAxis } from "./manage_charts.js";

const HOUR_MS = 3_600_000;

/** Each activity in words (never colour alone). */
const ACTIVITY_WORDS = {
  serving: N_("Serving"),
  calling: N_("Calling"),
  wrap_up: N_("Wrapping up"),
  paused: N_("Paused"),
  idle: N_("Idle"),
  closed: N_("Closed"),
};
const ACTIVITY_SYMBOLS = { serving: "▶", calling: "»", wrap_up: "…", paused: "‖", idle: "●", closed: "✕" };
const TIMELINE_ORDER = ["serving", "wrap_up", "paused", "idle", "closed"];

function activityWord(activity) {
  return ACTIVITY_WORDS[activity] ? _(ACTIVITY_WORDS[activity]) : activity;
}

const state = { payload: null, names: new Names(null), ticking: [] };
let live = null;

/** The server's time now (ms). */
function serverNow() {
  return live ? live.clock.now() : Date.now();
}

/** The branch's UTC offset in minutes (the browser's when the branch has no day yet). */
function offsetMinutes(payload = state.payload) {
  return payload && Number.isFinite(payload.utc_offset) ? payload.utc_offset / 60 : -new Date().getTimezoneOffset();
}

function clockAt(seconds, withSeconds = false) {
  return formatClock(seconds * 1000, offsetMinutes(), withSeconds);
}

/** A node whose text follows the clock: `fn(nowMs)` → text, run now and every second. */
function ticking(node, fn) {
  state.ticking.push({ node, fn });
  setText(node, fn(serverNow()));
  return node;
}

function tick() {
  const now = serverNow();
  if (state.payload) setText(document.getElementById("clock"), formatClock(now, offsetMinutes(), true));
  for (const { node, fn } of state.ticking) setText(node, fn(now));
}

/** Seconds since the payload's `now`, on the server's clock (for figures computed at `now`). */
function sincePayload(now) {
  return state.payload ? Math.max(0, now / 1000 - state.payload.now) : 0;
}

// tiles ---------------------------------------------------------------------------------------
function renderTiles(p) {
  const today = p.today || {};
  const promises = p.promises || {};
  setTile("waiting", String(p.waiting_total ?? 0), p.waiting_total ? ngettext("%(num)s service with a queue", "%(num)s services with a queue", p.waiting.length) : _("No one waiting"));
  const longest = p.waiting.reduce((best, w) => (best && best.longest_wait_s >= w.longest_wait_s ? best : w), null);
  const tile = document.getElementById("tile-longest");
  if (longest) {
    const target = p.target_minutes * 60;
    setTile("longest", "", _("ticket %(ticket)s, %(service)s", { ticket: longest.longest_ticket, service: state.names.service(longest.service) }));
    ticking(tile.querySelector(".mg-tile-value"), (now) => {
      const seconds = longest.longest_wait_s + sincePayload(now);
      if (seconds > target) tile.dataset.tone = "warn";
      else delete tile.dataset.tone;
      return formatElapsed(seconds * 1000);
    });
  } else {
    setTile("longest", "—", _("No one waiting"));
  }
  setTile("served", fmtCount(today.served ?? 0), ngettext("of %(num)s arrival", "of %(num)s arrivals", today.arrivals ?? 0));
  const level = today.service_level;
  setTile(
    "service-level",
    fmtShare(level, 0),
    _("called within %(num)s min", { num: p.target_minutes }),
    level == null ? "" : level >= 0.8 ? "good" : "warn",
  );
  setTile("util-open", fmtShare(p.utilisation.open, 0), _("serving and wrap-up ÷ open time"));
  setTile("util-staffed", fmtShare(p.utilisation.staffed, 0), _("the same ÷ open time less pauses"));
  const broken = promises.broken_share;
  setTile(
    "broken",
    fmtShare(broken, 0),
    promises.promised ? ngettext("%(broken)s of %(num)s promise broken", "%(broken)s of %(num)s promises broken", promises.promised, { broken: promises.broken ?? 0 }) : _("No promises to check yet"),
    broken == null ? "" : broken > 0.1 ? "warn" : "good",
  );
}

// counter cards --------------------------------------------------------------------------------
function shownActivity(counter) {
  return counter.activity === "serving" && counter.ticket && counter.started_at == null ? "calling" : counter.activity;
}

function counterCard(counter, p) {
  const activity = shownActivity(counter);
  const card = el("li", "mg-counter");
  card.dataset.counter = counter.counter;
  card.dataset.activity = activity;
  const head = el("div", "mg-counter-head");
  head.append(el("h3", "mg-counter-name", state.names.counter(counter.counter)));
  const status = el("p", "mg-counter-state");
  status.append(el("span", "mg-state-symbol", ACTIVITY_SYMBOLS[activity] || "●"), document.createTextNode(" "));
  let words = activityWord(activity);
  if (activity === "paused") words = _("Paused (%(reason)s)", { reason: state.names.reason(counter.reason) });
  status.append(el("span", "mg-state-word", words));
  head.append(status);
  card.append(head);

  if (counter.since != null && activity !== "closed") {
    const since = el("p", "mg-counter-since");
    ticking(since, (now) => _("for %(time)s", { time: formatElapsed(now - counter.since * 1000) }));
    card.append(since);
  } else if (activity === "closed") {
    card.append(el("p", "mg-counter-since", counter.since != null ? _("since %(time)s", { time: clockAt(counter.since) }) : _("not opened today")));
  }

  if (counter.ticket) {
    const line = el("p", "mg-counter-ticket");
    line.append(el("span", "ticket-label", counter.ticket), document.createTextNode(" "), el("span", "mg-counter-service", state.names.service(counter.service)));
    card.append(line);
    const expected = counter.expected ? formatRange(counter.expected) : null;
    if (expected) card.append(el("p", "mg-counter-expected", _("expected %(range)s", { range: expected })));
    if (counter.started_at != null) {
      const running = el("p", "mg-counter-running");
      ticking(running, (now) => _("transaction running %(time)s", { time: formatElapsed(now - counter.started_at * 1000) }));
      card.append(running);
    }
  }

  const flags = el("ul", "mg-flags");
  if (activity === "paused" && counter.declared_minutes != null) {
    const flag = el("li", "mg-flag");
    flag.dataset.tone = "warn";
    const declared = counter.declared_minutes;
    ticking(flag, (now) => {
      const over = (now - counter.since * 1000) / 1000 - declared * 60;
      flag.hidden = over <= 0;
      return _("paused %(over)s min past its %(declared)s min", { over: Math.max(1, Math.floor(over / 60)), declared });
    });
    flags.append(flag);
  } else if (activity === "paused") {
    flags.append(el("li", "mg-flag", _("no return time given")));
  }
  if (counter.running_long) {
    const flag = el("li", "mg-flag", _("running long"));
    flag.dataset.tone = "warn";
    flags.append(flag);
  }
  if (flags.children.length) card.append(flags);

  const facts = el("p", "mg-counter-facts");
  facts.append(
    el("span", null, ngettext("%(num)s served", "%(num)s served", counter.served || 0)),
    el("span", null, _("%(share)s of open time busy", { share: fmtShare(counter.utilisation_open, 0) })),
  );
  card.append(facts);
  return card;
}

function renderCounters(p) {
  const list = document.getElementById("counter-cards");
  list.replaceChildren(...p.counters.map((c) => counterCard(c, p)));
  document.getElementById("counters-empty").hidden = p.counters.length > 0;
}

// alerts and queues ---------------------------------------------------------------------------
function renderAlerts(p) {
  const list = document.getElementById("alert-list");
  const items = [];
  const rows = [];
  for (const a of p.alerts.paused_over) {
    const li = el("li", "mg-alert");
    li.dataset.kind = "pause";
    li.append(el("span", "mg-alert-symbol", "‖"));
    const text = el("span", "mg-alert-text");
    ticking(text, (now) => {
      const over = a.over_by_s + sincePayload(now);
      return _("%(counter)s, paused (%(reason)s) since %(time)s: %(over)s min past its %(declared)s min", {
        counter: state.names.counter(a.counter),
        reason: state.names.reason(a.reason),
        time: clockAt(a.since),
        over: Math.max(1, Math.floor(over / 60)),
        declared: a.declared_minutes,
      });
    });
    li.append(text);
    items.push(li);
    rows.push(["pause_overrun", a.counter, a.reason || "", "", "", clockAt(a.since, true), a.declared_minutes ?? "", (a.over_by_s / 60).toFixed(1)]);
  }
  for (const a of p.alerts.running_long) {
    const li = el("li", "mg-alert");
    li.dataset.kind = "running";
    li.append(el("span", "mg-alert-symbol", "▶"));
    const text = el("span", "mg-alert-text");
    ticking(text, (now) =>
      _("%(counter)s, ticket %(ticket)s (%(service)s): running %(time)s, expected at most %(num)s min", {
        counter: state.names.counter(a.counter),
        ticket: a.ticket,
        service: state.names.service(a.service),
        time: formatElapsed((a.elapsed_s + sincePayload(now)) * 1000),
        num: Math.round(a.expected_p90_s / 60),
      }),
    );
    li.append(text);
    items.push(li);
    rows.push(["transaction_running_long", a.counter, "", a.ticket, a.service, clockAt(a.started_at, true), (a.expected_p90_s / 60).toFixed(1), (a.elapsed_s / 60).toFixed(1)]);
  }
  list.replaceChildren(...items);
  document.getElementById("alerts-empty").hidden = items.length > 0;
  setLocalCsvLink(
    document.getElementById("alerts-csv"),
    todayFile("alerts", p),
    ["alert", "counter", "reason", "ticket", "service", "since", "declared_or_expected_min", "over_or_elapsed_min"],
    rows,
  );
}

// early warnings (issue 11 item 1) ------------------------------------------------------------

/** How each warning ended, in words (docs/event-log.md "Warnings"). */
const OUTCOME_WORDS = {
  promise_kept: N_("promise kept"),
  promise_broken: N_("promise broken"),
  customer_left: N_("customer left"),
  risk_passed: N_("risk passed"),
  called: N_("counter called"),
  paused: N_("counter paused"),
  closed: N_("counter closed"),
  resumed: N_("counter resumed"),
  queue_empty: N_("queue emptied"),
  counter_opened: N_("a counter opened"),
  wait_fell: N_("wait fell"),
  back_to_norm: N_("back to the usual pace"),
  followed_up: N_("followed up"),
  day_ended: N_("day ended"),
  ended: N_("ended"),
};
const WARNING_SYMBOLS = {
  promise_at_risk: "◷",
  counter_idle_with_queue: "●",
  pause_overrun: "‖",
  many_paused: "‖‖",
  service_unserved: "✕",
  new_ticket_wait_high: "↑",
  duration_drift: "↗",
  feedback_overdue: "✉",
};
const WARNING_KIND_WORDS = {
  promise_at_risk: N_("Promise at risk"),
  counter_idle_with_queue: N_("Counter idle with a queue"),
  pause_overrun: N_("Pause past its minutes"),
  many_paused: N_("Many counters paused"),
  service_unserved: N_("Service nobody serves"),
  new_ticket_wait_high: N_("New tickets wait too long"),
  duration_drift: N_("Teller slower than usual"),
  feedback_overdue: N_("Complaint follow-up overdue"),
};

/** Promises at risk listed one by one; the rest are folded under one line. */
const PROMISES_LISTED = 3;

function wholeMinutes(seconds) {
  return Math.max(1, Math.round((seconds || 0) / 60));
}

/** One warning in a sentence, from its figures now (or as raised), `extra` seconds after the payload. */
function warningSentence(w, extra) {
  const f = { ...(w.facts || {}), ...(w.facts_now || {}) };
  const counter = w.subject != null ? state.names.counter(w.subject) : "";
  switch (w.kind) {
    case "promise_at_risk":
      if (f.broken || (f.slack ?? 0) - extra < 0) {
        return _("Ticket %(ticket)s (%(service)s) has waited %(num)s min, past the %(top)s min it was told", {
          ticket: w.subject, service: state.names.service(f.service), num: wholeMinutes((f.waited || 0) + extra), top: wholeMinutes(f.shown_top),
        });
      }
      return _("Ticket %(ticket)s (%(service)s) is likely (%(share)s) to wait past the %(top)s min it was told", {
        ticket: w.subject, service: state.names.service(f.service), share: fmtShare(f.p_break ?? 0, 0), top: wholeMinutes(f.shown_top),
      });
    case "counter_idle_with_queue":
      return ngettext(
        "%(counter)s has called nobody for %(time)s while %(num)s customer it serves waits",
        "%(counter)s has called nobody for %(time)s while %(num)s customers it serves wait",
        f.waiting || 0,
        { counter, time: formatElapsed(((f.idle || 0) + extra) * 1000) },
      );
    case "pause_overrun":
      return _("%(counter)s, paused (%(reason)s): %(over)s min past its %(declared)s min", {
        counter, reason: state.names.reason(f.reason), over: wholeMinutes((f.over || 0) + extra), declared: f.declared_minutes ?? "",
      });
    case "many_paused":
      return _("%(paused)s of %(open)s open counters are paused", { paused: (f.paused || []).length, open: f.open ?? "" });
    case "service_unserved":
      return ngettext(
        "No open counter serves %(service)s: %(num)s customer waits",
        "No open counter serves %(service)s: %(num)s customers wait",
        f.waiting || 0,
        { service: state.names.service(w.subject) },
      );
    case "new_ticket_wait_high":
      return _("A new %(service)s ticket would wait up to %(num)s min (target %(target)s min) while %(counters)s is closed or paused", {
        service: state.names.service(w.subject), num: wholeMinutes(f.p90), target: wholeMinutes(f.target),
        counters: (f.counters || []).map((c) => state.names.counter(c)).join(", "),
      });
    case "duration_drift":
      return ngettext(
        "%(counter)s: transactions slower than this teller's usual pace for %(num)s transaction",
        "%(counter)s: transactions slower than this teller's usual pace for %(num)s transactions",
        f.transactions || 0,
        { counter },
      );
    case "feedback_overdue":
      return f.owner
        ? _("Complaint %(id)s is past its follow-up deadline (%(owner)s)", { id: w.subject, owner: f.owner })
        : _("Complaint %(id)s is past its follow-up deadline", { id: w.subject });
    default:
      return _(WARNING_KIND_WORDS[w.kind] || w.kind);
  }
}

function acknowledgedWords(w) {
  const when = clockAt(w.acknowledged_at);
  const who = w.acknowledged_by || "";
  return w.note
    ? _("Seen by %(name)s at %(time)s: %(note)s", { name: who, time: when, note: w.note })
    : _("Seen by %(name)s at %(time)s", { name: who, time: when });
}

async function acknowledge(w, note, button) {
  button.disabled = true;
  try {
    const path = `${page.root}/api/v1/branches/${encodeURIComponent(page.branch)}/warnings/${encodeURIComponent(w.key)}/acknowledge`;
    await postJson(path, note ? { note } : {});
    showError(null);
  } catch (error) {
    button.disabled = false;
    showError(error);
  }
}

/** What a warning is about, in the page's language: a counter, a service, a ticket or a complaint. */
function warningSubject(w) {
  if (!w.subject) return "";
  if (["counter_idle_with_queue", "pause_overrun", "duration_drift"].includes(w.kind)) return state.names.counter(w.subject);
  if (["service_unserved", "new_ticket_wait_high"].includes(w.kind)) return state.names.service(w.subject);
  return w.subject;
}

function warningItem(w) {
  const li = el("li", "mg-warning");
  li.dataset.kind = w.kind;
  li.dataset.severity = w.severity;
  li.dataset.key = w.key;
  li.append(el("span", "mg-alert-symbol", WARNING_SYMBOLS[w.kind] || "!"));
  const body = el("div", "mg-warning-body");
  const head = el("p", "mg-warning-head");
  head.append(
    el("span", "mg-warning-severity", w.severity === "alert" ? _("Alert") : _("Warning")),
    el("span", "mg-warning-kind", _(WARNING_KIND_WORDS[w.kind] || w.kind)),
    el("span", "mg-warning-since", _("since %(time)s", { time: clockAt(w.raised_at) })),
  );
  const text = el("p", "mg-warning-text");
  ticking(text, (now) => warningSentence(w, sincePayload(now)));
  body.append(head, text);
  if (w.acknowledged_at != null) {
    body.append(el("p", "mg-warning-seen", acknowledgedWords(w)));
  } else {
    const form = el("form", "mg-warning-ack");
    const label = el("label", "visually-hidden", _("What did you do? (optional)"));
    const input = el("input", "mg-warning-note");
    input.type = "text";
    input.maxLength = 500;
    input.id = `note-${w.key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    label.htmlFor = input.id;
    input.placeholder = _("What did you do? (optional)");
    const button = el("button", "mg-button mg-warning-ack-button", _("Seen"));
    button.type = "submit";
    form.append(label, input, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      acknowledge(w, input.value.trim(), button);
    });
    body.append(form);
  }
  li.append(body);
  return li;
}

function renderWarnings(p) {
  const panel = p.warnings || { on: [], ended: [] };
  // keep what a manager is typing: a push rebuilds the list, so the notes are carried over
  const typed = {};
  for (const input of document.querySelectorAll("#warning-list .mg-warning-note")) {
    const key = input.closest(".mg-warning")?.dataset.key;
    if (key && input.value) typed[key] = { value: input.value, focused: document.activeElement === input };
  }
  // a busy morning can put a dozen promises at risk: the first few are listed, the rest folded
  // under one line, so the other kinds of warning stay in sight
  const promises = panel.on.filter((w) => w.kind === "promise_at_risk");
  const folded = new Set(promises.slice(PROMISES_LISTED).map((w) => w.key));
  const items = panel.on.filter((w) => !folded.has(w.key)).map(warningItem);
  const foldedItems = panel.on.filter((w) => folded.has(w.key)).map(warningItem);
  const list = document.getElementById("warning-list");
  const listed = [...items];
  if (foldedItems.length) {
    const more = el("li", "mg-warning-more");
    const details = el("details", "mg-details");
    details.open = state.morePromisesOpen === true;
    details.addEventListener("toggle", () => {
      state.morePromisesOpen = details.open;
    });
    details.append(
      el("summary", null, ngettext("%(num)s more customer whose promise is at risk", "%(num)s more customers whose promises are at risk", foldedItems.length)),
      el("ul", "mg-warnings"),
    );
    details.querySelector("ul").append(...foldedItems);
    more.append(details);
    listed.push(more);
  }
  list.replaceChildren(...listed);
  for (const li of [...items, ...foldedItems]) {
    const kept = typed[li.dataset.key];
    const input = li.querySelector(".mg-warning-note");
    if (kept && input) {
      input.value = kept.value;
      if (kept.focused) input.focus();
    }
  }
  document.getElementById("warnings-empty").hidden = items.length > 0;
  const columns = ["raised", "kind", "subject", "severity", "acknowledged_by", "acknowledged_at", "note", "ended", "outcome"];
  const rows = panel.ended.map((w) => [
    clockAt(w.raised_at), w.kind, w.subject || "", w.severity, w.acknowledged_by || "", w.acknowledged_at != null ? clockAt(w.acknowledged_at) : "", w.note || "", clockAt(w.cleared_at), w.outcome || "",
  ]);
  const box = document.getElementById("warnings-ended-box");
  box.hidden = rows.length === 0;
  setText(
    document.getElementById("warnings-ended-summary"),
    ngettext("%(num)s warning ended today", "%(num)s warnings ended today", rows.length),
  );
  const keys = ["raised", "warning", "about", "seen_by", "ended", "outcome"];
  const shown = (value) => String(value ?? "");
  renderTable(
    document.getElementById("warnings-ended-table"),
    {
      columns: keys,
      rows: panel.ended.map((w) => [
        clockAt(w.raised_at),
        _(WARNING_KIND_WORDS[w.kind] || w.kind),
        warningSubject(w),
        w.acknowledged_by ? `${w.acknowledged_by} ${clockAt(w.acknowledged_at)}` : "",
        clockAt(w.cleared_at),
        _(OUTCOME_WORDS[w.outcome] || w.outcome || ""),
      ]),
    },
    {
      headers: { raised: _("Raised"), warning: _("Warning"), about: _("About"), seen_by: _("Seen by"), ended: _("Ended"), outcome: _("How it ended") },
      format: Object.fromEntries(keys.map((k) => [k, shown])),
    },
  );
  setLocalCsvLink(document.getElementById("warnings-csv"), todayFile("warnings", p), columns, rows);
}

function renderWaiting(p) {
  const rows = p.waiting.map((w) => [w.service, w.waiting, w.longest_wait_s, w.longest_ticket]);
  const table = { columns: ["service", "waiting", "longest_wait", "longest_ticket"], rows };
  renderTable(document.getElementById("waiting-table"), table, {
    names: state.names,
    empty: _("No one is waiting."),
    cell: {
      longest_wait: (value) => {
        const span = el("span");
        ticking(span, (now) => formatElapsed((value + sincePayload(now)) * 1000));
        return span;
      },
    },
    caption: _("Waiting now by service"),
  });
  setLocalCsvLink(
    document.getElementById("waiting-csv"),
    todayFile("waiting", p),
    ["service", "waiting", "longest_wait_s", "longest_ticket"],
    rows,
  );
}

// the timeline --------------------------------------------------------------------------------
/** Every segment of today: {counter, activity, start, end, reason} in seconds (a running one ends now). */
function segments(p) {
  const out = [];
  for (const c of p.counters) {
    for (const [start, end, activity, reason] of p.timeline[c.counter] || []) {
      out.push({ counter: c.counter, start, end: end ?? p.now, activity, reason });
    }
  }
  return out;
}

/** A CSV's file name for today's `kind` ("main-alerts-2026-03-02.csv"). */
function todayFile(kind, p) {
  return `${page.branch}-${kind}-${p.day || "today"}.csv`;
}

function renderLegend(legend) {
  legend.replaceChildren(
    ...TIMELINE_ORDER.map((activity) => {
      const li = el("li");
      const swatch = el("span", "mg-swatch");
      swatch.style.background = ACTIVITY_COLOURS[activity];
      li.append(swatch, el("span", null, activityWord(activity)));
      return li;
    }),
  );
}

function renderTimeline(p) {
  const node = document.getElementById("timeline-chart");
  const all = segments(p);
  const counters = p.counters.map((c) => c.counter);
  const offsetMs = offsetMinutes(p) * 60_000;
  const open = all.filter((s) => s.activity !== "closed");
  renderLegend(document.getElementById("timeline-legend"));
  fitHeight(node, counters.length, 42, 56, 150);
  const chart = chartOf(node);
  if (chart) {
    const items = all.map((s) => ({ ...s, row: counters.indexOf(s.counter) }));
    const first = open.length ? Math.min(...open.map((s) => s.start)) : p.now - 3600;
    const min = Math.floor((first * 1000 + offsetMs) / HOUR_MS) * HOUR_MS;
    // up to a quarter of an hour past now: the chart is about what has happened
    const quarter = HOUR_MS / 4;
    const max = Math.max(min + HOUR_MS, Math.ceil((p.now * 1000 + offsetMs + 60_000) / quarter) * quarter);
    const echarts = window.echarts;
    const option = baseOption({
      useUTC: true, // the times are shifted to the branch's local time: show them as they are
      legend: { show: false },
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: itemTip((params) => {
        const s = items[params.dataIndex];
        if (!s) return "";
        const reason = s.activity === "paused" ? ` (${state.names.reason(s.reason)})` : "";
        const title = `${state.names.counter(s.counter)} · ${activityWord(s.activity)}${reason}`;
        return tooltipBox(title, [
          { colour: ACTIVITY_COLOURS[s.activity], label: `${clockAt(s.start)}–${clockAt(s.end)}`, value: formatElapsed((s.end - s.start) * 1000) },
        ]);
      }),
      xAxis: {
        type: "time",
        min,
        max,
        axisLine: { lineStyle: { color: COLOURS.line } },
        axisLabel: { color: COLOURS.muted, formatter: "{HH}:{mm}", hideOverlap: true },
        splitLine: { show: true, lineStyle: { color: COLOURS.line } },
      },
      yAxis: categoryAxis(
        counters.map((c) => state.names.counter(c)),
        { inverse: true, axisLabel: { color: COLOURS.text, fontWeight: "bold" } },
      ),
      series: [
        {
          type: "custom",
          name: _("State"),
          encode: { x: [1, 2], y: 0 },
          data: items.map((s) => [s.row, s.start * 1000 + offsetMs, s.end * 1000 + offsetMs]),
          renderItem: (params, api) => {
            const s = items[params.dataIndex];
            const row = api.value(0);
            const start = api.coord([api.value(1), row]);
            const end = api.coord([api.value(2), row]);
            const height = api.size([0, 1])[1] * 0.64;
            const shape = echarts.graphic.clipRectByRect(
              { x: start[0], y: start[1] - height / 2, width: Math.max(1, end[0] - start[0]), height },
              { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height },
            );
            if (!shape) return null;
            const rect = { type: "rect", shape, style: { fill: ACTIVITY_COLOURS[s.activity] || COLOURS.faint, opacity: s.activity === "closed" ? 0.55 : 1 } };
            if (s.activity !== "paused" || shape.width < 30) return rect;
            return {
              type: "group",
              children: [
                rect,
                {
                  type: "text",
                  style: {
                    text: state.names.reason(s.reason),
                    x: shape.x + shape.width / 2,
                    y: shape.y + shape.height / 2,
                    align: "center",
                    verticalAlign: "middle",
                    fill: "#1f1300",
                    font: "600 11px sans-serif",
                    width: shape.width - 6,
                    overflow: "truncate",
                  },
                },
              ],
            };
          },
        },
      ],
    });
    draw(node, option, { empty: !open.length });
  }

  // per counter: minutes in each state today, and utilisation
  const totals = {};
  for (const s of all) {
    totals[s.counter] ||= { serving: 0, wrap_up: 0, paused: 0, idle: 0 };
    if (s.activity in totals[s.counter]) totals[s.counter][s.activity] += s.end - s.start;
  }
  const columns = ["counter", "activity", "serving_min", "wrap_up_min", "paused_min", "idle_min", "open_min", "served", "utilisation_open", "utilisation_staffed"];
  const rows = p.counters.map((c) => {
    const t = totals[c.counter] || { serving: 0, wrap_up: 0, paused: 0, idle: 0 };
    const openSeconds = t.serving + t.wrap_up + t.paused + t.idle;
    return [c.counter, shownActivity(c), t.serving / 60, t.wrap_up / 60, t.paused / 60, t.idle / 60, openSeconds / 60, c.served, c.utilisation_open, c.utilisation_staffed];
  });
  renderTable(document.getElementById("timeline-table"), { columns, rows }, {
    names: state.names,
    format: { activity: (value) => activityWord(value) },
    headers: { activity: _("Now") },
    caption: _("Minutes in each state today, by counter"),
    empty: _("Nothing recorded today yet."),
  });
  setLocalCsvLink(document.getElementById("timeline-csv"), todayFile("counter-states", p), columns, rows.map((r) => r.map((v) => (typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v))));

  const segmentColumns = ["counter", "activity", "from", "to", "length", "reason"];
  const segmentRows = all.filter((s) => s.activity !== "closed" || s.start >= (open.length ? Math.min(...open.map((o) => o.start)) : 0)).map((s) => [s.counter, s.activity, s.start, s.end, s.end - s.start, s.activity === "paused" ? s.reason : ""]);
  renderTable(document.getElementById("segments-table"), { columns: segmentColumns, rows: segmentRows }, {
    names: state.names,
    format: {
      activity: (value) => activityWord(value),
      from: (value) => clockAt(value, true),
      to: (value) => clockAt(value, true),
      length: (value) => formatElapsed(value * 1000),
      reason: (value, row) => (row.activity === "paused" ? state.names.reason(value) : ""),
    },
    caption: _("Every state change today"),
    empty: _("Nothing recorded today yet."),
  });
  setLocalCsvLink(
    document.getElementById("segments-csv"),
    todayFile("segments", p),
    ["counter", "activity", "from", "to", "seconds", "reason"],
    segmentRows.map(([counter, activity, start, end, length, reason]) => [counter, activity, clockAt(start, true), clockAt(end, true), Math.round(length), reason || ""]),
  );
}

// utilisation, hours, services -------------------------------------------------------------------
function todayCsv(link, table, p) {
  if (p.day) setCsvLink(link, table, { from: p.day, to: p.day });
  else link.hidden = true;
}

/** Today's arrivals and served (bars) with their waits (`waits`, minutes on the right), over `xAxis`. */
function drawToday(id, rows, xAxis, barMaxWidth, waits) {
  draw(
    document.getElementById(id),
    baseOption({
      tooltip: axisTip(axisTooltip((i, v) => (v == null ? "—" : i >= 2 ? _("%(num)s min", { num: v }) : String(v)))),
      xAxis,
      yAxis: ticketsAndMinutes(),
      series: [...arrivalsAndServed(rows, barMaxWidth), ...waits],
    }),
    { empty: !rows.length },
  );
}

/** The table of today's report `table` in `#<id>-table`, and `#<id>-csv` at the report's CSV `csv` of today. */
function todayTable(id, table, csv, p, options) {
  renderTable(document.getElementById(`${id}-table`), table, { names: state.names, empty: _("Nothing recorded today yet."), ...options });
  todayCsv(document.getElementById(`${id}-csv`), csv, p);
}

function renderUtilisation(p) {
  const labels = [_("All counters"), ...p.counters.map((c) => state.names.counter(c.counter))];
  const open = [pct(p.utilisation.open), ...p.counters.map((c) => pct(c.utilisation_open))];
  const staffed = [pct(p.utilisation.staffed), ...p.counters.map((c) => pct(c.utilisation_staffed))];
  draw(
    fitHeight(document.getElementById("utilisation-chart"), labels.length, 46, 60, 180),
    baseOption({
      tooltip: axisTip(axisTooltip((_i, v) => (v == null ? "—" : `${v} %`))),
      // room on the right for the "98.7 %" labels of bars that reach 100 %
      grid: { left: 8, right: 60, top: 52, bottom: 8, containLabel: true },
      xAxis: percentAxis(),
      yAxis: categoryAxis(labels, { inverse: true, axisLabel: { color: COLOURS.text } }),
      series: [
        { type: "bar", name: _("of open time"), data: open, barMaxWidth: 16, label: { show: true, position: "right", color: COLOURS.muted, formatter: (d) => (d.value == null ? "" : `${d.value} %`) } },
        { type: "bar", name: _("of staffed time"), data: staffed, barMaxWidth: 16, label: { show: true, position: "right", color: COLOURS.muted, formatter: (d) => (d.value == null ? "" : `${d.value} %`) } },
      ],
    }),
    { empty: open.every((v) => v == null) },
  );
  const table = {
    columns: ["counter", "served", "utilisation_open", "utilisation_staffed"],
    rows: p.counters.map((c) => [c.counter, c.served, c.utilisation_open, c.utilisation_staffed]),
  };
  table.rows.push(["", p.today.served ?? 0, p.utilisation.open, p.utilisation.staffed]);
  renderTable(document.getElementById("utilisation-table"), table, {
    names: state.names,
    format: { counter: (value) => (value === "" ? _("All counters") : state.names.counter(value)) },
    caption: _("Utilisation by counter"),
  });
  todayCsv(document.getElementById("utilisation-csv"), "by_counter", p);
}

function renderHours(p) {
  const rows = rowObjects(p.by_hour);
  drawToday("hours-chart", rows, categoryAxis(rows.map((r) => fmtHour(r.hour))), 22, [
    { type: "line", name: _("Median wait (min)"), yAxisIndex: 1, data: rows.map((r) => r.wait_p50_min), smooth: true, connectNulls: true },
    { type: "line", name: _("Wait p90 (min)"), yAxisIndex: 1, data: rows.map((r) => r.wait_p90_min), smooth: true, connectNulls: true, lineStyle: { type: "dashed" } },
  ]);
  todayTable("hours", p.by_hour, "by_hour", p, {
    columns: ["hour", "arrivals", "served", "no_shows", "cancelled", "wait_p50_min", "wait_p90_min", "service_level", "utilisation_open"],
    caption: _("Arrivals and served by hour"),
  });
}

function renderServices(p) {
  const rows = rowObjects(p.by_service);
  const xAxis = categoryAxis(
    rows.map((r) => state.names.service(r.service)),
    { axisLabel: { color: COLOURS.text, interval: 0, width: 110, overflow: "truncate" } },
  );
  drawToday("services-chart", rows, xAxis, 28, [
    { type: "scatter", name: _("Median wait (min)"), yAxisIndex: 1, data: rows.map((r) => r.wait_p50_min), symbol: "diamond", symbolSize: 14 },
    { type: "scatter", name: _("Wait p90 (min)"), yAxisIndex: 1, data: rows.map((r) => r.wait_p90_min), symbol: "triangle", symbolSize: 14 },
  ]);
  todayTable("services", p.by_service, "by_service", p, {
    columns: ["service", "arrivals", "served", "no_shows", "cancelled", "wait_p50_min", "wait_p90_min", "wait_max_min", "service_level", "duration_p50_min"],
    caption: _("Today by service"),
  });
}

// staffing advice (issue 11 item 3) ------------------------------------------------------------
// The "Staffing" card: the "staffing" of the payload (docs/reports.md "Staffing advice") in sentences.
// Plain strings only in this part (Babel's JS extractor drops strings after nested template
// literals or regexes with quotes).

/** Minutes as the sentences show them ("∞" for a queue that would keep growing). */
function staffingMinutes(value) {
  return value == null ? "∞" : String(Math.round(Number(value)));
}

/** A list item of the card with the text, toned "warn", "good" or "danger". */
function staffingItem(text, tone) {
  const item = el("li", null, text);
  if (tone) item.dataset.tone = tone;
  return item;
}

/** One change to today's counters in words. */
function staffingChange(change) {
  const params = {
    service: state.names.service(change.service),
    from: change.from,
    to: change.to,
    before: staffingMinutes(change.p90_before_min),
    after: staffingMinutes(change.p90_after_min),
  };
  let text;
  if (change.action === "close") {
    text =
      change.count === 1
        ? _("One counter fewer is enough from %(from)s to %(to)s (the one for %(service)s): p90 wait %(before)s → %(after)s min", params)
        : ngettext(
            "%(num)s counter fewer is enough from %(from)s to %(to)s (for %(service)s): p90 wait %(before)s → %(after)s min",
            "%(num)s counters fewer are enough from %(from)s to %(to)s (for %(service)s): p90 wait %(before)s → %(after)s min",
            change.count,
            params,
          );
    return staffingItem(sentence(text), "good");
  }
  if (change.count === 1) {
    text = _("Open one more counter for %(service)s from %(from)s to %(to)s: p90 wait %(before)s → %(after)s min", params);
  } else if (change.count > 1) {
    text = ngettext(
      "Open %(num)s more counter for %(service)s from %(from)s to %(to)s: p90 wait %(before)s → %(after)s min",
      "Open %(num)s more counters for %(service)s from %(from)s to %(to)s: p90 wait %(before)s → %(after)s min",
      change.count,
      params,
    );
  } else {
    text = _("Every counter is already open from %(from)s to %(to)s and the p90 wait is still %(after)s min", params);
  }
  text = sentence(text);
  if (change.short > 0) {
    text = text + " " + ngettext("Even with every counter open, %(num)s more counter would be needed.", "Even with every counter open, %(num)s more counters would be needed.", change.short);
  }
  return staffingItem(text, change.short > 0 ? "danger" : "warn");
}

/** The what-if of one more (more = true) or one fewer counter, against the waits now. */
function staffingWhatIf(now, hypothesis, more, s) {
  if (!hypothesis) {
    if (!more) return staffingItem(_("One counter fewer now: no counter is open."));
    // a counter may be closed and still serve none of the services people wait for
    return staffingItem(s.open_now < s.max_counters ? _("One more counter now: no closed counter serves the customers waiting.") : _("One more counter now: every counter is already open."));
  }
  const params = {
    counter: state.names.counter(hypothesis.counter),
    service: state.names.service(hypothesis.service),
    before: staffingMinutes(now.max_p50_min),
    after: staffingMinutes(hypothesis.max_p50_min),
    mean_before: staffingMinutes(now.mean_p50_min),
    mean_after: staffingMinutes(hypothesis.mean_p50_min),
  };
  let text;
  if (more && hypothesis.service) {
    text = _("One more counter now (%(counter)s, for %(service)s): the longest expected wait %(before)s → %(after)s min, the mean %(mean_before)s → %(mean_after)s min", params);
  } else if (more) {
    text = _("One more counter now (%(counter)s): the longest expected wait %(before)s → %(after)s min, the mean %(mean_before)s → %(mean_after)s min", params);
  } else {
    text = _("One counter fewer now (%(counter)s): the longest expected wait %(before)s → %(after)s min, the mean %(mean_before)s → %(mean_after)s min", params);
  }
  return staffingItem(sentence(text), more ? "good" : "warn");
}

/** The pooled counters' split by service in words ("Deposits 2 · Loans 1"). */
function staffingSplit(split) {
  const parts = Object.entries(split || {})
    .filter((entry) => entry[1] > 0)
    .map((entry) => state.names.service(entry[0]) + " " + String(entry[1]));
  return parts.length ? parts.join(" · ") : "—";
}

function renderStaffingToday(s) {
  const list = document.getElementById("staffing-today");
  const items = [];
  if (!s.available) {
    items.push(staffingItem(_("Staffing advice needs at least one closed day of history.")));
  } else if (!s.today || !s.today.hours.length) {
    items.push(staffingItem(_("No more arrivals are expected today.")));
  } else if (!s.today.changes.length) {
    items.push(staffingItem(sentence(_("The counters open now are right for the rest of today: p90 wait within %(target)s min", { target: s.target_minutes })), "good"));
  } else {
    for (const change of s.today.changes) items.push(staffingChange(change));
  }
  list.replaceChildren(...items);
}

function renderStaffingWhatIf(s) {
  const list = document.getElementById("staffing-what-if");
  const w = s.what_if;
  if (!w || !w.now || !w.now.waiting) {
    list.replaceChildren(staffingItem(_("Nobody is waiting now.")));
    return;
  }
  list.replaceChildren(staffingWhatIf(w.now, w.one_more, true, s), staffingWhatIf(w.now, w.one_fewer, false, s));
}

function renderStaffingTomorrow(s) {
  const plan = s.tomorrow;
  setText(document.getElementById("staffing-tomorrow-day"), plan ? fmtDay(plan.day) : "");
  const summary = document.getElementById("staffing-tomorrow");
  const hours = plan ? plan.hours : [];
  // without a closed day nothing is learned: an empty chart would read as "nobody comes tomorrow"
  document.getElementById("staffing-tomorrow-plan").hidden = !s.available;
  if (!s.available) {
    setText(summary, _("Staffing advice needs at least one closed day of history."));
    return;
  }
  if (!hours.length) setText(summary, _("No arrivals are expected tomorrow."));
  else {
    let text = ngettext("At most %(num)s counter at once, %(hours)s counter-hours in all.", "At most %(num)s counters at once, %(hours)s counter-hours in all.", plan.peak, { hours: plan.counter_hours });
    if (plan.short_hours) text = text + " " + ngettext("In %(num)s hour even every counter is not enough for the target.", "In %(num)s hours even every counter is not enough for the target.", plan.short_hours);
    setText(summary, text);
  }
  const labels = hours.map((h) => fmtHour(h.hour));
  draw(
    document.getElementById("staffing-chart"),
    baseOption({
      tooltip: axisTip(axisTooltip((i, v) => (v == null ? "—" : String(v)))),
      xAxis: categoryAxis(labels),
      yAxis: [valueAxis({ name: _("counters"), minInterval: 1 }), rightAxis(valueAxis({ name: _("per hour"), splitLine: { show: false } }))],
      series: [
        { type: "bar", name: _("Counters needed"), data: hours.map((h) => h.counters), barMaxWidth: 22 },
        { type: "line", name: _("Expected arrivals"), yAxisIndex: 1, data: hours.map((h) => h.arrivals), smooth: true },
      ],
    }),
    { empty: !hours.length },
  );
  const table = {
    columns: ["hour", "arrivals", "counters", "split", "wait_p90_min"],
    rows: hours.map((h) => [h.hour, h.arrivals, h.counters, h.by_service, h.p90_min]),
  };
  renderTable(document.getElementById("staffing-table"), table, {
    names: state.names,
    headers: { arrivals: _("Expected arrivals"), counters: _("Counters needed"), split: _("Split by service") },
    format: { split: (value) => staffingSplit(value) },
    empty: _("No arrivals are expected tomorrow."),
    caption: _("Counters needed tomorrow, hour by hour"),
  });
}

function renderStaffing(p) {
  const s = p.staffing;
  if (!s) return;
  const basis = [];
  if (s.available) {
    basis.push(ngettext("Counters needed to keep the p90 wait within %(target)s min, learned from %(num)s closed day.", "Counters needed to keep the p90 wait within %(target)s min, learned from %(num)s closed days.", s.days_learned, { target: s.target_minutes }));
    basis.push(s.patience_min == null ? _("Nobody gave up waiting: no patience to allow for (Erlang C).") : _("Customers give up after %(num)s min on average (Erlang A).", { num: Math.round(s.patience_min) }));
    basis.push(ngettext("%(num)s counter is open now", "%(num)s counters are open now", s.open_now) + " / " + String(s.max_counters) + ".");
  }
  setText(document.getElementById("staffing-basis"), basis.join(" "));
  renderStaffingToday(s);
  renderStaffingWhatIf(s);
  renderStaffingTomorrow(s);
}
// end of staffing advice -----------------------------------------------------------------------

// the whole page -------------------------------------------------------------------------------
function render() {
  const p = state.payload;
  if (!p) return;
  state.ticking = [];
  state.names = new Names(p.config);
  showBranchName(state.names, _("Dashboard"));
  setText(document.getElementById("today-date"), p.day ? fmtDay(p.day) : formatDate(p.now * 1000, offsetMinutes(p)));
  document.body.dataset.seq = String(p.seq ?? "");
  renderTiles(p);
  renderCounters(p);
  renderWarnings(p);
  renderAlerts(p);
  renderWaiting(p);
  renderTimeline(p);
  renderUtilisation(p);
  renderHours(p);
  renderServices(p);
  renderStaffing(p); // staffing advice (issue 11 item 3)
  tick();
}

initNav();
live = connectManage(
  { branch: page.branch },
  {
    dashboard: (payload) => {
      if (!payload || payload.branch !== page.branch) return;
      if (state.payload && payload.seq != null && state.payload.seq != null && payload.seq < state.payload.seq) return; // a late, older one
      state.payload = payload;
      render();
      document.body.dataset.loaded = "1";
    },
  },
);
onLanguageChange(() => render());
document.documentElement.dataset.lang = language();
window.setInterval(tick, 1000);
