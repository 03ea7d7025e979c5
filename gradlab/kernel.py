"""The Jupyter kernel "Python 3 (gradlab as torch)": IPython's kernel with ``gradlab.as_torch()``
applied first, so a PyTorch notebook runs unchanged on gradlab.

``python -m gradlab.kernel -f CONNECTION_FILE`` (the wheel installs its kernel.json in
``<prefix>/share/jupyter/kernels/gradlab-as-torch``). A notebook whose metadata names the kernel
``gradlab-as-torch`` opens on it.
"""
import sys
from pathlib import Path

if __name__ == "__main__":
    # as ipykernel_launcher: the notebook's folder is not on sys.path while the kernel loads
    # (IPython puts it back), so a student's file cannot shadow a module the kernel needs
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():
        del sys.path[0]
    from gradlab import as_torch
    as_torch()
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()
