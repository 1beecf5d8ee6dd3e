/* The supervisor wallboard: KPI tiles, charts and lists from GET /api/supervisor/wallboard.
 *
 * The whole board is refetched — debounced to one request a second — on every ticket, call,
 * SLA and dispatch event, on every (re)connection, and every 30 s anyway; numbers that changed
 * flash briefly. Thresholds are shown by colour *and* by a word and a sign (✓ ! ✕).
 * User text (descriptions, names) only ever reaches the page as text nodes.
 */
(function () {
  "use strict";

  const H = window.Hotline;
  const {h, t, fill} = H;
  const page = H.config.page || {};
  const english = H.config.locale === "en";
  const locale = english ? "en-GB" : "vi-VN";
  const ACK_TARGET = Number(page.ack_target_seconds || 60);
  const REFRESH_DELAY = 1000;
  const EVERY = 30000;
  const EVENTS = ["ticket.created", "ticket.updated", "call.incoming", "call.ended", "sla.warning",
                  "sla.breached", "dispatch.escalated"];
  const COLOURS = {good: "#2e7d32", watch: "#b26a00", bad: "#c62828", none: "#8a94a3",
                   brand: "#0b5cad", grey: "#9aa5b4"};
  const SIGNS = {good: "✓", watch: "!", bad: "✕", none: "–"};

  const root = document.getElementById("wallboard");
  const one = new Intl.NumberFormat(locale, {minimumFractionDigits: 1, maximumFractionDigits: 1});
  const whole = new Intl.NumberFormat(locale);
  const clockTime = new Intl.DateTimeFormat(locale, {timeZone: H.config.timezone, hour: "2-digit",
                                                      minute: "2-digit", second: "2-digit"});

  let data = null;
  let fetchedAt = 0;
  let timer = null;
  let inflight = false;
  let again = false;
  let rendered = false;
  const charts = {};

  // ---- small helpers ---------------------------------------------------------------------

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  }
  const pct = (v) => (v === null || v === undefined ? "—" : `${one.format(v)} %`);
  const num = (v) => (v === null || v === undefined ? "—" : whole.format(v));
  const secs = (v) => (v === null || v === undefined ? "—" : H.duration(v));
  const hours = (v) => (v === null || v === undefined ? "—" : fmt(t("hours"), {n: one.format(v / 3600)}));

  /* good / watch / bad / none for a value against two limits (higher is better unless lower). */
  function verdict(value, good, watch, lowerIsBetter) {
    if (value === null || value === undefined) return "none";
    if (lowerIsBetter) return value <= good ? "good" : value <= watch ? "watch" : "bad";
    return value >= good ? "good" : value >= watch ? "watch" : "bad";
  }
  const verdictText = (state) => `${SIGNS[state]} ${t(state === "none" ? "no_data" : state)}`;

  function unitName(unit) {
    if (!unit) return t("not_routed");
    return english ? unit.name_en.replace(/^Binh Duong (Provincial )?/, "").replace(/^Department of /, "")
                   : unit.short;
  }
  const fullName = (unit) => (unit ? (english ? unit.name_en : unit.name) : t("not_routed"));
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

  /* Briefly highlight an element whose number just changed (not on the first paint). */
  function flash(el) {
    if (!rendered) return;
    el.classList.remove("changed");
    void el.offsetWidth;  // restart the animation
    el.classList.add("changed");
    setTimeout(() => el.classList.remove("changed"), 2200);
  }

  /* Set a [data-key] element's text (and raw value), flashing it when it changed. */
  function put(key, text, raw) {
    const el = root.querySelector(`[data-key="${key}"]`);
    if (!el) return;
    if (raw !== undefined) el.dataset.value = raw === null ? "" : String(raw);
    if (el.textContent !== text) {
      el.textContent = text;
      flash(el);
    }
  }

  function judge(tileId, state) {
    const tile = document.getElementById(`tile-${tileId}`);
    tile.dataset.state = state;
    const label = tile.querySelector("[data-verdict]");
    if (label) label.textContent = verdictText(state);
  }

  // ---- tiles -------------------------------------------------------------------------------

  function lineOf(lines, line) { return lines.find((l) => l.line === line) || {}; }

  function waitedNow() {
    const base = data.calls.total.longest_wait_seconds;
    return base === null ? null : base + (Date.now() - fetchedAt) / 1000;
  }

  function renderWait() {
    if (!data) return;
    const waited = waitedNow();
    const el = root.querySelector('[data-key="longest_wait"]');
    el.textContent = waited === null ? t("nobody_waiting") : fmt(t("longest_wait"), {time: H.duration(waited)});
    judge("waiting", waited === null ? "good" : verdict(waited, 15, 60, true));
  }

  function renderTiles(d) {
    const c = d.calls.total, lines = d.calls.lines;
    put("calls_now", num(c.active), c.active);
    put("calls_lines", `1022: ${num(lineOf(lines, "1022").active)} · 115: ${num(lineOf(lines, "115").active)}`);
    put("calls_today", `${fmt(t("calls_today"), {n: num(c.today)})} · ${fmt(t("abandoned"), {n: num(c.abandoned)})}`);
    put("waiting", num(c.waiting), c.waiting);
    renderWait();
    put("answered_15s_pct", pct(c.answered_15s_pct), c.answered_15s_pct);
    put("answered_of", c.answered ? fmt(t("answered_of"), {n: num(c.answered_15s), total: num(c.answered)})
                                  : t("no_answered"));
    judge("answer", verdict(c.answered_15s_pct, 90, 80));
    put("on_duty_operator", num(d.on_duty.operator), d.on_duty.operator);
    put("on_duty_dispatcher", num(d.on_duty.dispatcher), d.on_duty.dispatcher);
    const o = d.open;
    put("open_total", num(o.total), o.total);
    put("open_status", ["new", "assigned", "in_progress"]
      .map((s) => `${t("status_" + s)} ${num(o.by_status[s] || 0)}`).join(" · "));
    put("open_lines", `1022: ${num(o.by_line["1022"] || 0)} · 115: ${num(o.by_line["115"] || 0)}`);
    put("breached_total", num(d.breached.total), d.breached.total);
    put("at_risk_total", fmt(t("at_risk_n"), {n: num(d.at_risk.total)}), d.at_risk.total);
    judge("breached", d.breached.total > 0 ? "bad" : d.at_risk.total > 0 ? "watch" : "good");
    const s = d.satisfaction;
    put("satisfaction_pct", pct(s.pct), s.pct);
    put("surveys", s.surveys ? fmt(t("surveys_of"), {n: num(s.satisfied), total: num(s.surveys)}) : t("no_surveys"));
    judge("satisfaction", verdict(s.pct, 80, 60));
    const a = d.ack_115;
    put("ack_median", secs(a.median_seconds), a.median_seconds);
    put("ack_p90", `${fmt(t("p90"), {time: secs(a.p90_seconds)})} · ${fmt(t("acks_today"), {n: num(a.count)})}`);
    put("ack_awaiting", fmt(t("awaiting"), {n: num(a.awaiting)}), a.awaiting);
    judge("ack", verdict(a.median_seconds, ACK_TARGET, 2 * ACK_TARGET, true));
  }

  // ---- tables --------------------------------------------------------------------------------

  /* Replace a table body, flashing the cells whose text changed since the last render and the
   * rows that are new. Each row: {key, cells: [{text, node?, cls?, live?}]}. */
  function renderRows(table, rows, emptyText) {
    const body = table.tBodies[0];
    const before = new Map();
    body.querySelectorAll("tr[data-row]").forEach((tr) => {
      before.set(tr.dataset.row, [...tr.cells].map((td) => td.textContent));
    });
    if (!rows.length) {
      fill(body, h("tr", {}, h("td", {class: "empty", colspan: table.tHead.rows[0].cells.length}, emptyText)));
      return;
    }
    fill(body, rows.map((row) => {
      const tr = h("tr", {dataset: {row: row.key}, class: row.cls || null},
        row.cells.map((cell) => h("td", {class: cell.cls || null, title: cell.title || null,
                                         dataset: cell.live ? {live: "1"} : null}, cell.node || cell.text)));
      if (row.href) {
        tr.classList.add("link-row");
        tr.addEventListener("click", (event) => {
          if (!event.target.closest("a")) window.location.assign(row.href);
        });
      }
      return tr;
    }));
    if (!rendered) return;
    body.querySelectorAll("tr[data-row]").forEach((tr) => {
      const old = before.get(tr.dataset.row);
      if (!old) { flash(tr); return; }
      [...tr.cells].forEach((td, i) => { if (!td.dataset.live && old[i] !== td.textContent) flash(td); });
    });
  }

  const ticketHref = (id) => `/tickets/${encodeURIComponent(Number(id))}`;

  function ticketLink(item) {
    const code = H.code(item);
    return h("a", {href: ticketHref(item.ticket_id), class: "mono", "aria-label": fmt(t("open_ticket"), {code})},
             code);
  }

  /* "09:30" today, "24/11 17:00" another day: the API's times are already local ISO 8601. */
  function when(iso) {
    if (!iso) return "—";
    const hm = iso.slice(11, 16);
    return iso.slice(0, 10) === data.today ? hm : `${iso.slice(8, 10)}/${iso.slice(5, 7)} ${hm}`;
  }

  function unitOf(item) { return item.line === "115" ? item.hospital : item.contact_point; }

  function riskRows(items, late) {
    return items.map((item) => ({
      key: String(item.ticket_id), href: ticketHref(item.ticket_id),
      cells: [
        {node: h("span", {}, ticketLink(item), " ", h("span", {class: `line l${item.line}`}, item.line)),
         text: H.code(item)},
        {text: clip(unitName(unitOf(item)), 34), title: `${fullName(unitOf(item))} — ${item.description}`},
        {text: item.clocks.map((c) => t(c)).join(", "), title: (H.config.labels.status || {})[item.status]},
        {text: when(item.due_at), cls: "when", title: H.dateTime(item.due_at)},
        {node: H.countdown(item.due_at, late ? 0 : 1e9), cls: "num", live: true},
      ]}));
  }

  function renderLists(d) {
    renderRows(document.getElementById("at-risk"), riskRows(d.at_risk.items, false), t("nothing_at_risk"));
    renderRows(document.getElementById("breached"), riskRows(d.breached.items, true), t("nothing_breached"));
    const showing = (list) => (list.items.length < list.total
      ? fmt(t("showing"), {n: num(list.items.length), total: num(list.total)}) : num(list.total));
    put("at_risk_count", showing(d.at_risk));
    put("breached_count", showing(d.breached));

    const pctCell = (v, good, watch) => {
      const state = verdict(v, good, watch);
      return {text: v === null ? "—" : `${SIGNS[state]} ${pct(v)}`, cls: `num v-${state}`,
              title: v === null ? t("no_data") : t(state)};
    };
    renderRows(document.getElementById("contact-points"), d.contact_points.map((r) => ({
      key: r.unit.code, cls: r.breached ? "has-breach" : null,
      cells: [
        {text: clip(unitName(r.unit), 40), title: fullName(r.unit)},
        {text: num(r.open), cls: "num"},
        {text: num(r.at_risk), cls: r.at_risk ? "num v-watch" : "num"},
        {text: num(r.breached), cls: r.breached ? "num v-bad" : "num"},
        pctCell(r.on_time_7d, 90, 75),
        pctCell(r.on_time_30d, 90, 75),
        pctCell(r.first_response_30d, 90, 75),
        {text: hours(r.median_resolution_seconds_30d), cls: "num"},
        pctCell(r.satisfaction_30d, 80, 60),
      ]})), t("no_contact_points"));
    put("cp_count", num(d.contact_points.length));

    renderRows(document.getElementById("acks"), d.ack_115.cases.map((c) => {
      const state = verdict(c.seconds, ACK_TARGET, 2 * ACK_TARGET, true);
      return {key: String(c.ticket_id), href: ticketHref(c.ticket_id), cells: [
        {node: ticketLink(c), text: H.code(c)},
        {text: clip(c.hospital ? c.hospital.name : "—", 34), title: c.hospital ? c.hospital.name : ""},
        {text: H.time(c.called_at)},
        {text: H.time(c.acknowledged_at)},
        {text: `${SIGNS[state]} ${H.duration(c.seconds)}`, cls: `num v-${state}`, title: t(state)},
      ]};
    }), t("no_acks"));
    put("ack_count", num(d.ack_115.count));

    renderRows(document.getElementById("lines"), d.calls.lines.map((l) => ({
      key: l.line, cells: [
        {text: l.line}, {text: num(l.active), cls: "num"}, {text: num(l.waiting), cls: "num"},
        {text: num(l.today), cls: "num"},
        {text: `${pct(l.answered_15s_pct)} (${num(l.answered_15s)}/${num(l.answered)})`, cls: "num"},
        {text: num(l.abandoned), cls: "num"},
      ]})), "—");
    renderNuisance(d);
  }

  /* 115's nuisance calls (cancelled as pranks, silent or abusive calls), today and 30 days. */
  function renderNuisance(d) {
    const line = (d.nuisance_calls || []).find((n) => n.line === "115");
    document.getElementById("nuisance-115").hidden = !line;
    if (!line) return;
    put("nuisance_today", num(line.today), line.today);
    put("nuisance_30d", num(line.days_30), line.days_30);
  }

  // ---- charts ------------------------------------------------------------------------------

  /* Writes each bar's value (with its threshold sign) at the bar's end: colour is never alone. */
  const barLabels = {
    id: "wbBarLabels",
    afterDatasetsDraw(chart, _args, options) {
      if (!options || !options.enabled) return;
      const {ctx} = chart;
      ctx.save();
      ctx.font = `600 ${Chart.defaults.font.size}px system-ui, sans-serif`;
      ctx.fillStyle = "#1d2733";
      ctx.textBaseline = "middle";
      chart.getDatasetMeta(0).data.forEach((bar, i) => {
        const text = options.text(i);
        if (text) ctx.fillText(text, bar.x + 4, bar.y);
      });
      ctx.restore();
    },
  };

  function makeCharts() {
    if (typeof Chart === "undefined") return;
    Chart.defaults.font.size = window.innerWidth >= 1800 ? 15 : 12;
    Chart.defaults.color = "#1d2733";
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    charts.hourly = new Chart(document.getElementById("chart-hourly"), {
      data: {labels: Array.from({length: 24}, (_v, i) => String(i)), datasets: [
        {type: "bar", label: t("today"), data: [], backgroundColor: COLOURS.brand, order: 2},
        {type: "line", label: t("last_week"), data: [], borderColor: COLOURS.grey, backgroundColor: COLOURS.grey,
         borderDash: [5, 4], pointRadius: 2, tension: 0.25, order: 1},
      ]},
      options: {plugins: {legend: {position: "bottom", labels: {boxWidth: 14}}},
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}, x: {title: {display: false}}}},
    });
    const horizontal = (id, extra) => new Chart(document.getElementById(id), {
      type: "bar",
      data: {labels: [], datasets: [{data: [], backgroundColor: [], barThickness: "flex", maxBarThickness: 18}]},
      options: {indexAxis: "y", layout: {padding: {right: 64}},
                plugins: {legend: {display: false}, wbBarLabels: extra.labels,
                          tooltip: {callbacks: {title: (items) => extra.titles[items[0].dataIndex] || ""}}},
                scales: {x: extra.x, y: {ticks: {autoSkip: false}}}},
      plugins: [barLabels],
    });
    const openTitles = [], onTimeTitles = [];
    charts.open = horizontal("chart-open", {
      titles: openTitles, x: {beginAtZero: true, ticks: {precision: 0}},
      labels: {enabled: true, text: (i) => num(charts.open.data.datasets[0].data[i])}});
    charts.open.titles = openTitles;
    charts.onTime = horizontal("chart-on-time", {
      titles: onTimeTitles, x: {min: 0, max: 100, ticks: {callback: (v) => `${v} %`}},
      labels: {enabled: true, text: (i) => charts.onTime.labelsText[i] || ""}});
    charts.onTime.titles = onTimeTitles;
    charts.onTime.labelsText = [];
  }

  function onTimeRows(d) {
    return d.contact_points.filter((r) => r.on_time_30d !== null)
      .sort((a, b) => a.on_time_30d - b.on_time_30d || a.unit.code.localeCompare(b.unit.code)).slice(0, 12);
  }

  function openRows(d) {
    const rows = d.open.by_contact_point.map((c) => ({label: unitName(c.unit), title: fullName(c.unit),
                                                      code: c.unit.code, count: c.count}));
    if (d.open.other_contact_points) {
      const label = fmt(t("others"), {n: num(d.open.other_contact_point_count)});
      rows.push({label, title: label, code: "", count: d.open.other_contact_points});
    }
    return rows;
  }

  function renderCharts(d) {
    if (!charts.hourly) return;
    charts.hourly.data.datasets[0].data = d.hourly.today;
    charts.hourly.data.datasets[1].data = d.hourly.last_week;
    charts.hourly.data.datasets[1].label = `${t("last_week")} (${d.hourly.last_week_date.split("-").reverse().join("/")})`;
    charts.hourly.update("none");

    const open = openRows(d);
    charts.open.data.labels = open.map((r) => clip(r.label, 24));
    charts.open.titles.splice(0, Infinity, ...open.map((r) => r.title));
    charts.open.data.datasets[0].data = open.map((r) => r.count);
    charts.open.data.datasets[0].backgroundColor = open.map((r) => (r.code ? COLOURS.brand : COLOURS.grey));
    charts.open.update("none");

    const rows = onTimeRows(d);
    const states = rows.map((r) => verdict(r.on_time_30d, 90, 75));
    charts.onTime.data.labels = rows.map((r) => clip(unitName(r.unit), 24));
    charts.onTime.titles.splice(0, Infinity, ...rows.map((r) => fullName(r.unit)));
    charts.onTime.data.datasets[0].data = rows.map((r) => r.on_time_30d);
    charts.onTime.data.datasets[0].backgroundColor = states.map((s) => COLOURS[s]);
    charts.onTime.labelsText = rows.map((r, i) => `${SIGNS[states[i]]} ${pct(r.on_time_30d)}`);
    charts.onTime.update("none");
  }

  // ---- CSV -------------------------------------------------------------------------------------

  /* "2026-12-02_0900": the board's own local time, whatever the browser's time zone. */
  function stamp() {
    return `${data.today}_${data.generated_at.slice(11, 16).replace(":", "")}`;
  }

  const riskCsv = (items) => [
    [t("ticket"), "id", t("line"), t("status"), t("unit"), t("clock"), t("due"), t("description")],
    items.map((i) => [H.code(i), i.ticket_id, i.line, i.status, fullName(unitOf(i)), i.clocks.join(" "), i.due_at,
                      i.description])];

  const EXPORTS = {
    at_risk: (d) => ["at-risk", ...riskCsv(d.at_risk.items)],
    breached: (d) => ["breached", ...riskCsv(d.breached.items)],
    contact_points: (d) => ["contact-points",
      ["code", t("contact_point"), t("open"), t("at_risk"), t("breached"), t("on_time_7d"), t("on_time_30d_col"),
       t("first_response_30d"), t("median_resolution") + " (s)", t("satisfaction")],
      d.contact_points.map((r) => [r.unit.code, fullName(r.unit), r.open, r.at_risk, r.breached, r.on_time_7d,
                                   r.on_time_30d, r.first_response_30d, r.median_resolution_seconds_30d,
                                   r.satisfaction_30d])],
    acks: (d) => ["115-acknowledgements",
      [t("ticket"), "id", t("hospital"), t("called_at"), t("acknowledged_at"), t("seconds")],
      d.ack_115.cases.map((c) => [H.code(c), c.ticket_id, c.hospital ? c.hospital.name : "", c.called_at,
                                  c.acknowledged_at, c.seconds])],
    lines: (d) => ["calls-by-line",
      [t("line"), "active", "waiting", "today", "answered", "answered_15s", "answered_15s_pct", "abandoned"],
      d.calls.lines.map((l) => [l.line, l.active, l.waiting, l.today, l.answered, l.answered_15s,
                                l.answered_15s_pct, l.abandoned])],
    hourly: (d) => ["calls-per-hour", [t("hour"), t("today"), `${t("last_week")} ${d.hourly.last_week_date}`],
      d.hourly.today.map((n, i) => [i, n, d.hourly.last_week[i]])],
    open_by_cp: (d) => ["open-by-contact-point", ["code", t("contact_point"), t("open")],
      openRows(d).map((r) => [r.code, r.title, r.count])],
    on_time: (d) => ["on-time-30d", ["code", t("contact_point"), t("on_time_30d_col"), "scored"],
      onTimeRows(d).map((r) => [r.unit.code, fullName(r.unit), r.on_time_30d, r.scored_30d])],
  };

  function exportCsv(name) {
    if (!data || !EXPORTS[name]) return;
    const [file, header, rows] = EXPORTS[name](data);
    H.downloadCsv(`wallboard-${file}_${stamp()}.csv`, header, rows);
  }

  // ---- fetching --------------------------------------------------------------------------------

  function render(d) {
    data = d;
    fetchedAt = Date.now();
    renderTiles(d);
    renderCharts(d);
    renderLists(d);
    const updated = document.getElementById("wb-updated");
    updated.textContent = fmt(t("updated"), {time: clockTime.format(new Date(d.generated_at))});
    updated.dataset.stale = "false";
    root.setAttribute("aria-busy", "false");
    root.dataset.generatedAt = d.generated_at;
    rendered = true;
  }

  async function refresh() {
    if (inflight) { again = true; return; }
    inflight = true;
    try {
      render(await H.api("GET", "/api/supervisor/wallboard"));
    } catch (error) {
      document.getElementById("wb-updated").dataset.stale = "true";
      H.explain(error);
    } finally {
      inflight = false;
      if (again) { again = false; schedule(); }
    }
  }

  /* At most one refetch per second, however many events arrive. */
  function schedule() {
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, REFRESH_DELAY);
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-export]");
    if (button) exportCsv(button.dataset.export);
  });

  makeCharts();
  refresh();
  H.live(Object.fromEntries(EVENTS.map((name) => [name, schedule])), schedule);
  setInterval(schedule, EVERY);
  setInterval(renderWait, 1000);
})();
