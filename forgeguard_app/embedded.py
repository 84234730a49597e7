"""An embedded PostgreSQL (pgserver) under the data folder, used when DATABASE_URL is unset."""

from __future__ import annotations

import logging
import pathlib
import warnings

log = logging.getLogger(__name__)


def embedded_database_url(data_dir: pathlib.Path | str) -> str:
    """Start (or join) the PostgreSQL server in `data_dir`/postgres and return its URL.

    cleanup_mode 'stop': the data stays in the folder between runs; a process
    started while the server runs reuses it (pgserver keeps a list of the
    processes holding it), and the last one to exit stops it.
    """
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (usual in containers); pgserver copes.
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import get_server

    folder = pathlib.Path(data_dir).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    server = get_server(folder / "postgres", cleanup_mode="stop")
    url: str = server.get_uri()
    log.info("embedded PostgreSQL in %s", folder / "postgres")
    return url
