// The hall board: now serving (each call announced; the newest call still waiting for its customer
// highlighted), every counter's state in a customer's words, and per service the people waiting and
// the expected wait for a new ticket; "tap the screen to turn on sound" while the browser blocks it.
// One language at a time (?lang=), or rotating (?rotate=20). Everything is set with textContent.

import { boardAnnouncer } from "./announcer.js";
import { CallLedger } from "./calls.js";
import {
  counterName,
  describeCall,
  describeCounter,
  describeNewTicketWait,
  formatClock,
  formatDate,
  formatRange,
  nameIn,
  parseTs,
  writtenCall,
} from "./format.js";
import { NATIVE_NAMES, _, language, onLanguageChange } from "./i18n.js";
import { BoardLanguage, connectLive, connectionWords, el, pageSettings, setText } from "./live.js";

const NOW_SERVING_ROWS = 5;

const settings = pageSettings("hall");
const params = new URLSearchParams(window.location.search);
const boardLanguage = new BoardLanguage(params);
const state = { board: null, boardNowMs: null, newestKey: null, connection: "connecting" };
const announcer = boardAnnouncer(params, boardLanguage);
// the calls announced so far: each call and recall once, whatever order the pushes came in
const calls = new CallLedger();
const live = connectLive(settings, { onBoard, onStatus });

function onStatus(value) {
  state.connection = value;
  setText(document.querySelector("#live-state .live-text"), connectionWords(value));
}

function onBoard(board, info) {
  state.board = board;
  state.boardNowMs = parseTs(board.now) ?? live.clock.now();
  boardLanguage.update(board);
  render({ ...info, calls: announce(board, info) });
  setText(document.getElementById("updated"), formatClock(live.clock.now(), live.clock.utcOffsetMinutes, true));
}

function render(info = { event: null, calls: [] }) {
  const board = state.board;
  if (!board) return;
  renderHeader(board);
  renderNowServing(board, info);
  renderCounters(board);
  renderServices(board);
  tick();
}

onLanguageChange(() => {
  onStatus(state.connection);
  render();
});

function renderHeader(board) {
  const name = nameIn(board.names, language(), board.name || board.branch);
  const heading = document.getElementById("branch-name");
  setText(heading, name);
  heading.removeAttribute("data-i18n");
  document.title = `${name} — ${_("Hall board")}`;
  const strip = document.getElementById("language-strip");
  const languages = boardLanguage.options.rotateSeconds ? boardLanguage.languages : [];
  strip.replaceChildren(
    ...languages.map((lang) => {
      const item = el("span", lang === language() ? "lang current" : "lang", NATIVE_NAMES[lang] || lang);
      item.lang = lang;
      return item;
    }),
  );
  strip.hidden = languages.length < 2;
}

/**
 * Speak each new call (and each recall) once, in order: the calls of the state shown that were not
 * announced yet (a call whose push came late or was missed included); the page's first state is
 * the present, not news. The calls announced, for the flash.
 */
function announce(board, info) {
  const due = calls.take(board, info.event ? info.event.ticket : null);
  for (const call of due) {
    announcer.announce(call.ticket, call.counter, { recall: call.recall });
    setText(document.getElementById("announce"), writtenCall(call.ticket, call.counter));
  }
  return due;
}

/** How long a new call (or a recall) keeps flashing, whatever pushes follow. */
const FLASH_MS = 8000;

/**
 * The recent calls. The big highlighted entry is for a call a customer must act on (status "called":
 * go to that counter now), the newest such; other calls still waiting for their customer follow it,
 * then the calls being served or finished, newest first, never highlighted, so "A016 → 1" in yellow
 * never lingers once A016 is at the counter.
 */
function renderNowServing(board, info) {
  const list = document.getElementById("now-serving");
  const calls = board.now_serving || [];
  const called = calls.filter((entry) => entry.status === "called");
  const hero = called[0] || null;
  // other calls still waiting for their customer next (they must stay on screen when rows run out), then the rest
  const rows = [...called, ...calls.filter((entry) => entry.status !== "called")].slice(0, NOW_SERVING_ROWS);
  const newest = calls[0];
  const newestKey = newest ? `${newest.ticket}@${newest.called_at}` : null;
  const recalls = (info.calls || []).filter((call) => call.recall);
  const recalled = recalls.length ? recalls[recalls.length - 1].ticket : null;
  const firstRender = state.newestKey === null;
  if (!firstRender && newestKey && newestKey !== state.newestKey) state.flash = { ticket: newest.ticket, until: Date.now() + FLASH_MS };
  if (recalled) state.flash = { ticket: recalled, until: Date.now() + FLASH_MS };
  const flashing = state.flash && Date.now() < state.flash.until ? state.flash.ticket : null;
  list.replaceChildren(
    ...rows.map((entry) => {
      const row = el("li", `ns-row status-${entry.status}${entry === hero ? " newest" : ""}`);
      row.dataset.ticket = entry.ticket;
      row.dataset.counter = entry.counter;
      const ticket = el("span", "ns-ticket", entry.ticket);
      const arrow = el("span", "ns-arrow", "→");
      arrow.setAttribute("aria-hidden", "true");
      const counter = el("span", "ns-counter");
      counter.append(el("span", "ns-counter-label", _("Counter")), el("span", "ns-counter-name", entry.counter));
      const note = el("span", "ns-note", describeCall(entry));
      row.append(ticket, arrow, counter, note);
      if (entry === hero && entry.ticket === flashing) {
        row.classList.add("flash");
        // keep the animation's phase across re-renders, so a push does not restart it
        row.style.animationDelay = `${-((FLASH_MS - (state.flash.until - Date.now())) % 1000)}ms`;
      }
      return row;
    }),
  );
  document.getElementById("now-serving-empty").hidden = rows.length > 0;
  fitRows(list);
  state.newestKey = newestKey ?? "";
}

/** Hide the older calls that do not fit whole (a cut-off ticket number misleads). */
function fitRows(list) {
  const rows = [...list.children];
  rows.forEach((row) => (row.hidden = false));
  const bottom = list.getBoundingClientRect().bottom;
  const first = rows.findIndex((row, index) => index > 0 && row.getBoundingClientRect().bottom > bottom + 1);
  if (first > 0) rows.slice(first).forEach((row) => (row.hidden = true));
}

window.addEventListener("resize", () => fitRows(document.getElementById("now-serving")));

function counterCard(list, name) {
  let card = list.querySelector(`li[data-counter="${CSS.escape(name)}"]`);
  if (card) return card;
  card = el("li", "counter-card");
  card.dataset.counter = name;
  const head = el("div", "cc-head");
  head.append(el("span", "cc-name"), el("span", "cc-symbol"));
  head.lastChild.setAttribute("aria-hidden", "true");
  card.append(head, el("p", "cc-state"), el("p", "cc-ticket"), el("p", "cc-reason"), el("p", "cc-detail"));
  list.append(card);
  return card;
}

function renderCounters(board) {
  const list = document.getElementById("counters");
  const now = live.clock.now();
  const names = new Set();
  for (const counter of board.counters || []) {
    names.add(counter.name);
    const card = counterCard(list, counter.name);
    const view = describeCounter(counter, now, state.boardNowMs ?? now, board.pause_reasons);
    card.dataset.status = view.status;
    setText(card.querySelector(".cc-name"), counterName(counter.name));
    setText(card.querySelector(".cc-symbol"), view.symbol);
    setText(card.querySelector(".cc-state"), view.ticket ? view.label : view.headline);
    const ticket = card.querySelector(".cc-ticket");
    setText(ticket, view.ticket || "");
    ticket.hidden = !view.ticket;
    const reason = card.querySelector(".cc-reason");
    setText(reason, view.reason || "");
    reason.hidden = !view.reason;
    setText(card.querySelector(".cc-detail"), view.detail);
  }
  for (const card of [...list.children]) if (!names.has(card.dataset.counter)) card.remove();
  list.dataset.count = String(names.size);
}

function renderServices(board) {
  const list = document.getElementById("services");
  list.replaceChildren(
    ...(board.services || []).map((service) => {
      const item = el("li", "service");
      item.dataset.service = service.code;
      const names = el("div", "svc-names");
      names.append(el("span", "main-name", nameIn(service.names, language(), service.code)));
      const waiting = el("p", "svc-waiting");
      waiting.append(el("span", "svc-count", String(service.waiting)), el("span", "svc-count-label", _("waiting")));
      const wait = el("p", "svc-wait");
      const range = el("span", "svc-wait-range", describeNewTicketWait(service));
      range.classList.toggle("is-note", !formatRange(service.new_ticket_wait) || !service.counters.length);
      wait.append(el("span", "svc-wait-label", _("New ticket")), range);
      item.append(names, waiting, wait);
      return item;
    }),
  );
}

function tick() {
  // the server's time only: a wall screen's own clock may be hours off (it is never used once the server's is known)
  const known = live.clock.known;
  const now = live.clock.now();
  setText(document.getElementById("clock"), known ? formatClock(now, live.clock.utcOffsetMinutes) : "--:--");
  setText(document.getElementById("date"), known ? formatDate(now, live.clock.utcOffsetMinutes) : "");
  if (state.board) renderCounters(state.board);
  fitRows(document.getElementById("now-serving")); // fonts and resizes change what fits
}

tick();
window.setInterval(tick, 1000);
