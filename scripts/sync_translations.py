"""Write translations/en.json from strings.json, as Home Assistant core's script does.

Custom integrations ship translations/en.json; strings.json is the source we edit. The two are kept
equal (a test checks it), so run this after editing strings.json.
"""

from __future__ import annotations

import json
from pathlib import Path

INTEGRATION = Path(__file__).resolve().parents[1] / "custom_components" / "music_mood"


def main() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    target = INTEGRATION / "translations" / "en.json"
    target.write_text(json.dumps(strings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
