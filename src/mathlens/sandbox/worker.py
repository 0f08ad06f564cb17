"""The sandbox's warm worker: a fork server whose forked runners execute the snippets.

Started by ``mathlens.sandbox.pool`` as ``python -I worker.py CONFIG_JSON`` with an empty
environment, it imports and warms the common modules once, then forks a *runner*: a child
that drops privileges, sets its limits and executes snippets, each with fresh globals, a
fresh working directory and the interpreter state a snippet may change reset (builtins,
environment, signals, timers, the decimal context, stdio). A runner serves up to ``reuse``
snippets in a row and is replaced after any failure, when a snippet leaves a process or a
thread running, removes a module or changes a watched module, class or library setting, and
after a snippet the caller's syntax check flagged (``shared_state.py``): no snippet leaves
the next one anything to see. Forking a warm interpreter costs ~10 ms where starting
Python and importing sympy costs most of a second; reusing the fork for the snippets that
end well brings the cost per snippet under a millisecond. ``reuse=1`` gives every snippet
a process of its own.

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
import operator
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

# Run once in the server before any fork: sympy imports most of itself lazily on first use
# (solve alone costs ~70 ms the first time), so a child forked from a cold server would pay
# that on every snippet. One call each of what TIR code commonly uses, each line on its own.
WARMUP = """\
import sympy, numpy
x, y = sympy.symbols("x y")
sympy.solve(x**2 - 5*x + 6, x)
sympy.solve([x + y - 3, x - y - 1], [x, y])
sympy.simplify(sympy.sin(x)**2 + sympy.cos(x)**2)
sympy.factor(x**2 - 1); sympy.expand((x + 1)**3); sympy.Poly(x**2 + 1, x).all_coeffs()
sympy.integrate(x**2, (x, 0, 1)); sympy.diff(sympy.sin(x), x); sympy.limit(sympy.sin(x) / x, x, 0)
sympy.summation(1 / x**2, (x, 1, sympy.oo)); sympy.series(sympy.exp(x), x, 0, 4)
sympy.factorint(360); sympy.isprime(97); sympy.nextprime(100); sympy.divisors(60); sympy.totient(36)
sympy.nsimplify(0.5); sympy.Rational(1, 3) + sympy.Rational(1, 6); sympy.binomial(10, 3); sympy.gcd(12, 18)
sympy.N(sympy.pi, 20); sympy.sqrt(8); sympy.latex(x**2); str(sympy.Matrix([[1, 2], [3, 4]]).det())
sympy.solveset(x**2 - 4, x, sympy.S.Reals); sympy.Eq(x, 1); sympy.nsolve(x**2 - 2, x, 1)
numpy.linalg.solve(numpy.eye(2), numpy.ones(2)); numpy.roots([1, -3, 2])
"""
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
    last = lines[-1] if lines else type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.lineno:  # where, as the snippet's author needs it
        last += f" (line {exc.lineno})"
    return last


# What TIR code imports most; a snippet that rebinds a name in one of these modules or
# classes, however it got there, is caught after it ran (the caller's static check,
# ``sandbox/shared_state.py``, catches the plain ways before).
WATCHED_MODULES = ("math", "cmath", "fractions", "decimal", "statistics", "itertools", "functools", "operator",
                   "numbers", "random", "re", "string", "numpy", "sympy", "mpmath")  # fmt: skip
WATCHED_CLASSES = (("fractions", "Fraction"), ("decimal", "Decimal"), ("sympy", "Basic"), ("sympy", "Expr"),
                   ("sympy", "Rational"), ("sympy", "Integer"), ("sympy", "Float"), ("sympy", "Symbol"),
                   ("sympy", "Add"), ("sympy", "Mul"), ("sympy", "Pow"), ("sympy", "Matrix"))  # fmt: skip


def _watched() -> list[dict]:
    """The namespaces of the watched modules and classes that are loaded."""
    spaces = [vars(m) for name in WATCHED_MODULES if (m := sys.modules.get(name)) is not None]
    return spaces + [vars(c) for mod, cls in WATCHED_CLASSES if (c := getattr(sys.modules.get(mod), cls, None))]


def _settings() -> str:
    """The global settings of the libraries: print options, float errors, precision,
    evaluation flags, the import machinery."""
    settings = [tuple(sys.path), id(sys.meta_path), len(sys.meta_path), len(sys.path_hooks)]
    if (numpy := sys.modules.get("numpy")) is not None:
        settings += [sorted(numpy.get_printoptions().items(), key=str), sorted(numpy.geterr().items())]
    if (mpmath := sys.modules.get("mpmath")) is not None:
        settings += [mpmath.mp.prec, mpmath.mp.pretty]
    if (parameters := sys.modules.get("sympy.core.parameters")) is not None:
        g = parameters.global_parameters
        settings += [g.evaluate, g.distribute, getattr(g, "exp_is_pow", None)]
    if (warnings := sys.modules.get("warnings")) is not None:
        settings += [tuple(map(id, warnings.filters))]
    return repr(settings)


class _Baseline:
    """What a snippet may change in the runner's interpreter and the next one must not see."""

    def __init__(self) -> None:
        self.builtins = dict(builtins.__dict__)
        self.modules = dict(sys.modules)
        self.recursion_limit = sys.getrecursionlimit()
        self.int_digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
        self.spaces = _watched()
        self.values = [list(space.values()) for space in self.spaces]  # by identity: no __eq__ runs
        self.settings = _settings()

    def restore(self, workdir: str) -> None:
        names = builtins.__dict__
        for name in [n for n in names if n not in self.builtins]:
            del names[name]
        names.update(self.builtins)
        sys.setrecursionlimit(self.recursion_limit)
        if self.int_digits is not None:  # TIR code often lifts it for big numbers (Python ≥ 3.11)
            sys.set_int_max_str_digits(self.int_digits)
        os.environ.clear()
        os.environ.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=workdir, TMPDIR=workdir, LANG="C.UTF-8")
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails instead of killing
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(timer, 0)
        if "decimal" in sys.modules:  # getcontext().prec = 50 is common in TIR code
            sys.modules["decimal"].setcontext(sys.modules["decimal"].Context())
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        # Line-buffered, so that what was printed before an os._exit or a kill is kept.
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)

    def disturbed(self) -> bool:
        """A module removed or replaced, a watched name rebound, a library setting changed, or a
        thread still running: start a fresh runner."""
        if any(sys.modules.get(name) is not module for name, module in self.modules.items()):
            return True
        if len(os.listdir("/proc/self/task")) > 1 or _settings() != self.settings:
            return True
        return not all(
            len(space) == len(values) and all(map(operator.is_, space.values(), values))
            for space, values in zip(self.spaces, self.values)
        )


class _RunnerFds:
    """The runner's descriptors, by role; everything else is closed in the runner."""

    def __init__(self, requests: int, results: int, out: int, err: int) -> None:
        self.requests, self.results, self.out, self.err = requests, results, out, err
        self.null = -1


def runner_main(cfg: dict, home: str, fds: _RunnerFds, wipe: dict[str, set[str]]) -> None:
    """The forked runner: limits and privileges once, then snippets until told to stop."""
    try:
        os.setsid()
        fds.null = os.open(os.devnull, os.O_RDWR)
        keep = sorted({0, 1, 2, fds.null, fds.requests, fds.results, fds.out, fds.err})
        for lo, hi in zip(keep, keep[1:] + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]):
            os.closerange(lo + 1, hi)
        limits = {
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
        baseline = _Baseline()
    except BaseException as exc:  # the set-up itself failed: say why, run nothing
        write_frame(fds.results, {"ok": False, "error": f"sandbox set-up failed: {error_line(exc)}", "recycle": True})
        os._exit(1)
    while (request := read_frame(fds.requests)) is not None:
        result = run_request(request, cfg, home, fds, baseline, wipe)
        write_frame(fds.results, result)
        if result["recycle"]:
            break
    os._exit(0)


def run_request(
    request: dict, cfg: dict, home: str, fds: _RunnerFds, baseline: _Baseline, wipe: dict[str, set[str]]
) -> dict:
    """One snippet in the runner: a fresh directory and state, the cells, then clean-up."""
    workdir = tempfile.mkdtemp(prefix="cell-", dir=home)
    os.chdir(workdir)
    os.dup2(fds.null, 0)
    for fd, target in ((fds.out, 1), (fds.err, 2)):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.dup2(fd, target)
    baseline.restore(workdir)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime) + math.ceil(float(request["timeout"])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.getrlimit(resource.RLIMIT_CPU)[1]))

    cells, limit = request["cells"], cfg["max_output"]
    scope: dict = {"__name__": "__main__", "__builtins__": builtins}
    result: dict = {"ok": True, "error": None, "value": None}
    try:
        for i, cell in enumerate(cells):
            if i < len(cells) - 1:  # earlier cells of a solution only rebuild its state: muted
                os.dup2(fds.null, 1)
                os.dup2(fds.null, 2)
                try:
                    run_cell(cell, scope)
                except BaseException:  # noqa: BLE001 - a notebook keeps going after a failed cell
                    pass
                _flush()
                os.dup2(fds.out, 1)
                os.dup2(fds.err, 2)
                continue
            value = run_cell(cell, scope)
            if value is not None:
                result["value"] = _clip(repr(value), limit)
    except BaseException as exc:  # noqa: BLE001 - whatever the snippet raises is its result
        result = {"ok": False, "error": _clip(error_line(exc), limit), "value": None}
    _flush()
    # A failure may have left anything behind (a half-patched module, a full heap): recycle
    # after a failure, after a snippet the caller found could touch shared state, and after
    # a disturbance we can see.
    result["recycle"] = not result["ok"] or bool(request.get("isolate")) or baseline.disturbed()
    scope.clear()
    if cfg["reuse"] > 1:  # our own uid or PID namespace: kill(-1) reaches only our leftovers
        try:
            os.kill(-1, signal.SIGKILL)
            result["recycle"] = True  # something was left running: the server reaps it all
        except ProcessLookupError:  # nothing left: the usual case
            pass
    os.chdir(home)
    shutil.rmtree(workdir, ignore_errors=True)
    _wipe(wipe)
    return result


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - e.g. the file-size limit; the output is cut anyway
            pass


def _wipe(dirs: dict[str, set[str]]) -> None:
    """Empty the private tmpfs mounts but for the entries named: nothing outlives a snippet."""
    for path, kept in dirs.items():
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


# ---------------------------------------------------------------- the server's side

MAX_FRAME = 64 << 20  # a longer "frame" on the result pipe is a snippet scribbling on it


class _Runner:
    """The server's handle on one runner process."""

    def __init__(self, pid: int, home: str, requests: int, results: int, out: int, err: int) -> None:
        self.pid, self.home = pid, home
        self.requests, self.results, self.out, self.err = requests, results, out, err
        self.pidfd = os.pidfd_open(pid)
        self.runs = 0

    def close(self) -> None:
        for fd in (self.requests, self.results, self.out, self.err, self.pidfd):
            os.close(fd)
        shutil.rmtree(self.home, ignore_errors=True)


class Server:
    """Serves requests on a runner forked from this warm interpreter, reused up to ``reuse`` times.

    At the ``rlimits`` level without a uid of its own, a runner cannot clean up after a
    snippet without hitting the caller, so there every snippet gets a fresh runner.
    """

    def __init__(self, cfg: dict, level: str, keep: dict[str, set[str]], proto_in: int, proto_out: int) -> None:
        self.cfg, self.level, self.keep = cfg, level, keep
        self.proto_in, self.proto_out = proto_in, proto_out
        self.pid_namespace = not level.startswith("rlimits")
        if not self.pid_namespace:  # orphans of a snippet come back to us, not to init
            _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        if level == "rlimits":
            cfg["reuse"] = 1
        self.scratch = "/tmp" if self.pid_namespace else cfg["scratch"]
        self.runner: _Runner | None = None

    def serve(self) -> None:
        write_frame(self.proto_out, {"ready": True, "level": self.level, "pid": os.getpid()})
        while (request := read_frame(self.proto_in)) is not None:
            write_frame(self.proto_out, self.handle(request))

    def handle(self, request: dict) -> dict:
        timeout = float(request["timeout"])
        runner = self.runner = self.runner or self._start_runner()
        start = time.monotonic()
        try:
            write_frame(runner.requests, request)
            frame, reason = self._await(runner, start + timeout, timeout)
        except OSError:  # the runner is gone: its pipe is closed
            frame, reason = None, None
        seconds = time.monotonic() - start
        stdout, cut_out = self._read_capture(runner.out)
        stderr, cut_err = self._read_capture(runner.err)
        runner.runs += 1
        if frame is None or frame.pop("recycle", True) or runner.runs >= self.cfg["reuse"]:
            status, usage = self._stop_runner(runner)
            reply = frame if frame is not None else self._failure(reason, status, usage, timeout)
        else:
            reply = frame
            self._reap_orphans()
        reply.update(seconds=seconds, stdout=stdout, stderr=stderr, truncated=cut_out or cut_err)
        return reply

    def _start_runner(self) -> _Runner:
        home = tempfile.mkdtemp(prefix="runner-", dir=self.scratch)
        uid = self.cfg["uid"]
        if uid is not None:
            os.chown(home, uid, uid)
        out, err = os.memfd_create("stdout"), os.memfd_create("stderr")
        requests_r, requests_w = os.pipe()
        results_r, results_w = os.pipe()
        wipe = {path: kept | {os.path.basename(home)} for path, kept in self.keep.items()}
        pid = os.fork()
        if pid == 0:
            try:
                os.close(requests_w)
                os.close(results_r)
                runner_main(self.cfg, home, _RunnerFds(requests_r, results_w, out, err), wipe)
            finally:  # never return into the server's loop, whatever a snippet did to us
                os._exit(1)
        os.close(requests_r)
        os.close(results_w)
        return _Runner(pid, home, requests_w, results_r, out, err)

    def _await(self, runner: _Runner, deadline: float, timeout: float) -> tuple[dict | None, str | None]:
        """The runner's next result frame, or None with why: it died, or the deadline passed."""
        buffer = b""
        while True:
            if len(buffer) >= 4:
                size = struct.unpack(">I", buffer[:4])[0]
                if size > MAX_FRAME:
                    return None, "SystemError: the snippet wrote over the sandbox's result channel"
                if len(buffer) >= 4 + size:
                    try:
                        return json.loads(buffer[4 : 4 + size]), None
                    except ValueError:
                        return None, "SystemError: the snippet wrote over the sandbox's result channel"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, f"TimeoutError: timed out after {timeout:g} s"
            ready, _, _ = select.select([runner.results, runner.pidfd], [], [], remaining)
            if runner.results in ready:
                chunk = os.read(runner.results, 1 << 16)
                if chunk:
                    buffer += chunk
                    continue
            if ready:  # exited, or closed its end: take what is already there, then give up
                while select.select([runner.results], [], [], 0)[0] and (chunk := os.read(runner.results, 1 << 16)):
                    buffer += chunk
                if len(buffer) >= 4 and len(buffer) >= 4 + struct.unpack(">I", buffer[:4])[0]:
                    continue
                return None, None

    def _stop_runner(self, runner: _Runner) -> tuple[int, object]:
        """Kill the runner (a no-op if it is already dead), reap it, kill all it left."""
        try:
            os.kill(runner.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status, usage = os.wait4(runner.pid, 0)
        self._kill_leftovers(runner.pid)
        runner.close()
        self.runner = None
        _wipe(self.keep)  # empty unless the private tmpfs mounts are ours
        return status, usage

    def _reap_orphans(self) -> None:
        """Reap what the runner's kill(-1) left to us, minding the runner itself."""
        try:
            while (pid := os.waitpid(-1, os.WNOHANG)[0]) != 0:
                if self.runner is not None and pid == self.runner.pid:  # died between snippets
                    self._kill_leftovers(pid)
                    self.runner.close()
                    self.runner = None
        except ChildProcessError:
            pass

    def _failure(self, reason: str | None, status: int, usage, timeout: float) -> dict:
        if reason is None:
            cpu = usage.ru_utime + usage.ru_stime
            if os.WIFSIGNALED(status):
                sig = signal.Signals(os.WTERMSIG(status)).name
                if sig in ("SIGXCPU", "SIGKILL") and cpu >= math.ceil(timeout) - 0.05:
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
        """Kill and reap every process a runner left behind: daemons, forks, whatever."""
        deadline = time.monotonic() + 5.0
        try:  # the runner's process group: a fork bomb that did not setsid goes at once
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
    if cfg["warmup"]:
        scope: dict = {}
        for line in WARMUP.splitlines():
            try:
                exec(line, scope)
            except Exception:  # noqa: BLE001 - no sympy or numpy here: nothing to warm
                pass
    gc.collect()
    gc.freeze()  # forked children then leave the warm heap's pages shared
    cfg["address_space"] = _address_space_now() + (cfg["memory_mb"] << 20)
    Server(cfg, level, keep, proto_in, proto_out).serve()


if __name__ == "__main__":
    main()
