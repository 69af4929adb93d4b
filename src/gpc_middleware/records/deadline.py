"""A deadline on database calls that the server cannot miss: :class:`ConnectionDeadline`.

Why the client must enforce it
------------------------------
Server-side timeouts (``statement_timeout``, ``lock_timeout``) are run by the server: one
that is frozen (SIGSTOP, a paused VM, a hung disk) never runs them. TCP keepalives and
``tcp_user_timeout`` do not fire either while the server's kernel still acknowledges
packets, which it does for a stopped process. A driver then waits for an answer forever,
and the recorder's writer with it, so that neither retries nor shutdown can finish.

How it works
------------
:meth:`ConnectionDeadline.bound` arms a timer for the calling thread's operation; the
connections the operation uses are registered with :meth:`ConnectionDeadline.watch` (the
log registers each one as it is checked out or opened). If the timer fires before the
operation ends, the socket of every registered connection is shut down: the blocked read
returns end-of-file, the driver raises, its pool discards the connection, and the operation
fails with :class:`DatabaseTimeout`, which the recorder retries like any database error.
A socket is identified by its descriptor and its inode, so a descriptor closed and reused
meanwhile is left alone. Only drivers whose connection exposes its socket are bounded this
way: psycopg 3 (``pgconn.socket``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any, Final

__all__ = ["ConnectionDeadline", "DatabaseTimeout"]


class DatabaseTimeout(TimeoutError):
    """A database operation outlived its deadline and its connections were cut off."""


class _Operation:
    """One bounded operation: the sockets it uses, and whether its time ran out."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sockets: list[tuple[int, int]] = []  # (descriptor, inode)
        self.expired = False
        self.finished = False

    def watch(self, descriptor: int) -> None:
        try:
            inode = os.fstat(descriptor).st_ino
        except OSError:
            return
        with self.lock:
            if self.expired:
                _shut_down(descriptor, inode)
            elif not self.finished:
                self.sockets.append((descriptor, inode))

    def expire(self) -> None:
        with self.lock:
            if self.finished:
                return
            self.expired = True
            for descriptor, inode in self.sockets:
                _shut_down(descriptor, inode)

    def finish(self) -> None:
        with self.lock:
            self.finished = True
            self.sockets.clear()


def _shut_down(descriptor: int, inode: int) -> None:
    try:
        if os.fstat(descriptor).st_ino != inode:
            return  # closed and reused for something else
        # A duplicate, so that closing it leaves the driver's descriptor to the driver;
        # shutdown acts on the socket itself, which both share.
        with socket.socket(fileno=os.dup(descriptor)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing to cut off


class ConnectionDeadline:
    """Bounds each operation of a thread to ``seconds`` (see the module)."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("the deadline must be positive")
        self.seconds: Final = seconds
        self._current = threading.local()

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Run the block under the deadline; raise :class:`DatabaseTimeout` if it expired.

        Nested blocks share the outer one's deadline.
        """
        if getattr(self._current, "operation", None) is not None:
            yield
            return
        operation = _Operation()
        timer = threading.Timer(self.seconds, operation.expire)
        timer.daemon = True
        self._current.operation = operation
        timer.start()
        try:
            yield
        except Exception as exc:
            if operation.expired:
                raise DatabaseTimeout(
                    f"the database did not answer within {self.seconds:g}s; "
                    "its connection was closed"
                ) from exc
            raise
        finally:
            timer.cancel()
            operation.finish()
            self._current.operation = None

    def watch(self, dbapi_connection: Any) -> None:
        """Register a driver connection with the calling thread's operation, if any."""
        operation: _Operation | None = getattr(self._current, "operation", None)
        if operation is None:
            return
        descriptor = _socket_of(dbapi_connection)
        if descriptor is not None:
            operation.watch(descriptor)


def _socket_of(dbapi_connection: Any) -> int | None:
    """The connection's socket descriptor, for the drivers that expose it (psycopg 3)."""
    try:
        descriptor = dbapi_connection.pgconn.socket
    except Exception:  # another driver, or a connection already closed
        return None
    return descriptor if isinstance(descriptor, int) and descriptor >= 0 else None
