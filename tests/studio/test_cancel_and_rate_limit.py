"""Cancelling a running job from its page, and a page that meets the plan's rate limit
waiting for Retry-After instead of failing."""

from __future__ import annotations

import httpx

from tests.studio.support import Studio


def bearer(studio: Studio) -> httpx.Client:
    return httpx.Client(base_url=studio.base_url, timeout=30,
                        headers={"Authorization": f"Bearer {studio.cookie('atelier_session')}"})


def test_cancel_a_running_job_from_its_page(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    api = bearer(studio)
    assert api.post("/v1/account/plan", json={"plan": "professional"}).status_code == 200
    job = api.post("/v1/jobs", json={"mode": "text_to_video", "prompt": "a long slow sunrise",
                                     "duration_seconds": 10}).json()
    studio.go(f"job/{job['id']}")
    studio.heading("a long slow sunrise")
    studio.click("Cancel job")
    panel = studio.css(".progress")
    studio.wait(lambda: panel.get_attribute("data-status") == "aborted", timeout=60, message="aborted")
    assert "Cancelled" in panel.text
    assert api.get(f"/v1/jobs/{job['id']}").json()["credits_charged"] == 0


def test_a_page_over_the_rate_limit_waits_and_then_loads(studio: Studio):
    studio.driver.delete_all_cookies()
    studio.sign_up()  # free: 10 requests a minute for the person's session
    api = bearer(studio)
    while api.get("/v1/account").status_code != 429:
        pass
    studio.console_errors()
    studio.js("location.hash = '#/gallery'")  # its first request is refused: it waits, then loads
    studio.wait(lambda: "Rate limit reached: retrying in" in studio.css("#notice").text, message="notice")
    studio.wait(lambda: "Nothing here yet" in studio.css("#main").text, timeout=75, message="gallery after the wait")
    assert studio.js("return document.getElementById('notice').textContent") == ""  # the notice is gone
    # Only the refused requests themselves are reported by the browser.
    assert studio.console_errors(allow=("status of 429",)) == []
