"""One step of the BackwardStepper in a real browser: JupyterLab on localhost, Debian's chromium.

Run: `python benchmarks/browser.py` (needs /usr/bin/chromium). It opens the browser test's
notebook (a small graph and a 5,100-node one), then clicks Step and Back and times each click
until the view has changed (the stepper's data-index). The target for every kind of step is a
median of 50 ms: steps within the frames the browser has (no kernel involved); steps that run
the next engine event in the kernel (a round trip through JupyterLab's server), on the small and
on the big graph. Printed as ratios to the target (<= 1.0 meets it).
"""
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))
from labserver import chromium, jupyterlab  # noqa: E402
from test_jupyterlab import BIG, CLICK, SMALL, notebook, run_all_cells  # noqa: E402

TARGET_MS = 50
STEPS = 10  # the small graph's pass has a few more events than that


def median_ms(page, stepper, selector, n):
    return statistics.median(page.evaluate(CLICK, [stepper, selector])["dom"] for _ in range(n))


def main():
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp)) as lab, chromium() as b:
        root, url = lab
        (root / "bench.ipynb").write_text(json.dumps(notebook([SMALL, BIG])))
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}lab/tree/bench.ipynb?token={lab.token}")
        page.get_by_text("| Idle").first.wait_for(timeout=60_000)
        run_all_cells(page)
        page.wait_for_function("document.querySelectorAll('.gl-stepper')[1]?.dataset.index "
                               "=== '0'", timeout=120_000)
        page.get_by_text("| Idle").first.wait_for()
        back = "button[title^='Show the previous']"
        figures = {
            "kernel step, small graph": median_ms(page, 0, ".gl-primary", STEPS),
            "local step (Back)": median_ms(page, 0, back, STEPS),
            "kernel step, 5,100-node graph": median_ms(page, 1, ".gl-primary", 2 * STEPS),
        }
    print(f"BackwardStepper in JupyterLab + chromium: median ms per click (target {TARGET_MS})")
    for name, ms in figures.items():
        verdict = "ok" if ms <= TARGET_MS else "TOO SLOW"
        print(f"  {name:<32} {ms:7.1f} ms  {ms / TARGET_MS:5.2f}x target  {verdict}")


if __name__ == "__main__":
    main()
