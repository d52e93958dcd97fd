"""Sync faces of async methods: descriptors that run the async method on the owner's loop.

``get_state = Blocking(AsyncAtx.get_state)`` in a :class:`Wrapper` subclass gives a
blocking ``get_state()`` with the async method's parameters, as mypy and
``inspect.signature`` see them (ParamSpec), its docstring, and its result.
:class:`Iterating` turns an async iterator into a generator, :class:`Entering` an async
context manager into a context manager.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import Any, Concatenate, Final, Generic, ParamSpec, Self, TypeVar, overload

from ..errors import ConnectionClosedError
from ._loop import LoopThread

A = TypeVar("A")
A_co = TypeVar("A_co", covariant=True)
P = ParamSpec("P")
T = TypeVar("T")

_END: Final = object()


class Wrapper(Generic[A_co]):
    """The sync face of an async object that lives on ``runner``'s loop."""

    def __init__(self, target: A_co, runner: LoopThread) -> None:
        self._target = target
        self._runner = runner

    @property
    def _async(self) -> A_co:
        return self._target


class _Described:
    """What a sync method shows of the async one: name, docstring, signature sans self."""

    __slots__ = ("_func", "_signature")

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func
        self._signature: inspect.Signature | None = None

    @property
    def __name__(self) -> str:
        return str(self._func.__name__)

    def _doc(self) -> str | None:
        return self._func.__doc__

    # In each class: a class body without a docstring sets __doc__ to None.
    __doc__ = property(_doc)

    @property
    def __signature__(self) -> inspect.Signature:
        if self._signature is None:
            signature = inspect.signature(self._func)
            self._signature = signature.replace(parameters=list(signature.parameters.values())[1:])
        return self._signature

    @property
    def wrapped(self) -> Callable[..., Any]:
        """The async function this one runs (for the tests that compare the two APIs)."""
        return self._func


class Blocking(_Described, Generic[A, P, T]):
    # A coroutine method, run to its end on the loop. (No docstring: __doc__ is the
    # async method's.)

    __slots__ = ()
    __doc__ = property(_Described._doc)

    def __init__(self, func: Callable[Concatenate[A, P], Coroutine[Any, Any, T]]) -> None:
        super().__init__(func)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: Wrapper[A], owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: Wrapper[A] | None, owner: type[Any]) -> Self | Callable[P, T]:
        if obj is None:
            return self
        return _BoundBlocking(self, obj)


class _BoundBlocking(Generic[A, P, T]):
    __slots__ = ("_method", "_owner")

    def __init__(self, method: Blocking[A, P, T], owner: Wrapper[A]) -> None:
        self._method = method
        self._owner = owner

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        owner = self._owner
        try:
            coro: Coroutine[Any, Any, T] = self._method._func(owner._async, *args, **kwargs)
        finally:
            del args, kwargs  # a traceback's locals must not show a password or a URL's
        return owner._runner.run(coro)

    @property
    def __name__(self) -> str:
        return self._method.__name__

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]  # the async method's
        return self._method._doc()

    @property
    def __signature__(self) -> inspect.Signature:
        return self._method.__signature__

    def __repr__(self) -> str:
        return f"<sync method {self._method.__name__} of {self._owner!r}>"


class Iterating(_Described, Generic[A, P, T]):
    # A method giving an async iterator: a generator here, each item fetched on the loop,
    # and the async iterator closed on the loop when the generator is (break included).

    __slots__ = ()
    __doc__ = property(_Described._doc)

    def __init__(self, func: Callable[Concatenate[A, P], AsyncIterator[T]]) -> None:
        super().__init__(func)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: Wrapper[A], owner: type[Any]
    ) -> Callable[P, Generator[T, None, None]]: ...
    def __get__(
        self, obj: Wrapper[A] | None, owner: type[Any]
    ) -> Self | Callable[P, Generator[T, None, None]]:
        if obj is None:
            return self
        func, target, runner = self._func, obj._async, obj._runner

        def call(*args: P.args, **kwargs: P.kwargs) -> Generator[T, None, None]:
            # Here: making one only checks the arguments (an async generator starts running
            # when iterated, on the loop).
            try:
                iterator = func(target, *args, **kwargs)
            finally:
                del args, kwargs
            return iterate(runner, iterator)

        call.__name__ = self.__name__
        call.__doc__ = self.__doc__
        call.__signature__ = self.__signature__  # type: ignore[attr-defined]
        return call


async def _next(iterator: AsyncIterator[T]) -> T | object:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _END


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def iterate(runner: LoopThread, iterator: AsyncIterator[T]) -> Generator[T, None, None]:
    """``iterator``'s items, each awaited on ``runner``'s loop."""
    finished = False
    try:
        while True:
            item = runner.run(_next(iterator))
            if item is _END:
                finished = True
                return
            yield item  # type: ignore[misc]  # not _END: an item
    finally:
        if not finished:
            if runner.in_loop():  # the generator collected by the loop's own thread
                runner.schedule(_aclose(iterator))
            else:
                with contextlib.suppress(RuntimeError, ConnectionClosedError):  # the loop is gone
                    runner.run(_aclose(iterator), cancel=False)


class Entering(_Described, Generic[A, P, T]):
    # A method giving an async context manager: a context manager here, entered and
    # exited on the loop; the exception that ends the with block is passed on.

    __slots__ = ()
    __doc__ = property(_Described._doc)

    def __init__(self, func: Callable[Concatenate[A, P], AbstractAsyncContextManager[T]]) -> None:
        super().__init__(func)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: Wrapper[A], owner: type[Any]) -> Callable[P, SyncContext[T]]: ...
    def __get__(
        self, obj: Wrapper[A] | None, owner: type[Any]
    ) -> Self | Callable[P, SyncContext[T]]:
        if obj is None:
            return self
        func, target, runner = self._func, obj._async, obj._runner

        def call(*args: P.args, **kwargs: P.kwargs) -> SyncContext[T]:
            try:
                manager = func(target, *args, **kwargs)  # runs nothing before __aenter__
            finally:
                del args, kwargs
            return SyncContext(runner, manager)

        call.__name__ = self.__name__
        call.__doc__ = self.__doc__
        call.__signature__ = self.__signature__  # type: ignore[attr-defined]
        return call


class SyncContext(AbstractContextManager[T]):
    """An async context manager, entered and exited on ``runner``'s loop."""

    def __init__(self, runner: LoopThread, manager: AbstractAsyncContextManager[T]) -> None:
        self._runner = runner
        self._manager = manager

    def __enter__(self) -> T:
        return self._runner.run(_enter(self._manager))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        # Not cancelled on Ctrl-C: this is the clean-up (releasing held keys), waited for.
        return self._runner.run(_exit(self._manager, exc_type, exc, tb), cancel=False)


async def _enter(manager: AbstractAsyncContextManager[T]) -> T:
    return await manager.__aenter__()


async def _exit(
    manager: AbstractAsyncContextManager[Any],
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> bool | None:
    return await manager.__aexit__(exc_type, exc, tb)
