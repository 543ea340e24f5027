// tariffstack page: search -> product -> duty stack, timeline chart, origins table, news check.
// Plain DOM code; every value from the API is inserted as text (never as HTML).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const LAYERS = {
    mfn: "MFN", s301: "Section 301", s232: "Section 232", ieepa_fentanyl: "IEEPA fentanyl",
    ieepa_reciprocal: "IEEPA reciprocal", ieepa_other: "IEEPA other", s122: "Section 122",
    s201: "Section 201", other: "Other",
  };
  const VERDICTS = {
    supported: "supported", contradicted: "contradicted",
    partly_supported: "partly supported", not_checkable: "not checkable",
  };
  const DEFAULT_ORIGINS = ["CN", "MX", "DE", "VN"];
  const NEWS_MAX_BYTES = 2 * 1024 * 1024;

  const state = { code: "", origin: "CN", date: "", origins: DEFAULT_ORIGINS.slice(), view: "duties" };
  const names = new Map();          // iso2 -> country name
  let coverage = { first: "", last: "" };

  // ---- small helpers ------------------------------------------------------------------------
  const { el } = window.tariffstackDom;   // dom.js
  const pct = (x) => (x === null || x === undefined ? "—" : `${Number(Number(x).toFixed(4))}%`);
  const label = (iso) => (names.has(iso) ? `${names.get(iso)} (${iso})` : iso);
  const layerBadge = (name) => el("span", { class: `badge l-${name}`, text: LAYERS[name] || name });
  const LAYER_KEYS = Object.keys(LAYERS);

  // "90 FR 15041" becomes a link to the Federal Register's citation page; other text stays text
  const FR_RE = /\b(\d{1,3}) FR (\d{1,6})\b/g;
  function citations(text) {
    const out = [];
    let pos = 0;
    for (const m of text.matchAll(FR_RE)) {
      out.push(text.slice(pos, m.index));
      out.push(el("a", { href: `https://www.federalregister.gov/citation/${m[1]}-FR-${m[2]}`,
        rel: "noopener noreferrer", target: "_blank", class: "cite", text: m[0] }));
      pos = m.index + m[0].length;
    }
    out.push(text.slice(pos));
    return out;
  }

  const SVGNS = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs, ...children) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || `request failed (HTTP ${status})`);
      this.status = status;
      this.field = e.field || null;
      this.type = e.type || "error";
    }
  }

  async function api(path, params, options) {
    const qs = params ? "?" + new URLSearchParams(params).toString() : "";
    let resp;
    try {
      resp = await fetch(path + qs, options);
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError(0, { error: { message: "the server cannot be reached; is 'tariffstack serve' running?" } });
    }
    let body = null;
    try { body = await resp.json(); } catch (_) { body = null; }
    if (!resp.ok) throw new ApiError(resp.status, body);
    return body;
  }

  // which control an API error's "field" points at, per view
  const FIELD_INPUT = {
    duties: { hts10: "q", code: "q", origin: "origin", date: "date", origins: "origins" },
    news: { text: "news-text", body: "news-text", date: "news-date" },
  };
  function showError(err, where) {
    if (err && err.name === "AbortError") return;
    const box = $("error");
    $("error-text").textContent = (where ? where + ": " : "") + (err && err.message ? err.message : String(err));
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
    const id = err && err.field ? FIELD_INPUT[state.view][err.field] : null;
    if (id) $(id).setAttribute("aria-invalid", "true");
  }
  function clearError() {
    $("error").hidden = true;
    for (const id of ["q", "origin", "date", "origins", "news-text", "news-date"]) $(id).removeAttribute("aria-invalid");
  }

  // ---- URL state ----------------------------------------------------------------------------
  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.code = (p.get("hts10") || p.get("code") || "").trim();   // "code": links made before the rename
    state.origin = (p.get("origin") || state.origin || "CN").trim().toUpperCase();
    state.date = (p.get("date") || "").trim() || defaultDate();
    const o = (p.get("origins") || "").split(",").map((x) => x.trim()).filter(Boolean);
    state.origins = o.length ? o : DEFAULT_ORIGINS.slice();
    state.view = ["news", "stats"].includes(p.get("view")) ? p.get("view") : "duties";
  }
  function writeUrl(push) {
    const p = new URLSearchParams();
    if (state.view !== "duties") p.set("view", state.view);
    if (state.code) p.set("hts10", state.code);
    p.set("origin", state.origin);
    p.set("date", state.date);
    p.set("origins", state.origins.join(","));
    const importer = new URLSearchParams(location.search).get("importer");   // war.js owns it
    if (importer) p.set("importer", importer);
    const url = `${location.pathname}?${p.toString()}`;
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
  }
  function defaultDate() {
    const today = new Date().toISOString().slice(0, 10);
    if (!coverage.last) return today;
    if (today > coverage.last) return coverage.last;
    if (today < coverage.first) return coverage.first;
    return today;
  }

  // ---- search-as-you-type (ARIA combobox) -----------------------------------------------------
  const search = { timer: 0, ctrl: null, hits: [], active: -1, cache: new Map(), shownFor: "" };

  function closeResults() {
    $("results").hidden = true;
    $("q").setAttribute("aria-expanded", "false");
    $("q").removeAttribute("aria-activedescendant");
    search.active = -1;
  }
  function renderResults(hits, query) {
    const list = $("results");
    list.replaceChildren();
    search.hits = hits;
    search.shownFor = query;
    search.active = hits.length ? 0 : -1;
    hits.forEach((h, i) => {
      const ctx = h.path.slice(-2).join(" › ");
      list.append(el("li", {
        role: "option", id: `opt-${i}`, "aria-selected": i === 0 ? "true" : "false",
        dataset: { hts: h.hts },
        onmousedown: (ev) => { ev.preventDefault(); pick(h); },
      }, el("span", { class: "code", text: h.hts }), " ", h.description, ctx ? el("span", { class: "ctx", text: ctx }) : null));
    });
    list.hidden = hits.length === 0;
    $("q").setAttribute("aria-expanded", hits.length ? "true" : "false");
    if (hits.length) $("q").setAttribute("aria-activedescendant", "opt-0");
    $("search-status").textContent = hits.length ? `${hits.length} match${hits.length === 1 ? "" : "es"}; use ↑ ↓ and Enter`
      : `no product matches “${query}”`;
  }
  function moveActive(delta) {
    if (!search.hits.length) return;
    const n = search.hits.length;
    search.active = (search.active + delta + n) % n;
    for (const li of $("results").children) li.setAttribute("aria-selected", li.id === `opt-${search.active}` ? "true" : "false");
    const li = $(`opt-${search.active}`);
    $("q").setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  }
  async function runSearch(query) {
    clearTimeout(search.timer);
    if (search.ctrl) search.ctrl.abort();
    if (search.cache.has(query)) { renderResults(search.cache.get(query), query); return; }
    search.ctrl = new AbortController();
    try {
      const got = await api("/api/search", { q: query, limit: 12 }, { signal: search.ctrl.signal });
      search.cache.set(query, got.hits);
      if ($("q").value.trim() === query) renderResults(got.hits, query);
    } catch (err) {
      if (err.name !== "AbortError") { closeResults(); $("search-status").textContent = err.message; }
    }
  }
  function onSearchInput() {
    clearTimeout(search.timer);
    const query = $("q").value.trim();
    if (query.length < 2) { closeResults(); $("search-status").textContent = ""; return; }
    search.timer = setTimeout(() => runSearch(query), 110);
  }
  function onSearchKey(ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); if ($("results").hidden && search.hits.length) { $("results").hidden = false; } moveActive(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); moveActive(-1); }
    else if (ev.key === "Escape") { closeResults(); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      const query = $("q").value.trim();
      const fresh = search.shownFor === query;
      if (fresh && !$("results").hidden && search.active >= 0) pick(search.hits[search.active]);
      else if (/^\d{4}\.?\d{2}\.?\d{2}(\.?\d{2})?$/.test(query)) pick({ hts: query, description: "" });
      else if (query.length >= 2) {
        // Enter before the results for this text arrived: search now, take the best match
        runSearch(query).then(() => { if (search.shownFor === query && search.hits.length) pick(search.hits[0]); });
      }
    }
  }
  function pick(hit) {
    closeResults();
    $("q").value = hit.description ? `${hit.hts} ${hit.description}` : hit.hts;
    $("search-status").textContent = "";
    state.code = hit.hts;
    writeUrl(true);
    refreshAll();
  }

  // ---- product, stack, origins table, timeline --------------------------------------------------
  const seq = { product: 0, stack: 0, compare: 0, timeline: 0 };
  let lastCompare = null;

  function refreshAll() {
    document.dispatchEvent(new CustomEvent("tariffstack:refresh", { detail: { code: state.code, date: state.date } }));
    clearError();
    $("empty").hidden = !!state.code;
    if (!state.code) return;
    // the product first: an unknown code or date then gives one message, not four
    loadProduct().then((ok) => { if (ok) { loadStack(); loadCompare(); loadTimeline(); } });
  }

  async function loadProduct() {
    const n = ++seq.product;
    try {
      const p = await api(`/api/product/${encodeURIComponent(state.code)}`, { date: state.date });
      if (n !== seq.product) return false;
      renderProduct(p);
      return true;
    } catch (err) {
      if (n === seq.product) {
        for (const id of ["product", "stack", "compare", "timeline"]) $(id).hidden = true;
        showError(err);
      }
      return false;
    }
  }
  function renderProduct(p) {
    $("p-code").textContent = p.hts10;
    $("p-desc").textContent = p.description;
    $("p-path").replaceChildren(...p.path.map((t) => el("li", { text: t })));
    const cols = [["General (column 1)", p.mfn.general], ["Special (column 1)", p.mfn.special], ["Column 2", p.mfn.other]];
    $("p-mfn").replaceChildren(...cols.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: v || "—" }))));
    const meta = [`HTS ${p.revision} in force on ${p.date}`];
    if (p.units.length) meta.push(`units: ${p.units.join(", ")}`);
    if (p.mfn.rate_line && p.mfn.rate_line !== p.hts && p.mfn.rate_line !== p.hts10) meta.push(`rates printed on ${p.mfn.rate_line}`);
    if (p.chapter99.length) meta.push(`footnotes cite ${p.chapter99.join(", ")}`);
    if (p.history.length > 1) meta.push(`MFN text changed ${p.history.length - 1} time(s) across revisions`);
    $("p-meta").textContent = meta.join(" · ");
    $("product").hidden = false;
    if (!$("q").value) $("q").value = `${p.hts10} ${p.description}`;
    document.title = `${p.hts10} ${p.description} – tariffstack`;
  }

  async function loadStack() {
    const n = ++seq.stack;
    const key = `${state.code}|${state.origin}|${state.date}`;
    try {
      const r = await api("/api/rate", { hts10: state.code, origin: state.origin, date: state.date });
      if (n !== seq.stack) return;
      renderStack(r, key);
    } catch (err) {
      if (n !== seq.stack) return;
      $("stack").hidden = true;
      if (err.type === "unknown_country") {
        // never fall back to another country's answer: say what is wrong and how to fix it
        err.message = `No duty stack shown: origin “${state.origin}” is not a country the schedule knows (${err.message}). Choose an origin from the list.`;
      }
      showError(err);
    }
  }
  function renderStack(r, key) {
    if (r.origin !== state.origin) {       // a name from a link, resolved by the API: show its code
      state.origin = r.origin;
      for (const o of $("origin").querySelectorAll("option[data-unlisted]")) o.remove();
      $("origin").value = r.origin;
      writeUrl(false);
    }
    $("stack-title").textContent = `Duty stack: ${r.origin_name} (${r.origin}), entered ${r.entry_date}`;
    const spec = r.specific.length ? ` + ${r.specific.join(" + ")}` : "";
    $("s-total").textContent = `Total ${pct(r.total_pct)}${spec}`;
    $("s-total").append(el("span", { class: "muted small", text: ` (additional duties ${pct(r.total_additional_pct)}; HTS ${r.revision})` }));
    const rows = r.layers.map((x) => {
      let rate = x.exempt ? "exempt" : pct(x.rate_pct);
      if (x.specific) rate = x.rate_pct === null || x.exempt ? x.specific : `${rate} + ${x.specific}`;
      const span = x.effective_from ? `${x.effective_from} → ${x.effective_to || "in force"}` : "";
      return el("tr", { class: x.exempt ? "exempt" : "", dataset: { layer: x.layer } },
        el("td", { "data-label": "Layer" }, layerBadge(x.layer)),
        el("td", { class: "num", "data-label": "Rate" }, rate, x.applies_to ? el("span", { class: "source", text: x.applies_to }) : null),
        el("td", { class: "code", "data-label": "Heading", text: x.heading || "" }),
        el("td", { "data-label": "In force", text: span }),
        el("td", { "data-label": "Why" }, x.reason, x.source ? el("span", { class: "source" }, "Source: ", ...citations(x.source)) : null));
    });
    $("s-table").tBodies[0].replaceChildren(...rows);
    $("s-notes").replaceChildren(...r.notes.map((t) => el("li", { text: t })));
    $("stack").dataset.key = key;
    $("stack").dataset.total = String(r.total_pct);
    $("stack").hidden = false;
    markCurrentOrigin();
  }

  async function loadCompare() {
    const n = ++seq.compare;
    const key = `${state.code}|${state.date}`;
    $("c-summary").textContent = "Computing every origin…";
    try {
      const c = await api("/api/compare", { hts10: state.code, date: state.date });
      if (n !== seq.compare) return;
      lastCompare = c;
      renderCompare(c, key);
    } catch (err) { if (n === seq.compare) { $("compare").hidden = true; showError(err); } }
  }
  function listNames(isos, max) {
    const shown = isos.slice(0, max).map(label).join(", ");
    return isos.length > max ? `${shown} and ${isos.length - max} more` : shown;
  }
  // the all-origins table: highest total first by default, any column sortable, CSV download
  const compareSort = { key: "total", dir: "desc" };
  function sortValue(r, key) {
    if (key === "origin") return `${r.name} ${r.origin}`.toLowerCase();
    if (key === "headings") return r.headings.join(" ");
    if (key === "total") return r.total_pct;
    return r.layers[key] === undefined ? -1 : r.layers[key];
  }
  function sortedRows(c) {
    const { key, dir } = compareSort;
    const sign = dir === "asc" ? 1 : -1;
    return c.rows.slice().sort((a, b) => {
      const va = sortValue(a, key), vb = sortValue(b, key);
      const d = typeof va === "string" ? va.localeCompare(vb) : va - vb;
      return d * sign || a.name.localeCompare(b.name);
    });
  }
  function setSort(key) {
    if (compareSort.key === key) compareSort.dir = compareSort.dir === "asc" ? "desc" : "asc";
    else { compareSort.key = key; compareSort.dir = key === "origin" || key === "headings" ? "asc" : "desc"; }
    if (lastCompare) renderCompare(lastCompare, $("c-table").dataset.key);
  }
  function sortHeader(key, content, cls) {
    const on = compareSort.key === key;
    const aria = on ? (compareSort.dir === "asc" ? "ascending" : "descending") : "none";
    const arrow = on ? (compareSort.dir === "asc" ? " ▲" : " ▼") : "";
    return el("th", { scope: "col", class: cls, "aria-sort": aria, dataset: { sort: key } },
      el("button", { type: "button", class: "sort", title: "Sort by this column", onclick: () => setSort(key) }, content, arrow));
  }
  function renderCompare(c, key) {
    $("compare-title").textContent = `All origins compared for ${c.hts10} on ${c.date}`;
    const sum = $("c-summary");
    sum.replaceChildren(
      el("strong", { text: "Pays least: " }), `${pct(c.least.total_pct)} — ${listNames(c.least.origins, 6)}. `,
      el("strong", { text: "Pays most: " }), `${pct(c.most.total_pct)} — ${listNames(c.most.origins, 6)}.`);
    const head = el("tr", {}, el("th", { scope: "col", class: "num", text: "#" }),
      sortHeader("origin", "Origin"), sortHeader("total", "Total", "num"),
      ...c.layers.map((l) => sortHeader(l, layerBadge(l), "num")),
      sortHeader("headings", "Chapter 99 headings"));
    $("c-table").tHead.replaceChildren(head);
    const rows = sortedRows(c).map((r, i) => el("tr", {
      class: [r.total_pct === c.least.total_pct ? "least" : "", r.total_pct === c.most.total_pct ? "most" : ""].join(" ").trim(),
      dataset: { origin: r.origin, total: String(r.total_pct), search: `${r.name} ${r.origin}`.toLowerCase() },
    },
    el("td", { class: "num", text: String(i + 1) }),
    el("th", { scope: "row" }, el("button", { type: "button", class: "link", title: "Show this origin's stack", onclick: () => setOrigin(r.origin) }, `${r.name} (${r.origin})`)),
    el("td", { class: "num", text: pct(r.total_pct) + (r.specific.length ? " +" : "") }),
    ...c.layers.map((l) => el("td", { class: "num", text: l in r.layers ? pct(r.layers[l]) : "" })),
    el("td", { class: "code small", text: r.headings.join(" ") })));
    $("c-table").tBodies[0].replaceChildren(...rows);
    $("c-errors").textContent = c.errors.length ? `Not computed for ${c.errors.length} origin(s): ${c.errors.slice(0, 3).map((e) => `${e.origin}: ${e.message}`).join("; ")}` : "";
    $("c-table").dataset.key = key;
    $("c-table").dataset.sort = `${compareSort.key}:${compareSort.dir}`;
    $("compare").hidden = false;
    applyFilter();
    markCurrentOrigin();
  }
  function applyFilter() {
    const f = $("c-filter").value.trim().toLowerCase();
    for (const tr of $("c-table").tBodies[0].rows) tr.hidden = !!f && !tr.dataset.search.includes(f);
  }
  function markCurrentOrigin() {
    let current = null;
    for (const tr of $("c-table").tBodies[0].rows) {
      const on = tr.dataset.origin === state.origin;
      tr.classList.toggle("current", on);
      if (on) { tr.setAttribute("aria-current", "true"); current = tr; } else tr.removeAttribute("aria-current");
    }
    // bring the chosen origin into view inside the table's own box (the page does not move)
    const box = $("c-box");
    if (current && !$("compare").hidden) {
      const top = current.offsetTop - box.clientHeight / 3;
      box.scrollTop = Math.max(0, top);
    }
  }
  function csvCell(v) {
    const t = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  }
  function downloadCsv() {
    const c = lastCompare;
    if (!c) return;
    const head = ["rank", "origin", "name", "total_pct", "total_additional_pct", ...c.layers.map((l) => `${l}_pct`), "specific", "headings"];
    const lines = [head.join(",")];
    sortedRows(c).forEach((r, i) => lines.push([i + 1, r.origin, r.name, r.total_pct, r.total_additional_pct,
      ...c.layers.map((l) => (l in r.layers ? r.layers[l] : "")), r.specific.join(" + "), r.headings.join(" ")].map(csvCell).join(",")));
    const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: `tariffstack-${c.hts10}-${c.date}-all-origins.csv`, class: "sr-only" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function loadTimeline() {
    const n = ++seq.timeline;
    const params = { hts10: state.code, origins: state.origins.join(",") };
    const box = $("chart");
    box.dataset.state = "loading";
    $("chart-caption").textContent = "Drawing the chart…";
    $("origins").value = state.origins.join(", ");
    try {
      const tl = await api("/api/timeline", params);
      if (n !== seq.timeline) return;
      renderTimelineTables(tl);
      $("timeline").hidden = false;
      lastTimeline = tl;
      drawChart(tl);
      $("chart-svg-link").href = "/api/timeline.svg?" + new URLSearchParams(params).toString();
      const shown = Object.keys(tl.origins || {}).map(label).join(", ");   // resolved names
      box.dataset.state = "loaded";
      box.dataset.key = `${state.code}|${state.origins.join(",")}`;
      $("chart-caption").textContent = `Each band is one duty layer; each step is a legal change; the dashed line is the entry date ${state.date}. Origins: ${shown}; ${tl.from} to ${tl.to}.`;
    } catch (err) {
      if (n !== seq.timeline) return;
      box.dataset.state = "error";
      $("chart-caption").textContent = "";
      showError(err, "timeline");
    }
  }

  // the chart: drawn here as inline SVG at the box's real width, so its text stays 12 px on phones
  let lastTimeline = null;
  const DAY = 86400000;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function niceMax(v) {
    if (!(v > 0)) return 10;
    const step = [10, 20, 25, 50, 100, 150, 200, 250, 300, 400, 500].find((s) => s >= v);
    return step || Math.ceil(v / 100) * 100;
  }
  function layerText(layers) {
    return LAYER_KEYS.filter((k) => layers[k]).map((k) => `${LAYERS[k]} ${pct(layers[k])}`).join(", ");
  }
  function drawChart(tl) {
    const box = $("chart");
    const W = Math.max(280, Math.round(box.clientWidth || 600));
    const narrow = W < 560;
    const L = 44, R = 12, PT = 26, PB = 24, PH = narrow ? 130 : 150;
    const origins = Object.entries(tl.origins || {});
    const H = origins.length * (PT + PH + PB) + 4;
    const t0 = Date.parse(tl.from), t1 = Date.parse(tl.to) + DAY;
    const x = (iso) => L + ((Date.parse(iso) - t0) / (t1 - t0)) * (W - L - R);
    let top = 0;
    for (const [, segs] of origins) for (const s of segs) top = Math.max(top, s.total_pct || 0);
    const yMax = niceMax(top);
    const root = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img",
      "aria-label": `Stacked duty layers from ${tl.from} to ${tl.to} for ${tl.hts10}` });
    const used = new Set();
    const marker = state.date && state.date >= tl.from && state.date <= tl.to ? state.date : null;
    origins.forEach(([iso, segs], i) => {
      const y0 = i * (PT + PH + PB) + PT;
      const y = (v) => y0 + PH - (v / yMax) * PH;
      const g = svgEl("g", { class: "panel", "data-origin": iso });
      g.append(svgEl("text", { x: L, y: y0 - 8, class: "ptitle" }, label(iso)));
      for (const v of [0, yMax / 2, yMax]) {
        g.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
          svgEl("text", { x: L - 6, y: y(v) + 4, class: "ytick" }, `${Number(v.toFixed(1))}%`));
      }
      // month ticks (every month when wide, every quarter when narrow)
      const start = new Date(t0);
      for (let d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)); d.getTime() < t1; d.setUTCMonth(d.getUTCMonth() + 1)) {
        const m = d.getUTCMonth();
        if (narrow ? m % 3 : false) continue;
        const xx = x(d.toISOString().slice(0, 10));
        g.append(svgEl("line", { x1: xx, x2: xx, y1: y0 + PH, y2: y0 + PH + 4, class: "axis" }));
        if (!narrow || m % 3 === 0) g.append(svgEl("text", { x: xx, y: y0 + PH + 16, class: "xtick" }, m === 0 ? String(d.getUTCFullYear()) : MONTHS[m]));
      }
      for (const s of segs) {
        const xa = x(s.valid_from), xb = x(new Date(Date.parse(s.valid_until) + DAY).toISOString().slice(0, 10));
        const what = s.total_pct === null ? "not in the schedule" : `total ${pct(s.total_pct)}${layerText(s.layers) ? ` (${layerText(s.layers)})` : ""}`;
        const tip = `${label(iso)}, ${s.valid_from} to ${s.valid_until}: ${what}`;
        const sg = svgEl("g", { class: "seg", tabindex: 0, "data-from": s.valid_from, "data-until": s.valid_until, "data-total": s.total_pct }, svgEl("title", {}, tip));
        let acc = 0;
        for (const k of LAYER_KEYS) {
          const v = (s.layers || {})[k];
          if (!v) continue;
          used.add(k);
          sg.append(svgEl("rect", { x: xa, width: Math.max(0.5, xb - xa), y: y(acc + v), height: Math.max(0, y(acc) - y(acc + v)), class: `f-${k}` }));
          acc += v;
        }
        // an invisible full-height rect so hovering anywhere in the period shows its values
        sg.append(svgEl("rect", { x: xa, width: Math.max(0.5, xb - xa), y: y0, height: PH, class: "hit" }));
        const show = () => { $("chart-readout").textContent = tip; };
        sg.addEventListener("mouseenter", show);
        sg.addEventListener("focus", show);
        sg.addEventListener("click", show);
        g.append(sg);
      }
      g.append(svgEl("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), class: "axis" }));
      if (marker) {
        const xm = x(marker);
        const at = segs.find((s) => s.valid_from <= marker && marker <= s.valid_until);
        const text = `${marker}: ${at && at.total_pct !== null ? pct(at.total_pct) : "—"}`;
        const anchor = xm > W - 120 ? "end" : "start";
        g.append(svgEl("line", { x1: xm, x2: xm, y1: y0 - 2, y2: y0 + PH, class: "marker" }),
          svgEl("text", { x: anchor === "end" ? xm - 4 : xm + 4, y: y0 + 10, class: "mtext", "text-anchor": anchor }, text));
      }
      root.append(g);
    });
    box.replaceChildren(root);
    $("chart-legend").replaceChildren(...LAYER_KEYS.filter((k) => used.has(k)).map((k) =>
      el("li", {}, el("span", { class: `swatch sw-${k}`, "aria-hidden": "true" }), LAYERS[k])));
  }

  function changeText(c) {
    if (typeof c === "string") return c;
    if (c && typeof c === "object") {
      for (const k of ["text", "description", "reason", "summary"]) if (typeof c[k] === "string") return c[k];
      return Object.entries(c).filter(([, v]) => v !== null && typeof v !== "object").map(([k, v]) => `${k} ${v}`).join(", ");
    }
    return String(c);
  }
  function renderTimelineTables(tl) {
    const out = [];
    for (const [iso, periods] of Object.entries(tl.origins || {})) {
      const rows = periods.map((p) => el("tr", {},
        el("td", { text: p.valid_from }), el("td", { text: p.valid_until || "in force" }),
        el("td", { class: "num", text: pct(p.total_pct) }),
        el("td", {}, ...Object.entries(p.layers || {}).filter(([, v]) => v).map(([k, v]) => el("span", {}, layerBadge(k), ` ${pct(v)} `))),
        el("td", { class: "small", text: (p.changes || []).map(changeText).join("; ") })));
      out.push(el("h3", { text: label(iso) }), el("div", { class: "scroll" }, el("table", {},
        el("thead", {}, el("tr", {}, ...["From", "Until", "Total", "Layers", "What changed"].map((t) => el("th", { scope: "col", text: t })))),
        el("tbody", {}, ...rows))));
    }
    $("tl-tables").replaceChildren(...out);
  }

  function setOrigin(iso) {
    state.origin = iso;
    for (const o of $("origin").querySelectorAll("option[data-unlisted]")) if (o.value !== iso) o.remove();
    $("origin").value = iso;
    writeUrl(false);
    clearError();
    if (state.code) loadStack();
    $("stack").scrollIntoView({ block: "nearest" });
  }

  // ---- news check --------------------------------------------------------------------------------
  async function checkNews(ev) {
    ev.preventDefault();
    clearError();
    const text = $("news-text").value;
    const date = $("news-date").value;
    if (!text.trim()) { showError({ message: "paste an article first", field: "text" }); $("news-text").focus(); return; }
    const size = new TextEncoder().encode(text).length;
    if (size > NEWS_MAX_BYTES) {
      showError({ message: `the article is ${size.toLocaleString()} bytes; the limit is ${NEWS_MAX_BYTES.toLocaleString()}`, field: "text" });
      return;
    }
    const btn = $("news-submit");
    btn.disabled = true;
    $("news-status").textContent = "Checking claims…";
    try {
      const body = JSON.stringify(date ? { text, date } : { text });
      const res = await api("/api/check-news", null, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      renderNews(text, res);
      $("news-status").textContent = "";
    } catch (err) {
      $("news-status").textContent = "";
      showError(err, "news check");
      if (err.field === "date") $("news-date").focus();
    } finally {
      btn.disabled = false;
    }
  }
  function renderNews(text, res) {
    const cps = Array.from(text);            // the API counts code points, JavaScript UTF-16 units
    const claims = res.claims.map((c, i) => ({ ...c, i })).sort((a, b) => a.start - b.start || a.end - b.end);
    const parts = [];
    let pos = 0;
    for (const c of claims) {
      if (c.start < pos || c.end > cps.length) continue;   // overlapping spans: listed, not marked twice
      parts.push(cps.slice(pos, c.start).join(""));
      parts.push(el("mark", {
        class: `v-${c.verdict}`, id: `mark-${c.i}`, tabindex: 0, title: VERDICTS[c.verdict] || c.verdict,
        dataset: { claim: String(c.i), verdict: c.verdict },
        onclick: () => activateClaim(c.i, true),
        onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activateClaim(c.i, true); } },
      }, cps.slice(c.start, c.end).join("")));
      pos = c.end;
    }
    parts.push(cps.slice(pos).join(""));
    $("news-article").replaceChildren(...parts);
    const counts = Object.entries(res.summary).map(([v, n]) => `${n} ${VERDICTS[v] || v}`).join(", ");
    $("news-summary").textContent = res.claims.length
      ? `${res.claims.length} claim(s) as of ${res.date} (${res.date_source === "header" ? "date line" : "date given"}): ${counts}.`
      : `No tariff claims found (article date ${res.date}).`;
    $("news-claims").replaceChildren(...res.claims.map((c, i) => el("li", { id: `claim-${i}`, tabindex: -1, dataset: { verdict: c.verdict } },
      el("mark", { class: `verdict v-${c.verdict}`, text: VERDICTS[c.verdict] || c.verdict }), " ",
      el("span", { class: "frag", text: `“${c.fragment}”` }),
      el("div", { class: "small muted", text: `${c.actor_text || c.actor} → ${c.target.text || c.target.kind} · checked as of ${c.date}` }),
      el("p", { text: c.explanation }),
      c.evidence.length ? el("ul", {}, ...c.evidence.slice(0, 6).map((e) => el("li", {},
        e.text, e.source || e.heading ? el("span", { class: "source" }, ...citations([e.heading, e.source].filter(Boolean).join(" · "))) : null))) : null,
      el("button", { type: "button", class: "link small", onclick: () => { const m = $(`mark-${i}`); if (m) { activateClaim(i, false); m.focus(); m.scrollIntoView({ block: "center" }); } } }, "Show in the text"))));
    $("news-result").hidden = false;
    $("news-result").dataset.claims = String(res.claims.length);
  }
  function activateClaim(i, focusCard) {
    for (const m of $("news-article").querySelectorAll("mark.active")) m.classList.remove("active");
    for (const li of $("news-claims").querySelectorAll("li.active")) li.classList.remove("active");
    const m = $(`mark-${i}`), li = $(`claim-${i}`);
    if (m) m.classList.add("active");
    if (li) { li.classList.add("active"); if (focusCard) { li.focus(); li.scrollIntoView({ block: "nearest" }); } }
  }

  // ---- tabs --------------------------------------------------------------------------------------
  function showView(view, push) {
    state.view = view;
    for (const [tab, panel, name] of [["tab-duties", "view-duties", "duties"], ["tab-news", "view-news", "news"], ["tab-stats", "view-stats", "stats"]]) {
      const on = name === view;
      $(tab).setAttribute("aria-selected", on ? "true" : "false");
      $(tab).tabIndex = on ? 0 : -1;
      $(panel).hidden = !on;
    }
    if (push !== undefined) writeUrl(push);
    document.dispatchEvent(new CustomEvent("tariffstack:view", { detail: { view } }));   // stats.js builds its view
  }
  function onTabKey(ev) {
    if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
    const order = ["duties", "news", "stats"];
    const next = order[(order.indexOf(state.view) + (ev.key === "ArrowRight" ? 1 : 2)) % 3];
    showView(next, false);
    $(`tab-${next}`).focus();
  }

  // ---- copy link -------------------------------------------------------------------------------
  async function copyLink() {
    writeUrl(false);
    const url = location.href;
    let ok = false;
    try { await navigator.clipboard.writeText(url); ok = true; } catch (_) {
      const tmp = el("textarea", { class: "sr-only", readonly: true });
      tmp.value = url;
      document.body.append(tmp);
      tmp.select();
      try { ok = document.execCommand("copy"); } catch (__) { ok = false; }
      tmp.remove();
    }
    $("copy-status").textContent = ok ? "Link copied." : `Copy this link: ${url}`;
    $("copy").dataset.url = url;
  }

  // ---- start ---------------------------------------------------------------------------------------
  async function start() {
    try {
      const [health, cs] = await Promise.all([api("/api/health"), api("/api/countries")]);
      coverage = health.coverage;
      const age = health.data_age_days > 0 ? ` (${health.data_age_days} days old: later dates need a newer revision)` : "";
      $("coverage").textContent = `HTS ${health.newest_revision}; dates ${coverage.first} to ${coverage.last}${age}`;
      for (const id of ["date", "news-date"]) { $(id).min = coverage.first; $(id).max = coverage.last; }
      const sorted = cs.countries.slice().sort((a, b) => a.name.localeCompare(b.name));
      for (const c of sorted) names.set(c.iso2, c.name);
      $("origin").replaceChildren(...sorted.map((c) => el("option", { value: c.iso2, text: `${c.name} (${c.iso2})` })));
    } catch (err) {
      showError(err, "loading");
    }
    readUrl();
    applyState();
  }
  function applyState() {
    for (const o of $("origin").querySelectorAll("option[data-unlisted]")) o.remove();
    $("origin").value = state.origin;
    const unlisted = !!state.origin && $("origin").value !== state.origin;
    if (unlisted) {
      // a name or code the list lacks: keep it (never show another country instead) and let
      // the API resolve it (a name such as "GERMANY") or explain why not, with suggestions
      $("origin").prepend(el("option", { value: state.origin, dataset: { unlisted: "1" }, text: `“${state.origin}” (from the link)` }));
      $("origin").value = state.origin;
    }
    $("date").value = state.date;
    $("origins").value = state.origins.join(", ");
    showView(state.view);
    if (state.code && !$("q").value) $("q").value = state.code;
    writeUrl(false);
    refreshAll();
    if (unlisted && !state.code && names.size) {
      showError({ message: `origin “${state.origin}” in the link is not a country the schedule knows; choose an origin from the list`, field: "origin" });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("q").addEventListener("input", onSearchInput);
    $("q").addEventListener("keydown", onSearchKey);
    $("q").addEventListener("blur", () => setTimeout(closeResults, 150));
    $("origin").addEventListener("change", () => setOrigin($("origin").value));
    $("date").addEventListener("change", () => {
      const v = $("date").value;
      if (!v) return;
      state.date = v;
      writeUrl(false);
      refreshAll();
    });
    $("origins-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const list = $("origins").value.split(",").map((x) => x.trim()).filter(Boolean);
      if (!list.length) { showError({ message: "give at least one origin, e.g. CN, MX", field: "origins" }); return; }
      clearError();
      state.origins = list;
      writeUrl(false);
      if (state.code) loadTimeline();
    });
    $("c-filter").addEventListener("input", applyFilter);
    $("c-csv").addEventListener("click", downloadCsv);
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (lastTimeline && !$("timeline").hidden) drawChart(lastTimeline); }, 150);
    });
    $("copy").addEventListener("click", copyLink);
    $("error-close").addEventListener("click", clearError);
    $("news-form").addEventListener("submit", checkNews);
    $("tab-duties").addEventListener("click", () => showView("duties", false));
    $("tab-news").addEventListener("click", () => showView("news", false));
    $("tab-duties").addEventListener("keydown", onTabKey);
    $("tab-news").addEventListener("keydown", onTabKey);
    $("tab-stats").addEventListener("click", () => showView("stats", false));
    $("tab-stats").addEventListener("keydown", onTabKey);
    window.addEventListener("popstate", () => { readUrl(); $("q").value = ""; applyState(); });
    start();
  });
})();
