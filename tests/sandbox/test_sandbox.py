"""What a TIR model sees from the sandbox, and how the pool keeps going."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

import mathlens
from mathlens.errors import MathlensError
from mathlens.sandbox import ExecResult, Sandbox


@pytest.fixture(scope="module")
def box():
    with Sandbox(workers=2, timeout=2.0, max_output=100) as sandbox:
        yield sandbox


def test_a_cell_shows_stdout_then_its_trailing_value(box):
    result = box.run("print('x =', 3)\nx = 3\nx**2 + 1")
    assert result.ok and result.stdout == "x = 3\n" and result.value == "10"
    assert result.output == "x = 3\n10"
    assert box.run("x = 1").output == ""  # an assignment shows nothing
    assert box.run("None").value is None


def test_an_error_is_the_tracebacks_last_line(box):
    result = box.run("print('before')\n1/0")
    assert not result.ok and result.error == "ZeroDivisionError: division by zero"
    assert result.output == "before\nZeroDivisionError: division by zero"
    assert box.run("def f(:").error.startswith("SyntaxError")


def test_sympy_and_numpy_are_warm(box):
    result = box.run("from sympy import symbols, solve\nx = symbols('x')\nsolve(x**2 - 5*x + 6, x)")
    assert result.value == "[2, 3]"
    assert box.run("import numpy as np\nnp.arange(4).sum()").output in ("6", "np.int64(6)")


def test_cells_of_one_solution_share_state_and_only_the_last_one_shows(box):
    cells = ["a = 2\nprint('first cell')", "b = a * 10\nundefined_name", "b + a"]
    result = box.run(cells)
    assert result.ok and result.value == "22" and result.stdout == ""  # a failed cell keeps what it set


def test_output_is_cut_with_a_marker(box):
    result = box.run("print('y' * 1000)")
    assert result.truncated and result.stdout.startswith("y" * 100) and "truncated" in result.stdout
    assert len(box.run("'z' * 1000").value) < 200


def test_run_many_keeps_order_and_reports_progress(box):
    seen = []
    results = box.run_many([f"{i} * {i}" for i in range(20)], on_result=lambda i, r: seen.append(i))
    assert [r.value for r in results] == [str(i * i) for i in range(20)]
    assert sorted(seen) == list(range(20))


def test_a_lost_worker_is_reported_and_replaced():
    with Sandbox(workers=1, timeout=5.0) as box:
        (worker,) = box._all.values()
        # Kill the worker from outside while it runs a snippet: the result says so, and the
        # next snippet runs on a fresh worker.
        threading.Timer(0.5, lambda: os.killpg(worker.proc.pid, signal.SIGKILL)).start()
        lost = box.run("import time; time.sleep(3)")
        assert not lost.ok and "worker lost" in lost.error
        assert box.run("6 * 7").value == "42"
        assert worker.proc.poll() is not None  # reaped, no zombie


def test_workers_are_recycled_after_n_runs_and_leave_no_files():
    with Sandbox(workers=1, recycle_after=2) as box:
        workers = {}
        for _ in range(5):
            assert box.run("open('scratch.txt', 'w').write('x')\n1 + 1").value == "2"
            workers |= {w.proc.pid: w for w in box._all.values()}
        assert len(workers) == 3
    assert all(w.proc.returncode is not None for w in workers.values())  # all reaped
    assert not any(os.path.exists(w.scratch) for w in workers.values())


def test_rlimits_level_still_contains_a_snippet():
    with Sandbox(workers=1, timeout=1.0, isolation="rlimits") as box:
        assert box.level.startswith("rlimits")
        assert box.run("while True: pass").error.startswith("TimeoutError")
        spawned = box.run("import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\n1")
        assert spawned.ok
        children = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == "sleep 1000"]
        assert not children
        assert box.run("6 * 7").value == "42"


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_bad_settings_are_one_line_errors():
    with pytest.raises(MathlensError, match="isolation"):
        Sandbox(isolation="docker")
    with pytest.raises(MathlensError, match="workers"):
        Sandbox(workers=0)


def test_exec_result_serialises():
    result = ExecResult("out\n", "", True, None, 0.1, value="3")
    assert result.to_dict()["value"] == "3" and result.output == "out\n3"


SYSTEM_PYTHON = "/usr/bin/python3"  # readable by every user, unlike a python under /root
AS_USER = """
import json, sys
sys.path.insert(0, {src!r})
from mathlens.sandbox import Sandbox
with Sandbox(workers=1, timeout=1.0, isolation={isolation!r}) as box:
    out = {{"level": box.level}}
    for name, code in {{
        "sum": "6 * 7",
        "loop": "while True: pass",
        "fork bomb": "import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass",
        "daemon": "import subprocess\\nsubprocess.Popen(['sleep', '1001'], start_new_session=True)\\n1",
        "kill parent": "import os, signal\\nos.kill(os.getppid(), signal.SIGKILL)",
        "after": "6 * 7",
    }}.items():
        out[name] = box.run(code).output
print(json.dumps(out))
"""


SRC = Path(mathlens.__file__).parents[1]


def readable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & 0o005 == 0o005 for p in [path, *path.parents])


@pytest.mark.skipif(
    os.getuid() != 0 or not shutil.which("setpriv") or not os.path.exists(SYSTEM_PYTHON) or not readable_by_others(SRC),
    reason="needs root to switch to an ordinary user, setpriv, a system python and a checkout others can read",
)
@pytest.mark.parametrize("isolation", ["auto", "rlimits"])
def test_an_ordinary_user_gets_a_working_sandbox(isolation):
    """Started by an ordinary user (nobody): user namespaces where the kernel allows them."""
    script = AS_USER.format(src=str(SRC), isolation=isolation)
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SYSTEM_PYTHON, "-c", script],
        check=False, capture_output=True, text=True, timeout=120, cwd="/", env={"PATH": os.defpath},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["level"] == ("userns" if isolation == "auto" else "rlimits"), out
    assert out["sum"] == "42" and out["after"] == "42"
    assert out["loop"].startswith("TimeoutError") and not out["fork bomb"].startswith("6")
    assert out["daemon"] == "1"
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == "sleep 1001"]


def test_a_reused_process_shows_no_trace_of_the_previous_snippet(box):
    box.run(
        "secret = 1\nimport builtins, decimal, os\nbuiltins.print = None\ndecimal.getcontext().prec = 3\nos.environ['X'] = '1'"
    )
    after = box.run("import decimal, os\nprint(decimal.Decimal(1) / 7, 'secret' in dir(), 'X' in os.environ)")
    assert after.stdout == "0.1428571428571428571428571429 False False\n", after


def test_runners_are_reused_until_a_failure():
    with Sandbox(workers=1, reuse=3) as box:
        pids = [box.run("import os\nos.getpid()").value for _ in range(4)]
        assert pids[0] == pids[1] == pids[2] != pids[3]  # three runs, then a fresh process
        box.run("1/0")
        assert box.run("import os\nos.getpid()").value != pids[3]  # a failure retires its process
