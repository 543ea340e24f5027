// tariffstack page, the "Calculator" view: duty and fees in dollars for one shipment line
// (/api/calc), layer by layer with the rate, base, dollars and source of each, and pricing an
// uploaded file (/api/calc/file). It shows and hides its own tab; app.js's "tariffstack:view"
// event (another tab chosen) hides it again. Every value from the API is inserted as text.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const money = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString("en-US",
    { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  let built = false;

  const { el } = window.tariffstackDom;   // dom.js
  function field(label, input, hint) {
    return el("label", { class: "calc-field" }, el("span", { text: label }), input,
      hint ? el("small", { class: "muted", text: hint }) : null);
  }
  function input(id, attrs) { return el("input", { id, name: id, ...attrs }); }
  function select(id, options) {
    return el("select", { id, name: id }, options.map(([v, t]) => el("option", { value: v, text: t })));
  }

  function build(panel) {
    const form = el("form", { id: "calc-form", class: "card calc-form", "aria-labelledby": "calc-title" },
      el("h2", { id: "calc-title", text: "Duty calculator" }),
      el("p", { class: "muted", text: "Value, quantity and shipment facts in; dollars per layer out, each with the text that imposes it." }),
      el("div", { class: "calc-grid" },
        field("HTS code", input("calc-hts", { required: true, placeholder: "6403.99.9065", autocomplete: "off" })),
        field("Origin", input("calc-origin", { required: true, placeholder: "VN or Vietnam" })),
        field("Entry date", input("calc-date", { type: "date" })),
        field("Value (USD)", input("calc-value", { required: true, type: "number", min: "0", step: "0.01", placeholder: "80000" })),
        field("Quantity", input("calc-qty", { type: "number", min: "0", step: "any" }), "for duties per unit (¢/kg, $/doz.)"),
        field("Unit", input("calc-unit", { placeholder: "kg, prs, no, l…" })),
        field("Mode", select("calc-mode", [["", "—"], ["ocean", "ocean"], ["air", "air"], ["truck", "truck"], ["rail", "rail"], ["postal", "postal"], ["courier", "courier"]])),
        field("Entry type", select("calc-entry-type", [["", "by value"], ["formal", "formal"], ["formal_manual", "formal, manual"], ["informal", "informal"]])),
        field("Postal items", input("calc-items", { type: "number", min: "1", step: "1", value: "1" })),
        field("Postal duty", select("calc-postal", [["", "ad valorem"], ["specific", "per item"]])),
        field("Metal content share", input("calc-metal", { placeholder: "0.4 or 40%" }), "Section 232 derivatives"),
        field("Program", input("calc-program", { placeholder: "AU, KR…", maxlength: "4" }))),
      el("label", { class: "calc-check" }, input("calc-usmca", { type: "checkbox" }), " USMCA claimed"),
      el("div", { class: "calc-actions" }, el("button", { type: "submit", id: "calc-go", text: "Calculate" })),
      el("p", { id: "calc-error", class: "error", role: "alert", hidden: true }));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
    const result = el("section", { id: "calc-result", class: "card", hidden: true, "aria-live": "polite", "aria-labelledby": "calc-result-title" });
    const upload = el("form", { id: "calc-upload", class: "card", "aria-labelledby": "calc-upload-title" },
      el("h2", { id: "calc-upload-title", text: "Price a file" }),
      el("p", { class: "muted", text: "CSV, Parquet or Excel with the columns hts10, origin, entry_date, value (docs/CALC.md); bad lines are reported, the rest priced." }),
      input("calc-file", { type: "file", accept: ".csv,.parquet,.xlsx", "aria-label": "Shipment file" }),
      el("button", { type: "submit", id: "calc-upload-go", text: "Price file" }),
      el("div", { id: "calc-upload-result", "aria-live": "polite" }));
    upload.addEventListener("submit", (ev) => { ev.preventDefault(); priceFile(); });
    panel.append(form, result, upload);
    built = true;
  }

  function params() {
    const p = { hts10: $("calc-hts").value.trim(), origin: $("calc-origin").value.trim(), value: $("calc-value").value };
    const opt = { date: "calc-date", quantity: "calc-qty", unit: "calc-unit", mode: "calc-mode", entry_type: "calc-entry-type",
                  postal_method: "calc-postal", metal_content_share: "calc-metal", program: "calc-program" };
    for (const [k, id] of Object.entries(opt)) { const v = $(id).value.trim(); if (v) p[k] = v; }
    const items = $("calc-items").value.trim();
    if (items && items !== "1") p.items = items;
    if ($("calc-usmca").checked) p.usmca_claimed = "true";
    return p;
  }

  function fail(msg) {
    const box = $("calc-error");
    box.textContent = msg;
    box.hidden = false;
    $("calc-result").hidden = true;
  }

  async function run() {
    $("calc-error").hidden = true;
    let resp, body;
    try {
      resp = await fetch("/api/calc?" + new URLSearchParams(params()).toString());
      body = await resp.json();
    } catch (e) { fail("The calculator did not answer: " + e); return; }
    if (!resp.ok) { fail((body && body.error && body.error.message) || `error ${resp.status}`); return; }
    render(body);
  }

  function render(q) {
    const box = $("calc-result");
    box.replaceChildren();
    box.append(el("h2", { id: "calc-result-title", text: `${q.hts10} from ${q.origin_name} (${q.origin}), entered ${q.entry_date}` }),
      el("p", { class: "muted", text: `${q.description}; HTS ${q.revision}; value $${money(q.value)}` +
        (q.quantity !== null ? `, ${q.quantity} ${q.unit}` : "") + (q.mode ? `, ${q.mode}` : "") }));
    const rows = q.layers.map((x) => el("tr", { class: x.exempt ? "muted" : null },
      el("td", { text: x.layer }), el("td", { text: x.rate }), el("td", { class: "num", text: money(x.base_usd) }),
      el("td", { class: "num calc-usd", text: money(x.usd) }), el("td", { text: x.heading || "" }),
      el("td", { class: "small", text: (x.floor ? x.floor + ". " : "") + (x.source || "") })));
    box.append(el("table", { id: "calc-layers", class: "calc-table" },
      el("thead", {}, el("tr", {}, ["layer", "rate", "base $", "duty $", "heading", "source"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows)));
    const lines = [el("li", { id: "calc-duty" }, el("strong", { text: `Duty $${money(q.duty_usd)}` }), ` (${q.duty_pct_of_value}% of value)`)];
    if (q.postal) lines.push(el("li", { text: `Postal duty $${money(q.postal_duty_usd)} (${q.postal.chosen.method}) replaces the stack; source: ${q.postal.chosen.source}` }));
    if (q.de_minimis && q.de_minimis.eligible) lines.push(el("li", { text: `De minimis: entered free (${q.de_minimis.source})` }));
    for (const f of q.fees) {
      if (f.usd === null) continue;
      lines.push(el("li", { class: "calc-fee", text: `${f.fee.toUpperCase()}: $${money(f.usd)} (${f.basis}); source: ${f.source}` }));
    }
    lines.push(el("li", { id: "calc-total" }, el("strong", { text: `Total $${money(q.total_usd)}` }), ` (duty and fees ${q.landed_pct_of_value}% of value)`));
    box.append(el("ul", { class: "calc-totals" }, lines));
    if (q.notes.length) box.append(el("ul", { class: "notes small" }, q.notes.map((n) => el("li", { text: n }))));
    box.hidden = false;
  }

  async function priceFile() {
    const out = $("calc-upload-result");
    out.replaceChildren();
    const file = $("calc-file").files[0];
    if (!file) { out.append(el("p", { class: "error", role: "alert", text: "Choose a file first." })); return; }
    const types = { csv: "text/csv", parquet: "application/vnd.apache.parquet", xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };
    const ext = file.name.split(".").pop().toLowerCase();
    let resp, body;
    try {
      resp = await fetch("/api/calc/file", { method: "POST", body: file, headers: { "content-type": types[ext] || "text/csv" } });
      body = await resp.json();
    } catch (e) { out.append(el("p", { class: "error", role: "alert", text: String(e) })); return; }
    if (!resp.ok) { out.append(el("p", { class: "error", role: "alert", text: body.error.message })); return; }
    const r = body.report;
    out.append(el("p", { id: "calc-upload-summary", text: `${r.priced} lines priced, ${r.bad} bad; duty $${money(r.totals.duty_usd)}, fees $${money(r.totals.fees_usd)}, total $${money(r.totals.total_usd)}` }));
    if (r.errors.length) out.append(el("ul", { class: "small" }, r.errors.map((e) => el("li", { text: `line ${e.line}: ${e.error}` }))));
  }

  function show() {
    const panel = $("view-calc");
    for (const tab of document.querySelectorAll('.tabs [role="tab"]')) {
      const on = tab.id === "tab-calc";
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    }
    for (const p of document.querySelectorAll('main > [role="tabpanel"]')) p.hidden = p.id !== "view-calc";
    if (!built) build(panel);
  }
  function hide() {
    const tab = $("tab-calc");
    if (tab) { tab.setAttribute("aria-selected", "false"); tab.tabIndex = -1; }
    if ($("view-calc")) $("view-calc").hidden = true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tab = $("tab-calc");
    if (!tab) return;
    tab.addEventListener("click", show);
    if (new URLSearchParams(location.search).get("view") === "calc") show();
  });
  document.addEventListener("tariffstack:view", hide);
})();
