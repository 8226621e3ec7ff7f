// The ticket kiosk: one big button per service (names in the branch's languages); a tap takes a
// ticket and shows its number, the people ahead and the expected wait, then returns to the buttons.

import { describeNewTicketWait, formatClock, formatPeopleAhead, formatRange, formatWaiting, nameIn, namesInOrder } from "./format.js";
import { api, connectLive, el, pageSettings, setText, uuid4 } from "./live.js";

const RETURN_AFTER_S = 10;
const CAPTIONS = {
  "choose-title": { en: "Please choose a service", "zh-Hant": "請選擇服務", "zh-Hans": "请选择服务" },
  "ticket-caption": { en: "Your ticket", "zh-Hant": "您的號碼", "zh-Hans": "您的号码" },
  "wait-caption": { en: "Expected wait", "zh-Hant": "預計等候", "zh-Hans": "预计等候" },
};

const settings = pageSettings("kiosk");
const state = { board: null, languages: ["en"], busy: false, shown: null, countdown: null, timer: null };
const live = connectLive(settings, { onBoard });

function onBoard(board) {
  state.board = board;
  state.languages = board.languages && board.languages.length ? board.languages : ["en"];
  const names = namesInOrder(board.names, state.languages, board.name || board.branch);
  setText(document.getElementById("branch-name"), names[0].text);
  const others = document.getElementById("branch-names");
  others.replaceChildren(...names.slice(1).map((n) => Object.assign(el("span", "alt-name", n.text), { lang: n.language })));
  for (const [id, texts] of Object.entries(CAPTIONS)) {
    const node = document.getElementById(id);
    if (node.dataset.rendered === state.languages.join()) continue;
    node.replaceChildren(
      ...namesInOrder(texts, state.languages).map((n, i) => Object.assign(el("span", i ? "alt-name" : "main-name", n.text), { lang: n.language })),
    );
    node.dataset.rendered = state.languages.join();
  }
  renderServices(board);
  tick();
  // the kiosk answer may predate the first forecast: fill the wait in when the board knows it
  if (state.shown && !state.shown.wait) {
    const ticket = (board.waiting || []).find((t) => t.ticket === state.shown.ticket);
    if (ticket && ticket.wait) showWait(ticket.wait);
  }
}

function serviceButton(service) {
  const button = el("button", "service-button");
  button.type = "button";
  button.dataset.service = service.code;
  const names = el("span", "sb-names");
  namesInOrder(service.names, state.languages, service.code).forEach((n, i) => {
    const span = el("span", i ? "sb-alt" : "sb-main", n.text);
    span.lang = n.language;
    names.append(span);
  });
  const prefix = el("span", "sb-prefix", service.prefix || "");
  prefix.setAttribute("aria-hidden", "true");
  const facts = el("span", "sb-facts");
  facts.append(el("span", "sb-waiting"), el("span", "sb-wait"));
  button.append(prefix, names, facts);
  button.addEventListener("click", () => take(service.code));
  return button;
}

function renderServices(board) {
  const box = document.getElementById("services");
  const services = board.services || [];
  const codes = services.map((s) => s.code).join();
  if (box.dataset.codes !== codes) {
    // rebuild only when the services change, so a tap is never lost to a refresh
    box.replaceChildren(...services.map(serviceButton));
    box.dataset.codes = codes;
  }
  for (const service of services) {
    const button = box.querySelector(`button[data-service="${CSS.escape(service.code)}"]`);
    setText(button.querySelector(".sb-waiting"), formatWaiting(service.waiting));
    const range = formatRange(service.new_ticket_wait);
    setText(button.querySelector(".sb-wait"), range && service.counters.length ? `Expected wait ${range}` : describeNewTicketWait(service));
    button.disabled = state.busy;
  }
  document.getElementById("services-empty").hidden = services.length > 0;
  setText(document.getElementById("services-empty"), services.length ? "" : "No services are offered at this branch.");
}

function setBusy(busy) {
  state.busy = busy;
  for (const button of document.querySelectorAll(".service-button")) button.disabled = busy;
}

function showWait(range) {
  state.shown.wait = range;
  setText(document.getElementById("ticket-wait"), formatRange(range) || "We are still estimating it — watch the hall board");
}

async function take(code) {
  if (state.busy) return;
  setBusy(true);
  try {
    const result = await api(settings, `/branches/${encodeURIComponent(settings.branch)}/tickets`, {
      method: "POST",
      body: { service: code },
      idempotencyKey: uuid4(),
      retries: 2,
    });
    const ticket = result.ticket;
    const service = ((state.board && state.board.services) || []).find((s) => s.code === ticket.service);
    state.shown = { ticket: ticket.ticket, wait: null };
    setText(document.getElementById("ticket-number"), ticket.ticket);
    setText(document.getElementById("ticket-service"), service ? nameIn(service.names, "en", code) : code);
    setText(document.getElementById("ticket-ahead"), formatPeopleAhead(ticket.people_ahead));
    showWait(ticket.wait);
    document.getElementById("ticket-card").hidden = false;
    document.getElementById("error-card").hidden = true;
  } catch (error) {
    state.shown = null;
    setText(document.getElementById("error-text"), error.message);
    document.getElementById("ticket-card").hidden = true;
    document.getElementById("error-card").hidden = false;
  }
  document.getElementById("choose").hidden = true;
  document.getElementById("result").hidden = false;
  document.getElementById("done").focus();
  startCountdown();
}

function startCountdown() {
  window.clearInterval(state.timer);
  state.countdown = RETURN_AFTER_S;
  setText(document.getElementById("countdown"), `(${state.countdown})`);
  state.timer = window.setInterval(() => {
    state.countdown -= 1;
    if (state.countdown <= 0) backToServices();
    else setText(document.getElementById("countdown"), `(${state.countdown})`);
  }, 1000);
}

function backToServices() {
  window.clearInterval(state.timer);
  state.shown = null;
  document.getElementById("result").hidden = true;
  document.getElementById("choose").hidden = false;
  setBusy(false);
}

document.getElementById("done").addEventListener("click", backToServices);

function tick() {
  setText(document.getElementById("clock"), formatClock(live.clock.now(), live.clock.utcOffsetMinutes));
}

tick();
window.setInterval(tick, 1000);
