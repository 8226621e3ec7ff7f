// The screens' words in the page's language. Every string the browser writes goes through `_` or
// `ngettext` with its English text as the key; the translations are one catalogue compiled from
// translations/*/LC_MESSAGES/messages.po, served as /i18n/catalogue.js (see queue_board/boards/i18n.py).
// Placeholders are Python-style, as in the .po files: _("Counter %(name)s", { name: "3" }).

import CATALOGUE from "../../i18n/catalogue.js";

export const LANGUAGES = ["en", "zh-Hant", "zh-Hans"];
/** What each language calls itself (for language switches). */
export const NATIVE_NAMES = { en: "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文" };
/** The voice to ask the Web Speech API for. */
export const SPEECH_LANGS = { en: "en-GB", "zh-Hant": "zh-TW", "zh-Hans": "zh-CN" };
/** The locale for Intl (dates). */
export const INTL_LOCALES = { en: "en-GB", "zh-Hant": "zh-Hant-TW", "zh-Hans": "zh-Hans-CN" };

const PLURAL_INDEX = { en: (n) => (n === 1 ? 0 : 1) }; // Chinese has one form

let current = normalise(document.documentElement.lang) || "en";
const listeners = new Set();

/** One of LANGUAGES for a language tag ("zh-TW" → "zh-Hant"), or null. */
export function normalise(tag) {
  if (!tag) return null;
  const parts = String(tag).replace(/_/g, "-").toLowerCase().split("-");
  if (parts[0] === "en") return "en";
  if (parts[0] !== "zh") return null;
  return parts.slice(1).some((p) => ["hant", "tw", "hk", "mo"].includes(p)) ? "zh-Hant" : "zh-Hans";
}

/** The page's current language. */
export function language() {
  return current;
}

/** A no-op that marks a string for the catalogue; translate it later with _(). */
export function N_(msgid) {
  return msgid;
}

function interpolate(text, params) {
  if (!params) return text;
  return text.replace(/%(?:\((\w+)\))?([sd%])/g, (whole, name, kind) => {
    if (kind === "%") return "%";
    if (!name || !(name in params)) return whole;
    return String(params[name]);
  });
}

/** The translation of `msgid` in `lang` (default: the page's), with %(name)s placeholders filled. */
export function _(msgid, params, lang = current) {
  const entry = CATALOGUE[lang] && CATALOGUE[lang][msgid];
  const text = Array.isArray(entry) ? entry[0] : entry;
  return interpolate(text || msgid, params);
}

/** The singular or plural form for `n`; `%(num)s` in it is `n`. */
export function ngettext(singular, plural, n, params, lang = current) {
  const entry = CATALOGUE[lang] && CATALOGUE[lang][singular];
  const index = (PLURAL_INDEX[lang] || (() => 0))(n);
  let text;
  if (Array.isArray(entry) && entry.length) text = entry[Math.min(index, entry.length - 1)];
  else text = lang === "en" || !entry ? (n === 1 ? singular : plural) : entry;
  return interpolate(text || (n === 1 ? singular : plural), { num: n, ...params });
}

/** Re-translate the server-rendered strings: [data-i18n] (text), [data-i18n-label] (aria-label), [data-i18n-title]. */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    let args = null;
    if (node.dataset.i18nArgs) {
      try {
        args = JSON.parse(node.dataset.i18nArgs);
      } catch {
        args = null;
      }
    }
    const text = _(node.dataset.i18n, args);
    if (node.textContent !== text) node.textContent = text;
  }
  for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", _(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = _(node.dataset.i18nTitle);
}

/** Switch the page's language without a reload: server strings, then every listener re-renders. */
export function setLanguage(lang) {
  const next = normalise(lang) || "en";
  if (next === current) return;
  current = next;
  document.documentElement.lang = next;
  translatePage();
  for (const listener of listeners) listener(next);
}

/** Call `listener(lang)` after every language change. */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The languages a board shows: `?lang=` picks one; `?rotate=N` cycles through `?langs=a,b` (default:
 * the branch's languages) every N seconds. Returns {fixed, rotate, list(branchLanguages)}.
 */
export function boardLanguageOptions(params = new URLSearchParams(window.location.search)) {
  const rotate = Number(params.get("rotate"));
  const langs = (params.get("langs") || "")
    .split(",")
    .map(normalise)
    .filter(Boolean);
  return {
    fixed: normalise(params.get("lang")),
    rotateSeconds: Number.isFinite(rotate) && rotate > 0 ? Math.max(1, rotate) : 0,
    list(branchLanguages) {
      const pool = langs.length ? langs : (branchLanguages || []).map(normalise).filter(Boolean);
      return pool.length ? [...new Set(pool)] : ["en"];
    },
  };
}
