// gradlab GradHistory front-end (anywidget ESM; no build step, no imports, nothing fetched).
//
// Python sends rows by custom messages ({type: "rows", start, rows}); each row has one cell per
// watched leaf: {text, value, events, reached}. The view draws a plot per leaf (its value, or the
// norm of a non-scalar .grad, against the row; red dots where .grad was zeroed or set to None)
// with labelled axes whose labels are placed so that they never overlap, and the table of rows.
// ↑/↓ (or ←/→), Home and End select a row in the table and in the plots. All text is set with
// textContent.

const KEYS = [
  ["↑ ↓  or  ← →", "select the previous / next row"],
  ["Home  /  End", "first / last row"],
  ["Esc", "clear the selection"],
  ["Tab", "move to the table (arrow keys scroll it)"],
  ["?", "show or hide these shortcuts"],
];
const SVG = "http://www.w3.org/2000/svg";
const PLOT = { width: 300, height: 150, top: 22, right: 12, bottom: 34, char: 7.3, gap: 8 };
const LINE = 15;  // px between two y labels (11 px text)
const DOT_SPACING = 4;  // px between rows below which a chart draws no dots (as the static picture)

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

function fmt(v) {
  if (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(+v.toFixed(4));
}

// ---- one leaf's plot ---------------------------------------------------------------------------

function plot(rows, i, name, scalar, selected) {
  const s = (tag, attrs = {}, text) => {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const { width, height, top, right, bottom, char, gap } = PLOT;
  const values = rows.map((r) => r.cells[i].value);
  const known = values.filter((v) => v !== null);
  const lo = known.length ? Math.min(...known) : 0;
  const hi = known.length ? Math.max(...known) : 0;
  const plotH = height - top - bottom;
  const Y = (v) => top + (hi === lo ? plotH / 2 : plotH - plotH * (v - lo) / (hi - lo));
  // the lowest and highest value, and 0 between them if its label has room
  const yTicks = lo === hi ? [lo] : [lo, hi];
  if (lo < 0 && hi > 0 && Math.min(Y(0) - Y(hi), Y(lo) - Y(0)) >= LINE) yTicks.splice(1, 0, 0);
  const left = Math.max(...yTicks.map((v) => fmt(v).length)) * char + 12;
  const inner = { x: left, y: top, w: width - left - right, h: plotH };
  const n = rows.length;
  const X = (k) => inner.x + (n <= 1 ? inner.w / 2 : inner.w * k / (n - 1));
  const title = scalar ? `${name}.grad` : `norm of ${name}.grad`;
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "gl-chart",
                         role: "img", "aria-label": `${title} over ${n} rows` });
  svg.append(s("text", { x: inner.x, y: 14, class: "gl-chart-title" }, title));
  svg.append(s("rect", { x: inner.x, y: inner.y, width: inner.w, height: inner.h, class: "gl-chart-bg" }));
  // y axis: the lowest and highest value (and 0 between them), labels right-aligned at the axis
  for (const v of yTicks) {
    const y = Y(v);
    svg.append(s("line", { x1: inner.x - 4, x2: inner.x + inner.w, y1: y, y2: y,
                           class: v === 0 && yTicks.length === 3 ? "gl-chart-zero" : "gl-chart-grid" }));
    svg.append(s("text", { x: inner.x - 6, y: y + 4, "text-anchor": "end", class: "gl-chart-tick gl-y" },
                 fmt(v)));
  }
  // x axis: row numbers, every k-th so that the labels keep a gap between them
  const labelW = String(n).length * char + gap;
  const every = Math.max(1, Math.ceil(labelW / (n <= 1 ? inner.w : inner.w / (n - 1))));
  svg.append(s("line", { x1: inner.x, x2: inner.x + inner.w, y1: inner.y + inner.h,
                         y2: inner.y + inner.h, class: "gl-chart-axis" }));
  for (let k = 0; k < n; k++) {
    if (k % every && k !== n - 1) continue;
    if (k !== n - 1 && n - 1 - k < every) continue;  // the last label always shows
    svg.append(s("line", { x1: X(k), x2: X(k), y1: inner.y + inner.h, y2: inner.y + inner.h + 4,
                           class: "gl-chart-axis" }));
    svg.append(s("text", { x: X(k), y: inner.y + inner.h + 15, "text-anchor": "middle",
                           class: "gl-chart-tick gl-x" }, String(k + 1)));
  }
  svg.append(s("text", { x: inner.x + inner.w / 2, y: height - 3, "text-anchor": "middle",
                         class: "gl-chart-label" }, "row of the table"));
  // the line (a gap where .grad was None), the points, the events
  let d = "";
  values.forEach((v, k) => { if (v !== null) d += `${d && values[k - 1] !== null ? "L" : "M"}${X(k)},${Y(v)}`; });
  if (d) svg.append(s("path", { d, class: "gl-chart-line" }));
  const dense = n > 1 && inner.w / (n - 1) < DOT_SPACING;  // hundreds of rows: the line alone
  rows.forEach((r, k) => {
    const c = r.cells[i];
    const y = c.value === null ? inner.y + inner.h : Y(c.value);
    if (!dense) {
      const dot = s("circle", { cx: X(k), cy: y, r: c.events.length ? 4 : 2.5,
                                class: c.events.length ? "gl-chart-event" : "gl-chart-dot" });
      dot.append(s("title", {}, `row ${k + 1}, ${r.label}: ${c.events.length ? `[${c.events.join(", ")}] ` : ""}` +
                                (c.value === null ? "None" : fmt(c.value))));
      svg.append(dot);
    }
    if (k === selected) svg.append(s("circle", { cx: X(k), cy: y, r: 7, class: "gl-chart-selected" }));
  });
  return svg;
}

// ---- the widget ----------------------------------------------------------------------------------

function render({ model, el }) {
  let rows = [];
  let selected = null;  // a row index, or null
  const plots = h("div", { class: "gl-plots" });
  const table = h("table", { class: "gl-table" });
  const wrap = h("div", { class: "gl-table-wrap", tabindex: "0", role: "region",
                          "aria-label": "Rows: .grad after each backward call" }, table);
  const summary = h("div", { class: "gl-summary" });
  const legend = h("div", { class: "gl-hlegend" },
                   h("span", { class: "gl-ev", text: "zero_()" }),
                   h("span", { text: " / " }), h("span", { class: "gl-ev", text: "grad = None" }),
                   h("span", { text: " happened before that row; values add up until you reset them. " +
                                     "Plots: the value, or the norm of a non-scalar .grad." }));
  const helpBtn = h("button", { type: "button", class: "gl-hbtn", title: "Keyboard shortcuts (?)",
                                "aria-expanded": "false", text: "?" });
  const closeBtn = h("button", { type: "button", class: "gl-hbtn", title: "Close (Esc or ?)", text: "Close" });
  const help = h("div", { class: "gl-hhelp", role: "dialog", "aria-label": "Keyboard shortcuts", hidden: "" },
                 h("div", { class: "gl-hhelp-head" }, h("span", { text: "Keyboard shortcuts" }), closeBtn),
                 h("table", {}, h("tbody", {}, ...KEYS.map(([k, what]) =>
                   h("tr", {}, h("th", { scope: "row" }, h("kbd", { text: k })), h("td", { text: what }))))));
  const hint = h("div", { class: "gl-hhint", text: "Keys: ↑ ↓ select a row · Home / End · ? all shortcuts" });
  const root = h("div", { class: "gl-history", tabindex: "0", "data-lm-suppress-shortcuts": "true",
                          "aria-label": "GradHistory" },
                 h("div", { class: "gl-hbar" }, summary, helpBtn), plots, wrap, legend, hint, help);
  el.append(root);

  function draw() {
    const names = model.get("names");
    const calls = rows.filter((r) => r.kind === "backward").length;
    summary.textContent = `GradHistory: ${calls} backward call${calls === 1 ? "" : "s"}, ` +
                          `watching ${names.join(", ")}`;
    const scalars = model.get("scalars");
    plots.replaceChildren(...names.map((name, i) =>
      h("div", { class: "gl-plot" }, plot(rows, i, name, scalars[i] ?? true, selected))));
    const head = h("tr", {}, h("th", { text: "row" }), h("th", { text: "after" }),
                   ...names.map((n) => h("th", { text: `${n}.grad` })));
    const body = rows.map((r, k) => h("tr", { class: (r.kind === "record" ? "gl-manual" : "") +
                                                     (k === selected ? " gl-selected" : ""),
                                              "aria-selected": String(k === selected) },
      h("td", { class: "gl-num", text: String(k + 1) }),
      h("td", { class: "gl-label", text: r.label }),
      ...r.cells.map((c) => {
        const td = h("td", { class: c.reached ? "gl-reached" : "gl-unreached" });
        for (const e of c.events) td.append(h("span", { class: "gl-ev", text: e }));
        td.append(h("pre", { text: c.reached || c.events.length || r.kind === "record" ? c.text : "·" }));
        return td;
      })));
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
    if (selected === null) wrap.scrollTop = wrap.scrollHeight;
    else table.tBodies[0].rows[selected]?.scrollIntoView({ block: "nearest" });
    root.dataset.rows = String(rows.length);
    root.dataset.selected = selected === null ? "" : String(selected);
  }

  let pending = false;
  function schedule() {  // many rows can arrive at once (a training loop): draw once per frame
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }

  function select(k) {
    selected = k === null || !rows.length ? null : Math.max(0, Math.min(k, rows.length - 1));
    draw();
  }

  function toggleHelp(open = help.hidden) {
    help.hidden = !open;
    helpBtn.setAttribute("aria-expanded", String(open));
    (open ? closeBtn : root).focus();
  }

  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const last = rows.length - 1;
    const from = selected ?? rows.length;
    const actions = {
      "?": () => toggleHelp(),
      Escape: () => (help.hidden ? select(null) : toggleHelp(false)),
      ArrowUp: () => select(from - 1), ArrowLeft: () => select(from - 1),
      ArrowDown: () => select(selected === null ? last : selected + 1),
      ArrowRight: () => select(selected === null ? last : selected + 1),
      Home: () => select(0), End: () => select(last),
    };
    if (e.target === wrap && e.key.startsWith("Arrow")) return;  // the table scrolls itself
    const action = actions[e.key];
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    action();
  };

  function onMessage(msg) {
    if (msg.type !== "rows") return;
    if (msg.start > rows.length) { model.send({ type: "sync" }); return; }
    for (let i = 0; i < msg.rows.length; i++) rows[msg.start + i] = msg.rows[i];
    schedule();
  }

  root.addEventListener("keydown", onKey);
  helpBtn.addEventListener("click", () => toggleHelp());
  closeBtn.addEventListener("click", () => toggleHelp(false));
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
