"""A camera entity whose stream URL the test chooses, set up through Home Assistant's camera."""

from __future__ import annotations

from homeassistant.components.camera import DOMAIN as CAMERA_DOMAIN
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import setup_test_component_platform


class StreamCamera(Camera):
    """A camera whose stream is whatever URL the test gives it (None: no stream yet)."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, name: str, url: str | None) -> None:
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"test_camera_{name.lower()}"
        self.url = url

    async def stream_source(self) -> str | None:
        return self.url

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        return None


async def async_setup_camera(hass: HomeAssistant, camera: StreamCamera) -> str:
    setup_test_component_platform(hass, CAMERA_DOMAIN, [camera])
    assert await async_setup_component(hass, CAMERA_DOMAIN, {CAMERA_DOMAIN: {"platform": "test"}})
    await hass.async_block_till_done()
    assert camera.entity_id is not None
    assert hass.states.get(camera.entity_id) is not None
    return camera.entity_id
