// Renders the generated OpenAPI description as a readable list (no third-party UI).
"use strict";
(() => {
  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function typeOf(schema) {
    if (!schema) return "";
    if (schema.anyOf) return schema.anyOf.map(typeOf).filter((t) => t !== "null").join(" | ");
    let t = schema.type || "";
    if (schema.maximum !== undefined || schema.minimum !== undefined) t += ` [${schema.minimum ?? ""}..${schema.maximum ?? ""}]`;
    if (schema.maxLength) t += ` (≤ ${schema.maxLength} chars)`;
    return t;
  }
  async function main() {
    const spec = await (await fetch("/api/openapi.json")).json();
    const root = document.getElementById("endpoints");
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const card = el("section", "card");
        const h = el("h2");
        h.append(el("span", "badge", method.toUpperCase()), " ", el("span", "code", path));
        card.append(h);
        if (op.summary) card.append(el("p", "", op.summary));
        if (op.description) card.append(el("p", "muted small", op.description));
        const params = op.parameters || [];
        if (params.length) {
          const table = el("table");
          const head = el("tr");
          for (const t of ["parameter", "in", "type", "required", "description"]) head.append(el("th", "", t));
          table.append(el("thead"));
          table.tHead.append(head);
          const body = el("tbody");
          for (const p of params) {
            const tr = el("tr");
            tr.append(el("td", "code", p.name), el("td", "", p.in), el("td", "", typeOf(p.schema)),
              el("td", "", p.required ? "yes" : ""), el("td", "", p.description || (p.schema && p.schema.description) || ""));
            body.append(tr);
          }
          table.append(body);
          const wrap = el("div", "scroll");
          wrap.append(table);
          card.append(wrap);
        }
        root.append(card);
      }
    }
    document.getElementById("loading").remove();
  }
  document.addEventListener("DOMContentLoaded", () => main().catch((e) => {
    document.getElementById("loading").textContent = `Could not load the API description: ${e}`;
  }));
})();
