"""Run lessons and store their outputs in place, as JupyterLab saves them (no widget state).

Usage: `python tools/run_lessons.py notebooks/04_chain_rule_stepper.ipynb ...` (`make lessons`
runs them all). Consecutive prints of a cell are stored as one stream, as JupyterLab shows them.
"""
import sys
from pathlib import Path

import nbclient
import nbformat


def run(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, store_widget_state=False, coalesce_streams=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"running {name}")
        run(Path(name))
