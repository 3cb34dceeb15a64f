"""Child processes of tests and benchmarks that die with their parent, also on `kill -9`.

Linux's PR_SET_PDEATHSIG is set in one place, `die_with_parent`, reached three ways:
- `spawn` and `run` set it between fork and exec, for any program (redis-server, postgres, the
  chat server);
- Python processes started by those children (the chat server's redaction worker, uvicorn's
  workers) set it at start-up in `site/sitecustomize.py`, which
  `python_children_die_with_parent()` puts on PYTHONPATH;
- a program that a library starts from a path (Playwright's driver) is given `dying(program)`,
  a wrapper that sets it and then executes the program;
- a process may call it for itself (the benchmarks' load generators).
The kernel ties the signal to the *thread* that started the child: start children from the
main thread, or they die when a worker thread ends."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE = Path(__file__).resolve().parent / "site"
# The nearest Python ancestor that asked for this, so that a child can tell at start-up
# whether that parent died before the child could ask the kernel to follow it.
PARENT_VAR = "HARNESS_PARENT_PID"

_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)
# Resolved now: between fork and exec nothing but the call itself should run.
_prctl: Any = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent(parent: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent dies. `parent`: the pid that
    started this process; if that one is gone already, die now (it died before we asked)."""
    if _prctl is None:
        return
    _prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), _SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_python_parent() -> None:
    """At interpreter start-up (site/sitecustomize.py): die with the parent, then tell this
    process's own Python children who their parent is."""
    expected = os.environ.get(PARENT_VAR)
    die_with_parent()
    # A program in between (a shell, taskset) changes the parent pid: only a dead Python
    # ancestor means the parent is gone.
    if expected and os.getppid() != int(expected) and not _alive(int(expected)):
        os.kill(os.getpid(), _SIGKILL)
    os.environ[PARENT_VAR] = str(os.getpid())


def python_children_die_with_parent(env: dict[str, str] | None = None) -> None:
    """Every Python process started with `env` (this process's environment by default), and
    every Python process those start, dies with its parent.
    A `sitecustomize` of the caller's own earlier on PYTHONPATH wins over ours (Python loads
    one): it should call `die_with_python_parent()` itself."""
    target: Any = os.environ if env is None else env
    ours = [str(SITE), str(ROOT)]
    theirs = [p for p in target.get("PYTHONPATH", "").split(os.pathsep) if p and p not in ours]
    target["PYTHONPATH"] = os.pathsep.join(theirs + ours)
    target[PARENT_VAR] = str(os.getpid())


def spawn(args: Sequence[str | Path], *, user: str | None = None,
          **popen: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen` of a child that dies with this process. `user`: the account to run
    it as when this process is root (PostgreSQL refuses to run as root)."""
    me = os.getpid()
    ids: tuple[int, int] | None = None
    if user is not None and os.geteuid() == 0:
        import pwd

        account = pwd.getpwnam(user)
        ids = (account.pw_uid, account.pw_gid)

    def before_exec() -> None:
        if ids is not None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        die_with_parent(me)  # after setuid, which clears the setting

    # Safe with threads here: between fork and exec only system calls run, nothing that
    # imports or takes a lock another thread may hold.
    return subprocess.Popen([str(a) for a in args], preexec_fn=before_exec,  # noqa: PLW1509
                            **popen)


def run(args: Sequence[str | Path], *, input: str | bytes | None = None,
        timeout: float = 60, check: bool = False, capture_output: bool = False,
        user: str | None = None, **popen: Any) -> subprocess.CompletedProcess[Any]:
    """`subprocess.run` of a child that dies with this process."""
    if capture_output:
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
    if input is not None:
        popen["stdin"] = subprocess.PIPE
    with spawn(args, user=user, **popen) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done


def dying(program: str | Path, folder: Path) -> Path:
    """An executable in `folder` that runs `program` with its arguments, dying with whoever
    starts it: for a child that a library starts from a path, without a preexec_fn."""
    wrapper = folder / Path(program).name
    wrapper.write_text(
        f"#!{sys.executable}\nimport os, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.harness.processes import die_with_parent\ndie_with_parent()\n"
        f"os.execv({str(program)!r}, [{str(program)!r}, *sys.argv[1:]])\n")
    wrapper.chmod(0o755)
    return wrapper


def pinned(cpu: int | None) -> list[str]:
    """The command prefix that keeps a child on one core (`taskset`), if asked and possible."""
    import shutil

    if cpu is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]
