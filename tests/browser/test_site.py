"""The lessons as a static JupyterLite site, as a student meets it: `make site PYODIDE=local`
built with no network (`unshare -rn`), served on localhost, opened in chromium where every
outside host is unresolvable. Lessons 1 and 4 run top to bottom (gradlab importable with no
`%pip`), the drawing appears as a picture, the stepper steps, and no request leaves localhost.
Prints the time from opening a lesson to its first drawing, cold and warm (the README's).
"""
import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from labserver import CHROMIUM, ROOT
from test_jupyterlab import CLICK, set_theme, set_width, shots_dir

pytestmark = pytest.mark.browser

CDN = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"  # tools/site.py's
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
# the notebook is open and its kernel is Pyodide's
OPENED = ("window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
          "?.name === 'python'")
# every code cell has run (an execution count, and no cell still queued) and the kernel is idle
DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = [...panel.content.model.cells].filter((c) => c.type === 'code');
  return panel.sessionContext.session.kernel.status === 'idle'
    && cells.every((c) => c.executionCount !== null)
    && !document.querySelector('.jp-InputArea-prompt')?.textContent.includes('*');
}"""
# a drawing in a cell's output: a decoded <img> (make_dot's SVG) or a widget's <svg> graph
DRAWN = """() => [...document.querySelectorAll('.jp-OutputArea-output')].some((o) =>
  [...o.querySelectorAll('img')].some((i) => i.complete && i.naturalWidth > 50)
  || o.querySelector('svg g.node') !== null)"""


class Handler(http.server.SimpleHTTPRequestHandler):
    """A static host: GitHub Pages' cache lifetime, the types JupyterLite and Pyodide need."""
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript",
                      ".js": "text/javascript"}

    def end_headers(self):
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def log_message(self, *args):
        pass


def build(out: Path, pyodide: str) -> Path:
    """``make site PYODIDE=<pyodide>``, built in a network namespace with no network (the
    downloads, kept in build/, come first)."""
    need_tools()
    tool = [sys.executable, str(ROOT / "tools" / "site.py"), "--pyodide", pyodide]
    subprocess.run([*tool, "--fetch-only"], check=True)
    t0 = time.monotonic()
    run = subprocess.run(["unshare", "--map-root-user", "--net", *tool, "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    print(f"site (Pyodide: {pyodide}) built with no network in {time.monotonic() - t0:.1f} s")
    return out


def need_tools():
    """npm (Pyodide's runtime comes from it) and unshare (the build with no network): without
    them the site tests are skipped, except under CI=true, where they fail."""
    missing = [tool for tool in ("npm", "unshare") if shutil.which(tool) is None]
    if missing and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {', '.join(missing)} missing: CI must test the site")
    if missing:
        pytest.skip(f"no {', '.join(missing)}: the JupyterLite site is not tested")


@contextlib.contextmanager
def serve(site: Path):
    """The site on http://127.0.0.1:<port>/, as a static host serves it."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The site with Pyodide bundled (PYODIDE=local), served."""
    with serve(build(tmp_path_factory.mktemp("site") / "site", "local")) as url:
        yield url


@pytest.fixture(scope="module")
def offline_chromium():
    """Debian's chromium that resolves no host but 127.0.0.1."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", *OFFLINE])
        yield browser
        browser.close()


@contextlib.contextmanager
def profile(browser, requests, **options):
    """A fresh browser profile (cold caches); every request it makes goes into ``requests``."""
    context = browser.new_context(**options)
    context.on("request", lambda r: requests.append(r.url))
    try:
        yield context
    finally:
        context.close()


def outside(requests, url):
    """The requests that left localhost."""
    return [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
            and not u.startswith(url)]


def run_lesson(context, url, name, shots=None):
    """Open lesson ``name``, clear its stored outputs, run all its cells; returns the open
    page and the seconds from opening it to its first drawing."""
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    t0 = time.monotonic()
    page.goto(f"{url}lab/index.html?path={name}")
    try:
        page.wait_for_function(OPENED, timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(DRAWN, timeout=120_000, polling=100)
        first_drawing = time.monotonic() - t0
        page.wait_for_function(DONE, timeout=120_000, polling=200)
    except Exception:
        if shots:
            page.screenshot(path=str(shots / f"failure-{name}.png"))
        print("browser console:\n" + "\n".join(console[-40:]))
        raise
    errors = page.locator(".jp-OutputArea-output[data-mime-type="
                          "'application/vnd.jupyter.stderr'], .jp-OutputArea-output .ansi-red-fg")
    assert errors.count() == 0, errors.first.inner_text()[:2000]
    # the lab extensions were built for this JupyterLab (webpack says when a module they
    # share with it has another version than they ask for)
    assert not [m for m in console if "atisf" in m], console
    return page, first_drawing


def show_first_stepper(page):
    """Scroll the notebook to its first stepper (JupyterLab renders only what is in view)."""
    page.evaluate("""async () => {
      const notebook = window.jupyterapp.shell.currentWidget.content;
      const i = notebook.widgets.findIndex((c) => c.node.querySelector('.gl-stepper'));
      await notebook.scrollToItem(i, 'start');
    }""")
    page.locator(".gl-stepper").first.wait_for(state="visible")


def test_lesson_1_runs_and_draws_offline_cold_and_warm(served, offline_chromium, tmp_path):
    requests = []
    with profile(offline_chromium, requests, viewport={"width": 1400, "height": 1000}) as context:
        page, cold = run_lesson(context, served, "01_requires_grad.ipynb", tmp_path)
        graph = page.locator(".jp-OutputArea-output img").first
        assert graph.evaluate("i => i.naturalWidth") > 50
        graph.scroll_into_view_if_needed()
        page.screenshot(path=str(shots_dir(tmp_path) / "site-lesson1.png"))
        page.close()
        page, warm = run_lesson(context, served, "01_requires_grad.ipynb")
        page.close()
    print(f"lesson 1, opened to first drawing: cold {cold:.1f} s, warm {warm:.1f} s")
    # the kernel's wheels came from the site (the worker's requests are seen too) ...
    assert any(u.endswith("/pypi/gradlab-0.1.0-py3-none-any.whl") for u in requests)
    assert any(u.endswith("/static/pyodide/pyodide.asm.wasm") for u in requests)
    # ... and nothing from anywhere else
    assert outside(requests, served) == []


def test_lesson_4_stepper_steps_offline_in_light_and_dark(served, offline_chromium, tmp_path):
    requests, shots = [], shots_dir(tmp_path)
    with profile(offline_chromium, requests, viewport={"width": 1400, "height": 1000}) as context:
        page, _ = run_lesson(context, served, "04_chain_rule_stepper.ipynb", shots)
        show_first_stepper(page)
        stepper = page.locator(".gl-stepper").first
        assert stepper.locator("svg g.node").count() > 5  # the graph is drawn in the widget
        before = page.evaluate("""() => {
          const root = document.querySelector('.gl-stepper');
          return {index: root.dataset.index, panel: root.querySelector('.gl-panel').textContent,
                  node: root.querySelector('g.node.current')?.id ?? null};
        }""")
        steps = [page.evaluate(CLICK, [0, ".gl-primary"]) for _ in range(3)]
        # each click runs the next engine event in the Pyodide kernel: a new step and panel;
        # the highlight moves on (a node stays current while it receives and computes)
        assert [s["index"] for s in steps] == [str(int(before["index"]) + k) for k in (1, 2, 3)]
        nodes = [before["node"]] + [s["node"] for s in steps]
        assert all(nodes) and nodes[1] != nodes[0] and len(set(nodes)) >= 3, nodes
        panels = [before["panel"]] + [s["panel"] for s in steps]
        assert len(set(panels)) == len(panels), panels
        stepper.screenshot(path=str(shots / "site-stepper-light-wide.png"))
        set_theme(page, "JupyterLab Dark")
        set_width(page, 700, file_browser=False)
        show_first_stepper(page)
        stepper.screenshot(path=str(shots / "site-stepper-dark-narrow.png"))
        page.screenshot(path=str(shots / "site-lesson4-dark-narrow.png"))
        page.close()
    assert outside(requests, served) == []


def test_the_default_site_takes_only_pyodide_from_its_cdn(tmp_path, offline_chromium):
    """`make site` (Pyodide from its CDN), with the pinned CDN folder answered by the bundled
    copy's files: lesson 1 runs and draws, and only Pyodide's files come from the CDN."""
    dist = ROOT / "build" / "pyodide"  # tools/pyodide_dist.py's
    subprocess.run([sys.executable, str(ROOT / "tools" / "pyodide_dist.py"), str(dist)],
                   check=True)
    from_cdn = []

    def cdn(route):
        name = route.request.url.removeprefix(CDN).split("?")[0]
        from_cdn.append(name)
        route.fulfill(path=dist / name, headers={"Access-Control-Allow-Origin": "*"})

    requests, viewport = [], {"width": 1400, "height": 1000}
    with serve(build(tmp_path / "site", "cdn")) as url, \
            profile(offline_chromium, requests, viewport=viewport) as context:
        context.route(re.compile(re.escape(CDN) + ".*"), cdn)
        page, _ = run_lesson(context, url, "01_requires_grad.ipynb", tmp_path)
        page.close()
    assert {"pyodide.js", "pyodide.asm.wasm", "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"} \
        <= set(from_cdn)
    assert [u for u in outside(requests, url) if not u.startswith(CDN)] == []
