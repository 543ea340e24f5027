// tariffstack page, the DOM builder every view script uses (loaded first by index.html and docs.html):
// el(tag, props, ...children). Props: "class" sets className, "text" textContent, "on<event>"
// adds a listener, "dataset" copies into data-* attributes, any other key is an attribute (true
// is an empty attribute; undefined, null and false leave it out). Children are nodes or values,
// nested arrays are flattened, and a value is inserted as text (never as HTML).
"use strict";

(() => {
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  window.tariffstackDom = Object.freeze({ el });
})();
