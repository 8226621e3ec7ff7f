// Call announcements: a chime, then the call spoken in the board's language(s) with the Web Speech
// API. Calls are queued, so two never overlap; a recall is announced again. Boards in a branch run
// Chromium with --autoplay-policy=no-user-gesture-required (docs/displays.md); elsewhere the first tap unmutes.

import { SPEECH_LANGS } from "./i18n.js";
import { spokenCall } from "./format.js";

const CHIME_MS = () => (window.queueBoardOptions && window.queueBoardOptions.chimeMs) ?? 1300;
const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

export class Announcer {
  /**
   * `languages()` names the languages to speak a call in (the board's current one, or all of them
   * when it rotates); `onState(state)` hears "on", "blocked" (the browser wants a tap) or "off".
   */
  constructor({ enabled = true, languages, onState, autoUnlock = true } = {}) {
    this.enabled = enabled;
    this.languages = languages;
    this.onState = onState || (() => {});
    this.queue = [];
    this.running = false;
    /** every announcement made: {ticket, counter, recall, texts, start, end} (for tests and operators) */
    this.history = [];
    this.audio = null;
    if (enabled) {
      const unlock = () => this.unlock();
      window.addEventListener("pointerdown", unlock);
      window.addEventListener("keydown", unlock);
    }
    // a board in a branch may play sound at once (autoplay policy); a phone waits for the customer's tap
    window.setTimeout(() => (enabled && autoUnlock ? this.unlock() : this.reportState()), 0);
  }

  /** Create (or wake) the audio context; browsers allow sound only after a gesture or by policy. */
  unlock() {
    if (!this.enabled) return;
    try {
      if (!this.audio && (window.AudioContext || window.webkitAudioContext)) {
        this.audio = new (window.AudioContext || window.webkitAudioContext)();
      }
      if (this.audio && this.audio.state === "suspended") this.audio.resume().then(() => this.reportState(), () => {});
    } catch {
      this.audio = null;
    }
    this.reportState();
  }

  reportState() {
    const state = !this.enabled ? "off" : this.audio && this.audio.state === "running" ? "on" : "blocked";
    this.onState(state);
    return state;
  }

  /** Queue the call of `ticket` to `counter`; a call already waiting its turn is not queued twice. */
  announce(ticket, counter, { recall = false } = {}) {
    if (!this.enabled || !ticket) return;
    if (!recall && this.queue.some((job) => job.ticket === ticket && job.counter === counter)) return;
    this.queue.push({ ticket, counter, recall });
    if (!this.running) this.run();
  }

  async run() {
    this.running = true;
    while (this.queue.length) {
      const job = this.queue.shift();
      const entry = { ...job, texts: [], start: performance.now(), end: null };
      this.history.push(entry);
      document.body.dataset.announcing = job.ticket;
      await this.chime();
      for (const lang of this.languages ? this.languages() : ["en"]) {
        const text = spokenCall(job.ticket, job.counter, lang);
        entry.texts.push(text);
        await this.speak(text, lang);
      }
      entry.end = performance.now();
      delete document.body.dataset.announcing;
      await sleep(400); // a breath between two calls
    }
    this.running = false;
  }

  /** A two-tone "ding-dong", synthesised (no sound files to fetch). */
  async chime() {
    const ctx = this.audio;
    if (ctx && ctx.state === "running") {
      const start = ctx.currentTime + 0.02;
      [
        [880, 0],
        [660, 0.55],
      ].forEach(([frequency, offset]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.5, start + offset + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.7);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.75);
      });
    }
    await sleep(CHIME_MS());
  }

  /** Speak `text`; resolves when it is done (or after a generous timeout if the engine never says). */
  speak(text, lang) {
    const synth = window.speechSynthesis;
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") return sleep(400);
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        window.clearTimeout(guard);
        resolve();
      };
      const utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = SPEECH_LANGS[lang] || lang;
      const voice = (synth.getVoices() || []).find((v) => v.lang && v.lang.replace("_", "-").startsWith(utterance.lang));
      if (voice) utterance.voice = voice;
      utterance.rate = 0.9;
      utterance.onend = finish;
      utterance.onerror = finish;
      const guard = window.setTimeout(finish, Math.min(15_000, 2_000 + text.length * 120));
      synth.speak(utterance);
    });
  }
}

/**
 * The announcer of a board above the hall or a counter: silent with `?sound=off`, speaking the
 * board's language(s). While the browser blocks sound (no tap yet, and Chromium not started with
 * --autoplay-policy=no-user-gesture-required; see docs/displays.md) the board says so: a clear
 * "tap the screen to turn on sound" (#sound-prompt) where the page has one, else a small "sound
 * off" (#sound-state); both go once sound is on. `body[data-sound]` is "on", "blocked" or "off".
 * Exposed as `window.queueBoardAnnouncer` for operators and tests.
 */
export function boardAnnouncer(params, boardLanguage) {
  const announcer = new Announcer({
    enabled: params.get("sound") !== "off",
    languages: () => boardLanguage.spoken(),
    onState: (value) => {
      document.body.dataset.sound = value;
      const prompt = document.getElementById("sound-prompt");
      if (prompt) prompt.hidden = value !== "blocked";
      const indicator = document.getElementById("sound-state");
      if (indicator) indicator.hidden = value !== "blocked" || Boolean(prompt);
    },
  });
  window.queueBoardAnnouncer = announcer;
  return announcer;
}
