// The ticket kiosk: one big button per service (names in the branch's languages, the chosen one
// first); a tap takes a ticket and shows its number, the people ahead, the expected wait and a QR
// code that opens the ticket on the customer's phone; the ticket prints on an 80 mm roll.
// A service no open counter serves asks first: the customer reads that no counter serves it right
// now (and when one usually opens, if the branch's log knows), then takes a ticket anyway or not.

import {
  describeNewTicketWait,
  formatClock,
  formatPeopleAhead,
  formatRange,
  formatWaiting,
  nameIn,
  namesInOrder,
  parseTs,
} from "./format.js";
import { _, language, onLanguageChange, setLanguage } from "./i18n.js";
import { api, connectLive, el, pageSettings, setText, uuid4 } from "./live.js";

const RETURN_AFTER_S = 25;
const params = new URLSearchParams(window.location.search);
const AUTO_PRINT = params.get("print") === "auto";
const HOME_LANGUAGE = language();

const settings = pageSettings("kiosk");
const state = { board: null, languages: ["en"], busy: false, shown: null, confirming: null, countdown: null, timer: null };
const live = connectLive(settings, { onBoard });

function onBoard(board) {
  state.board = board;
  state.languages = board.languages && board.languages.length ? board.languages : ["en"];
  renderHeader();
  renderServices(board, false);
  renderConfirm();
  renderTicket();
  tick();
  // the kiosk answer may predate the first forecast: fill the wait in when the board knows it
  if (state.shown && !state.shown.wait) {
    const ticket = (board.waiting || []).find((t) => t.ticket === state.shown.ticket);
    if (ticket && ticket.wait) showWait(ticket.wait);
  }
}

function renderHeader() {
  const board = state.board;
  if (!board) return;
  const name = nameIn(board.names, language(), board.name || board.branch);
  const heading = document.getElementById("branch-name");
  heading.removeAttribute("data-i18n");
  setText(heading, name);
  setText(document.getElementById("pt-branch"), name);
  document.title = `${name} — ${_("Take a ticket")}`;
  for (const button of document.querySelectorAll("#language-switch .lang-button")) {
    button.hidden = !state.languages.includes(button.dataset.lang);
    button.setAttribute("aria-pressed", button.dataset.lang === language() ? "true" : "false");
  }
}

function serviceButton(service) {
  const button = el("button", "service-button");
  button.type = "button";
  button.dataset.service = service.code;
  const prefix = el("span", "sb-prefix", service.prefix || "");
  prefix.setAttribute("aria-hidden", "true");
  const facts = el("span", "sb-facts");
  facts.append(el("span", "sb-waiting"), el("span", "sb-wait"));
  button.append(prefix, el("span", "sb-names"), facts);
  button.addEventListener("click", () => choose(service.code));
  return button;
}

/** Service names: the kiosk's language first, then the branch's other languages (each tagged). */
function fillNames(container, names, fallback) {
  container.replaceChildren(
    ...namesInOrder(names, state.languages, fallback, language()).map((n, i) => {
      const span = el("span", i ? "sb-alt" : "sb-main", n.text);
      span.lang = n.language;
      return span;
    }),
  );
}

function renderServices(board, force) {
  const box = document.getElementById("services");
  const services = board.services || [];
  const codes = services.map((s) => s.code).join();
  if (box.dataset.codes !== codes) {
    // rebuild only when the services change, so a tap is never lost to a refresh
    box.replaceChildren(...services.map(serviceButton));
    box.dataset.codes = codes;
    force = true;
  }
  for (const service of services) {
    const button = box.querySelector(`button[data-service="${CSS.escape(service.code)}"]`);
    if (force || button.dataset.lang !== language()) {
      fillNames(button.querySelector(".sb-names"), service.names, service.code);
      button.dataset.lang = language();
    }
    setText(button.querySelector(".sb-waiting"), formatWaiting(service.waiting));
    const range = formatRange(service.new_ticket_wait);
    const opens = usualOpening(service);
    let wait = describeNewTicketWait(service);
    if (range && isOpen(service)) wait = _("Expected wait %(range)s", { range });
    else if (!isOpen(service) && opens) wait = _("No counter open now — usually opens around %(time)s", { time: opens });
    setText(button.querySelector(".sb-wait"), wait);
    button.dataset.open = isOpen(service) ? "true" : "false";
    button.disabled = state.busy;
  }
  const empty = document.getElementById("services-empty");
  empty.hidden = services.length > 0;
  empty.removeAttribute("data-i18n");
  setText(empty, services.length ? "" : _("No services are offered at this branch."));
}

function serviceOf(code) {
  return ((state.board && state.board.services) || []).find((s) => s.code === code) || null;
}

/** Whether an open counter serves the service (a board from before `open_now` existed: its counters). */
function isOpen(service) {
  if (!service) return true;
  if (typeof service.open_now === "boolean") return service.open_now;
  return Boolean(service.counters && service.counters.length);
}

/** "13:30" when a counter for the service usually opens later today, by the branch's log; else null. */
function usualOpening(service) {
  const at = service ? parseTs(service.usually_opens_at) : null;
  return at == null ? null : formatClock(at, live.clock.utcOffsetMinutes);
}

/** A tap on a service: a ticket at once if an open counter serves it, else ask first. */
function choose(code) {
  if (state.busy) return;
  if (isOpen(serviceOf(code))) {
    take(code);
    return;
  }
  state.confirming = code;
  renderConfirm();
  document.getElementById("choose").hidden = true;
  document.getElementById("confirm").hidden = false;
  document.getElementById("take-anyway").focus();
  startCountdown("confirm-countdown");
}

/** The question about a service no open counter serves, in the kiosk's current language. */
function renderConfirm() {
  const code = state.confirming;
  if (!code) return;
  const service = serviceOf(code);
  const name = service ? nameIn(service.names, language(), code) : code;
  const open = isOpen(service);
  const opens = usualOpening(service);
  setText(
    document.getElementById("confirm-title"),
    open ? _("A counter for %(service)s has just opened.", { service: name }) : _("No counter serves %(service)s right now.", { service: name }),
  );
  let when = _("We cannot say yet when one opens: please ask a member of staff.");
  if (open) when = _("You can take your ticket now.");
  else if (opens) when = _("A counter for it usually opens around %(time)s.", { time: opens });
  setText(document.getElementById("confirm-when"), when);
  document.getElementById("confirm-choice").hidden = open;
  setText(document.getElementById("take-anyway-label"), open ? _("Take a ticket") : _("Take a ticket anyway"));
}

function setBusy(busy) {
  state.busy = busy;
  for (const button of document.querySelectorAll(".service-button")) button.disabled = busy;
}

function showWait(range) {
  state.shown.wait = range;
  renderTicket();
}

/** The ticket on screen and on paper, in the kiosk's current language. */
function renderTicket() {
  const shown = state.shown;
  if (!shown) return;
  const service = serviceOf(shown.service);
  const serviceName = service ? nameIn(service.names, language(), shown.service) : shown.service;
  // no open counter serves it: no range, no "you are next", but what the customer can count on
  const open = isOpen(service);
  const opens = usualOpening(service);
  const range = open ? formatRange(shown.wait) : null;
  let wait = range || _("We are still estimating it — watch the hall board");
  if (!open) wait = opens ? _("A counter for it usually opens around %(time)s", { time: opens }) : _("No counter serves it right now: please watch the hall board");
  const ahead = open || shown.ahead ? formatPeopleAhead(shown.ahead) : _("You are first in line");
  const waitLine = document.getElementById("ticket-wait");
  waitLine.classList.toggle("is-text", !range);
  setText(document.getElementById("ticket-number"), shown.ticket);
  setText(document.getElementById("ticket-service"), serviceName);
  setText(document.getElementById("ticket-ahead"), ahead);
  setText(waitLine, wait);
  setText(document.getElementById("pt-number"), shown.ticket);
  const names = service ? namesInOrder(service.names, state.languages, shown.service, language()).map((n) => n.text) : [serviceName];
  setText(document.getElementById("pt-service"), names.join(" / "));
  setText(document.getElementById("pt-ahead"), ahead);
  setText(document.getElementById("pt-wait"), open ? _("Expected wait: %(range)s", { range: range || "—" }) : wait);
  setText(document.getElementById("pt-issued"), _("Issued %(time)s", { time: formatClock(shown.issuedAt, live.clock.utcOffsetMinutes) }));
}

async function take(code) {
  if (state.busy) return;
  setBusy(true);
  state.confirming = null;
  document.getElementById("confirm").hidden = true;
  const qr = document.getElementById("ticket-qr");
  qr.hidden = true;
  try {
    const result = await api(settings, `/branches/${encodeURIComponent(settings.branch)}/tickets`, {
      method: "POST",
      body: { service: code },
      idempotencyKey: uuid4(),
      retries: 2,
    });
    const ticket = result.ticket;
    state.shown = { ticket: ticket.ticket, service: ticket.service, ahead: ticket.people_ahead, wait: ticket.wait, issuedAt: live.clock.now() };
    renderTicket();
    document.getElementById("ticket-card").hidden = false;
    document.getElementById("error-card").hidden = true;
    document.getElementById("print").hidden = false;
    attachLink(ticket.ticket);
  } catch (error) {
    state.shown = null;
    setText(document.getElementById("error-text"), error.message);
    document.getElementById("ticket-card").hidden = true;
    document.getElementById("error-card").hidden = false;
    document.getElementById("print").hidden = true;
  }
  document.getElementById("choose").hidden = true;
  document.getElementById("result").hidden = false;
  document.getElementById("done").focus();
  startCountdown("countdown");
}

/** The ticket's own page, as a QR code on screen and on paper. */
async function attachLink(label) {
  let link;
  try {
    link = await api(settings, "/t/links", { method: "POST", body: { branch: settings.branch, ticket: label }, retries: 2, base: "" });
  } catch {
    return; // the ticket stands without it; the hall board still calls it
  }
  if (!state.shown || state.shown.ticket !== label) return;
  const image = document.getElementById("ticket-qr-image");
  const printed = document.getElementById("pt-qr");
  const loaded = Promise.all(
    [image, printed].map((img) => new Promise((resolve) => {
      img.onload = resolve;
      img.onerror = resolve;
      img.src = link.qr;
    })),
  );
  document.body.dataset.ticketLink = link.url;
  document.getElementById("ticket-qr").hidden = false;
  await loaded;
  if (AUTO_PRINT) window.print();
}

/** Back to the services after a while, counting down in the element `id`. */
function startCountdown(id) {
  window.clearInterval(state.timer);
  const shown = document.getElementById(id);
  state.countdown = RETURN_AFTER_S;
  setText(shown, `(${state.countdown})`);
  state.timer = window.setInterval(() => {
    state.countdown -= 1;
    if (state.countdown <= 0) backToServices();
    else setText(shown, `(${state.countdown})`);
  }, 1000);
}

function backToServices() {
  window.clearInterval(state.timer);
  state.shown = null;
  state.confirming = null;
  document.getElementById("confirm").hidden = true;
  document.getElementById("result").hidden = true;
  document.getElementById("choose").hidden = false;
  document.getElementById("ticket-qr").hidden = true;
  delete document.body.dataset.ticketLink;
  setBusy(false);
  setLanguage(HOME_LANGUAGE); // the next customer starts in the kiosk's own language
}

document.getElementById("done").addEventListener("click", backToServices);
document.getElementById("not-now").addEventListener("click", backToServices);
document.getElementById("take-anyway").addEventListener("click", () => {
  if (state.confirming) take(state.confirming);
});
document.getElementById("print").addEventListener("click", () => window.print());
for (const button of document.querySelectorAll("#language-switch .lang-button")) {
  button.addEventListener("click", () => setLanguage(button.dataset.lang));
}

onLanguageChange(() => {
  renderHeader();
  if (state.board) renderServices(state.board, true);
  renderConfirm();
  renderTicket();
});

function tick() {
  setText(document.getElementById("clock"), formatClock(live.clock.now(), live.clock.utcOffsetMinutes));
}

tick();
window.setInterval(tick, 1000);
