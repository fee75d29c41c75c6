"""A throwaway PostgreSQL server for the store tests: Debian's binaries, a data folder in /tmp, a Unix socket only.

PostgreSQL refuses to run as root, so under root (as in CI) the server runs as the ``postgres`` system user that
Debian's package creates (``make postgres`` installs it). Nothing listens on TCP: the socket lives in the
server's own folder, so the server never clashes with another one on the machine. A test session that was killed
cannot stop its server: the next session stops it (each folder records the pid of the session that owns it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PREFIX = "fer_pg_"
OWNER_FILE = "owner.pid"
DB_NAME = "fer_store"
DB_USER = "fer"
START_TIMEOUT_S = 60


@dataclass
class PostgresServer:
    """A running server (``error`` is None) or the reason it could not start."""

    folder: Path | None = None
    bindir: Path | None = None
    run_as: str | None = None
    error: str | None = None

    @property
    def socket_dir(self) -> Path:
        return self.folder / "sock"

    def url(self, schema: str | None = None) -> str:
        """A psycopg URL over the Unix socket; ``schema`` puts every table of that connection in its own schema."""
        url = f"postgresql+psycopg://{DB_USER}@/{DB_NAME}?host={self.socket_dir}"
        return url + (f"&options=-csearch_path%3D{schema}" if schema else "")

    def _cmd(self, *args: str) -> list[str]:
        if self.run_as is None:
            return list(args)
        if shutil.which("runuser"):
            return ["runuser", "-u", self.run_as, "--", *args]
        return ["su", self.run_as, "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._cmd(*args), capture_output=True, text=True, timeout=START_TIMEOUT_S, cwd=self.folder
        )

    def create_schema(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), user=DB_USER, dbname=DB_NAME, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')

    def stop(self) -> None:
        if self.folder is None:
            return
        if self.error is None:
            self.run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL binaries (``/usr/lib/postgresql/<major>/bin``), else ``initdb`` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _alive(pid: int) -> bool:
    """True for a running process; a zombie (killed, not yet reaped) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        stat = None
    if stat is not None:
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_orphans(bindir: Path, run_as: str | None) -> None:
    """Stop the servers of test sessions that died without stopping them (found by their owner's pid)."""
    for owner in Path(tempfile.gettempdir()).glob(f"{PREFIX}*/{OWNER_FILE}"):
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            PostgresServer(folder=owner.parent, bindir=bindir, run_as=run_as).stop()


def start_server() -> PostgresServer:
    """initdb + pg_ctl start + createdb; on any failure, a server whose ``error`` says why (and nothing left over)."""
    bindir = find_bindir()
    if bindir is None:
        return PostgresServer(
            error="PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "install them with `make postgres` (apt-get install postgresql)"
        )
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return PostgresServer(error="running as root and there is no 'postgres' user to run the server as")
        run_as = "postgres"
    stop_orphans(bindir, run_as)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    server = PostgresServer(folder=folder, bindir=bindir, run_as=run_as, error="starting")
    try:
        (folder / "sock").mkdir()
        if run_as is not None:
            user = pwd.getpwnam(run_as)
            for path in (folder, folder / "sock"):
                os.chown(path, user.pw_uid, user.pw_gid)
        steps = [
            (
                str(bindir / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                DB_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ),
            (
                str(bindir / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-o",
                f"-c listen_addresses='' -c unix_socket_directories='{folder / 'sock'}' -c fsync=off "
                "-c max_connections=200",
                "start",
            ),
            (str(bindir / "createdb"), "-h", str(folder / "sock"), "-U", DB_USER, DB_NAME),
        ]
        for step in steps:
            done = server.run(*step)
            if done.returncode != 0:
                log = (
                    (folder / "server.log").read_text(errors="replace")[-600:]
                    if (folder / "server.log").is_file()
                    else ""
                )
                raise RuntimeError(f"`{Path(step[0]).name}` failed: {(done.stderr or done.stdout).strip()} {log}")
    except Exception as exc:  # any failure means: no server; say why and clean up
        server.error = None
        server.stop()
        return PostgresServer(error=f"could not start a PostgreSQL server: {exc}")
    server.error = None
    return server
