"""Entry point of ``queue-board`` and ``python -m queue_board``."""

from __future__ import annotations

import sys

SERVER_COMMANDS = ("serve", "demo")


def main() -> None:
    """Run the CLI; the server commands first switch the process to gevent."""
    import os

    wants_gevent = any(arg in SERVER_COMMANDS for arg in sys.argv[1:2]) and (
        os.environ.get("QB_SOCKETIO_ASYNC_MODE", "gevent") == "gevent"
    )
    if wants_gevent:
        # must run before anything imports socket/threading, or gevent cannot make them cooperative
        from gevent import monkey

        monkey.patch_all()
    from queue_board.cli import cli

    cli(prog_name="queue-board")


if __name__ == "__main__":
    main()
