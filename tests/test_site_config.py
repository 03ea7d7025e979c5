"""What an instructor reads and runs to publish the JupyterLite site: the README's links, `make
site`'s options, the GitHub Pages workflow (the site itself: tests/browser/test_site.py)."""
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = "https://gradlab.github.io/gradlab/"
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"


def test_readme_opens_every_lesson_on_the_site():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Open the course in your browser\n", 1)[1].split("\n## ", 1)[0]
    expected = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        number, _, title = "".join(cells[0]["source"]).splitlines()[0][2:].partition(". ")
        expected.append(f"{number}. [{title}]({PAGES}lab/index.html?path={path.name})")
    assert "\n".join(expected) in section


def test_make_site_passes_its_options_to_the_tool():
    run = subprocess.run(["make", "-n", "-C", str(ROOT), "site", "PYODIDE=local",
                          "NOTEBOOKS=week1/ extra.ipynb"], capture_output=True, text=True,
                         check=True)
    assert "tools/site.py --pyodide local week1/ extra.ipynb" in run.stdout


def test_the_workflow_publishes_make_site_with_pinned_actions():
    text = WORKFLOW.read_text()
    assert re.search(r"^\s+- run: make site$", text, re.MULTILINE)
    assert re.search(r"actions/upload-pages-artifact@\w+  # v[\d.]+\n\s+with:\n\s+path: dist/site",
                     text)
    uses = re.findall(r"uses: ([\w/-]+)@(\S+)  # (v[\d.]+)", text)
    assert {name for name, _, _ in uses} == {"actions/checkout", "actions/setup-python",
                                            "actions/upload-pages-artifact",
                                            "actions/deploy-pages"}
    assert text.count("uses:") == len(uses)
    assert all(re.fullmatch(r"[0-9a-f]{40}", commit) for _, commit, _ in uses), uses
