"""The portal's listening sockets send at once; other sockets are left as they are."""

import socket

from core.tcp import send_replies_at_once


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_listening_socket_and_what_it_accepts_after_send_without_delay() -> None:
    # Bound as Streamlit binds it: protocol 0, so asyncio would not set the option itself.
    with socket.socket(socket.AF_INET) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as before:
            assert nodelay(listener) == 0 and nodelay(before) == 0
            send_replies_at_once()
            assert nodelay(listener) == 1
            assert nodelay(before) == 0  # a connection out is not the server's to change
            with socket.create_connection(listener.getsockname()):
                earlier, _ = listener.accept()
                later, _ = listener.accept()
                with earlier, later:
                    assert nodelay(earlier) == 0  # made by the kernel before the call
                    assert nodelay(later) == 1
