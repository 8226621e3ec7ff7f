// One ticket's story (/manage/<branch>/tickets/<day>/<ticket>), opened from a broken promise:
// what it was told at issue, every call of another ticket and every pause at the branch while
// it waited, and its own visit, on a vertical timeline in the branch's local time.
// From GET /api/v1/branches/<b>/reports/tickets/<day>/<ticket>.

import { formatClock, formatElapsed, formatRange } from "./format.js";
import { N_, _, ngettext, onLanguageChange } from "./i18n.js";
import { Names, el, fmtDay, getJson, initNav, page, reportsPath, setLocalCsvLink, setText, setTile, showBranchName, showError } from "./manage_common.js";

const state = { story: null, names: new Names(null) };

const OUTCOMES = {
  waiting: N_("Still waiting"),
  called: N_("Called, not yet at the counter"),
  serving: N_("Being served"),
  done: N_("Served"),
  no_show: N_("Did not come when called"),
  cancelled: N_("Left without being served"),
  transferred: N_("Transferred, waiting again"),
};

function clock(seconds) {
  return formatClock(seconds * 1000, (state.story.utc_offset || 0) / 60, true);
}

function minutesText(seconds) {
  return _("%(num)s min", { num: (Math.round(seconds / 6) / 10).toFixed(1) });
}

/** The range the ticket was told, as the screens worded it ("about 5–15 min"). */
function toldText(story) {
  if (!story.told) return null;
  const [p10, p50, p90] = story.told;
  return formatRange({ p10, p50, p90 });
}

/** Why a ticket was re-promised, as the ticket page said it (docs/event-log.md "Re-promises"). */
const REPROMISE_REASONS = {
  counter_paused: N_("a counter that serves it was paused"),
  counter_closed: N_("a counter that serves it closed"),
  long_transaction: N_("a transaction ahead ran long"),
  served_out_of_turn: N_("a later ticket was served first"),
};

/** The words of one entry: {text, detail}. */
function describe(entry, story) {
  const n = state.names;
  switch (entry.kind) {
    case "issued": {
      const told = toldText(story);
      return {
        text: _("Issued for %(service)s", { service: n.service(entry.service) }),
        detail: told ? _("told %(range)s", { range: told }) : _("no range was told (none in the log)"),
      };
    }
    case "other_called":
      return { text: _("%(counter)s called %(ticket)s (%(service)s)", { counter: n.counter(entry.counter), ticket: entry.ticket, service: n.service(entry.service) }) };
    case "pause": {
      const reason = n.reason(entry.reason);
      const back = entry.until != null ? clock(entry.until) : null;
      let detail;
      if (entry.declared_minutes == null) detail = _("no return time declared; back at %(time)s", { time: back });
      else if (entry.overrun_s > 0)
        detail = _("declared %(declared)s min, back at %(time)s: %(over)s past it", { declared: entry.declared_minutes, time: back, over: minutesText(entry.overrun_s) });
      else detail = _("declared %(declared)s min, back at %(time)s, within it", { declared: entry.declared_minutes, time: back });
      return { text: _("%(counter)s paused: %(reason)s", { counter: n.counter(entry.counter), reason }), detail };
    }
    case "called":
      return { text: _("Called to %(counter)s", { counter: n.counter(entry.counter) }) };
    case "started":
      return { text: _("Transaction started at %(counter)s", { counter: n.counter(entry.counter) }) };
    case "finished":
      return { text: _("Finished at %(counter)s", { counter: n.counter(entry.counter) }) };
    case "no_show":
      return { text: _("Did not come to %(counter)s", { counter: n.counter(entry.counter) }) };
    case "transferred":
      return { text: _("Sent to another service's queue at %(counter)s", { counter: n.counter(entry.counter) }) };
    case "unfinished":
      return { text: _("Still at %(counter)s when the day's log ended", { counter: n.counter(entry.counter) }) };
    case "repromised": {
      const [p10, p50, p90] = entry.told;
      const remaining = { p10: Math.max(0, p10 - (entry.at - story.issued_at)), p50: Math.max(0, p50 - (entry.at - story.issued_at)), p90: Math.max(0, p90 - (entry.at - story.issued_at)) };
      return {
        text: _("Told again: now %(range)s", { range: formatRange(remaining) || "" }),
        detail: REPROMISE_REASONS[entry.reason] ? _(REPROMISE_REASONS[entry.reason]) : _("no reason in the log"),
      };
    }
    case "cancelled":
      return { text: _("Left the queue") };
    case "promise":
      return { text: _("The promise ran out: %(range)s", { range: toldText(story) }), detail: _("every minute after this broke it") };
    default:
      return { text: entry.kind };
  }
}

function render() {
  const story = state.story;
  if (!story) return;
  showBranchName(state.names, _("Ticket %(ticket)s", { ticket: story.ticket }), story.day);
  setText(document.getElementById("story-day"), fmtDay(story.day));

  const told = toldText(story);
  const broken = story.told_high_s != null && story.wait_s > story.told_high_s && story.outcome !== "cancelled";
  setTile("service", state.names.service(story.service));
  setTile("told", told || "—", told ? "" : _("no range in the log"));
  setTile("waited", minutesText(story.wait_s), _("from issue to its first call"));
  if (story.told_high_s == null) setTile("verdict", "—", _("nothing to keep"));
  else if (broken) setTile("verdict", _("Broken"), _("by %(over)s", { over: minutesText(story.wait_s - story.told_high_s) }), "warn");
  else if (story.outcome === "cancelled") setTile("verdict", "—", _("the customer left before the call"));
  else setTile("verdict", _("Kept"), "", "good");
  setTile("ahead", String(story.served_ahead), ngettext("other ticket called first", "other tickets called first", story.served_ahead));
  setTile("outcome", OUTCOMES[story.outcome] ? _(OUTCOMES[story.outcome]) : story.outcome);

  const entries = [...story.entries];
  if (broken) entries.push({ at: story.issued_at + story.told_high_s, kind: "promise" });
  entries.sort((a, b) => a.at - b.at || (a.kind === "issued" ? -1 : b.kind === "issued" ? 1 : 0));
  const own = new Set(["issued", "called", "started", "finished", "no_show", "transferred", "unfinished", "cancelled", "repromised"]);
  const list = document.getElementById("story-list");
  list.replaceChildren(
    ...entries.map((entry) => {
      const li = el("li", "mg-story-entry");
      li.dataset.kind = entry.kind;
      li.dataset.own = own.has(entry.kind) ? "1" : "0";
      const time = el("p", "mg-story-time");
      time.append(el("time", null, clock(entry.at)));
      const { text, detail } = describe(entry, story);
      const words = el("p", "mg-story-text", text);
      li.append(time, words);
      const relative = entry.at - story.issued_at;
      const details = [];
      if (entry.kind !== "issued") details.push(relative >= 0 ? _("%(time)s after issue", { time: formatElapsed(relative * 1000) }) : _("%(time)s before issue", { time: formatElapsed(-relative * 1000) }));
      if (detail) details.unshift(detail);
      if (details.length) li.append(el("p", "mg-story-detail", details.join(" · ")));
      return li;
    }),
  );
  setLocalCsvLink(
    document.getElementById("story-csv"),
    `${page.branch}-${story.day}-${story.ticket}.csv`,
    ["time", "kind", "counter", "ticket", "service", "reason", "declared_minutes", "until", "overrun_s"],
    story.entries.map((e) => [clock(e.at), e.kind, e.counter ?? "", e.ticket ?? (own.has(e.kind) ? story.ticket : ""), e.service ?? "", e.reason ?? "", e.declared_minutes ?? "", e.until != null ? clock(e.until) : "", e.overrun_s ?? ""]),
  );
}

async function load() {
  try {
    const path = `${reportsPath()}/tickets/${encodeURIComponent(page.day)}/${encodeURIComponent(page.ticket)}`;
    const story = await getJson(path);
    state.story = story;
    state.names = new Names(story.config);
    showError(null);
    render();
  } catch (error) {
    showError(error);
    document.getElementById("ticket-story").dataset.error = "1";
  } finally {
    document.body.dataset.loaded = "1";
  }
}

initNav();
onLanguageChange(() => render());
load();
