// The counter board's face, shared by the screen above the window (counter.js) and the preview in
// the teller console (teller.js): the customer being served and for how long, wrap-up and pause
// messages with the time left, and a closed counter without any ticket number. A counter wrapping
// up with nobody waiting shows as free; with people waiting, its wrap-up estimate is the one first
// made for this wrap-up, aged, and once that has passed the board says so. After the teller's
// heads-up the transaction's range (which already counts it) is followed by its reason:
// "This transaction: about 20–25 min — Entering your details".

import {
  STATUS,
  agedRange,
  counterName,
  extendedRange,
  formatBackIn,
  formatClock,
  formatRange,
  formatWaiting,
  nameIn,
  parseTs,
  pauseReason,
  rangePassed,
  shownStatus,
} from "./format.js";
import { _, language } from "./i18n.js";
import { el, setText } from "./live.js";

/**
 * The first estimate made for each counter's current wrap-up, as absolute times (ms):
 * counter name → {since, p10, p50, p90}. A forecast refreshed later in the same wrap-up knows how
 * long it has lasted and says "under 1 min" again and again; a board that repeated it would hold
 * "next customer in under 1 min" for minutes. Keeping the first estimate lets it run out honestly.
 */
const wrapUps = new Map();

/** The wrap-up's estimate at `nowMs`, in seconds from now (p90 ≤ 0: it has passed), or null if none yet. */
function wrapUpRange(board, counter, nowMs, boardNowMs) {
  const since = parseTs(counter.since);
  let entry = wrapUps.get(counter.name);
  if (entry && entry.since !== since) {
    wrapUps.delete(counter.name);
    entry = null;
  }
  if (!entry) {
    // only a forecast made during this wrap-up says anything about it (the board pushed at "finish"
    // still carries the one made while the customer was being served)
    const forecastAt = parseTs(board && board.forecast_at);
    const range = agedRange(counter.remaining, 0);
    if (!range || since == null || forecastAt == null || forecastAt < since) return null;
    const at = (seconds) => boardNowMs + seconds * 1000;
    entry = { since, p10: at(range.p10), p50: at(range.p50), p90: at(range.p90) };
    wrapUps.set(counter.name, entry);
  }
  const left = (ms) => (ms - nowMs) / 1000;
  return { p10: Math.max(0, left(entry.p10)), p50: Math.max(0, left(entry.p50)), p90: Math.max(0, left(entry.p90)) };
}

/**
 * The name of a heads-up's reason in `lang`: a code of the branch's heads-up reasons (the board's
 * `heads_up_reasons`), named in that language; free text as logged; null for none.
 */
export function headsUpReason(reason, reasons, lang = language()) {
  if (!reason) return null;
  const known = (reasons || []).find((r) => r.code === reason);
  return known ? nameIn(known.names, lang, known.code) : reason;
}

/**
 * What the board above counter `name` says at `nowMs` (server time). `boardNowMs` is when the
 * board's ranges were computed. Returns {status, symbol, label, caption, hero, heroKind, primary,
 * secondary, reason, serves, waiting}; `heroKind` is "ticket" only when a customer is at the counter.
 */
export function counterBoardView(board, name, nowMs, boardNowMs = nowMs, utcOffsetMinutes = 0) {
  const counter = ((board && board.counters) || []).find((c) => c.name === name);
  const status = counter && counter.status in STATUS ? shownStatus(counter) : "closed";
  if (status !== "wrapping_up") wrapUps.delete(name);
  const info = STATUS[status];
  const view = {
    status,
    symbol: info.symbol,
    label: info.label(),
    caption: "",
    hero: "",
    heroKind: "word",
    primary: "",
    secondary: "",
    reason: null,
    serves: "",
    waiting: "",
  };
  const age = (nowMs - boardNowMs) / 1000;
  const remaining = counter ? agedRange(counter.remaining, age) : null;
  const since = counter ? parseTs(counter.since) : null;
  const services = (board && board.services) || [];
  if (counter) {
    const codes = (counter.services || []).flat();
    view.serves = codes.map((code) => nameIn((services.find((s) => s.code === code) || {}).names, language(), code)).join(" · ");
    const queued = services.filter((s) => codes.includes(s.code)).reduce((sum, s) => sum + (s.waiting || 0), 0);
    view.waiting = status === "closed" ? "" : formatWaiting(queued);
  }
  switch (status) {
    case "calling":
      view.caption = _("Now calling");
      view.hero = counter.ticket;
      view.heroKind = "ticket";
      view.primary = _("Please come to counter %(counter)s", { counter: name });
      break;
    case "serving": {
      view.caption = _("Now serving");
      view.hero = counter.ticket;
      view.heroKind = "ticket";
      const total = since != null ? formatRange(extendedRange(remaining, (nowMs - since) / 1000)) : null;
      const left = formatRange(remaining);
      // the teller's latest heads-up ("+5 min: entering your details"): the range already counts it
      const step = counter.heads_up ? headsUpReason(counter.heads_up.reason, board.heads_up_reasons) : null;
      if (step) {
        view.primary = total
          ? _("This transaction: %(range)s — %(reason)s", { range: total, reason: step })
          : _("Transaction in progress — %(reason)s", { reason: step });
      } else {
        view.primary = total ? _("This transaction: %(range)s", { range: total }) : _("Transaction in progress");
      }
      const parts = [];
      if (since != null) parts.push(_("started %(time)s", { time: formatClock(since, utcOffsetMinutes) }));
      if (left) parts.push(_("%(range)s left", { range: left }));
      view.secondary = parts.join(" · ");
      break;
    }
    case "wrapping_up": {
      // people are waiting for this counter (else it shows as free)
      const estimate = wrapUpRange(board, counter, nowMs, boardNowMs);
      const left = formatRange(estimate);
      view.hero = _("One moment, please");
      view.primary = _("Wrapping up the previous transaction");
      if (rangePassed(estimate)) view.secondary = _("Taking longer than expected: next customer shortly");
      else view.secondary = left ? _("Next customer in %(range)s", { range: left }) : _("Next customer shortly");
      break;
    }
    case "paused": {
      const backIn = formatBackIn(parseTs(counter.back_at), nowMs);
      const left = formatRange(remaining);
      view.hero = _("Paused");
      view.reason = pauseReason(counter.pause_reason, board.pause_reasons);
      view.primary = backIn || (left ? _("back in %(range)s", { range: left }) : _("back later"));
      view.secondary = _("Please wait for the next call on the hall board");
      break;
    }
    case "idle":
      view.hero = _("Available");
      view.primary = counter.queue_for_counter ? _("Calling the next customer shortly") : _("Ready for the next customer");
      break;
    default: {
      // closed: never a ticket number, and where to go instead
      view.hero = _("Closed");
      view.primary = _("Please use another counter");
      // a paused counter is open but calls nobody: sent there, a customer would wait at a silent desk
      const others = ((board && board.counters) || []).filter((c) => c.name !== name && c.status !== "closed");
      const open = others.filter((c) => c.status !== "paused").map((c) => c.name);
      const separator = _(", "); // between counter names in a list
      if (open.length) view.secondary = _("Open now: counters %(names)s", { names: open.join(separator) });
      else view.secondary = others.length ? _("Please wait for the next call on the hall board") : "";
      break;
    }
  }
  return view;
}

/** Build the board's parts inside `root` (once), then fill them with `view`. */
export function renderCounterBoard(root, view, { name, branchName = "", clock = "" } = {}) {
  if (!root.querySelector(".cb-head")) {
    // the page may render its own head first (so it reads right before the first board arrives)
    const head = el("header", "cb-head");
    const title = el("div", "cb-title");
    title.append(el("p", "cb-counter"), el("p", "cb-branch"));
    const chip = el("p", "cb-status");
    chip.append(el("span", "cb-symbol"), el("span", "cb-label"));
    chip.firstChild.setAttribute("aria-hidden", "true");
    head.append(title, chip, el("time", "cb-clock"));
    root.append(head);
  }
  if (!root.querySelector(".cb-main")) {
    const main = el("div", "cb-main");
    main.append(el("p", "cb-caption"), el("p", "cb-hero"), el("p", "cb-reason"), el("p", "cb-primary"), el("p", "cb-secondary"));
    const foot = el("footer", "cb-foot");
    foot.append(el("p", "cb-serves"), el("p", "cb-waiting"));
    root.append(main, foot);
    for (const node of root.querySelectorAll("[data-i18n]")) node.removeAttribute("data-i18n");
  }
  root.dataset.status = view.status;
  setText(root.querySelector(".cb-counter"), counterName(name));
  setText(root.querySelector(".cb-branch"), branchName);
  setText(root.querySelector(".cb-symbol"), view.symbol);
  setText(root.querySelector(".cb-label"), view.label);
  setText(root.querySelector(".cb-clock"), clock);
  const fill = (selector, text) => {
    const node = root.querySelector(selector);
    setText(node, text || "");
    node.hidden = !text;
  };
  fill(".cb-caption", view.caption);
  const hero = root.querySelector(".cb-hero");
  hero.dataset.kind = view.heroKind;
  fill(".cb-hero", view.hero);
  fill(".cb-reason", view.reason);
  fill(".cb-primary", view.primary);
  fill(".cb-secondary", view.secondary);
  fill(".cb-serves", view.serves);
  fill(".cb-waiting", view.waiting);
}
