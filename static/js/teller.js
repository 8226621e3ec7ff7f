// The teller console of one counter: its state, its current customer, a preview of its counter
// board, the queues per service and for this counter, and a big button (with a keyboard shortcut)
// for each action, enabled only when it fits. The pause dialog offers the branch's pause reasons
// (codes, named in the console's language; or free text) and minutes. Whatever the console or the
// server refuses is said, with why, in the console's language: a shortcut for an action that does
// not fit now, and a dialog confirmed after the counter moved on (the server judges and says why).
// During a transaction, one click on a heads-up ("+5 min: Entering your details", the branch's list)
// tells the counter board and everyone's forecast that a long step has begun.

import { counterBoardView, headsUpReason, renderCounterBoard } from "./counter_view.js";
import {
  STATUS,
  agedRange,
  describeNewTicketWait,
  formatBackIn,
  formatClock,
  formatElapsed,
  formatRange,
  formatWaited,
  nameIn,
  parseTs,
  pauseReason,
} from "./format.js";
import { _, language, onLanguageChange, setLanguage } from "./i18n.js";
import { api, connectLive, connectionWords, el, pageSettings, setText, uuid4 } from "./live.js";

const COUNTER = document.body.dataset.counter;

const settings = pageSettings(`teller.${COUNTER}`);
const state = { board: null, counter: null, boardNowMs: null, pending: false, awaitSeq: null, awaitTimer: null, connection: "connecting" };
const live = connectLive(settings, { onBoard, onStatus });
const buttons = [...document.querySelectorAll("#actions button[data-action]")];
const counterPath = () =>
  `/branches/${encodeURIComponent(settings.branch)}/counters/${encodeURIComponent(COUNTER)}`;

function onStatus(value) {
  state.connection = value;
  setText(document.querySelector("#live-state .live-text"), connectionWords(value));
}

function serviceName(code) {
  const service = state.board && (state.board.services || []).find((s) => s.code === code);
  return service ? nameIn(service.names, language(), code) : code;
}

function onBoard(board) {
  state.board = board;
  state.boardNowMs = parseTs(board.now) ?? live.clock.now();
  state.counter = (board.counters || []).find((c) => c.name === COUNTER) || null;
  if (state.awaitSeq !== null && board.seq >= state.awaitSeq) settle();
  render();
  tick();
}

/** Whether a button fits now: the board lists, per counter, the actions the server accepts (the
 * rules live in the server's core, not here); none while an action of this console is pending. */
function allowed(action) {
  const counter = state.counter;
  if (!counter || state.pending) return false;
  return (counter.actions || []).includes(action);
}

function render() {
  const counter = state.counter;
  const now = live.clock.now();
  if (state.board) {
    setText(document.getElementById("branch-name"), nameIn(state.board.names, language(), state.board.name || state.board.branch));
    renderServiceTable(now);
  }
  renderPreview(now);
  document.body.dataset.status = counter ? counter.status : "unknown";
  const chipText = document.querySelector("#counter-status .chip-text");
  chipText.removeAttribute("data-i18n");
  if (!counter) {
    setText(chipText, state.board ? _("Unknown counter") : _("Loading…"));
    setText(
      document.getElementById("current-state"),
      state.board ? _("Counter %(name)s is not configured at this branch.", { name: COUNTER }) : "",
    );
    renderButtons();
    return;
  }
  const tiers = (counter.services || []).map((tier) => tier.map(serviceName).join(" + "));
  const then = _(", then "); // between priority tiers
  setText(document.getElementById("profile"), tiers.length ? _("Serves %(services)s", { services: tiers.join(then) }) : _("No services set"));

  const chip = document.getElementById("counter-status");
  chip.dataset.status = counter.status;
  const info = STATUS[counter.status] || STATUS.idle;
  setText(chip.querySelector(".chip-symbol"), info.symbol);
  setText(chipText, info.label());

  setText(document.getElementById("current-ticket"), counter.ticket || "—");
  document.getElementById("current-ticket").dataset.empty = counter.ticket ? "false" : "true";
  setText(document.getElementById("current-service"), counter.ticket ? serviceName(counter.service) : "");
  setText(document.getElementById("current-state"), stateSentence(counter, now));
  const since = parseTs(counter.since);
  setText(document.getElementById("current-timer"), timerText(counter, now));
  renderHeadsUps();
  renderButtons();
  renderQueue(counter, now);
}

function timerText(counter, now) {
  const since = parseTs(counter.since);
  if (since == null || counter.status === "closed") return "";
  return _("for %(elapsed)s (since %(time)s)", { elapsed: formatElapsed(now - since), time: formatClock(since, live.clock.utcOffsetMinutes) });
}

/** What the customers in front of the window see right now. */
function renderPreview(now) {
  const view = counterBoardView(state.board, COUNTER, now, state.boardNowMs ?? now, live.clock.utcOffsetMinutes);
  const branchName = state.board ? nameIn(state.board.names, language(), state.board.name || state.board.branch) : "";
  renderCounterBoard(document.getElementById("counter-board-preview"), view, {
    name: COUNTER,
    branchName,
    clock: formatClock(now, live.clock.utcOffsetMinutes),
  });
}

/** Every service of the branch: people waiting and the expected wait for a new ticket. */
function renderServiceTable() {
  const mine = new Set(((state.counter && state.counter.services) || []).flat());
  document.getElementById("service-table").replaceChildren(
    ...(state.board.services || []).map((service) => {
      const row = el("tr", mine.has(service.code) ? "mine" : "");
      row.dataset.service = service.code;
      const name = el("th", "st-name", serviceName(service.code));
      name.scope = "row";
      if (mine.has(service.code)) name.append(el("span", "st-mine", _("this counter")));
      row.append(name, el("td", "st-count num", String(service.waiting)), el("td", "st-wait", describeNewTicketWait(service)));
      return row;
    }),
  );
}

function stateSentence(counter, now) {
  const remaining = formatRange(agedRange(counter.remaining, (now - (state.boardNowMs ?? now)) / 1000));
  switch (counter.status) {
    case "closed":
      return _("The counter is closed. Press O to open it.");
    case "idle":
      return counter.queue_for_counter ? _("Free. Press N to call the next customer.") : _("Free. No one is waiting for this counter.");
    case "wrapping_up":
      return counter.queue_for_counter
        ? _("Wrapping up the previous transaction. Press N when ready for the next one.")
        : _("Wrapping up the previous transaction. No one is waiting.");
    case "calling":
      return _("Called %(ticket)s. Press S when the customer arrives, R to call again, X if they do not come.", { ticket: counter.ticket });
    case "serving":
      return remaining
        ? _("Serving %(ticket)s (usually %(range)s more). Press F when done, T to transfer.", { ticket: counter.ticket, range: remaining })
        : _("Serving %(ticket)s. Press F when done, T to transfer.", { ticket: counter.ticket });
    case "paused": {
      const back = formatBackIn(parseTs(counter.back_at), now);
      const reason = pauseReason(counter.pause_reason, state.board && state.board.pause_reasons);
      const what = reason ? _("Paused (%(reason)s)", { reason }) : _("Paused");
      return back ? _("%(what)s, %(back)s. Press U to resume.", { what, back }) : _("%(what)s. Press U to resume.", { what });
    }
    default:
      return "";
  }
}

/** Minutes as the console writes them: 5, 2.5. */
function minutesText(minutes) {
  return String(Math.round(Number(minutes) * 10) / 10);
}

/** The heads-up buttons, one per reason of the branch, shown while the counter serves someone. */
function renderHeadsUps() {
  const counter = state.counter;
  const group = document.getElementById("heads-up");
  group.hidden = !counter || counter.status !== "serving";
  const reasons = (state.board && state.board.heads_up_reasons) || [];
  document.getElementById("heads-up-buttons").replaceChildren(
    ...reasons.map((reason) => {
      const name = nameIn(reason.names, language(), reason.code);
      const num = minutesText(reason.minutes);
      const button = el("button", "action heads-up-choice", _("+%(num)s min: %(reason)s", { num, reason: name }));
      button.type = "button";
      button.dataset.reason = reason.code;
      button.title = _("Tell the customer this step takes about %(num)s more minutes; the boards and forecasts follow.", { num });
      button.disabled = !allowed("heads-up");
      button.addEventListener("click", () => act("heads-up", { reason: reason.code }));
      return button;
    }),
  );
}

function renderButtons() {
  for (const button of buttons) button.disabled = !allowed(button.dataset.action);
  for (const button of document.querySelectorAll("#heads-up-buttons button")) button.disabled = !allowed("heads-up");
  document.getElementById("actions").setAttribute("aria-busy", state.pending ? "true" : "false");
  for (const button of document.querySelectorAll("#queue button[data-ticket]")) button.disabled = !allowed("call");
}

/** This counter's eligible waiting tickets, in the order "call next" takes them (tier, then queue order). */
function queueFor(counter) {
  const waiting = (state.board && state.board.waiting) || [];
  const out = [];
  for (const tier of counter.services || []) {
    out.push(...waiting.filter((t) => tier.includes(t.service)).sort((a, b) => a.position - b.position));
  }
  return out;
}

function renderQueue(counter, now) {
  const tickets = queueFor(counter);
  setText(document.getElementById("queue-count"), String(tickets.length));
  const list = document.getElementById("queue");
  list.replaceChildren(
    ...tickets.map((ticket, index) => {
      const row = el("li", `queue-row${index === 0 ? " next" : ""}`);
      row.dataset.ticket = ticket.ticket;
      const label = el("span", "q-ticket", ticket.ticket);
      const facts = el("span", "q-facts");
      const issued = parseTs(ticket.issued_at);
      const range = formatRange(ticket.wait);
      const detail = el("span", "q-detail", issued != null ? formatWaited(now - issued) : "");
      const expect = el("span", "q-expect", index === 0 ? _("next in line") : range ? _("called in %(range)s", { range }) : "");
      detail.append(expect);
      facts.append(el("span", "q-service", serviceName(ticket.service)), detail);
      const call = el("button", "q-call", _("Call"));
      call.type = "button";
      call.dataset.ticket = ticket.ticket;
      call.title = _("Call %(ticket)s now (out of turn if it is not next)", { ticket: ticket.ticket });
      call.setAttribute("aria-label", _("Call %(ticket)s", { ticket: ticket.ticket }));
      call.disabled = !allowed("call");
      call.addEventListener("click", () => act("call", { ticket: ticket.ticket }));
      row.append(label, facts, call);
      return row;
    }),
  );
  document.getElementById("queue-empty").hidden = tickets.length > 0;
  renderRecent();
}

const CALL_STATUS = { called: () => _("called"), serving: () => _("being served"), done: () => _("served"), no_show: () => _("no-show") };

function renderRecent() {
  const calls = ((state.board && state.board.now_serving) || []).filter((c) => c.counter === COUNTER);
  document.getElementById("recent").replaceChildren(
    ...calls.map((call) => {
      const row = el("li", `recent-row status-${call.status}`);
      const at = parseTs(call.called_at);
      row.append(
        el("span", "r-ticket", call.ticket),
        el("span", "r-service", serviceName(call.service)),
        el("span", "r-status", CALL_STATUS[call.status] ? CALL_STATUS[call.status]() : call.status),
        el("time", "r-time", at != null ? formatClock(at, live.clock.utcOffsetMinutes) : ""),
      );
      return row;
    }),
  );
  document.getElementById("recent-empty").hidden = calls.length > 0;
}

let messageTimer = null;

/** Show the outcome of an action; a success fades after a while, an error stays until the next action. */
function showMessage(tone, text) {
  const box = document.getElementById("message");
  window.clearTimeout(messageTimer);
  if (tone !== "error") messageTimer = window.setTimeout(() => (box.hidden = true), 6000);
  box.dataset.tone = tone;
  setText(box.querySelector(".message-symbol"), tone === "error" ? "⚠" : "✓");
  setText(box.querySelector(".message-text"), text);
  box.hidden = false;
}

function describeDone(event) {
  const ticket = event.ticket || "";
  switch (event.type) {
    case "ticket_called":
      return _("Called %(ticket)s.", { ticket });
    case "ticket_recalled":
      return _("Called %(ticket)s again.", { ticket });
    case "service_started":
      return _("Started serving %(ticket)s.", { ticket });
    case "service_finished":
      return _("Finished %(ticket)s.", { ticket });
    case "ticket_no_show":
      return _("%(ticket)s marked as no-show.", { ticket });
    case "ticket_transferred":
      return _("%(ticket)s transferred to %(service)s.", { ticket, service: serviceName(event.service) });
    case "transaction_extended":
      return _("Heads-up given for %(ticket)s: +%(num)s min (%(reason)s).", {
        ticket,
        num: minutesText(event.minutes),
        reason: headsUpReason(event.reason, state.board && state.board.heads_up_reasons) || "—",
      });
    case "counter_paused":
      return _("Counter paused.");
    case "counter_resumed":
      return _("Counter resumed.");
    case "counter_opened":
      return _("Counter opened.");
    case "counter_closed":
      return _("Counter closed.");
    default:
      return _("Done.");
  }
}

function settle() {
  window.clearTimeout(state.awaitTimer);
  state.awaitSeq = null;
  state.pending = false;
  if (state.counter) render();
  else renderButtons();
}

/** Why the console does not send `action` now, or null when it may (said in the console's language). */
function refusal(action) {
  if (state.pending) return _("Please wait: your previous action is still being sent.");
  if (!state.counter) return state.board ? _("Counter %(name)s is not configured at this branch.", { name: COUNTER }) : _("Loading…");
  return null;
}

/** Why a button is disabled, for a teller who pressed its shortcut anyway. */
function whyNot(action) {
  const early = refusal(action);
  if (early) return early;
  const counter = state.counter;
  const free = counter.status === "idle" || counter.status === "wrapping_up";
  if ((action === "call-next" || action === "call") && free && !counter.queue_for_counter) return _("No one is waiting for this counter's services.");
  const button = buttons.find((b) => b.dataset.action === action);
  const label = button ? _(button.querySelector(".action-label").dataset.i18n).replace(/…$/, "") : action;
  const status = (STATUS[counter.status] || STATUS.idle).label();
  return _("“%(action)s” is not possible now (counter: %(status)s).", { action: label, status });
}

/**
 * Send one action. Each click gets a fresh Idempotency-Key; retries of that click reuse it.
 * An action the board no longer lists (a dialog confirmed after the counter moved on) is sent all
 * the same: the server judges it by the rules that made the list, and its answer says why not.
 */
async function act(action, body) {
  const refused = refusal(action);
  if (refused) {
    showMessage("error", refused);
    return;
  }
  state.pending = true;
  renderButtons();
  try {
    const result = await api(settings, `${counterPath()}/${action}`, {
      method: "POST",
      body,
      idempotencyKey: uuid4(),
      retries: 2,
    });
    showMessage("ok", describeDone(result.event || {}));
    if (state.board && state.board.seq >= result.seq) {
      settle();
    } else {
      // keep the buttons locked until the board shows this action (the push is usually first)
      state.awaitSeq = result.seq;
      state.awaitTimer = window.setTimeout(() => {
        live.refresh().catch(() => {}).finally(settle);
      }, live.connected() ? 1500 : 0);
    }
  } catch (error) {
    showMessage("error", error.message);
    settle();
  }
}

// pause and transfer dialogs ---------------------------------------------------------------
const pauseDialog = document.getElementById("pause-dialog");
const transferDialog = document.getElementById("transfer-dialog");

/** The branch's pause reasons as the dialog's choices, named in the console's language (the first one picked). */
function renderPauseReasons() {
  const other = pauseDialog.querySelector("label.other");
  for (const old of pauseDialog.querySelectorAll("label.reason")) old.remove();
  const reasons = (state.board && state.board.pause_reasons) || [];
  const checked = pauseDialog.querySelector('input[name="reason"]:checked');
  const picked = checked ? checked.value : null;
  reasons.forEach((reason, index) => {
    const label = el("label", "reason");
    const input = el("input");
    input.type = "radio";
    input.name = "reason";
    input.value = reason.code;
    input.checked = picked ? picked === reason.code : index === 0;
    const name = el("span", "reason-choice", nameIn(reason.names, language(), reason.code));
    label.append(input, document.createTextNode(" "), name);
    other.before(label);
  });
  if (!pauseDialog.querySelector('input[name="reason"]:checked')) pauseDialog.querySelector('input[value="__other__"]').checked = true;
}

function openPause() {
  if (!allowed("pause")) {
    showMessage("error", whyNot("pause"));
    return;
  }
  document.getElementById("pause-form").reset();
  // a fresh dialog starts from the branch's first reason, not from the last pause's choice
  for (const old of pauseDialog.querySelectorAll("label.reason")) old.remove();
  renderPauseReasons();
  pauseDialog.returnValue = "";
  pauseDialog.showModal();
}

pauseDialog.addEventListener("close", () => {
  if (pauseDialog.returnValue !== "ok") return;
  const form = document.getElementById("pause-form");
  const data = new FormData(form);
  let reason = data.get("reason");
  if (reason === "__other__") reason = String(data.get("other") || "").trim();
  const minutes = data.get("minutes");
  const body = {};
  if (reason) body.reason = reason;
  if (minutes) body.minutes = Number(minutes);
  act("pause", body);
});

// typing in "Other" picks it
pauseDialog.querySelector('input[name="other"]').addEventListener("input", () => {
  pauseDialog.querySelector('input[value="__other__"]').checked = true;
});

function openTransfer() {
  if (!allowed("transfer") || !state.board) {
    showMessage("error", whyNot("transfer"));
    return;
  }
  const current = state.counter.service;
  setText(document.getElementById("transfer-title"), _("Transfer %(ticket)s to…", { ticket: state.counter.ticket || "" }));
  const box = document.getElementById("transfer-services");
  const choices = (state.board.services || []).filter((s) => s.code !== current);
  box.replaceChildren(
    ...choices.map((service, index) => {
      const button = el("button", "action transfer-choice");
      button.type = "submit";
      button.value = service.code;
      button.append(document.createTextNode(`${nameIn(service.names, language(), service.code)} `));
      if (index < 9) button.append(el("kbd", null, String(index + 1)));
      return button;
    }),
  );
  transferDialog.returnValue = "";
  transferDialog.showModal();
}

transferDialog.addEventListener("keydown", (event) => {
  const index = Number(event.key) - 1;
  const choices = transferDialog.querySelectorAll(".transfer-choice");
  if (Number.isInteger(index) && index >= 0 && index < choices.length) {
    event.preventDefault();
    choices[index].click();
  }
});

transferDialog.addEventListener("close", () => {
  const code = transferDialog.returnValue;
  if (code && code !== "cancel") act("transfer", { service: code });
});

// buttons and keyboard ---------------------------------------------------------------------
for (const button of buttons) {
  button.addEventListener("click", () => {
    const action = button.dataset.action;
    if (action === "pause") openPause();
    else if (action === "transfer") openTransfer();
    else act(action);
  });
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (pauseDialog.open || transferDialog.open) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
  const button = buttons.find((b) => b.dataset.key === event.key.toLowerCase());
  if (!button) return;
  event.preventDefault();
  if (!button.disabled) button.click();
  else showMessage("error", whyNot(button.dataset.action));
});

function tick() {
  const now = live.clock.now();
  setText(document.getElementById("clock"), formatClock(now, live.clock.utcOffsetMinutes));
  if (state.counter) {
    setText(document.getElementById("current-state"), stateSentence(state.counter, now));
    setText(document.getElementById("current-timer"), timerText(state.counter, now));
  }
  renderPreview(now);
}

// the teller's language: the console and the preview follow it; kept in the address for a reload
const languageSelect = document.getElementById("language");
languageSelect.addEventListener("change", () => {
  setLanguage(languageSelect.value);
  const params = new URLSearchParams(window.location.search);
  params.set("lang", languageSelect.value);
  window.history.replaceState(null, "", `${window.location.pathname}?${params}${window.location.hash}`);
});

onLanguageChange((lang) => {
  languageSelect.value = lang;
  onStatus(state.connection);
  render();
  if (pauseDialog.open) renderPauseReasons();
});

tick();
window.setInterval(tick, 1000);
