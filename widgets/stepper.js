// gradlab BackwardStepper front-end (anywidget ESM; no build step, no imports, nothing fetched).
//
// Python draws the SVG once (every node and edge is a <g> whose id is its model id) and sends
// frames by custom messages ({type: "frames", start, frames}). A frame lists what is NEW at its
// step (carried edges, freed saved tensors, done nodes), so moving from step a to step b toggles
// the classes of the frames in between: a step costs what it changes, whatever the graph size.
// Back, Reset and the slider move within the frames received; Step past the last one asks the
// kernel to run the next engine event. All panel text is set with textContent.

const SPEEDS = [["0.5×", 1600], ["1×", 800], ["2×", 400], ["4×", 200], ["10×", 80], ["max", 16]];
const LEGEND = [
  ["current", "current node"],
  ["carried", "edge carried a gradient"],
  ["done", "node finished"],
  ["freed", "saved tensor freed"],
  ["needed", "needed a freed tensor"],
];
const MARKS = ["carried", "freed", "done"];

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

function render({ model, el }) {
  const stepBtn = button("Step ▶", "Run the next engine event (→ or space)", "gl-primary");
  const backBtn = button("◀ Back", "Show the previous step (←)");
  const resetBtn = button("Reset", "Show step 0 (r)");
  const playBtn = button("Play ▷", "Step on a timer (p)");
  const runBtn = button("Run to end »", "Run the rest of the pass");
  const againBtn = button("Backward again", "Call backward() a second time", "gl-again");
  const fitBtn = button("1:1", "Toggle fit-to-width / actual size");
  const speed = h("select", { class: "gl-speed", title: "Play speed" });
  SPEEDS.forEach(([label, ms], i) => {
    const opt = h("option", { value: String(ms), text: label });
    if (i === 2) opt.selected = true;
    speed.append(opt);
  });
  const slider = h("input", { type: "range", min: "0", max: "0", value: "0", class: "gl-slider",
                              title: "Move between recorded steps" });
  const counter = h("span", { class: "gl-counter" });
  const toolbar = h("div", { class: "gl-toolbar" }, resetBtn, backBtn, stepBtn, playBtn,
                    h("label", { class: "gl-speed-label", text: "speed " }, speed),
                    runBtn, againBtn, slider, counter, fitBtn);
  const message = h("div", { class: "gl-message" });
  const graph = h("div", { class: "gl-graph gl-fit" });
  const panel = h("div", { class: "gl-panel", "aria-live": "polite" });
  const legend = h("div", { class: "gl-legend" });
  for (const [cls, text] of LEGEND) {
    legend.append(h("span", { class: `gl-key gl-key-${cls}` }, h("i"), text));
  }
  const root = h("div", { class: "gl-stepper", tabindex: "0", "data-lm-suppress-shortcuts": "true" },
                 toolbar, message, h("div", { class: "gl-body" }, graph, panel), legend);
  el.append(root);

  // the SVG is made by Python from Graphviz output, every label escaped (see gradlab.viz.dot)
  let elements = new Map();
  function drawSvg() {
    graph.innerHTML = model.get("svg");
    elements = new Map();
    for (const g of graph.querySelectorAll("g[id]")) elements.set(g.id, g);
  }
  drawSvg();
  if (elements.size > 240) {  // a big drawing is unreadable when fitted: start at actual size
    graph.classList.remove("gl-fit");
    fitBtn.textContent = "fit";
  }

  let frames = [];
  let applied = -1;       // frames[0..applied] have their marks applied
  let currentEl = null;
  let neededEls = [];
  let waiting = false;    // a step request is with the kernel
  let wanted = null;      // an index the kernel set before its frames arrived
  let timer = null;

  function mark(frame, on) {
    for (const key of MARKS) {
      for (const id of frame[key]) elements.get(id)?.classList.toggle(key, on);
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
    if (currentEl && !graph.classList.contains("gl-fit")) reveal(currentEl);
    drawPanel(frame);
    controls();
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
    for (const [head, text, style] of frame.panel) {
      items.push(h("div", { class: `gl-sec gl-sec-${style || "plain"}` },
                   h("div", { class: "gl-head", text: head }), h("pre", { text })));
    }
    if (applied < frames.length - 1) {
      items.push(h("div", { class: "gl-note gl-past",
                            text: `Viewing step ${applied} of ${frames.length - 1} recorded. Back and ` +
                                  "Reset only move the view: the engine ran those steps once and " +
                                  ".grad keeps what they did." }));
    }
    panel.replaceChildren(...items);
  }

  function controls() {
    const complete = model.get("complete");
    const last = frames.length - 1;
    slider.max = String(Math.max(last, 0));
    slider.value = String(Math.max(applied, 0));
    counter.textContent = `step ${Math.max(applied, 0)} / ${last}${complete ? "" : "+"}`;
    backBtn.disabled = applied <= 0;
    resetBtn.disabled = applied <= 0;
    stepBtn.disabled = complete && applied >= last;
    runBtn.disabled = complete && applied >= last;
    againBtn.hidden = !complete;
    playBtn.textContent = timer ? "Pause ‖" : "Play ▷";
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
    else if (!model.get("complete") && !waiting) {
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
    if (applied >= frames.length - 1 && model.get("complete")) return stop();
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

  const onKey = (e) => {
    if (e.target.tagName === "SELECT" || e.target.tagName === "INPUT") return;
    const actions = { ArrowRight: step, " ": step, ArrowLeft: back, p: play, r: reset,
                      Home: () => moveTo(0), End: () => moveTo(frames.length - 1) };
    const action = actions[e.key];
    if (!action || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    e.stopPropagation();
    action();
  };

  stepBtn.addEventListener("click", step);
  backBtn.addEventListener("click", back);
  resetBtn.addEventListener("click", reset);
  playBtn.addEventListener("click", play);
  runBtn.addEventListener("click", () => { stop(); model.send({ type: "run" }); });
  againBtn.addEventListener("click", () => { stop(); model.send({ type: "again" }); });
  fitBtn.addEventListener("click", () => {
    const fit = graph.classList.toggle("gl-fit");
    fitBtn.textContent = fit ? "1:1" : "fit";
    if (!fit && currentEl) reveal(currentEl);
  });
  slider.addEventListener("input", () => moveTo(Number(slider.value)));
  root.addEventListener("keydown", onKey);

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
    model.off("msg:custom", onMessage);
    model.off("change:index", onIndex);
    model.off("change:complete", controls);
    model.off("change:message", onMessageText);
    model.off("change:svg", onSvg);
  };
}

export default { render };
