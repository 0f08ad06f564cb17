"""Hostile snippets against the sandbox: each must end in bounded time with the caller unharmed.

After every case the pool must still answer a benign snippet correctly, and no process the
snippet started (daemon, fork, zombie) may be left among this test process's descendants.
"""

from __future__ import annotations

import os
import socket
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


def isolated(box) -> bool:
    return box.level != "rlimits"


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
    ("kill the parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", lambda r, b: True),
    ("kill everything it can", "import os, signal\nos.kill(-1, signal.SIGKILL)", lambda r, b: not r.ok),
    (
        "kill the caller by pid",
        f"import os, signal\nos.kill({os.getpid()}, signal.SIGKILL)",
        lambda r, b: not r.ok or not isolated(b),
    ),
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
        "write into the caller's tree",
        f"open({str(Path(__file__).with_name('escaped.txt'))!r}, 'w').write('x')",
        lambda r, b: not Path(__file__).with_name("escaped.txt").exists() or not isolated(b),
    ),
    (
        "write to /tmp",
        f"open({MARKER!r}, 'w').write('x')",
        lambda r, b: not os.path.exists(MARKER) or not isolated(b),
    ),
    (
        "open a socket to the internet",
        "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=0.5)",
        lambda r, b: not r.ok or not isolated(b),
    ),
    (
        "connect to the caller's server",
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=0.5)",
        lambda r, b: not r.ok or not isolated(b),
    ),
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
    (
        "scribble on every descriptor",
        "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'}garbage{')\n    except OSError:\n        pass",
        lambda r, b: True,
    ),
    ("close stdout", "import os\nos.close(1)\nprint('lost')", lambda r, b: True),
    ("lock its own directory", "import os\nos.chmod('.', 0)\nopen('f', 'w')", lambda r, b: True),
    (
        "alarm on itself",
        "import signal, time\nsignal.setitimer(signal.ITIMER_REAL, 0.2)\ntime.sleep(5)",
        lambda r, b: "SIGALRM" in r.error,
    ),
]


@pytest.mark.parametrize("name,code,check", CASES, ids=[c[0] for c in CASES])
def test_hostile_snippet_is_contained(box, listener, name, code, check):
    start = time.monotonic()
    result = box.run(code.replace("{port}", str(listener)))
    elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 5, f"{name} took {elapsed:.1f} s"
    assert check(result, box), f"{name}: {result}"
    # The caller is unharmed and the pool still answers, on both workers.
    assert [r.stdout for r in box.run_many(["print(6 * 7)"] * 4)] == ["42\n"] * 4
    # Each worker may keep one runner process between snippets, no more, and no zombie.
    left = {pid: state for pid, state in descendants(os.getpid()).items() if pid not in box.baseline}
    assert len(left) <= box.config.workers and "Z" not in left.values(), f"{name} left processes: {left}"
    assert not os.path.exists(MARKER) or not isolated(box)


def test_the_level_is_the_strongest_this_machine_allows(box):
    if os.getuid() == 0:
        assert box.level in ("namespaces+uid", "rlimits+uid")
    assert box.run("import os\nprint(sorted(os.environ))").stdout == "['HOME', 'LANG', 'PATH', 'TMPDIR']\n"
