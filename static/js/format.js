// What every screen says about time: wait ranges, pauses, counter states, clocks.
// One module so the hall board, the counter board, the teller console, the kiosk and the ticket
// page word things the same way, in the page's language (see i18n.js). Pure functions of their
// arguments and the page's language (no DOM, no clock of their own).

import { INTL_LOCALES, N_, _, language, ngettext } from "./i18n.js";

const MINUTE_MS = 60_000;

/** Milliseconds since the epoch of an ISO 8601 time with offset, or null. */
export function parseTs(ts) {
  if (!ts) return null;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? null : ms;
}

/** A forecast range {p10, p50, p90} (seconds) as the board has it, or null if there is none. */
function usable(range) {
  return range && Number.isFinite(range.p10) && Number.isFinite(range.p90) ? range : null;
}

/**
 * A wait or remaining-time range in whole minutes, honestly:
 * "under 1 min" when p90 < 60 s, "about 5 min" when p10 and p90 round to the same minute,
 * "up to about 3 min" when p10 rounds to 0, else "about 15–20 min". null when there is no range.
 */
export function formatRange(range) {
  const r = usable(range);
  if (!r) return null;
  if (r.p90 < 60) return _("under 1 min");
  const low = Math.round(Math.max(0, r.p10) / 60);
  const high = Math.round(r.p90 / 60);
  if (low >= high) return _("about %(num)s min", { num: high });
  if (low === 0) return _("up to about %(high)s min", { high });
  return _("about %(low)s–%(high)s min", { low, high });
}

/**
 * Whether an estimate has run out: even its p90 is behind us (as aged by `agedRange`, or from the
 * server, which ages and clamps the same way). Say so then, rather than "under 1 min" for ever.
 */
export function rangePassed(range) {
  const r = usable(range);
  return !!r && r.p90 <= 0;
}

/** The range as it stands `ageSeconds` after it was made: every percentile moves closer, never below 0. */
export function agedRange(range, ageSeconds) {
  const r = usable(range);
  if (!r) return null;
  const age = Math.max(0, ageSeconds || 0);
  const shift = (value) => Math.max(0, value - age);
  return { p10: shift(r.p10), p50: shift(r.p50 ?? r.p10), p90: shift(r.p90) };
}

/** A range `offsetSeconds` longer (a transaction's length = time so far + time left). */
export function extendedRange(range, offsetSeconds) {
  const r = usable(range);
  if (!r) return null;
  const add = Math.max(0, offsetSeconds || 0);
  return { p10: r.p10 + add, p50: (r.p50 ?? r.p10) + add, p90: r.p90 + add };
}

/** "back in ~N min" from a declared return time, "back shortly" once it has passed; null if none declared. */
export function formatBackIn(backAtMs, nowMs) {
  if (backAtMs == null) return null;
  const left = backAtMs - nowMs;
  if (left <= 0) return _("back shortly");
  return _("back in ~%(num)s min", { num: Math.ceil(left / MINUTE_MS) });
}

/** "No one waiting", "1 person waiting", "12 people waiting". */
export function formatWaiting(count) {
  if (!count) return _("No one waiting");
  return ngettext("%(num)s person waiting", "%(num)s people waiting", count);
}

/** "You are next", "1 person ahead of you", "4 people ahead of you". */
export function formatPeopleAhead(count) {
  if (!count) return _("You are next");
  return ngettext("%(num)s person ahead of you", "%(num)s people ahead of you", count);
}

function pad(n) {
  return String(n).padStart(2, "0");
}

/** Wall time in the branch's zone: "09:05" or, with seconds, "09:05:07" (the same in every language). */
export function formatClock(ms, utcOffsetMinutes = 0, withSeconds = false) {
  const d = new Date(ms + utcOffsetMinutes * MINUTE_MS);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withSeconds ? `${hm}:${pad(d.getUTCSeconds())}` : hm;
}

/** The branch's date in the page's language: "Mon 2 Mar 2026", "2026年3月2日 週一". */
export function formatDate(ms, utcOffsetMinutes = 0) {
  const d = new Date(ms + utcOffsetMinutes * MINUTE_MS);
  const locale = INTL_LOCALES[language()] || "en-GB";
  const options = { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" };
  try {
    return new Intl.DateTimeFormat(locale, options).format(d).replace(/,/g, "");
  } catch {
    return d.toISOString().slice(0, 10);
  }
}

/** A stopwatch: "4:07", "1:02:09". */
export function formatElapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** "waited 12 min", "waited under 1 min". */
export function formatWaited(ms) {
  const minutes = Math.floor(Math.max(0, ms) / MINUTE_MS);
  return minutes < 1 ? _("waited under 1 min") : _("waited %(num)s min", { num: minutes });
}

/** A service's (or branch's) name in `lang`, falling back to English, then to `fallback`. */
export function nameIn(names, lang = language(), fallback = "") {
  if (!names) return fallback;
  return names[lang] || names.en || Object.values(names)[0] || fallback;
}

/** The names to print, `first` language first, then the others in `languages`, without repeats. */
export function namesInOrder(names, languages, fallback = "", first = null) {
  const out = [];
  const seen = new Set();
  const order = languages && languages.length ? languages : ["en"];
  for (const lang of first ? [first, ...order.filter((l) => l !== first)] : order) {
    const text = names && names[lang];
    if (text && !seen.has(text)) {
      seen.add(text);
      out.push({ language: lang, text });
    }
  }
  if (!out.length) out.push({ language: first || "en", text: nameIn(names, first || "en", fallback) });
  return out;
}

/**
 * The presets consoles offered before pause reasons were the branch's codes: a log of those days
 * records the English text, which a screen without the board's reasons still translates.
 */
export const PAUSE_REASONS = [
  N_("Getting authorisation"),
  N_("Cash delivery"),
  N_("Helping a colleague"),
  N_("Back-office work"),
  N_("System problem"),
  N_("Break"),
  N_("Lunch"),
];

/**
 * The branch's pause reason that a logged `reason` names: its code, or (a log from before codes)
 * one of its names in any language, ignoring case. `reasons` is the board's `pause_reasons`.
 */
export function findPauseReason(reason, reasons) {
  if (!reason || !reasons) return null;
  const text = String(reason).trim();
  const folded = text.toLowerCase();
  return (
    reasons.find((r) => r.code === text) ||
    reasons.find((r) => Object.values(r.names || {}).some((name) => String(name).toLowerCase() === folded)) ||
    null
  );
}

/**
 * A pause reason as a screen shows it: a code of the branch's `reasons` (the board's
 * `pause_reasons`) named in `lang`, an old preset translated, anything else as the teller typed it.
 */
export function pauseReason(reason, reasons = null, lang = language()) {
  if (!reason) return null;
  const known = findPauseReason(reason, reasons);
  if (known) return nameIn(known.names, lang, known.code);
  return PAUSE_REASONS.includes(reason) ? _(reason, null, lang) : reason;
}

/** Words and a symbol for each counter status (never colour alone); `label()` is in the page's language. */
export const STATUS = {
  closed: { label: () => _("Closed"), symbol: "✕" },
  idle: { label: () => _("Available"), symbol: "●" },
  calling: { label: () => _("Calling"), symbol: "»" },
  serving: { label: () => _("Serving"), symbol: "▶" },
  wrapping_up: { label: () => _("Wrapping up"), symbol: "…" },
  paused: { label: () => _("Paused"), symbol: "‖" },
};

/** A sentence ended with the language's full stop: "… Loans.", "……貸款。". */
export function sentence(text, lang = language()) {
  return _("%(sentence)s.", { sentence: text }, lang);
}

/** "Counter 3". */
export function counterName(name) {
  return _("Counter %(name)s", { name });
}

/**
 * The status a customer should see: a counter wrapping up with nobody waiting for it is simply
 * free (no one is kept waiting by its paperwork).
 */
export function shownStatus(counter) {
  const status = counter && counter.status in STATUS ? counter.status : "idle";
  return status === "wrapping_up" && !counter.queue_for_counter ? "idle" : status;
}

/**
 * What a customer should read about a counter, from its board entry at `nowMs` (server time)
 * and the board's `now` (when `remaining` was computed); `reasons` is the board's
 * `pause_reasons` (without it a pause reason shows as logged, old presets translated). Returns
 * {status, label, symbol, ticket, headline, detail, reason}: `ticket` is null for every state
 * without a customer at the counter (always for a closed one).
 */
export function describeCounter(counter, nowMs, boardNowMs = nowMs, reasons = null) {
  const status = shownStatus(counter);
  const base = { status, label: STATUS[status].label(), symbol: STATUS[status].symbol, ticket: null, headline: "", detail: "", reason: null };
  const aged = agedRange(counter.remaining, (nowMs - boardNowMs) / 1000);
  const remaining = formatRange(aged);
  switch (status) {
    case "closed":
      return { ...base, headline: _("Closed"), detail: _("Please use another counter") };
    case "calling":
      return {
        ...base,
        ticket: counter.ticket,
        headline: _("Calling %(ticket)s", { ticket: counter.ticket }),
        detail: _("Please go to counter %(counter)s", { counter: counter.name }),
      };
    case "serving":
      return {
        ...base,
        ticket: counter.ticket,
        headline: _("Serving %(ticket)s", { ticket: counter.ticket }),
        detail: remaining ? _("%(range)s left", { range: remaining }) : _("Transaction in progress"),
      };
    case "wrapping_up": {
      // people are waiting for it (else it shows as free): when, honestly, once the estimate has passed too
      let detail = _("next call shortly");
      if (rangePassed(aged)) detail = _("taking longer than expected");
      else if (remaining) detail = _("next call in %(range)s", { range: remaining });
      return { ...base, headline: _("Wrapping up the previous transaction"), detail };
    }
    case "paused": {
      const backIn = formatBackIn(parseTs(counter.back_at), nowMs);
      return {
        ...base,
        reason: pauseReason(counter.pause_reason, reasons),
        headline: _("Paused"),
        detail: backIn || (remaining ? _("back in %(range)s", { range: remaining }) : _("back later")),
      };
    }
    default:
      return {
        ...base,
        headline: _("Available"),
        detail: counter.queue_for_counter ? _("Calling the next customer shortly") : _("Ready for the next customer"),
      };
  }
}

/** What a service's expected wait for a new ticket reads like, or why there is none. */
export function describeNewTicketWait(service) {
  if (!service.counters || !service.counters.length) return _("No counter open for this service now");
  const range = formatRange(service.new_ticket_wait);
  return range || _("Estimating…");
}

/** What the "now serving" list says about a called ticket. */
export function describeCall(entry) {
  if (entry.status === "serving") return _("being served");
  if (entry.status === "done") return _("served");
  return entry.recalls
    ? _("called again — please go to counter %(counter)s", { counter: entry.counter })
    : _("please go to counter %(counter)s", { counter: entry.counter });
}

/** The spoken call: the label letter by letter, so "A017" is not read as "A seventeen". */
export function spokenCall(ticket, counter, lang = language()) {
  const spelled = String(ticket).split("").join(" ");
  return _("Ticket %(ticket)s, please go to counter %(counter)s.", { ticket: spelled, counter }, lang);
}

/** The written call (screen readers, the announcement strip). */
export function writtenCall(ticket, counter, lang = language()) {
  return _("Ticket %(ticket)s, please go to counter %(counter)s.", { ticket, counter }, lang);
}
