"""The Binder environment: built from ``binder/`` as repo2docker does, then a lesson runs in it.

repo2docker (mybinder.org) with ``binder/requirements.txt`` and ``binder/runtime.txt`` makes a
Python environment of the version in runtime.txt that already holds Jupyter (JupyterLab,
Notebook, ipywidgets, jupyterhub-singleuser, ...), copies the repository into the home
directory and runs ``pip install --no-cache-dir -r "binder/requirements.txt"`` there. This test
does the same in a fresh virtual environment: ``python -m venv``, then that pip command from the
repository root. The pieces of repo2docker's own environment that a lesson needs (JupyterLab,
Notebook, ipywidgets) are pinned in requirements.txt, so nothing is added by hand; the rest
(jupyterhub-singleuser, jupyter-resource-usage, ...) only serves the hosted server. Unlike
repo2docker the test lets pip use the machine's cache, which keeps it near half a minute.

The lesson then runs in that environment through nbclient (what ``nbconvert --execute`` uses),
in ``notebooks/`` as JupyterLab would, with a home directory of its own so no kernel or config of
the machine is picked up; its outputs must match the ones stored in the notebook.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
LESSON = ROOT / "notebooks" / "01_requires_grad.ipynb"

PROBE = """\
import importlib.util, json, sys, gradlab
print(json.dumps({"executable": sys.executable, "gradlab": gradlab.__file__,
                  "torch": importlib.util.find_spec("torch") is not None}))"""

RUN = """\
import sys, nbformat
from nbclient import NotebookClient
lesson, folder, out, probe = sys.argv[1:]
nb = nbformat.read(lesson, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(probe))
NotebookClient(nb, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": folder}}).execute()
nbformat.write(nb, out)
"""

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def clean_environ(**extra):
    """os.environ without what would let the repository or the outer venv leak in."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
           and not k.startswith("JUPYTER")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1", **extra)
    return env


def shown(cell):
    """A code cell's outputs as text: streams joined per name, text/plain, errors."""
    items = []
    for out in cell.get("outputs", []):
        kind = out["output_type"]
        if kind == "stream":
            text = "".join(out["text"])
            if items and items[-1][:2] == ("stream", out["name"]):
                items[-1] = ("stream", out["name"], items[-1][2] + text)
            else:
                items.append(("stream", out["name"], text))
        elif kind in ("execute_result", "display_data"):
            items.append(("data", "".join(out["data"].get("text/plain", ""))))
        elif kind == "error":
            items.append(("error", out["ename"], out["evalue"]))
    return [tuple(ADDRESS.sub("0x…", part) for part in item) for item in items]


def kinds(cell):
    return [(o["output_type"], sorted(o.get("data", {}))) for o in cell.get("outputs", [])]


def requirements():
    """(normalised name, pinned version or None) per line of binder/requirements.txt."""
    lines = (line.split("#", 1)[0].strip() for line in
             (BINDER / "requirements.txt").read_text().splitlines())
    pairs = (line.partition("==")[::2] for line in lines if line)
    return [(name.strip().lower().replace("_", "-"), version.strip() or None)
            for name, version in pairs]


def requirement_names():
    return [name for name, _ in requirements()]


def test_binder_files_say_what_repo2docker_needs():
    names = requirement_names()
    assert names[0] == "."  # gradlab from this checkout (repo2docker ignores ./pyproject.toml)
    assert {"jupyterlab", "notebook", "anywidget", "ipywidgets", "nbgitpuller"} <= set(names)
    assert "torch" not in names
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    # only requirements.txt and runtime.txt: an environment.yml would switch repo2docker to conda
    # and an apt.txt would mean a system package; neither is needed
    assert sorted(p.name for p in BINDER.iterdir()) == ["requirements.txt", "runtime.txt"]


@pytest.mark.slow
def test_binder_environment_runs_a_lesson(tmp_path):
    runtime = (BINDER / "runtime.txt").read_text().strip()
    here = f"python-{sys.version_info.major}.{sys.version_info.minor}"
    assert here == runtime, f"build the Binder environment with {runtime}, this is {here}"
    env_dir = tmp_path / "env"
    python = env_dir / "bin" / "python"
    base = clean_environ()
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, env=base)
    pip = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                          "-r", "binder/requirements.txt"],
                         cwd=ROOT, env=base, capture_output=True, text=True, timeout=900,
                         check=False)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    # the widgets' front-ends and nbgitpuller come with the pip packages: nothing to build
    jupyter = env_dir / "bin" / "jupyter"
    run_env = clean_environ(HOME=str(tmp_path / "home"),
                            PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "home").mkdir()
    labext = subprocess.run([str(jupyter), "labextension", "list"], env=run_env,
                            capture_output=True, text=True, check=True)
    listing = ANSI.sub("", labext.stdout + labext.stderr)
    pins = dict(requirements())
    for extension in (f"anywidget v{pins['anywidget']} enabled OK",
                      "@jupyter-widgets/jupyterlab-manager"):
        assert extension in listing, listing
    assert f"JupyterLab v{pins['jupyterlab']}" in listing
    server = subprocess.run([str(jupyter), "server", "extension", "list"], env=run_env,
                            capture_output=True, text=True, check=True)
    extensions = ANSI.sub("", server.stdout + server.stderr)
    assert re.search(r"nbgitpuller \S* ?OK", extensions)
    assert re.search(r"gradlab \S* ?OK", extensions)  # TCP_NODELAY on kernel websockets

    out = tmp_path / "out.ipynb"
    run = subprocess.run([str(python), "-c", RUN, str(LESSON), str(LESSON.parent), str(out),
                          PROBE], cwd=tmp_path, env=run_env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr

    stored = json.loads(LESSON.read_text())["cells"]
    executed = json.loads(out.read_text())["cells"]
    probe = json.loads(shown(executed.pop())[0][2])
    assert probe["executable"].startswith(str(env_dir)), probe
    assert probe["gradlab"].startswith(str(env_dir / "lib")), probe  # installed, not the checkout
    assert probe["torch"] is False
    code = [(a, b) for a, b in zip(stored, executed) if a["cell_type"] == "code"]
    assert len(executed) == len(stored) and code
    assert any(a.get("outputs") for a, _ in code), "the lesson is stored without its outputs"
    for a, b in code:
        if "nbval-ignore-output" in a.get("metadata", {}).get("tags", []):
            assert kinds(a) == kinds(b), "".join(a["source"])
        else:
            assert shown(b) == shown(a), "".join(a["source"])


LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BINDER_URL = "https://mybinder.org/v2/gh/gradlab/gradlab/main"


def lesson_list() -> str:
    """The README's list of lessons: each notebook's H1 title, in file order, linked twice."""
    lines = []
    for name in LESSONS:
        cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        number, _, title = "".join(cells[0]["source"]).splitlines()[0][2:].partition(". ")
        path = f"notebooks/{name}.ipynb"
        lines.append(f"{number}. [{title}]({path}) — "
                     f"[open on Binder]({BINDER_URL}?urlpath=lab/tree/{path})")
    return "\n".join(lines)


def test_readme_links_every_lesson_on_binder():
    readme = (ROOT / "README.md").read_text()
    assert [int(name[:2]) for name in LESSONS] == list(range(1, len(LESSONS) + 1))
    assert lesson_list() in readme, "README's lesson list should be:\n" + lesson_list()
    linked = re.findall(re.escape(BINDER_URL) + r"\?urlpath=lab/tree/notebooks/([\w.]+)\)", readme)
    assert linked == [f"{name}.ipynb" for name in LESSONS]
    assert f"[![Binder](https://mybinder.org/badge_logo.svg)]({BINDER_URL}?urlpath=lab/tree/" \
           f"notebooks)" in readme.split("\n## ", 1)[0]


def test_readme_nbgitpuller_link_decodes_to_its_parameters():
    from urllib.parse import parse_qs, urlsplit
    readme = (ROOT / "README.md").read_text()
    [link] = re.findall(r"^https://mybinder\.org/\S*git-pull\S*$", readme, re.MULTILINE)
    outer = urlsplit(link)
    assert f"{outer.scheme}://{outer.netloc}{outer.path}" == BINDER_URL
    [urlpath] = parse_qs(outer.query, strict_parsing=True)["urlpath"]
    path, _, query = urlpath.partition("?")
    assert path == "git-pull"
    params = parse_qs(query, strict_parsing=True)
    assert params == {"repo": ["https://github.com/example-university/autograd-course"],
                      "urlpath": ["lab/tree/autograd-course/week1/backprop.ipynb"],
                      "branch": ["main"]}
    # nbgitpuller clones into a folder named after the repository, which urlpath must start with
    repo_name = params["repo"][0].rstrip("/").rsplit("/", 1)[1]
    assert params["urlpath"][0].startswith(f"lab/tree/{repo_name}/")
    readable = "git-pull?" + "&".join(f"{k}={v[0]}" for k, v in params.items())
    assert f"`urlpath` = `{readable}`" in readme  # the README spells it out decoded
