// The customer's ticket on their phone: people ahead and the expected wait, live; "your turn:
// counter 3" with sound and vibration where the phone allows; a notice when the wait the page shows
// goes up by more than 5 minutes. The signed link in the address is the only credential.

import { Announcer } from "./announcer.js";
import { agedRange, formatClock, formatDate, formatPeopleAhead, formatRange, nameIn, parseTs, rangePassed, sentence } from "./format.js";
import { _, language, ngettext, onLanguageChange, setLanguage } from "./i18n.js";
import { ServerClock, banner, connectionWords, setText } from "./live.js";

/** The shown wait must rise by more than this many minutes (its upper end) for the "wait got longer" notice. */
const WORSE_BY_MIN = 5;
const POLL_MS = 5_000;
const SAFETY_POLL_MS = 60_000;
const OFFLINE_GRACE_MS = () => (window.queueBoardOptions && window.queueBoardOptions.offlineGraceMs) ?? 10_000;

const body = document.body;
const link = body.dataset.link;
const root = body.dataset.root || "";
const clock = new ServerClock();
const state = {
  ticket: null,
  boardNowMs: null,
  connection: "connecting",
  lostAt: null,
  lostTimer: null,
  /** the "wait got longer" notice while it applies: {before} = the shown upper minute before the rise */
  notice: null,
  /** the lowest upper minute the page has shown since it opened (or since the last notice / OK) */
  lowest: null,
  /** the upper minute shown now */
  shownHigh: null,
};
const announcer = new Announcer({
  enabled: true,
  autoUnlock: false,
  languages: () => [language()],
  onState: (value) => {
    state.sound = value;
    renderAlerts();
  },
});
window.queueBoardAnnouncer = announcer;

for (const button of document.querySelectorAll("#language-switch .lang-button")) {
  button.addEventListener("click", () => {
    setLanguage(button.dataset.lang);
    const params = new URLSearchParams(window.location.search);
    params.set("lang", button.dataset.lang);
    window.history.replaceState(null, "", `${window.location.pathname}?${params}`);
  });
}

onLanguageChange(() => {
  for (const button of document.querySelectorAll("#language-switch .lang-button")) {
    button.setAttribute("aria-pressed", button.dataset.lang === language() ? "true" : "false");
  }
  setText(document.querySelector("#live-state .live-text"), connectionWords(state.connection));
  render();
});

// state ------------------------------------------------------------------------------------
function accept(ticket) {
  if (!ticket || (state.ticket && ticket.seq < state.ticket.seq)) return;
  clock.observe(ticket);
  const previous = state.ticket;
  state.ticket = ticket;
  state.boardNowMs = parseTs(ticket.now) ?? clock.now();
  body.dataset.seq = String(ticket.seq);
  body.dataset.status = ticket.status;
  setText(document.getElementById("updated"), formatClock(clock.now(), clock.utcOffsetMinutes, true));
  alertOnCall(previous, ticket);
  render();
}

function storageKey(suffix) {
  return `queue_board.ticket.${body.dataset.day}.${body.dataset.ticket}.${suffix}`;
}

function stored(suffix) {
  try {
    return window.localStorage.getItem(storageKey(suffix));
  } catch {
    return null;
  }
}

function store(suffix, value) {
  try {
    window.localStorage.setItem(storageKey(suffix), String(value));
  } catch {
    // private mode: the page still works, it just forgets across reloads
  }
}

/** The call: vibrate, chime and speak once per call (and again on each recall). */
function alertOnCall(previous, ticket) {
  if (ticket.status !== "called") return;
  const key = `${ticket.counter}#${ticket.recalls || 0}`;
  if (stored("alerted") === key) return;
  store("alerted", key);
  if (navigator.vibrate) {
    try {
      navigator.vibrate([400, 150, 400, 150, 600]);
    } catch {
      // not allowed before a tap: the screen and the sound still tell
    }
  }
  announcer.announce(ticket.ticket, ticket.counter, { recall: Boolean(previous && previous.status === "called") });
  document.title = `▶ ${_("Your turn: counter %(counter)s", { counter: ticket.counter })}`;
}

/** The upper end of a range in the minutes the page shows it in ("under 1 min" is 0), as formatRange rounds it. */
function shownMinutes(range) {
  return range.p90 < 60 ? 0 : Math.round(range.p90 / 60);
}

/**
 * "Your wait got longer", from the range the page shows (`aged`, the same one as #range): raised when
 * its upper end rises more than WORSE_BY_MIN above the lowest the page has shown, so it never says
 * "longer" about a range that shrank. It says how much longer than before, in the range on screen
 * now, and goes as soon as the wait is back to what it was, or the ticket is no longer waiting.
 */
function trackWait(ticket, aged) {
  if (ticket.status !== "waiting") {
    state.notice = null;
    state.lowest = null;
    state.shownHigh = null;
    return;
  }
  if (!aged) return; // "Estimating…": nothing shown to compare
  const high = shownMinutes(aged);
  state.shownHigh = high;
  if (state.notice && high <= state.notice.before) state.notice = null; // back to what it was
  if (state.lowest === null || high < state.lowest) {
    state.lowest = high;
  } else if (high - state.lowest > WORSE_BY_MIN) {
    state.notice = { before: state.notice ? state.notice.before : state.lowest };
    state.lowest = high;
    if (navigator.vibrate) {
      try {
        navigator.vibrate(200);
      } catch {
        // fine without
      }
    }
  }
}

/** Why the wait outgrew its range, as the log knows it (the re-promise's reason). */
function repromiseWhy(repromise) {
  switch (repromise.reason) {
    case "counter_paused":
      return repromise.pause_reason
        ? _("A counter that serves you is paused (%(reason)s).", { reason: nameIn(repromise.pause_reason, language(), "") })
        : _("A counter that serves you is paused.");
    case "counter_closed":
      return _("A counter that serves you has closed.");
    case "long_transaction":
      return _("A customer ahead of you is taking longer than usual.");
    case "served_out_of_turn":
      return _("Customers with priority were served before you.");
    default:
      return "";
  }
}

function repromiseSeenKey() {
  return `qb-repromise-seen:${link}`;
}

/**
 * "Taking longer than we said: now about 20–25 min. Sorry." — said once: the server re-promises a
 * ticket at most once (a `ticket_repromised` event), and once the customer taps OK this page does
 * not show it again (remembered per ticket link on the phone).
 */
function renderRepromise(ticket, now, aged) {
  const box = document.getElementById("repromise");
  if (!box) return;
  const repromise = ticket.status === "waiting" ? ticket.repromise : null;
  let seen = false;
  try {
    seen = window.localStorage.getItem(repromiseSeenKey()) === "1";
  } catch {
    seen = false; // private mode: shown until OK for this page's life
  }
  if (!repromise || seen || state.repromiseSeen) {
    box.hidden = true;
    return;
  }
  // the same range as the page's own figure (the live forecast), so the page never says two
  // things; until the page has one, what is left of the re-promised range
  const issued = parseTs(ticket.issued_at);
  const told = repromise.told;
  const waited = issued != null ? Math.max(0, (now - issued) / 1000) : 0;
  const left = { p10: Math.max(0, told.p10 - waited), p50: Math.max(0, told.p50 - waited), p90: Math.max(0, told.p90 - waited) };
  const range = aged && !rangePassed(aged) ? formatRange(aged) : left.p90 > 0 ? formatRange(left) : null;
  const text = range ? _("Now %(range)s. Sorry.", { range }) : _("We are sorry: it is taking longer than we said.");
  setText(document.getElementById("repromise-text"), text);
  const why = repromiseWhy(repromise);
  const whyNode = document.getElementById("repromise-why");
  setText(whyNode, why);
  whyNode.hidden = !why;
  box.hidden = false;
}

document.getElementById("repromise-ok")?.addEventListener("click", () => {
  state.repromiseSeen = true;
  try {
    window.localStorage.setItem(repromiseSeenKey(), "1");
  } catch {
    // fine: remembered for this page's life
  }
  document.getElementById("repromise").hidden = true;
});

function renderNotice(ticket, aged) {
  const box = document.getElementById("notice");
  if (!box) return;
  // a re-promise says it already, with the reason: no second notice about the same growth
  const notice = ticket.status === "waiting" && aged && !ticket.repromise ? state.notice : null;
  box.hidden = !notice;
  if (!notice) return;
  const sentence = ngettext(
    "The expected wait is now %(range)s, about %(num)s minute longer than before.",
    "The expected wait is now %(range)s, about %(num)s minutes longer than before.",
    shownMinutes(aged) - notice.before,
    { range: formatRange(aged) || "" },
  );
  const why = whyText(ticket);
  setText(document.getElementById("notice-text"), why ? _("%(sentence)s %(why)s", { sentence, why }) : sentence);
}

document.getElementById("notice-ok")?.addEventListener("click", () => {
  // read: the next notice is about a rise from what the page shows now
  state.notice = null;
  state.lowest = state.shownHigh;
  document.getElementById("notice").hidden = true;
});

/** Why the wait is what it is: how many counters serve this service now, and how many are paused. */
function whyText(ticket) {
  if (!ticket || ticket.counters_serving == null) return "";
  const service = nameIn(ticket.service_names, language(), ticket.service || "");
  if (!ticket.counters_serving && !ticket.counters_paused) return _("No counter is serving %(service)s right now.", { service });
  const serving = ngettext("%(num)s counter is serving %(service)s", "%(num)s counters are serving %(service)s", ticket.counters_serving, { service });
  if (!ticket.counters_paused) return sentence(serving);
  const paused = ngettext("%(num)s is paused.", "%(num)s are paused.", ticket.counters_paused);
  return _("%(serving)s; %(paused)s", { serving, paused });
}

// rendering ---------------------------------------------------------------------------------
function show(id, text) {
  const node = document.getElementById(id);
  if (!node) return;
  node.removeAttribute("data-i18n");
  setText(node, text || "");
  node.hidden = !text;
}

function render() {
  const ticket = state.ticket;
  if (!ticket) return;
  const branch = nameIn(ticket.names, language(), ticket.branch_name || ticket.branch);
  setText(document.getElementById("branch-name"), branch);
  if (ticket.status !== "called") document.title = `${_("Ticket %(ticket)s", { ticket: ticket.ticket })} — ${branch}`;
  show("service", ticket.service_names ? nameIn(ticket.service_names, language(), ticket.service) : "");
  document.getElementById("card").dataset.status = ticket.status;
  const now = clock.now();
  const offset = clock.utcOffsetMinutes;
  let headline = "";
  let caption = "";
  let range = "";
  let detail = "";
  let why = "";
  // one range for everything the page says about the wait: #range, the call window and the notice
  const aged = ticket.status === "waiting" ? agedRange(ticket.wait, (now - state.boardNowMs) / 1000) : null;
  trackWait(ticket, aged);
  switch (ticket.status) {
    case "waiting": {
      headline = formatPeopleAhead(ticket.people_ahead);
      caption = _("Expected wait");
      // a range the wait has already passed is never shown: it says so instead of "under 1 min"
      const passed = ticket.wait_overdue || (aged && rangePassed(aged));
      range = passed ? _("Taking longer than expected") : formatRange(aged) || _("Estimating…");
      if (aged && !passed && aged.p90 >= 60) {
        detail = _("We expect to call you between %(from)s and %(to)s.", {
          from: formatClock(now + aged.p10 * 1000, offset),
          to: formatClock(now + aged.p90 * 1000, offset),
        });
      }
      why = whyText(ticket);
      break;
    }
    case "called":
      headline = _("Your turn: counter %(counter)s", { counter: ticket.counter });
      detail = ticket.recalls ? _("Called again — please go to counter %(counter)s now.", { counter: ticket.counter }) : _("Please go to counter %(counter)s now.", { counter: ticket.counter });
      break;
    case "serving":
      headline = _("You are being served at counter %(counter)s", { counter: ticket.counter });
      break;
    case "done":
      headline = _("Thank you for your visit");
      detail = _("Your transaction is complete.");
      break;
    case "no_show":
      headline = _("We called you but could not find you");
      detail = _("Please ask a member of staff; they will help you.");
      break;
    case "cancelled":
      headline = _("This ticket was cancelled");
      detail = _("Please take a new ticket at the kiosk if you still need us.");
      break;
    case "expired": {
      const day = parseTs(`${ticket.day}T12:00:00Z`);
      headline = _("This ticket was for %(date)s", { date: day != null ? formatDate(day, 0) : ticket.day });
      detail = _("Please take a new ticket at the kiosk.");
      break;
    }
    default:
      headline = _("This branch has no such ticket today");
      detail = _("Please ask a member of staff.");
  }
  show("headline", headline);
  show("wait-caption", caption);
  show("range", range);
  show("detail", detail);
  show("why", why);
  renderRepromise(ticket, now, aged);
  renderNotice(ticket, aged);
  // "keep this page open, stay in the branch": only while the customer still waits for (or answers) the call
  const hint = document.getElementById("keep-open");
  if (hint) hint.hidden = ticket.status !== "waiting" && ticket.status !== "called";
  renderAlerts();
}

/** The "alert me" button until sound is on; a note once it is. */
function renderAlerts() {
  const ticket = state.ticket;
  const finished = !ticket || ticket.status !== "waiting"; // once called, the alert has done its job
  const alerts = document.getElementById("alerts");
  if (!alerts) return;
  alerts.hidden = finished || state.sound === "on";
  document.getElementById("alerts-on").hidden = finished || state.sound !== "on";
}

document.getElementById("alerts")?.addEventListener("click", () => {
  announcer.unlock();
  if (navigator.vibrate) {
    try {
      navigator.vibrate(80);
    } catch {
      // not every phone vibrates
    }
  }
});

// connection --------------------------------------------------------------------------------
function setConnection(value) {
  state.connection = value;
  body.dataset.connection = value;
  setText(document.querySelector("#live-state .live-text"), connectionWords(value));
  if (value !== "lost") {
    window.clearTimeout(state.lostTimer);
    state.lostAt = null;
    state.lostTimer = null;
  }
  if (value === "live") {
    banner.hide();
  } else if (value === "refused") {
    banner.show(() => _("This ticket link is not valid."), "error");
  } else if (value === "lost" && state.lostAt === null) {
    state.lostAt = clock.now();
    const since = formatClock(state.lostAt, clock.utcOffsetMinutes);
    state.lostTimer = window.setTimeout(() => {
      banner.show(() => _("Connection lost since %(time)s — reconnecting… Your place in the queue is kept.", { time: since }));
    }, OFFLINE_GRACE_MS());
  }
}

let fetching = null;
let again = false;

/** Read this ticket's state over HTTP; calls while one is in flight coalesce into one more. */
async function fetchState() {
  if (fetching) {
    again = true;
    return fetching;
  }
  fetching = (async () => {
    try {
      const response = await fetch(`${root}/t/${link}/state`, { cache: "no-store", headers: { Accept: "application/json" } });
      if (response.ok) {
        accept(await response.json());
        if (!state.socket) setConnection("degraded");
        else if (!state.socket.connected && state.everConnected) setConnection("lost");
      } else if (response.status === 404) {
        setConnection("refused");
      }
    } catch {
      setConnection("lost");
    } finally {
      fetching = null;
    }
    if (again) {
      again = false;
      fetchState();
    }
  })();
  return fetching;
}

function connect() {
  if (!link) return;
  if (typeof window.io !== "function") {
    setConnection("degraded");
    fetchState();
    window.setInterval(fetchState, POLL_MS);
    return;
  }
  const socket = window.io("/ticket", {
    path: `${root}/socket.io`,
    auth: { ticket: link },
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 15000,
    randomizationFactor: 0.5,
  });
  state.socket = socket;
  socket.on("connect", () => {
    state.everConnected = true;
    setConnection("live");
  });
  // the server sends this ticket's state on connect and after every change of its branch
  socket.on("ticket", accept);
  socket.on("disconnect", (reason) => {
    setConnection("lost");
    clock.suspend(); // never the phone's own clock: keep the server's time until it answers again
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", () => {
    setConnection(socket.active ? "lost" : "refused");
    if (!socket.active) fetchState();
  });
  // a safety net while connected, and the only source while the socket is down
  window.setInterval(() => {
    if (!socket.connected) fetchState();
  }, POLL_MS);
  window.setInterval(() => {
    if (socket.connected) socket.emit("refresh");
  }, SAFETY_POLL_MS);
  window.queueBoardLive = { socket, clock };
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && link) fetchState();
});

if (link) {
  fetchState();
  connect();
  window.setInterval(render, 15_000); // the call window and ranges age between pushes
}
