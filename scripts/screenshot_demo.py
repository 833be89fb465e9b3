"""Takes docs/screenshot.png of a running demo (``bash scripts/demo.sh``) with headless Chromium.

Not part of the integration or its tests. It finishes onboarding through Home Assistant's REST API
(when the demo is fresh), logs the browser in with the resulting tokens, saves a small "Music Mood"
dashboard (the analyser's entities, a history graph of valence and arousal, gauges, the Kitchen
Lights coloured by the mood), lets the music play a while and takes the picture.

    bash scripts/demo.sh &                      # wait until it says "Home Assistant is up"
    pip install playwright                      # any venv; it drives an installed Chromium
    python scripts/screenshot_demo.py --chromium /usr/bin/chromium

On a demo that is already onboarded, pass the user's --username and --password instead.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "screenshot.png"
DEMO_LIGHT = "light.kitchen_lights"
# Flags that keep a headless Chromium from phoning home or needing a GPU inside containers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def post(url: str, payload: dict[str, Any], token: str | None = None, form: bool = False) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if form:
        body = urllib.parse.urlencode(payload).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    # main() accepts only http(s) base URLs, so no file: or custom scheme reaches urlopen.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def onboard_or_log_in(
    base_url: str, client_id: str, username: str, password: str
) -> dict[str, Any]:
    """Returns tokens: onboards a fresh demo with this user, or logs in to an onboarded one."""
    try:
        code = post(
            f"{base_url}/api/onboarding/users",
            {
                "client_id": client_id,
                "name": username.title(),
                "username": username,
                "password": password,
                "language": "en",
            },
        )["auth_code"]
    except urllib.error.HTTPError as error:
        if error.code not in (403, 404):  # 403: user step done; 404: onboarding finished
            raise
        code = log_in(base_url, client_id, username, password)
    tokens: dict[str, Any] = post(
        f"{base_url}/auth/token",
        {"grant_type": "authorization_code", "code": code, "client_id": client_id},
        form=True,
    )
    access = tokens["access_token"]
    for step, payload in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"}),
    ):
        try:
            post(f"{base_url}/api/onboarding/{step}", payload, token=access)
        except urllib.error.HTTPError as error:
            if error.code not in (403, 404):  # this step, or all of onboarding, is done
                raise
    return tokens


def log_in(base_url: str, client_id: str, username: str, password: str) -> str:
    flow = post(
        f"{base_url}/auth/login_flow",
        {"client_id": client_id, "handler": ["homeassistant", None], "redirect_uri": client_id},
    )
    result = post(
        f"{base_url}/auth/login_flow/{flow['flow_id']}",
        {"client_id": client_id, "username": username, "password": password},
    )
    if result.get("type") != "create_entry":
        raise SystemExit(f"logging in as {username!r} failed: {result.get('errors')}")
    return str(result["result"])


def dashboard(prefix: str) -> dict[str, Any]:
    valence, arousal = f"sensor.{prefix}_valence", f"sensor.{prefix}_arousal"
    gauge = {
        "type": "gauge",
        "min": -1,
        "max": 1,
        "needle": True,
        "segments": [{"from": -1, "color": "#4a6fa5"}, {"from": 0, "color": "#e0a030"}],
    }
    return {
        "title": "Music Mood",
        "views": [
            {
                "title": "Music Mood",
                "path": "music-mood",
                "cards": [
                    {
                        "type": "entities",
                        "title": "Music Mood: Demo analyser",
                        "entities": [
                            f"sensor.{prefix}_mood",
                            valence,
                            arousal,
                            f"binary_sensor.{prefix}_music_playing",
                            f"sensor.{prefix}_analyser_status",
                            f"switch.{prefix}_mood_lighting",
                        ],
                    },
                    {
                        "type": "horizontal-stack",
                        "cards": [
                            {**gauge, "entity": valence, "name": "Valence"},
                            {**gauge, "entity": arousal, "name": "Arousal"},
                        ],
                    },
                    {
                        "type": "history-graph",
                        "title": "Valence and arousal",
                        "hours_to_show": 0.05,
                        "entities": [valence, arousal],
                    },
                    {
                        "type": "light",
                        "entity": DEMO_LIGHT,
                        "name": "Kitchen Lights (mood lighting)",
                    },
                ],
            }
        ],
    }


def log_browser_in(page: Page, base_url: str, client_id: str, tokens: dict[str, Any]) -> None:
    stored = {
        "access_token": tokens["access_token"],
        "token_type": "Bearer",
        "expires_in": tokens["expires_in"],
        "refresh_token": tokens["refresh_token"],
        "hassUrl": base_url,
        "clientId": client_id,
        "expires": int(time.time() * 1000) + int(tokens["expires_in"]) * 1000,
    }
    # Before any page script runs, so the frontend finds the tokens instead of redirecting to login.
    page.add_init_script(
        f"if (location.origin === {json.dumps(base_url)}) "
        f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))});"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://localhost:8123")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument(
        "--entity-prefix", default="demo", help="object id prefix of the analyser's entities"
    )
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds of music before the picture"
    )
    parser.add_argument(
        "--height", type=int, default=540, help="pixels of the page to keep, from the top"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args()

    base_url = arguments.url.rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        parser.error(f"--url must be an http(s) URL, not {arguments.url!r}")
    client_id = f"{base_url}/"
    tokens = onboard_or_log_in(base_url, client_id, arguments.username, arguments.password)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=arguments.chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            log_browser_in(page, base_url, client_id, tokens)
            page.goto(f"{base_url}/")
            page.wait_for_function(
                "() => document.querySelector('home-assistant')?.hass?.connected"
            )
            page.evaluate(
                "config => document.querySelector('home-assistant').hass.callWS("
                "{type: 'lovelace/config/save', config})",
                dashboard(arguments.entity_prefix),
            )
            time.sleep(arguments.settle)
            page.goto(f"{base_url}/lovelace/music-mood")
            page.wait_for_selector("hui-history-graph-card", state="attached", timeout=60_000)
            time.sleep(5)  # cards render asynchronously after the view element appears
            arguments.output.parent.mkdir(parents=True, exist_ok=True)
            # The cards fill the top of the view; the clip leaves out the empty rest of the page.
            page.screenshot(
                path=str(arguments.output),
                clip={"x": 0, "y": 0, "width": 1280, "height": arguments.height},
            )
        finally:
            browser.close()
    print(f"wrote {arguments.output}")


if __name__ == "__main__":
    main()
