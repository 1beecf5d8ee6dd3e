/* The administration console: a section per kind of record, each a searchable table with an
 * edit drawer, and the audit log. Everything goes through /api/admin/... ; what the server
 * refuses is shown next to the fields it names and nothing on screen changes. User text only
 * ever reaches the page through Hotline.h / textContent. */
(function () {
  "use strict";

  const H = window.Hotline;
  const {h, fill, t, api} = H;
  const $ = (id) => document.getElementById(id);

  const THIS_YEAR = new Date().getFullYear();
  const state = {section: null, items: [], ref: null, users: [], editing: null, opener: null, justRevoked: new Set(),
                 year: THIS_YEAR,
                 audit: {page: 1, perPage: 50, total: 0, query: {}}};

  // ---- small helpers ------------------------------------------------------------------------

  const isAny = (v) => v === null || v === undefined || v === "" || v === "*";
  const lines = (v) => (v || []).join("\n");
  const fromLines = (s) => s.split("\n").map((x) => x.trim()).filter(Boolean);
  const roleLabel = (r) => (H.config.labels.role || {})[r] || r;
  const named = (list, code) => ((state.ref && state.ref[list]) || []).find((x) => x.code === code);
  const muted = (text) => h("span", {class: "muted"}, text);
  const anyCell = (v, render) => (isAny(v) ? muted(t("any")) : (render ? render(v) : h("span", {class: "mono"}, v)));
  const codeName = (list) => (code) => {
    const found = named(list, code);
    return h("span", {}, h("span", {class: "mono"}, code), found ? h("span", {class: "muted"}, " " + found.name) : null);
  };
  const yesNo = (v) => h("span", {class: v ? "yes" : "no"}, v ? t("yes") : t("no"));
  const activeBadge = (row) => (row.active === false ? h("span", {class: "badge red"}, t("inactive")) : null);
  const SCOPES = (H.config.page && H.config.page.api_key_scopes) || [];
  const scopeLabel = (s) => (t("scope_" + s) === "scope_" + s ? s : t("scope_" + s));

  const MESSAGES = {  // the domain's most common words, in the page's language
    "must not be empty": "msg_required", "Field required": "msg_required", "already exists": "msg_exists",
    "already taken": "msg_taken", "not a phone number": "msg_phone", "not an e-mail address": "msg_email",
    "not a mobile number: an SMS cannot reach it": "msg_mobile",
    "only department staff and hospital users can be leads": "msg_lead_role",
    "at least 8 characters": "msg_password_length",
    "you cannot deactivate your own account": "msg_self_deactivate",
    "you cannot take the administrator role from yourself": "msg_self_role",
    "department staff need an existing contact point": "msg_staff_cp",
    "hospital users need an existing hospital": "msg_hospital_user",
    "the fallback routing rule sends requests here; point it elsewhere first": "msg_fallback_cp",
    "at least one rule must have no conditions (the fallback)": "msg_fallback_rule",
    "another policy already promises this clock for the same tickets": "msg_policy_twin",
    "2–80 letters, digits, '.', '_' or '-', starting with a letter or digit": "msg_key_name",
    "already used by another key": "msg_key_taken",
    "List should have at least 1 item after validation, not 0": "msg_choose_one",
    "not a date: expected YYYY-MM-DD": "msg_not_a_date", "a date between 2000 and 2100": "msg_date_range",
    "this day is already in the calendar: edit it instead": "msg_day_taken",
    "already a working day: a make-up working day must fall on a weekend or a public holiday": "msg_working_already",
    "already a day off (weekend or public holiday): a province day off must fall on a working day": "msg_off_already",
  };
  const localMessage = (m) => (MESSAGES[m] && t(MESSAGES[m]) !== MESSAGES[m] ? t(MESSAGES[m]) : m);

  function options(list, {any = false, none = false, extra = []} = {}) {
    return () => [
      ...(any ? [["", t("any")]] : []), ...(none ? [["", t("none_option")]] : []), ...extra,
      ...((state.ref && state.ref[list]) || []).map((x) => [x.code, `${x.code} — ${x.name}${x.active === false ? ` (${t("inactive")})` : ""}`]),
    ];
  }
  const plain = (list, {any = false} = {}) => () => [...(any ? [["*", t("any")]] : []),
    ...((state.ref && state.ref[list]) || []).map((x) => [x, x])];

  // ---- the sections ---------------------------------------------------------------------------

  const SECTIONS = {
    users: {
      path: "/api/admin/users", entity: "user", hasActive: true,
      item: (u) => `/api/admin/users/${u.id}`, title: (u) => u.username,
      columns: [["f_username", (u) => h("span", {class: "mono"}, u.username)], ["f_display_name", (u) => u.display_name],
                ["f_role", (u) => roleLabel(u.role)],
                ["unit", (u) => (u.contact_point ? codeName("contact_points")(u.contact_point)
                  : u.hospital ? codeName("hospitals")(u.hospital) : "")],
                ["status", (u) => [activeBadge(u), u.is_lead ? h("span", {class: "badge lead"}, t("lead_badge")) : null,
                                   u.on_duty ? h("span", {class: "badge"}, t("on_duty")) : null]]],
      search: (u) => [u.username, u.display_name, u.role, roleLabel(u.role), u.contact_point, u.hospital, u.phone],
      fields: [
        {name: "username", type: "text", createOnly: true, attrs: {autocomplete: "off", maxlength: 80}},
        {name: "display_name", type: "text", attrs: {maxlength: 200}},
        {name: "role", type: "select", options: () => (state.ref ? state.ref.roles : []).map((r) => [r, roleLabel(r)])},
        {name: "contact_point", type: "select", nullable: true, options: options("contact_points", {none: true}),
         show: (v) => v.role === "staff"},
        {name: "hospital", type: "select", nullable: true, options: options("hospitals", {none: true}),
         show: (v) => v.role === "hospital"},
        // Only staff and hospital users lead something; the server clears the flag for other roles.
        {name: "is_lead", type: "checkbox", hint: "lead_hint", show: (v) => v.role === "staff" || v.role === "hospital"},
        {name: "phone", label: "f_phone_mobile", type: "tel", nullable: true, hint: "mobile_hint",
         attrs: {maxlength: 40, autocomplete: "off"}},
        {name: "password", type: "password", createOnly: true, hint: "password_hint", attrs: {autocomplete: "new-password"}},
        {name: "active", type: "checkbox", editOnly: true},
      ],
      blank: () => ({username: "", display_name: "", role: "staff", contact_point: null, hospital: null, is_lead: false,
                     phone: null, password: ""}),
    },
    contact_points: {
      path: "/api/admin/contact-points", entity: "contact_point", hasActive: true,
      item: (c) => `/api/admin/contact-points/${encodeURIComponent(c.code)}`, title: (c) => c.code,
      columns: [["f_code", (c) => h("span", {class: "mono"}, c.code)], ["f_name", (c) => [c.name_vi, activeBadge(c)]],
                ["f_kind", (c) => c.kind], ["f_district_code", (c) => (c.district_code ? codeName("districts")(c.district_code) : "")],
                ["f_phone", (c) => c.phone || ""], ["f_email", (c) => c.email || ""]],
      search: (c) => [c.code, c.name_vi, c.name_en, c.kind, c.phone, c.email, ...(c.aliases || [])],
      fields: [
        {name: "code", type: "text", createOnly: true, attrs: {maxlength: 40, class: "mono"}},
        {name: "name_vi", type: "text", attrs: {maxlength: 300}},
        {name: "name_en", type: "text", attrs: {maxlength: 300}},
        {name: "kind", type: "text", list: "contact_point_kinds", attrs: {maxlength: 30}},
        {name: "district_code", type: "select", nullable: true, options: options("districts", {none: true})},
        {name: "phone", type: "tel", nullable: true, attrs: {maxlength: 40}},
        {name: "email", type: "email", nullable: true, attrs: {maxlength: 200}},
        {name: "categories", type: "checks", options: options("categories")},
        {name: "aliases", type: "lines"},
        {name: "active", type: "checkbox", editOnly: true},
      ],
      blank: () => ({code: "", name_vi: "", name_en: "", kind: "department", district_code: null, phone: null,
                     email: null, categories: [], aliases: []}),
    },
    hospitals: {
      path: "/api/admin/hospitals", entity: "hospital", hasActive: true,
      item: (x) => `/api/admin/hospitals/${encodeURIComponent(x.code)}`, title: (x) => x.code,
      columns: [["f_code", (x) => h("span", {class: "mono"}, x.code)], ["f_name", (x) => [x.name, activeBadge(x)]],
                ["f_district_code", (x) => (x.district_code ? codeName("districts")(x.district_code) : "")],
                ["f_emergency", (x) => yesNo(x.emergency)], ["f_available", (x) => yesNo(x.available)],
                ["f_desk_phone", (x) => x.desk_phone || ""], ["f_sms_phone", (x) => x.sms_phone || ""]],
      search: (x) => [x.code, x.name, x.kind, x.address, x.desk_phone, x.sms_phone, ...(x.specialties || [])],
      fields: [
        {name: "code", type: "text", createOnly: true, attrs: {maxlength: 40, class: "mono"}},
        {name: "name", type: "text", attrs: {maxlength: 300}},
        {name: "kind", type: "text", list: "hospital_kinds", attrs: {maxlength: 60}},
        {name: "district_code", type: "select", nullable: true, options: options("districts", {none: true})},
        {name: "ward_code", type: "select", nullable: true, options: (v) => wardOptions(v.district_code)},
        {name: "address", type: "text", attrs: {maxlength: 500}},
        {name: "lat", type: "number", attrs: {step: "any", min: -90, max: 90}, half: true},
        {name: "lon", type: "number", attrs: {step: "any", min: -180, max: 180}, half: true},
        {name: "emergency", type: "checkbox"},
        {name: "available", type: "checkbox"},
        {name: "desk_phone", type: "tel", nullable: true, attrs: {maxlength: 40}},
        {name: "sms_phone", type: "tel", nullable: true, hint: "sms_phone_hint", attrs: {maxlength: 40}},
        {name: "specialties", type: "lines", list: "specialties"},
        {name: "active", type: "checkbox", editOnly: true},
      ],
      blank: () => ({code: "", name: "", kind: "", district_code: null, ward_code: null, address: "", lat: null,
                     lon: null, emergency: true, available: true, desk_phone: null, sms_phone: null,
                     specialties: ["general"]}),
    },
    categories: {
      path: "/api/admin/categories", entity: "category",
      item: (c) => `/api/admin/categories/${encodeURIComponent(c.code)}`, title: (c) => c.code,
      columns: [["f_code", (c) => h("span", {class: "mono"}, c.code)], ["f_name", (c) => c.name_vi],
                ["c_keywords", (c) => h("span", {class: "kw"}, `${c.keywords.length} ${t("keywords_count")}: `,
                  muted(c.keywords.slice(0, 4).join(", ") + (c.keywords.length > 4 ? "…" : "")))],
                ["f_default_contact_point", (c) => (c.default_contact_point ? h("span", {class: "mono"}, c.default_contact_point) : "")],
                ["f_district_level", (c) => yesNo(c.district_level)]],
      search: (c) => [c.code, c.name_vi, c.name_en, c.default_contact_point, ...(c.keywords || [])],
      fields: [
        {name: "code", type: "text", createOnly: true, attrs: {maxlength: 40, class: "mono"}},
        {name: "name_vi", type: "text", attrs: {maxlength: 200}},
        {name: "name_en", type: "text", attrs: {maxlength: 200}},
        {name: "keywords", type: "lines", attrs: {rows: 8}},
        {name: "default_contact_point", type: "select", nullable: true, options: options("contact_points", {none: true})},
        {name: "district_level", type: "checkbox"},
      ],
      blank: () => ({code: "", name_vi: "", name_en: "", keywords: [], default_contact_point: null, district_level: false}),
    },
    routing_rules: {
      path: "/api/admin/routing-rules", entity: "routing_rule", deletable: true,
      item: (r) => `/api/admin/routing-rules/${r.id}`, title: (r) => `#${r.rank}`,
      columns: [["rank", (r) => h("span", {class: "mono"}, String(r.rank))], ["f_priority", (r) => h("span", {class: "mono"}, String(r.priority))],
                ["f_category", (r) => anyCell(r.category, codeName("categories"))],
                ["f_district_code", (r) => anyCell(r.district_code, codeName("districts"))],
                ["f_ward_code", (r) => anyCell(r.ward_code, (w) => wardName(w))],
                ["f_contact_point", (r) => [r.contact_point === "@district" ? h("em", {}, t("caller_district"))
                  : codeName("contact_points")(r.contact_point), r.fallback ? h("span", {class: "badge"}, t("fallback")) : null]],
                ["f_note", (r) => h("span", {class: "note"}, r.note)]],
      search: (r) => [r.category, r.district_code, r.ward_code, r.contact_point, r.note, String(r.priority)],
      reorder: true,
      fields: [
        {name: "priority", type: "number", integer: true, attrs: {min: 0, max: 100000, step: 1}},
        {name: "category", type: "select", options: options("categories", {any: true})},
        {name: "district_code", type: "select", options: options("districts", {any: true})},
        {name: "ward_code", type: "select", options: (v) => [["", t("any")], ...wardOptions(v.district_code).slice(1)]},
        {name: "contact_point", type: "select", options: options("contact_points", {extra: [["@district", t("caller_district")]]})},
        {name: "note", type: "text", attrs: {maxlength: 500}},
      ],
      blank: () => ({priority: 100, category: "", district_code: "", ward_code: "", contact_point: "", note: ""}),
    },
    sla_policies: {
      path: "/api/admin/sla-policies", entity: "sla_policy", deletable: true,
      item: (p) => `/api/admin/sla-policies/${p.id}`, title: (p) => p.name || `#${p.id}`,
      columns: [["f_line", (p) => h("strong", {}, p.line)], ["f_clock", (p) => t("clock_" + p.clock)],
                ["f_category", (p) => anyCell(p.category, codeName("categories"))],
                ["f_priority", (p) => anyCell(p.priority, (x) => H.priorityLabel(x))],
                ["f_contact_point", (p) => anyCell(p.contact_point)],
                ["f_target", (p) => h("span", {class: "mono"}, p.target)],
                ["f_hours", (p) => t("hours_" + p.hours)], ["f_name", (p) => p.name]],
      search: (p) => [p.line, p.clock, t("clock_" + p.clock), p.category, p.priority, p.contact_point, p.target, p.name],
      fields: [
        {name: "line", type: "select", options: () => (state.ref ? state.ref.lines : []).map((x) => [x, x]), half: true},
        {name: "clock", type: "select", options: () => (state.ref ? state.ref.clocks : []).map((x) => [x, t("clock_" + x)]), half: true},
        {name: "category", type: "select", options: () => [["*", t("any")], ...options("categories")()]},
        {name: "priority", type: "select", options: () => [["*", t("any")], ...(state.ref ? state.ref.priorities : []).map((x) => [x, H.priorityLabel(x)])], half: true},
        {name: "contact_point", type: "select", options: () => [["*", t("any")], ...options("contact_points")()], half: true},
        {name: "target", type: "text", hint: "target_hint", attrs: {maxlength: 12, class: "mono", placeholder: "4h"}, half: true},
        {name: "hours", type: "select", options: () => [["business", t("hours_business")], ["always", t("hours_always")]], half: true},
        {name: "warning_share", type: "number", attrs: {min: 0.05, max: 0.95, step: 0.05}, half: true},
        {name: "name", type: "text", attrs: {maxlength: 200}},
      ],
      blank: () => ({line: "1022", clock: "resolution", category: "*", priority: "*", contact_point: "*", target: "",
                     hours: "business", warning_share: 0.75, name: ""}),
    },
    canned_responses: {
      path: "/api/admin/canned-responses", entity: "canned_response", hasActive: true,
      item: (c) => `/api/admin/canned-responses/${c.id}`, title: (c) => c.title,
      columns: [["f_category", (c) => codeName("categories")(c.category)], ["f_title", (c) => [c.title, activeBadge(c)]],
                ["f_body", (c) => h("span", {class: "note"}, c.body.length > 120 ? c.body.slice(0, 120) + "…" : c.body)],
                ["f_position", (c) => h("span", {class: "mono"}, String(c.position))]],
      search: (c) => [c.category, c.title, c.body],
      fields: [
        {name: "category", type: "select", options: options("categories")},
        {name: "title", type: "text", attrs: {maxlength: 200}},
        {name: "body", type: "textarea", attrs: {maxlength: 4000, rows: 7}},
        {name: "position", type: "number", integer: true, attrs: {min: 0, step: 1}},
        {name: "active", type: "checkbox", editOnly: true},
      ],
      blank: () => ({category: "", title: "", body: "", position: 0}),
    },
    api_keys: {
      // Keys are issued and revoked, never edited: the drawer only issues one, then shows it once.
      path: "/api/admin/api-keys", entity: "api_key", hasActive: true, readOnly: true,
      adapt: (k) => ({...k, active: k.revoked_at === null}),
      item: (k) => `/api/admin/api-keys/${encodeURIComponent(k.name)}`, title: (k) => k.name,
      columns: [["f_name", (k) => h("span", {class: "mono"}, k.name)],
                ["f_key_prefix", (k) => h("span", {class: "mono"}, k.key_prefix + "…")],
                ["f_scopes", (k) => k.scopes.map((x) => h("div", {}, scopeLabel(x)))],
                ["issued", (k) => [h("span", {class: "nowrap"}, H.dateTime(k.created_at)),
                                   k.created_by ? h("div", {class: "muted"}, k.created_by) : null]],
                ["last_used", (k) => (k.last_used_at ? H.dateTime(k.last_used_at) : muted(t("never_used")))],
                ["status", (k) => (k.active ? h("span", {class: "yes"}, t("active_state"))
                  : h("span", {class: "badge red"}, `${t("revoked")} ${H.dateTime(k.revoked_at)}`))]],
      search: (k) => [k.name, k.key_prefix, k.created_by, ...k.scopes, ...k.scopes.map(scopeLabel)],
      actions: (k) => (k.active ? h("button", {type: "button", class: "btn small danger", "aria-label": `${t("revoke")} ${k.name}`,
                                              onclick: (ev) => revokeKey(k, ev.currentTarget)}, t("revoke")) : null),
      fields: [
        {name: "name", type: "text", hint: "key_name_hint", attrs: {maxlength: 80, autocomplete: "off", spellcheck: "false"}},
        {name: "scopes", type: "checks", options: () => SCOPES.map((x) => [x, scopeLabel(x)])},
      ],
      blank: () => ({name: "", scopes: []}),
      created: revealKey,
    },
    calendar_days: {
      // One year: the province's days (editable) among the public holidays and the server
      // settings' days, which are shown read-only so the administrator sees the whole calendar.
      path: "/api/admin/calendar-days", entity: "calendar_day", deletable: true,
      list: () => `/api/admin/calendar-days?year=${state.year}`,
      rows: calendarRows,
      item: (d) => `/api/admin/calendar-days/${encodeURIComponent(d.day)}`, title: (d) => d.day,
      columns: [["f_day", (d) => [h("span", {class: "mono"}, d.day), " ", muted(weekday(d.day))]],
                ["f_kind", (d) => h("span", {class: "badge day-" + d.kind}, t("kind_" + d.kind))],
                ["f_note", (d) => d.note],
                ["f_source", (d) => (d.source === "province" ? t("source_province") : muted(t("source_" + d.source)))]],
      search: (d) => [d.day, weekday(d.day), d.note, t("kind_" + d.kind), t("source_" + d.source)],
      readOnlyRow: (d) => d.source !== "province",
      fields: [
        {name: "day", type: "date", attrs: {min: "2000-01-01", max: "2100-12-31"}},
        {name: "kind", type: "select", options: () => [["off", t("kind_off")], ["working", t("kind_working")]],
         hint: "kind_hint"},
        {name: "note", type: "text", attrs: {maxlength: 200, placeholder: t("note_placeholder")}},
      ],
      blank: () => ({day: "", kind: "off", note: ""}),
      created: (d) => {  // show the year of the day just added (the list reloads after this)
        const year = d.day.slice(0, 4);
        if ([...$("adm-year").options].some((o) => o.value === year)) { $("adm-year").value = year; state.year = Number(year); }
        closeDrawer();
      },
    },
  };

  function weekday(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(document.documentElement.lang || "vi",
                                                               {weekday: "long", timeZone: "UTC"});
  }

  /* The year's rows in date order; on one date the official holiday comes before the province's row. */
  function calendarRows(data) {
    const ORDER = {official: 0, settings: 1, province: 2};
    return [...data.official.map((o) => ({day: o.day, kind: "holiday", note: o.name, source: "official"})),
            ...data.settings.map((x) => ({day: x.day, kind: x.kind, note: "", source: "settings"})),
            ...data.items.map((x) => ({...x, source: "province"}))]
      .sort((a, b) => a.day.localeCompare(b.day) || ORDER[a.source] - ORDER[b.source]);
  }

  function wardOptions(district) {
    const wards = ((state.ref && state.ref.wards) || []).filter((w) => !district || w.district_code === district);
    return [["", t("none_option")], ...wards.map((w) => [w.code, `${w.code} — ${w.name}`])];
  }
  function wardName(code) {
    const w = ((state.ref && state.ref.wards) || []).find((x) => x.code === code);
    return h("span", {}, h("span", {class: "mono"}, code), w ? muted(" " + w.name) : null);
  }

  // ---- navigation ---------------------------------------------------------------------------

  function sectionFromHash() {
    const name = location.hash.replace(/^#/, "");
    return name === "audit" || SECTIONS[name] ? name : "users";
  }

  async function show(section) {
    state.section = section;
    closeDrawer();
    document.querySelectorAll("#adm-sections a").forEach((a) => {
      if (a.dataset.section === section) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    $("adm-title").textContent = t(section);
    $("adm-hint").textContent = t("hint_" + section);
    const audit = section === "audit";
    $("adm-tools").hidden = audit;
    $("audit-filters").hidden = !audit;
    $("adm-pager").hidden = !audit;
    $("adm-inactive").parentElement.hidden = !(SECTIONS[section] && SECTIONS[section].hasActive);
    $("adm-year").parentElement.hidden = section !== "calendar_days";
    $("adm-q").value = "";
    state.justRevoked.clear();
    fill($("adm-body"), h("p", {class: "empty"}, t("loading")));
    await load();
  }

  async function load() {
    $("adm-error").hidden = true;
    try {
      if (!state.ref) state.ref = await api("GET", "/api/admin/reference");
      if (state.section === "audit") return await loadAudit();
      const spec = SECTIONS[state.section];
      const data = await api("GET", spec.list ? spec.list() : spec.path);
      state.items = spec.rows ? spec.rows(data) : spec.adapt ? data.items.map(spec.adapt) : data.items;
      const count = document.querySelector(`[data-count="${state.section}"]`);
      if (count) count.textContent = String(spec.rows ? data.items.length : state.items.length);
      render();
    } catch (e) {
      H.explain(e, $("adm-error"));
    }
  }

  // ---- tables ---------------------------------------------------------------------------------

  function visibleItems() {
    const spec = SECTIONS[state.section];
    const words = $("adm-q").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    // Keys revoked here stay in view until the section is left, so the administrator sees them revoked.
    const inactive = (row) => $("adm-inactive").checked || state.justRevoked.has(spec.title(row));
    return state.items.filter((row) => (!spec.hasActive || row.active !== false || inactive(row)) && words.every(
      (w) => spec.search(row).some((v) => v !== null && v !== undefined && String(v).toLowerCase().includes(w))));
  }

  function specificity(r) { return ["category", "district_code", "ward_code"].filter((k) => !isAny(r[k])).length; }
  function tied(a, b) { return a && b && a.priority === b.priority && specificity(a) === specificity(b); }

  function render() {
    const spec = SECTIONS[state.section];
    const rows = visibleItems();
    if (!rows.length) {
      fill($("adm-body"), h("p", {class: "empty"}, state.items.length ? t("no_match") : t("empty")));
      return;
    }
    const searching = $("adm-q").value.trim() !== "";
    const head = h("tr", {}, spec.columns.map(([key]) => h("th", {scope: "col"}, t(key))), h("th", {scope: "col", class: "act"}, t("actions")));
    const fixed = (row) => spec.readOnly || (spec.readOnlyRow && spec.readOnlyRow(row));
    const body = rows.map((row, i) => h("tr", {class: row.active === false ? "off" : fixed(row) ? "fixed" : null,
                                               dataset: {key: spec.title(row), source: row.source},
                                               ondblclick: fixed(row) ? null : () => openDrawer(row)},
      spec.columns.map(([key, cell]) => h("td", {dataset: {col: key}}, cell(row))),
      h("td", {class: "act"}, spec.actions ? spec.actions(row) : fixed(row) ? muted(t("read_only")) : [
        spec.reorder && !searching ? [
          h("button", {type: "button", class: "btn small icon", "aria-label": `${t("move_up")} ${spec.title(row)}`, title: t("move_up"),
                       disabled: !tied(rows[i - 1], row), onclick: () => swap(row, rows[i - 1])}, "↑"),
          h("button", {type: "button", class: "btn small icon", "aria-label": `${t("move_down")} ${spec.title(row)}`, title: t("move_down"),
                       disabled: !tied(rows[i + 1], row), onclick: () => swap(row, rows[i + 1])}, "↓")] : null,
        h("button", {type: "button", class: "btn small", "aria-label": `${t("edit")} ${spec.title(row)}`,
                     onclick: (ev) => openDrawer(row, ev.currentTarget)}, t("edit"))])));
    fill($("adm-body"), h("table", {class: "adm-table", dataset: {section: state.section}},
                          h("thead", {}, head), h("tbody", {}, body)));
  }

  async function swap(a, b) {
    const ids = [...state.items].sort((x, y) => x.position - y.position || x.id - y.id).map((r) => r.id);
    const i = ids.indexOf(a.id), j = ids.indexOf(b.id);
    [ids[i], ids[j]] = [ids[j], ids[i]];
    try {
      state.items = (await api("POST", "/api/admin/routing-rules/order", {ids})).items;
      render();
      H.toast(t("reordered"), "ok");
    } catch (e) {
      H.explain(e);
      await load();
    }
  }

  // ---- the drawer -------------------------------------------------------------------------------

  function fieldId(name) { return "f-" + name; }

  function control(field, value, values) {
    const id = fieldId(field.name);
    const common = {id, name: field.name, "aria-describedby": `${id}-error${field.hint ? ` ${id}-hint` : ""}`, ...(field.attrs || {})};
    switch (field.type) {
      case "select": {
        const opts = field.options(values);
        const current = value === null || value === undefined ? "" : String(value);
        if (!opts.some(([v]) => v === current)) opts.push([current, current || t("none_option")]);
        return h("select", common, opts.map(([v, label]) => h("option", {value: v, selected: v === current}, label)));
      }
      case "checkbox":
        return h("input", {...common, type: "checkbox", checked: !!value});
      case "textarea":
        return h("textarea", {...common}, value || "");
      case "lines":
        return h("textarea", {...common, rows: (field.attrs && field.attrs.rows) || 4}, lines(value));
      case "checks": {
        const chosen = new Set(value || []);
        return h("div", {class: "checks", id, role: "group", "aria-describedby": `${id}-error`},
          field.options(values).map(([v, label]) => h("label", {class: "check"},
            h("input", {type: "checkbox", value: v, checked: chosen.has(v)}), " ", label)));
      }
      default:
        return h("input", {...common, type: field.type, value: value === null || value === undefined ? "" : String(value),
                           list: field.list ? `${id}-list` : null});
    }
  }

  function fieldBlock(field, value, values) {
    const id = fieldId(field.name);
    const label = t(field.label || "f_" + field.name);
    const input = control(field, value, values);
    const parts = field.type === "checkbox"
      ? [h("label", {class: "check", for: id}, input, " ", label)]
      : [field.type === "checks" ? h("span", {class: "label", id: `${id}-label`}, label) : h("label", {for: id}, label), input];
    if (field.type === "checks") input.setAttribute("aria-labelledby", `${id}-label`);
    if (field.list && state.ref) {
      parts.push(h("datalist", {id: `${id}-list`}, (state.ref[field.list] || []).map((x) => h("option", {value: x}))));
    }
    if (field.hint) parts.push(h("p", {class: "hint muted", id: `${id}-hint`}, t(field.hint)));
    parts.push(h("p", {class: "field-error", id: `${id}-error`, hidden: true}));
    return h("div", {class: "field" + (field.half ? " half" : ""), dataset: {field: field.name}}, parts);
  }

  function formFields(spec, creating) {
    return spec.fields.filter((f) => !(creating ? f.editOnly : f.createOnly));
  }

  function readValue(field) {
    const el = $(fieldId(field.name));
    if (!el) return undefined;
    switch (field.type) {
      case "checkbox": return el.checked;
      case "lines": return fromLines(el.value);
      case "checks": return [...el.querySelectorAll("input:checked")].map((c) => c.value);
      case "number": {
        if (el.value.trim() === "") return null;
        const n = Number(el.value);
        return Number.isNaN(n) ? el.value : n;
      }
      case "select": return el.value === "" && field.nullable ? null : el.value;
      case "textarea": return el.value;
      default: {
        const v = el.value.trim();
        return v === "" && field.nullable ? null : v;
      }
    }
  }

  function currentValues(spec, creating) {
    const values = {...(state.editing || {})};
    for (const field of formFields(spec, creating)) {
      const v = readValue(field);
      if (v !== undefined) values[field.name] = v;
    }
    return values;
  }

  function buildFields(spec, creating, values) {
    const box = $("drawer-fields");
    fill(box, formFields(spec, creating).map((f) => fieldBlock(f, values[f.name], values)));
    applyVisibility(spec, creating);
  }

  function applyVisibility(spec, creating) {
    const values = currentValues(spec, creating);
    for (const field of formFields(spec, creating)) {
      const block = document.querySelector(`[data-field="${field.name}"]`);
      if (block && field.show) block.hidden = !field.show(values);
    }
  }

  function openDrawer(row, opener) {
    const spec = SECTIONS[state.section];
    const creating = !row;
    state.editing = creating ? null : row;
    state.creating = creating;
    state.opener = opener || document.activeElement;
    $("drawer-title").textContent = creating ? `${t("create_title")} · ${t(state.section)}` : `${t("edit_title")} · ${spec.title(row)}`;
    clearErrors();
    buildFields(spec, creating, creating ? spec.blank() : row);
    const danger = $("drawer-danger");
    // Nobody switches off their own account (the server refuses it too).
    const self = state.section === "users" && row && row.id === H.config.user.id;
    danger.hidden = creating || self || !(spec.hasActive || spec.deletable);
    danger.className = "btn " + (spec.deletable || (row && row.active !== false) ? "danger" : "ok");
    danger.textContent = spec.deletable ? t("delete") : row && row.active === false ? t("reactivate") : t("deactivate");
    $("password-form").hidden = creating || state.section !== "users";
    $("pw-new").value = "";
    $("adm-drawer").hidden = false;
    $("adm-scrim").hidden = false;
    const first = $("drawer-fields").querySelector("input:not([type=checkbox]), select, textarea");
    if (first) first.focus();
  }

  function closeDrawer() {
    if ($("adm-drawer").hidden) return;
    $("adm-drawer").hidden = true;
    $("adm-scrim").hidden = true;
    forgetKey();
    state.editing = null;
    if (state.opener && document.body.contains(state.opener)) state.opener.focus();
  }

  function clearErrors() {
    $("form-error").hidden = true;
    document.querySelectorAll("#adm-drawer .field-error").forEach((el) => { el.hidden = true; el.textContent = ""; });
    document.querySelectorAll("#adm-drawer [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  /* Show a refusal: each named field gets its message under it; the rest go on top. */
  function showErrors(error, prefix) {
    const fields = (error && error.fields) || {};
    const loose = [];
    let first = null;
    for (const [name, message] of Object.entries(fields)) {
      const base = name.split(".")[0];
      const slot = $(`${prefix}${base}-error`);
      if (slot && !slot.parentElement.closest("[hidden]")) {
        slot.textContent = localMessage(message);
        slot.hidden = false;
        const input = $(`${prefix}${base}`);
        if (input) {
          input.setAttribute("aria-invalid", "true");
          first = first || input;
        }
      } else {
        loose.push(`${t("f_" + base) === "f_" + base ? base : t("f_" + base)}: ${localMessage(message)}`);
      }
    }
    const top = $("form-error");
    const hasFields = Object.keys(fields).length > 0;
    fill(top, hasFields ? t("fix_fields") : error.message, loose.length ? h("ul", {}, loose.map((m) => h("li", {}, m))) : null);
    top.hidden = false;
    if (first) first.focus();
  }

  function changedFields(spec, values) {
    if (state.creating) {
      const out = {};
      for (const field of formFields(spec, true)) {
        const block = document.querySelector(`[data-field="${field.name}"]`);
        if (block && block.hidden) continue;
        out[field.name] = values[field.name];
      }
      return out;
    }
    const out = {};
    for (const field of formFields(spec, false)) {
      const block = document.querySelector(`[data-field="${field.name}"]`);
      if (block && block.hidden) continue;
      if (JSON.stringify(values[field.name]) !== JSON.stringify(state.editing[field.name])) out[field.name] = values[field.name];
    }
    return out;
  }

  async function save(event) {
    event.preventDefault();
    if (!state.creating && !state.editing) return;  // the drawer shows an issued key: nothing to save
    const spec = SECTIONS[state.section];
    clearErrors();
    const values = currentValues(spec, state.creating);
    const body = changedFields(spec, values);
    if (!state.creating && !Object.keys(body).length) { closeDrawer(); return; }
    const button = $("drawer-save");
    button.disabled = true;
    try {
      const answer = await api(state.creating ? "POST" : "PATCH", state.creating ? spec.path : spec.item(state.editing), body);
      H.toast(state.creating ? t("created") : t("saved"), "ok");
      if (state.creating && spec.created) spec.created(answer);
      else closeDrawer();
      await refreshReference();
      await load();
    } catch (e) {
      if (e instanceof H.ApiError && (e.status === 400 || e.status === 422)) showErrors(e, "f-");
      else {
        H.explain(e, $("form-error"));
        if (e.status === 404 || e.status === 409) await load();
      }
    } finally {
      button.disabled = false;
    }
  }

  async function dangerAction() {
    const spec = SECTIONS[state.section];
    const row = state.editing;
    if (!row) return;
    clearErrors();
    try {
      if (spec.deletable) {
        if (!window.confirm(t("confirm_delete"))) return;
        await api("DELETE", spec.item(row));
        H.toast(t("deleted"), "ok");
      } else {
        const on = row.active === false;
        if (!on && !window.confirm(t("confirm_deactivate"))) return;
        await api("PATCH", spec.item(row), {active: on});
        H.toast(on ? t("reactivated") : t("deactivated"), "ok");
      }
      closeDrawer();
      await refreshReference();
      await load();
    } catch (e) {
      if (e instanceof H.ApiError && (e.status === 400 || e.status === 422)) showErrors(e, "f-");
      else H.explain(e, $("form-error"));
    }
  }

  async function resetPassword(event) {
    event.preventDefault();
    const slot = $("pw-new-error");
    slot.hidden = true;
    $("pw-new").removeAttribute("aria-invalid");
    try {
      await api("POST", `/api/admin/users/${state.editing.id}/password`, {password: $("pw-new").value});
      $("pw-new").value = "";
      H.toast(t("password_was_reset"), "ok");
    } catch (e) {
      const message = (e.fields && e.fields.password) || e.message;
      slot.textContent = localMessage(message);
      slot.hidden = false;
      $("pw-new").setAttribute("aria-invalid", "true");
      $("pw-new").focus();
    }
  }

  // ---- API keys ------------------------------------------------------------------------------------

  /* Show a key just issued, once. It is kept only in this box (never in state or storage), and
   * closing the drawer empties the box: the server cannot show it again either. */
  function revealKey(issued) {
    state.creating = false;
    $("drawer-title").textContent = `${t("api_keys")} · ${issued.name}`;
    $("drawer-fields").hidden = true;
    $("drawer-save").hidden = true;
    $("drawer-cancel").textContent = t("close");
    $("key-value").textContent = issued.key;
    $("key-copied").textContent = "";
    $("key-issued").hidden = false;
    $("key-copy").focus();
  }

  function forgetKey() {
    $("key-value").textContent = "";
    $("key-copied").textContent = "";
    $("key-issued").hidden = true;
    $("drawer-fields").hidden = false;
    $("drawer-save").hidden = false;
    $("drawer-cancel").textContent = t("cancel");
  }

  /* The clipboard is refused on a plain-http page or without permission: then the key is
   * selected, ready for Ctrl+C. */
  async function copyKey() {
    const value = $("key-value"), said = $("key-copied");
    try {
      await navigator.clipboard.writeText(value.textContent);
      said.textContent = t("copied");
    } catch (e) {
      value.focus();
      const range = document.createRange();
      range.selectNodeContents(value);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      said.textContent = t("copy_by_hand");
    }
  }

  async function revokeKey(row, button) {
    if (!window.confirm(t("confirm_revoke"))) return;
    button.disabled = true;
    try {
      await api("DELETE", SECTIONS.api_keys.item(row));
    } catch (e) {
      button.disabled = false;
      H.explain(e, $("adm-error"));
      return;
    }
    H.toast(t("key_revoked"), "ok");
    state.justRevoked.add(row.name);
    await load();
    // The button is gone with the key: keep the keyboard on the row, where it now says revoked.
    const status = document.querySelector(`tr[data-key="${CSS.escape(row.name)}"] td[data-col="status"]`);
    if (status) { status.tabIndex = -1; status.focus(); }
  }

  async function refreshReference() {
    try { state.ref = await api("GET", "/api/admin/reference"); } catch (e) { /* the lists keep the old names */ }
  }

  // ---- the audit log -------------------------------------------------------------------------------

  const ENTITIES = ["user", "contact_point", "hospital", "category", "routing_rule", "sla_policy", "canned_response",
                    "api_key", "calendar_day"];

  async function prepareAuditFilters() {
    if (!state.users.length) {
      try { state.users = (await api("GET", "/api/admin/users")).items; } catch (e) { state.users = []; }
    }
    const entity = $("a-entity"), actor = $("a-actor");
    const keepEntity = entity.value, keepActor = actor.value;
    fill(entity, h("option", {value: ""}, t("all")), ENTITIES.map((e) => h("option", {value: e}, t("e_" + e))));
    fill(actor, h("option", {value: ""}, t("all")),
         state.users.filter((u) => u.role === "admin").map((u) => h("option", {value: String(u.id)}, u.display_name || u.username)));
    entity.value = keepEntity;
    actor.value = keepActor;
  }

  async function loadAudit() {
    await prepareAuditFilters();
    const params = new URLSearchParams({page: String(state.audit.page), per_page: String(state.audit.perPage)});
    for (const [k, v] of Object.entries(state.audit.query)) if (v) params.set(k, v);
    const data = await api("GET", "/api/admin/audit?" + params.toString());
    state.audit.total = data.total;
    const count = document.querySelector('[data-count="audit"]');
    if (count) count.textContent = "";
    renderAudit(data.items);
    renderPager();
  }

  function show_(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
    if (typeof value === "boolean") return value ? t("yes") : t("no");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  const SECTION_OF = Object.fromEntries(Object.entries(SECTIONS).map(([name, spec]) => [spec.entity, name]));

  function fieldOrder(entity) {
    const spec = SECTIONS[SECTION_OF[entity]];
    return spec ? ["code", "username", ...spec.fields.map((f) => f.name)] : [];
  }

  /* A field's name as its form labels it (a section may label a shared name its own way). */
  function fieldLabel(entity, key) {
    const spec = SECTIONS[SECTION_OF[entity]];
    const field = spec && spec.fields.find((f) => f.name === key);
    const code = (field && field.label) || "f_" + key;
    return t(code) === code ? key : t(code);
  }

  function valueText(key, value) {
    if (key === "role" && value) return roleLabel(value);
    if (key === "clock" && value) return t("clock_" + value);
    if (key === "hours" && value) return t("hours_" + value);
    if (key === "scopes" && Array.isArray(value)) return value.length ? value.map(scopeLabel).join(", ") : "—";
    return show_(value);
  }

  /* What the entry is about, in a few words (the key alone says little for a rule). */
  function summary(entry) {
    const r = entry.after || entry.before || {};
    switch (entry.entity) {
      case "routing_rule": return r.contact_point ? `${isAny(r.category) ? t("any") : r.category} → ${r.contact_point}` : "";
      case "sla_policy": return r.name || (r.clock ? `${r.line} · ${t("clock_" + r.clock)}` : "");
      case "canned_response": return r.title || "";
      case "contact_point": return r.name_vi || "";
      case "hospital": return r.name || "";
      case "category": return r.name_vi || "";
      case "api_key": return r.key_prefix ? r.key_prefix + "…" : "";
      default: return r.display_name || "";
    }
  }

  function diff(entry) {
    const before = entry.before || {}, after = entry.after || {};
    const order = fieldOrder(entry.entity);
    const rank = (k) => (order.indexOf(k) === -1 ? 999 : order.indexOf(k));
    const empty = (v) => v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length);
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => k !== "id" && (k !== "position" || entry.entity === "canned_response"))
      .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      // A new record lists what it was given; a deleted one what it had.
      .filter((k) => entry.before && entry.after || !empty(entry.after ? after[k] : before[k]))
      .sort((a, b) => rank(a) - rank(b));
    if (!keys.length) return muted("—");
    if (keys.length === 1 && keys[0] === "order") {
      // A reorder: name the rules that moved rather than two lists of every id.
      const moved = (after.order || []).filter((id, i) => (before.order || [])[i] !== id);
      return h("span", {}, t("reordered") + ": ", h("span", {class: "mono"}, moved.map((id) => "#" + id).join(", ")));
    }
    return h("dl", {class: "diff"}, keys.map((k) => [
      h("dt", {}, fieldLabel(entry.entity, k)),
      h("dd", {},
        entry.before && k in before ? h("del", {}, valueText(k, before[k])) : null,
        entry.before && entry.after ? h("span", {class: "arrow", "aria-hidden": "true"}, " → ") : null,
        entry.after && k in after ? h("ins", {}, valueText(k, after[k])) : null),
    ]));
  }

  // A key is revoked rather than deactivated: it never comes back.
  const actionLabel = (e) => t(e.entity === "api_key" && e.action === "deactivate" ? "a_revoke" : "a_" + e.action);

  function renderAudit(items) {
    if (!items.length) {
      fill($("adm-body"), h("p", {class: "empty"}, t("empty")));
      return;
    }
    fill($("adm-body"), h("table", {class: "adm-table audit"},
      h("thead", {}, h("tr", {}, ["when", "who", "what", "action", "changes"].map((k) => h("th", {scope: "col"}, t(k))))),
      h("tbody", {}, items.map((e) => h("tr", {dataset: {entity: e.entity, key: e.key}},
        h("td", {class: "nowrap"}, H.dateTime(e.at)),
        h("td", {}, e.actor),
        h("td", {}, h("span", {class: "muted"}, t("e_" + e.entity)), " ",
          h("span", {class: "mono"}, e.entity === "routing_rule" && e.key !== "order" ? "#" + e.key : e.key),
          summary(e) ? h("div", {class: "what"}, summary(e)) : null),
        h("td", {}, h("span", {class: "act-" + e.action}, actionLabel(e))),
        h("td", {}, diff(e)))))));
  }

  function renderPager() {
    const {page, perPage, total} = state.audit;
    const first = total ? (page - 1) * perPage + 1 : 0, last = Math.min(page * perPage, total);
    fill($("adm-pager"),
      h("button", {type: "button", class: "btn small", disabled: page <= 1, onclick: () => { state.audit.page -= 1; load(); }}, "← " + t("previous")),
      h("span", {class: "muted"}, `${first}–${last} ${t("page_of")} ${total}`),
      h("button", {type: "button", class: "btn small", disabled: last >= total, onclick: () => { state.audit.page += 1; load(); }}, t("next") + " →"));
  }

  // ---- wiring ---------------------------------------------------------------------------------------

  let pending = null;
  function changedElsewhere(payload) {
    // Another console (or this one) changed something: reload what is shown, once per burst.
    clearTimeout(pending);
    pending = setTimeout(async () => {
      if (payload.entity !== "user") await refreshReference();
      const spec = SECTIONS[state.section];
      if (state.section === "audit" || (spec && spec.entity === payload.entity)) {
        if ($("adm-drawer").hidden) await load();
      }
    }, 300);
  }

  function init() {
    window.addEventListener("hashchange", () => show(sectionFromHash()));
    $("adm-q").addEventListener("input", render);
    $("adm-inactive").addEventListener("change", render);
    fill($("adm-year"), [-1, 0, 1, 2, 3].map((k) => h("option", {value: String(THIS_YEAR + k), selected: k === 0},
                                                      String(THIS_YEAR + k))));
    $("adm-year").addEventListener("change", () => { state.year = Number($("adm-year").value); load(); });
    $("adm-new").addEventListener("click", (ev) => openDrawer(null, ev.currentTarget));
    $("adm-form").addEventListener("submit", save);
    $("adm-form").addEventListener("change", () => applyVisibility(SECTIONS[state.section], state.creating));
    $("adm-form").addEventListener("change", (ev) => {
      if (ev.target.name === "district_code" && SECTIONS[state.section].fields.some((f) => f.name === "ward_code")) {
        // The ward list follows the district chosen.
        const values = currentValues(SECTIONS[state.section], state.creating);
        const field = SECTIONS[state.section].fields.find((f) => f.name === "ward_code");
        const old = $(fieldId("ward_code"));
        old.replaceWith(control(field, values.ward_code, values));
      }
    });
    $("drawer-close").addEventListener("click", closeDrawer);
    $("drawer-cancel").addEventListener("click", closeDrawer);
    $("adm-scrim").addEventListener("click", closeDrawer);
    $("drawer-danger").addEventListener("click", dangerAction);
    $("password-form").addEventListener("submit", resetPassword);
    $("key-copy").addEventListener("click", copyKey);
    document.addEventListener("keydown", (ev) => {
      if ($("adm-drawer").hidden) return;
      if (ev.key === "Escape") { closeDrawer(); return; }
      if (ev.key !== "Tab") return;
      // Keep the keyboard inside the open drawer (it is modal).
      const focusable = [...$("adm-drawer").querySelectorAll("input, select, textarea, button")]
        .filter((el) => !el.disabled && el.offsetParent !== null);
      if (!focusable.length) return;
      const first = focusable[0], last = focusable[focusable.length - 1];
      if (ev.shiftKey && document.activeElement === first) { last.focus(); ev.preventDefault(); }
      else if (!ev.shiftKey && document.activeElement === last) { first.focus(); ev.preventDefault(); }
    });
    $("audit-filters").addEventListener("submit", (ev) => {
      ev.preventDefault();
      state.audit.page = 1;
      state.audit.query = {entity: $("a-entity").value, actor: $("a-actor").value, key: $("a-key").value.trim(),
                           from: $("a-from").value, to: $("a-to").value};
      load().catch((e) => H.explain(e, $("adm-error")));
    });
    show(sectionFromHash());
    H.live({"config.changed": changedElsewhere}, () => load());
  }

  init();
})();
