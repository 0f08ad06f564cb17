"""A time limit on one call that holds in whichever thread makes it.

math-verify bounds its work with ``signal.alarm``: whole seconds, and only in the main thread.
Anywhere else (a thread pool grading rollouts, a server's worker) its limit must be turned off
(``None``) and a runaway sympy comparison runs as long as it likes. So the limit is kept here,
the same way in every thread: a watchdog thread that, once the time is up, raises ``OutOfTime``
in the working thread through ``PyThreadState_SetAsyncExc`` (CPython's way to interrupt another
thread, what debuggers and ``func_timeout`` use), again every ``_AGAIN`` seconds until the call
has ended, in case something on the way swallows the first one.

``OutOfTime`` derives from ``BaseException`` and from nothing of math-verify's, so math-verify's
own handlers (``except Exception``, ``except TimeoutException``), which log and carry on with the
next pair, let it through. Like a signal it only lands between bytecodes: one long C call (an
enormous integer power) runs to its end first, which is why ``bounds`` refuses such numbers
before anything evaluates them.

An asynchronous exception lands wherever the thread happens to be, so it may be sent only while
the thread is inside ``fn``: never while ``within`` starts the watchdog or ends the call. Were it
to land there (in ``Thread.start``, in an ``Event``'s condition), the call would end with its
watchdog still armed, firing at the thread forever after, or with a lock left held. Hence the
watchdog fires only while ``running`` is set *and* the thread's stack still holds the frame that
calls ``fn`` (``_inside``), ``running``, ``ended`` and ``fired`` change only under one C lock, and
the watchdog sleeps on a C lock that ending the call releases.

The stack test is what keeps the watchdog from outliving ``fn``. CPython checks for pending work
on entering any Python function, so an interruption sent just before ``fn`` returned lands on
the way into ``_Call.end`` (before any ``try`` inside it could catch it). Without the test the
call then never ended, and its watchdog fired at the thread every ``_AGAIN`` seconds for good
(seen as ``OutOfTime`` in unrelated code and as a ``Thread.start`` that never returned). With
it, only an interruption already on its way when ``fn`` returned can land there; ``within``
catches that one and ends the call again, and no further one can be sent. An interruption
already on its way when the call ends is drained before ``within`` returns.

Drained, not cancelled: ``PyThreadState_SetAsyncExc(id, NULL)`` clears the thread's pending
exception but leaves the interpreter's "asynchronous exception pending" flag raised (CPython
3.11 lowers it only when a thread actually takes an exception), and with that flag stuck every
later ``sys.settrace`` trace in the process spins for ever on its first loop (the rule formats
trace their programs so) and all other code checks for pending work at every jump. So ``end``
replaces whatever may be pending with a private ``_Drained`` and runs bytecodes until it
lands, which lowers the flag as any delivered exception does. Inside ``fn`` the risk is
the usual one of interrupting code: a lock that ``fn`` took without ``with`` or ``try`` (a
logging handler's, say) could stay held; math-verify and sympy hold none of their own.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")

_AGAIN = 0.05  # seconds between repeated interruptions once the time is up


class OutOfTime(BaseException):
    """The call ran past its time limit."""


class _Drained(BaseException):
    """Sent by a call's own end to take delivery of an interruption that had not landed yet."""


def within(seconds: float | None, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``fn(*args, **kwargs)``, or ``OutOfTime`` raised in it once ``seconds`` have passed (none:
    no limit); in any thread. Nothing is left pending in the thread when this returns or raises."""
    if seconds is None or seconds <= 0:
        return fn(*args, **kwargs)
    call = _Call(threading.get_ident(), time.monotonic() + seconds)
    threading.Thread(target=call.watch, name="mathlens-deadline", daemon=True).start()
    try:
        return _inside(call, fn, args, kwargs)
    finally:
        try:
            call.end()
        except OutOfTime:  # sent just before ``fn`` returned, landed on entering ``end``: the last one
            call.end()
        except BaseException:  # a signal's exception (KeyboardInterrupt) landing there: end, then raise it
            call.end()
            raise


def _inside(call: _Call, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    """Run ``fn`` in the one frame the watchdog looks for on the thread's stack before it fires."""
    with call.lock:
        call.frame = sys._getframe()
        call.running = True  # from here on the watchdog may interrupt: we are inside ``within``'s ``try``
    return fn(*args, **kwargs)


class _Call:
    """One limited call: what its watchdog and its thread share."""

    def __init__(self, target: int, deadline: float) -> None:
        self.target = target
        self.deadline = deadline
        self.lock = threading.Lock()  # an interruption and the call's end never cross
        self.wake = threading.Lock()  # held until the call ends; the watchdog sleeps on it
        self.wake.acquire()
        self.running = False
        self.ended = False
        self.fired = False
        self.frame: object | None = None  # ``_inside``'s frame while ``fn`` runs

    def watch(self) -> None:
        """The watchdog: sleep until the deadline (or the end), then interrupt until the end."""
        wait = max(0.0, self.deadline - time.monotonic())
        while not self.wake.acquire(timeout=wait):
            with self.lock:
                if self.ended:
                    return
                if self.running:
                    if not self._in_fn():
                        return  # ``fn`` is over (the thread is ending the call): nothing more to send
                    self.fired = True
                    _raise_in(self.target, OutOfTime)
            wait = _AGAIN

    def _in_fn(self) -> bool:
        """Whether the thread is still inside ``fn``: ``_inside``'s frame is on its stack."""
        frame = sys._current_frames().get(self.target)
        while frame is not None:
            if frame is self.frame:
                return True
            frame = frame.f_back
        return False

    def end(self) -> None:
        """Disarm the watchdog and drain an interruption not yet landed; one that lands while
        doing so is retried over. Another exception landing here (a signal's) is raised after."""
        other: BaseException | None = None
        while True:
            try:
                with self.lock:
                    self.running = False
                    self.ended = True
                    self.frame = None  # no cycle through the frame's locals
                    if self.fired:  # one may be pending, not yet raised: it must not land after we return
                        _drain(self.target)
                break
            except OutOfTime:
                continue
            except BaseException as exc:  # noqa: BLE001 - e.g. KeyboardInterrupt: end the call, then raise it
                other = exc
        self.wake.release()
        if other is not None:
            raise other


def _drain(thread_id: int) -> None:
    """In the thread ``thread_id`` (the caller's own): replace any pending interruption with
    ``_Drained`` and spin until it lands, so nothing stays pending, the interpreter's flag included."""
    try:
        _raise_in(thread_id, _Drained)
        while True:  # every backward jump checks for pending work: it lands within a few rounds
            pass
    except _Drained:
        pass


def _raise_in(thread_id: int, exc: type[BaseException]) -> None:
    """Schedule ``exc`` in the thread; it replaces one already pending there."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))
