// tariffstack page, both sides of the tariff war: the importer switch (U.S. / China / both),
// China's duty on U.S. goods for the chosen product, and the both-sides view (one chart for the
// product, one for the averages). Listens to app.js's "tariffstack:refresh" event; every value
// from the API is inserted as text (never as HTML).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const IMPORTERS = ["US", "CN", "both"];
  const FROM = "2025-01-01";
  const LAYERS = { base: "Base (WTO)", cn_list: "Product list", cn_all: "All U.S. goods", wto_residual: "WTO residual" };
  const cur = { code: "", date: "", importer: "US" };
  const seq = { cn: 0, product: 0, average: 0 };
  let averageShown = false;

  const { el } = window.tariffstackDom;   // dom.js
  const pct = (x) => (x === null || x === undefined ? "—" : `${Number(Number(x).toFixed(2))}%`);
  const short = (n) => {
    if (!n) return "WTO data";
    const m = /第\s*(\d+)\s*号/.exec(n);
    return m ? `No.${m[1]}${/possibly|not found/.test(n) ? "?" : ""}` : n;
  };
  const when = (t) => (t ? t.replace("T", " ").replace(/:00$/, "").replace(/ 00:00$/, "") : "");

  // URLs in a source text become links; the rest stays text
  function sourceNodes(text) {
    const out = [];
    let pos = 0;
    for (const m of text.matchAll(/https?:\/\/[^\s;]+/g)) {
      out.push(text.slice(pos, m.index));
      out.push(el("a", { href: m[0], rel: "noopener noreferrer", target: "_blank", class: "cite", text: new URL(m[0]).hostname }));
      pos = m.index + m[0].length;
    }
    out.push(text.slice(pos));
    return out;
  }

  async function api(path, params) {
    const qs = params ? "?" + new URLSearchParams(params).toString() : "";
    let resp;
    try { resp = await fetch(path + qs); } catch (_) { throw new Error("the server cannot be reached"); }
    let body = null;
    try { body = await resp.json(); } catch (_) { body = null; }
    if (!resp.ok) throw new Error((body && body.error && body.error.message) || `request failed (HTTP ${resp.status})`);
    return body;
  }

  function importerFromUrl() {
    const v = new URLSearchParams(location.search).get("importer") || "US";
    const up = v === "both" ? "both" : v.toUpperCase();
    return IMPORTERS.includes(up) ? up : "US";
  }
  function setImporter(v) {
    cur.importer = v;
    const p = new URLSearchParams(location.search);
    if (v === "US") p.delete("importer"); else p.set("importer", v);
    history.replaceState(null, "", `${location.pathname}?${p.toString()}`);
    document.body.dataset.importer = v;
    $("importer").value = v;
    render();
  }

  function chart(img, src, alt) {
    img.dataset.state = "loading";
    img.alt = alt;
    img.onload = () => { img.dataset.state = "loaded"; };
    img.onerror = () => { img.dataset.state = "error"; };
    img.src = src;
  }

  // ---- China's duty on the chosen product ---------------------------------------------------------
  async function loadCn() {
    const n = ++seq.cn;
    const box = $("cn-stack");
    const key = `${cur.code}|${cur.date}`;
    $("cn-error").hidden = true;
    try {
      const r = await api("/api/war/rate", { hs: cur.code, date: cur.date });
      if (n !== seq.cn) return;
      renderCn(r, key);
    } catch (err) {
      if (n !== seq.cn) return;
      box.hidden = false;
      box.dataset.key = key;
      $("cn-table").tBodies[0].replaceChildren();
      $("cn-total").textContent = "";
      $("cn-error").textContent = `China's side: ${err.message}`;
      $("cn-error").hidden = false;
    }
  }
  function renderCn(r, key) {
    const what = r.level === "HS8" ? `HS8 ${r.code}` : `HS6 ${r.hs6.slice(0, 4)}.${r.hs6.slice(4)}`;
    $("cn-title").textContent = `China's duty on U.S. goods: ${what}, ${r.entry_date} (Beijing time)`;
    const upper = r.upper_pct !== r.total_pct ? ` (or ${pct(r.upper_pct)} if the uncertain list holds it)` : "";
    $("cn-total").textContent = r.total_pct === null ? "Total unknown (no WTO base rate)" : `Total ${pct(r.total_pct)}${upper}`;
    $("cn-total").append(el("span", { class: "muted small", text: ` (additional duties ${pct(r.total_additional_pct)}; WTO figure for the HS6 on ${r.wto.date}: ${pct(r.wto.best_avlbl)})` }));
    const rows = r.layers.map((x) => {
      const rate = x.exempt ? `${pct(x.rate_pct)} not paid` : (x.certain ? pct(x.rate_pct) : `${pct(x.rate_pct)}?`);
      const span = x.effective_from ? `${when(x.effective_from)} → ${x.effective_to ? when(x.effective_to) : "in force"}` : "";
      return el("tr", { class: x.exempt || !x.certain ? "exempt" : "", dataset: { layer: x.layer, notice: short(x.notice) } },
        el("td", { "data-label": "Layer" }, el("span", { class: "badge", text: LAYERS[x.layer] || x.layer })),
        el("td", { class: "num", "data-label": "Rate" }, rate, x.applies_to ? el("span", { class: "source", text: x.applies_to }) : null),
        el("td", { class: "code", "data-label": "Notice", text: short(x.notice) }),
        el("td", { "data-label": "In force", text: span }),
        el("td", { "data-label": "Why" }, x.reason,
          el("span", { class: "source" }, `Status: ${x.status}. `, x.source ? "Source: " : "", ...(x.source ? sourceNodes(x.source) : []))));
    });
    $("cn-table").tBodies[0].replaceChildren(...rows);
    const notes = (r.several_lines ? [r.several_lines] : []).concat(r.notes);
    $("cn-notes").replaceChildren(...notes.map((t) => el("li", { class: t.startsWith("not law") ? "press" : "", text: t })));
    $("cn-follows").textContent = `Which source the answer follows: ${r.follows}.`;
    chart($("cn-chart"), `/api/war/timeline.svg?${new URLSearchParams({ hs: cur.code, from: FROM })}`,
      `China's duty on U.S. goods of ${what} over time, layer by layer`);
    const box = $("cn-stack");
    box.dataset.key = key;
    box.dataset.total = String(r.total_pct);
    box.hidden = false;
  }

  // ---- both sides ---------------------------------------------------------------------------------
  async function loadProduct() {
    const n = ++seq.product;
    const part = $("war-product");
    if (!cur.code) { part.hidden = true; return; }
    $("war-p-error").hidden = true;
    try {
      const wp = await api("/api/war/product", { hts10: cur.code, from: FROM });
      if (n !== seq.product) return;
      $("war-p-title").textContent = `${wp.hts10} ${wp.description}: the U.S. duty on it from China, and China's on it from the U.S. (HS6 ${wp.hs6})`;
      const rows = wp.rows.map((r) => el("tr", {},
        el("td", { text: r.valid_from }), el("td", { text: r.valid_until }),
        el("td", { class: "num", text: pct(r.us_total_pct) }),
        el("td", { class: "num", text: pct(r.cn_total_pct) + (r.cn_upper_pct !== r.cn_total_pct ? ` (or ${pct(r.cn_upper_pct)})` : "") }),
        el("td", { class: "small", text: r.changes.join("; ") })));
      $("war-p-table").tBodies[0].replaceChildren(...rows);
      $("war-p-notes").replaceChildren(...wp.notes.map((t) => el("li", { text: t })));
      chart($("war-p-chart"), `/api/war/product.svg?${new URLSearchParams({ hts10: cur.code, from: FROM })}`,
        `The U.S. duty on ${wp.description} from China and China's duty on the U.S. product, 2025-2026, events marked`);
      part.dataset.key = cur.code;
      part.hidden = false;
    } catch (err) {
      if (n !== seq.product) return;
      part.hidden = false;
      $("war-p-table").tBodies[0].replaceChildren();
      $("war-p-error").textContent = `Both sides: ${err.message}`;
      $("war-p-error").hidden = false;
    }
  }
  async function loadAverage() {
    if (averageShown) return;
    const n = ++seq.average;
    const table = $("war-a-table");
    table.dataset.state = "loading";
    $("war-a-status").textContent = "Computing both averages (the first time takes a while)…";
    try {
      const a = await api("/api/war/average");
      if (n !== seq.average) return;
      const rows = a.wto_dates.map((r) => el("tr", { dataset: { date: r.date } },
        el("td", { text: r.date }), el("td", { class: "num", text: pct(r.us_total_pct) }),
        el("td", { class: "num", text: pct(r.us_additional_pct) }), el("td", { class: "num", text: pct(r.cn_total_pct) }),
        el("td", { class: "num", text: pct(r.cn_additional_pct) })));
      table.tBodies[0].replaceChildren(...rows);
      $("war-a-caption").textContent = `Weights. U.S.: ${a.us_weights}. China: ${a.cn_weights}.`;
      table.dataset.state = "loaded";
      $("war-a-status").textContent = "";
      chart($("war-a-chart"), "/api/war/average.svg",
        "Average U.S. duty on Chinese goods and China's on U.S. goods, 2025-2026, with Feb 4, Mar 4, Apr 2-12, May 14 and Nov 10 marked");
      averageShown = true;
    } catch (err) {
      if (n !== seq.average) return;
      table.dataset.state = "error";
      $("war-a-status").textContent = `Averages: ${err.message}`;
    }
  }

  function render() {
    document.body.dataset.importer = cur.importer;
    const cn = cur.importer === "CN" && !!cur.code;
    const both = cur.importer === "both";
    if (!cn) { seq.cn++; $("cn-stack").hidden = true; }
    $("war").hidden = !both;
    if (cn) loadCn();
    if (both) { loadProduct(); loadAverage(); } else seq.product++;
  }

  document.addEventListener("tariffstack:refresh", (ev) => {
    cur.code = ev.detail.code || "";
    cur.date = ev.detail.date || "";
    cur.importer = importerFromUrl();
    $("importer").value = cur.importer;
    render();
  });
  document.addEventListener("DOMContentLoaded", () => {
    cur.importer = importerFromUrl();
    document.body.dataset.importer = cur.importer;
    $("importer").value = cur.importer;
    $("importer").addEventListener("change", () => setImporter($("importer").value));
  });
})();
