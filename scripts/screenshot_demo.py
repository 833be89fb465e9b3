"""Takes docs/screenshot.png of a running demo (``bash scripts/demo.sh``) with headless Chromium.

Not part of the integration or its tests. It finishes onboarding through Home Assistant's REST
API (when the demo is fresh), logs the browser in with the resulting tokens, opens the start
page, checks that it is the demo's seeded "Music Mood" dashboard (demo/seed.py: the analyser's
entities, valence/arousal gauges and history, the mood's history, the Kitchen Lights coloured by the
mood), lets the music play a while and takes the picture.

    bash scripts/demo.sh &                      # wait until it says "Home Assistant is up"
    pip install playwright                      # any venv; it drives Debian's Chromium
    python scripts/screenshot_demo.py           # apt-get installs chromium first if it is missing

On a demo that is already onboarded, pass the user's --username and --password instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "screenshot.png"
DASHBOARD_VIEW_PATH = "/lovelace/music-mood"  # the seeded dashboard's only view (demo/seed.py)
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


def ensure_chromium(executable: str) -> str:
    """The Chromium to drive: ``executable``, installed with apt-get (as root) when missing."""
    if shutil.which(executable):
        return executable
    apt_get = shutil.which("apt-get")
    if executable != "/usr/bin/chromium" or apt_get is None or os.geteuid() != 0:
        raise SystemExit(
            f"no Chromium at {executable}: install Debian's 'chromium' package "
            "(or pass --chromium PATH)"
        )
    print("installing Debian's chromium with apt-get", file=sys.stderr)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt_get, "update", "-qq"], check=True, env=environment)
    subprocess.run(
        [apt_get, "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    return executable


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
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds of music before the picture"
    )
    parser.add_argument(
        "--height", type=int, default=640, help="pixels of the page to keep, from the top"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args()

    base_url = arguments.url.rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        parser.error(f"--url must be an http(s) URL, not {arguments.url!r}")
    client_id = f"{base_url}/"
    chromium = ensure_chromium(arguments.chromium)
    tokens = onboard_or_log_in(base_url, client_id, arguments.username, arguments.password)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            log_browser_in(page, base_url, client_id, tokens)
            time.sleep(arguments.settle)
            # Where a user lands: the start page must be the seeded dashboard, not the overview.
            page.goto(f"{base_url}/")
            page.wait_for_selector("hui-history-graph-card", state="attached", timeout=120_000)
            landed = urllib.parse.urlsplit(page.url).path
            if landed != DASHBOARD_VIEW_PATH:
                raise SystemExit(f"the start page is {landed}, not the Music Mood dashboard")
            print(f"the start page is the Music Mood dashboard ({landed})")
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
