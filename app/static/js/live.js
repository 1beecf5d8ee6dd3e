/* The shared client of every console: configuration, the JSON API, safe DOM building,
 * the live connection (with a full refetch after every reconnect), times and alerts.
 *
 * Rules every console script follows:
 *  - user text reaches the page only through text nodes (Hotline.h / textContent), never
 *    through innerHTML, so a description holding <script> shows as text;
 *  - state is refetched from the API on every (re)connection: an event missed while the
 *    socket was down is never missing for long;
 *  - an action the server refuses changes nothing on screen except an explanation.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("hotline-config").textContent);
  const strings = config.strings || {};

  function t(key) {
    return Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  }

  /* Build an element: h("td", {class: "x", onclick: fn, dataset: {id: 1}, style: {width: "40%"}},
   * "text", child…). Strings become text nodes; null/undefined/false children are skipped.
   * Styles are set through the DOM (el.style), never as a style attribute: the pages'
   * Content-Security-Policy refuses inline style attributes. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "style") Object.assign(el.style, value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (value === true) el.setAttribute(key, "");
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /* Replace an element's children. Consoles redraw lists whenever a live event arrives; a
   * keyboard user must not lose their place to a redraw, so the control that had focus — or
   * its twin in the new content — has it again afterwards (see focusedPlace). */
  function fill(el, ...children) {
    const place = focusedPlace(el);
    el.replaceChildren();
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    if (place) refocus(el, place);
    return el;
  }

  /* What identifies the focused control inside el across a redraw: the node itself (when it
   * is put back), its id, or its tag and label within the same row (data-id / data-key).
   * A control with none of these is not followed: its twin could not be told apart. */
  function focusedPlace(el) {
    const node = document.activeElement;
    if (!node || node === el || !el.contains(node)) return null;
    const row = node.closest("[data-id],[data-key]");
    const place = {node, id: node.id, tag: node.tagName, label: node.getAttribute("aria-label"),
                   row: row && el.contains(row) ? row.dataset.id || row.dataset.key : null,
                   text: node.textContent};
    return place.id || place.label || place.row ? place : null;
  }

  function refocus(el, place) {
    let twin = el.contains(place.node) ? place.node : null;
    if (!twin && place.id) twin = el.querySelector("#" + CSS.escape(place.id));
    if (!twin) {
      const rowOf = (n) => {
        const row = n.closest("[data-id],[data-key]");
        return row && el.contains(row) ? row.dataset.id || row.dataset.key : null;
      };
      const alike = [...el.querySelectorAll(place.tag)].filter(
        (n) => n.getAttribute("aria-label") === place.label && rowOf(n) === place.row);
      twin = alike.find((n) => n.textContent === place.text) || alike[0] || null;
    }
    if (twin && twin !== document.activeElement) twin.focus({preventScroll: true});
  }

  class ApiError extends Error {
    constructor(status, body) {
      const err = (body && body.error) || {};
      super(err.message || t(status === 0 ? "network" : "error"));
      this.status = status;
      this.code = err.code || null;
      this.fields = err.fields || null;
    }
  }

  /* Call the JSON API with the session cookie and the CSRF token. Resolves to the parsed
   * body (null for 204); rejects with ApiError carrying the server's message. */
  async function api(method, path, body) {
    const init = {method, credentials: "same-origin",
                  headers: {"Accept": "application/json", "X-CSRFToken": config.csrf}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, null);
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function toast(message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = h("div", {class: "toast " + (kind || "info")}, message);
    box.append(item);
    setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
  }

  /* Show an API failure where the user acted; a 409 also asks the caller to reload. */
  function explain(error, target) {
    const message = error instanceof ApiError ? error.message : t("error");
    if (target) {
      fill(target, message);
      target.hidden = false;
    } else {
      toast(message, "error");
    }
    return error instanceof ApiError ? error.status : 0;
  }

  /* The live connection. handlers: {"ticket.updated": fn, …}; refetch: called on every
   * connect, including reconnects, to rebuild the page from the API. */
  function live(handlers, refetch) {
    const badge = document.getElementById("live-state");
    const show = (state) => {
      if (!badge) return;
      badge.dataset.state = state;
      badge.textContent = t(state);
    };
    const socket = io({transports: ["websocket", "polling"], withCredentials: true});
    socket.on("connect", () => {
      show("connected");
      if (refetch) Promise.resolve(refetch()).catch((e) => explain(e));
    });
    socket.on("disconnect", () => show("disconnected"));
    socket.on("connect_error", () => show("disconnected"));
    for (const [name, fn] of Object.entries(handlers || {})) {
      socket.on(name, (payload) => {
        try { fn(payload); } catch (e) { console.error(name, e); }
      });
    }
    Hotline.socket = socket;
    return socket;
  }

  const timeFormat = new Intl.DateTimeFormat(config.locale === "en" ? "en-GB" : "vi-VN", {
    timeZone: config.timezone, hour: "2-digit", minute: "2-digit"});
  const dateTimeFormat = new Intl.DateTimeFormat(config.locale === "en" ? "en-GB" : "vi-VN", {
    timeZone: config.timezone, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit",
    year: "numeric"});

  const secondsFormat = new Intl.DateTimeFormat(config.locale === "en" ? "en-GB" : "vi-VN", {
    timeZone: config.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit"});

  function time(iso) { return iso ? timeFormat.format(new Date(iso)) : "—"; }
  function timeSeconds(iso) { return iso ? secondsFormat.format(new Date(iso)) : "—"; }
  function dateTime(iso) { return iso ? dateTimeFormat.format(new Date(iso)) : "—"; }

  /* "1:05", "12:03:09", "3 d 4 h": a duration in seconds, for countdowns and waits. */
  function duration(seconds) {
    const s = Math.max(0, Math.round(Math.abs(seconds)));
    const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return `${d}d ${hr}h`;
    const pad = (n) => String(n).padStart(2, "0");
    return hr > 0 ? `${hr}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  }

  /* Elements with data-due="ISO" (and optional data-warn-seconds) count down every second:
   * class "soon" under the warning threshold, "late" once passed. One timer for the page. */
  function tickCountdowns() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach((el) => {
      const due = Date.parse(el.dataset.due);
      if (Number.isNaN(due)) return;
      const left = (due - now) / 1000;
      const warn = Number(el.dataset.warnSeconds || 0);
      el.classList.toggle("late", left < 0);
      el.classList.toggle("soon", left >= 0 && left <= warn);
      el.textContent = left < 0 ? `−${duration(-left)}` : duration(left);
      el.setAttribute("aria-label", `${left < 0 ? t("overdue") : t("due_in")} ${duration(left)}`);
    });
  }
  setInterval(tickCountdowns, 1000);

  function countdown(dueIso, warnSeconds) {
    if (!dueIso) return h("span", {class: "countdown muted"}, "—");
    // role "timer": a span may not carry the aria-label that says what the figure means.
    const el = h("span", {class: "countdown mono", role: "timer", dataset: {due: dueIso, warnSeconds: warnSeconds || 0}});
    setTimeout(tickCountdowns, 0);
    return el;
  }

  /* A sound and a blinking title, for an incoming call or dispatch. Web Audio, no file;
   * browsers only play after the user has interacted with the page once. */
  let audio = null;
  function alert(title) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach((offset) => {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.2, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + offset);
        osc.stop(audio.currentTime + offset + 0.3);
      });
    } catch (e) { /* no sound is better than no alert */ }
    const original = document.title.replace(/^\(!\) .*? · /, "");
    let on = false, flashes = 0;
    const timer = setInterval(() => {
      on = !on;
      document.title = on ? `(!) ${title} · ${original}` : original;
      if (++flashes >= 20 || document.hasFocus()) { clearInterval(timer); document.title = original; }
    }, 700);
  }

  function code(ticket) { return ticket.code ? `${ticket.code.slice(0, 4)}-${ticket.code.slice(4)}` : ""; }

  function statusBadge(status) {
    return h("span", {class: "status " + status}, (config.labels.status || {})[status] || status);
  }

  function priorityLabel(priority) { return (config.labels.priority || {})[priority] || priority; }

  /* Download rows as CSV (UTF-8 with BOM, so Excel shows Vietnamese correctly). */
  function downloadCsv(filename, header, rows) {
    const cell = (v) => {
      let s = v === null || v === undefined ? "" : String(v);
      // No formulas from user text: a cell starting like one is prefixed, unless it is a plain number.
      if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+([.,]\d+)?$/.test(s)) s = "'" + s;
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const text = [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n");
    const url = URL.createObjectURL(new Blob(["\ufeff" + text], {type: "text/csv;charset=utf-8"}));
    const link = h("a", {href: url, download: filename});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const Hotline = {config, t, h, fill, api, ApiError, toast, explain, live, time, timeSeconds, dateTime, duration,
                   countdown, alert, code, statusBadge, priorityLabel, downloadCsv, socket: null};
  window.Hotline = Hotline;
})();
