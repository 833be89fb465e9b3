"""The analyser as Home Assistant runs it, without Home Assistant, for scripts/measure_lag.py.

A route's source goes through the real stream loop with the bundled model, and each reading through
the coordinator's own held readings (HeldReadings), by the stream loop's delay plan:
a positive delay holds it that long after the moment its audio is heard (for a source that knows
play times, a Sendspin player) or after it was made; a negative one advances it against a known
play time (not before it was made). What a reading's release time is compared with is each route's
business.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from homeassistant.core import HomeAssistant  # noqa: E402

from custom_components.music_mood.held_readings import HeldReadings  # noqa: E402
from custom_components.music_mood.music_mood_core.delay import DelayPlan, Lateness  # noqa: E402
from custom_components.music_mood.music_mood_core.model import MoodModel  # noqa: E402
from custom_components.music_mood.music_mood_core.pcm_source import PcmSource  # noqa: E402
from custom_components.music_mood.music_mood_core.raw_pcm_source import (  # noqa: E402
    PcmByteSource,
)
from custom_components.music_mood.music_mood_core.stream_loop import (  # noqa: E402
    MoodReading,
    StreamLoop,
    StreamSettings,
)


@dataclass(frozen=True, slots=True)
class Release:
    """A reading, when the stream loop made it and when entities would see it (monotonic s)."""

    reading: MoodReading
    made_at: float
    released_at: float


class HeldReleases:
    """The coordinator's held readings (the integration's own HeldReadings, on a Home Assistant
    core that is never started: it only needs the loop's clock and timers), noting when each
    reading was made and when entities would see it."""

    def __init__(
        self,
        folder: Path,
        hop_s: float,
        heard_in_s: Callable[[int], float | None] | None = None,
    ) -> None:
        self._hass = HomeAssistant(str(folder))
        self._heard_in_s = heard_in_s
        # The stream loop's plan for its source (set by analyser_loop).
        self.plan: Callable[[], DelayPlan] | None = None
        self._held = HeldReadings(self._hass, self._current_plan, lambda: hop_s, self._released)
        self._made_at: dict[int, float] = {}
        self.releases: list[Release] = []

    @property
    def lateness(self) -> Lateness:
        return self._held.lateness

    def _current_plan(self) -> DelayPlan:
        assert self.plan is not None, "analyser_loop sets the plan"
        return self.plan()

    def on_reading(self, reading: MoodReading) -> None:
        self._made_at[reading.end_sample] = time.monotonic()
        heard_in_s = None if self._heard_in_s is None else self._heard_in_s(reading.end_sample)
        self._held.push(reading, heard_in_s)

    def _released(self, reading: MoodReading) -> None:
        made_at = self._made_at.pop(reading.end_sample)
        self.releases.append(Release(reading, made_at, time.monotonic()))

    async def async_close(self) -> None:
        self._held.cancel()
        await self._hass.async_stop(force=True)


class FixedModel:
    """The stream loop's model provider for one loaded model."""

    def __init__(self, model: MoodModel) -> None:
        self.model = model

    async def async_model(self) -> MoodModel:
        return self.model

    def report_failure(self, message: str) -> None:
        raise RuntimeError(message)

    def confirm_working(self) -> None:
        return None


def analyser_loop(
    source_name: str,
    resolve: Callable[[], Awaitable[PcmSource]],
    delay_s: float,
    model: MoodModel,
    releases: HeldReleases,
) -> StreamLoop:
    """The stream loop with the options' defaults, except smoothing (off: raw readings); its delay
    plan is the one ``releases`` follows."""
    loop = StreamLoop(
        name="lag",
        source_name=source_name,
        settings=StreamSettings(
            smoothing_s=0.0, silence_threshold_db=-60.0, silence_duration_s=1.0,
            stall_timeout_s=10.0, probe_timeout_s=15.0, backoff_min_s=1.0, backoff_max_s=1.0,
            delay_s=delay_s,
        ),
        models=FixedModel(model),
        resolve_source=resolve,
        run_blocking=asyncio.to_thread,
        on_reading=releases.on_reading,
        on_status=lambda: None,
    )  # fmt: skip
    releases.plan = lambda: loop.delay_plan
    return loop


class RecordingByteSource:
    """A raw-PCM byte source that keeps what it delivered (to find where the music starts)."""

    def __init__(self, inner: PcmByteSource) -> None:
        self.inner = inner
        self.delivered = bytearray()

    @property
    def description(self) -> str:
        return self.inner.description

    @property
    def received_bytes(self) -> int:
        return self.inner.received_bytes

    @property
    def is_live(self) -> bool:
        return self.inner.is_live

    async def open(self) -> None:
        await self.inner.open()

    async def read(self, max_bytes: int) -> bytes:
        data = await self.inner.read(max_bytes)
        self.delivered += data
        return data

    def notify_on_arrival(self, callback: Callable[[], None]) -> Callable[[], None]:
        return self.inner.notify_on_arrival(callback)

    def close(self) -> None:
        self.inner.close()


def start(command: list[str], *, talk: bool = False) -> subprocess.Popen[bytes]:
    """A helper process; with ``talk`` its stdin and stdout are pipes, else closed and discarded."""
    pipe = subprocess.PIPE if talk else subprocess.DEVNULL
    return subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=subprocess.DEVNULL)
