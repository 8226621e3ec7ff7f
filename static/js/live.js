// What every screen shares: its token and branch, the live Socket.IO feed kept in order by
// `seq`, the server's clock, the "connection lost since 10:42" banner, the board's language
// (fixed or rotating), and calls to the JSON API.

import { formatClock, parseTs } from "./format.js";
import { _, boardLanguageOptions, language, onLanguageChange, setLanguage } from "./i18n.js";

/** How long a screen may be offline before it says so (the socket retries meanwhile). */
const OFFLINE_GRACE_MS = () => (window.queueBoardOptions && window.queueBoardOptions.offlineGraceMs) ?? 10_000;

/**
 * The page's credential and branch. The branch comes from `?branch=`, else the server's default branch.
 *
 * A wall screen, kiosk or teller console (`<body data-screen="…">`) never sees its token: the
 * server swapped the link's `?token=` for an HttpOnly cookie and names it in `data-screen`
 * (empty when this browser holds none); `screen` is that name, which API calls send in
 * X-QB-Screen and the socket in `auth.screen`. A token an older version kept in localStorage
 * (under `queue_board.token.<kind>`) is handed to the server once the same way, and removed.
 *
 * A page the server rendered for a signed-in staff user (`<body data-session="1" data-csrf="…">`)
 * works through the session cookie instead: `session` is true, no screen cookie is used, and
 * writes carry `csrf` in the X-CSRFToken header.
 *
 * `token` is always null on a page: no script of this server holds a token (a program calling
 * `api` with its own settings may pass one).
 */
export function pageSettings(kind) {
  const body = document.body;
  const params = new URLSearchParams(window.location.search);
  const key = `queue_board.token.${kind}`;
  const session = body.dataset.session === "1";
  let kept = null;
  try {
    kept = window.localStorage.getItem(key);
    window.localStorage.removeItem(key);
  } catch {
    kept = null; // private mode or storage disabled: nothing was kept
  }
  if (kept && !session && !body.dataset.screen) {
    params.set("token", kept);
    window.location.replace(`${window.location.pathname}?${params}${window.location.hash}`);
  }
  return {
    kind,
    token: null,
    // a signed-in console acts as its user, never as a counter's token this browser holds
    screen: session ? null : body.dataset.screen || null,
    session,
    csrf: session ? body.dataset.csrf || null : null,
    branch: params.get("branch") || body.dataset.defaultBranch || "main",
    root: body.dataset.root || "",
  };
}

/** Set an element's text only when it changes (keeps screen readers and selections calm). */
export function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}

/** `document.createElement` with a class and text (text always via textContent). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/**
 * The banner at the top of every page. `show` takes a function that words the message, so the
 * banner follows a language switch.
 */
export const banner = {
  words: null,
  show(words, tone = "warning") {
    const node = document.getElementById("connection-banner");
    if (!node) return;
    this.words = typeof words === "function" ? words : () => words;
    setText(node.querySelector(".banner-text"), this.words());
    node.dataset.tone = tone;
    node.hidden = false;
  },
  hide() {
    this.words = null;
    const node = document.getElementById("connection-banner");
    if (node) node.hidden = true;
  },
};

onLanguageChange(() => {
  if (banner.words) setText(document.querySelector("#connection-banner .banner-text"), banner.words());
});

/** The words for each connection state, for the small indicator next to the clock. */
export function connectionWords(value) {
  switch (value) {
    case "live":
      return _("Live");
    case "connecting":
      return _("Connecting…");
    case "lost":
      return _("Reconnecting…");
    case "refused":
      return _("Not connected");
    case "degraded":
      return _("Refreshing every 5 s");
    default:
      return value;
  }
}

/**
 * A board's language: fixed by `?lang=`, else the branch's first language, or rotating through
 * the branch's languages (or `?langs=`) every `?rotate=` seconds. Call `update(board)` on each board.
 */
export class BoardLanguage {
  constructor(params = new URLSearchParams(window.location.search)) {
    this.options = boardLanguageOptions(params);
    this.languages = [language()];
    this.timer = null;
    this.index = 0;
  }

  /** The languages this board speaks (all of them when rotating). */
  spoken() {
    return this.options.rotateSeconds ? this.languages : [language()];
  }

  update(board) {
    const list = this.options.list(board && board.languages);
    const changed = list.join() !== this.languages.join();
    this.languages = list;
    if (this.options.rotateSeconds) {
      if (!this.timer || changed) {
        window.clearInterval(this.timer);
        this.index = Math.max(0, list.indexOf(language()));
        setLanguage(list[this.index]);
        this.timer = window.setInterval(() => {
          this.index = (this.index + 1) % this.languages.length;
          setLanguage(this.languages[this.index]);
        }, this.options.rotateSeconds * 1000);
      }
    } else if (this.options.fixed) {
      setLanguage(this.options.fixed);
    }
  }
}

/**
 * The server's clock as seen from here: the board's `now` at each push, run forward at the
 * rate the server's clock has been observed to run (1 in production, faster in the demo).
 *
 * The device's own clock is never used once the server's is known: a wall screen's clock may be
 * hours off (or the demo's server clock runs fast), so a dropped connection keeps the last known
 * server time running (`suspend`), and countdowns ("back in ~5 min") stay right while offline.
 */
export class ServerClock {
  constructor() {
    this.base = null;
    this.last = null;
    this.rate = 1;
    this.rebase = false;
    this.utcOffsetMinutes = -new Date().getTimezoneOffset();
  }

  /** True once a server time has been seen (before that, `now()` can only be the device's guess). */
  get known() {
    return this.last !== null;
  }

  /**
   * The connection dropped: keep running from the last server time and rate, and start the rate's
   * measurement afresh from the next sample (a restarted server, such as a restarted demo, may
   * run another clock; its first push then sets the time at once).
   */
  suspend() {
    this.rebase = true;
  }

  /** Forget the server's clock altogether (only for a page that changes server). */
  reset() {
    this.base = null;
    this.last = null;
    this.rate = 1;
    this.rebase = false;
  }

  observe(board) {
    if (board && Number.isFinite(board.utc_offset_minutes) && board.seq) this.utcOffsetMinutes = board.utc_offset_minutes;
    const server = parseTs(board && board.now);
    if (server == null) return;
    const sample = { server, client: Date.now() };
    if (!this.base || this.rebase || sample.client - this.base.client > 30 * 60_000 || server < this.base.server) {
      this.base = sample;
      this.rebase = false;
    }
    const span = sample.client - this.base.client;
    if (span >= 5_000) {
      const rate = (sample.server - this.base.server) / span;
      this.rate = Math.abs(rate - 1) < 0.05 ? 1 : Math.min(1000, Math.max(0, rate));
    }
    this.last = sample;
  }

  now() {
    if (!this.last) return Date.now();
    return this.last.server + (Date.now() - this.last.client) * this.rate;
  }
}

/** How a page's socket retries after a drop (Socket.IO's options). */
export const RECONNECTION = {
  reconnection: true,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 15000,
  randomizationFactor: 0.5,
};

/**
 * A page's connection state, as `status(value, message)`: `body[data-connection]`, and the banner,
 * hidden when live; for a lost connection `lostWords(since)` once the grace period has passed
 * (`body[data-offline-since]` meanwhile); else `message` (words or a function wording them), if any.
 * `onStatus(value)` follows every change.
 */
export function connectionStatus(clock, lostWords, onStatus) {
  const body = document.body;
  let lostAt = null;
  let lostTimer = null;
  return (value, message) => {
    body.dataset.connection = value;
    if (value !== "lost") {
      window.clearTimeout(lostTimer);
      lostTimer = null;
      lostAt = null;
      delete body.dataset.offlineSince;
    }
    if (value === "live") {
      banner.hide();
    } else if (value === "lost") {
      // a blip is not news: say so only after the grace period, with the time it started
      if (lostAt === null) {
        lostAt = { server: clock.now(), offset: clock.utcOffsetMinutes };
        body.dataset.offlineSince = formatClock(lostAt.server, lostAt.offset);
        lostTimer = window.setTimeout(() => {
          if (lostAt === null) return;
          const since = formatClock(lostAt.server, lostAt.offset);
          banner.show(() => lostWords(since));
        }, OFFLINE_GRACE_MS());
      }
    } else if (message) {
      banner.show(message, value === "refused" ? "error" : "warning");
    }
    if (onStatus) onStatus(value);
  };
}

/**
 * Follow `socket`'s connection with `status`: live on connect; lost on a drop (the clock keeps the
 * server's time meanwhile) or while it retries; `refused(error)` when the server turned it away.
 */
export function followConnection(socket, clock, status, refused) {
  socket.on("connect", () => status("live"));
  socket.on("disconnect", (reason) => {
    status("lost");
    clock.suspend(); // keep the server's time while away; a restarted server's first push resets it
    // the server closed this connection on purpose: ask again (the client only retries on its own otherwise)
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", (error) => {
    if (socket.active) status("lost");
    else refused(error);
  });
}

/**
 * Connect to the branch's live feed. `onBoard(board, info)` gets every board state in order:
 * the `snapshot` on (re)connect and on `sync`, then each `board` push. Pushes carry the full
 * state with the branch's `seq`; an older one is dropped, and a jump of more than one is taken
 * as it is (the changes of one forecast refresh come in one push). `sync` stays for clients
 * that want the state again.
 *
 * With several server processes, pushes may arrive out of order: the older one is not shown, and
 * nothing is lost with it, because the newer state already holds everything it said (screens
 * derive their announcements from the state shown, see calls.js, never from the push's event).
 * A `sync`'s answer older than what is shown is dropped too; the first snapshot after a
 * (re)connect is taken whatever its `seq` (a restarted demo may start a new log).
 */
export function connectLive(settings, { onBoard, onStatus } = {}) {
  const body = document.body;
  const clock = new ServerClock();
  let lastSeq = null;
  // no state taken since the last (re)connect: the next snapshot is the server's word, whatever its seq
  let fresh = true;
  let pollTimer = null;

  const status = connectionStatus(
    clock,
    (since) => _("Connection lost since %(time)s — reconnecting… The board may be out of date.", { time: since }),
    onStatus,
  );

  const accept = (board, info) => {
    clock.observe(board);
    lastSeq = board.seq;
    fresh = false;
    body.dataset.seq = String(board.seq);
    onBoard(board, info);
  };

  if (!settings.token && !settings.session && !settings.screen) {
    if (offerSignIn()) {
      status("refused", () => _("Sign in to use this screen, or open it with ?token=… (create one with `queue-board token create`)."));
    } else {
      status("refused", () => _("This screen needs a token: open it with ?token=… (create one with `queue-board token create`)."));
    }
    return { clock, socket: null, connected: () => false, refresh: async () => {} };
  }

  const refresh = async () => {
    const board = await api(settings, `/branches/${encodeURIComponent(settings.branch)}/snapshot`);
    if (lastSeq === null || board.seq >= lastSeq) accept(board, { kind: "snapshot", event: null });
  };

  if (typeof window.io !== "function") {
    // the Socket.IO client did not load (npm install not run): fall back to polling the API
    status("degraded", () => _("Live updates are unavailable (the Socket.IO client did not load); refreshing every 5 s."));
    const poll = () => refresh().catch((error) => banner.show(() => _("Cannot load the board: %(reason)s", { reason: error.message }), "error"));
    poll();
    pollTimer = window.setInterval(poll, 5000);
    return { clock, socket: null, connected: () => false, refresh, stop: () => window.clearInterval(pollTimer) };
  }

  const socket = window.io({
    path: `${settings.root}/socket.io`,
    // a counter board says which counter it is: a display token bound to a counter shows only that one;
    // a signed-in page sends no token, and the server takes the session cookie sent with the handshake
    // a wall screen names its HttpOnly cookie, which the handshake carries
    auth: {
      token: settings.token || undefined,
      screen: settings.screen || undefined,
      branch: settings.branch,
      counter: document.body.dataset.counter || undefined,
    },
    ...RECONNECTION,
  });
  status("connecting");

  // note: the server's `snapshot` may be delivered just before the client's own "connect" event
  followConnection(socket, clock, status, (error) => {
    // refused by the server (bad token, wrong branch, a session that ended): retrying would not help
    if (settings.session) offerSignIn();
    status("refused", () => _("The server refused this screen: %(reason)s", { reason: error.message }));
  });
  // messages of the old connection cannot arrive after "disconnect"; the new one's snapshot may precede "connect"
  socket.on("disconnect", () => (fresh = true));
  socket.on("snapshot", (board) => {
    if (!fresh && lastSeq !== null && board.seq < lastSeq) return; // a sync's answer overtaken by newer pushes
    accept(board, { kind: "snapshot", event: null });
  });
  socket.on("board", (board) => {
    if (lastSeq !== null && board.seq < lastSeq) return; // an older state arriving late
    // a jump in seq needs no resync: a push carries the whole state, and the server pushes
    // changes made during one forecast refresh together (one push, several seqs)
    accept(board, { kind: "board", event: board.event || null, gap: lastSeq !== null && board.seq > lastSeq + 1 });
  });

  // for operators' consoles and the browser tests: the socket and the last seq seen
  window.queueBoardLive = { socket, clock, lastSeq: () => lastSeq };
  return { clock, socket, connected: () => socket.connected, refresh, status };
}

/** Show the page's "sign in" offer, if it has one (the teller console); whether it did. */
function offerSignIn() {
  const offer = document.getElementById("sign-in-offer");
  if (!offer) return false;
  offer.hidden = false;
  return true;
}

/** An error answer of the API, with its JSON `message` for people. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A random UUID (v4), also outside secure contexts where crypto.randomUUID is missing. */
export function uuid4() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The JSON body of `response`, or null when it has none (an empty answer, a proxy's error page). */
export async function jsonOrNull(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** The words for a failed `response` whose body was `data`: the server's `message`, else its status. */
export function failureMessage(response, data) {
  return (data && data.message) || _("The server answered %(status)s", { status: `${response.status} ${response.statusText}`.trim() });
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

/**
 * Call the JSON API under /api/v1 (or `base`) with the page's token, its screen cookie (named in
 * X-QB-Screen), or as its signed-in user (the session cookie, and the CSRF token on writes). A write with an `idempotencyKey`
 * is retried (same key) when the network fails or the server is briefly unavailable, so the
 * server stores it once. Throws ApiError with the server's `message`.
 */
export async function api(settings, path, { method = "GET", body, idempotencyKey, retries = 0, base = "/api/v1" } = {}) {
  // errors come back in the screen's language, which need not be the browser's
  const headers = { Accept: "application/json", "Accept-Language": language() };
  if (settings.session) {
    if (method !== "GET" && method !== "HEAD" && settings.csrf) headers["X-CSRFToken"] = settings.csrf;
  } else if (settings.screen) {
    headers["X-QB-Screen"] = settings.screen;
  } else {
    headers.Authorization = `Bearer ${settings.token}`;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const url = `${settings.root}${base}${path}`;
  for (let attempt = 0; ; attempt += 1) {
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        // the page's no-referrer would blank the Origin of a write, which the server checks for a screen's cookie
        referrerPolicy: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      if (attempt < retries) {
        await sleep(400 * 2 ** attempt);
        continue;
      }
      throw new ApiError(0, "network", _("The server could not be reached. Check the connection and try again."));
    }
    const data = await jsonOrNull(response);
    if (response.ok) return data;
    // a signed-in page whose session ended (idle, signed out elsewhere, new password): offer to sign in again
    if (response.status === 401 && settings.session) offerSignIn();
    if ((response.status === 502 || response.status === 503) && attempt < retries) {
      await sleep(400 * 2 ** attempt);
      continue;
    }
    throw new ApiError(response.status, (data && data.error) || "http_error", failureMessage(response, data));
  }
}
