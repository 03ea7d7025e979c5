"""The Jupyter server extension ``gradlab``: kernel websockets with TCP_NODELAY.

A real jupyter_server runs in this process with the config the wheel installs in
``<prefix>/etc/jupyter`` (read here from the checkout's ``jupyter-config/``), starts a kernel, and
a websocket client talks to it as JupyterLab does. The server's end of that websocket must have
TCP_NODELAY set: without it a stepper's reply waits for the browser's delayed ACK of the kernel's
"busy" message (about 40 ms per step, see gradlab._jupyter).
"""
import asyncio
import json
import socket
import uuid
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server", reason="the server extension needs jupyter_server")
from jupyter_server.serverapp import ServerApp
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from gradlab._jupyter import NoDelay, nodelay

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "jupyter_server_config.d/gradlab.json"
TOKEN = "gradlab-test-token"


class UsersConnection(ZMQChannelsWebsocketConnection):
    """A user's own ``ServerApp.kernel_websocket_connection_class``."""

    connected = 0

    def connect(self):
        UsersConnection.connected += 1
        return super().connect()


@pytest.fixture
def jupyter_env(tmp_path, monkeypatch):
    """Jupyter dirs of the test's own; the config path is the checkout's jupyter-config/."""
    for name in ("CONFIG_DIR", "DATA_DIR", "RUNTIME_DIR"):
        monkeypatch.setenv(f"JUPYTER_{name}", str(tmp_path / name.lower()))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(ROOT / "jupyter-config"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    (tmp_path / "root").mkdir()
    return tmp_path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_socket(connection):
    return connection.websocket_handler.ws_connection.stream.socket


def kernel_info_request(session):
    header = {"msg_id": uuid.uuid4().hex, "msg_type": "kernel_info_request", "session": session,
              "username": "test", "date": "", "version": "5.3"}
    return json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": {},
                       "channel": "shell", "buffers": []})


async def open_kernel_websocket(tmp_path, **traits):
    """Start a server and a kernel, talk to it over a websocket; the server-side connection."""
    port = free_port()
    app = ServerApp(**traits)
    app.initialize([f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
                    "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
                    f"--ServerApp.root_dir={tmp_path / 'root'}", "--ServerApp.open_browser=False"])
    auth = {"Authorization": f"token {TOKEN}"}
    ws = None
    try:
        response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/api/kernels",
                                                 method="POST", body="{}", headers=auth)
        kernel = json.loads(response.body)["id"]
        session = uuid.uuid4().hex
        ws = await websocket_connect(HTTPRequest(
            f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?session_id={session}",
            headers=auth))
        ws.write_message(kernel_info_request(session))
        while True:  # the kernel answered through the server: its websocket is open and connected
            message = await asyncio.wait_for(ws.read_message(), 60)
            assert message is not None, "the server closed the kernel websocket"
            if json.loads(message)["header"]["msg_type"] == "kernel_info_reply":
                break
        client = ws.protocol.stream.socket.getsockname()
        [connection] = [c for c in ZMQChannelsWebsocketConnection._open_sockets
                        if server_socket(c).getpeername() == client]  # the server's end of ours
        return type(connection), server_socket(connection).getsockopt(socket.IPPROTO_TCP,
                                                                      socket.TCP_NODELAY)
    finally:
        if ws is not None:
            ws.close()
        await app._cleanup()


def test_the_shipped_config_sets_tcp_nodelay_on_kernel_websockets(jupyter_env):
    cls, nodelay_flag = asyncio.run(open_kernel_websocket(jupyter_env))
    assert nodelay_flag != 0
    assert issubclass(cls, NoDelay) and issubclass(cls, ZMQChannelsWebsocketConnection)


def test_a_users_connection_class_is_kept_and_gets_tcp_nodelay(jupyter_env):
    before = UsersConnection.connected
    cls, nodelay_flag = asyncio.run(open_kernel_websocket(
        jupyter_env, kernel_websocket_connection_class=UsersConnection))
    assert nodelay_flag != 0
    assert issubclass(cls, UsersConnection) and issubclass(cls, NoDelay)
    assert UsersConnection.connected == before + 1  # the user's connect() still runs


def test_disabling_the_extension_leaves_jupyter_servers_default(jupyter_env):
    # what `jupyter server extension disable gradlab` writes to the user's config dir, which
    # takes precedence over <prefix>/etc/jupyter: Nagle's algorithm stays on (no TCP_NODELAY)
    user_config = jupyter_env / "config_dir" / "jupyter_server_config.json"
    user_config.parent.mkdir()
    user_config.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"gradlab": False}}}))
    cls, nodelay_flag = asyncio.run(open_kernel_websocket(jupyter_env))
    assert nodelay_flag == 0
    assert cls is ZMQChannelsWebsocketConnection


def test_nodelay_wraps_once():
    wrapped = nodelay(UsersConnection)
    assert nodelay(wrapped) is wrapped
    assert wrapped.__mro__[1:3] == (NoDelay, UsersConnection)
    assert wrapped.__name__ == "UsersConnection"


@pytest.mark.parametrize("version", ["standard", "editable"])  # pip install . / pip install -e .
def test_the_wheel_installs_the_config_in_etc_jupyter(tmp_path, version):
    pytest.importorskip("hatchling", reason="builds the wheel")
    if version == "editable":  # what pip's isolated build gets from hatchling's requirements
        pytest.importorskip("editables", reason="hatchling builds editable wheels with it")
    from hatchling.builders.wheel import WheelBuilder
    [wheel] = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=[version])
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(f"gradlab-0.1.0.data/data/etc/jupyter/{CONFIG}")
    assert shipped == (ROOT / "jupyter-config" / CONFIG).read_bytes()
    assert json.loads(shipped) == {"ServerApp": {"jpserver_extensions": {"gradlab": True}}}
