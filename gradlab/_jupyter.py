"""gradlab's Jupyter server extension: kernel websockets send every message at once.

A :class:`~gradlab.widgets.BackwardStepper` step that needs the next engine event is a comm
round trip through the Jupyter server, and the kernel answers it with two websocket frames: its
"busy" status, then the reply. jupyter_server leaves Nagle's algorithm on for the kernel
websocket (no TCP_NODELAY), so the reply waits in the server's send buffer until the browser has
acknowledged the first frame, and browsers delay that ACK: about 40 ms on Linux, every step.

This extension wraps the server's kernel websocket connection class, whichever it is (the
default ZMQ one, a gateway's, a user's own ``ServerApp.kernel_websocket_connection_class``),
so that it sets TCP_NODELAY on the websocket when it connects. The wheel enables it with
``etc/jupyter/jupyter_server_config.d/gradlab.json``; ``jupyter server extension disable
gradlab`` turns it off.
"""

SETTING = "kernel_websocket_connection_class"  # the tornado setting the kernel handler reads


class NoDelay:
    """Mixin for a kernel websocket connection class: TCP_NODELAY on its websocket."""

    def connect(self):
        # the kernel websocket handler connects from its open(), when the websocket is up
        self.websocket_handler.set_nodelay(True)
        return super().connect()


def nodelay(cls: type) -> type:
    """``cls`` with :class:`NoDelay` mixed in (``cls`` itself when it has it already)."""
    if issubclass(cls, NoDelay):
        return cls
    return type(cls.__name__, (NoDelay, cls), {"__module__": __name__, "__doc__": cls.__doc__})


def _load_jupyter_server_extension(serverapp):
    settings = serverapp.web_app.settings
    base = settings[SETTING]
    settings[SETTING] = nodelay(base)
    serverapp.log.info("gradlab: kernel websockets (%s) use TCP_NODELAY", base.__qualname__)
