"""The Studio page is served from the package, and a person signs up, sees Home, logs out and in."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.studio.support import PASSWORD, Studio


def test_the_page_and_its_files_are_served_with_a_strict_policy(live_server):
    page = httpx.get(f"{live_server}/studio")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert '<script type="module" src="/studio/js/app.js">' in page.text
    for path, kind in (("/studio/", "text/html"), ("/studio/studio.css", "text/css"),
                       ("/studio/js/app.js", "javascript"), ("/studio/voices/narrator.mp3", "audio/mpeg")):
        response = httpx.get(f"{live_server}{path}")
        assert response.status_code == 200 and kind in response.headers["content-type"], path
        assert "content-security-policy" in response.headers
    missing = httpx.get(f"{live_server}/studio/nope.js")
    assert missing.status_code == 404


def test_the_page_is_not_in_the_api_document(client):
    assert not any(path.startswith("/studio") for path in client.get("/openapi.json").json()["paths"])


def test_sign_up_shows_home_with_balance_plan_and_usage_chart(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    email = studio.sign_up()
    assert studio.cookie("atelier_session") and studio.cookie("atelier_csrf")
    assert studio.css("#who-email").text == email
    studio.css(".stat")
    stats = {el.find_element(By.TAG_NAME, "dt").text: el.find_element(By.CSS_SELECTOR, ".big").text
             for el in studio.driver.find_elements(By.CSS_SELECTOR, ".stat")}
    assert stats["Credits available"] == "1" and stats["Plan"] == "free"
    chart = studio.css("svg.chart")
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar")) == 30
    assert "0 in total" in chart.get_attribute("aria-label")
    assert "No closed periods yet" in studio.css("#main").text


def test_log_out_and_log_in_again(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    email = studio.sign_up()
    studio.click("Log out")
    studio.heading("Log in to Atelier")
    assert studio.cookie("atelier_session") is None and studio.cookie("atelier_csrf") is None
    studio.fill("Email", email)
    studio.fill("Password", PASSWORD)
    studio.click("Log in")
    studio.heading("Home")
    assert studio.css("#who-email").text == email


def test_an_api_error_is_shown_to_the_person(studio: Studio):
    studio.driver.delete_all_cookies()
    email = studio.sign_up()
    studio.click("Log out")
    studio.heading("Log in to Atelier")
    studio.console_errors()
    studio.fill("Email", email)
    studio.fill("Password", "not the password at all")
    studio.click("Log in")
    alert = studio.css("[role=alert]")
    assert "UNAUTHENTICATED" in alert.text and "email or password" in alert.text.lower()
    # The browser reports the failed request itself; nothing else may have gone wrong.
    assert studio.console_errors(allow=("status of 401",)) == []


def test_keyboard_reaches_the_navigation_and_focus_is_visible(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    studio.css(".stat")  # Home has loaded
    studio.js("document.querySelector('.skip').focus()")
    skip = studio.driver.switch_to.active_element
    assert skip.text == "Skip to content" and skip.rect["x"] >= 0  # shown when focused
    texts = []
    for _ in range(3):
        studio.driver.switch_to.active_element.send_keys(Keys.TAB)
        texts.append(studio.driver.switch_to.active_element.text)
    assert texts == ["Atelier Studio", "Home", "Create"]
    assert studio.js("return getComputedStyle(document.activeElement).outlineStyle") == "solid"
    studio.driver.switch_to.active_element.send_keys(Keys.ENTER)
    studio.heading("Create")
    assert studio.driver.switch_to.active_element.text == "Create"  # focus moved to the new page's heading


def test_every_studio_file_ships_in_the_package_and_every_voice_has_a_sample():
    import fnmatch
    import tomllib
    from pathlib import Path

    from api.routers.studio import STATIC
    from shared.media.voices import VOICE_IDS

    root = STATIC.parent
    patterns = tomllib.loads((root.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["api"]
    files = [p.relative_to(root).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    assert files and all(any(fnmatch.fnmatch(f, pattern) for pattern in patterns) for f in files), files
    assert {Path(f).stem for f in files if f.startswith("studio/voices/")} == set(VOICE_IDS)


def test_with_s3_the_policy_lets_media_follow_the_presigned_redirect():
    """Content answers 302 to a presigned URL on the storage's origin: img/audio/video may load it."""
    from api.routers.studio import security_headers
    from shared.settings import Settings

    minio = Settings(storage="s3", s3_endpoint_url="http://minio:9000/")  # type: ignore[call-arg]
    policy = security_headers(minio)["Content-Security-Policy"]
    assert "img-src 'self' blob: data: http://minio:9000;" in policy
    assert "media-src 'self' blob: data: http://minio:9000;" in policy
    assert "connect-src 'self';" in policy  # scripts still talk to this origin only
    aws = security_headers(Settings(storage="s3"))["Content-Security-Policy"]  # type: ignore[call-arg]
    assert "media-src 'self' blob: data: https://*.amazonaws.com;" in aws
    local = security_headers(Settings(storage="local"))["Content-Security-Policy"]  # type: ignore[call-arg]
    assert "img-src 'self' blob: data:;" in local
