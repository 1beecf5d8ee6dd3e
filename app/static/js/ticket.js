/* The ticket page (/tickets/ID), and the words for a ticket shared with the department
 * console: the history in sentences, names for codes, phones, clocks.
 *
 * Everything the server sends is shown through text nodes (Hotline.h); a link is made only
 * from an http(s) URL. The page is rebuilt from the API on every (re)connection and after
 * every event about this ticket; SMS delivery reports arrive without an event, so the list
 * of messages is re-read while one is still on its way.
 */
(function () {
  "use strict";
  const H = window.Hotline;
  const {h, t, fill} = H;
  const page = H.config.page || {};
  const names = page.names || {contact_points: {}, categories: {}, hospitals: {}, wards: {}};
  const english = H.config.locale === "en";

  /* A translated sentence with {name} slots filled in (as text, never as markup). */
  function fmt(key, values) {
    return t(key).replace(/\{(\w+)\}/g, (whole, name) =>
      values && values[name] !== undefined && values[name] !== null ? String(values[name]) : whole);
  }

  const cpName = (code) => (code ? names.contact_points[code] || code : "—");
  const categoryName = (code) => (code ? names.categories[code] || code : t("no_category"));
  const hospitalName = (code) => (code ? names.hospitals[code] || code : "—");
  const wardName = (code) => (code ? names.wards[code] || code : null);
  const statusName = (s) => (H.config.labels.status || {})[s] || s;

  function destination(data) {
    if (!data) return "—";
    if (typeof data === "string") return cpName(data);
    if (data.contact_point) return cpName(data.contact_point);
    if (data.hospital) return hospitalName(data.hospital);
    return "—";
  }

  /* +84912345678 → 0912 345 678 (how people here read numbers); anything else as it is. */
  function phone(value) {
    if (!value) return t("no_phone");
    const m = /^\+84(\d+)$/.exec(value);
    if (!m) return value;
    const national = "0" + m[1];
    return national.length === 10 ? `${national.slice(0, 4)} ${national.slice(4, 7)} ${national.slice(7)}`
      : national;
  }

  /* Could an SMS reach this number? Vietnamese mobiles are +84 followed by 3, 5, 7, 8 or 9
   * and nine digits in all; the server decides for real (landlines get nothing). */
  function looksMobile(value) { return /^\+84[35789]\d{8}$/.test(value || ""); }

  function safeUrl(url) { return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null; }

  function percent(x) { return `${Math.round((Number(x) || 0) * 100)} %`; }

  function slaBadge(state) { return h("span", {class: "sla " + state}, t("sla_" + state)); }

  /* "12 min", "3 h 05 min", "2 d 4 h": how long since ``iso``. */
  function age(iso) {
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return fmt("age_days", {d, h: hr});
    if (hr > 0) return fmt("age_hours", {h: hr, m: String(m).padStart(2, "0")});
    return fmt("age_minutes", {n: m});
  }
  function ageEl(iso) { return h("span", {class: "age", dataset: {since: iso}, title: H.dateTime(iso)}, age(iso)); }
  setInterval(() => document.querySelectorAll("[data-since]").forEach((el) => {
    el.textContent = age(el.dataset.since);
  }), 30000);

  // ---- the history in words -----------------------------------------------------------

  const labelled = (key, text) => (text ? {key, text} : null);
  const reason = (d) => labelled("ev_reason", d.reason);

  /* action -> data -> {title, body?, extra?, tag?, link?, changes?} */
  const DESCRIBE = {
    created: (d) => ({title: fmt("ev_created", {channel: t("channel_" + d.channel), line: d.line})}),
    assign: (d) => ({title: d.previous ? fmt("ev_assign_previous", {previous: destination(d.previous),
                                                                     destination: destination(d)})
                                       : fmt("ev_assign", {destination: destination(d)}),
                     extra: reason(d)}),
    accept: () => ({title: t("ev_accept")}),
    comment: (d) => (d.from_caller ? {title: t("ev_from_caller"), body: d.body, tag: "caller"}
      : d.internal === false ? {title: t("ev_to_caller"), body: d.body, tag: "sms"}
        : {title: t("ev_note"), body: d.body, tag: "internal"}),
    transfer: (d) => ({title: fmt("ev_transfer", {previous: cpName(d.previous), destination: cpName(d.contact_point)}),
                       extra: reason(d), tag: "transfer"}),
    resolve: (d) => ({title: t("ev_resolve"), extra: labelled("ev_answer", d.resolution), tag: "resolve"}),
    reopen: (d) => ({title: t("ev_reopen"), extra: reason(d), tag: "warn"}),
    close: () => ({title: t("ev_close")}),
    cancel: (d) => ({title: t("ev_cancel"), extra: reason(d)}),
    ask_caller: (d) => ({title: t("ev_ask_caller"), extra: labelled("ev_question", d.body), tag: "sms"}),
    resume: (d) => ({title: t("ev_resume"), extra: reason(d)}),
    caller_replied: () => ({title: t("ev_caller_replied"), tag: "caller"}),
    call_received: (d) => ({title: fmt("ev_call_received", {caller: phone(d.caller)})}),
    category_set: (d) => ({title: fmt("ev_category_set", {category: categoryName(d.category)})}),
    callback_needed: (d) => ({title: fmt("ev_callback_needed", {status: callStatus(d.status)}), tag: "warn"}),
    voicemail: (d) => ({title: fmt("ev_voicemail", {duration: H.duration(d.duration || 0)}),
                        link: safeUrl(d.recording_url)}),
    called_back: () => ({title: t("ev_called_back")}),
    sla_warning: (d) => ({title: fmt("ev_sla_warning", {clock: t("clock_" + d.clock), due: H.dateTime(d.due)}),
                          tag: "warn"}),
    sla_breached: (d) => ({title: fmt("ev_sla_breached", {clock: t("clock_" + d.clock), due: H.dateTime(d.due)}),
                           tag: "late"}),
    late_acknowledgement: (d) => ({title: fmt("ev_late_acknowledgement", {hospital: hospitalName(d.hospital),
                                                                          current: hospitalName(d.current_hospital)}),
                                   tag: "warn"}),
    escalated: (d) => ({title: fmt("ev_escalated", {failures: d.failures}), extra: reason(d), tag: "late"}),
    update: (d) => ({title: t("ev_update"), changes: d.changes || {}}),
    survey_answer: (d) => ({title: t(d.satisfied ? "ev_survey_yes" : "ev_survey_no"),
                            tag: d.satisfied ? "resolve" : "warn"}),
    anonymised: () => ({title: t("ev_anonymised")}),
  };
  const callStatus = (status) => (status ? t("call_" + status) : "—");

  function valueText(field, value) {
    if (value === null || value === undefined || value === "") return t("ev_empty");
    if (field === "category") return categoryName(value);
    if (field === "ward_code") return wardName(value) || value;
    if (field === "priority") return H.priorityLabel(value);
    if (field === "caller_phone") return phone(value);
    return String(value);
  }

  function describe(event) {
    const d = event.data || {};
    const fn = DESCRIBE[event.action];
    if (fn) return fn(d);
    // An action this page does not know yet: its facts as "key: value" lines.
    return {title: fmt("ev_other", {action: event.action}),
            facts: Object.entries(d).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)};
  }

  const TAG_TEXT = {internal: "ev_internal_badge", sms: "ev_sms_badge", caller: "ev_caller_badge"};

  function eventItem(event) {
    const d = event.data || {};
    const what = describe(event);
    const tagKey = TAG_TEXT[what.tag];
    const statusLine = d.from && d.to && d.from !== d.to
      ? h("div", {class: "ev-status"}, `${t("ev_status_change")}: `, H.statusBadge(d.from), " → ", H.statusBadge(d.to))
      : null;
    const changes = what.changes ? h("ul", {class: "ev-changes"}, Object.entries(what.changes).map(([field, c]) =>
      h("li", {}, h("span", {class: "muted"}, `${t("field_" + field)}: `),
        h("del", {}, valueText(field, c && c.from)), " → ", h("ins", {}, valueText(field, c && c.to))))) : null;
    return h("li", {class: `ev ev-${event.action}${what.tag ? " tag-" + what.tag : ""}`, dataset: {action: event.action}},
      h("div", {class: "ev-meta"},
        h("time", {datetime: event.at}, H.dateTime(event.at)), " · ",
        h("span", {class: "ev-actor"}, event.actor || t("system")),
        tagKey ? h("span", {class: "ev-tag " + what.tag}, t(tagKey)) : null),
      h("div", {class: "ev-title"}, what.title),
      what.body ? h("blockquote", {class: "ev-body"}, what.body) : null,
      what.extra ? h("div", {class: "ev-extra"}, h("span", {class: "muted"}, `${t(what.extra.key)}: `),
        h("span", {class: "ev-text"}, what.extra.text)) : null,
      what.link ? h("div", {}, h("a", {href: what.link, target: "_blank", rel: "noopener noreferrer"},
        t("ev_recording"))) : null,
      changes,
      what.facts && what.facts.length ? h("ul", {class: "ev-changes"}, what.facts.map((f) => h("li", {}, f))) : null,
      statusLine);
  }

  /* The timeline of ``events`` into ``list``: oldest first, or the newest ``limit`` first. */
  function renderTimeline(list, events, options) {
    const opts = options || {};
    let shown = events.slice();
    if (opts.newestFirst) shown.reverse();
    if (opts.limit) shown = shown.slice(0, opts.limit);
    fill(list, shown.length ? shown.map(eventItem) : h("li", {class: "empty"}, t("no_history")));
  }

  /* How a clock stands: a countdown to its due time, or why it is not running. */
  const DONE = {first: new Set(["in_progress", "resolved", "closed"]), resolution: new Set(["resolved", "closed"])};

  /* How a clock stands: a countdown to its due time, paused, done, or not running. */
  function clockView(ticket, due, warnSeconds, which) {
    if (due) {
      return h("span", {class: "clock"}, H.countdown(due, warnSeconds || 3600),
        h("span", {class: "muted due-at"}, ` ${t("due_at")} ${H.dateTime(due)}`));
    }
    if (ticket.waiting_on_caller && !DONE.resolution.has(ticket.status)) return h("span", {class: "muted"}, t("paused"));
    if ((DONE[which] || new Set()).has(ticket.status)) return h("span", {class: "clock-done"}, "✓ ", t("clock_done"));
    return h("span", {class: "muted"}, t("stopped"));
  }

  function place(ticket) {
    const parts = [ticket.address, wardName(ticket.ward_code)].filter(Boolean);
    return parts.length ? parts.join(" · ") : t("unknown_place");
  }

  const TicketView = {fmt, cpName, categoryName, hospitalName, wardName, statusName, destination, phone,
                      looksMobile, safeUrl, percent, slaBadge, age, ageEl, describe, eventItem,
                      renderTimeline, clockView, place};
  window.TicketView = TicketView;

  // ---- the page ---------------------------------------------------------------------------

  const root = document.getElementById("ticket-page");
  if (!root) return;
  const ticketId = Number(root.dataset.ticketId);
  const state = {ticket: page.ticket || null, messages: null, calls: null, gone: false};

  function kv(rows) {
    return h("dl", {class: "kv"}, rows.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  function renderHead(tk) {
    const head = document.getElementById("t-head");
    const first = tk.line === "115" ? "clock_acknowledgement" : "clock_first_response";
    fill(head,
      h("div", {class: "t-title"},
        h("h1", {}, h("span", {class: "muted"}, t("ticket") + " "), h("span", {class: "mono", id: "t-code"}, H.code(tk))),
        H.statusBadge(tk.status),
        h("span", {class: "pill line-" + tk.line}, tk.line),
        h("span", {class: "pill prio-" + tk.priority}, H.priorityLabel(tk.priority)),
        slaBadge(tk.sla_state),
        tk.waiting_on_caller ? h("span", {class: "pill waiting"}, t("waiting_on_caller")) : null,
        tk.callback_needed ? h("span", {class: "pill late"}, t("callback_needed")) : null),
      h("div", {class: "t-clocks", role: "group", "aria-label": t("clocks")},
        h("div", {class: "clock-box"}, h("span", {class: "clock-name"}, t(first)),
          clockView(tk, tk.first_response_due, tk.line === "115" ? 20 : 3600, "first")),
        h("div", {class: "clock-box"}, h("span", {class: "clock-name"}, t("clock_resolution")),
          clockView(tk, tk.resolution_due, 3600 * 4, "resolution")),
        h("div", {class: "clock-box"}, h("span", {class: "clock-name"}, t("created")),
          h("span", {}, H.dateTime(tk.created_at), " · ", ageEl(tk.created_at)))));
    document.title = `${t("ticket")} ${H.code(tk)}`;
  }

  function renderRequest(tk) {
    const handler = tk.contact_point ? cpName(tk.contact_point.code)
      : tk.hospital ? hospitalName(tk.hospital.code) : t("not_assigned");
    const coords = tk.lat !== null && tk.lon !== null ? `${tk.lat.toFixed(5)}, ${tk.lon.toFixed(5)}` : null;
    fill(document.getElementById("t-request"),
      h("p", {class: "desc", id: "t-description"}, tk.description || "—"),
      kv([
        [t("category"), categoryName(tk.category)],
        [t("caller"), h("span", {}, tk.caller_name || h("span", {class: "muted"}, t("anonymous")), " · ",
          h("span", {class: "phone"}, phone(tk.caller_phone)))],
        [t("place"), place(tk)],
        coords ? [t("coordinates"), h("span", {class: "mono"}, coords)] : null,
        [t("channel"), t("channel_" + tk.channel)],
        [t("handled_by"), handler],
        [t("updated"), H.dateTime(tk.updated_at)],
        tk.resolution ? [t("resolution"), h("span", {class: "answer", id: "t-resolution"}, tk.resolution)] : null,
        tk.satisfaction ? [t("satisfaction"), t(tk.satisfaction === 1 ? "satisfied" : "not_satisfied")] : null,
      ]));
  }

  function reasonText(r) { return (english ? r.en : r.vi) || r.vi || r.en || r.code; }

  function lastRoutingEvent(events) {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e.action === "assign" || e.action === "transfer") return e;
    }
    return null;
  }

  function renderRouting(tk) {
    const box = document.getElementById("t-routing");
    const r = tk.routing || {};
    const parts = [];
    if (r.hospitals) {
      parts.push(h("h3", {}, t("hospitals_ranked")), h("ol", {class: "plain"}, r.hospitals.map((c) =>
        h("li", {}, h("strong", {}, c.name || hospitalName(c.code)),
          h("span", {class: "muted"}, ` · ${c.eta_minutes} ${t("minutes")} · ${c.distance_km} ${t("km")}`),
          c.reasons && c.reasons.length ? h("div", {class: "muted small"}, c.reasons.map(reasonText).join("; ")) : null))));
    } else if (r.contact_point !== undefined) {
      parts.push(kv([
        [t("proposed"), h("strong", {}, r.contact_point ? cpName(r.contact_point) : "—")],
        [t("confidence"), h("span", {class: "meter"}, h("span", {class: "track"},
          h("span", {class: "bar", style: {width: `${Math.round((Number(r.confidence) || 0) * 100)}%`}})),
          h("span", {class: "meter-text"}, percent(r.confidence),
            r.needs_confirmation ? h("span", {class: "muted"}, ` · ${t("needs_confirmation")}`) : null))],
        r.category ? [t("category"), categoryName(r.category)] : null,
      ]));
      parts.push(h("h3", {}, t("reasons")),
        h("ul", {class: "reasons"}, (r.reasons || []).map((x) => h("li", {}, reasonText(x)))));
      parts.push(h("h3", {}, t("alternatives")), (r.alternatives || []).length
        ? h("ul", {class: "reasons"}, r.alternatives.map((a) => h("li", {},
          h("strong", {}, cpName(a.contact_point)), h("span", {class: "muted"}, ` · ${percent(a.confidence)}`),
          a.reason ? h("div", {class: "muted small"}, reasonText(a.reason)) : null)))
        : h("p", {class: "muted"}, t("no_alternatives")));
    } else {
      parts.push(h("p", {class: "muted"}, t("routing_none")));
    }
    const routed = lastRoutingEvent(tk.events || []);
    if (routed) {
      parts.push(h("div", {class: "routed"}, h("h3", {}, t("latest_assignment")), h("ol", {}, eventItem(routed))));
    }
    fill(box, parts);
  }

  function renderCalls(calls) {
    const box = document.getElementById("t-calls");
    if (!calls || !calls.length) { fill(box, h("p", {class: "muted"}, t("no_calls"))); return; }
    fill(box, calls.map((c) => {
      const url = safeUrl(c.recording_url);
      return h("div", {class: "call", dataset: {sid: c.sid}}, kv([
        [t("call_sid"), h("span", {class: "mono small"}, c.sid)],
        [t("call_status"), callStatus(c.status)],
        [t("call_started"), H.dateTime(c.started_at)],
        [t("call_duration"), c.duration !== null ? H.duration(c.duration) : "—"],
        [t("queue_time"), c.queue_time !== null ? H.duration(c.queue_time) : "—"],
        c.voicemail ? [t("voicemail"), url
          ? h("a", {href: url, target: "_blank", rel: "noopener noreferrer", id: "recording-link"},
            t("open_recording"), c.recording_duration ? ` (${H.duration(c.recording_duration)})` : "")
          : "—"] : null,
        c.callback_done_at ? [t("called_back_at"), H.dateTime(c.callback_done_at)]
          : c.callback_needed ? [t("callback_needed"), "✔"] : null,
      ]));
    }));
  }

  const DELIVERY_CLASS = {delivered: "ok", read: "ok", sent: "info", accepted: "info", sending: "info",
                          queued: "muted", failed: "bad", undelivered: "bad", unknown: "warn"};
  const SETTLED = new Set(["delivered", "read", "failed", "undelivered", "unknown"]);

  function renderMessages(messages) {
    const list = document.getElementById("t-messages");
    document.getElementById("sms-count").textContent = messages && messages.length ? `· ${messages.length}` : "";
    if (!messages || !messages.length) { fill(list, h("li", {class: "empty"}, t("no_messages"))); return; }
    fill(list, messages.map((m) => h("li", {class: "sms", dataset: {status: m.status, kind: m.kind}},
      h("div", {class: "sms-meta"},
        h("strong", {}, t("kind_" + m.kind)), " · ", h("time", {datetime: m.created_at}, H.dateTime(m.created_at)),
        h("span", {class: "delivery " + (DELIVERY_CLASS[m.status] || "muted"), dataset: {status: m.status}},
          t("delivery_" + m.status))),
      h("div", {class: "sms-to muted"}, `${t("sent_to")}: `, h("span", {class: "phone"}, phone(m.to)),
        m.attempts > 1 ? ` · ${m.attempts} ${t("attempts")}` : ""),
      h("p", {class: "sms-body"}, m.body),
      m.error ? h("div", {class: "field-error"}, m.error) : null)));
  }

  function render() {
    const tk = state.ticket;
    if (!tk) return;
    renderHead(tk);
    renderRequest(tk);
    renderRouting(tk);
    const events = tk.events || [];
    document.getElementById("history-count").textContent = events.length ? `· ${events.length}` : "";
    renderTimeline(document.getElementById("t-history"), events);
    if (state.calls) renderCalls(state.calls);
    if (state.messages) renderMessages(state.messages);
  }

  let pollTimer = null;
  async function refetch() {
    if (state.gone) return;
    try {
      const base = `/api/tickets/${ticketId}`;
      const [ticket, messages, calls] = await Promise.all([
        H.api("GET", base), H.api("GET", `${base}/messages`), H.api("GET", `${base}/calls`)]);
      Object.assign(state, {ticket, messages: messages.items, calls: calls.items});
      render();
    } catch (e) {
      if (e instanceof H.ApiError && e.status === 404) {
        state.gone = true;
        fill(document.getElementById("t-head"), h("p", {class: "form-error", role: "alert"}, t("not_found")));
        return;
      }
      H.explain(e);
    }
    // Delivery reports change no ticket (no event): look again while an SMS is on its way.
    clearTimeout(pollTimer);
    if ((state.messages || []).some((m) => !SETTLED.has(m.status))) pollTimer = setTimeout(refetch, 10000);
  }

  let pending = null;
  function soon() { clearTimeout(pending); pending = setTimeout(refetch, 200); }
  const mine = (payload) => payload && payload.ticket && payload.ticket.id === ticketId;

  render();
  refetch();
  H.live({
    "ticket.updated": (p) => { if (mine(p)) soon(); },
    "sla.warning": (p) => { if (mine(p)) soon(); },
    "sla.breached": (p) => { if (mine(p)) soon(); },
  }, refetch);
})();
