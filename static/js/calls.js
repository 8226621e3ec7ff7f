// Which calls a board announces, derived from the state it shows, never from "the latest push".
//
// With several server processes behind one message queue, pushes can arrive out of `seq` order:
// a board that announced each push's own event lost the call of a push that came in late (and
// was dropped as older). Each push carries the whole state, so the newest state shown also holds
// every call an older push carried; comparing its calls (ticket, counter, called_at, recalls)
// with those already announced finds each new call or recall once, whatever order pushes came in
// and whichever were missed (a resync's snapshot carries them too). No DOM, no clock of its own:
// only the board's `now`, so it is tested without a screen (tests/test_push_order.py).

import { parseTs } from "./format.js";

/** A call already at the counter (served or done) is still announced if it is this recent: its push came late. */
export const RECENT_CALL_MS = 20_000;
/** A call older than this (by the server's clock) is not announced any more: a board back after an outage. */
export const STALE_CALL_MS = 120_000;
/** How many calls a page remembers (a busy branch's day has a few hundred; the oldest are forgotten first). */
export const REMEMBERED_CALLS = 1000;

/** One call of one ticket to one counter (a recall keeps it; a new call after a transfer is another). */
export function callId(entry) {
  return `${entry.ticket}|${entry.counter}|${entry.called_at}`;
}

/**
 * The calls of `board` to announce, and what is announced afterwards.
 *
 * `announced` maps each call (`callId`) to the number of recalls already announced for it. A call
 * of `board.now_serving` not in it is due, and so is a call with more `recalls` than announced
 * (one announcement for however many recalls were missed). Not due, but remembered as if
 * announced, so that they are never announced later: calls at another counter than `counter`
 * (a counter board), calls older than `staleMs`, calls whose customer is already at the counter
 * unless called within `recentMs`, and, with `prime`, every call (the first state a page shows
 * is the present, not news). The returned map keeps every call announced, not only those `board`
 * shows, so that a call is not announced twice even if an older state were shown in between;
 * past `remember` calls, the oldest are forgotten (a call over `staleMs` old is never due anyway).
 *
 * Due calls come oldest first, except that a call of `latestTicket` (the ticket of the event
 * that caused this push, the newest thing that happened) comes last.
 */
export function dueCalls(
  board,
  announced,
  {
    counter = null,
    latestTicket = null,
    prime = false,
    recentMs = RECENT_CALL_MS,
    staleMs = STALE_CALL_MS,
    remember = REMEMBERED_CALLS,
  } = {},
) {
  const now = parseTs(board && board.now);
  const next = new Map(announced);
  const due = [];
  const entries = [...((board && board.now_serving) || [])].reverse(); // the board lists the newest call first
  for (const entry of entries) {
    if (!entry || !entry.ticket || !entry.called_at) continue;
    const id = callId(entry);
    const recalls = Number.isInteger(entry.recalls) ? entry.recalls : 0;
    const before = announced.get(id);
    if (before !== undefined && before >= recalls) continue;
    next.delete(id); // re-inserted as the newest, so that forgetting takes the oldest first
    next.set(id, recalls);
    if (prime || (counter !== null && entry.counter !== counter)) continue;
    const calledAt = parseTs(entry.called_at);
    const age = now !== null && calledAt !== null ? now - calledAt : 0;
    if (age > staleMs) continue;
    if (entry.status !== "called" && age > recentMs) continue;
    due.push({ ticket: entry.ticket, counter: entry.counter, recall: before !== undefined || recalls > 0, id, recalls });
  }
  for (const id of next.keys()) {
    if (next.size <= remember) break;
    next.delete(id);
  }
  if (latestTicket) {
    due.sort((a, b) => Number(a.ticket === latestTicket) - Number(b.ticket === latestTicket));
  }
  return { due, announced: next };
}

/**
 * A page's record of the calls it announced: `take(board)` on every state the page shows gives
 * the calls to announce now (see `dueCalls`); the first state only primes it.
 */
export class CallLedger {
  constructor({ counter = null, recentMs = RECENT_CALL_MS, staleMs = STALE_CALL_MS, remember = REMEMBERED_CALLS } = {}) {
    this.options = { counter, recentMs, staleMs, remember };
    this.announced = null;
  }

  /** The calls of `board` to announce now; `latestTicket` is the ticket of the push's own event, if any. */
  take(board, latestTicket = null) {
    const { due, announced } = dueCalls(board, this.announced || new Map(), {
      ...this.options,
      latestTicket,
      prime: this.announced === null,
    });
    this.announced = announced;
    return due;
  }
}
