"""Hostile snippets against the sandbox: each must end in bounded time with the caller unharmed.

After every case the pool must still answer a benign snippet correctly, in a fresh directory
it can write to, and no process the snippet started (daemon, fork, zombie) may be left among
this test process's descendants. What only namespaces contain (the network, the file system,
the caller's processes) is tested apart: those tests skip, saying so, on a machine that cannot
make namespaces, and there only; where it can, the sandbox must have used them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mathlens.sandbox import Sandbox

TIMEOUT = 1.0
MARKER = f"/tmp/mathlens-escape-{os.getpid()}"


def descendants(pid: int) -> dict[int, str]:
    """pid → state of every process below ``pid``."""
    parent, state = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parent[int(name)], state[int(name)] = int(fields[1]), fields[0].decode()
    found, frontier = {}, [pid]
    while frontier:
        p = frontier.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in found:
                found[child] = state[child]
                frontier.append(child)
    return found


@pytest.fixture(scope="module")
def box():
    with Sandbox(workers=2, timeout=TIMEOUT, memory_mb=256, max_output=2000) as sandbox:
        sandbox.baseline = set(descendants(os.getpid()))  # the warm workers themselves
        yield sandbox


@pytest.fixture(scope="module")
def listener():
    """A TCP server of the caller's on 127.0.0.1 that no snippet may reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


# Asked of the kernel, not of the sandbox: a sandbox that fell back to rlimits on a machine
# with namespaces must fail these tests, not skip them.
PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
root = os.getuid() == 0
flags = 0x00020000 | 0x20000000 | 0x40000000 | (0 if root else 0x10000000)  # NEWNS, NEWPID, NEWNET, NEWUSER
if libc.unshare(flags) != 0:
    sys.exit(1)
if not root:
    open("/proc/self/setgroups", "w").write("deny")
    open("/proc/self/uid_map", "w").write(f"0 {os.getuid()} 1")
if libc.mount(b"none", b"/", None, (1 << 14) | (1 << 18), None) != 0:  # MS_REC | MS_PRIVATE
    sys.exit(1)
sys.exit(0 if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, b"size=1m") == 0 else 1)
"""


def machine_has_namespaces() -> bool:
    """Whether this process may make the namespaces and private mounts the sandbox asks for."""
    return subprocess.run([sys.executable, "-I", "-c", PROBE], capture_output=True, timeout=30).returncode == 0


NAMESPACES = machine_has_namespaces()
needs_namespaces = pytest.mark.skipif(not NAMESPACES, reason="this machine cannot make network/mount/PID namespaces")


# (name, code, what the result must show). The check gets the result and the sandbox.
CASES = [
    ("infinite loop", "while True: pass", lambda r, b: "timed out" in r.error),
    ("sleep", "import time; time.sleep(100)", lambda r, b: "timed out" in r.error),
    (
        "ignore SIGTERM",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(100)",
        lambda r, b: "timed out" in r.error,
    ),
    (
        "ignore SIGXCPU and spin",
        "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass",
        lambda r, b: "TimeoutError" in r.error,
    ),
    (
        "fork bomb",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        lambda r, b: not r.ok,
    ),
    ("allocate 50 GB", "x = bytearray(50 * 10**9)", lambda r, b: r.error == "MemoryError"),
    ("grow a list", "a = []\nwhile True:\n    a.append(' ' * 10**6)", lambda r, b: r.error == "MemoryError"),
    ("huge integer", "10**10**10", lambda r, b: not r.ok),
    ("huge shift", "x = 1 << 2**40", lambda r, b: r.error == "MemoryError"),
    (
        "print 1 GB",
        "import sys\nfor _ in range(1000):\n    sys.stdout.write('x' * 10**6)",
        lambda r, b: r.truncated and len(r.stdout) < 3000,
    ),
    (
        "flood stderr",
        "import sys\nwhile True:\n    sys.stderr.write('e' * 10**5)",
        lambda r, b: r.truncated and len(r.stderr) < 3000,
    ),
    ("read stdin", "input()", lambda r, b: r.error.startswith("EOFError")),
    ("os._exit", "print('bye')\nimport os\nos._exit(0)", lambda r, b: "exited" in r.error and r.stdout == "bye\n"),
    ("sys.exit", "import sys\nsys.exit(3)", lambda r, b: r.error == "SystemExit: 3"),
    (
        "background child",
        "import subprocess\nsubprocess.Popen(['sleep', '1000'])\nprint('spawned')",
        lambda r, b: r.ok and r.stdout == "spawned\n",
    ),
    (
        "double-forked daemon",
        (
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(1000)\n"
            "    os._exit(0)\nprint('parent done')"
        ),
        lambda r, b: r.ok,
    ),
    (
        "thread outlives the cell",
        "import threading, time\nthreading.Thread(target=time.sleep, args=(100,)).start()\nprint('main done')",
        lambda r, b: r.ok and r.seconds < TIMEOUT,
    ),
    (
        "ten thousand threads",
        "import threading, time\nfor _ in range(10000):\n    threading.Thread(target=time.sleep, args=(5,)).start()",
        lambda r, b: not r.ok,
    ),
    ("read a shadow file", "print(open('/etc/shadow').read())", lambda r, b: r.error.startswith("PermissionError")),
    ("read another process's memory", "open('/proc/1/mem', 'rb').read(1)", lambda r, b: not r.ok),
    (
        "deep recursion",
        "def f(n):\n    return f(n + 1)\nf(0)",
        lambda r, b: r.error.startswith("RecursionError"),
    ),
    (
        "recursion limit raised",
        "import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1)\nf(0)",
        lambda r, b: not r.ok,
    ),
    ("segfault", "import ctypes\nctypes.string_at(0)", lambda r, b: "SIGSEGV" in r.error),
    ("become root", "import os\nos.setuid(0)", lambda r, b: not r.ok or os.getuid() != 0),
    ("exhaust file descriptors", "fs = [open('/dev/null') for _ in range(10**5)]", lambda r, b: not r.ok),
    (  # the result pipe is among them: a frame that does not parse is the snippet's error, not a hang
        "scribble on every descriptor",
        "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'}garbage{')\n    except OSError:\n        pass",
        lambda r, b: not r.ok and "result channel" in r.error,
    ),
    (  # the snippet's own stdout is gone, not the worker's protocol pipe
        "close stdout",
        "import os\nos.close(1)\nprint('lost')",
        lambda r, b: r.error == "OSError: [Errno 9] Bad file descriptor",
    ),
    (  # only root in a user namespace of its own may still write there; the next snippet gets a fresh directory
        "lock its own directory",
        "import os\nos.chmod('.', 0)\nopen('f', 'w')",
        lambda r, b: r.ok if b.level == "userns" else r.error.startswith("PermissionError"),
    ),
    (
        "alarm on itself",
        "import signal, time\nsignal.setitimer(signal.ITIMER_REAL, 0.2)\ntime.sleep(5)",
        lambda r, b: "SIGALRM" in r.error,
    ),
]


@pytest.mark.parametrize("name,code,check", CASES, ids=[c[0] for c in CASES])
def test_hostile_snippet_is_contained(box, name, code, check):
    start = time.monotonic()
    result = box.run(code)
    elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 5, f"{name} took {elapsed:.1f} s"
    assert check(result, box), f"{name}: {result}"
    # The caller is unharmed and the pool still answers, on both workers, each time in a fresh
    # directory the snippet may write to.
    after = "import os\nopen('f', 'w').close()\nprint(6 * 7, os.listdir('.'))"
    assert [r.stdout for r in box.run_many([after] * 4)] == ["42 ['f']\n"] * 4
    # Each worker may keep one runner process between snippets, no more, and no zombie.
    left = {pid: state for pid, state in descendants(os.getpid()).items() if pid not in box.baseline}
    assert len(left) <= box.config.workers and "Z" not in left.values(), f"{name} left processes: {left}"


def test_the_level_is_the_strongest_this_machine_allows(box):
    """Namespaces wherever the kernel grants them (as root with a uid of the snippet's own)."""
    root = os.getuid() == 0
    if NAMESPACES:
        assert box.level == ("namespaces+uid" if root else "userns")
    else:
        assert box.level == ("rlimits+uid" if root else "rlimits")
    assert box.run("import os\nprint(sorted(os.environ))").stdout == "['HOME', 'LANG', 'PATH', 'TMPDIR']\n"


def _servers(box) -> dict[int, object]:
    return {w.proc.pid: w for w in box._all.values()}


@pytest.mark.skipif(os.getuid() != 0 and not NAMESPACES, reason="needs a PID namespace or a uid for the snippet")
def test_a_snippet_cannot_kill_its_server(box):
    """Its parent is the warm server: a uid of its own cannot signal it, and as PID 1 of the
    namespace it ignores a SIGKILL from inside. The same servers answer afterwards."""
    before = _servers(box)
    result = box.run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('sent')")
    assert "worker lost" not in (result.error or ""), result
    assert result.ok == (box.level == "userns"), result  # as another uid: PermissionError
    assert [r.value for r in box.run_many(["6 * 7"] * 4)] == ["42"] * 4
    assert _servers(box).keys() == before.keys() and all(w.proc.poll() is None for w in before.values())


@pytest.mark.skipif(os.getuid() != 0 and not NAMESPACES, reason="needs a PID namespace or a uid for the snippet")
def test_a_snippet_cannot_signal_the_caller(box):
    """In a PID namespace the caller's pid does not exist; as another uid it may not be signalled."""
    result = box.run(f"import os, signal\nos.kill({os.getpid()}, signal.SIGKILL)")
    assert result.error.startswith("ProcessLookupError" if NAMESPACES else "PermissionError"), result


@pytest.mark.skipif(os.getuid() != 0 and not NAMESPACES, reason="needs a PID namespace or a uid for the snippet")
def test_kill_everything_reaches_only_the_snippets_own_processes(box):
    """kill(-1) reaches what the sender may signal: in a PID namespace nothing (the server is
    PID 1 or another uid), as a uid of its own only its own processes. Without either it would
    reach the caller, which is why this skips there."""
    before = _servers(box)
    result = box.run("import os, signal\nos.kill(-1, signal.SIGKILL)")
    assert result.error.startswith("ProcessLookupError") if NAMESPACES else result.ok, result
    assert [r.value for r in box.run_many(["6 * 7"] * 4)] == ["42"] * 4
    assert _servers(box).keys() == before.keys()


@needs_namespaces
def test_the_callers_files_are_read_only(box):
    target = Path(__file__).with_name("escaped.txt")
    try:
        result = box.run(f"open({str(target)!r}, 'w').write('x')")
        # under /tmp (a clone there) the private /tmp hides the folder itself: not found is contained too
        assert not target.exists() and result.error.startswith(("OSError", "PermissionError", "FileNotFoundError")), result
    finally:
        target.unlink(missing_ok=True)


@needs_namespaces
def test_tmp_is_private_and_writable(box):
    """The snippet may use /tmp, but what it writes there never reaches the machine's /tmp."""
    try:
        result = box.run(f"open({MARKER!r}, 'w').write('x')\nimport os\nos.path.exists({MARKER!r})")
        assert result.ok and result.value == "True", result
        assert not os.path.exists(MARKER)
    finally:
        Path(MARKER).unlink(missing_ok=True)


@needs_namespaces
def test_no_network_not_even_the_callers_loopback(box, listener):
    """The caller's own TCP server on 127.0.0.1 (which the caller reaches) is out of reach, as is
    any outside address: the network namespace has no interface up."""
    socket.create_connection(("127.0.0.1", listener), timeout=1).close()  # the caller's side works
    for host, port in (("127.0.0.1", listener), ("1.1.1.1", 80)):
        result = box.run(f"import socket\nsocket.create_connection(({host!r}, {port}), timeout=0.5)")
        assert result.error == "OSError: [Errno 101] Network is unreachable", (host, result)
