// The API reference with a "try it" form per endpoint, built from /api/openapi.json.
// Local code only (the page runs under a strict CSP: no CDN, no inline script, no eval).
"use strict";
(() => {
  const { el } = window.tariffstackDom;  // dom.js, loaded first by docs.html
  let spec = null;
  function resolve(schema) {
    if (schema && schema.$ref) return spec.components.schemas[schema.$ref.split("/").pop()] || {};
    return schema || {};
  }
  function typeOf(schema) {
    schema = resolve(schema);
    if (schema.anyOf) return schema.anyOf.map(typeOf).filter((t) => t !== "null").join(" | ");
    let t = schema.type || (schema.title || "");
    if (schema.maximum !== undefined || schema.minimum !== undefined) t += ` [${schema.minimum ?? ""}..${schema.maximum ?? ""}]`;
    if (schema.maxLength) t += ` (≤ ${schema.maxLength} chars)`;
    if (schema.pattern) t += ` /${schema.pattern}/`;
    return t;
  }
  function exampleOf(p) {
    const ex = p.examples || (p.schema && p.schema.examples);
    if (Array.isArray(ex) && ex.length) return ex[0];
    if (ex && typeof ex === "object") { const first = Object.values(ex)[0]; return first && first.value; }
    return p.example;
  }
  function responseSummary(op) {
    return Object.entries(op.responses || {}).map(([code, r]) => {
      const media = Object.entries(r.content || {})[0];
      const schema = media ? resolve(media[1].schema) : null;
      return `${code} ${media ? media[0] : ""}${schema && schema.title ? ` (${schema.title})` : ""}`;
    }).join(" · ");
  }

  async function send(form, method, path, params, bodyBox, out) {
    const q = new URLSearchParams();
    let url = path;
    for (const p of params) {
      const input = form.elements[`p-${p.name}`];
      const v = input ? input.value.trim() : "";
      if (!v) continue;
      if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(v));
      else q.set(p.name, v);
    }
    if (/\{[^}]+\}/.test(url)) { out.status.textContent = "fill in the path parameter first"; return; }
    const full = url + (q.toString() ? `?${q}` : "");
    const opts = { method: method.toUpperCase() };
    if (bodyBox) {
      opts.headers = { "Content-Type": form.elements.ctype.value };
      opts.body = bodyBox.value;
    }
    out.url.textContent = `${opts.method} ${full}`;
    out.status.textContent = "sending…";
    out.body.textContent = "";
    out.img.hidden = true;
    const t0 = performance.now();
    try {
      const resp = await fetch(full, opts);
      const ms = Math.round(performance.now() - t0);
      const ctype = resp.headers.get("content-type") || "";
      out.status.textContent = `HTTP ${resp.status} ${resp.statusText} · ${ctype.split(";")[0]} · ${ms} ms`;
      out.wrap.dataset.status = String(resp.status);
      if (ctype.startsWith("image/svg")) {
        out.img.src = full;
        out.img.hidden = false;
        out.body.textContent = "(SVG image shown above)";
      } else {
        const text = await resp.text();
        try { out.body.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { out.body.textContent = text; }
      }
    } catch (err) {
      out.status.textContent = `request failed: ${err}`;
    }
  }

  function card(path, method, op) {
    const id = `${method}-${path}`.replace(/[^a-z0-9]+/gi, "-");
    const section = el("section", { class: "card", id });
    section.append(el("h2", {}, el("span", { class: "badge", text: method.toUpperCase() }), " ", el("span", { class: "code", text: path })));
    if (op.summary) section.append(el("p", { text: op.summary }));
    if (op.description) section.append(el("p", { class: "muted small", text: op.description }));
    const params = op.parameters || [];
    const form = el("form", { class: "try", "data-path": path, "data-method": method });
    if (params.length) {
      const body = el("tbody");
      for (const p of params) {
        const desc = p.description || (p.schema && p.schema.description) || "";
        const inputId = `${id}-${p.name}`;
        const ex = exampleOf(p);
        const input = el("input", { id: inputId, name: `p-${p.name}`, type: "text", autocomplete: "off", spellcheck: "false",
          placeholder: ex === undefined ? "" : String(ex) });
        if (p.required || (!p.deprecated && ex !== undefined && ["hts10", "origin", "q", "date", "from", "to", "origins"].includes(p.name))) {
          input.value = ex === undefined ? "" : String(ex);
        }
        body.append(el("tr", { class: p.deprecated ? "deprecated" : "" },
          el("td", {}, el("label", { for: inputId, class: "code", text: p.name })),
          el("td", { text: `${p.in}${p.required ? ", required" : ""}${p.deprecated ? ", deprecated" : ""}` }),
          el("td", { class: "small", text: typeOf(p.schema) }),
          el("td", { class: "small", text: desc }),
          el("td", {}, input)));
      }
      const table = el("table", {}, el("thead", {}, el("tr", {}, ...["parameter", "in", "type", "description", "value"].map((t) => el("th", { text: t })))), body);
      form.append(el("div", { class: "scroll" }, table));
    }
    let bodyBox = null;
    const rb = op.requestBody && op.requestBody.content;
    if (rb) {
      const types = Object.keys(rb);
      const select = el("select", { name: "ctype" }, ...types.map((t) => el("option", { value: t, text: t })));
      bodyBox = el("textarea", { name: "body", rows: 5, spellcheck: "false" });
      const fill = () => {
        const ex = rb[select.value].example;
        bodyBox.value = typeof ex === "string" ? ex : JSON.stringify(ex, null, 2);
      };
      select.addEventListener("change", fill);
      fill();
      form.append(el("label", { class: "inline" }, "Body content type ", select), bodyBox);
    }
    const out = {
      wrap: el("div", { class: "try-out", "aria-live": "polite" }),
      url: el("p", { class: "code small" }),
      status: el("p", { class: "small muted" }),
      img: el("img", { alt: "Response image", hidden: true, class: "try-img" }),
      body: el("pre", { class: "try-body" }),
    };
    out.wrap.append(out.url, out.status, out.img, out.body);
    form.append(el("p", {}, el("button", { type: "submit", text: "Try it" })), out.wrap);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); send(form, method, path, params, bodyBox, out); });
    section.append(form, el("p", { class: "small muted", text: `Responses: ${responseSummary(op)}` }));
    return section;
  }

  async function main() {
    spec = await (await fetch("/api/openapi.json")).json();
    const root = document.getElementById("endpoints");
    const toc = document.getElementById("toc");
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const c = card(path, method, op);
        root.append(c);
        toc.append(el("li", {}, el("a", { href: `#${c.id}` }, `${method.toUpperCase()} ${path}`)));
      }
    }
    document.getElementById("loading").remove();
  }
  document.addEventListener("DOMContentLoaded", () => main().catch((e) => {
    document.getElementById("loading").textContent = `Could not load the API description: ${e}`;
  }));
})();
