// What every screen says about time: wait ranges, pauses, counter states, clocks.
// One module so the hall board, the teller console and the kiosk word things the same way.
// Pure functions of their arguments (no DOM, no clock of their own).

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
  if (r.p90 < 60) return "under 1 min";
  const low = Math.round(Math.max(0, r.p10) / 60);
  const high = Math.round(r.p90 / 60);
  if (low >= high) return `about ${high} min`;
  if (low === 0) return `up to about ${high} min`;
  return `about ${low}–${high} min`;
}

/** The range as it stands `ageSeconds` after it was made: every percentile moves closer, never below 0. */
export function agedRange(range, ageSeconds) {
  const r = usable(range);
  if (!r) return null;
  const age = Math.max(0, ageSeconds || 0);
  const shift = (value) => Math.max(0, value - age);
  return { p10: shift(r.p10), p50: shift(r.p50 ?? r.p10), p90: shift(r.p90) };
}

/** "back in ~N min" from a declared return time, "back shortly" once it has passed; null if none declared. */
export function formatBackIn(backAtMs, nowMs) {
  if (backAtMs == null) return null;
  const left = backAtMs - nowMs;
  if (left <= 0) return "back shortly";
  return `back in ~${Math.ceil(left / MINUTE_MS)} min`;
}

/** "No one waiting", "1 person waiting", "12 people waiting". */
export function formatWaiting(count) {
  if (!count) return "No one waiting";
  return count === 1 ? "1 person waiting" : `${count} people waiting`;
}

/** "You are next", "1 person ahead of you", "4 people ahead of you". */
export function formatPeopleAhead(count) {
  if (!count) return "You are next";
  return count === 1 ? "1 person ahead of you" : `${count} people ahead of you`;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

/** Wall time in the branch's zone: "09:05" or, with seconds, "09:05:07". */
export function formatClock(ms, utcOffsetMinutes = 0, withSeconds = false) {
  const d = new Date(ms + utcOffsetMinutes * MINUTE_MS);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withSeconds ? `${hm}:${pad(d.getUTCSeconds())}` : hm;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The branch's date: "Mon 2 Mar 2026". */
export function formatDate(ms, utcOffsetMinutes = 0) {
  const d = new Date(ms + utcOffsetMinutes * MINUTE_MS);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
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
  return minutes < 1 ? "waited under 1 min" : `waited ${minutes} min`;
}

/** A service's (or branch's) name in `language`, falling back to English, then to `fallback`. */
export function nameIn(names, language, fallback = "") {
  if (!names) return fallback;
  return names[language] || names.en || Object.values(names)[0] || fallback;
}

/** The names to print, primary language first, without repeating an identical name. */
export function namesInOrder(names, languages, fallback = "") {
  const out = [];
  const seen = new Set();
  for (const language of languages && languages.length ? languages : ["en"]) {
    const text = names && names[language];
    if (text && !seen.has(text)) {
      seen.add(text);
      out.push({ language, text });
    }
  }
  if (!out.length) out.push({ language: "en", text: nameIn(names, "en", fallback) });
  return out;
}

/** Words and a symbol for each counter status (never colour alone). */
export const STATUS = {
  closed: { label: "Closed", symbol: "✕" },
  idle: { label: "Available", symbol: "●" },
  calling: { label: "Calling", symbol: "»" },
  serving: { label: "Serving", symbol: "▶" },
  wrapping_up: { label: "Finishing up", symbol: "…" },
  paused: { label: "Paused", symbol: "‖" },
};

/**
 * What a customer should read about a counter, from its board entry at `nowMs` (server time)
 * and the board's `now` (when `remaining` was computed). Returns
 * {status, label, symbol, ticket, headline, detail, reason}: `ticket` is null for every state
 * without a customer at the counter (always for a closed one).
 */
export function describeCounter(counter, nowMs, boardNowMs = nowMs) {
  const status = counter.status in STATUS ? counter.status : "idle";
  const base = { status, ...STATUS[status], ticket: null, headline: "", detail: "", reason: null };
  const remaining = formatRange(agedRange(counter.remaining, (nowMs - boardNowMs) / 1000));
  switch (status) {
    case "closed":
      return { ...base, headline: "Closed", detail: "Please use another counter" };
    case "calling":
      return {
        ...base,
        ticket: counter.ticket,
        headline: `Calling ${counter.ticket}`,
        detail: `Please go to counter ${counter.name}`,
      };
    case "serving":
      return {
        ...base,
        ticket: counter.ticket,
        headline: `Serving ${counter.ticket}`,
        detail: remaining ? `${remaining} left` : "Transaction in progress",
      };
    case "wrapping_up":
      return {
        ...base,
        headline: "Finishing the previous transaction",
        detail: remaining ? `next call in ${remaining}` : "next call shortly",
      };
    case "paused": {
      const backIn = formatBackIn(parseTs(counter.back_at), nowMs);
      return {
        ...base,
        reason: counter.pause_reason || null,
        headline: "Paused",
        detail: backIn || (remaining ? `back in ${remaining}` : "back later"),
      };
    }
    default:
      return {
        ...base,
        headline: "Available",
        detail: counter.queue_for_counter ? "Calling the next customer shortly" : "Ready for the next customer",
      };
  }
}

/** What a service's expected wait for a new ticket reads like, or why there is none. */
export function describeNewTicketWait(service) {
  if (!service.counters || !service.counters.length) return "No counter open for this service now";
  const range = formatRange(service.new_ticket_wait);
  return range || "Estimating…";
}

/** What the "now serving" list says about a called ticket. */
export function describeCall(entry) {
  if (entry.status === "serving") return "being served";
  if (entry.status === "done") return "served";
  return entry.recalls ? `called again — please go to counter ${entry.counter}` : `please go to counter ${entry.counter}`;
}
