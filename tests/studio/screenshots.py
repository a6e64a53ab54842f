"""Screenshots of every Studio page for docs/studio/, taken from the real stack.

    python -m tests.studio.screenshots          # writes docs/studio/*.png

It runs as a pytest session (this file, given explicitly, so the suite never collects it) to
reuse the suite's fixtures: PostgreSQL, Redis, a real worker and the API under uvicorn. A
person signs up, picks a plan and generates a few things; each page is then captured at
desktop width (Create for several modes), and Home, Create and Keys at 375 px too. The one secret on screen, the new
key, is masked before its page is captured.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.studio.support import Studio, set_viewport

OUT = Path(__file__).resolve().parents[2] / "docs" / "studio"
DESKTOP, PHONE = 1280, 375


def capture(studio: Studio, name: str, width: int) -> None:
    set_viewport(studio.driver, width, 800, mobile=width < 600)
    studio.wait(lambda: studio.js("return !document.getElementById('main').hasAttribute('aria-busy')"))
    studio.js("document.activeElement && document.activeElement.blur()")
    height = studio.js("return Math.min(4000, document.documentElement.scrollHeight)")
    set_viewport(studio.driver, width, height, mobile=width < 600)
    studio.wait(lambda: studio.js("return [...document.images].every((i) => i.complete)"), message="images")
    OUT.mkdir(parents=True, exist_ok=True)
    studio.driver.save_screenshot(str(OUT / f"{name}-{width}.png"))


def make_jobs(studio: Studio) -> None:
    api = httpx.Client(base_url=studio.base_url, timeout=120,
                       headers={"Authorization": f"Bearer {studio.cookie('atelier_session')}"})
    for body in ({"mode": "text_to_image", "prompt": "a lighthouse on a cliff at dusk, oil painting", "seed": 3},
                 {"mode": "text_to_image", "prompt": "a city skyline at night under the stars", "seed": 5},
                 {"mode": "audio", "voice_text": "Welcome to Atelier Studio.", "voice_id": "news_anchor"},
                 {"mode": "music", "prompt": "calm piano, rainy evening", "duration_seconds": 12}):
        job = api.post("/v1/jobs", json=body).json()
        api.get(f"/v1/jobs/{job['id']}", params={"wait": 60})


def test_screenshots(studio: Studio) -> None:
    studio.driver.delete_all_cookies()
    studio.open("signup")
    studio.heading("Create your Atelier account")
    capture(studio, "signup", DESKTOP)
    set_viewport(studio.driver, DESKTOP, 900)
    studio.sign_up()
    studio.go("plan")
    studio.click("Switch to professional")  # 120 requests a minute: every picture loads at once
    studio.wait(lambda: "now on professional" in studio.css("#notice").text)
    studio.js("document.getElementById('notice').textContent = ''")
    capture(studio, "plan", DESKTOP)
    make_jobs(studio)

    studio.go("create/text_to_image")
    studio.fill("Prompt (required)", "a lighthouse at dusk, oil painting")
    studio.click("Generate")
    studio.css("section.output img.result-image", timeout=120)
    for width in (DESKTOP, PHONE):
        capture(studio, "create", width)
    for mode, name in (("audio", "create-audio"), ("audio_to_audio", "create-audio-to-audio"),
                       ("text_to_video", "create-video"), ("video_to_video", "create-video-to-video")):
        studio.go(f"create/{mode}")
        capture(studio, name, DESKTOP)
    for width in (DESKTOP, PHONE):
        studio.go("home")
        studio.css(".stat")
        capture(studio, "home", width)
    studio.go("gallery//")  # every mode, every status
    capture(studio, "gallery", DESKTOP)
    studio.go("gallery")
    studio.click(studio.css("li.job-card h2 a").text)
    studio.css("section[aria-labelledby='deliveries-title']")
    capture(studio, "job", DESKTOP)

    studio.go("keys")
    studio.fill("Name", "laptop")
    studio.click("Create key")
    studio.css("section.secret")
    studio.js("""for (const el of document.querySelectorAll('.new-key, .curl')) {
        el.value = el.value.replace(/(at_live_[A-Za-z0-9_-]+)\\.[A-Za-z0-9_-]+/g, '$1.••••••••••••••••');
        el.textContent = el.value; }""")
    for width in (DESKTOP, PHONE):
        capture(studio, "keys", width)
    studio.go("settings")
    capture(studio, "settings", DESKTOP)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider", "-p", "no:logging", *sys.argv[1:]]))
