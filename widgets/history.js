// gradlab GradHistory front-end (anywidget ESM; no build step, no imports, nothing fetched).
//
// Python sends rows by custom messages ({type: "rows", start, rows}); each row has one cell per
// watched leaf: {text, value, events, reached}. The view draws a sparkline per leaf (value, or
// norm for a non-scalar; red dots where .grad was zeroed or set to None) and the table of rows.
// All text is set with textContent.

const SVG = "http://www.w3.org/2000/svg";

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function sparkline(rows, i, width = 220, height = 44) {
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "gl-spark" });
  svg.append(s("rect", { x: 0, y: 0, width, height, rx: 3, class: "gl-spark-bg" }));
  const pts = [];
  rows.forEach((r, k) => { const v = r.cells[i].value; if (v !== null) pts.push([k, v]); });
  if (!pts.length) return svg;
  const lo = Math.min(...pts.map((p) => p[1]));
  const hi = Math.max(...pts.map((p) => p[1]));
  const span = hi - lo || 1;
  const n = Math.max(rows.length - 1, 1);
  const X = (k) => 6 + (width - 12) * k / n;
  const Y = (v) => height - 6 - (height - 12) * (v - lo) / span;
  svg.append(s("polyline", { points: pts.map(([k, v]) => `${X(k)},${Y(v)}`).join(" "),
                             class: "gl-spark-line" }));
  rows.forEach((r, k) => {
    const c = r.cells[i];
    const y = c.value === null ? height - 6 : Y(c.value);
    if (c.events.length) svg.append(s("circle", { cx: X(k), cy: y, r: 3.5, class: "gl-spark-event" }));
    else if (c.value !== null) svg.append(s("circle", { cx: X(k), cy: y, r: 2, class: "gl-spark-dot" }));
  });
  const label = s("text", { x: width - 4, y: 11, class: "gl-spark-range", "text-anchor": "end" });
  label.textContent = lo === hi ? `${fmt(hi)}` : `${fmt(lo)} … ${fmt(hi)}`;
  svg.append(label);
  return svg;
}

function fmt(v) { return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(+v.toFixed(4)); }

function render({ model, el }) {
  let rows = [];
  const plots = h("div", { class: "gl-plots" });
  const table = h("table", { class: "gl-table" });
  const wrap = h("div", { class: "gl-table-wrap" }, table);
  const summary = h("div", { class: "gl-summary" });
  const legend = h("div", { class: "gl-hlegend" },
                   h("span", { class: "gl-ev", text: "zero_()" }),
                   h("span", { text: " / " }), h("span", { class: "gl-ev", text: "grad = None" }),
                   h("span", { text: " happened before that backward; values add up until you reset them. " +
                                     "Plots: the value, or the norm of a non-scalar .grad." }));
  const root = h("div", { class: "gl-history" }, summary, plots, wrap, legend);
  el.append(root);

  function draw() {
    const names = model.get("names");
    const calls = rows.filter((r) => r.kind === "backward").length;
    summary.textContent = `GradHistory: ${calls} backward call${calls === 1 ? "" : "s"}, ` +
                          `watching ${names.join(", ")}`;
    plots.replaceChildren(...names.map((name, i) =>
      h("div", { class: "gl-plot" }, h("div", { class: "gl-plot-name", text: `${name}.grad` }),
        sparkline(rows, i))));
    const head = h("tr", {}, h("th", { text: "#" }), ...names.map((n) => h("th", { text: `${n}.grad` })));
    const body = rows.map((r) => h("tr", { class: r.kind === "record" ? "gl-manual" : "" },
      h("td", { class: "gl-label", text: r.label }),
      ...r.cells.map((c) => {
        const td = h("td", { class: c.reached ? "gl-reached" : "gl-unreached" });
        for (const e of c.events) td.append(h("span", { class: "gl-ev", text: e }));
        td.append(h("pre", { text: c.reached || c.events.length || r.kind === "record" ? c.text : "·" }));
        return td;
      })));
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
    wrap.scrollTop = wrap.scrollHeight;
    root.dataset.rows = String(rows.length);
  }

  let pending = false;
  function schedule() {  // many rows can arrive at once (a training loop): draw once per frame
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }

  function onMessage(msg) {
    if (msg.type !== "rows") return;
    if (msg.start > rows.length) { model.send({ type: "sync" }); return; }
    for (let i = 0; i < msg.rows.length; i++) rows[msg.start + i] = msg.rows[i];
    schedule();
  }

  model.on("msg:custom", onMessage);
  model.on("change:names", schedule);
  draw();
  model.send({ type: "sync" });
  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:names", schedule);
  };
}

export default { render };
