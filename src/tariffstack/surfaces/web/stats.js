// tariffstack page, the "Average rate" view: the import-weighted effective U.S. tariff rate over
// time by partner group with the legal events marked (/api/effective-rate), and a what-if
// scenario run beside the law (/api/scenario). app.js shows and hides the view (tab "stats");
// this file builds its content when first shown. Every value from the API is inserted as text.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const DAY = 86400000;
  const PARTNERS = ["china", "canada", "mexico", "japan", "eu", "uk", "ftrow", "row"];
  const NAMES = { china: "China", canada: "Canada", mexico: "Mexico", japan: "Japan", eu: "EU", uk: "U.K.",
                  ftrow: "Other FTA partners", row: "Rest of world" };
  const EXAMPLE = [
    "# The Geneva deal a month earlier (docs/examples/scenarios/geneva-a-month-earlier.yaml)",
    "name: geneva-a-month-earlier",
    "events:",
    "  - action: suspend",
    "    headings: 9903.01.63",
    "    effective: 2025-04-14",
    "    end: 2025-05-13",
    "  - action: country_rate",
    "    heading: 9903.01.25",
    "    countries: CN; HK; MO",
    "    effective: 2025-04-14",
    "    end: 2025-05-13",
  ].join("\n");
  const cur = { built: false, series: null, seq: 0, scn: null, shown: new Set(["all", "china", "canada", "mexico", "eu"]) };

  const { el } = window.tariffstackDom;   // dom.js
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  const pct = (x) => (x === null || x === undefined ? "—" : `${Number(x).toFixed(1)}%`);
  const diff = (x) => {
    if (x === null || x === undefined) return "—";
    const t = Number(x).toFixed(1);
    return t === "0.0" || t === "-0.0" ? "0.0" : `${x > 0 ? "+" : ""}${t}`;
  };

  async function call(path, params, body) {
    const qs = params ? "?" + new URLSearchParams(params).toString() : "";
    let resp;
    try {
      resp = await fetch(path + qs, body === undefined ? {} : { method: "POST", body, headers: { "Content-Type": "application/yaml" } });
    } catch (_) { throw new Error("the server cannot be reached"); }
    let data = null;
    try { data = await resp.json(); } catch (_) { data = null; }
    if (!resp.ok) throw new Error((data && data.error && data.error.message) || `request failed (HTTP ${resp.status})`);
    return data;
  }

  // ---- the view ------------------------------------------------------------------------------
  function build() {
    const view = $("view-stats");
    const toggles = el("fieldset", { class: "etr-series" }, el("legend", { class: "small", text: "Lines on the chart" }),
      ...["all", ...PARTNERS].map((p) => el("label", { class: "small" },
        el("input", { type: "checkbox", value: p, checked: cur.shown.has(p), onchange: (e) => {
          if (e.target.checked) cur.shown.add(p); else cur.shown.delete(p);
          if (cur.series) draw();
        } }), ` ${p === "all" ? "All imports" : NAMES[p]}`)));
    view.replaceChildren(
      el("section", { class: "card", id: "etr", "aria-labelledby": "etr-title" },
        el("h2", { id: "etr-title", text: "Average effective U.S. tariff rate" }),
        el("p", { class: "muted small", id: "etr-label" }),
        el("div", { class: "controls" },
          el("label", {}, "From ", el("input", { id: "etr-from", type: "date", value: "2025-01-01" })),
          el("label", {}, "To ", el("input", { id: "etr-to", type: "date" })),
          el("label", {}, "Show ", el("select", { id: "etr-measure", onchange: () => { if (cur.series) draw(); } },
            el("option", { value: "additional", text: "additional duties" }), el("option", { value: "total", text: "total duty (with MFN)" }))),
          el("button", { type: "button", id: "etr-load", class: "secondary", onclick: load, text: "Update" })),
        toggles,
        el("figure", { class: "chart" },
          el("div", { id: "etr-chart", class: "chart-box", "data-state": "loading" }),
          el("p", { id: "etr-readout", class: "readout small", "aria-live": "polite", text: "Hover or tap the chart for the rates in force." }),
          el("figcaption", { id: "etr-caption", class: "muted small" })),
        el("details", { id: "etr-marks-box" }, el("summary", { text: "Legal events marked on the chart" }), el("ol", { id: "etr-marks", class: "small" })),
        el("details", {}, el("summary", { text: "The series as a table" }),
          el("div", { class: "scroll" }, el("table", { id: "etr-table" }, el("thead"), el("tbody"))))),
      el("section", { class: "card", id: "scn", "aria-labelledby": "scn-title" },
        el("h2", { id: "scn-title", text: "What if? A scenario beside the law" }),
        el("p", { class: "small", text: "Hypothetical legal events in YAML (docs/SCENARIOS.md): change a heading's rate, end or suspend a measure, " +
          "add a country rate, add or remove products from a list, add a Section 232 action. They run through the same engine and panel as the law." }),
        el("form", { id: "scn-form", onsubmit: run },
          el("label", { for: "scn-text", text: "Scenario" }),
          el("textarea", { id: "scn-text", rows: 13, spellcheck: "false" }),
          el("div", { class: "controls" },
            el("button", { type: "submit", id: "scn-run", text: "Run scenario" }),
            el("span", { id: "scn-status", class: "muted small", "aria-live": "polite" }))),
        el("p", { id: "scn-error", class: "error-inline", role: "alert", hidden: true }),
        el("div", { id: "scn-result", hidden: true },
          el("p", { id: "scn-label", class: "small" }),
          el("ol", { id: "scn-events", class: "small" }),
          el("div", { class: "scroll" }, el("table", { id: "scn-table" },
            el("thead", {}, el("tr", {}, ...["", "Law", "Scenario", "Difference (points)"].map((h) => el("th", { scope: "col", text: h })))),
            el("tbody"))),
          el("p", { id: "scn-changes", class: "small" }))));
    $("scn-text").value = EXAMPLE;
    cur.built = true;
  }

  async function load() {
    const seq = ++cur.seq;
    const params = { from: $("etr-from").value || "2025-01-01", by: "partner" };
    if ($("etr-to").value) params.to = $("etr-to").value;
    $("etr-chart").dataset.state = "loading";
    $("etr-caption").textContent = "Computing the series (a few seconds the first time)…";
    try {
      const [parts, overall] = await Promise.all([call("/api/effective-rate", params),
        call("/api/effective-rate", { ...params, by: "overall" })]);
      if (seq !== cur.seq) return;
      cur.series = { parts, overall };
      $("etr-label").textContent = parts.label;
      if (!$("etr-to").value && overall.rows.length) $("etr-to").value = overall.rows[overall.rows.length - 1].until;
      draw();
      table();
      $("etr-marks").replaceChildren(...overall.marks.map((m, i) => el("li", { "data-date": m.date },
        el("strong", { text: `${i + 1}. ` }), m.label, m.sources.length ? el("span", { class: "source", text: m.sources.join(" · ") }) : null)));
      $("etr-chart").dataset.state = "ready";
      $("etr-caption").textContent = `Import-weighted mean ${$("etr-measure").value} duty, percent of customs value; ` +
        `numbered lines: the days the overall rate moves, with the headings behind the move (list below). ${overall.label}`;
    } catch (err) {
      if (seq !== cur.seq) return;
      $("etr-chart").dataset.state = "error";
      $("etr-caption").textContent = `The effective rate is not available: ${err.message}`;
    }
  }

  // one row per key of the partner answer (date -> partner -> row), overall rows separately
  function byDate(rows) {
    const out = new Map();
    for (const r of rows) {
      if (!out.has(r.date)) out.set(r.date, {});
      out.get(r.date)[r.key] = r;
    }
    return out;
  }

  function draw() {
    const { parts, overall } = cur.series;
    const m = $("etr-measure").value;
    const lines = [];
    if (cur.shown.has("all")) lines.push({ key: "all", label: "All imports", cls: "s-all", pts: overall.rows.map((r) => [r.date, r.until, r[m]]) });
    const grid = byDate(parts.rows);
    for (const p of PARTNERS) {
      if (!cur.shown.has(p)) continue;
      lines.push({ key: p, label: NAMES[p], cls: `s-${p}`, pts: overall.rows.map((r) => [r.date, r.until, (grid.get(r.date) || {})[p] ? grid.get(r.date)[p][m] : null]) });
    }
    chart($("etr-chart"), lines, overall.marks, (d) => {
      const row = overall.rows.find((r) => r.date <= d && d <= r.until);
      if (!row) return "";
      const g = grid.get(row.date) || {};
      return `${row.date} to ${row.until}: all ${pct(row[m])}; ` + PARTNERS.filter((p) => g[p]).map((p) => `${NAMES[p]} ${pct(g[p][m])}`).join(", ");
    }, $("etr-readout"));
  }

  function table() {
    const { parts, overall } = cur.series;
    const grid = byDate(parts.rows);
    const t = $("etr-table");
    t.tHead.replaceChildren(el("tr", {}, el("th", { scope: "col", text: "From" }), el("th", { scope: "col", text: "All" }),
      ...PARTNERS.map((p) => el("th", { scope: "col", class: "num", text: NAMES[p] }))));
    t.tBodies[0].replaceChildren(...overall.rows.map((r) => el("tr", {}, el("td", { text: r.date }), el("td", { class: "num", text: pct(r.additional) }),
      ...PARTNERS.map((p) => el("td", { class: "num", text: pct(((grid.get(r.date) || {})[p] || {}).additional) })))));
  }

  // ---- a step chart of several series, with vertical marks ---------------------------------------
  function chart(box, lines, marks, readout, out) {
    const W = Math.max(300, Math.round(box.clientWidth || 640)), H = 300, L = 46, R = 12, T = 14, B = 26;
    const all = lines.flatMap((s) => s.pts);
    if (!all.length) { box.replaceChildren(); return; }
    const t0 = Date.parse(all[0][0]), t1 = Math.max(...all.map((p) => Date.parse(p[1]))) + DAY;
    const top = Math.max(1, ...all.map((p) => p[2] || 0));
    const yMax = top <= 10 ? 10 : top <= 25 ? 25 : top <= 50 ? 50 : Math.ceil(top / 50) * 50;
    const x = (iso) => L + ((Date.parse(iso) - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => T + (H - T - B) * (1 - v / yMax);
    const root = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart-svg etr-svg", role: "img",
      "aria-label": `Effective tariff rate, ${lines.map((s) => s.label).join(", ")}` });
    for (const v of [0, yMax / 2, yMax]) {
      root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }), svg("text", { x: L - 6, y: y(v) + 4, class: "ytick" }, `${v}%`));
    }
    for (let d = new Date(t0); d.getTime() < t1; d.setUTCMonth(d.getUTCMonth() + 3)) {
      const iso = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString().slice(0, 10);
      if (Date.parse(iso) < t0) continue;
      root.append(svg("text", { x: x(iso), y: H - 8, class: "xtick" }, iso.slice(0, 7)));
    }
    (marks || []).forEach((mk, i) => {
      if (Date.parse(mk.date) < t0 || Date.parse(mk.date) >= t1) return;
      const xm = x(mk.date);
      root.append(svg("g", { class: "mark", "data-date": mk.date }, svg("title", {}, mk.label),
        svg("line", { x1: xm, x2: xm, y1: T, y2: H - B }), svg("text", { x: xm + 2, y: T + 10 }, String(i + 1))));
    });
    for (const s of lines) {
      let d = "";
      for (const [a, b, v] of s.pts) {
        if (v === null || v === undefined) continue;
        const xa = x(a), xb = x(new Date(Date.parse(b) + DAY).toISOString().slice(0, 10));
        d += `${d ? "L" : "M"}${xa.toFixed(1)},${y(v).toFixed(1)}H${xb.toFixed(1)}`;
      }
      if (d) root.append(svg("path", { d, class: `line ${s.cls}${s.dashed ? " dashed" : ""}`, "data-series": s.key }, svg("title", {}, s.label)));
    }
    const hit = svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, class: "hit", tabindex: 0 });
    const show = (ev) => {
      const rect = root.getBoundingClientRect();
      const px = ev && ev.clientX !== undefined ? ev.clientX - rect.left : L;
      const day = new Date(t0 + ((px - L) / (W - L - R)) * (t1 - t0)).toISOString().slice(0, 10);
      out.textContent = readout(day);
    };
    hit.addEventListener("mousemove", show);
    hit.addEventListener("click", show);
    hit.addEventListener("focus", () => show(null));
    root.append(hit);
    const legend = el("ul", { class: "legend small etr-legend" }, ...lines.map((s) =>
      el("li", {}, el("span", { class: `swatch ${s.cls}${s.dashed ? " dashed" : ""}` }), ` ${s.label}`)));
    box.replaceChildren(root, legend);
  }

  // ---- scenarios -------------------------------------------------------------------------------
  async function run(ev) {
    ev.preventDefault();
    const text = $("scn-text").value;
    $("scn-error").hidden = true;
    $("scn-run").disabled = true;
    $("scn-status").textContent = "Checking the events and building the scenario's panel (up to a minute the first time)…";
    const params = { from: $("etr-from").value || "2025-01-01", by: "partner" };
    if ($("etr-to").value) params.to = $("etr-to").value;
    try {
      const res = await call("/api/scenario", params, text);
      cur.scn = res;
      showScenario(res);
      $("scn-status").textContent = `Done: scenario “${res.scenario.name}”.`;
    } catch (err) {
      $("scn-error").textContent = err.message;
      $("scn-error").hidden = false;
      $("scn-status").textContent = "";
    } finally {
      $("scn-run").disabled = false;
    }
  }

  function showScenario(res) {
    $("scn-label").textContent = res.label;
    $("scn-events").replaceChildren(...res.scenario.events.map((s) => el("li", { text: `line ${s.line}: ${s.text}` })));
    // the scenario beside the law on the main chart: dashed = law, solid = scenario
    const grid = new Map();
    for (const r of res.rows) { if (!grid.has(r.date)) grid.set(r.date, {}); grid.get(r.date)[r.key] = r; }
    const lines = [];
    const moved = PARTNERS.filter((p) => res.rows.some((r) => r.key === p && Math.abs(r.diff_additional || 0) > 1e-9));
    for (const key of ["all", ...moved]) {
      const rowsOf = (field) => res.overall.map((o) => {
        const r = key === "all" ? o : (grid.get(o.date) || {})[key];
        return [o.date, o.until, r ? r[field] : null];
      });
      const name = key === "all" ? "All imports" : NAMES[key];
      lines.push({ key: `law-${key}`, label: `${name}: law`, cls: `s-${key}`, dashed: true, pts: rowsOf("law_additional") });
      lines.push({ key: `scn-${key}`, label: `${name}: scenario`, cls: `s-${key}`, pts: rowsOf("scenario_additional") });
    }
    const eventMarks = [];   // one mark per day, naming every event of that day
    for (const s of res.scenario.events) {
      const same = eventMarks.find((m) => m.date === s.effective);
      const text = `scenario, line ${s.line}: ${s.text}`;
      if (same) same.label += `; ${text}`; else eventMarks.push({ date: s.effective, label: text, sources: [] });
    }
    $("scn-result").hidden = false;
    chart($("etr-chart"), lines, eventMarks, (d) => {
      const o = res.overall.find((r) => r.date <= d && d <= r.until);
      return o ? `${o.date} to ${o.until}: law ${pct(o.law_additional)}, scenario ${pct(o.scenario_additional)} (${diff(o.diff_additional)} points)` : "";
    }, $("etr-readout"));
    $("etr-caption").textContent = `Additional duty: the scenario (solid) beside the law (dashed), for all imports and the partner groups it moves; ` +
      `numbered lines: the scenario's events. Press Update to show the law alone again.`;
    // the difference per partner group: averaged over the range, weighted by days
    const span = (r) => (Date.parse(r.until) - Date.parse(r.date)) / DAY + 1;
    const mean = (rows, f) => { let s = 0, n = 0; for (const r of rows) { if (r[f] === null) continue; s += r[f] * span(r); n += span(r); } return n ? s / n : null; };
    const body = [["all", res.overall], ...PARTNERS.map((p) => [p, res.rows.filter((r) => r.key === p)])];
    $("scn-table").tBodies[0].replaceChildren(...body.map(([k, rows]) => el("tr", { "data-key": k },
      el("th", { scope: "row", text: k === "all" ? "All imports" : NAMES[k] }),
      el("td", { class: "num", text: pct(mean(rows, "law_additional")) }),
      el("td", { class: "num", text: pct(mean(rows, "scenario_additional")) }),
      el("td", { class: "num", text: diff(mean(rows, "diff_additional")) }))));
    const ch = res.changes.map((c) => `${c.date}: ${c.pairs.toLocaleString()} product × origin pairs change (${c.pairs_rate_changed.toLocaleString()} in rate) on ${c.lines.toLocaleString()} lines`);
    $("scn-changes").textContent = `Mean additional duty over the range, percent. ${ch.join("; ")}.`;
  }

  function show() {
    if (!cur.built) build();
    if (!cur.series) load();
  }
  document.addEventListener("tariffstack:view", (ev) => { if (ev.detail && ev.detail.view === "stats") show(); });
  document.addEventListener("DOMContentLoaded", () => {
    if (!$("view-stats").hidden) show();
  });
})();
