"""Settings (webhook secret, alerts), plan changes, and every page checked for labels, names,
contrast and fit at 375 px and at desktop width."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.studio.support import AUDIT_JS, Studio, set_viewport

PAGES = ["home", "create/text_to_image", "create/image_to_image", "create/image_to_video", "create/text_to_video",
         "create/video_to_video", "create/audio", "create/audio_to_audio", "gallery", "keys", "plan", "settings"]


def session_client(studio: Studio) -> httpx.Client:
    return httpx.Client(base_url=studio.base_url,
                        headers={"Authorization": f"Bearer {studio.cookie('atelier_session')}"})


def test_webhook_secret_reveal_and_rotate(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    api = session_client(studio)
    assert api.post("/v1/account/plan", json={"plan": "professional"}).status_code == 200  # 120 requests/min
    studio.go("settings")
    secret = studio.field("Signing secret")
    assert secret.get_attribute("value") == "Hidden: press Reveal secret"
    studio.click("Reveal secret")
    studio.wait(lambda: secret.get_attribute("value").startswith("whsec_"), message="revealed")
    assert secret.get_attribute("value") == api.get("/v1/account/webhook-secret").json()["secret"]
    before = secret.get_attribute("value")
    studio.click("Rotate secret")
    studio.accept_confirm()
    studio.wait(lambda: secret.get_attribute("value") != before, message="rotated")
    assert secret.get_attribute("value") == api.get("/v1/account/webhook-secret").json()["secret"]
    assert "previous secret also signs until" in studio.css("#main").text
    studio.go("settings")  # the audit log lists the rotation
    rows = [row.text for row in studio.driver.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert any("webhook_secret.rotated" in row for row in rows), rows


def test_alerts_are_saved_and_a_bad_value_is_explained(studio: Studio):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    studio.go("settings")
    studio.console_errors()
    studio.fill("Alert webhook URL", "http://127.0.0.1:9/hooks/atelier")
    studio.fill("Thresholds (percent)", "80, 50")
    studio.click("Save alerts")
    studio.wait(lambda: "Alerts saved." in studio.css("#notice").text, message="saved")
    saved = session_client(studio).get("/v1/account/alerts").json()
    assert saved["webhook_url"] == "http://127.0.0.1:9/hooks/atelier" and saved["thresholds_percent"] == [50, 80]
    studio.fill("Thresholds (percent)", "5000")
    studio.click("Save alerts")
    alert = studio.css("form [role=alert]")
    assert "VALIDATION_ERROR" in alert.text and "thresholds_percent" in alert.text
    assert studio.console_errors(allow=("status of 400",)) == []


def test_upgrade_now_downgrade_at_period_end(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    studio.go("plan")
    studio.click("Switch to professional")
    studio.wait(lambda: studio.css("li.plan.current").get_attribute("data-plan") == "professional",
                message="upgraded")
    studio.click("Switch to starter")
    studio.wait(lambda: "starts at the end of this period" in studio.css("#notice").text, message="scheduled")
    assert "Starts" in studio.css("li[data-plan=starter]").text
    assert studio.css("li.plan.current").get_attribute("data-plan") == "professional"
    assert "Set up by an operator" in studio.css("li[data-plan=enterprise]").text
    studio.go("home")
    studio.css(".stat")
    assert "changes to starter at period end" in studio.css(".stats").text


@pytest.mark.parametrize("width", [375, 1280])
def test_every_page_is_labelled_legible_and_fits(studio: Studio, width: int, no_console_errors):
    studio.driver.delete_all_cookies()
    set_viewport(studio.driver, width, 900, mobile=width < 600)
    try:
        studio.open("signup")
        studio.heading("Create your Atelier account")
        problems = {"signup": studio.js(AUDIT_JS)}
        studio.sign_up()
        # Eight pages in a row: more than the free plan's 10 requests a minute.
        assert session_client(studio).post("/v1/account/plan", json={"plan": "professional"}).status_code == 200
        for route in PAGES:
            studio.go(route)
            problems[route] = studio.js(AUDIT_JS)
        studio.go("keys")
        studio.click("Create key")
        studio.css("section.secret")
        problems["keys with a new key"] = studio.js(AUDIT_JS)
        studio.click("Log out")
        studio.heading("Log in to Atelier")
        problems["login"] = studio.js(AUDIT_JS)
        assert {route: found for route, found in problems.items() if found} == {}
    finally:
        studio.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
