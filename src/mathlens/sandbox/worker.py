"""The sandbox's warm worker: a fork server that runs each snippet in a fresh child process.

Started by ``mathlens.sandbox.pool`` as ``python -I worker.py CONFIG_JSON`` with an empty
environment, it imports the common modules once, then for every request forks a child that
drops privileges, sets its limits and executes the cells. Forking a warm interpreter costs
a few milliseconds where starting Python and importing sympy costs most of a second, and
every snippet still gets a process, a working directory and limits of its own.

Only the standard library is used here: this file runs outside the caller's interpreter and
must not import mathlens (or torch) into the workers.

Protocol on the inherited stdin/stdout: frames of a 4-byte big-endian length and UTF-8 JSON.
The worker sends ``{"ready": true, "level": ...}`` once, then one reply per request
``{"cells": [...], "timeout": seconds}``.

Isolation, strongest first (the level is reported in the ready frame):
- ``namespaces+uid`` (started as root): new network, mount and PID namespaces; every file
  system read-only but private tmpfs over /tmp, /var/tmp and /dev/shm; the snippet runs as
  an unprivileged uid of its own, with no_new_privs (setuid programs gain nothing).
- ``userns`` (ordinary user with user namespaces): the same namespaces inside a user
  namespace; the snippet keeps the user's uid.
- ``rlimits`` (``rlimits+uid`` as root): no namespaces could be made; resource limits and
  process-tree clean-up only, the network is not blocked.
"""

from __future__ import annotations

import ast
import builtins
import ctypes
import gc
import json
import math
import os
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 1 << 12
MS_NOATIME, MS_NODIRATIME, MS_REC, MS_PRIVATE, MS_RELATIME = 1 << 10, 1 << 11, 1 << 14, 1 << 18, 1 << 21
MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
               "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}  # fmt: skip
KERNEL_TREES = ("/proc", "/sys", "/dev")
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")

_libc = ctypes.CDLL(None, use_errno=True)


# ---------------------------------------------------------------- framing


def read_frame(fd: int) -> dict | None:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def write_frame(fd: int, obj: dict) -> None:
    body = json.dumps(obj).encode()
    data = struct.pack(">I", len(body)) + body
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- isolation set-up


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def python_paths() -> list[str]:
    """The directories a snippet's interpreter reads: its installation and import path."""
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path) if p and os.path.isdir(p)}
    return sorted(p for p in paths if not any(p.startswith(q + os.sep) for q in paths))


def cover(directory: str, mode: str, keep: list[str]) -> set[str]:
    """Mount an empty tmpfs over ``directory`` and bind the ``keep`` paths under it back, read-only.

    Returns the names of the top-level entries that were put back, which are not wiped.
    """
    inside = [p for p in keep if p.startswith(directory.rstrip(os.sep) + os.sep)]
    handles = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in inside}  # reachable once covered
    _mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size=256m")
    for path, fd in handles.items():
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        os.close(fd)
    return {os.path.relpath(p, directory).split(os.sep)[0] for p in inside}


def read_only_everything() -> None:
    """Remount every file system but the kernel's read-only, in this mount namespace only.

    A mount's own flags (nosuid, nodev, …) are kept: inside a user namespace they are locked,
    and dropping one would make the remount fail. Best effort: a mount that refuses stays as is.
    """
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split() for line in f]
    for fields in mounts:
        target = fields[4].encode().decode("unicode_escape")  # mountinfo writes a space as \040
        if any(target == t or target.startswith(t + "/") for t in KERNEL_TREES):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in fields[5].split(","):
            flags |= MOUNT_FLAGS.get(option, 0)
        try:
            _mount("none", target, None, flags)
        except OSError:
            pass


def _closed_to_others(path: str) -> str | None:
    """The first directory above ``path`` that other users cannot enter, if any."""
    current = os.sep
    for part in path.split(os.sep)[1:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def enter_namespaces() -> tuple[str, dict[str, set[str]]]:
    """Unshare network, mount and PID namespaces (inside a user namespace when not root).

    Returns the level and, per private tmpfs, the entries in it that must survive wiping.
    As root the snippet runs as another uid: directories it could not enter on the way to
    the interpreter (``/root/.pyenv`` under a 0700 ``/root``) are covered by a tmpfs that
    holds only the interpreter's own directories, which also hides the rest of them.
    """
    uid, gid = os.getuid(), os.getgid()
    needed = python_paths()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | (0 if uid == 0 else CLONE_NEWUSER)
    _check(_libc.unshare(flags), "unshare")
    if uid != 0:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    read_only_everything()
    keep = {path: cover(path, "1777", needed) for path in PRIVATE_TMP if os.path.isdir(path)}
    if uid == 0:
        covered: list[str] = list(keep)
        for closed in sorted({c for p in needed if (c := _closed_to_others(p)) is not None}):
            if not any(closed == c or closed.startswith(c + os.sep) for c in covered):
                cover(closed, "0755", needed)
                covered.append(closed)
    return ("namespaces+uid" if uid == 0 else "userns"), keep


def become_pid1(close: tuple[int, ...]) -> None:
    """Fork; the child is PID 1 of the new PID namespace and serves, the parent waits for it.

    As PID 1 the server cannot be killed from inside the namespace, orphans of a snippet are
    re-parented to it, and when it dies the kernel kills everything left in the namespace.
    """
    pid = os.fork()
    if pid:
        for fd in close:  # the server alone holds the pipes: its death is the caller's EOF
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:  # a /proc of this namespace, so that snippets see only their own processes
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass


# ---------------------------------------------------------------- the snippet's side


def _as_text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


def run_cell(code: str, scope: dict) -> object:
    """Execute a cell as a notebook does: statements, then the value of a trailing expression."""
    tree = ast.parse(code, "<cell>", "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), scope)
    return None if last is None else eval(compile(last, "<cell>", "eval"), scope)


def error_line(exc: BaseException) -> str:
    """The traceback's last line, e.g. ``ZeroDivisionError: division by zero``."""
    lines = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__


def child_main(request: dict, cfg: dict, workdir: str, result_fd: int, out_fd: int, err_fd: int) -> None:
    """Runs in the forked child: limits, privileges, then the cells. Never returns."""
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        keep = sorted({0, 1, 2, null, result_fd, out_fd, err_fd})
        for lo, hi in zip(keep, keep[1:] + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]):
            os.closerange(lo + 1, hi)
        os.chdir(workdir)
        timeout = float(request["timeout"])
        limits = {
            resource.RLIMIT_CPU: math.ceil(timeout) + 1,
            resource.RLIMIT_AS: cfg["address_space"],
            resource.RLIMIT_NPROC: cfg["max_procs"],
            resource.RLIMIT_NOFILE: cfg["max_files"],
            resource.RLIMIT_FSIZE: cfg["max_file_mb"] << 20,
            resource.RLIMIT_CORE: 0,
        }
        for which, value in limits.items():
            resource.setrlimit(which, (value, value))
        _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # setuid programs gain nothing
        if cfg["uid"] is not None:
            os.setgroups([])
            os.setgid(cfg["uid"])
            os.setuid(cfg["uid"])
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails instead of killing
        os.environ.clear()
        os.environ.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=workdir, TMPDIR=workdir, LANG="C.UTF-8")
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        # Line-buffered, so that what was printed before an os._exit or a kill is kept.
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    except BaseException as exc:  # the set-up itself failed: say why, do not run the snippet
        _send_result(result_fd, {"ok": False, "error": f"sandbox set-up failed: {error_line(exc)}"})
        os._exit(1)

    cells, limit = request["cells"], cfg["max_output"]
    scope: dict = {"__name__": "__main__", "__builtins__": builtins}
    result: dict = {"ok": True, "error": None, "value": None}
    try:
        for i, cell in enumerate(cells):
            last = i == len(cells) - 1
            if not last:  # earlier cells of a solution only rebuild its state: run them muted
                os.dup2(null, 1)
                os.dup2(null, 2)
                try:
                    run_cell(cell, scope)
                except BaseException:  # noqa: BLE001 - a notebook keeps going after a failed cell
                    pass
                _flush()
                os.dup2(out_fd, 1)
                os.dup2(err_fd, 2)
                continue
            value = run_cell(cell, scope)
            if value is not None:
                result["value"] = _clip(repr(value), limit)
    except BaseException as exc:  # noqa: BLE001 - whatever the snippet raises is its result
        result = {"ok": False, "error": _clip(error_line(exc), limit), "value": None}
    _flush()
    _send_result(result_fd, result)
    os._exit(0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - e.g. the file-size limit; the output is cut anyway
            pass


def _send_result(fd: int, result: dict) -> None:
    data = json.dumps(result).encode()
    while data:
        data = data[os.write(fd, data) :]


# ---------------------------------------------------------------- the server's side


class Server:
    def __init__(self, cfg: dict, level: str, keep: dict[str, set[str]], proto_in: int, proto_out: int) -> None:
        self.cfg, self.level, self.keep = cfg, level, keep
        self.proto_in, self.proto_out = proto_in, proto_out
        self.pid_namespace = not level.startswith("rlimits")
        if not self.pid_namespace:  # orphans of a snippet come back to us, not to init
            _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.scratch = "/tmp" if self.pid_namespace else cfg["scratch"]

    def serve(self) -> None:
        write_frame(self.proto_out, {"ready": True, "level": self.level, "pid": os.getpid()})
        while (request := read_frame(self.proto_in)) is not None:
            write_frame(self.proto_out, self.handle(request))

    def handle(self, request: dict) -> dict:
        timeout = float(request["timeout"])
        workdir = tempfile.mkdtemp(prefix="cell-", dir=self.scratch)
        uid = self.cfg["uid"]
        if uid is not None:
            os.chown(workdir, uid, uid)
        out_fd, err_fd = os.memfd_create("stdout"), os.memfd_create("stderr")
        result_r, result_w = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(result_r)
            child_main(request, self.cfg, workdir, result_w, out_fd, err_fd)
        os.close(result_w)
        data, reason = self._wait(pid, result_r, start + timeout, timeout)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.monotonic() - start
        self._kill_leftovers(pid)
        reply = self._reply(data, reason, status, usage, request)
        reply["seconds"] = seconds
        reply["stdout"], cut_out = self._read_capture(out_fd)
        reply["stderr"], cut_err = self._read_capture(err_fd)
        reply["truncated"] = cut_out or cut_err
        for fd in (result_r, out_fd, err_fd):
            os.close(fd)
        self._wipe(workdir)
        return reply

    def _wait(self, pid: int, result_r: int, deadline: float, timeout: float) -> tuple[bytes, str | None]:
        """Collect the child's result until it exits or the deadline passes (then kill it)."""
        pidfd = os.pidfd_open(pid)
        chunks: list[bytes] = []
        reason = None
        open_fds = [result_r, pidfd]
        try:
            while pidfd in open_fds:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    os.kill(pid, signal.SIGKILL)  # its descendants go in _kill_leftovers
                    reason = f"TimeoutError: timed out after {timeout:g} s"
                    break
                ready, _, _ = select.select(open_fds, [], [], remaining)
                if result_r in ready:
                    chunk = os.read(result_r, 1 << 16)
                    if chunk:
                        chunks.append(chunk)
                    else:
                        open_fds.remove(result_r)
                if pidfd in ready:
                    open_fds.remove(pidfd)
            # The child has exited or been killed: take what it wrote, without waiting on
            # a grandchild that may still hold the pipe open.
            while result_r in open_fds and select.select([result_r], [], [], 0)[0]:
                chunk = os.read(result_r, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(pidfd)
        return b"".join(chunks), reason

    def _reply(self, data: bytes, reason: str | None, status: int, usage, request: dict) -> dict:
        if reason is None and data:
            try:
                return json.loads(data)
            except ValueError:
                pass
        if reason is None:
            cpu = usage.ru_utime + usage.ru_stime
            if os.WIFSIGNALED(status):
                sig = signal.Signals(os.WTERMSIG(status)).name
                if cpu >= math.ceil(float(request["timeout"])) + 1 - 0.05:
                    reason = f"TimeoutError: CPU time limit exceeded ({sig})"
                else:
                    reason = f"SystemError: the process was killed by {sig}"
            else:
                code = os.WEXITSTATUS(status)
                reason = f"SystemExit: the process exited with status {code} before the cell finished"
        return {"ok": False, "error": reason, "value": None}

    def _read_capture(self, fd: int) -> tuple[str, bool]:
        limit = self.cfg["max_output"]
        size = os.fstat(fd).st_size
        text = _as_text(os.pread(fd, min(size, limit * 4 + 4), 0))
        if size <= limit and len(text) <= limit:
            return text, False
        return text[:limit] + f"\n... [output truncated: {size} bytes in all]", True

    def _kill_leftovers(self, group: int) -> None:
        """Kill and reap every process the snippet left behind: daemons, forks, whatever."""
        deadline = time.monotonic() + 5.0
        try:  # the snippet's process group: a fork bomb that did not setsid goes at once
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        while True:
            if self.pid_namespace:  # as PID 1, kill(-1) reaches everything in the namespace
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                for pid in _children(os.getpid()):
                    for kill in (os.killpg, os.kill):
                        try:
                            kill(pid, signal.SIGKILL)
                        except (ProcessLookupError, PermissionError):
                            pass
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                return
            if time.monotonic() > deadline:
                return
            time.sleep(0.001)

    def _wipe(self, workdir: str) -> None:
        shutil.rmtree(workdir, ignore_errors=True)
        if self.pid_namespace:  # private tmpfs: nothing in it outlives the snippet
            for path, kept in self.keep.items():
                for entry in os.scandir(path):
                    if entry.name in kept:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        try:
                            os.unlink(entry.path)
                        except OSError:
                            pass


def _children(ppid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == ppid:
                found.append(int(name))
    return found


def _processes_of(uid: int) -> int:
    """Tasks (threads count, as they do for RLIMIT_NPROC) of ``uid`` on the machine."""
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                pass
    return count


def _address_space_now() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    cfg = json.loads(sys.argv[1])
    # Keep the protocol pipes on fds 3 and 4; 0 and 1 become /dev/null and stderr.
    proto_in, proto_out = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = os.getuid() == 0  # inside a user namespace we would read 0 too: ask first
    level, keep = "rlimits", {}
    if cfg["isolation"] != "rlimits":
        try:
            level, keep = enter_namespaces()
        except OSError as exc:
            if cfg["isolation"] == "namespaces":
                write_frame(proto_out, {"ready": False, "error": f"no namespaces here: {exc}"})
                return
        if level != "rlimits":
            become_pid1(close=(0, 1, proto_in, proto_out))
    if not root:
        cfg["uid"] = None
        if level == "rlimits":  # RLIMIT_NPROC counts all the user's processes: allow ours on top
            cfg["max_procs"] += _processes_of(os.getuid())
    elif level == "rlimits":
        level = "rlimits+uid"
    for name in cfg["preload"]:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a missing optional module only costs its import later
            pass
    gc.collect()
    gc.freeze()  # forked children then leave the warm heap's pages shared
    cfg["address_space"] = _address_space_now() + (cfg["memory_mb"] << 20)
    Server(cfg, level, keep, proto_in, proto_out).serve()


if __name__ == "__main__":
    main()
