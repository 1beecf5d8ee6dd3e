/* The 1022 operator console.
 *
 * A call rings (call.incoming): a pop-up shows who is calling and their earlier tickets.
 * The operator takes it, completes the ticket the webhook opened (PATCH, with the version
 * they read), watches the routing proposal update as they type (POST /api/routing/preview,
 * debounced), and confirms or changes the contact point (POST …/assign).
 *
 * Rules (see live.js): user text only as text nodes; the page is rebuilt from the API on
 * every (re)connection; a refused action changes nothing but an explanation; what the
 * operator typed is never thrown away (it is kept on screen and in sessionStorage).
 */
(function () {
  "use strict";

  const H = window.Hotline;
  const {h, fill, api, t} = H;
  const page = H.config.page || {};
  const english = H.config.locale === "en";
  const $ = (id) => document.getElementById(id);

  // ---- small helpers ----------------------------------------------------------------------

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? String(values[k]) : m));
  }

  function fold(text) {
    return String(text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d");
  }

  function pct(x) { return `${Math.round((Number(x) || 0) * 100)}%`; }

  /* +84912345678 → 0912 345 678; +842743822222 → 0274 3822 222. */
  function formatPhone(e164) {
    if (!e164) return t("anonymous");
    const s = String(e164);
    if (!s.startsWith("+84")) return s;
    const n = "0" + s.slice(3);
    if (n.length === 10 && /^0[35789]/.test(n)) return `${n.slice(0, 4)} ${n.slice(4, 7)} ${n.slice(7)}`;
    if (n.length === 11 && n.startsWith("02")) return `${n.slice(0, 4)} ${n.slice(4, 8)} ${n.slice(8)}`;
    return n;
  }

  function excerpt(text, n) {
    const s = String(text || "").replace(/\s+/g, " ").trim();
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  function ago(iso) {
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return t("ago_now");
    if (minutes < 60) return fmt(t("ago_min"), {n: minutes});
    if (minutes < 60 * 24) return fmt(t("ago_hour"), {h: Math.floor(minutes / 60), m: minutes % 60});
    return fmt(t("ago_day"), {n: Math.floor(minutes / 1440)});
  }

  const OPEN = new Set(["new", "assigned", "in_progress"]);
  const PRIORITY_RANK = {emergency: 0, high: 1, normal: 2, low: 3};
  const SLA_RANK = {breached: 0, warning: 1, ok: 2, met: 3};

  // ---- the directory ------------------------------------------------------------------------

  const dir = {categories: new Map(), wards: new Map(), cps: new Map(), districts: new Map()};

  async function loadDirectory() {
    const [categories, wards, cps] = await Promise.all([
      api("GET", "/api/directory/categories"), api("GET", "/api/directory/wards"),
      api("GET", "/api/directory/contact-points")]);
    categories.forEach((c) => dir.categories.set(c.code, c));
    wards.forEach((w) => { dir.wards.set(w.code, w); dir.districts.set(w.district_code, w.district_name); });
    cps.forEach((c) => dir.cps.set(c.code, c));
  }

  const categoryName = (code) => {
    const c = dir.categories.get(code);
    return c ? (english ? c.name_en : c.name_vi) : (code || t("no_category"));
  };
  const cpName = (code) => {
    const c = dir.cps.get(code);
    return c ? (english ? c.name_en : c.name_vi) : code;
  };
  const wardName = (code) => (dir.wards.get(code) || {}).name || code;
  const wardLabel = (code) => {
    const w = dir.wards.get(code);
    return w ? `${w.name}, ${w.district_name}` : code;
  };
  const districtName = (code) => dir.districts.get(code) || code;

  // ---- an accessible combobox (category, ward, contact point) --------------------------------

  /* input[role=combobox] + ul[role=listbox]: type to filter (without diacritics too), arrows to
   * move, Enter/Tab to pick, Esc to close. ``items()`` → [{value, label, hint}]. */
  function combobox(input, list, options) {
    let value = null, open = false, active = -1, shown = [];
    const labelOf = (v) => (v ? options.label(v) : "");

    function render() {
      const words = fold(input.value).split(/\s+/).filter(Boolean);
      shown = options.items().filter((item) => {
        const key = item.key || (item.key = fold(`${item.label} ${item.hint || ""} ${item.value}`));
        return words.every((w) => key.includes(w));
      }).slice(0, 60);
      active = shown.length ? Math.max(0, Math.min(active, shown.length - 1)) : -1;
      fill(list, shown.map((item, i) => h("li", {
        role: "option", id: `${list.id}-${i}`, "aria-selected": i === active ? "true" : "false",
        class: item.value === value ? "current" : null,
        onmousedown: (e) => e.preventDefault(), onclick: () => pick(item.value),
      }, h("span", {class: "opt-label"}, item.label), item.hint ? h("span", {class: "opt-hint"}, item.hint) : null)));
      if (!shown.length) list.append(h("li", {class: "none", role: "presentation"}, t("none")));
      input.setAttribute("aria-activedescendant", active >= 0 ? `${list.id}-${active}` : "");
      const el = active >= 0 ? $(`${list.id}-${active}`) : null;
      if (el) el.scrollIntoView({block: "nearest"});
    }

    function show() {
      if (input.disabled) return;
      open = true;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      render();
    }

    function hide() {
      open = false;
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function pick(v) {
      const changed = v !== value;
      value = v;
      input.value = labelOf(v);
      hide();
      if (changed) options.onPick(v);
    }

    function settle() {
      // Leaving the field: empty text clears it, an exact name picks it, anything else is undone.
      const text = fold(input.value).trim();
      if (!text) { if (value !== null && options.allowEmpty !== false) pick(null); else input.value = labelOf(value); return; }
      if (text === fold(labelOf(value))) return;
      const exact = options.items().find((i) => fold(i.label) === text || fold(i.value) === text);
      if (exact) pick(exact.value); else input.value = labelOf(value);
    }

    input.addEventListener("input", () => { active = 0; show(); });
    input.addEventListener("click", () => (open ? hide() : show()));
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) { hide(); settle(); } }, 120));
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!open) { show(); return; }
        active = Math.max(0, Math.min(shown.length - 1, active + (e.key === "ArrowDown" ? 1 : -1)));
        render();
      } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
        if (open && active >= 0 && shown[active]) { e.preventDefault(); pick(shown[active].value); }
        else if (open) { e.preventDefault(); hide(); settle(); }
      } else if (e.key === "Tab" && open && active >= 0 && shown[active] && input.value.trim()) {
        pick(shown[active].value);
      } else if (e.key === "Escape" && open) {
        e.preventDefault();
        e.stopPropagation();
        hide();
        input.value = labelOf(value);
      }
    });

    return {
      get value() { return value; },
      set(v) { value = v || null; input.value = labelOf(value); hide(); },
      enable(on) { input.disabled = !on; },
    };
  }

  // ---- state ------------------------------------------------------------------------------

  const state = {
    onDuty: Boolean(page.on_duty),
    queue: new Map(),          // id -> ticket (1022, open)
    filter: "new",
    search: "",
    callbacks: [],
    mode: "idle",              // idle | new | edit
    ticket: null,              // the ticket as the server last said
    dirty: new Set(),          // fields the operator changed since
    busy: false,
    missed: null,              // a remote update that arrived during our own action
    proposal: null,            // the last routing decision
    duplicates: [],
    chosenCp: null,
    cpManual: false,           // the operator picked the contact point themselves
    previewSeq: 0,
    calls: new Map(),          // call_sid -> {payload, at, ended}
    pending: [],               // call_sids ringing, not yet taken or dismissed
    showing: null,             // call_sid in the pop-up
    dupTickets: new Map(),     // id -> ticket, for the duplicates list
  };

  // ---- on duty ------------------------------------------------------------------------------

  function renderDuty(count) {
    const button = $("duty");
    button.setAttribute("aria-pressed", state.onDuty ? "true" : "false");
    const label = button.querySelector(".duty-label");
    label.textContent = state.onDuty ? label.dataset.on : label.dataset.off;
    if (count !== undefined) $("duty-count").textContent = fmt(t("on_duty_count"), {n: count});
    document.body.classList.toggle("op-off-duty", !state.onDuty);
  }

  async function toggleDuty() {
    const button = $("duty");
    button.disabled = true;
    try {
      const answer = await api("POST", "/api/me/duty", {on_duty: !state.onDuty});
      state.onDuty = answer.on_duty;
      renderDuty(answer.operators_on_duty);
    } catch (e) {
      H.explain(e);
    } finally {
      button.disabled = false;
    }
  }

  // ---- the queue ----------------------------------------------------------------------------

  function queueOrder(a, b) {
    const an = a.status === "new" ? 0 : 1, bn = b.status === "new" ? 0 : 1;
    if (an !== bn) return an - bn;
    const pa = PRIORITY_RANK[a.priority] ?? 2, pb = PRIORITY_RANK[b.priority] ?? 2;
    if (pa !== pb) return pa - pb;
    const sa = SLA_RANK[a.sla_state] ?? 2, sb = SLA_RANK[b.sla_state] ?? 2;
    if (sa !== sb) return sa - sb;
    return Date.parse(a.created_at) - Date.parse(b.created_at);  // the longest waiting first
  }

  function upsertQueue(ticket) {
    if (!ticket || ticket.line !== "1022") return;
    if (OPEN.has(ticket.status)) {
      const known = state.queue.get(ticket.id);
      if (known && known.version > ticket.version) return;
      if (!known && state.search) return;  // a search shows what the server matched
      state.queue.set(ticket.id, ticket);
    } else {
      state.queue.delete(ticket.id);
    }
    renderQueue();
  }

  async function loadQueue() {
    const query = state.search.trim();
    const digits = query.replace(/[^\d]/g, "");
    const phoneLike = /^[+\d\s().-]+$/.test(query) && digits.length >= 9;
    const extra = query ? (phoneLike ? `&phone=${encodeURIComponent(query)}` : `&q=${encodeURIComponent(query)}`) : "";
    let pages;
    try {
      pages = await Promise.all(["new", "assigned", "in_progress"].map((status) =>
        api("GET", `/api/tickets?line=1022&status=${status}&per_page=100${extra}`)));
    } catch (e) {
      if (e.status === 422 || e.status === 400) pages = [];  // a search the server cannot read matches nothing
      else throw e;
    }
    state.queue = new Map();
    pages.forEach((p) => p.items.forEach((ticket) => state.queue.set(ticket.id, ticket)));
    renderQueue();
  }

  function slaBadge(ticket) {
    if (ticket.sla_state === "breached") return h("span", {class: "sla breached"}, t("sla_breached"));
    if (ticket.sla_state === "warning") return h("span", {class: "sla warning"}, t("sla_warning"));
    return null;
  }

  function renderQueue() {
    const all = [...state.queue.values()];
    const counts = {new: all.filter((x) => x.status === "new").length, open: all.length};
    document.querySelectorAll("[data-count]").forEach((el) => { el.textContent = counts[el.dataset.count]; });
    $("queue-count").textContent = state.search ? `(${all.length})` : "";
    const items = all.filter((x) => state.filter === "open" || x.status === "new").sort(queueOrder);
    const list = $("queue-list");
    if (!items.length) {
      fill(list, h("li", {class: "empty"}, t(state.search ? "queue_empty_search"
        : state.filter === "new" ? "queue_empty_new" : "queue_empty_open")));
      return;
    }
    const currentId = state.ticket && state.ticket.id;
    fill(list, items.map((x) => h("li", {},
      h("button", {type: "button", class: `q-item prio-${x.priority}`, dataset: {id: x.id},
                   "aria-current": x.id === currentId ? "true" : null, onclick: () => openTicket(x.id)},
        h("span", {class: "q-top"},
          h("span", {class: "q-code mono"}, H.code(x)),
          H.statusBadge(x.status),
          x.priority === "high" || x.priority === "emergency"
            ? h("span", {class: `prio ${x.priority}`}, H.priorityLabel(x.priority)) : null,
          slaBadge(x),
          x.callback_needed ? h("span", {class: "flag callback", title: t("callback_flag")}, "↩ " + t("callback_flag")) : null,
          h("span", {class: "q-age", title: H.dateTime(x.created_at)}, ago(x.created_at))),
        h("span", {class: "q-what"},
          h("span", {class: x.category ? "" : "muted"}, categoryName(x.category)),
          x.ward_code ? h("span", {class: "muted"}, " · " + wardName(x.ward_code)) : null,
          x.contact_point ? h("span", {class: "muted"}, " → " + x.contact_point.code) : null),
        h("span", {class: "q-desc"}, excerpt(x.description, 110) || (formatPhone(x.caller_phone) + " · " + t("no_description")))))));
  }

  // ---- call-backs -----------------------------------------------------------------------------

  async function loadCallbacks() {
    const answer = await api("GET", "/api/calls/callbacks");
    state.callbacks = answer.items.filter((c) => c.line === "1022");
    renderCallbacks();
  }

  function renderCallbacks() {
    $("callback-count").textContent = state.callbacks.length ? `(${state.callbacks.length})` : "";
    const list = $("callback-list");
    if (!state.callbacks.length) { fill(list, h("li", {class: "empty"}, t("callbacks_empty"))); return; }
    fill(list, state.callbacks.map((c) => h("li", {class: "cb-item", dataset: {sid: c.call_sid}},
      h("div", {class: "cb-main"},
        h("a", {class: "cb-phone mono", href: `tel:${c.caller}`}, formatPhone(c.caller)),
        h("span", {class: "cb-sub"},
          h("span", {class: "cb-when muted", title: H.dateTime(c.started_at)}, H.time(c.started_at) + " · " + ago(c.started_at)),
          h("span", {class: `flag ${c.voicemail ? "voicemail" : "missed"}`}, t(c.voicemail ? "voicemail" : "missed")))),
      h("div", {class: "cb-actions"},
        h("button", {type: "button", class: "btn small", onclick: () => openTicket(c.ticket.id)},
          t("open_ticket"), h("span", {class: "visually-hidden"}, " " + H.code(c.ticket))),
        h("button", {type: "button", class: "btn small ok", onclick: (e) => calledBack(c, e.currentTarget)},
          t("called_back"))))));
  }

  async function calledBack(c, button) {
    button.disabled = true;
    try {
      await api("POST", `/api/calls/${encodeURIComponent(c.call_sid)}/called-back`);
      state.callbacks = state.callbacks.filter((x) => x.call_sid !== c.call_sid);
      renderCallbacks();
      H.toast(t("called_back_done"), "ok");
    } catch (e) {
      button.disabled = false;
      H.explain(e);
      if (e.status === 404 || e.status === 409) loadCallbacks().catch(() => {});
    }
  }

  // ---- the ticket form ------------------------------------------------------------------------

  const form = $("ticket-form");
  const fields = {
    caller_phone: $("f-phone"), caller_name: $("f-name"), description: $("f-description"),
    address: $("f-address"), priority: $("f-priority"),
  };

  const category = combobox($("f-category"), $("f-category-list"), {
    label: categoryName,
    items: () => [...dir.categories.values()].map((c) => ({
      value: c.code, label: english ? c.name_en : c.name_vi, hint: english ? c.name_vi : c.name_en})),
    onPick: () => changed("category"),
  });
  const ward = combobox($("f-ward"), $("f-ward-list"), {
    label: wardLabel,
    items: () => [...dir.wards.values()].map((w) => ({value: w.code, label: `${w.name}, ${w.district_name}`})),
    onPick: () => changed("ward_code"),
  });
  const cp = combobox($("f-cp"), $("f-cp-list"), {
    label: cpName,
    allowEmpty: false,
    items: () => [...dir.cps.values()].map((c) => ({value: c.code, label: english ? c.name_en : c.name_vi, hint: c.code})),
    onPick: (v) => { state.chosenCp = v; state.cpManual = true; renderProposal(); },
  });

  function values() {
    return {
      caller_phone: fields.caller_phone.value.trim(), caller_name: fields.caller_name.value.trim(),
      description: fields.description.value.trim(), address: fields.address.value.trim(),
      priority: fields.priority.value, category: category.value, ward_code: ward.value,
    };
  }

  function setField(name, ticket) {
    const v = ticket[name];
    if (name === "category") category.set(v);
    else if (name === "ward_code") ward.set(v);
    else if (name === "caller_phone") fields.caller_phone.value = v ? formatPhone(v) : "";
    else if (name === "priority") fields.priority.value = v || "normal";
    else fields[name].value = v || "";
  }
  const FIELDS = ["caller_phone", "caller_name", "description", "category", "address", "ward_code", "priority"];

  function draftKey() { return `op-draft:${state.mode === "new" ? "new" : state.ticket && state.ticket.id}`; }

  let draftTimer = null;
  function changed(name) {
    if (state.mode === "idle") return;
    state.dirty.add(name);
    clearFieldError(name);
    $("draft-state").textContent = t("draft_kept");
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, 400);
    schedulePreview();
  }

  function saveDraft() {
    if (state.mode === "idle") return;
    const v = values(), draft = {};
    state.dirty.forEach((k) => { draft[k] = v[k]; });
    try { sessionStorage.setItem(draftKey(), JSON.stringify(draft)); } catch (e) { /* storage full or off */ }
  }

  function dropDraft() {
    clearTimeout(draftTimer);
    try { sessionStorage.removeItem(draftKey()); } catch (e) { /* nothing to drop */ }
    $("draft-state").textContent = "";
  }

  function restoreDraft() {
    let draft = null;
    try { draft = JSON.parse(sessionStorage.getItem(draftKey()) || "null"); } catch (e) { draft = null; }
    if (!draft || !Object.keys(draft).length) return false;
    for (const [k, v] of Object.entries(draft)) {
      if (!FIELDS.includes(k)) continue;
      if (k === "category") category.set(v); else if (k === "ward_code") ward.set(v); else fields[k].value = v || "";
      state.dirty.add(k);
    }
    $("draft-state").textContent = t("draft_kept");
    return true;
  }

  Object.entries(fields).forEach(([name, el]) => el.addEventListener("input", () => changed(name)));
  fields.priority.addEventListener("change", () => changed("priority"));

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach((el) => { el.hidden = true; el.textContent = ""; });
    document.querySelectorAll("#route-box [data-error-for]").forEach((el) => { el.hidden = true; });
    document.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    $("form-error").hidden = true;
  }

  function clearFieldError(name) {
    const el = document.querySelector(`[data-error-for="${name}"]`);
    if (el) { el.hidden = true; el.textContent = ""; }
  }

  const FIELD_INPUT = {caller_phone: "f-phone", caller_name: "f-name", description: "f-description",
                       category: "f-category", address: "f-address", ward_code: "f-ward", contact_point: "f-cp",
                       priority: "f-priority", reason: "cancel-reason", reason_code: "cancel-code"};

  function fieldError(name, message) {
    const el = document.querySelector(`[data-error-for="${name}"]`);
    if (!el) return false;
    el.textContent = message;
    el.hidden = false;
    const input = $(FIELD_INPUT[name]);
    if (input) input.setAttribute("aria-invalid", "true");
    return true;
  }

  function formError(message) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = false;
  }

  function banner(message, kind) {
    const box = $("ticket-banner");
    if (!message) { box.hidden = true; return; }
    box.className = `banner ${kind || "info"}`;
    fill(box, message);
    box.hidden = false;
  }

  /* Show a refusal where it belongs; returns the HTTP status (0: the network). */
  async function refused(error) {
    if (!(error instanceof H.ApiError)) { formError(t("error")); console.error(error); return -1; }
    if (error.status === 0) { formError(t("network_kept")); return 0; }
    if ((error.status === 400 || error.status === 422) && error.fields) {
      const rest = [];
      for (const [name, message] of Object.entries(error.fields)) {
        if (!fieldError(name === "lat" || name === "lon" ? "address" : name, message)) rest.push(`${name}: ${message}`);
      }
      formError(rest.length ? `${error.message} (${rest.join("; ")})` : error.message);
      const first = form.querySelector("[aria-invalid]") || document.querySelector("#route-box [aria-invalid]");
      if (first) first.focus();
      return error.status;
    }
    formError(error.message);
    if (error.status === 409 && state.ticket) {
      // Someone else acted first: show the ticket as it is now, keeping what was typed.
      await reloadTicket({keepDirty: true}).catch(() => {});
      if (state.dirty.size) formError(`${error.message} ${t("kept_edits")}`);
    }
    return error.status;
  }

  function setMode(mode) {
    state.mode = mode;
    $("idle").hidden = mode !== "idle";
    form.hidden = mode === "idle";
    $("route-box").hidden = mode === "idle";
    $("close-form").hidden = mode === "idle";
    $("channel-field").hidden = mode !== "new";
    document.querySelector(".op").dataset.mode = mode;
  }

  function editable() {
    if (state.mode === "new") return true;
    const x = state.ticket;
    return Boolean(x) && !["closed", "cancelled"].includes(x.status);
  }

  function renderMeta() {
    const meta = $("ticket-meta");
    if (state.mode === "new") { $("ticket-h").textContent = t("new_ticket"); fill(meta); return; }
    if (state.mode === "idle" || !state.ticket) { $("ticket-h").textContent = t("ticket"); fill(meta); return; }
    const x = state.ticket;
    $("ticket-h").textContent = t("ticket");
    const callLive = x.call && !["completed", "busy", "failed", "no-answer", "canceled"].includes(x.call.status);
    fill(meta,
      h("span", {class: "code-big mono", title: t("tracking_code")},
        h("span", {class: "visually-hidden"}, t("tracking_code") + " "), H.code(x)),
      H.statusBadge(x.status),
      x.channel === "phone" ? h("span", {class: callLive ? "flag live" : "flag"}, callLive ? "● " + t("call_live") : "☎ " + t("by_phone")) : null,
      slaBadge(x),
      x.resolution_due && OPEN.has(x.status) ? h("span", {class: "muted"}, t("due") + " ", H.countdown(x.resolution_due, 3600)) : null,
      h("span", {class: "muted", title: H.dateTime(x.created_at)}, H.time(x.created_at)));
    const read = !editable();
    form.querySelectorAll("input, textarea, select").forEach((el) => { el.disabled = read; });
    category.enable(!read);
    ward.enable(!read);
    $("save").disabled = read;
    const cancelBox = $("cancel-box");
    cancelBox.hidden = !(x.allowed_actions || []).includes("cancel");
    if (read) banner(fmt(t("read_only"), {status: (H.config.labels.status || {})[x.status] || x.status}), "muted");
  }

  async function loadHistory(ticket) {
    const box = $("caller-history");
    box.hidden = true;
    if (!ticket || !ticket.caller_phone) return;
    let items = [];
    try {
      const answer = await api("GET", `/api/tickets?phone=${encodeURIComponent(ticket.caller_phone)}&per_page=10`);
      items = answer.items.filter((x) => x.id !== ticket.id);
    } catch (e) { return; }
    if (!state.ticket || state.ticket.id !== ticket.id) return;
    if (!items.length) {
      fill(box, h("p", {class: "muted first"}, t("caller_first")));
    } else {
      fill(box, h("details", {},
        h("summary", {}, fmt(t("caller_history"), {n: items.length})),
        h("ol", {class: "hist-list"}, items.map(historyItem))));
    }
    box.hidden = false;
  }

  function historyItem(x) {
    return h("li", {},
      h("span", {class: "mono"}, H.code(x)), " ", H.statusBadge(x.status), " ",
      h("span", {class: "muted"}, H.dateTime(x.created_at)), " · ", categoryName(x.category),
      x.nuisance ? [" ", h("span", {class: "hist-nuisance"}, t("nuisance_mark"))] : null,
      x.description ? h("div", {class: "hist-desc"}, excerpt(x.description, 140)) : null);
  }

  function resetProposal() {
    state.proposal = null;
    state.duplicates = [];
    state.chosenCp = null;
    state.cpManual = false;
    cp.set(null);
    $("assign-reason").value = "";
    fill($("proposal-body"), h("p", {class: "empty"}, t("proposal_empty")));
  }

  /* Show ``ticket`` in the form. keepDirty: the operator's unsaved edits stay; a field they
   * edited that someone else also changed is named in a warning. */
  function applyTicket(ticket, {keepDirty = false} = {}) {
    const before = state.ticket;
    state.ticket = ticket;
    const clash = [];
    for (const name of FIELDS) {
      if (keepDirty && state.dirty.has(name)) {
        if (before && before[name] !== ticket[name]) clash.push(name);
        continue;
      }
      setField(name, ticket);
    }
    if (!keepDirty) state.dirty.clear();
    if (ticket.routing && ticket.routing.contact_point !== undefined && !state.proposal) state.proposal = ticket.routing;
    renderMeta();
    renderProposal();
    renderQueue();
    return clash;
  }

  async function openTicket(id, {focus = "description"} = {}) {
    let ticket;
    try {
      ticket = await api("GET", `/api/tickets/${id}`);
    } catch (e) {
      H.explain(e);
      return;
    }
    setMode("edit");
    clearErrors();
    banner(null);
    state.ticket = null;
    state.dirty.clear();
    resetProposal();
    applyTicket(ticket);
    if (restoreDraft()) banner(t("draft_restored"), "info");
    renderMeta();
    const item = document.querySelector(`.q-item[data-id="${ticket.id}"]`);
    if (item) item.scrollIntoView({block: "nearest"});
    loadHistory(ticket);
    runPreview();
    const target = focus === "description" ? fields.description : null;
    if (target && !target.disabled) target.focus();
  }

  async function reloadTicket({keepDirty}) {
    if (!state.ticket) return;
    const ticket = await api("GET", `/api/tickets/${state.ticket.id}`);
    const clash = applyTicket(ticket, {keepDirty});
    if (clash.length) {
      const names = clash.map((n) => (document.querySelector(`label[for="${FIELD_INPUT[n]}"]`) || {}).textContent || n);
      banner(fmt(t("remote_conflict"), {fields: names.join(", ")}), "warn");
    }
    return ticket;
  }

  function newTicket() {
    setMode("new");
    clearErrors();
    banner(null);
    state.ticket = null;
    state.dirty.clear();
    resetProposal();
    FIELDS.forEach((name) => setField(name, {priority: "normal"}));
    $("f-channel").value = "phone";
    form.querySelectorAll("input, textarea, select").forEach((el) => { el.disabled = false; });
    category.enable(true);
    ward.enable(true);
    $("save").disabled = false;
    $("cancel-box").hidden = true;
    $("caller-history").hidden = true;
    renderMeta();
    renderQueue();
    if (restoreDraft()) { banner(t("draft_restored"), "info"); schedulePreview(); }
    fields.caller_phone.focus();
  }

  function closeForm() {
    setMode("idle");
    state.ticket = null;
    state.dirty.clear();
    banner(null);
    clearErrors();
    resetProposal();
    renderMeta();
    renderQueue();
  }

  /* The fields to send: what the operator changed (all of them for a new ticket). */
  function changes() {
    const v = values(), out = {};
    const names = state.mode === "new" ? FIELDS : [...state.dirty];
    for (const name of names) {
      const value = v[name];
      if (state.mode === "new" && (value === "" || value === null)) continue;
      out[name] = value === "" ? (name === "description" ? "" : null) : value;
    }
    return out;
  }

  async function saveTicket({quiet = false} = {}) {
    const body = changes();
    let ticket;
    if (state.mode === "new") {
      ticket = await api("POST", "/api/tickets", {line: "1022", channel: $("f-channel").value, ...body});
      dropDraft();
      setMode("edit");
      state.dirty.clear();
      state.ticket = ticket;
      applyTicket(ticket);
      loadHistory(ticket);
      upsertQueue(ticket);
      if (!quiet) H.toast(fmt(t("created_ticket"), {code: H.code(ticket)}), "ok");
      return ticket;
    }
    if (!Object.keys(body).length) return state.ticket;
    ticket = await api("PATCH", `/api/tickets/${state.ticket.id}`, {...body, version: state.ticket.version});
    dropDraft();
    state.dirty.clear();
    applyTicket(ticket);
    upsertQueue(ticket);
    if (!quiet) H.toast(fmt(t("saved_ticket"), {code: H.code(ticket)}), "ok");
    return ticket;
  }

  async function act(work) {
    if (state.busy || state.mode === "idle") return;
    state.busy = true;
    document.querySelector(".op").classList.add("busy");
    clearErrors();
    try {
      await work();
    } catch (e) {
      await refused(e);
    } finally {
      state.busy = false;
      document.querySelector(".op").classList.remove("busy");
      const missed = state.missed;
      state.missed = null;
      if (missed) remoteUpdate(missed);
    }
  }

  const save = () => act(async () => { await saveTicket(); });

  /* The category the routing goes with, when the operator left the field empty. */
  function impliedCategory() {
    const d = state.proposal;
    if (!d || category.value) return null;
    if (state.chosenCp && state.chosenCp === d.contact_point) return d.category || null;
    const alt = (d.alternatives || []).find((a) => a.contact_point === state.chosenCp);
    return alt ? alt.category || null : null;
  }

  function assignReason() {
    const typed = $("assign-reason").value.trim();
    const d = state.proposal;
    if (d && state.chosenCp === d.contact_point && !state.cpManual) {
      const words = plainReasons(d).map((r) => r.text).slice(0, 3).join("; ");
      return excerpt(fmt(t("reason_default"), {reasons: words}), 500);
    }
    return excerpt(typed || t("reason_operator"), 500);
  }

  const route = () => act(async () => {
    const shown = state.chosenCp;
    await flushPreview();
    if (state.chosenCp !== shown) { formError(t("proposal_changed")); $("proposal-h").scrollIntoView({block: "nearest"}); return; }
    if (!state.chosenCp) { fieldError("contact_point", t("choose_cp")); $("f-cp").focus(); return; }
    const implied = impliedCategory();
    if (implied) { category.set(implied); state.dirty.add("category"); }
    const reason = assignReason();
    const destination = state.chosenCp;
    const ticket = await saveTicket({quiet: true});
    const routed = await api("POST", `/api/tickets/${ticket.id}/assign`,
                             {contact_point: destination, reason, version: ticket.version});
    applyTicket(routed);
    upsertQueue(routed);
    const message = fmt(t("routed"), {code: H.code(routed), cp: cpName(destination)});
    banner(message, "ok");
    H.toast(message, "ok");
  });

  const cancelTicket = () => act(async () => {
    const reasonCode = $("cancel-code").value;
    const reason = $("cancel-reason").value.trim();
    if (!reasonCode) { fieldError("reason_code", t("reason_code_required")); $("cancel-code").focus(); return; }
    // A nuisance call needs no words (the server stores a default); any other reason does.
    if (!reason && reasonCode !== "nuisance") {
      fieldError("reason", t("reason_required")); $("cancel-reason").focus(); return;
    }
    const done = await api("POST", `/api/tickets/${state.ticket.id}/cancel`,
                           {reason_code: reasonCode, reason: reason || null, version: state.ticket.version});
    dropDraft();
    $("cancel-box").open = false;
    $("cancel-code").value = "";
    $("cancel-reason").value = "";
    applyTicket(done);
    upsertQueue(done);
    H.toast(fmt(t("cancelled"), {code: H.code(done)}), "ok");
  });

  const linkTo = (original) => act(async () => {
    const ticket = await saveTicket({quiet: true});
    const done = await api("POST", `/api/tickets/${ticket.id}/link`, {duplicate_of: original.id, version: ticket.version});
    dropDraft();
    applyTicket(done);
    upsertQueue(done);
    const message = fmt(t("linked"), {code: H.code(original)});
    banner(message, "ok");
    H.toast(message, "ok");
  });

  // ---- the routing proposal ------------------------------------------------------------------

  let previewTimer = null, previewRunning = null;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 300);
  }

  /* The proposal for what is on screen now: a confirmation never goes by an older one. */
  async function flushPreview() {
    if (previewTimer !== null) { clearTimeout(previewTimer); previewTimer = null; await runPreview(); }
    else if (previewRunning) await previewRunning;
  }

  function runPreview() {
    previewTimer = null;
    previewRunning = preview().finally(() => { previewRunning = null; });
    return previewRunning;
  }

  async function preview() {
    if (state.mode === "idle") return;
    const v = values();
    const seq = ++state.previewSeq;
    if (!v.description && !v.category && !v.ward_code && !v.address && !v.caller_phone) {
      state.proposal = null;
      state.duplicates = [];
      if (!state.cpManual) state.chosenCp = null;
      renderProposal();
      return;
    }
    $("proposal-busy").hidden = false;
    try {
      const answer = await api("POST", "/api/routing/preview", {
        line: "1022", description: v.description || null, category: v.category, address: v.address || null,
        ward_code: v.ward_code, caller_phone: v.caller_phone || null});
      if (seq !== state.previewSeq) return;  // an answer to older text
      state.proposal = answer.decision;
      const own = state.ticket && state.ticket.id;
      state.duplicates = (answer.duplicates || []).filter((d) => d.ticket_id !== own);
      if (!state.cpManual) state.chosenCp = state.proposal && state.proposal.contact_point;
      renderProposal();
      fetchDuplicates();
    } catch (e) {
      if (seq !== state.previewSeq) return;
      fill($("proposal-body"), h("p", {class: "form-error"}, fmt(t("proposal_error"), {message: e.message})));
      if (e.fields) Object.entries(e.fields).forEach(([name, message]) => fieldError(name, message));
    } finally {
      if (seq === state.previewSeq) $("proposal-busy").hidden = true;
    }
  }

  async function fetchDuplicates() {
    const missing = state.duplicates.map((d) => d.ticket_id).filter((id) => !state.dupTickets.has(id) && !state.queue.has(id));
    if (!missing.length) return;
    await Promise.all(missing.slice(0, 10).map((id) => api("GET", `/api/tickets/${id}`)
      .then((x) => state.dupTickets.set(id, x)).catch(() => {})));
    renderProposal();
  }

  /* The engine's reasons in plain words, with names instead of codes. */
  function plainReasons(d) {
    const out = [];
    const loc = d.location || {};
    for (const r of d.reasons || []) {
      const data = r.data || {};
      const raw = english ? r.en : r.vi;
      let text = null, kind = r.code;
      if (r.code === "category") {
        text = fmt(t("r_given"), {category: categoryName(data.category)});
      } else if (r.code === "classifier" && data.category) {
        const others = (data.ranked || []).slice(1, 3).filter(([, p]) => p >= 0.05)
          .map(([c, p]) => `${categoryName(c)} ${pct(p)}`);
        text = fmt(t("r_classifier"), {category: categoryName(data.category), pct: pct(data.confidence)})
          + (others.length ? ` (${fmt(t("r_runner_up"), {others: others.join(", ")})})` : "");
      } else if (r.code === "keyword") {
        text = fmt(t("r_keyword"), {words: (data.keywords || []).map((k) => `«${k.keyword}»`).join(", ")});
      } else if (r.code === "location" && data.category) {
        text = t("r_district_unknown");
      } else if (r.code === "location") {
        kind = "place";
        const place = data.ward_code ? wardLabel(data.ward_code) : data.district_code ? districtName(data.district_code) : null;
        const source = t(loc.how === "address" ? "src_address" : "src_description");
        const words = (data.words || []).map((w) => `«${w}»`).join(", ");
        if (loc.how === "ward_code" && data.ward_code) {
          text = fmt(t("r_place_ward"), {ward: wardName(data.ward_code), district: districtName(data.district_code)});
        } else if (words && place) {
          text = fmt(t("r_place_text"), {place, words, source});
        } else if (words) {
          text = fmt(t("r_place_unclear"), {words, source});
        } else if (place) {
          text = fmt(t("r_place_point"), {place});
        }
      } else if (r.code === "rule" && data.rule) {
        const rule = data.rule;
        if (rule.contact_point === "@district") text = `${t("r_district_level")} → ${cpName(data.contact_point)}`;
        else if (rule.category === "*" && rule.district_code === "*" && rule.ward_code === "*" && /fallback|mặc định/i.test(raw))
          text = fmt(t("r_fallback_rule"), {cp: cpName(data.contact_point)});
        else {
          const what = [rule.category !== "*" ? categoryName(rule.category) : t("any_category"),
                        rule.district_code !== "*" ? districtName(rule.district_code) : null,
                        rule.ward_code !== "*" ? wardName(rule.ward_code) : null].filter(Boolean).join(", ");
          text = fmt(t("r_rule"), {row: rule.row, what, cp: cpName(data.contact_point)});
        }
      } else if (r.code === "rule") {
        text = t("r_no_rule");
      } else if (r.code === "fallback") {
        text = t("r_unclear");
      }
      out.push({kind, text: text || raw});
    }
    if (!loc.how) out.push({kind: "place", text: t("r_place_unknown")});
    return out;
  }

  function altReason(a) {
    const r = a.reason || {}, data = r.data || {};
    if (r.code === "classifier" && data.category) {
      return fmt(t("a_category"), {category: categoryName(data.category), pct: pct(data.probability)});
    }
    if (r.code === "location" && data.district_code) return fmt(t("a_place"), {district: districtName(data.district_code)});
    if (r.code === "rule") return t("a_less_specific");
    return english ? r.en : r.vi;
  }

  function chooseCp(code, manual) {
    state.chosenCp = code;
    state.cpManual = manual;
    clearFieldError("contact_point");
    renderProposal();
  }

  function renderProposal() {
    if (state.mode === "idle") return;
    const d = state.proposal;
    const body = $("proposal-body");
    const parts = [];
    if (!d && !state.duplicates.length) {
      parts.push(h("p", {class: "empty"}, t("proposal_empty")));
    }
    if (d) {
      if (d.contact_point) {
        const sure = !d.needs_confirmation;
        const chosenIt = state.chosenCp === d.contact_point;
        parts.push(h("div", {class: `proposed ${chosenIt ? "chosen" : ""}`, dataset: {cp: d.contact_point}},
          h("div", {class: "proposed-label"}, t("proposed")),
          h("div", {class: "proposed-name", id: "proposed-name"}, cpName(d.contact_point)),
          h("div", {class: "confidence"},
            h("span", {class: "meter", role: "meter", "aria-label": t("confidence"), "aria-valuemin": 0,
                       "aria-valuemax": 100, "aria-valuenow": Math.round(d.confidence * 100)},
              h("span", {class: `meter-bar ${sure ? "sure" : "unsure"}`, style: {width: `${Math.round(d.confidence * 100)}%`}})),
            h("span", {class: "mono"}, pct(d.confidence)),
            h("span", {class: `pill ${sure ? "ok" : "warn"}`}, t(sure ? "fairly_sure" : "needs_confirmation"))),
          chosenIt ? null : h("button", {type: "button", class: "btn small", onclick: () => chooseCp(d.contact_point, false)},
            t("use_proposal"))));
      } else {
        parts.push(h("p", {class: "pill warn block"}, t("no_proposal")));
      }
      if (d.location && d.location.near_boundary) parts.push(h("p", {class: "boundary", role: "note"}, "⚠ " + t("boundary")));
      if (state.duplicates.length) {
        // Seen at once, even when the list itself is further down the panel.
        parts.push(h("button", {type: "button", class: "dupe-alert", onclick: () => {
          const list = $("dupes-h");
          if (list) { list.scrollIntoView({block: "start", behavior: "smooth"}); list.focus(); }
        }}, "⚠ " + fmt(t("duplicates_alert"), {n: state.duplicates.length})));
      }
      parts.push(h("h3", {}, t("why")),
        h("ul", {class: "reasons"}, plainReasons(d).map((r) => h("li", {class: `r-${r.kind}`}, r.text))));
      parts.push(h("details", {class: "tech"}, h("summary", {}, t("details")),
        h("ul", {}, (d.reasons || []).map((r) => h("li", {}, english ? r.en : r.vi)))));
      const alts = d.alternatives || [];
      if (alts.length) {
        parts.push(h("h3", {}, t("alternatives")), h("div", {class: "alts"}, alts.map((a) => h("button", {
          type: "button", class: "alt", "aria-pressed": state.chosenCp === a.contact_point ? "true" : "false",
          onclick: () => chooseCp(a.contact_point, true)},
          h("span", {class: "alt-name"}, cpName(a.contact_point)),
          h("span", {class: "alt-why"}, `${altReason(a)} · ${pct(a.confidence)}`)))));
      }
    }
    if (state.duplicates.length) {
      const canLink = state.mode === "edit" && state.ticket && (state.ticket.allowed_actions || []).includes("cancel");
      parts.push(h("h3", {id: "dupes-h", tabindex: "-1"}, t("duplicates"), " ", h("span", {class: "count"}, `(${state.duplicates.length})`)),
        h("ul", {class: "dupes"}, state.duplicates.map((dup) => duplicateItem(dup, canLink))));
    }
    fill(body, parts);
    renderRouteBox();
    renderSuggestions();
  }

  function duplicateItem(dup, canLink) {
    const x = state.queue.get(dup.ticket_id) || state.dupTickets.get(dup.ticket_id);
    const why = [dup.same_caller ? t("same_caller") : null,
                 dup.distance_m !== null && dup.distance_m !== undefined ? fmt(t("distance"), {m: dup.distance_m}) : null,
                 (dup.reasons || []).some((r) => r.code === "same_ward") ? t("same_ward") : null].filter(Boolean).join(" · ");
    const li = h("li", {class: "dupe", dataset: {id: dup.ticket_id}},
      h("div", {class: "dupe-top"},
        h("span", {class: "mono"}, x ? H.code(x) : `#${dup.ticket_id}`), " ",
        x ? H.statusBadge(x.status) : null, " ",
        h("span", {class: "muted"}, why + " · " + ago(dup.created_at))),
      x ? h("div", {class: "dupe-desc"}, excerpt(x.description, 120) || categoryName(x.category)) : null);
    if (!x) return li;
    if (!canLink) {
      li.append(h("div", {class: "muted small"}, t("link_save_first")));
      return li;
    }
    const ask = h("div", {class: "link-ask", hidden: true},
      h("p", {}, fmt(t("link_question"), {code: H.code(x)})),
      h("button", {type: "button", class: "btn small danger", onclick: () => linkTo(x)}, t("link_confirm")), " ",
      h("button", {type: "button", class: "btn small", onclick: () => { ask.hidden = true; linkButton.hidden = false; linkButton.focus(); }}, t("keep")));
    const linkButton = h("button", {type: "button", class: "btn small", "aria-label": `${t("link")} ${H.code(x)}`,
      onclick: () => { ask.hidden = false; linkButton.hidden = true; ask.querySelector("button").focus(); }}, "⇄ " + t("link"));
    li.append(linkButton, ask);
    return li;
  }

  function renderRouteBox() {
    const x = state.ticket;
    const canAssign = state.mode === "new" || (x && (x.allowed_actions || []).includes("assign"));
    $("route-box").hidden = state.mode === "idle" || !canAssign;
    if (cp.value !== state.chosenCp) cp.set(state.chosenCp);
    const d = state.proposal;
    const other = Boolean(state.chosenCp && (!d || state.chosenCp !== d.contact_point));
    $("assign-reason-field").hidden = !other;
    const routeButton = $("route");
    const already = x && x.contact_point && x.contact_point.code === state.chosenCp && x.status !== "new";
    fill(routeButton, t(x && x.status !== "new" ? "reroute" : "route"), " ", h("kbd", {}, "Ctrl+Enter"));
    routeButton.disabled = !state.chosenCp || Boolean(already);
    let note = $("route-note");
    if (!note) { note = h("p", {class: "route-note muted", id: "route-note"}); $("route-box").insertBefore(note, routeButton); }
    const implied = impliedCategory();
    fill(note, already ? fmt(t("remote_assigned"), {cp: x.contact_point.name})
      : implied ? fmt(t("category_applied"), {name: categoryName(implied)}) : "");
  }

  function renderSuggestions() {
    const d = state.proposal;
    const cat = $("category-suggest"), wd = $("ward-suggest");
    cat.hidden = true;
    wd.hidden = true;
    if (!d || !editable()) return;
    if (!category.value && d.category && d.category_source === "classifier") {
      const prob = (d.proposed_categories || []).find(([c]) => c === d.category);
      const text = fmt(t("suggest_category"), {name: categoryName(d.category), pct: pct(prob ? prob[1] : d.confidence)});
      fill(cat, h("button", {type: "button", class: "btn small", "aria-label": `${t("use")}: ${text}`,
                             onclick: () => { category.set(d.category); changed("category"); }}, t("use")),
        h("span", {class: "suggest-text", title: text}, text));
      cat.hidden = false;
    }
    const loc = d.location || {};
    if (!ward.value && loc.ward_code && (loc.how === "description" || loc.how === "address")) {
      const text = fmt(t("suggest_ward"), {name: wardLabel(loc.ward_code)});
      fill(wd, h("button", {type: "button", class: "btn small", "aria-label": `${t("use")}: ${text}`,
                            onclick: () => { ward.set(loc.ward_code); changed("ward_code"); }}, t("use")),
        h("span", {class: "suggest-text", title: text}, text));
      wd.hidden = false;
    }
  }

  // ---- incoming calls -------------------------------------------------------------------------

  const dialog = $("call-dialog");
  let elapsedTimer = null;

  function renderRinging() {
    const chip = $("ringing");
    const waiting = state.pending.filter((sid) => sid !== state.showing);
    chip.hidden = !waiting.length;
    if (waiting.length) {
      const first = state.calls.get(waiting[0]);
      fill(chip, h("span", {class: "ring", "aria-hidden": "true"}), " ",
        `${t("incoming")}: ${formatPhone(first.payload.from)}`, waiting.length > 1 ? ` (+${waiting.length - 1})` : "");
    }
    $("call-more").textContent = waiting.length ? fmt(t("more_calls"), {n: waiting.length}) : "";
  }

  function showCall(sid) {
    const call = state.calls.get(sid);
    if (!call) return;
    state.showing = sid;
    const p = call.payload;
    $("call-line").textContent = p.line;
    $("call-caller").textContent = formatPhone(p.from);
    $("call-ticket").textContent = fmt(t("call_ticket"), {code: H.code(p.ticket)});
    renderCallIvr(p.ticket);
    // Said calmly and never in the way of Take call: the line answers everyone.
    $("call-nuisance").hidden = !p.nuisance_count_90d;
    $("call-nuisance").textContent = p.nuisance_count_90d ? fmt(t("nuisance_90d"), {n: p.nuisance_count_90d}) : "";
    const history = p.history || [];
    $("call-history-count").textContent = history.length ? `(${history.length})` : "";
    fill($("call-history"), history.length ? history.slice(0, 6).map(historyItem)
      : h("li", {class: "muted"}, t("history_none")));
    renderCallEnded(call);
    const tick = () => { $("call-elapsed").textContent = H.duration((Date.now() - call.at) / 1000); };
    tick();
    clearInterval(elapsedTimer);
    elapsedTimer = setInterval(tick, 1000);
    if (!dialog.open) dialog.showModal();
    $("call-take").focus();
    renderRinging();
  }

  function renderCallIvr(ticket) {
    const el = $("call-ivr");
    el.hidden = !(ticket && ticket.category);
    if (ticket && ticket.category) el.textContent = fmt(t("ivr_choice"), {category: categoryName(ticket.category)});
  }

  function renderCallEnded(call) {
    const el = $("call-ended");
    el.hidden = !call.ended;
    if (!call.ended) return;
    const ticket = call.ended.ticket || {};
    el.textContent = ticket.callback_needed ? t("hung_up_callback")
      : call.ended.duration ? fmt(t("call_ended"), {duration: H.duration(call.ended.duration)}) : t("hung_up");
    clearInterval(elapsedTimer);
  }

  function closeCall() {
    const sid = state.showing;
    state.pending = state.pending.filter((s) => s !== sid);
    state.showing = null;
    clearInterval(elapsedTimer);
    if (dialog.open) dialog.close();
    renderRinging();
    return sid ? state.calls.get(sid) : null;
  }

  function takeCall() {
    const call = closeCall();
    if (!call) return;
    if (softphone.canAnswer()) softphone.answer();
    openTicket(call.payload.ticket.id);
  }

  function dismissCall() {
    closeCall();
    const next = state.pending[0];
    if (next) showCall(next);
  }

  function busyWithTicket() {
    return state.mode !== "idle" && state.dirty.size > 0;
  }

  function onIncoming(payload) {
    if (!payload || payload.line !== "1022") return;
    state.calls.set(payload.call_sid, {payload, at: Date.now(), ended: null});
    upsertQueue(payload.ticket);
    if (!state.onDuty) {
      H.toast(fmt(t("off_duty_call"), {caller: formatPhone(payload.from)}));
      return;
    }
    if (!state.pending.includes(payload.call_sid)) state.pending.push(payload.call_sid);
    H.alert(fmt(t("incoming_title"), {caller: formatPhone(payload.from)}));
    // A pop-up over half-typed work would steal the operator's keystrokes: then it waits in
    // the bar ("ringing" chip), one click or Enter away.
    if (!state.showing && !busyWithTicket()) showCall(payload.call_sid);
    else renderRinging();
  }

  function onEnded(payload) {
    if (!payload) return;
    const call = state.calls.get(payload.call_sid);
    if (payload.ticket) upsertQueue(payload.ticket);
    if (call) {
      call.ended = payload;
      if (state.showing === payload.call_sid) renderCallEnded(call);
      else state.pending = state.pending.filter((s) => s !== payload.call_sid);
      renderRinging();
    }
    if (payload.ticket && payload.ticket.callback_needed) loadCallbacks().catch(() => {});
    if (state.ticket && payload.ticket && payload.ticket.id === state.ticket.id) remoteUpdate(payload.ticket);
  }

  // ---- live updates ---------------------------------------------------------------------------

  function remoteUpdate(ticket) {
    if (!state.ticket || ticket.id !== state.ticket.id || ticket.version <= state.ticket.version) return;
    if (state.busy) { state.missed = ticket; return; }  // looked at again once our own action is done
    // The pushed ticket carries no allowed_actions for this user: read it back through the API.
    reloadTicket({keepDirty: true}).then((fresh) => {
      if (fresh && !$("ticket-banner").classList.contains("warn")) banner(t("remote_update"), "info");
      schedulePreview();
    }).catch(() => {});
  }

  function onTicket(payload) {
    const ticket = payload && payload.ticket;
    if (!ticket) return;
    upsertQueue(ticket);
    if (state.showing) {
      const call = state.calls.get(state.showing);
      if (call && call.payload.ticket.id === ticket.id) { call.payload.ticket = ticket; renderCallIvr(ticket); }
    }
    remoteUpdate(ticket);
    if (payload.action === "called_back" || payload.action === "callback_needed") loadCallbacks().catch(() => {});
  }

  async function refetch() {
    if (!dir.categories.size) await loadDirectory();
    await Promise.all([loadQueue(), loadCallbacks()]);
    if (state.ticket && state.mode === "edit") await reloadTicket({keepDirty: true});
  }

  // ---- the softphone (Twilio Voice JS SDK, vendored) -------------------------------------------

  const softphone = (function () {
    let device = null, call = null, incoming = null, ready = false;
    const el = (id) => $(id);
    const setState = (key, extra) => {
      const box = el("phone-state");
      if (!box) return;
      box.dataset.state = key;
      box.textContent = key === "error" ? fmt(t("phone_error"), {message: extra || ""}) : t(key);
      box.title = box.textContent;
      if (key === "error" && !call) { ready = false; buttons(); }
    };
    const buttons = () => {
      if (!el("phone-answer")) return;
      // A softphone that cannot work shows no buttons: only its state says why.
      el("phone-answer").hidden = !ready && !call;
      el("phone-answer").disabled = !ready || Boolean(call);
      el("phone-hangup").hidden = !call;
      el("phone-mute").hidden = !call;
      el("phone-hangup").disabled = !call;
      el("phone-mute").disabled = !call;
    };

    function bind(c) {
      call = c;
      setState("phone_in_call");
      c.on("disconnect", () => { call = null; setState("phone_ready"); muteLabel(false); buttons(); });
      c.on("cancel", () => { call = null; setState("phone_ready"); buttons(); });
      c.on("error", (e) => setState("error", e.message));
      buttons();
    }

    function muteLabel(muted) {
      const b = el("phone-mute");
      if (!b) return;
      b.setAttribute("aria-pressed", muted ? "true" : "false");
      b.textContent = t(muted ? "unmute" : "mute");
    }

    async function start() {
      if (!page.softphone) return;
      buttons();
      if (!window.Twilio || !window.Twilio.Device) { setState("error", "Twilio Voice SDK"); return; }
      setState("phone_starting");
      try {
        const {token} = await api("GET", "/api/voice/token");
        device = new window.Twilio.Device(token, {closeProtection: true, codecPreferences: ["opus", "pcmu"]});
        device.on("registered", () => { ready = true; setState("phone_ready"); buttons(); });
        device.on("error", (e) => setState("error", e.message));
        device.on("incoming", (c) => { incoming = c; ready = true; buttons(); c.on("cancel", () => { incoming = null; }); });
        device.on("tokenWillExpire", async () => {
          try { device.updateToken((await api("GET", "/api/voice/token")).token); } catch (e) { setState("error", e.message); }
        });
        await device.register();
      } catch (e) {
        setState("error", e.message);
      }
    }

    async function answer() {
      if (!device || call) return;
      try {
        if (incoming) { const c = incoming; incoming = null; c.accept(); bind(c); return; }
        setState("phone_connecting");
        bind(await device.connect({params: {line: "1022"}}));
      } catch (e) {
        setState("error", e.message);
      }
    }

    if (el("phone-answer")) {
      el("phone-answer").addEventListener("click", answer);
      el("phone-hangup").addEventListener("click", () => call && call.disconnect());
      el("phone-mute").addEventListener("click", () => {
        if (!call) return;
        call.mute(!call.isMuted());
        muteLabel(call.isMuted());
      });
    }
    return {start, answer, canAnswer: () => Boolean(device && ready && !call)};
  })();

  // ---- demo -----------------------------------------------------------------------------------

  async function simulate(hangUp, button) {
    button.disabled = true;
    try {
      const digits = String(1 + Math.floor(Math.random() * 8));
      const answer = await api("POST", "/api/demo/simulate-call", {line: "1022", digits, hang_up: hangUp});
      H.toast(fmt(t("simulated"), {caller: formatPhone(answer.caller)}));
    } catch (e) {
      H.explain(e);
    } finally {
      button.disabled = false;
    }
  }

  // ---- wiring -----------------------------------------------------------------------------------

  $("duty").addEventListener("click", toggleDuty);
  $("new-ticket").addEventListener("click", newTicket);
  $("close-form").addEventListener("click", closeForm);
  $("save").addEventListener("click", save);
  $("route").addEventListener("click", route);
  $("cancel-confirm").addEventListener("click", cancelTicket);
  $("call-take").addEventListener("click", takeCall);
  $("call-dismiss").addEventListener("click", dismissCall);
  $("ringing").addEventListener("click", () => { const sid = state.pending[0]; if (sid) showCall(sid); });
  dialog.addEventListener("cancel", (e) => { e.preventDefault(); dismissCall(); });
  form.addEventListener("submit", (e) => { e.preventDefault(); route(); });
  if ($("simulate-call")) {
    $("simulate-call").addEventListener("click", (e) => simulate(false, e.currentTarget));
    $("simulate-missed").addEventListener("click", (e) => simulate(true, e.currentTarget));
  }
  document.querySelectorAll(".seg-btn").forEach((b) => b.addEventListener("click", () => {
    state.filter = b.dataset.filter;
    document.querySelectorAll(".seg-btn").forEach((x) => x.setAttribute("aria-pressed", x === b ? "true" : "false"));
    renderQueue();
  }));
  let searchTimer = null;
  $("queue-search").addEventListener("input", (e) => {
    state.search = e.target.value;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadQueue().catch((err) => H.explain(err)), 300);
  });

  document.addEventListener("keydown", (e) => {
    const key = e.key.toLowerCase();
    const typing = /^(input|textarea|select)$/i.test((e.target && e.target.tagName) || "");
    if (dialog.open) return;  // the pop-up has its own keys (Enter, Esc)
    if (e.altKey && !e.ctrlKey && (e.code === "KeyN" || key === "n")) { e.preventDefault(); newTicket(); }
    else if (e.altKey && !e.ctrlKey && (e.code === "KeyS" || key === "s")) { e.preventDefault(); save(); }
    else if (e.altKey && !e.ctrlKey && (e.code === "KeyD" || key === "d")) { e.preventDefault(); toggleDuty(); }
    else if ((e.ctrlKey || e.metaKey) && key === "enter") { e.preventDefault(); route(); }
    else if (key === "/" && !typing && !e.ctrlKey && !e.altKey) { e.preventDefault(); $("queue-search").focus(); }
  });
  window.addEventListener("beforeunload", saveDraft);
  setInterval(renderQueue, 30000);  // ages

  setMode("idle");
  renderDuty(page.operators_on_duty);
  H.live({
    "call.incoming": onIncoming,
    "call.ended": onEnded,
    "ticket.created": onTicket,
    "ticket.updated": onTicket,
    "sla.warning": onTicket,
    "sla.breached": onTicket,
  }, refetch);
  softphone.start();
  window.OperatorConsole = {state};  // for debugging and tests
})();
