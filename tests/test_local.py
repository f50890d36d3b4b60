"""The local runner's port check: a port left in TIME_WAIT by a stopped `make serve` is free again
at once (SO_REUSEADDR, as the servers set it); a port something listens on is not."""

from __future__ import annotations

import socket

from calls_cli.local import port_is_free


def test_a_port_in_time_wait_is_free_and_a_listening_one_is_not():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert not port_is_free(port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end of the connection waits in TIME_WAIT
    client.close()
    server.close()
    with socket.socket() as plain:  # what the check did before: a bind without SO_REUSEADDR fails
        try:
            plain.bind(("127.0.0.1", port))
            in_time_wait = False
        except OSError:
            in_time_wait = True
    assert in_time_wait
    assert port_is_free(port)
