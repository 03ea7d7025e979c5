// Runs Python under Pyodide in Node, for tests/test_pyodide.py:
//   node pyodide_run.mjs PYODIDE_DIR HOST_DIR CODE WHEEL...
// HOST_DIR is mounted at /host (and put on sys.path); the wheels in it are installed by micropip
// in the order given, with the Pyodide packages they need loaded first and a package index
// that cannot be reached, so a requirement no wheel meets fails instead of downloading.
import { pathToFileURL } from "node:url";

const [dist, host, code, ...wheels] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(`${dist}/pyodide.mjs`).href);
const pyodide = await loadPyodide({ indexURL: `${dist}/`, stdout: console.error });
pyodide.FS.mkdirTree("/host");
pyodide.mountNodeFS("/host", host);
await pyodide.loadPackage(["micropip", "numpy", "ipython", "traitlets"], { messageCallback() {} });
const micropip = pyodide.pyimport("micropip");
micropip.set_index_urls(["http://127.0.0.1:9/no-index/{package_name}/"]);
for (const wheel of wheels) {
  await micropip.install(`emfs:/host/${wheel}`);
}
await pyodide.runPythonAsync(`import sys; sys.path.insert(0, "/host")\n${code}`);
