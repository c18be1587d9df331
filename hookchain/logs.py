"""Log set-up for the command-line processes."""

from __future__ import annotations

import logging


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # uvicorn's access log line per webhook is noise next to hookchain's own lines.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The MCP SDK (and its httpx2) log every session and request at INFO.
    for name in ("httpx2", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)
