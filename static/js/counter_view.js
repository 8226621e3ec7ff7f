// The counter board's face, shared by the screen above the window (counter.js) and the preview in
// the teller console (teller.js): the customer being served and for how long, wrap-up and pause
// messages with the time left, and a closed counter without any ticket number.

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
} from "./format.js";
import { _, language } from "./i18n.js";
import { el, setText } from "./live.js";

/**
 * What the board above counter `name` says at `nowMs` (server time). `boardNowMs` is when the
 * board's ranges were computed. Returns {status, symbol, label, caption, hero, heroKind, primary,
 * secondary, reason, serves, waiting}; `heroKind` is "ticket" only when a customer is at the counter.
 */
export function counterBoardView(board, name, nowMs, boardNowMs = nowMs, utcOffsetMinutes = 0) {
  const counter = ((board && board.counters) || []).find((c) => c.name === name);
  const status = counter && counter.status in STATUS ? counter.status : "closed";
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
      view.primary = total ? _("This transaction: %(range)s", { range: total }) : _("Transaction in progress");
      const parts = [];
      if (since != null) parts.push(_("started %(time)s", { time: formatClock(since, utcOffsetMinutes) }));
      if (left) parts.push(_("%(range)s left", { range: left }));
      view.secondary = parts.join(" · ");
      break;
    }
    case "wrapping_up": {
      const left = formatRange(remaining);
      view.hero = _("One moment, please");
      view.primary = _("Finishing the previous transaction");
      view.secondary = left ? _("Next customer in %(range)s", { range: left }) : _("Next customer shortly");
      break;
    }
    case "paused": {
      const backIn = formatBackIn(parseTs(counter.back_at), nowMs);
      const left = formatRange(remaining);
      view.hero = _("Paused");
      view.reason = pauseReason(counter.pause_reason);
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
      const open = ((board && board.counters) || []).filter((c) => c.name !== name && c.status !== "closed").map((c) => c.name);
      const separator = _(", "); // between counter names in a list
      view.secondary = open.length ? _("Open now: counters %(names)s", { names: open.join(separator) }) : "";
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
