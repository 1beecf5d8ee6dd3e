/* A hospital's emergency desk: the 115 cases dispatched here, each with a large acknowledge
 * button and the time left to press it; a chime that repeats while a case waits; the
 * available/full switch; then notes and "patient received" for acknowledged cases.
 *
 * The server decides what this page may see (only this hospital's tickets, room
 * hospital:CODE); the page rebuilds itself from the API on every (re)connection. A case
 * re-dispatched elsewhere after the deadline is no longer readable here: the page notices
 * it is gone and says why, and a late press shows the server's own message.
 */
(function () {
  "use strict";

  const H = window.Hotline;
  const {h, t, fill, api} = H;
  const page = H.config.page || {};
  const ACK = Number(page.ack_seconds || 60);
  const hospital = page.hospital || {};

  const S = {
    cases: new Map(),     // tickets dispatched here: assigned or in progress
    distance: new Map(),  // ticket id -> {distance_km, eta_minutes}
    notes: new Map(),     // ticket id -> comment events
    seen: new Set(),      // ids already announced
    wards: new Map(),     // ward code -> ward, for "where"
    available: Boolean(hospital.available),
    sound: true,
    loaded: false,
  };
  const el = {
    waiting: document.getElementById("waiting-list"),
    waitingCount: document.getElementById("waiting-count"),
    accepted: document.getElementById("accepted-list"),
    acceptedCount: document.getElementById("accepted-count"),
    notices: document.getElementById("notices"),
    availState: document.getElementById("avail-state"),
    availOn: document.getElementById("avail-on"),
    availOff: document.getElementById("avail-off"),
    availError: document.getElementById("avail-error"),
    sound: document.getElementById("sound-toggle"),
    soundHint: document.getElementById("sound-hint"),
  };

  const timeSec = H.timeSeconds;

  // ---- sound: a chime every few seconds while a case waits ------------------------------

  let audio = null;
  function audioContext() {
    if (!audio) {
      try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
    }
    return audio;
  }

  function chime() {
    const ctx = audioContext();
    if (!ctx || !S.sound) return;
    if (ctx.state === "suspended") { showSoundHint(true); return; }
    [0, 0.25, 0.5].forEach((offset, i) => {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = i === 1 ? 1175 : 988;
      gain.gain.setValueAtTime(0.25, ctx.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + offset + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + offset);
      osc.stop(ctx.currentTime + offset + 0.22);
    });
  }

  function showSoundHint(show) { el.soundHint.hidden = !show; }

  // Browsers start audio only after the user touched the page: unlock it on the first touch.
  document.addEventListener("pointerdown", () => {
    const ctx = audioContext();
    if (ctx && ctx.state === "suspended") ctx.resume().then(() => showSoundHint(false)).catch(() => {});
  }, {once: false, passive: true});

  function waiting() { return [...S.cases.values()].filter((x) => x.status === "assigned"); }

  setInterval(() => { if (waiting().length) chime(); }, 6000);

  el.sound.addEventListener("click", () => {
    S.sound = !S.sound;
    el.sound.setAttribute("aria-pressed", S.sound ? "true" : "false");
    fill(el.sound, S.sound ? t("sound_on") : t("sound_off"));
    const ctx = audioContext();
    if (S.sound && ctx && ctx.state === "suspended") ctx.resume().then(() => showSoundHint(false)).catch(() => {});
  });

  // ---- availability --------------------------------------------------------------------

  function renderAvailability() {
    el.availState.className = "avail-state " + (S.available ? "on" : "off");
    fill(el.availState, S.available ? t("taking_patients") : t("full_state"));
    el.availOn.setAttribute("aria-pressed", S.available ? "true" : "false");
    el.availOff.setAttribute("aria-pressed", S.available ? "false" : "true");
    document.body.classList.toggle("hospital-full", !S.available);
  }

  async function setAvailable(value, button) {
    if (value === S.available) return;
    button.disabled = true;
    el.availError.hidden = true;
    try {
      const answer = await api("POST", `/api/hospitals/${encodeURIComponent(hospital.code)}/availability`,
                               {available: value});
      S.available = answer.available;
      renderAvailability();
      H.toast(S.available ? t("now_available") : t("now_full"), "ok");
    } catch (error) {
      H.explain(error, el.availError);
    } finally {
      button.disabled = false;
    }
  }

  el.availOn.addEventListener("click", () => setAvailable(true, el.availOn));
  el.availOff.addEventListener("click", () => setAvailable(false, el.availOff));

  // ---- loading -------------------------------------------------------------------------

  async function loadCases() {
    const pages = await Promise.all(["assigned", "in_progress"].map((status) =>
      api("GET", `/api/tickets?line=115&status=${status}&per_page=100`)));
    const before = new Map(S.cases);
    S.cases.clear();
    for (const p of pages) for (const ticket of p.items) S.cases.set(ticket.id, ticket);
    for (const [id, old] of before) {
      if (!S.cases.has(id) && old.status === "assigned") gone(old);
    }
  }

  async function loadDirectory() {
    const list = await api("GET", "/api/directory/hospitals");
    const mine = list.find((x) => x.code === hospital.code);
    if (mine) { S.available = mine.available; renderAvailability(); }
  }

  async function loadExtras(ticket) {
    const [options, detail] = await Promise.all([
      ticket.lat !== null ? api("GET", `/api/tickets/${ticket.id}/hospitals`).catch(() => null) : null,
      ticket.status === "in_progress" ? api("GET", `/api/tickets/${ticket.id}`).catch(() => null) : null]);
    const own = options && options.items.find((o) => o.code === hospital.code);
    if (own) S.distance.set(ticket.id, own);
    if (detail) S.notes.set(ticket.id, detail.events.filter((e) => e.action === "comment"));
  }

  async function loadWards() {
    if (S.wards.size) return;
    const list = await api("GET", "/api/directory/wards");
    S.wards = new Map(list.map((w) => [w.code, w]));
  }

  async function refetch() {
    await Promise.all([loadCases(), loadDirectory(), loadWards().catch(() => {})]);
    await Promise.all([...S.cases.values()].map(loadExtras));
    announce();
    render();
    S.loaded = true;
  }

  function announce() {
    const fresh = waiting().filter((x) => !S.seen.has(x.id));
    for (const ticket of S.cases.values()) S.seen.add(ticket.id);
    if (fresh.length) {
      H.alert(t("new_dispatch"));
      chime();
    }
  }

  function notice(text, kind) {
    const item = h("div", {class: "notice " + (kind || ""), role: "alert"}, h("span", null, text),
      h("button", {type: "button", class: "btn small", onclick: () => item.remove()}, t("dismiss")));
    el.notices.prepend(item);
  }

  function gone(ticket) {
    const late = ticket.first_response_due && Date.parse(ticket.first_response_due) < Date.now();
    notice(t(late ? "gone_late" : "gone_other").replace("{code}", H.code(ticket)), "warn");
  }

  // ---- rendering -----------------------------------------------------------------------

  function howFar(ticket) {
    const d = S.distance.get(ticket.id);
    return d ? t("how_far").replace("{km}", d.distance_km.toFixed(1))
      .replace("{min}", Math.max(1, Math.round(d.eta_minutes))) : "—";
  }

  function specialtyOf(ticket) {
    const code = ticket.routing && ticket.routing.specialty;
    if (!code) return null;
    const found = (page.specialties || []).find((s) => s.code === code);
    return found ? found.label : code;
  }

  function where(ticket) {
    const ward = ticket.ward_code && S.wards.get(ticket.ward_code);
    const place = ward ? `${ward.name}, ${ward.district_name}` : ticket.ward_code;
    if (ticket.address && place) return [ticket.address, h("span", {class: "muted"}, " · ", place)];
    return ticket.address || place || "—";
  }

  function facts(ticket) {
    const specialty = specialtyOf(ticket);
    return h("dl", {class: "kv case-facts"},
      h("dt", null, t("where")), h("dd", null, where(ticket)),
      h("dt", null, t("how_far_label")), h("dd", {class: "far"}, howFar(ticket)),
      specialty ? [h("dt", null, t("specialty")), h("dd", null, specialty)] : null,
      h("dt", null, t("caller")), h("dd", null, ticket.caller_phone
        ? h("a", {href: "tel:" + ticket.caller_phone, class: "mono"}, ticket.caller_phone) : "—",
        ticket.caller_name ? " · " + ticket.caller_name : ""),
      h("dt", null, t("called")), h("dd", null, timeSec(ticket.created_at)));
  }

  function waitingCard(ticket) {
    const errorBox = h("div", {class: "form-error", role: "alert", hidden: true});
    const button = h("button", {type: "button", class: "ack-button", dataset: {id: ticket.id},
                                onclick: () => acknowledge(ticket, button, errorBox)},
      h("span", {class: "ack-word"}, t("acknowledge")),
      h("span", {class: "ack-sub"}, t("acknowledge_sub")));
    const count = H.countdown(ticket.first_response_due, Math.round(ACK / 2));
    count.classList.add("huge");
    return h("article", {class: "dispatch-card waiting", dataset: {id: ticket.id},
                         "aria-labelledby": `case-${ticket.id}`},
      h("div", {class: "card-clock"}, count, h("span", {class: "muted"}, t("left_to_ack"))),
      h("div", {class: "card-body"},
        h("h3", {id: `case-${ticket.id}`}, h("span", {class: "mono"}, H.code(ticket)), " · ",
          H.priorityLabel(ticket.priority)),
        h("p", {class: "what"}, ticket.description || t("no_description")),
        facts(ticket)),
      h("div", {class: "card-action"}, button, errorBox));
  }

  function acceptedCard(ticket) {
    const errorBox = h("div", {class: "form-error", role: "alert", hidden: true});
    const note = h("textarea", {id: `note-${ticket.id}`, rows: 2, maxlength: 4000, "data-field": "body"});
    const resolution = h("textarea", {id: `resolution-${ticket.id}`, rows: 2, maxlength: 4000,
                                      "data-field": "resolution"});
    const notes = S.notes.get(ticket.id) || [];
    const noteForm = h("form", {class: "inline-form", onsubmit: (ev) => {
      ev.preventDefault();
      if (!note.value.trim()) return;
      run(ev.submitter, errorBox, noteForm, async () => {
        await api("POST", `/api/tickets/${ticket.id}/comment`, {body: note.value.trim(), internal: true});
        note.value = "";
        H.toast(t("saved"), "ok");
        await loadExtras(ticket);
        render();
      });
    }}, h("label", {for: `note-${ticket.id}`}, t("note")), note,
       h("button", {type: "submit", class: "btn small"}, t("add_note")));
    const resolveForm = h("form", {class: "inline-form", onsubmit: (ev) => {
      ev.preventDefault();
      run(ev.submitter, errorBox, resolveForm, async () => {
        await api("POST", `/api/tickets/${ticket.id}/resolve`,
                  {resolution: resolution.value.trim(), version: ticket.version});
        H.toast(t("resolved_toast").replace("{code}", H.code(ticket)), "ok");
        S.cases.delete(ticket.id);
        render();
      });
    }}, h("label", {for: `resolution-${ticket.id}`}, t("resolution")), resolution,
       h("button", {type: "submit", class: "btn ok small"}, t("resolve")));
    return h("article", {class: "dispatch-card accepted", dataset: {id: ticket.id}},
      h("div", {class: "card-body"},
        h("h3", null, h("span", {class: "mono"}, H.code(ticket)), " ", h("span", {class: "status in_progress"},
                                                                          t("acknowledged"))),
        h("p", {class: "what"}, ticket.description || t("no_description")),
        facts(ticket),
        notes.length ? h("ul", {class: "notes"}, notes.map((n) => h("li", null,
          h("span", {class: "muted"}, timeSec(n.at), " · ", n.actor, ": "), n.data.body))) : null),
      h("div", {class: "card-forms"}, noteForm, resolveForm, errorBox));
  }

  function render() {
    const all = [...S.cases.values()];
    const w = all.filter((x) => x.status === "assigned")
      .sort((a, b) => Date.parse(a.first_response_due || 0) - Date.parse(b.first_response_due || 0));
    const a = all.filter((x) => x.status === "in_progress")
      .sort((x, y) => Date.parse(y.updated_at) - Date.parse(x.updated_at));
    fill(el.waitingCount, String(w.length));
    fill(el.acceptedCount, String(a.length));
    // Keep what is being typed in the acknowledged cases' forms when a card is rebuilt.
    const typed = new Map();
    el.accepted.querySelectorAll("textarea").forEach((n) => { if (n.value) typed.set(n.id, n.value); });
    const focusId = document.activeElement && document.activeElement.id;
    for (const id of cards.keys()) if (!S.cases.has(id)) cards.delete(id);
    fill(el.waiting, w.length ? w.map((x) => card(x, waitingCard)) : h("p", {class: "empty"}, t("nothing_waiting")));
    fill(el.accepted, a.length ? a.map((x) => card(x, acceptedCard)) : h("p", {class: "empty"}, t("nothing_accepted")));
    for (const [id, value] of typed) { const n = document.getElementById(id); if (n && !n.value) n.value = value; }
    if (focusId) { const n = document.getElementById(focusId); if (n && n !== document.activeElement) n.focus(); }
    document.body.classList.toggle("has-waiting", w.length > 0);
  }

  /* A card is rebuilt only when what it shows changed, so a message or a field error next to
   * a form is not wiped by an unrelated update. */
  const cards = new Map();
  function card(ticket, build) {
    const d = S.distance.get(ticket.id);
    const key = [ticket.version, ticket.status, (S.notes.get(ticket.id) || []).length,
                 d ? d.distance_km : "", S.wards.size].join("|");
    const known = cards.get(ticket.id);
    if (known && known.key === key) return known.node;
    const node = build(ticket);
    cards.set(ticket.id, {key, node});
    return node;
  }

  async function run(button, errorBox, form, fn) {
    if (button) button.disabled = true;
    errorBox.hidden = true;
    form.querySelectorAll(".field-error").forEach((n) => n.remove());
    try {
      await fn();
    } catch (error) {
      H.explain(error, errorBox);
      for (const [name, message] of Object.entries(error.fields || {})) {
        const input = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
        if (input) input.after(h("div", {class: "field-error"}, message));
      }
      if (error.status === 409) await refetch();
    } finally {
      if (button) button.disabled = false;
    }
  }

  async function acknowledge(ticket, button, errorBox) {
    button.disabled = true;
    errorBox.hidden = true;
    try {
      const updated = await api("POST", `/api/tickets/${ticket.id}/accept`, {version: ticket.version});
      S.cases.set(updated.id, updated);
      H.toast(t("acknowledged_toast").replace("{code}", H.code(updated)), "ok");
      await loadExtras(updated);
      render();
    } catch (error) {
      button.disabled = false;
      if (error.status === 409 && error.code !== "stale_version") {
        // Already re-dispatched (or handled): the server's message says what happened.
        notice(`${H.code(ticket)}: ${error.message}`, "warn");
        S.cases.delete(ticket.id);
        S.seen.add(ticket.id);
        render();
        await refetch().catch(() => {});
        return;
      }
      H.explain(error, errorBox);
      if (error.status === 409 || error.status === 404) await refetch().catch(() => {});
    }
  }

  // A case past its deadline is about to be re-dispatched: look again until it has been.
  setInterval(() => {
    const late = waiting().some((x) => x.first_response_due && Date.parse(x.first_response_due) < Date.now() - 2000);
    if (late && S.loaded) refetch().catch(() => {});
  }, 5000);

  function upsert(ticket) {
    if (!ticket || ticket.line !== "115") return;
    const mine = ticket.hospital && ticket.hospital.code === hospital.code;
    if (mine && (ticket.status === "assigned" || ticket.status === "in_progress")) {
      const known = S.cases.get(ticket.id);
      S.cases.set(ticket.id, ticket);
      if (!known || known.lat !== ticket.lat) loadExtras(ticket).then(render).catch(() => {});
    } else {
      const known = S.cases.get(ticket.id);
      if (known && ticket.status === "cancelled") {
        notice(t("cancelled_notice").replace("{code}", H.code(ticket)), "warn");
      }
      S.cases.delete(ticket.id);
    }
    announce();
    render();
  }

  H.live({
    "ticket.created": ({ticket}) => upsert(ticket),
    "ticket.updated": ({ticket, action}) => {
      upsert(ticket);
      if (action === "comment" && S.cases.has(ticket.id)) loadExtras(ticket).then(render).catch(() => {});
    },
    "dispatch.escalated": ({ticket}) => upsert(ticket),
    "sla.warning": ({ticket}) => upsert(ticket),
    "sla.breached": ({ticket}) => upsert(ticket),
    "ticket.removed": ({id}) => {  // re-dispatched to another hospital
      if (S.cases.delete(id)) render();
    },
    "config.changed": ({entity, key}) => {  // set full or available from another screen, or by dispatch
      if (entity === "hospital" && key === hospital.code) loadDirectory().catch(() => {});
    },
  }, refetch);

  renderAvailability();
  render();
})();
