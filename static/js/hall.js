// The hall board: now serving, every counter's state in a customer's words, and per service
// the people waiting and the expected wait for a new ticket. Everything is set with textContent.

import {
  describeCall,
  describeCounter,
  describeNewTicketWait,
  formatClock,
  formatDate,
  formatRange,
  namesInOrder,
  parseTs,
} from "./format.js";
import { connectLive, el, pageSettings, setText } from "./live.js";

const NOW_SERVING_ROWS = 5;
const HEADINGS = {
  now_serving: { en: "Now serving", "zh-Hant": "現正服務", "zh-Hans": "现正服务" },
  counters: { en: "Counters", "zh-Hant": "櫃檯", "zh-Hans": "柜台" },
};

const settings = pageSettings("hall");
const state = { board: null, boardNowMs: null, newestKey: null, languages: ["en"] };
const live = connectLive(settings, { onBoard, onStatus });

function onStatus(value) {
  const words = { live: "Live", connecting: "Connecting…", lost: "Reconnecting…", refused: "Not connected", degraded: "Refreshing every 5 s" };
  setText(document.querySelector("#live-state .live-text"), words[value] || value);
}

function onBoard(board, info) {
  state.board = board;
  state.boardNowMs = parseTs(board.now) ?? live.clock.now();
  state.languages = board.languages && board.languages.length ? board.languages : ["en"];
  renderHeader(board);
  renderNowServing(board, info);
  renderCounters(board);
  renderServices(board);
  setText(document.getElementById("updated"), formatClock(live.clock.now(), live.clock.utcOffsetMinutes, true));
  tick();
}

function multilingual(container, names, fallback) {
  container.replaceChildren();
  namesInOrder(names, state.languages, fallback).forEach((name, index) => {
    const span = el("span", index ? "alt-name" : "main-name", name.text);
    span.lang = name.language;
    container.append(span);
  });
}

function renderHeader(board) {
  const names = namesInOrder(board.names, state.languages, board.name || board.branch);
  setText(document.getElementById("branch-name"), names[0].text);
  document.getElementById("branch-name").lang = names[0].language;
  const others = document.getElementById("branch-names");
  others.replaceChildren(...names.slice(1).map((n) => Object.assign(el("span", "alt-name", n.text), { lang: n.language })));
  document.title = `${names[0].text} — hall board`;
  for (const heading of document.querySelectorAll("[data-i18n]")) {
    const key = heading.dataset.i18n;
    if (heading.dataset.rendered === state.languages.join()) continue;
    multilingual(heading, HEADINGS[key], heading.textContent);
    heading.dataset.rendered = state.languages.join();
  }
}

function renderNowServing(board, info) {
  const list = document.getElementById("now-serving");
  const rows = (board.now_serving || []).slice(0, NOW_SERVING_ROWS);
  const newest = rows[0];
  const newestKey = newest ? `${newest.ticket}@${newest.called_at}` : null;
  const recalled = info.event && info.event.type === "ticket_recalled" ? info.event.ticket : null;
  const isNewCall = state.newestKey !== null && newestKey !== state.newestKey;
  const firstRender = state.newestKey === null && list.childElementCount === 0;
  list.replaceChildren(
    ...rows.map((entry, index) => {
      const row = el("li", `ns-row status-${entry.status}${index === 0 ? " newest" : ""}`);
      row.dataset.ticket = entry.ticket;
      row.dataset.counter = entry.counter;
      const ticket = el("span", "ns-ticket", entry.ticket);
      const arrow = el("span", "ns-arrow", "→");
      arrow.setAttribute("aria-hidden", "true");
      const counter = el("span", "ns-counter");
      counter.append(el("span", "ns-counter-label", "Counter"), el("span", "ns-counter-name", entry.counter));
      const note = el("span", "ns-note", describeCall(entry));
      row.append(ticket, arrow, counter, note);
      if ((index === 0 && isNewCall && !firstRender) || entry.ticket === recalled) row.classList.add("flash");
      return row;
    }),
  );
  document.getElementById("now-serving-empty").hidden = rows.length > 0;
  fitRows(list);
  if (newest && (isNewCall || recalled) && newest.status === "called") {
    const who = recalled ? rows.find((r) => r.ticket === recalled) || newest : newest;
    setText(document.getElementById("announce"), `Ticket ${who.ticket}, please go to counter ${who.counter}.`);
  }
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
  head.append(el("span", "cc-name", `Counter ${name}`), el("span", "cc-symbol"));
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
    const view = describeCounter(counter, now, state.boardNowMs ?? now);
    card.dataset.status = view.status;
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
      multilingual(names, service.names, service.code);
      const waiting = el("p", "svc-waiting");
      waiting.append(el("span", "svc-count", String(service.waiting)), el("span", "svc-count-label", "waiting"));
      const wait = el("p", "svc-wait");
      const range = el("span", "svc-wait-range", describeNewTicketWait(service));
      range.classList.toggle("is-note", !formatRange(service.new_ticket_wait) || !service.counters.length);
      wait.append(el("span", "svc-wait-label", "New ticket"), range);
      item.append(names, waiting, wait);
      return item;
    }),
  );
}

function tick() {
  const now = live.clock.now();
  setText(document.getElementById("clock"), formatClock(now, live.clock.utcOffsetMinutes));
  setText(document.getElementById("date"), formatDate(now, live.clock.utcOffsetMinutes));
  if (state.board) renderCounters(state.board);
}

tick();
window.setInterval(tick, 1000);
