"""Security issue #17: socket families, workspace symlinks, forged result fields (the code tool's part)."""

SOCKETS = (
    "import socket\n"
    "def attempt(make):\n"
    "    try:\n"
    "        make().close()\n"
    "        return 'opened'\n"
    "    except OSError as e:\n"
    "        return e.strerror\n"
    "hostile = {\n"
    "    'vsock': lambda: socket.socket(40, socket.SOCK_STREAM),\n"
    "    'packet': lambda: socket.socket(17, socket.SOCK_RAW),\n"
    "    'netlink': lambda: socket.socket(16, socket.SOCK_RAW),\n"
    "    'alg': lambda: socket.socket(38, socket.SOCK_SEQPACKET),\n"
    "    'vsock pair': lambda: socket.socketpair(40)[0],\n"
    "}\n"
    "normal = {\n"
    "    'unix': lambda: socket.socket(socket.AF_UNIX),\n"
    "    'unix pair': lambda: socket.socketpair()[0],\n"
    "    'inet': lambda: socket.socket(socket.AF_INET),\n"
    "    'inet6 udp': lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM),\n"
    "}\n"
    "for name, make in {**hostile, **normal}.items():\n"
    "    print(name, '=', attempt(make))\n"
)


async def test_only_unix_and_ip_sockets_can_be_created(run):
    lines = (await run(SOCKETS)).splitlines()
    refused = "Address family not supported by protocol"  # EAFNOSUPPORT from the seccomp filter
    for name in ("vsock", "packet", "netlink", "alg", "vsock pair"):
        assert f"{name} = {refused}" in lines
    for name in ("unix", "unix pair", "inet", "inet6 udp"):
        assert f"{name} = opened" in lines
    # A loopback TCP round trip inside the sandbox still works.
    echo = (
        "import socket\nserver = socket.create_server(('127.0.0.1', 0))\n"
        "client = socket.create_connection(server.getsockname())\nconn, _ = server.accept()\n"
        "client.sendall(b'ping')\nconn.recv(4)"
    )
    assert await run(echo) == "[value]\nb'ping'"
