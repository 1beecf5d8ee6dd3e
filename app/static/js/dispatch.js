/* The 115 dispatch board: active emergencies, the selected case, the map.
 *
 * State comes from the API and is rebuilt on every (re)connection; socket events only make
 * it arrive sooner. A 115 call pops up with a sound; the dispatcher places the patient (map
 * click, ward or address), picks a specialty and dispatches in one request
 * (POST /api/tickets/ID/dispatch). Re-dispatches show as they happen: the row flashes, a
 * toast says who failed to acknowledge, the chain grows and the countdown restarts.
 */
(function () {
  "use strict";

  const H = window.Hotline;
  const {h, t, fill, api} = H;
  const page = H.config.page || {};
  const ACK = Number(page.ack_seconds || 60);
  const WARN = Math.round(ACK / 2);
  const OPEN = ["new", "assigned", "in_progress"];
  const PRIORITY_RANK = {emergency: 0, high: 1, normal: 2, low: 3};
  const SPECIALTIES = page.specialties || [];

  const S = {
    cases: new Map(),      // active 115 tickets by id
    selected: null,        // id of the case shown in the detail panel
    detail: null,          // that ticket with its events
    options: null,         // hospitals for it, by travel time
    hospitals: [],         // the directory
    hospitalByCode: new Map(),
    wards: [],
    wardByCode: new Map(),
    calls: new Map(),      // call_sid -> incoming 115 call
    flash: new Map(),      // ticket id -> {kind, until}
    form: null,            // the case being completed: see openForm
    order: "",
  };

  const el = {
    list: document.getElementById("case-list"),
    count: document.getElementById("case-count"),
    stats: document.getElementById("case-stats"),
    incoming: document.getElementById("incoming"),
    detail: document.getElementById("detail"),
    map: document.getElementById("map"),
  };

  // ---- small helpers -------------------------------------------------------------------

  const timeSec = H.timeSeconds;

  function hospitalName(code) {
    const found = S.hospitalByCode.get(code);
    return found ? found.name : code || "—";
  }

  function specialtyLabel(code) {
    const found = SPECIALTIES.find((s) => s.code === code);
    return found ? found.label : code;
  }

  function statusLabel(status) {
    const own = {new: t("st_new"), assigned: t("st_assigned"), in_progress: t("st_in_progress")};
    return own[status] || (H.config.labels.status || {})[status] || status;
  }

  function statusBadge(status) {
    return h("span", {class: "status " + status}, statusLabel(status));
  }

  function since(iso) {
    return h("span", {class: "since mono", dataset: {since: iso}}, "");
  }

  function tickSince() {
    const now = Date.now();
    document.querySelectorAll("[data-since]").forEach((node) => {
      const from = Date.parse(node.dataset.since);
      if (!Number.isNaN(from)) node.textContent = H.duration((now - from) / 1000);
    });
  }
  setInterval(tickSince, 1000);

  function overdue(ticket) {
    return ticket.status === "assigned" && ticket.first_response_due
      && Date.parse(ticket.first_response_due) < Date.now();
  }

  function urgency(ticket) {
    if (ticket.status === "new" || !ticket.hospital || overdue(ticket)) return 0;  // a dispatcher must act
    return ticket.status === "assigned" ? 1 : 2;
  }

  function sorted() {
    return [...S.cases.values()].sort((a, b) =>
      urgency(a) - urgency(b)
      || (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9)
      || Date.parse(b.created_at) - Date.parse(a.created_at));
  }

  function flash(id, kind) {
    S.flash.set(id, {kind, until: Date.now() + 4000});
    setTimeout(renderList, 4100);
  }

  function showFieldErrors(container, error) {
    container.querySelectorAll(".field-error").forEach((n) => n.remove());
    const fields = (error && error.fields) || {};
    for (const [name, message] of Object.entries(fields)) {
      const input = container.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (input) input.after(h("div", {class: "field-error", role: "alert"}, message));
    }
  }

  /* Run an API action from a button: disable it, show the server's message on failure, and
   * after a 409 reload the case so the screen shows what is true now. */
  async function act(button, errorBox, container, fn) {
    if (button) button.disabled = true;
    if (errorBox) errorBox.hidden = true;
    if (container) showFieldErrors(container, null);
    try {
      return await fn();
    } catch (error) {
      H.explain(error, errorBox);
      if (container) showFieldErrors(container, error);
      if (error.status === 409 && S.selected) await loadDetail(S.selected);
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---- loading -------------------------------------------------------------------------

  async function loadCases() {
    const pages = await Promise.all(OPEN.map((status) =>
      api("GET", `/api/tickets?line=115&status=${status}&per_page=100`)));
    S.cases.clear();
    for (const p of pages) for (const ticket of p.items) S.cases.set(ticket.id, ticket);
  }

  async function loadHospitals() {
    S.hospitals = await api("GET", "/api/directory/hospitals");
    S.hospitalByCode = new Map(S.hospitals.map((x) => [x.code, x]));
  }

  async function loadStatic() {
    const [districts, wards] = await Promise.all([api("GET", "/api/directory/districts"),
                                                   api("GET", "/api/directory/wards")]);
    S.wards = wards;
    S.wardByCode = new Map(wards.map((w) => [w.code, w]));
    map.setDistricts(districts);
    el.map.dataset.districts = String(districts.features.length);
  }

  async function loadDetail(id) {
    const [detail, options] = await Promise.all([
      api("GET", `/api/tickets/${id}`),
      api("GET", `/api/tickets/${id}/hospitals`).catch(() => null)]);
    if (S.selected !== id) return;
    S.detail = detail;
    S.options = options;
    if (OPEN.includes(detail.status)) S.cases.set(id, detail);
    renderDetail();
    renderList();
    renderMap();
  }

  let detailTimer = null;
  function reloadDetailSoon() {
    clearTimeout(detailTimer);
    detailTimer = setTimeout(() => { if (S.selected) loadDetail(S.selected).catch((e) => H.explain(e)); }, 150);
  }

  async function refetch() {
    await Promise.all([loadCases(), loadHospitals()]);
    renderList();
    renderMap();
    if (S.selected) await loadDetail(S.selected);
  }

  // ---- the list ------------------------------------------------------------------------

  function rowCountdown(ticket) {
    if (ticket.status === "new" || !ticket.hospital) {
      return h("span", {class: "row-state needs"}, ticket.lat === null ? t("needs_location") : t("needs_hospital"));
    }
    if (ticket.status === "in_progress") return h("span", {class: "row-state ok"}, "✓ " + t("acknowledged"));
    if (ticket.status === "assigned" && ticket.first_response_due) {
      const c = H.countdown(ticket.first_response_due, WARN);
      c.classList.add("big");
      return c;
    }
    return h("span", {class: "row-state"}, statusLabel(ticket.status));
  }

  function renderList() {
    const list = sorted();
    const needs = list.filter((x) => urgency(x) === 0).length;
    const waiting = list.filter((x) => urgency(x) === 1).length;
    fill(el.count, String(list.length));
    fill(el.stats,
      h("span", {class: "stat needs" + (needs ? " on" : "")}, t("stat_needs"), " ", h("b", null, String(needs))),
      h("span", {class: "stat"}, t("stat_waiting"), " ", h("b", null, String(waiting))),
      h("span", {class: "stat"}, t("stat_acknowledged"), " ",
        h("b", null, String(list.length - needs - waiting))));
    const now = Date.now();
    fill(el.list, list.length ? list.map((ticket) => {
      const fl = S.flash.get(ticket.id);
      const flashing = fl && fl.until > now ? " flash-" + fl.kind : "";
      const ward = ticket.ward_code && S.wardByCode.get(ticket.ward_code);
      return h("li", {class: "case u" + urgency(ticket) + flashing, dataset: {id: ticket.id}},
        h("button", {type: "button", class: "case-row", dataset: {id: ticket.id},
                     "aria-pressed": ticket.id === S.selected ? "true" : "false",
                     onclick: () => select(ticket.id)},
          h("span", {class: "row-top"},
            h("span", {class: "code mono"}, H.code(ticket)),
            ticket.priority !== "emergency" ? h("span", {class: "prio"}, H.priorityLabel(ticket.priority)) : null,
            h("span", {class: "age", title: t("since_call")}, "⏱ ", since(ticket.created_at))),
          h("span", {class: "row-main"},
            h("span", {class: "row-who"},
              h("span", {class: "row-hospital"}, ticket.hospital ? ticket.hospital.name
                : ticket.caller_phone || t("unknown_number")),
              h("span", {class: "row-status " + ticket.status}, statusLabel(ticket.status))),
            rowCountdown(ticket)),
          h("span", {class: "row-desc"}, ticket.description || t("no_description"),
            ticket.address || ward ? h("span", {class: "muted"}, " · ", ticket.address || ward.name) : null)));
    }) : h("li", {class: "empty"}, t("no_cases")));
    tickSince();
    S.order = list.map((x) => `${x.id}:${urgency(x)}`).join(",");
  }

  // Overdue acknowledgements move up without any event: re-sort when the order changes.
  setInterval(() => {
    const order = sorted().map((x) => `${x.id}:${urgency(x)}`).join(",");
    if (order !== S.order) { renderList(); renderMap(); }
  }, 2000);

  function upsert(ticket) {
    if (!ticket || ticket.line !== "115") return;
    if (OPEN.includes(ticket.status)) S.cases.set(ticket.id, ticket);
    else S.cases.delete(ticket.id);
    if (S.detail && S.detail.id === ticket.id) S.detail = {...S.detail, ...ticket};
    renderList();
    renderMap();
  }

  // ---- incoming calls ------------------------------------------------------------------

  function renderIncoming() {
    const calls = [...S.calls.values()].filter((c) => !c.done);
    el.incoming.hidden = calls.length === 0;
    fill(el.incoming, calls.map((call) => h("div", {class: "call-pop" + (call.ended ? " ended" : ""),
                                                    role: "alert"},
      h("span", {class: "call-icon", "aria-hidden": "true"}, "☎"),
      h("span", {class: "call-text"},
        h("strong", null, call.ended ? t("call_ended") : t("incoming_call")),
        h("span", {class: "mono"}, call.from || t("unknown_number")),
        call.history ? h("span", {class: "muted"}, t("earlier_cases"), " ", String(call.history)) : null),
      h("button", {type: "button", class: "btn primary small", onclick: () => {
        call.done = true;
        renderIncoming();
        select(call.ticketId, true);
      }}, t("take_case")),
      h("button", {type: "button", class: "btn small", "aria-label": t("dismiss"), onclick: () => {
        call.done = true;
        renderIncoming();
      }}, "×"),
      nuisanceBadge(call.nuisance))));  // on a line of its own, under the buttons
  }

  // Why a case is cancelled, as a code the reports count; a prank first, the most common on
  // 115, and the only one that needs no words.
  const CANCEL_CODES = ["nuisance", "wrong_number", "duplicate", "other"];

  function cancelBox(ticket, errorBox) {
    const why = h("textarea", {id: "cancel-reason", "data-field": "reason", rows: 2, maxlength: 4000});
    const codeOf = () => (form.querySelector("input[name=cancel-code]:checked") || {}).value;
    const choice = (code) => h("label", {class: "choice", for: `cancel-${code}`},
      h("input", {type: "radio", name: "cancel-code", id: `cancel-${code}`, value: code, required: true,
                  "data-field": "reason_code", onchange: () => { why.required = code !== "nuisance"; }}),
      " ", t(`cancel_${code}`));
    const form = h("form", {class: "inline-form", onsubmit: (ev) => {
      ev.preventDefault();
      act(ev.submitter, errorBox, form, () => cancelCase(ticket, codeOf(), why.value.trim() || null));
    }}, h("fieldset", {class: "cancel-codes"}, h("legend", null, t("cancel_reason")), CANCEL_CODES.map(choice)),
       h("label", {for: "cancel-reason"}, t("cancel_details")), why,
       h("button", {type: "submit", class: "btn danger small"}, t("cancel_case")));
    return h("details", {class: "cancel-box"}, h("summary", null, t("cancel_case")), form);
  }

  // A prank is most often known while the form is still empty: one deliberate click (and a
  // confirmation) cancels it as a nuisance call, without closing the form and finding the
  // cancel box. Anything typed so far is dropped with the case.
  function cancelAsNuisance(ticket, button, errorBox) {
    if (!window.confirm(t("confirm_nuisance"))) return;
    act(button, errorBox, null, () => cancelCase(ticket, "nuisance", null));
  }

  async function cancelCase(ticket, reasonCode, reason) {
    const updated = await api("POST", `/api/tickets/${ticket.id}/cancel`,
                              {reason_code: reasonCode, reason, version: (S.detail || ticket).version});
    H.toast(t("case_cancelled"), "ok");
    closeForm();
    dropCallsOf(ticket.id);
    upsert(updated);
    await loadDetail(ticket.id);
  }

  // A cancelled case's call needs no one to take it any more.
  function dropCallsOf(ticketId) {
    for (const call of S.calls.values()) if (call.ticketId === ticketId) call.done = true;
    renderIncoming();
  }

  // Calm, not alarming: the call is still answered like any other (a prank caller may one
  // day have a real emergency); the dispatcher just knows.
  function nuisanceBadge(count) {
    if (!count) return null;
    return h("span", {class: "nuisance-badge"}, t("nuisance_90d").replace("{n}", String(count)));
  }

  // ---- the detail panel ----------------------------------------------------------------

  async function select(id, edit) {
    if (S.form && S.form.ticketId !== id && S.form.dirty && !window.confirm(t("discard_form"))) return;
    if (S.selected !== id || edit) closeForm();
    S.selected = id;
    S.detail = S.cases.get(id) || null;
    S.options = null;
    renderList();
    renderDetail();
    renderMap();
    try {
      await loadDetail(id);
    } catch (error) {
      H.explain(error);
      return;
    }
    const ticket = S.detail;
    if (edit || (ticket && ticket.status === "new" && ticket.lat === null && !S.form)) openForm(ticket);
  }

  function chain(detail) {
    const steps = [];
    const extras = [];
    for (const e of detail.events || []) {
      const last = steps[steps.length - 1];
      if (e.action === "assign" && e.data.hospital) {
        if (last && !last.outcome) {
          const gap = (Date.parse(e.at) - Date.parse(last.at)) / 1000;
          last.outcome = gap >= ACK - 1 ? {kind: "late", text: t("no_ack_in").replace("{s}", ACK)}
            : {kind: "moved", text: t("resent_by").replace("{who}", e.actor)};
        } else if (last && last.outcome && last.outcome.kind === "ok") {
          last.outcome = {kind: "moved", text: last.outcome.text + " · " + t("resent_by").replace("{who}", e.actor)};
        }
        steps.push({hospital: e.data.hospital, at: e.at, actor: e.actor, reason: e.data.reason, outcome: null});
      } else if (e.action === "accept" && last) {
        last.outcome = {kind: "ok", text: t("acknowledged_at").replace("{time}", timeSec(e.at)).replace("{who}", e.actor)};
      } else if (e.action === "late_acknowledgement") {
        const step = steps.find((s) => s.hospital === e.data.hospital);
        if (step) step.late = t("late_ack_at").replace("{time}", timeSec(e.at));
      } else if (e.action === "escalated") {
        extras.push(h("li", {class: "chain-alert"}, "⚠ ", t("escalated"), " — ", e.data.reason || "", " (",
                          timeSec(e.at), ")"));
      } else if (e.action === "resolve") {
        extras.push(h("li", {class: "chain-done"}, "✓ ", t("resolved_at").replace("{time}", timeSec(e.at)), ": ",
                          e.data.resolution || ""));
      } else if (e.action === "cancel") {
        extras.push(h("li", {class: "chain-alert"}, t("cancelled_at").replace("{time}", timeSec(e.at)), ": ",
                          e.data.reason || ""));
      }
    }
    return {steps, extras};
  }

  function renderChain(detail) {
    const {steps, extras} = chain(detail);
    if (!steps.length && !extras.length) return h("p", {class: "muted"}, t("not_dispatched"));
    const items = steps.map((step, i) => {
      const waiting = !step.outcome && i === steps.length - 1 && detail.status === "assigned";
      return h("li", {class: "chain-step " + (step.outcome ? step.outcome.kind : waiting ? "waiting" : "")},
        h("span", {class: "chain-hospital"}, hospitalName(step.hospital)),
        h("span", {class: "chain-meta muted"}, t("sent_at").replace("{time}", timeSec(step.at)), " · ", step.actor),
        step.reason ? h("span", {class: "chain-reason muted"}, step.reason) : null,
        step.outcome ? h("span", {class: "chain-outcome"}, step.outcome.kind === "late" ? "✗ " : "",
                         step.outcome.text)
          : waiting ? h("span", {class: "chain-outcome"}, "⏳ ", t("waiting_ack")) : null,
        step.late ? h("span", {class: "chain-outcome late-ack"}, step.late) : null);
    });
    return h("ol", {class: "chain", "aria-label": t("dispatch_chain")}, items, extras);
  }

  function currentOption() {
    return S.options && S.options.items.find((o) => o.current);
  }

  function etaText(option) {
    return option ? t("eta").replace("{km}", option.distance_km.toFixed(1))
      .replace("{min}", Math.max(1, Math.round(option.eta_minutes))) : "";
  }

  function renderDetail() {
    if (S.form) return renderForm();
    const ticket = S.detail;
    if (!ticket) {
      fill(el.detail, h("div", {class: "detail-empty"},
        h("h2", null, t("no_selection")), h("p", {class: "muted"}, t("no_selection_hint"))));
      return;
    }
    const ward = ticket.ward_code && S.wardByCode.get(ticket.ward_code);
    const option = currentOption();
    const specialty = ticket.routing && ticket.routing.specialty;
    let clockBox;
    if (ticket.status === "assigned" && ticket.first_response_due) {
      clockBox = h("div", {class: "ack-clock"}, h("span", {class: "muted"}, t("ack_within")),
                   (() => { const c = H.countdown(ticket.first_response_due, WARN); c.classList.add("huge"); return c; })());
    } else if (ticket.status === "in_progress") {
      clockBox = h("div", {class: "ack-clock ok"}, "✓ ", t("acknowledged"));
    } else if (ticket.status === "new") {
      clockBox = h("div", {class: "ack-clock needs"}, ticket.lat === null ? t("needs_location") : t("needs_hospital"));
    }
    const allowed = ticket.allowed_actions || [];
    const actionsBox = h("div", {class: "detail-actions"});
    const errorBox = h("div", {class: "form-error", role: "alert", hidden: true});
    if (allowed.includes("assign")) {
      actionsBox.append(h("button", {type: "button", class: "btn primary", onclick: () => openForm(ticket)},
        ticket.lat === null ? t("complete_case") : t("edit_case")));
    }
    fill(el.detail,
      h("header", {class: "detail-head"},
        h("div", null,
          h("h2", {id: "detail-title"}, H.code(ticket), " ", statusBadge(ticket.status)),
          h("div", {class: "detail-hospital"}, ticket.hospital ? ticket.hospital.name : t("no_hospital")),
          option ? h("div", {class: "detail-eta"}, etaText(option)) : null),
        clockBox),
      h("dl", {class: "kv detail-facts"},
        h("dt", null, t("caller")), h("dd", null,
          ticket.caller_phone ? h("a", {href: "tel:" + ticket.caller_phone, class: "mono"}, ticket.caller_phone) : "—",
          ticket.caller_name ? " · " + ticket.caller_name : ""),
        h("dt", null, t("called")), h("dd", null, timeSec(ticket.created_at), " · ", since(ticket.created_at), " ",
                                      t("ago")),
        h("dt", null, t("what")), h("dd", {class: "what"}, ticket.description || "—"),
        h("dt", null, t("where")), h("dd", null, ticket.address || "—",
          ward ? h("span", {class: "muted"}, " · ", ward.name, ", ", ward.district_name) : null),
        h("dt", null, t("specialty")), h("dd", null, specialty ? specialtyLabel(specialty) : t("any_emergency"))),
      h("h3", null, t("dispatch_chain")),
      renderChain(ticket),
      actionsBox, errorBox,
      allowed.includes("assign") && ticket.lat !== null ? renderAlternatives(ticket, errorBox) : null,
      renderMore(ticket, allowed, errorBox));
    tickSince();
  }

  function renderAlternatives(ticket, errorBox) {
    const box = h("details", {class: "alternatives"});
    const reason = h("input", {type: "text", maxlength: 500, "data-field": "reason", id: "resend-reason",
                               placeholder: t("reason_placeholder")});
    const spec = specialtySelect("resend-specialty", S.options ? S.options.specialty : null);
    spec.addEventListener("change", async () => {
      const q = spec.value ? `?specialty=${encodeURIComponent(spec.value)}` : "";
      try {
        S.options = await api("GET", `/api/tickets/${ticket.id}/hospitals${q}`);
        fill(rows, optionRows());
      } catch (e) { H.explain(e, errorBox); }
    });
    const rows = h("ol", {class: "options"});
    function optionRows() {
      return (S.options ? S.options.items : []).filter((o) => o.emergency).slice(0, 8).map((o) =>
        h("li", {class: "option" + (o.suitable ? "" : " unsuitable")},
          h("span", {class: "opt-name"}, o.name,
            o.current ? h("span", {class: "tag"}, t("current")) : null,
            o.tried && !o.current ? h("span", {class: "tag"}, t("tried")) : null,
            !o.available ? h("span", {class: "tag red"}, t("full")) : null,
            o.available && !o.has_specialty ? h("span", {class: "tag"}, t("no_specialty")) : null),
          h("span", {class: "opt-eta mono"}, etaText(o)),
          h("button", {type: "button", class: "btn small", disabled: o.current,
                       "aria-label": t("send_to").replace("{name}", o.name),
                       onclick: (ev) => act(ev.currentTarget, errorBox, box, async () => {
                         const body = {hospital: o.code, version: S.detail.version,
                                       specialty: spec.value || null};
                         if (reason.value.trim()) body.reason = reason.value.trim();
                         const updated = await api("POST", `/api/tickets/${ticket.id}/dispatch`, body);
                         H.toast(t("sent_to").replace("{name}", o.name), "ok");
                         upsert(updated);
                         await loadDetail(ticket.id);
                       })}, t("send"))));
    }
    fill(rows, optionRows());
    box.append(h("summary", null, t("send_elsewhere")),
      h("div", {class: "resend-form"},
        h("label", {for: "resend-specialty"}, t("specialty")), spec,
        h("label", {for: "resend-reason"}, t("reason")), reason),
      rows);
    return box;
  }

  function renderMore(ticket, allowed, errorBox) {
    const parts = [];
    if (allowed.includes("comment")) {
      const note = h("textarea", {id: "note-body", "data-field": "body", rows: 2, maxlength: 4000});
      const form = h("form", {class: "inline-form", onsubmit: (ev) => {
        ev.preventDefault();
        if (!note.value.trim()) return;
        act(ev.submitter, errorBox, form, async () => {
          await api("POST", `/api/tickets/${ticket.id}/comment`, {body: note.value.trim(), internal: true});
          note.value = "";
          H.toast(t("saved"), "ok");
          await loadDetail(ticket.id);
        });
      }}, h("label", {for: "note-body"}, t("note")), note,
         h("button", {type: "submit", class: "btn small"}, t("add_note")));
      parts.push(form);
    }
    if (allowed.includes("cancel")) parts.push(cancelBox(ticket, errorBox));
    if (allowed.includes("close")) {
      parts.push(h("button", {type: "button", class: "btn small", onclick: (ev) => act(ev.currentTarget, errorBox, null,
        async () => {
          const updated = await api("POST", `/api/tickets/${ticket.id}/close`, {version: S.detail.version});
          upsert(updated);
          await loadDetail(ticket.id);
        })}, t("close_case")));
    }
    return parts.length ? h("div", {class: "detail-more"}, parts) : null;
  }

  // ---- completing a case: place, details, specialty, hospital ---------------------------

  function specialtySelect(id, value) {
    return h("select", {id, "data-field": "specialty"},
      h("option", {value: ""}, t("any_emergency")),
      SPECIALTIES.map((s) => h("option", {value: s.code, selected: s.code === value}, s.label)));
  }

  function wardSelect(value) {
    const byDistrict = new Map();
    for (const w of S.wards) {
      if (!byDistrict.has(w.district_name)) byDistrict.set(w.district_name, []);
      byDistrict.get(w.district_name).push(w);
    }
    return h("select", {id: "case-ward", "data-field": "ward_code"},
      h("option", {value: ""}, "—"),
      [...byDistrict.entries()].map(([district, wards]) => h("optgroup", {label: district},
        wards.map((w) => h("option", {value: w.code, selected: w.code === value}, w.name)))));
  }

  function openForm(ticket) {
    S.form = {
      ticketId: ticket ? ticket.id : null,
      version: ticket ? ticket.version : null,
      lat: ticket ? ticket.lat : null,
      lon: ticket ? ticket.lon : null,
      source: ticket && ticket.lat !== null ? "saved" : null,
      specialty: ticket && ticket.routing ? ticket.routing.specialty || "" : "",
      preview: null,
      chosen: null,       // a hospital the dispatcher picked instead of the first
      dirty: false,
      dom: null,
    };
    if (!ticket) { S.selected = null; S.detail = null; S.options = null; renderList(); }
    renderForm();
    renderMap();
    map.pick((lat, lon) => setLocation(lat, lon, "map"),
             S.form.lat !== null ? {lat: S.form.lat, lon: S.form.lon} : null);
    const first = el.detail.querySelector("#case-description");
    if (first) first.focus();
  }

  function closeForm() {
    if (!S.form) return;
    S.form = null;
    map.pick(null);
  }

  function renderForm() {
    const f = S.form;
    if (f.dom) {  // built once per case: events must not wipe what the dispatcher is typing
      if (!el.detail.contains(f.dom.root)) fill(el.detail, f.dom.root);
      updateLocationView();
      return;
    }
    const ticket = f.ticketId ? (S.detail || S.cases.get(f.ticketId)) : null;
    const input = (id, field, value, attrs) => h("input", {id, "data-field": field, value: value || "",
                                                           type: "text", ...(attrs || {})});
    const phone = ticket ? null : input("case-phone", "caller_phone", "", {type: "tel", autocomplete: "off"});
    const name = input("case-name", "caller_name", ticket && ticket.caller_name, {maxlength: 200});
    const description = h("textarea", {id: "case-description", "data-field": "description", rows: 3,
                                       maxlength: 4000}, ticket ? ticket.description : "");
    const specialty = specialtySelect("case-specialty", f.specialty);
    const address = input("case-address", "address", ticket && ticket.address, {maxlength: 500});
    const ward = wardSelect(ticket ? ticket.ward_code : null);
    const findButton = h("button", {type: "button", class: "btn small"}, t("find_address"));
    const where = h("p", {class: "where-now", id: "case-where", "aria-live": "polite", "data-field": "lat"});
    const coords = h("span", {class: "coords mono", id: "case-coords"});
    const options = h("ol", {class: "options", id: "case-options", "aria-live": "polite"});
    const errorBox = h("div", {class: "form-error", role: "alert", hidden: true});
    // A case already with a hospital: saving corrects its details and sends it nowhere; sending
    // it elsewhere is the second, deliberate button.
    const save = ticket && ticket.hospital
      ? h("button", {type: "button", class: "btn primary big", id: "case-save"}, t("save_details")) : null;
    const submit = h("button", {type: "submit", class: save ? "btn big" : "btn primary big", id: "case-submit"},
                     t("dispatch"));
    const form = h("form", {class: "case-form", novalidate: true, onsubmit: (ev) => {
      ev.preventDefault();
      submitForm(form, submit, errorBox);
    }},
      h("header", {class: "detail-head"},
        h("h2", {id: "detail-title"}, ticket ? t("complete_title").replace("{code}", H.code(ticket)) : t("new_case")),
        h("button", {type: "button", class: "btn small", onclick: () => {
          closeForm();
          renderDetail();
        }}, t("close_form"))),
      ticket ? h("p", {class: "caller-line"}, t("caller"), ": ",
                 h("strong", {class: "mono"}, ticket.caller_phone || t("unknown_number")),
                 " · ", t("called"), " ", timeSec(ticket.created_at)) : null,
      h("div", {class: "form-grid"},
        phone ? h("div", null, h("label", {for: "case-phone"}, t("caller_phone")), phone) : null,
        h("div", null, h("label", {for: "case-name"}, t("caller_name")), name),
        h("div", {class: "span2"}, h("label", {for: "case-description"}, t("what_happened")), description),
        h("div", null, h("label", {for: "case-specialty"}, t("specialty")), specialty),
        h("div", null, h("label", {for: "case-ward"}, t("ward")), ward),
        h("div", {class: "span2"}, h("label", {for: "case-address"}, t("address")),
          h("div", {class: "with-button"}, address, findButton))),
      h("div", {class: "place"}, h("span", {class: "pin", "aria-hidden": "true"}), where, coords),
      h("h3", null, t("nearest_hospitals")),
      options,
      errorBox,
      h("div", {class: "form-actions" + (save ? " two" : "")}, save, submit),
      // Quiet, below the dispatch button: never the first thing the eye or the Tab key meets.
      ticket && (ticket.allowed_actions || []).includes("cancel")
        ? h("p", {class: "form-aside"},
            h("button", {type: "button", class: "btn small", id: "case-nuisance",
                         onclick: (ev) => cancelAsNuisance(ticket, ev.currentTarget, errorBox)},
              t("cancel_as_nuisance"))) : null);
    if (save) save.addEventListener("click", () => saveDetails(form, save, errorBox));
    const changed = () => { f.dirty = true; };
    for (const node of [name, description, address]) node.addEventListener("input", changed);
    if (phone) phone.addEventListener("input", changed);
    specialty.addEventListener("change", () => { f.specialty = specialty.value; f.chosen = null; changed(); preview(); });
    ward.addEventListener("change", () => {
      changed();
      const w = S.wardByCode.get(ward.value);
      if (w && w.lat !== null && f.source !== "map") setLocation(w.lat, w.lon, "ward");
    });
    findButton.addEventListener("click", () => findAddress(address, ward, errorBox, form));
    address.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); findAddress(address, ward, errorBox, form); }
    });
    f.dom = {root: form, where, coords, options, submit, ward, address, name, description, phone, specialty, errorBox};
    fill(el.detail, form);
    updateLocationView();
    if (f.lat !== null) preview();
    if (f.lat !== null && !ward.value) guessWard(f.lat, f.lon);
  }

  function updateLocationView() {
    const f = S.form;
    if (!f || !f.dom) return;
    const source = {map: t("from_map"), ward: t("from_ward"), saved: t("from_saved")}[f.source];
    fill(f.dom.where, f.lat === null ? t("place_hint") : source);
    f.dom.where.classList.toggle("missing", f.lat === null);
    fill(f.dom.coords, f.lat === null ? "" : `${f.lat.toFixed(5)}, ${f.lon.toFixed(5)}`);
    const best = f.preview && f.preview[0];
    const chosen = f.chosen ? (f.preview || []).find((o) => o.code === f.chosen) : best;
    const label = f.dom.root.querySelector("#case-save") ? "redispatch_to" : "dispatch_to";
    fill(f.dom.submit, chosen ? t(label).replace("{name}", chosen.name) : t("dispatch"));
    f.dom.submit.disabled = f.lat === null;
  }

  function setLocation(lat, lon, source) {
    const f = S.form;
    if (!f) return;
    f.lat = lat;
    f.lon = lon;
    f.source = source;
    f.dirty = true;
    f.chosen = null;
    if (source !== "map") map.pick((a, b) => setLocation(a, b, "map"), {lat, lon});
    updateLocationView();
    preview();
    if (source === "map" && f.dom && !f.dom.ward.value) guessWard(lat, lon);
  }

  /* The ward of a clicked point, from the routing engine (which knows the boundaries). */
  async function guessWard(lat, lon) {
    try {
      const answer = await api("POST", "/api/routing/preview", {line: "1022", lat, lon});
      const code = answer.decision && answer.decision.location && answer.decision.location.ward_code;
      if (code && S.form && S.form.dom && !S.form.dom.ward.value) S.form.dom.ward.value = code;
    } catch (e) { /* a guess only: the dispatcher can choose the ward */ }
  }

  async function findAddress(address, ward, errorBox, form) {
    const text = address.value.trim();
    if (!text) return;
    await act(null, errorBox, form, async () => {
      const answer = await api("POST", "/api/routing/preview", {line: "1022", address: text});
      const location = answer.decision && answer.decision.location;
      const w = location && location.ward_code && S.wardByCode.get(location.ward_code);
      if (!w) {
        errorBox.hidden = false;
        fill(errorBox, t("address_unknown"));
        return;
      }
      ward.value = w.code;
      if (w.lat !== null) setLocation(w.lat, w.lon, "ward");
    });
  }

  let previewTimer = null;
  function preview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 120);
  }

  async function runPreview() {
    const f = S.form;
    if (!f || f.lat === null) return;
    const asked = {line: "115", lat: f.lat, lon: f.lon};
    if (f.specialty) asked.specialty = f.specialty;
    let answer;
    try {
      answer = await api("POST", "/api/routing/preview", asked);
    } catch (e) {
      if (f.dom) H.explain(e, f.dom.errorBox);
      return;
    }
    if (S.form !== f) return;
    f.preview = answer.hospitals || [];
    const first = f.preview[0];
    fill(f.dom.options, f.preview.length ? f.preview.map((o, i) => h("li", {class: "option"},
      h("label", {class: "opt-pick"},
        h("input", {type: "radio", name: "case-hospital", value: o.code,
                    checked: f.chosen ? f.chosen === o.code : i === 0,
                    onchange: () => { f.chosen = o.code === first.code ? null : o.code; f.dirty = true; updateLocationView(); }}),
        h("span", {class: "opt-name"}, o.name)),
      h("span", {class: "opt-eta mono"}, etaText(o)))) : h("li", {class: "empty"}, t("no_hospital_left")));
    updateLocationView();
    map.setHospitals(S.hospitals, f.chosen || (first && first.code));
    map.showRoute({lat: f.lat, lon: f.lon},
                  S.hospitalByCode.get(f.chosen || (first && first.code)),
                  first ? etaText(f.chosen ? f.preview.find((o) => o.code === f.chosen) : first) : null);
  }

  function formDetails() {
    const d = S.form.dom;
    const details = {description: d.description.value.trim()};
    if (d.name.value.trim()) details.caller_name = d.name.value.trim();
    if (d.address.value.trim()) details.address = d.address.value.trim();
    if (d.ward.value) details.ward_code = d.ward.value;
    return details;
  }

  /* Save the details (and the place) of a dispatched case without dispatching it again. */
  async function saveDetails(form, button, errorBox) {
    const f = S.form;
    const body = {...formDetails(), version: f.version};
    if (f.lat !== null) { body.lat = f.lat; body.lon = f.lon; }
    await act(button, errorBox, form, async () => {
      let ticket;
      try {
        ticket = await api("PATCH", `/api/tickets/${f.ticketId}`, body);
      } catch (error) {
        if (error.status === 409) f.version = (await api("GET", `/api/tickets/${f.ticketId}`)).version;
        throw error;
      }
      H.toast(t("saved"), "ok");
      closeForm();
      upsert(ticket);
      await loadDetail(ticket.id);
    });
  }

  async function submitForm(form, submit, errorBox) {
    const f = S.form;
    const d = f.dom;
    if (f.lat === null) {
      errorBox.hidden = false;
      fill(errorBox, t("place_first"));
      return;
    }
    const details = formDetails();
    await act(submit, errorBox, form, async () => {
      let id = f.ticketId;
      if (id === null) {
        const body = {line: "115", channel: "phone", ...details};
        if (d.phone.value.trim()) body.caller_phone = d.phone.value.trim();
        const created = await api("POST", "/api/tickets", body);
        id = f.ticketId = created.id;
        f.version = created.version;
        S.selected = id;
        upsert(created);
      }
      const body = {...details, lat: f.lat, lon: f.lon, version: f.version};
      if (f.specialty) body.specialty = f.specialty;
      if (f.chosen) body.hospital = f.chosen;
      let ticket;
      try {
        ticket = await api("POST", `/api/tickets/${id}/dispatch`, body);
      } catch (error) {
        if (error.status === 409) {  // changed meanwhile: keep what was typed, act on the fresh version
          const fresh = await api("GET", `/api/tickets/${id}`);
          f.version = fresh.version;
          S.detail = fresh;
        }
        throw error;
      }
      for (const call of S.calls.values()) if (call.ticketId === id) call.done = true;
      renderIncoming();
      H.toast(t("dispatched_to").replace("{code}", H.code(ticket))
        .replace("{name}", ticket.hospital ? ticket.hospital.name : "—"), "ok");
      closeForm();
      S.selected = id;
      upsert(ticket);
      await loadDetail(id);
    });
  }

  // ---- the map -------------------------------------------------------------------------

  const map = window.HotlineMap.create(el.map, {tileUrl: page.tile_url, onCase: (id) => select(id)});

  function renderMap() {
    const ticket = S.detail;
    map.setCases([...S.cases.values()], S.selected);
    if (S.form) {  // the form draws its own line and hospital as the dispatcher places the patient
      if (!S.form.preview) { map.setHospitals(S.hospitals, null); map.showRoute(null, null); }
      return;
    }
    map.setHospitals(S.hospitals, ticket && ticket.hospital ? ticket.hospital.code : null);
    const option = currentOption();
    if (ticket && ticket.lat !== null && ticket.hospital && option) {
      map.showRoute({lat: ticket.lat, lon: ticket.lon}, option, etaText(option));
    } else {
      map.showRoute(null, null);
      if (ticket && ticket.lat !== null) map.focus(ticket.lat, ticket.lon);
    }
  }

  // ---- live events ---------------------------------------------------------------------

  function isSelected(ticket) { return ticket && S.selected === ticket.id; }

  H.live({
    "ticket.created": ({ticket}) => upsert(ticket),
    "ticket.updated": ({ticket, action}) => {
      if (!ticket || ticket.line !== "115") return;
      if (action === "accept") {
        flash(ticket.id, "ok");
        H.toast(t("ack_toast").replace("{code}", H.code(ticket))
          .replace("{name}", ticket.hospital ? ticket.hospital.name : ""), "ok");
      }
      upsert(ticket);
      if (isSelected(ticket)) reloadDetailSoon();
    },
    "dispatch.escalated": (payload) => {
      const ticket = payload.ticket;
      flash(ticket.id, "warn");
      const message = payload.to_hospital
        ? t("redispatch_toast").replace("{code}", H.code(ticket)).replace("{from}", hospitalName(payload.from_hospital))
          .replace("{to}", hospitalName(payload.to_hospital))
        : t("no_hospital_toast").replace("{code}", H.code(ticket)).replace("{from}", hospitalName(payload.from_hospital));
      H.toast(message, payload.to_hospital ? "info" : "error");
      if (!payload.to_hospital) H.alert(t("needs_dispatcher"));
      upsert(ticket);
      if (isSelected(ticket)) reloadDetailSoon();
    },
    "dispatch.late_acknowledgement": ({ticket, hospital}) => {
      H.toast(t("late_ack_toast").replace("{code}", H.code(ticket)).replace("{name}", hospitalName(hospital)), "info");
      if (isSelected(ticket)) reloadDetailSoon();
    },
    "call.incoming": (payload) => {
      if (payload.line !== "115") return;
      S.calls.set(payload.call_sid, {sid: payload.call_sid, from: payload.from, ticketId: payload.ticket.id,
                                     history: (payload.history || []).length,
                                     nuisance: payload.nuisance_count_90d || 0, ended: false, done: false});
      upsert(payload.ticket);
      renderIncoming();
      H.alert(t("incoming_call"));
      if (!S.form) select(payload.ticket.id, true);
    },
    "call.ended": (payload) => {
      const call = S.calls.get(payload.call_sid);
      if (call) { call.ended = true; renderIncoming(); }
      if (payload.ticket) upsert(payload.ticket);
    },
    "sla.warning": ({ticket}) => upsert(ticket),
    "sla.breached": ({ticket}) => upsert(ticket),
    // The directory changed in /admin (a hospital added, closed, renamed): read it again.
    "config.changed": ({entity}) => {
      // A hospital marked itself full (or available again), or an administrator changed one:
      // redraw the map, and re-rank the open case's hospitals.
      loadHospitals().then(renderMap).catch(() => {});
      if (entity === "hospital" && S.detail) reloadDetailSoon();
    },
  }, refetch);

  // A safety net only: every availability change also arrives as config.changed.
  setInterval(() => { loadHospitals().then(renderMap).catch(() => {}); }, 30000);

  document.getElementById("new-case").addEventListener("click", () => {
    if (S.form && S.form.dirty && !window.confirm(t("discard_form"))) return;
    closeForm();
    openForm(null);
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && S.form && !S.form.dirty) { closeForm(); renderDetail(); }
  });

  renderDetail();
  loadStatic().catch((e) => H.explain(e));
})();
