"""``make demo`` (fer-dashboard) picks the next free port when 8501 is taken."""

from __future__ import annotations

import socket

from dashboard.launch import choose_port, port_is_free


def test_a_taken_port_is_skipped():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("localhost", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert not port_is_free(taken)
        chosen = choose_port(taken, tries=20)
        assert chosen != taken and port_is_free(chosen)
