"""The portal's web server sends each reply the moment it is written."""

import os
import socket
from pathlib import Path


def send_replies_at_once() -> None:
    """Turn off Nagle's algorithm (TCP_NODELAY) on every TCP socket this process listens on.

    Streamlit binds its listening socket itself, with protocol 0, so asyncio never sets
    TCP_NODELAY on the connections it accepts: a reply written in two pieces (headers, then
    body) waited for the client's delayed acknowledgement, 40 ms on Linux, on every request
    of a kept-alive connection (SCIM, the page's scripts). The socket is bound before
    app.py is imported, so it is found among the open files; Linux hands the option on to
    every connection accepted after. Elsewhere (no /proc) nothing changes.
    """
    folder = Path("/proc/self/fd")
    if not folder.is_dir():
        return
    for entry in list(folder.iterdir()):
        try:
            probe = socket.socket(fileno=os.dup(int(entry.name)))
        except OSError:  # not a socket, or closed since the folder was read
            continue
        with probe:
            if (
                probe.family in (socket.AF_INET, socket.AF_INET6)
                and probe.type == socket.SOCK_STREAM
                and probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            ):
                probe.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
