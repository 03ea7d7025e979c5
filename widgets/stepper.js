// gradlab BackwardStepper front-end (anywidget ESM; no build step, no imports, nothing fetched).
//
// Python draws the SVG once (every node and edge is a <g> whose id is its model id) and sends
// frames by custom messages ({type: "frames", start, frames}). A frame lists what is NEW at its
// step (carried edges, freed saved tensors, done nodes), so moving from step a to step b toggles
// the classes of the frames in between: a step costs what it changes, whatever the graph size.
// Back, Reset and the slider move within the frames received; Step past the last one asks the
// kernel to run the next engine event. All panel text is set with textContent.
//
// The view zooms (buttons, + - 0 1 keys, Ctrl+wheel or pinch) and pans (drag, Shift+arrows);
// "Fit" shows the whole graph but never with node text under MIN_TEXT_PX on screen. Edges point
// forward as torchviz draws them; an edge that carried a gradient shows the arrowhead Python put
// halfway along it pointing the other way, and the edges of the step shown animate that way.
//
// A node that receives its gradient in parts (frame.parts adds to its count) is "waiting" while
// it has some but not all of them: its class, and the badge Python drew for it (data-node).
// The toolbar's meter shows the bytes the saved tensors hold at the step shown, with a
// sparkline over the steps recorded. In predict mode a frame's quiz asks for its gradients:
// the answer goes to the kernel, which checks it and sends the frame again with the verdict
// (and the gradient, once right or revealed); Step waits until every question is settled.

const SPEEDS = [["0.5×", 1600], ["1×", 800], ["2×", 400], ["4×", 200], ["10×", 80], ["max", 16]];
const LEGEND = [
  ["current", "current node"],
  ["carried", "gradient flowed this way"],
  ["done", "node finished"],
  ["freed", "saved tensor freed"],
  ["needed", "needed a freed tensor"],
  ["waiting", "waiting for more gradient parts"],
];
const KEYS = [
  ["→  or  Space", "step: run the next engine event"],
  ["←", "back one step (the view only)"],
  ["Home  /  End", "first / last recorded step"],
  ["p", "play / pause"],
  ["r", "reset the view to step 0"],
  ["+  /  −", "zoom in / out (also Ctrl+wheel, pinch)"],
  ["0", "fit the graph (text stays readable)"],
  ["1", "actual size"],
  ["Shift + arrows", "pan the graph (or drag it)"],
  ["Enter", "in the answer box: check the prediction"],
  ["Tab", "move between the controls"],
  ["?", "show or hide these shortcuts"],
];
const MARKS = ["carried", "freed", "done"];
// a ForwardStepper's (model "mode" is "forward"): tangents flow with the edges, no saved memory
const FORWARD_LEGEND = [
  ["current", "current op"],
  ["carried", "a nonzero tangent flowed this way"],
  ["done", "has its tangent in this pass"],
];
const SPARK = [120, 18];  // the memory sparkline's size in px
const MIN_TEXT_PX = 11.2;  // smallest node text "Fit" allows on screen (a margin above 11 px)
const ZOOM_STEP = 1.25;
const ZOOM_LIMITS = [0.1, 4];
const SVG_NS = "http://www.w3.org/2000/svg";
const MEMORY_NOTE = "Bytes held by the saved tensors of this graph at the step shown: each " +
  "storage once, however many saved tensors share it (PyTorch saves a tensor, not a copy, so " +
  "this includes tensors your code holds too). It falls as nodes free their saved tensors, " +
  "stays with retain_graph=True and grows with create_graph=True.";
let views = 0;  // numbers each view, for ids unique in the page

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

function button(label, title, cls = "") {
  return h("button", { type: "button", class: `gl-btn ${cls}`, title, text: label });
}

function helpOverlay(id) {
  const close = button("Close", "Close (Esc or ?)", "gl-help-close");
  const rows = KEYS.map(([k, what]) => h("tr", {}, h("th", { scope: "row" }, h("kbd", { text: k })),
                                         h("td", { text: what })));
  const box = h("div", { class: "gl-help", role: "dialog", "aria-modal": "false", id,
                         "aria-label": "Keyboard shortcuts", hidden: "" },
                h("div", { class: "gl-help-head" }, h("span", { text: "Keyboard shortcuts" }), close),
                h("table", {}, h("tbody", {}, ...rows)),
                h("p", { text: "Keys work while the stepper has the focus (click it, or Tab to it)." }));
  return { box, close };
}

function render({ model, el }) {
  const uid = `gl-stepper-${++views}`;
  const forward = model.get("mode") === "forward";
  const stepBtn = button("Step ►", "Run the next engine event (→ or Space)", "gl-primary");
  const backBtn = button("◄ Back", "Show the previous step (←)");
  const resetBtn = button("Reset", "Show step 0 (r)");
  const playBtn = button("Play", "Step on a timer (p)");
  const runBtn = button("Run to end »", "Run the rest of the pass");
  const againBtn = button("Backward again", "Call backward() a second time", "gl-again");
  const speed = h("select", { class: "gl-speed", title: "Play speed", "aria-label": "Play speed" });
  SPEEDS.forEach(([label, ms], i) => {
    const opt = h("option", { value: String(ms), text: label });
    if (i === 2) opt.selected = true;
    speed.append(opt);
  });
  const slider = h("input", { type: "range", min: "0", max: "0", value: "0", class: "gl-slider",
                              title: "Move between the recorded steps",
                              "aria-label": "Recorded step" });
  const counter = h("span", { class: "gl-counter", "aria-live": "off" });
  const memText = h("span", { class: "gl-mem-text" });
  const spark = document.createElementNS(SVG_NS, "svg");
  spark.setAttribute("class", "gl-spark");
  spark.setAttribute("width", String(SPARK[0]));
  spark.setAttribute("height", String(SPARK[1]));
  spark.setAttribute("aria-hidden", "true");
  const sparkLine = document.createElementNS(SVG_NS, "polyline");
  const sparkDot = document.createElementNS(SVG_NS, "circle");
  sparkDot.setAttribute("r", "2.5");
  spark.append(sparkLine, sparkDot);
  const meter = h("span", { class: "gl-mem", title: MEMORY_NOTE }, memText, spark);
  const outBtn = button("−", "Zoom out (−)", "gl-zoom-out");
  const inBtn = button("+", "Zoom in (+)", "gl-zoom-in");
  const zoomText = h("span", { class: "gl-zoom", title: "Zoom: 100% is the drawing's actual size" });
  const fitBtn = button("Fit", "Fit the graph in view, never smaller than readable text (0)",
                        "gl-fit-btn");
  const actualBtn = button("Actual size", "Show the drawing at 100% (1)", "gl-actual-btn");
  const helpBtn = button("?", "Keyboard shortcuts (?)", "gl-help-btn");
  const help = helpOverlay(`${uid}-help`);
  helpBtn.setAttribute("aria-controls", help.box.id);
  helpBtn.setAttribute("aria-expanded", "false");
  const toolbar = h("div", { class: "gl-toolbar", role: "toolbar", "aria-label": "Backward stepper" },
                    h("div", { class: "gl-group" }, resetBtn, backBtn, stepBtn, playBtn,
                      h("label", { class: "gl-speed-label" }, h("span", { text: "speed" }), speed),
                      runBtn, againBtn),
                    h("div", { class: "gl-group gl-view", role: "group", "aria-label": "Zoom" },
                      outBtn, zoomText, inBtn, fitBtn, actualBtn, helpBtn),
                    h("div", { class: "gl-group gl-where" }, slider, counter, meter));
  const message = h("div", { class: "gl-message" });
  const graph = h("div", { class: "gl-graph", tabindex: "0", role: "group",
                           "aria-label": "Backward graph (Shift+arrow keys or drag to pan, + and − zoom)" });
  const panel = h("div", { class: "gl-panel", tabindex: "0", role: "region",
                           "aria-label": "What the current step does", "aria-live": "polite" });
  const legend = h("div", { class: "gl-legend" });
  for (const [cls, text] of forward ? FORWARD_LEGEND : LEGEND) {
    legend.append(h("span", { class: `gl-key gl-key-${cls}` }, h("i"), text));
  }
  const hint = h("div", { class: "gl-hint", text: "Keys: → step · ← back · p play · + − zoom · " +
                                                   "0 fit · drag to pan · ? all shortcuts" });
  const root = h("div", { class: "gl-stepper", tabindex: "0", "data-lm-suppress-shortcuts": "true",
                          "aria-label": "Backward stepper" },
                 toolbar, message, h("div", { class: "gl-body" }, graph, panel), legend, hint,
                 help.box);
  el.append(root);
  if (forward) {  // every frame is made up front: the view only moves between them
    root.classList.add("gl-forward");
    root.setAttribute("aria-label", "Forward stepper");
    toolbar.setAttribute("aria-label", "Forward stepper");
    graph.setAttribute("aria-label", "The graph the tangents flow through " +
                       "(Shift+arrow keys or drag to pan, + and − zoom)");
    stepBtn.title = "Show the next op's tangent (→ or Space)";
    meter.hidden = true;
  }

  // ---- the drawing: zoom, pan, fit -------------------------------------------------------------

  // the SVG is made by Python from Graphviz output, every label escaped (see gradlab.viz.dot)
  let elements = new Map();
  let badges = new Map();  // node id -> its "waiting" badge
  const parts = new Map();  // node id -> [parts received, parts in all] at the step applied
  let svg = null;
  let natural = { width: 1, height: 1, text: 14 };  // px at 100%: size, smallest node text
  let zoom = 1;
  let mode = "fit";  // "fit", "actual" or "free" (the user zoomed)

  function drawSvg() {
    graph.innerHTML = model.get("svg");
    svg = graph.querySelector("svg");
    elements = new Map();
    for (const g of graph.querySelectorAll("g[id]")) elements.set(g.id, g);
    badges = new Map();
    for (const g of graph.querySelectorAll("g.gl-wait")) badges.set(g.dataset.node, g);
    parts.clear();
    if (!svg) return;
    natural = measure(svg);
    applyZoom(mode === "free" ? zoom : zoomFor(mode));
  }

  function measure(svgEl) {
    const box = svgEl.viewBox.baseVal;
    const px = (len, fallback) => {  // Graphviz writes "514pt"
      const m = /^([\d.]+)(pt|px)?$/.exec(svgEl.getAttribute(len) ?? "");
      return m ? Number(m[1]) * (m[2] === "pt" ? 4 / 3 : 1) : fallback;
    };
    const width = px("width", box?.width || 300);
    const height = px("height", box?.height || 150);
    // px per unit of the node text: the viewBox's, times the scale Graphviz gives a big drawing
    const scale = svgEl.querySelector("g.graph")?.transform.baseVal.consolidate()?.matrix.a ?? 1;
    const perUnit = (box?.width ? width / box.width : 1) * scale;
    const sizes = [...svgEl.querySelectorAll("g.node > text")]
      .map((t) => Number(t.getAttribute("font-size"))).filter((s) => s > 0);
    return { width, height, text: (sizes.length ? Math.min(...sizes) : 14) * perUnit };
  }

  function available() {
    const style = getComputedStyle(graph);
    const maxH = parseFloat(style.maxHeight);
    return { width: Math.max(graph.clientWidth - 2, 50), height: Number.isFinite(maxH) ? maxH - 2 : 560 };
  }

  function readable() { return MIN_TEXT_PX / natural.text; }

  function zoomFor(which) {
    if (which === "actual") return 1;
    const room = available();
    const whole = Math.min(1, room.width / natural.width, room.height / natural.height);
    return Math.max(whole, readable());
  }

  function applyZoom(z, anchor) {
    if (!svg) return;
    z = Math.min(ZOOM_LIMITS[1], Math.max(ZOOM_LIMITS[0], z));
    const rect = graph.getBoundingClientRect();
    const at = anchor ?? { x: rect.left + graph.clientWidth / 2, y: rect.top + graph.clientHeight / 2 };
    // the drawing's point under the anchor stays under it
    const fx = (graph.scrollLeft + at.x - rect.left - offset("left")) / zoom;
    const fy = (graph.scrollTop + at.y - rect.top - offset("top")) / zoom;
    zoom = z;
    svg.style.width = `${natural.width * z}px`;
    svg.style.height = `${natural.height * z}px`;
    graph.scrollLeft = fx * z + offset("left") - (at.x - rect.left);
    graph.scrollTop = fy * z + offset("top") - (at.y - rect.top);
    zoomText.textContent = `${Math.round(z * 100)}%`;
    fitBtn.setAttribute("aria-pressed", String(mode === "fit"));
    actualBtn.setAttribute("aria-pressed", String(mode === "actual"));
    graph.classList.toggle("gl-pannable", graph.scrollWidth > graph.clientWidth + 1 ||
                                          graph.scrollHeight > graph.clientHeight + 1);
    root.dataset.zoom = z.toFixed(3);
  }

  function offset(side) {  // where the SVG starts inside the scrolled content (it is centred)
    if (!svg) return 0;
    return side === "left" ? svg.offsetLeft : svg.offsetTop;
  }

  function setMode(which) {
    mode = which;
    applyZoom(zoomFor(which));
    if (currentEl && which !== "fit") reveal(currentEl);
  }

  function zoomBy(factor, anchor) {
    mode = "free";
    applyZoom(zoom * factor, anchor);
  }

  function pan(dx, dy) {
    graph.scrollLeft += dx * graph.clientWidth;
    graph.scrollTop += dy * graph.clientHeight;
  }

  drawSvg();

  // ---- frames -------------------------------------------------------------------------------------

  let frames = [];
  let applied = -1;       // frames[0..applied] have their marks applied
  let currentEl = null;
  let neededEls = [];
  let flowEls = [];       // edges that carried a gradient at the step shown (animated)
  let waiting = false;    // a step request is with the kernel
  let wanted = null;      // an index the kernel set before its frames arrived
  let timer = null;

  function mark(frame, on) {
    if (on) unmark(frame, true);
    for (const key of MARKS) {
      for (const id of frame[key]) elements.get(id)?.classList.toggle(key, on);
    }
    for (const [id, n, total] of frame.parts) {
      const got = (parts.get(id)?.[0] ?? 0) + (on ? n : -n);
      parts.set(id, [got, total]);
      const waiting = got > 0 && got < total;
      elements.get(id)?.classList.toggle("waiting", waiting);
      const badge = badges.get(id);
      if (!badge) continue;
      badge.classList.toggle("gl-on", waiting);
      if (waiting) badge.querySelector("text").textContent = `waiting ${got} of ${total}`;
    }
    if (!on) unmark(frame, false);
  }

  function unmark(frame, on) {  // a forward stepper's new pass clears the last pass's marks
    for (const [key, ids] of Object.entries(frame.cleared ?? {})) {
      for (const id of ids) elements.get(id)?.classList.toggle(key, !on);
    }
  }

  function show(k) {
    if (!frames.length) return;
    k = Math.max(0, Math.min(k, frames.length - 1));
    while (applied < k) mark(frames[++applied], true);
    while (applied > k) mark(frames[applied--], false);
    const frame = frames[k];
    currentEl?.classList.remove("current");
    currentEl = frame.node ? elements.get(frame.node) ?? null : null;
    currentEl?.classList.add("current");
    for (const e of neededEls) e.classList.remove("needed");
    neededEls = frame.needed.map((id) => elements.get(id)).filter(Boolean);
    for (const e of neededEls) e.classList.add("needed");
    for (const e of flowEls) e.classList.remove("flow");
    flowEls = frame.carried.map((id) => elements.get(id)).filter(Boolean);
    for (const e of flowEls) e.classList.add("flow");
    if (currentEl) reveal(currentEl);
    // a verdict re-draws the quiz: the focus stays in it (or goes to Step once it is settled);
    // a question that stops a keyboard step (Step is disabled) takes the focus
    const active = document.activeElement;
    const typing = Boolean(panel.contains(active) && active.closest(".gl-quiz"));
    const stepping = active === stepBtn || active === root;
    drawPanel(frame);
    drawMemory(k);
    controls();
    const answer = panel.querySelector(".gl-answer");
    if (typing || answer && stepping) (answer ?? stepBtn).focus();
    root.dataset.index = String(k);
    root.dataset.node = frame.node ?? "";
  }

  function reveal(target) {
    const box = target.getBoundingClientRect();
    const view = graph.getBoundingClientRect();
    if (box.top < view.top || box.bottom > view.bottom) {
      graph.scrollTop += box.top - view.top - view.height / 2 + box.height / 2;
    }
    if (box.left < view.left || box.right > view.right) {
      graph.scrollLeft += box.left - view.left - view.width / 2 + box.width / 2;
    }
  }

  function drawPanel(frame) {
    const title = h("div", { class: "gl-title" },
                    h("span", { class: `gl-badge gl-badge-${frame.kind}`, text: frame.event || frame.kind }),
                    h("span", { text: frame.title }));
    const items = [title];
    let answer = null;
    for (const q of frame.quiz ?? []) {
      const box = h("div", { class: `gl-quiz gl-quiz-${q.state}` });
      if (q.state === "open" && !answer) {
        const id = `${uid}-answer`;
        answer = h("input", { type: "text", class: "gl-answer", id, value: q.answer,
                              autocomplete: "off", spellcheck: "false",
                              placeholder: q.kind === "shape" ? "e.g. (2, 3)" : "e.g. 7.39 or [1, 2]",
                              "aria-describedby": `${id}-verdict` });
        const check = button("Check", "Check the prediction in Python (Enter)", "gl-check");
        const revealBtn = button("Reveal", "Show this gradient without an answer", "gl-reveal");
        const send = () => { model.send({ type: "predict", answer: answer.value }); };
        answer.addEventListener("keydown", (e) => {
          if (e.key === "Enter") { e.preventDefault(); send(); }
        });
        check.addEventListener("click", send);
        revealBtn.addEventListener("click", () => model.send({ type: "reveal" }));
        box.append(h("label", { for: id, class: "gl-ask", text: `Predict ${q.ask}` }),
                   h("div", { class: "gl-quiz-row" }, answer, check, revealBtn),
                   h("div", { class: "gl-verdict", id: `${id}-verdict`, role: "status",
                              text: q.verdict }));
      } else if (q.state === "open") {
        box.append(h("span", { class: "gl-ask", text: `Next: ${q.ask}` }));
      } else {
        box.append(h("div", { class: "gl-verdict", text: q.verdict }));
      }
      items.push(box);
    }
    for (const [head, text, style] of frame.panel) {
      items.push(h("div", { class: `gl-sec gl-sec-${style || "plain"}` },
                   h("div", { class: "gl-head", text: head }), h("pre", { text })));
    }
    if (applied < frames.length - 1 && !forward) {
      items.push(h("div", { class: "gl-note gl-past",
                            text: `Viewing step ${applied} of ${frames.length - 1} recorded. Back and ` +
                                  "Reset only move the view: the engine ran those steps once and " +
                                  ".grad keeps what they did." }));
    }
    panel.replaceChildren(...items);
  }

  function blocked() {  // an open question at the last frame: the pass waits for it
    return (frames[frames.length - 1]?.quiz ?? []).some((q) => q.state === "open");
  }

  // ---- the saved tensors' memory ---------------------------------------------------------------

  function bytesText(n) {
    if (n < 100000) return `${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}`;
    const units = ["KiB", "MiB", "GiB"];
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return `${n.toFixed(1)} ${units[i]}`;
  }

  let sparkMax = 0;
  function drawSpark() {  // once per message: one point per pixel column (its highest value)
    const [w, hgt] = SPARK;
    const n = frames.length;
    sparkMax = frames.reduce((top, f) => Math.max(top, f.saved_bytes), 1);
    const cols = Math.min(n, w);
    const points = [];
    for (let c = 0; c < cols; c++) {
      let top = 0;
      for (let i = Math.floor(c * n / cols); i < Math.max(Math.floor((c + 1) * n / cols), 1); i++) {
        top = Math.max(top, frames[i].saved_bytes);
      }
      const x = cols > 1 ? 1 + c * (w - 2) / (cols - 1) : w / 2;
      points.push(`${x.toFixed(1)},${(hgt - 2 - top / sparkMax * (hgt - 4)).toFixed(1)}`);
    }
    sparkLine.setAttribute("points", points.join(" "));
  }

  function drawMemory(k) {
    const bytes = frames[k].saved_bytes;
    memText.textContent = `saved: ${bytesText(bytes)}`;
    const n = frames.length;
    const [w, hgt] = SPARK;
    sparkDot.setAttribute("cx", (n > 1 ? 1 + k * (w - 2) / (n - 1) : w / 2).toFixed(1));
    sparkDot.setAttribute("cy", (hgt - 2 - bytes / sparkMax * (hgt - 4)).toFixed(1));
    meter.setAttribute("aria-label", `saved tensors hold ${bytesText(bytes)} at step ${k}`);
  }

  function controls() {
    const complete = model.get("complete");
    const last = frames.length - 1;
    const at = Math.max(applied, 0);
    slider.max = String(Math.max(last, 0));
    slider.value = String(at);
    slider.setAttribute("aria-valuetext", `step ${at} of ${Math.max(last, 0)}`);
    counter.textContent = complete ? `step ${at} of ${last}` : `step ${at} of ${Math.max(last, 0)} so far`;
    counter.title = complete ? "The pass is complete: every step is recorded."
                             : "The engine runs one event per Step: the total is known at the end.";
    backBtn.disabled = applied <= 0;
    resetBtn.disabled = applied <= 0;
    const held = applied >= last && blocked();
    stepBtn.disabled = complete && applied >= last || held;
    if (!forward) {
      stepBtn.title = held ? "Answer the prediction (or Reveal it) first"
                           : "Run the next engine event (→ or Space)";
    }
    runBtn.disabled = complete && applied >= last;
    runBtn.title = forward ? "Show the last step" : held ? "Run the rest of the pass, revealing the gradients it would ask for"
                        : "Run the rest of the pass";
    againBtn.hidden = !complete || forward;
    playBtn.textContent = timer ? "Pause" : "Play";
    playBtn.setAttribute("aria-pressed", String(Boolean(timer)));
    stepBtn.classList.toggle("gl-waiting", waiting);
  }

  function moveTo(k) {
    show(k);
    if (model.get("index") !== applied) {
      model.set("index", applied);
      model.save_changes();
    }
  }

  function step() {
    if (applied < frames.length - 1) moveTo(applied + 1);
    else if (!model.get("complete") && !waiting && !blocked()) {
      waiting = true;
      controls();
      model.send({ type: "step" });
    }
  }

  function back() { if (applied > 0) moveTo(applied - 1); }
  function reset() { stop(); moveTo(0); }

  function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
    controls();
  }

  function tick() {
    if (applied >= frames.length - 1 && (model.get("complete") || blocked())) return stop();
    step();
    timer = setTimeout(tick, Number(speed.value));
  }

  function play() {
    if (timer) return stop();
    if (applied >= frames.length - 1 && model.get("complete")) moveTo(0);
    timer = setTimeout(tick, 0);
    controls();
  }

  function onMessage(msg) {
    if (msg.type === "frames") {
      root.dataset.received = String(performance.now());  // lets a test time the browser's part
      if (msg.start > frames.length) { model.send({ type: "sync" }); return; }
      if (msg.start < applied + 1) {  // replacing frames already applied: unapply them first
        while (applied >= msg.start) mark(frames[applied--], false);
      }
      for (let i = 0; i < msg.frames.length; i++) frames[msg.start + i] = msg.frames[i];
      waiting = false;
      drawSpark();
      const target = msg.index ?? wanted ?? model.get("index");
      wanted = null;
      show(target < frames.length ? target : applied < 0 ? 0 : applied);
    } else if (msg.type === "index") {
      if (msg.index < frames.length) show(msg.index);
    }
  }

  function onIndex() {
    const k = model.get("index");
    if (k === applied) return;
    if (k < frames.length) show(k);
    else wanted = k;
  }

  // ---- keyboard, pointer, help -----------------------------------------------------------------

  let before = null;  // the element focused before the help opened
  function toggleHelp(open = help.box.hidden) {
    help.box.hidden = !open;
    helpBtn.setAttribute("aria-expanded", String(open));
    if (open) {
      before = document.activeElement;
      help.close.focus();
    } else if (root.contains(before)) {
      before.focus();
    } else {
      root.focus();
    }
  }

  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target.tagName;
    if (e.key === "Escape" && !help.box.hidden) return stopped(e, () => toggleHelp(false));
    if (e.target.type === "text") return e.stopPropagation();  // typing an answer: every key
    if (e.key === "?") return stopped(e, () => toggleHelp());
    if (tag === "SELECT" || tag === "INPUT") return;  // they have their own keys
    if ((e.key === " " || e.key === "Enter") && tag === "BUTTON") return;  // the button's own
    if (e.shiftKey && e.key.startsWith("Arrow")) {
      const [dx, dy] = { ArrowLeft: [-0.2, 0], ArrowRight: [0.2, 0], ArrowUp: [0, -0.2],
                         ArrowDown: [0, 0.2] }[e.key];
      return stopped(e, () => pan(dx, dy));
    }
    const actions = {
      ArrowRight: step, " ": step, ArrowLeft: back, p: play, r: reset,
      Home: () => moveTo(0), End: () => moveTo(frames.length - 1),
      "+": () => zoomBy(ZOOM_STEP), "=": () => zoomBy(ZOOM_STEP),
      "-": () => zoomBy(1 / ZOOM_STEP), "_": () => zoomBy(1 / ZOOM_STEP),
      "0": () => setMode("fit"), "1": () => setMode("actual"),
    };
    const action = actions[e.key];
    if (action) stopped(e, action);
  };

  function stopped(e, action) {
    e.preventDefault();
    e.stopPropagation();
    action();
  }

  const onWheel = (e) => {  // Ctrl+wheel, and a trackpad's pinch, zoom; the wheel alone scrolls
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    zoomBy(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.002)), { x: e.clientX, y: e.clientY });
  };

  const pointers = new Map();  // pointerId -> [x, y]: one pointer drags, two pinch
  let pinch = null;
  const onDown = (e) => {
    if (e.button !== 0) return;
    pointers.set(e.pointerId, [e.clientX, e.clientY]);
    graph.setPointerCapture(e.pointerId);
    graph.classList.add("gl-dragging");
    if (pointers.size === 2) pinch = spread();
  };
  const onMove = (e) => {
    const last = pointers.get(e.pointerId);
    if (!last) return;
    pointers.set(e.pointerId, [e.clientX, e.clientY]);
    if (pointers.size === 1) {
      graph.scrollLeft -= e.clientX - last[0];
      graph.scrollTop -= e.clientY - last[1];
    } else if (pinch) {
      const now = spread();
      zoomBy(now.d / pinch.d, { x: now.x, y: now.y });
      pinch = now;
    }
  };
  const onUp = (e) => {
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (!pointers.size) graph.classList.remove("gl-dragging");
  };
  function spread() {
    const [[ax, ay], [bx, by]] = [...pointers.values()];
    return { d: Math.hypot(ax - bx, ay - by) || 1, x: (ax + bx) / 2, y: (ay + by) / 2 };
  }

  let width = 0;
  const resized = new ResizeObserver(() => {  // the widget's own width, not the window's
    if (graph.clientWidth === width) return;
    width = graph.clientWidth;
    if (mode !== "free") applyZoom(zoomFor(mode));
  });
  resized.observe(graph);

  stepBtn.addEventListener("click", step);
  backBtn.addEventListener("click", back);
  resetBtn.addEventListener("click", reset);
  playBtn.addEventListener("click", play);
  runBtn.addEventListener("click", () => {
    stop();
    if (forward) moveTo(frames.length - 1);
    else model.send({ type: "run" });
  });
  againBtn.addEventListener("click", () => { stop(); model.send({ type: "again" }); });
  inBtn.addEventListener("click", () => zoomBy(ZOOM_STEP));
  outBtn.addEventListener("click", () => zoomBy(1 / ZOOM_STEP));
  fitBtn.addEventListener("click", () => setMode("fit"));
  actualBtn.addEventListener("click", () => setMode("actual"));
  helpBtn.addEventListener("click", () => toggleHelp());
  help.close.addEventListener("click", () => toggleHelp(false));
  slider.addEventListener("input", () => moveTo(Number(slider.value)));
  root.addEventListener("keydown", onKey);
  graph.addEventListener("wheel", onWheel, { passive: false });
  graph.addEventListener("pointerdown", onDown);
  graph.addEventListener("pointermove", onMove);
  graph.addEventListener("pointerup", onUp);
  graph.addEventListener("pointercancel", onUp);

  const onMessageText = () => {
    message.textContent = model.get("message");
    message.hidden = !model.get("message");
  };
  onMessageText();
  model.on("msg:custom", onMessage);
  model.on("change:index", onIndex);
  model.on("change:complete", controls);
  model.on("change:message", onMessageText);
  const onSvg = () => { const k = applied; drawSvg(); applied = -1; show(k); };
  model.on("change:svg", onSvg);
  controls();
  model.send({ type: "sync" });

  return () => {
    stop();
    resized.disconnect();
    model.off("msg:custom", onMessage);
    model.off("change:index", onIndex);
    model.off("change:complete", controls);
    model.off("change:message", onMessageText);
    model.off("change:svg", onSvg);
  };
}

export default { render };
