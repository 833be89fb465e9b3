"""Keep numpy's BLAS on the calling thread while live inference runs.

OpenBLAS hands every product above a small size threshold to its worker threads, and those
threads then busy-wait for more work (about 0.1 s) before they sleep. The live pipeline does about
a millisecond of small matrix products twice a second, so each hop woke the workers and left them
spinning: measured here, the numpy engine alone used ~23 % of a core instead of ~1.4 %. Limiting
BLAS to one thread for the duration of a hop keeps the arithmetic identical and the workers asleep.

threadpoolctl finds whichever BLAS numpy was built with (OpenBLAS, MKL, BLIS) and restores the
previous limit afterwards, so other users of numpy in the same process are unaffected outside our
calls. Without it (a requirement of the integration, but the core also runs elsewhere) this is a
no-op.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_controller_lock = threading.Lock()
_controller: Any = None
_controller_ready = False


def _blas_controller() -> Any:
    """The process's threadpoolctl controller, created once (it scans the loaded libraries)."""
    global _controller, _controller_ready  # noqa: PLW0603 - one scan per process, shared by all models
    with _controller_lock:
        if not _controller_ready:
            try:
                from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - optional dependency
            except ImportError:
                _controller = None
            else:
                _controller = ThreadpoolController()
            _controller_ready = True
        return _controller


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the body with numpy's BLAS limited to the calling thread."""
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
