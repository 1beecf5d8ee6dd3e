/* The department console: the contact point's queue (live), and the selected ticket in a
 * side panel with the actions the server says this user may take now.
 *
 * State comes from the API and is rebuilt on every (re)connection and every minute (an event
 * about a ticket a colleague handed elsewhere goes to its new room, not ours). Socket events
 * update rows at once. Actions send the version on screen: a 409 shows the server's message
 * and reloads the ticket; a 400/422 puts each field's error next to the field; nothing on
 * screen changes unless the server accepted it. Typed text survives every refresh.
 */
(function () {
  "use strict";
  const H = window.Hotline;
  const V = window.TicketView;
  const {h, t, fill} = H;
  const page = H.config.page || {};
  const mine = page.contact_point ? page.contact_point.code : null;
  const OPEN = new Set(["assigned", "in_progress"]);
  const PAGE_SIZE = 100, MAX_PAGES = 10;

  const el = (id) => document.getElementById(id);
  const rowsBody = el("queue-rows"), detailBox = el("detail");
  const filters = {status: el("f-status"), q: el("f-q"), overdue: el("f-overdue")};

  const state = {
    open: new Map(),        // id -> ticket: every open ticket of the contact point
    resolved: new Map(),    // id -> ticket: loaded when the "Resolved" view is chosen
    alerts: new Map(),      // id -> "warning" | "breached": rows to highlight until opened
    fresh: new Set(),       // ids that arrived live, highlighted briefly
    selected: null,         // ticket id in the side panel
    detail: null,           // that ticket as the API gave it to this user (with events)
    actionsKey: null,       // what the action forms were built for (rebuilt only when it changes)
    tab: {},                // id -> chosen action tab
    drafts: {},             // id -> {field: text}: what the user typed, kept across refreshes
    canned: {},             // category -> [responses]
    contactPoints: null,    // active contact points, for handing a ticket over
  };

  // ---- the queue ---------------------------------------------------------------------------

  function nextDue(tk) {
    if (tk.waiting_on_caller) return null;
    return tk.status === "assigned" ? tk.first_response_due || tk.resolution_due : tk.resolution_due;
  }

  function overdue(tk) {
    const due = nextDue(tk);
    return tk.sla_state === "breached" || (due !== null && Date.parse(due) < Date.now());
  }

  /* Lower case without diacritics, so "den duong" finds "Đèn đường". */
  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();
  }

  function matches(tk) {
    const view = filters.status.value;
    if (view === "assigned" && (tk.status !== "assigned" || tk.waiting_on_caller)) return false;
    if (view === "in_progress" && (tk.status !== "in_progress" || tk.waiting_on_caller)) return false;
    if (view === "waiting" && !tk.waiting_on_caller) return false;
    if (filters.overdue.checked && !overdue(tk)) return false;
    const q = fold(filters.q.value.trim());
    if (!q) return true;
    const hay = [tk.code, H.code(tk), tk.description, tk.caller_name, tk.address,
                 V.categoryName(tk.category), V.wardName(tk.ward_code)].map(fold).join(" ");
    return q.split(/\s+/).every((word) => hay.includes(word));
  }

  function byDue(a, b) {
    const da = nextDue(a), db = nextDue(b);
    if (da && db && da !== db) return Date.parse(da) - Date.parse(db);
    if (da && !db) return -1;
    if (!da && db) return 1;
    return Date.parse(a.created_at) - Date.parse(b.created_at);
  }

  function visible() {
    if (filters.status.value === "resolved") {
      return [...state.resolved.values()].filter(matches)
        .sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at));
    }
    return [...state.open.values()].filter(matches).sort(byDue);
  }

  function dueCell(tk) {
    if (tk.waiting_on_caller) return h("span", {class: "muted paused"}, "⏸ ", t("paused_short"));
    const due = nextDue(tk);
    if (!due) return h("span", {class: "muted"}, "—");
    const which = tk.status === "assigned" && tk.first_response_due ? "due_first" : "due_resolution";
    return h("span", {class: "due"}, H.countdown(due, 3600), h("span", {class: "due-what"}, t(which)));
  }

  function row(tk) {
    const alert = state.alerts.get(tk.id);
    const classes = ["q-row", tk.id === state.selected ? "selected" : "", alert ? "hl-" + alert : "",
                     state.fresh.has(tk.id) ? "fresh" : "", overdue(tk) && OPEN.has(tk.status) ? "is-late" : ""];
    const snippet = (tk.description || "").length > 110 ? tk.description.slice(0, 110) + "…" : tk.description;
    return h("tr", {class: classes.filter(Boolean).join(" "), dataset: {id: tk.id, status: tk.status},
                    onclick: (e) => { if (!e.target.closest("a")) select(tk.id); }},
      h("td", {class: "c-code"},
        h("button", {type: "button", class: "code-btn mono", "aria-pressed": tk.id === state.selected ? "true" : "false",
                     "aria-controls": "detail"}, H.code(tk)),
        h("div", {class: "c-status"}, H.statusBadge(tk.status),
          tk.waiting_on_caller ? h("span", {class: "pill waiting"}, t("waiting")) : null)),
      h("td", {class: "c-subject"},
        h("div", {class: "cat"}, V.categoryName(tk.category)),
        h("div", {class: "snip"}, snippet || "—")),
      h("td", {class: "c-ward"}, wardCell(tk)),
      h("td", {class: "c-age"}, V.ageEl(tk.created_at)),
      h("td", {class: "c-due"}, OPEN.has(tk.status) ? dueCell(tk) : H.dateTime(tk.updated_at),
        h("div", {class: "c-sla"}, V.slaBadge(tk.sla_state))));
  }

  /* "Phường Phú Lợi" over a small "Thành phố Thủ Dầu Một"; the address when no ward is known. */
  function wardCell(tk) {
    const full = V.wardName(tk.ward_code);
    if (!full) return tk.address ? h("span", {class: "addr"}, tk.address) : h("span", {class: "muted"}, "—");
    const [ward, ...district] = full.split(", ");
    return h("span", {title: full}, h("span", {class: "ward"}, ward),
      district.length ? h("span", {class: "district"}, district.join(", ")) : null);
  }

  function renderTiles() {
    const open = [...state.open.values()];
    const counts = {
      assigned: open.filter((x) => x.status === "assigned" && !x.waiting_on_caller).length,
      in_progress: open.filter((x) => x.status === "in_progress" && !x.waiting_on_caller).length,
      waiting: open.filter((x) => x.waiting_on_caller).length,
      overdue: open.filter(overdue).length,
    };
    for (const [key, n] of Object.entries(counts)) el("n-" + key).textContent = String(n);
    document.querySelectorAll(".tile").forEach((tile) => {
      const view = tile.dataset.view;
      const on = view === "overdue" ? filters.overdue.checked && filters.status.value === "open"
        : filters.status.value === view && !filters.overdue.checked;
      tile.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function renderQueue() {
    const items = visible();
    fill(rowsBody, items.map(row));  // rows rebuilt: fill() keeps the keyboard where it was
    const empty = el("queue-empty");
    const filtered = filters.q.value.trim() || filters.overdue.checked || filters.status.value !== "open";
    empty.hidden = items.length > 0;
    empty.textContent = t(filtered ? "no_tickets_search" : "no_tickets");
    el("queue-count").textContent = `· ${items.length}`;
    renderTiles();
  }

  async function fetchAll(status) {
    const found = [];
    for (let p = 1; p <= MAX_PAGES; p++) {
      const params = new URLSearchParams({status, page: String(p), per_page: String(PAGE_SIZE)});
      if (mine) params.set("contact_point", mine);
      const data = await H.api("GET", `/api/tickets?${params}`);
      found.push(...data.items);
      if (found.length >= data.total || !data.items.length) break;
    }
    return found;
  }

  async function loadQueue() {
    if (!mine) return;
    const [assigned, inProgress] = await Promise.all([fetchAll("assigned"), fetchAll("in_progress")]);
    state.open = new Map([...assigned, ...inProgress].map((x) => [x.id, x]));
    if (filters.status.value === "resolved") {
      const params = new URLSearchParams({status: "resolved", per_page: "100", contact_point: mine});
      const data = await H.api("GET", `/api/tickets?${params}`);
      state.resolved = new Map(data.items.map((x) => [x.id, x]));
    }
    renderQueue();
  }

  async function refetch() {
    await loadQueue();
    if (state.selected !== null) await loadDetail(state.selected);
  }

  // ---- live ----------------------------------------------------------------------------------

  function belongs(tk) { return tk.contact_point && tk.contact_point.code === mine; }

  /* A ticket as an event carries it: place it in, or take it out of, the lists. */
  function take(tk, announce) {
    const wasOpen = state.open.has(tk.id);
    if (belongs(tk) && OPEN.has(tk.status)) {
      state.open.set(tk.id, tk);
      if (!wasOpen && announce) {
        state.fresh.add(tk.id);
        setTimeout(() => { state.fresh.delete(tk.id); renderQueue(); }, 6000);
        H.toast(`${t("new_ticket")}: ${H.code(tk)}`, "ok");
      }
    } else {
      state.open.delete(tk.id);
    }
    if (belongs(tk) && tk.status === "resolved") state.resolved.set(tk.id, tk);
    else state.resolved.delete(tk.id);
  }

  function onTicket(payload) {
    const tk = payload && payload.ticket;
    if (!tk) return;
    take(tk, true);
    renderQueue();
    if (tk.id === state.selected) loadDetail(tk.id);
  }

  function onSla(kind) {
    return (payload) => {
      const tk = payload && payload.ticket;
      if (!tk || !belongs(tk)) return;
      take(tk, false);
      state.alerts.set(tk.id, kind);
      renderQueue();
      H.toast(`${t(kind === "breached" ? "sla_breached_toast" : "sla_warning_toast")}: ${H.code(tk)} · ` +
              t("clock_" + payload.clock), kind === "breached" ? "error" : "info");
      if (tk.id === state.selected) loadDetail(tk.id);
    };
  }

  // ---- the side panel ------------------------------------------------------------------------

  function draft(id) { return (state.drafts[id] = state.drafts[id] || {}); }

  async function select(id) {
    state.selected = id;
    state.alerts.delete(id);
    renderQueue();
    await loadDetail(id);
    if (window.matchMedia("(max-width: 1000px)").matches) detailBox.scrollIntoView({behavior: "smooth"});
  }

  function closeDetail() {
    const was = state.selected;
    state.selected = null;
    state.detail = null;
    state.actionsKey = null;
    fill(detailBox, h("p", {class: "empty"}, t("select_ticket")));
    renderQueue();
    const button = rowsBody.querySelector(`tr[data-id="${was}"] .code-btn`);
    if (button) button.focus({preventScroll: true});  // back where the user came from
  }

  async function loadDetail(id) {
    let tk;
    try {
      tk = await H.api("GET", `/api/tickets/${id}`);
    } catch (e) {
      if (e instanceof H.ApiError && e.status === 404) {
        state.open.delete(id);
        state.resolved.delete(id);
        if (state.selected === id) { closeDetail(); H.toast(t("gone")); }
        return;
      }
      H.explain(e);
      return;
    }
    if (state.selected !== id) return;  // another ticket was chosen meanwhile
    const first = !state.detail || state.detail.id !== id;
    state.detail = tk;
    const {events: _events, ...summary} = tk;
    take(summary, false);
    renderQueue();
    renderDetail(tk, first);
  }

  function renderDetail(tk, first) {
    if (first) {
      state.actionsKey = null;
      fill(detailBox,
        h("div", {id: "d-head"}), h("div", {id: "d-info"}), h("div", {id: "d-actions", class: "d-actions"}),
        h("section", {class: "d-history"}, h("h3", {}, t("history")), h("ol", {class: "timeline compact", id: "d-history"}),
          h("a", {href: page.ticket_url + tk.id, class: "more"}, t("open_page"), " →")));
    }
    renderDetailHead(tk);
    renderDetailInfo(tk);
    const key = `${tk.id}|${tk.status}|${tk.waiting_on_caller}|${tk.allowed_actions.join(",")}`;
    if (key !== state.actionsKey) {
      state.actionsKey = key;
      renderActions(tk);
    }
    V.renderTimeline(el("d-history"), tk.events || [], {newestFirst: true, limit: 8});
    if (first) detailBox.focus({preventScroll: true});
  }

  function renderDetailHead(tk) {
    fill(el("d-head"),
      h("div", {class: "d-title"},
        h("h2", {}, h("span", {class: "mono", id: "d-code"}, H.code(tk))),
        H.statusBadge(tk.status),
        tk.priority !== "normal" ? h("span", {class: "pill prio-" + tk.priority}, H.priorityLabel(tk.priority)) : null,
        V.slaBadge(tk.sla_state),
        h("span", {class: "spacer"}),
        h("a", {href: page.ticket_url + tk.id, class: "btn small", id: "d-open-page"}, t("open_page")),
        h("button", {type: "button", class: "btn small", onclick: closeDetail, "aria-label": t("close_panel")}, "✕")),
      tk.waiting_on_caller ? h("div", {class: "banner waiting", role: "status"}, t("paused")) : null);
  }

  function renderDetailInfo(tk) {
    const first = tk.line === "115" ? "clock_acknowledgement" : "clock_first_response";
    fill(el("d-info"),
      h("p", {class: "desc", id: "d-description"}, tk.description || "—"),
      h("dl", {class: "kv"},
        h("dt", {}, t("category")), h("dd", {}, V.categoryName(tk.category)),
        h("dt", {}, t("place")), h("dd", {}, V.place(tk)),
        h("dt", {}, t("caller")), h("dd", {}, tk.caller_name || h("span", {class: "muted"}, t("anonymous")), " · ",
          h("span", {class: "phone"}, V.phone(tk.caller_phone))),
        h("dt", {}, t("created")), h("dd", {}, H.dateTime(tk.created_at), " · ", V.ageEl(tk.created_at)),
        tk.first_response_due || (tk.waiting_on_caller && tk.status === "assigned")
          ? [h("dt", {}, t(first)), h("dd", {}, V.clockView(tk, tk.first_response_due, 3600, "first"))] : null,
        h("dt", {}, t("clock_resolution")), h("dd", {}, V.clockView(tk, tk.resolution_due, 4 * 3600, "resolution")),
        tk.resolution ? [h("dt", {}, t("resolution")), h("dd", {class: "answer"}, tk.resolution)] : null));
  }

  // ---- actions ---------------------------------------------------------------------------------

  const TABS = [
    {id: "comment", action: "comment", label: "tab_comment"},
    {id: "ask", action: "ask_caller", label: "tab_ask", when: (tk) => !tk.waiting_on_caller},
    {id: "resume", action: "resume", label: "tab_resume", when: (tk) => tk.waiting_on_caller},
    {id: "transfer", action: "transfer", label: "tab_transfer", when: (tk) => tk.line === "1022"},
    {id: "resolve", action: "resolve", label: "tab_resolve"},
  ];

  function tabsFor(tk) {
    return TABS.filter((x) => tk.allowed_actions.includes(x.action) && (!x.when || x.when(tk)));
  }

  function renderActions(tk) {
    const box = el("d-actions");
    const tabs = tabsFor(tk);
    const parts = [];
    if (tk.allowed_actions.includes("accept")) {
      parts.push(h("div", {class: "accept-row"},
        h("button", {type: "button", class: "btn primary", id: "act-accept",
                     onclick: (e) => act(tk, "accept", {version: tk.version}, e.currentTarget, null, t("accepted"))},
          t("accept")),
        h("div", {class: "form-error", id: "accept-error", role: "alert", hidden: true})));
    }
    if (tabs.length) {
      const preferred = tk.status === "in_progress" ? "resolve" : "comment";
      let chosen = state.tab[tk.id];
      if (!tabs.some((x) => x.id === chosen)) chosen = tabs.some((x) => x.id === preferred) ? preferred : tabs[0].id;
      state.tab[tk.id] = chosen;
      parts.push(h("div", {class: "tabs", role: "group", "aria-label": t("actions")},
        tabs.map((x) => h("button", {type: "button", class: "tab" + (x.id === "transfer" ? " tab-warn" : ""),
                                     id: "tab-" + x.id, "aria-pressed": x.id === chosen ? "true" : "false",
                                     onclick: () => { state.tab[tk.id] = x.id; renderActions(state.detail); }},
          t(x.label)))));
      parts.push(FORMS[chosen](tk));
    }
    fill(box, parts);
  }

  /* A labelled field with its error slot; ``name`` is the API's field name. */
  function field(tk, name, label, control, hint) {
    control.id = control.id || `fld-${name}`;
    control.name = name;
    return h("div", {class: "field"},
      h("label", {for: control.id}, label),
      control,
      hint ? h("div", {class: "hint muted"}, hint) : null,
      h("div", {class: "field-error", id: `err-${name}`, hidden: true}));
  }

  function textArea(tk, key, rows, maxlength) {
    const d = draft(tk.id);
    const area = h("textarea", {rows: rows || 3, maxlength: maxlength || 4000});
    area.value = d[key] || "";
    area.addEventListener("input", () => {
      d[key] = area.value;
      hideFieldError(area);
    });
    return area;
  }

  function form(kind, children, onsubmit) {
    const f = h("form", {class: "action-form", id: "form-" + kind, novalidate: true}, children,
      h("div", {class: "form-error", role: "alert", hidden: true}));
    f.addEventListener("submit", (e) => { e.preventDefault(); onsubmit(f); });
    return f;
  }

  function required(f, pairs) {
    let ok = true;
    for (const [name, value] of pairs) {
      if (!String(value || "").trim()) {
        showFieldError(f, name, t("required"));
        ok = false;
      }
    }
    return ok;
  }

  function clearErrors(f) {
    f.querySelectorAll(".field-error, .form-error").forEach((x) => { x.hidden = true; x.textContent = ""; });
    f.querySelectorAll("[aria-invalid]").forEach((x) => x.removeAttribute("aria-invalid"));
  }

  function hideFieldError(control) {
    const slot = control.getAttribute("aria-describedby") && el(control.getAttribute("aria-describedby"));
    if (slot) slot.hidden = true;
    control.removeAttribute("aria-invalid");
  }

  function showFieldError(f, name, message) {
    const slot = f.querySelector(`#err-${CSS.escape(name)}`);
    if (!slot) return false;
    slot.textContent = message;
    slot.hidden = false;
    const control = f.querySelector(`[name="${CSS.escape(name)}"]`);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", slot.id);
    }
    return true;
  }

  const FORMS = {
    comment(tk) {
      const d = draft(tk.id);
      const external = d.external === true;
      const canSms = V.looksMobile(tk.caller_phone) && tk.line === "1022";
      const radio = (value, label) => {
        const input = h("input", {type: "radio", name: "internal", value, id: `aud-${value}`,
                                  checked: (value === "external") === external});
        input.addEventListener("change", () => {
          d.external = value === "external";
          const again = FORMS.comment(tk);
          el("form-comment").replaceWith(again);
          el(`aud-${value}`).focus();
        });
        return h("label", {class: "choice" + (value === "external" ? " sms" : ""), for: `aud-${value}`}, input, " ", label);
      };
      const area = textArea(tk, "comment", 3);
      return form("comment", [
        h("fieldset", {class: "audience"}, h("legend", {class: "visually-hidden"}, t("comment_body")),
          radio("internal", t("comment_internal")), radio("external", t("comment_external"))),
        external ? h("p", {class: canSms ? "hint sms-hint" : "form-error"}, t(canSms ? "comment_external_hint" : "no_sms"))
          : null,
        field(tk, "body", t("comment_body"), area),
        h("div", {class: "buttons"}, h("button", {type: "submit", class: "btn " + (external ? "primary" : ""),
                                                   id: "send-comment"}, t(external ? "send_sms" : "send_note"))),
      ], (f) => {
        clearErrors(f);
        if (!required(f, [["body", area.value]])) return;
        act(tk, "comment", {body: area.value.trim(), internal: !external}, f.querySelector("button[type=submit]"), f,
            t(external ? "sms_queued" : "comment_sent"), ["comment"]);
      });
    },

    ask(tk) {
      const area = textArea(tk, "question", 3);
      return form("ask", [
        field(tk, "question", t("question"), area, t("ask_hint")),
        h("div", {class: "buttons"}, h("button", {type: "submit", class: "btn primary", id: "send-ask"}, t("ask_send"))),
      ], (f) => {
        clearErrors(f);
        if (!required(f, [["question", area.value]])) return;
        act(tk, "ask-caller", {question: area.value.trim(), version: tk.version}, f.querySelector("button[type=submit]"),
            f, t("asked"), ["question"]);
      });
    },

    resume(tk) {
      const area = textArea(tk, "resume_reason", 2);
      return form("resume", [
        field(tk, "reason", t("resume_reason"), area, t("resume_hint")),
        h("div", {class: "buttons"}, h("button", {type: "submit", class: "btn primary", id: "send-resume"},
          t("resume_send"))),
      ], (f) => {
        clearErrors(f);
        if (!required(f, [["reason", area.value]])) return;
        act(tk, "resume", {reason: area.value.trim(), version: tk.version}, f.querySelector("button[type=submit]"), f,
            t("resumed"), ["resume_reason"]);
      });
    },

    transfer(tk) {
      const d = draft(tk.id);
      const select = h("select", {}, h("option", {value: ""}, t("choose")));
      fillDestinations(select, tk, d.transfer_to || "");
      select.addEventListener("change", () => { d.transfer_to = select.value; hideFieldError(select); });
      const area = textArea(tk, "transfer_reason", 2);
      return form("transfer", [
        h("p", {class: "hint muted"}, t("transfer_hint")),
        field(tk, "contact_point", t("transfer_to"), select),
        field(tk, "reason", t("transfer_reason"), area),
        h("div", {class: "buttons"}, h("button", {type: "submit", class: "btn danger", id: "send-transfer"},
          t("transfer_send"))),
      ], (f) => {
        clearErrors(f);
        if (!required(f, [["contact_point", select.value], ["reason", area.value]])) return;
        act(tk, "transfer", {contact_point: select.value, reason: area.value.trim(), version: tk.version},
            f.querySelector("button[type=submit]"), f, t("transferred"), ["transfer_reason", "transfer_to"]);
      });
    },

    resolve(tk) {
      const area = textArea(tk, "resolution", 6);
      area.id = "fld-resolution";
      const counter = h("div", {class: "hint muted", id: "sms-length", "aria-live": "polite"});
      const count = () => {
        const text = area.value.trim();
        if (!text) { fill(counter); return; }
        // The SMS adds "Phản ánh CODE đã được trả lời: " before and " Chi tiết: <link>" after.
        const units = 36 + text.length + 50;
        const segments = units <= 70 ? 1 : Math.ceil(units / 67);
        fill(counter, V.fmt("sms_length", {chars: text.length, segments}),
          segments > 5 ? h("span", {class: "warn-text"}, " — ", t("sms_long")) : null);
      };
      area.addEventListener("input", count);
      count();
      const cannedBox = h("div", {class: "canned", id: "canned"}, h("p", {class: "muted"}, "…"));
      loadCanned(tk, cannedBox, area, count);
      return form("resolve", [
        h("details", {class: "canned-wrap", open: true}, h("summary", {}, t("canned")), cannedBox),
        field(tk, "resolution", t("resolution_text"), area, t("resolve_hint")),
        counter,
        h("div", {class: "buttons"}, h("button", {type: "submit", class: "btn ok", id: "send-resolve"},
          t("resolve_send"))),
      ], (f) => {
        clearErrors(f);
        if (!required(f, [["resolution", area.value]])) return;
        act(tk, "resolve", {resolution: area.value.trim(), version: tk.version}, f.querySelector("button[type=submit]"),
            f, t("resolved"), ["resolution"]);
      });
    },
  };

  async function contactPoints() {
    if (!state.contactPoints) state.contactPoints = await H.api("GET", "/api/directory/contact-points");
    return state.contactPoints;
  }

  /* Routing's proposal and alternatives first, then every other active contact point. */
  async function fillDestinations(select, tk, chosen) {
    let all = [];
    try { all = await contactPoints(); } catch (e) { H.explain(e); }
    const english = H.config.locale === "en";
    const nameOf = (cp) => (english ? cp.name_en : cp.name_vi);
    const routing = tk.routing || {};
    const suggested = [];
    const seen = new Set([mine, tk.contact_point && tk.contact_point.code]);
    const offer = (code, confidence) => {
      if (!code || seen.has(code)) return;
      seen.add(code);
      suggested.push([code, confidence]);
    };
    offer(routing.contact_point, routing.confidence);
    (routing.alternatives || []).forEach((a) => offer(a.contact_point, a.confidence));
    const option = (code, label) => h("option", {value: code, selected: code === chosen}, label);
    if (suggested.length) {
      select.append(h("optgroup", {label: t("suggested")}, suggested.map(([code, c]) =>
        option(code, `${V.cpName(code)} · ${V.percent(c)}`))));
    }
    select.append(h("optgroup", {label: t("others")}, all.filter((cp) => !seen.has(cp.code)).map((cp) =>
      option(cp.code, nameOf(cp)))));
  }

  async function loadCanned(tk, box, area, recount) {
    const category = tk.category;
    if (!category) { fill(box, h("p", {class: "muted"}, t("no_canned"))); return; }
    try {
      if (!state.canned[category]) {
        const data = await H.api("GET", `/api/directory/canned-responses?category=${encodeURIComponent(category)}`);
        state.canned[category] = data.items;
      }
    } catch (e) {
      H.explain(e, box);
      return;
    }
    const items = state.canned[category];
    if (!items.length) { fill(box, h("p", {class: "muted"}, t("no_canned"))); return; }
    const values = {code: H.code(tk), contact_point: page.contact_point ? page.contact_point.name_vi : ""};
    fill(box, h("ul", {class: "canned-list"}, items.map((c) => {
      const text = c.body.replace(/\{(code|contact_point)\}/g, (_, k) => values[k]);
      return h("li", {},
        h("button", {type: "button", class: "btn small", dataset: {cannedId: c.id},
                     "aria-label": `${t("insert")}: ${c.title}`,
                     onclick: () => { insertText(area, text); recount(); }}, t("insert")),
        h("div", {class: "canned-text"}, h("strong", {}, c.title), h("span", {class: "muted"}, text)));
    })));
  }

  /* Put ``text`` at the cursor (replacing a selection), as typing would; it stays editable. */
  function insertText(area, text) {
    const start = area.selectionStart ?? area.value.length, end = area.selectionEnd ?? area.value.length;
    const before = area.value.slice(0, start);
    const sep = before && !/\s$/.test(before) ? " " : "";
    area.setRangeText(sep + text, start, end, "end");
    area.dispatchEvent(new Event("input"));
    area.focus();
  }

  /* Send an action; on success clear what was typed for it and show the ticket as the server
   * now has it; on refusal explain it where the user acted and change nothing else. */
  async function act(tk, path, body, button, f, done, draftKeys) {
    const errorBox = f ? f.querySelector(".form-error") : el("accept-error");
    if (button) button.disabled = true;
    try {
      const updated = await H.api("POST", `/api/tickets/${tk.id}/${path}`, body);
      (draftKeys || []).forEach((k) => { delete draft(tk.id)[k]; });
      H.toast(done, "ok");
      take(updated, false);
      renderQueue();
      if (!state.open.has(tk.id) && !state.resolved.has(tk.id) && path === "transfer") {
        closeDetail();
        return;
      }
      state.actionsKey = null;  // rebuild the forms: the typed text was used
      await loadDetail(tk.id);
    } catch (e) {
      if (button) button.disabled = false;
      explainRefusal(e, f, errorBox, tk.id);
    }
  }

  function explainRefusal(e, f, errorBox, id) {
    const status = e instanceof H.ApiError ? e.status : 0;
    let placed = false;
    if ((status === 400 || status === 422) && e.fields && f) {
      for (const [name, message] of Object.entries(e.fields)) {
        placed = showFieldError(f, name.split(".")[0], message) || placed;
      }
    }
    if (!placed && errorBox) H.explain(e, errorBox);
    if (status === 409) {
      H.toast(t("conflict"), "error");
      loadDetail(id).then(() => {
        // The forms were rebuilt for the ticket as it is now: keep the server's message in view.
        if (errorBox && document.contains(errorBox)) return;
        const box = document.querySelector("#d-actions .form-error");
        if (box) { box.textContent = e.message; box.hidden = false; }
      });
    } else if (status === 404) {
      state.open.delete(id);
      renderQueue();
    }
  }

  // ---- wiring --------------------------------------------------------------------------------

  el("filters").addEventListener("submit", (e) => e.preventDefault());
  filters.q.addEventListener("input", renderQueue);
  filters.overdue.addEventListener("change", renderQueue);
  filters.status.addEventListener("change", () => {
    if (filters.status.value === "resolved") loadQueue().catch((e) => H.explain(e));
    else renderQueue();
  });
  document.querySelectorAll(".tile").forEach((tile) => tile.addEventListener("click", () => {
    const view = tile.dataset.view;
    const wasOn = tile.getAttribute("aria-pressed") === "true";
    filters.status.value = wasOn || view === "overdue" ? "open" : view;
    filters.overdue.checked = !wasOn && view === "overdue";
    renderQueue();
  }));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.selected !== null && !e.target.closest("textarea, input, select")) closeDetail();
  });

  loadQueue().catch((e) => H.explain(e));
  H.live({
    "ticket.created": onTicket,
    "ticket.updated": onTicket,
    "sla.warning": onSla("warning"),
    "sla.breached": onSla("breached"),
    "ticket.removed": () => refetch(),  // transferred or re-routed away from this unit
  }, refetch);
  setInterval(() => { refetch().catch(() => {}); }, 60000);
})();
