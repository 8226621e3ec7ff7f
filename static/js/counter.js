// The board above one counter's window: who is being served and for how long, wrap-up and pause
// messages with the time left; a call is chimed and spoken. Read-only; a display token bound to
// another counter is refused.

import { boardAnnouncer } from "./announcer.js";
import { CallLedger } from "./calls.js";
import { counterBoardView, renderCounterBoard } from "./counter_view.js";
import { counterName, formatClock, nameIn, parseTs, writtenCall } from "./format.js";
import { _, language, onLanguageChange } from "./i18n.js";
import { BoardLanguage, api, connectLive, connectionWords, pageSettings, setText } from "./live.js";

const COUNTER = document.body.dataset.counter;
const params = new URLSearchParams(window.location.search);
const settings = pageSettings(`counter.${COUNTER}`);
const boardLanguage = new BoardLanguage(params);
const state = { board: null, boardNowMs: null, connection: "connecting", refused: false };
const root = document.getElementById("counter-board");

const announcer = boardAnnouncer(params, boardLanguage);
// this counter's calls announced so far: each call and recall once, whatever order the pushes came in
const calls = new CallLedger({ counter: COUNTER });

const live = connectLive(settings, { onBoard, onStatus });
checkBinding();

/** A display token bound to a counter shows that counter's board only. */
async function checkBinding() {
  if (!settings.token && !settings.screen) return;
  try {
    const binding = await api(settings, "/board/binding", { base: "" });
    if (binding.counter && binding.counter !== COUNTER) {
      state.refused = true;
      if (live.socket) live.socket.disconnect();
      live.status("refused", () =>
        _("This screen's token is bound to counter %(bound)s, not counter %(counter)s.", { bound: binding.counter, counter: COUNTER }),
      );
      state.board = null;
      render();
    }
  } catch {
    // the socket reports a bad token itself
  }
}

function onStatus(value) {
  state.connection = value;
  setText(document.querySelector("#live-state .live-text"), connectionWords(value));
}

function onBoard(board, info) {
  if (state.refused) return;
  state.board = board;
  state.boardNowMs = parseTs(board.now) ?? live.clock.now();
  boardLanguage.update(board);
  // derived from the state shown, not from the push's own event: a call whose push came late or was missed is announced too
  const due = calls.take(board, info.event ? info.event.ticket : null);
  for (const call of due) {
    announcer.announce(call.ticket, call.counter, { recall: call.recall });
    setText(document.getElementById("announce"), writtenCall(call.ticket, call.counter));
  }
  if (due.length) {
    root.classList.remove("flash");
    void root.offsetWidth; // restart the animation
    root.classList.add("flash");
  }
  render();
  setText(document.getElementById("updated"), formatClock(live.clock.now(), live.clock.utcOffsetMinutes, true));
}

function render() {
  const now = live.clock.now();
  const board = state.board;
  const view = counterBoardView(board, COUNTER, now, state.boardNowMs ?? now, live.clock.utcOffsetMinutes);
  if (!board) {
    view.hero = "";
    view.primary = "";
    view.secondary = "";
    view.label = state.refused ? _("Not connected") : _("Connecting…");
  }
  const branchName = board ? nameIn(board.names, language(), board.name || board.branch) : "";
  renderCounterBoard(root, view, { name: COUNTER, branchName, clock: formatClock(now, live.clock.utcOffsetMinutes) });
  document.title = `${counterName(COUNTER)}${branchName ? ` — ${branchName}` : ""}`;
}

onLanguageChange(() => {
  onStatus(state.connection);
  render();
});

render();
window.setInterval(render, 1000);
