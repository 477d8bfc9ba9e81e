"""Where shunt keeps its files, and how it writes them without ever leaving half a file.

Layout
------
With ``SHUNT_HOME`` set (tests, demos, several independent instances) everything lives under it::

    $SHUNT_HOME/config.toml  credentials.json  state/  log/  run/

Otherwise the platform's conventions, via platformdirs:

- config.toml and credentials.json: ``user_config_dir("shunt")`` (``~/.config/shunt`` on Linux,
  ``~/Library/Application Support/shunt`` on macOS). Credentials sit next to the config because
  users back up and move them together; the file itself is 0600.
- what the server keeps across restarts (the pinned account): ``user_state_dir("shunt")``
  (``~/.local/state/shunt`` on Linux); logs: ``user_log_dir("shunt")``.
- the server state file: always ``<state_dir>/run/server.json``, whatever the environment, so a
  CLI finds the server however either was started. It records where the server's control
  socket is.
- the control socket: ``$XDG_RUNTIME_DIR/shunt`` when ``XDG_RUNTIME_DIR`` is set (a per-user
  tmpfs with a short path: AF_UNIX allows 107 bytes), else ``<state_dir>/run``. A CLI does not
  compute it: it reads it from the state file, so a server started with the variable and a CLI
  without it (or the reverse) still meet. platformdirs' own runtime fallbacks
  (``/tmp/runtime-UID``, macOS ``Caches/TemporaryItems``) are avoided on purpose: they may be
  shared or cleaned behind a running server's back.

Writes
------
`write_atomically` is the one way shunt rewrites a file: a temporary file in the same directory
(created with O_EXCL and the final mode, so a secret is never briefly world-readable), write,
fsync, ``os.replace``, fsync of the directory. A crash leaves either the old or the new file.
`exclusive_lock` serialises read-modify-write cycles between processes (the CLI and a running
server) with ``flock`` on the directory, so no lock files litter the user's config dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import platformdirs

from shunt.errors import ShuntError

APP_NAME = "shunt"
PRIVATE_DIR_MODE = 0o700
MAX_SOCKET_PATH_BYTES = 108  # sun_path of AF_UNIX on Linux, its terminating NUL included


@attrs.frozen
class Paths:
    """Every file and directory shunt uses. Pure data: nothing is created until `ensure`."""

    home: Path  # SHUNT_HOME, or the config dir when it is not set
    config_file: Path
    credentials_file: Path
    state_dir: Path
    log_dir: Path
    run_dir: Path  # the server state file; never depends on XDG_RUNTIME_DIR
    socket_dir: Path  # where a server started from this environment puts its control socket

    @property
    def server_state_file(self) -> Path:
        """pid, port, config, control socket and start time of the running server; its
        presence means 'maybe running'."""
        return self.run_dir / "server.json"

    @property
    def control_socket(self) -> Path:
        """The socket a server started here binds (a CLI reads the running one's from the
        state file instead)."""
        return self.socket_dir / "control.sock"

    def checked_control_socket(self) -> Path:
        """control_socket, or a ShuntError when the path is too long for AF_UNIX to bind."""
        size = len(os.fsencode(self.control_socket))
        if size < MAX_SOCKET_PATH_BYTES:
            return self.control_socket
        raise ShuntError(
            f"the control socket path {self.control_socket} is {size} bytes, over the "
            f"{MAX_SOCKET_PATH_BYTES - 1} a Unix socket allows: set SHUNT_HOME (or "
            "XDG_RUNTIME_DIR) to a shorter directory"
        )

    @property
    def log_file(self) -> Path:
        return self.log_dir / "shunt.log"

    @property
    def pinned_file(self) -> Path:
        """The account `shunt use` pins routing to ("" = automatic); it outlives a restart."""
        return self.state_dir / "pinned"

    @property
    def request_log_file(self) -> Path:
        """The request log, an SQLite database written by the front door (its -wal and -shm
        files sit beside it)."""
        return self.state_dir / "requests.sqlite"

    def ensure(self) -> None:
        """Create the directories (mkdir -p). The ones created here get 0700.

        Existing directories keep their mode: they may be shared on purpose (SHUNT_HOME=/tmp/x)
        and the secrets inside are protected by their own 0600 modes anyway.
        """
        dirs = (self.home, self.config_file.parent, self.credentials_file.parent)
        for directory in (*dirs, self.state_dir, self.log_dir, self.run_dir, self.socket_dir):
            make_private_dir(directory)


def resolve_paths(env: Mapping[str, str] | None = None) -> Paths:
    """Compute the paths from `env` (default: os.environ). Reads nothing from disk.

    `env` supplies SHUNT_HOME and XDG_RUNTIME_DIR; platformdirs reads the process environment
    for the rest (XDG_CONFIG_HOME, HOME …).
    """
    env = os.environ if env is None else env
    shunt_home = env.get("SHUNT_HOME", "").strip()
    if shunt_home:
        home = Path(shunt_home).expanduser().absolute()
        return Paths(
            home=home,
            config_file=home / "config.toml",
            credentials_file=home / "credentials.json",
            state_dir=home / "state",
            log_dir=home / "log",
            run_dir=home / "run",
            socket_dir=home / "run",
        )
    config_dir = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    state_dir = Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    run_dir = state_dir / "run"
    return Paths(
        home=config_dir,
        config_file=config_dir / "config.toml",
        credentials_file=config_dir / "credentials.json",
        state_dir=state_dir,
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        run_dir=run_dir,
        socket_dir=Path(runtime) / APP_NAME if os.path.isabs(runtime) else run_dir,
    )


def make_private_dir(directory: Path) -> None:
    """mkdir -p; a directory created here ends up 0700 whatever the umask."""
    if directory.is_dir():
        return
    directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(directory, PRIVATE_DIR_MODE)


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Replace `path` with `data` so that a crash leaves the old file or the new one, never half.

    A symlinked `path` is followed: the link's target is rewritten and the link kept. Raises
    OSError; callers turn it into their own error naming the file.
    """
    target = Path(os.path.realpath(path))
    make_private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have narrowed it; make it exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX: a rename lives in the directory's data)."""
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on the directory of `path` for one read-modify-write cycle."""
    directory = Path(os.path.realpath(path)).parent
    make_private_dir(directory)
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
