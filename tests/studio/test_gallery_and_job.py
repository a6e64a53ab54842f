"""Gallery (filter by mode, media shown and playable, delete) and job detail (parameters,
credits, webhook deliveries, redeliver). Jobs are made through the API with the person's
session, as the Create page would."""

from __future__ import annotations

import time

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from shared.jobs.modes import MODE_NAMES
from tests.studio.support import Studio
from tests.webhooks.conftest import make_receiver, receiver  # noqa: F401 (fixtures)
from tests.webhooks.support import Receiver


class Session:
    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=90)

    def job(self, **body) -> dict:
        created = self.http.post("/v1/jobs", json=body)
        assert created.status_code == 202, created.text
        done = self.http.get(f"/v1/jobs/{created.json()['id']}", params={"wait": 60}).json()
        assert done["status"] == "completed", done
        return done


@pytest.fixture
def person(studio: Studio) -> Session:
    studio.driver.delete_all_cookies()
    studio.sign_up()
    session = Session(studio.base_url, studio.cookie("atelier_session"))
    assert session.http.post("/v1/account/plan", json={"plan": "starter"}).status_code == 200
    return session


def test_gallery_shows_filters_plays_and_deletes(studio: Studio, person: Session, no_console_errors):
    image = person.job(mode="text_to_image", prompt="a quiet harbour at dawn")
    speech = person.job(mode="audio", voice_text="The gallery plays this.")
    studio.go("gallery")
    cards = studio.wait(lambda: len(studio.driver.find_elements(By.CSS_SELECTOR, "li.job-card")) == 2
                        and studio.driver.find_elements(By.CSS_SELECTOR, "li.job-card"), message="two cards")
    assert [c.get_attribute("data-job-id") for c in cards] == [speech["id"], image["id"]]  # newest first
    img = studio.css(f"li[data-job-id='{image['id']}'] img")
    studio.wait(lambda: studio.js("return arguments[0].complete && arguments[0].naturalWidth > 0", img),
                message="gallery image decoded")

    Select(studio.field("Mode")).select_by_visible_text("Speech")
    studio.wait(lambda: [c.get_attribute("data-job-id") for c in
                         studio.driver.find_elements(By.CSS_SELECTOR, "li.job-card")] == [speech["id"]],
                message="filtered to speech")
    assert studio.driver.current_url.endswith("#/gallery/audio/completed")
    audio = studio.css("li.job-card audio")
    state = studio.js_async("""const [audio, done] = arguments; audio.muted = true;
        audio.play().then(() => done({readyState: audio.readyState, duration: audio.duration}),
                          (e) => done({error: String(e)}));""", audio)
    assert state.get("readyState", 0) >= 2 and state["duration"] > 0.5, state

    studio.click("Delete The gallery plays this.")
    studio.accept_confirm()
    studio.wait(lambda: not studio.driver.find_elements(By.CSS_SELECTOR, "li.job-card"), message="card removed")
    assert person.http.get(f"/v1/jobs/{speech['id']}").status_code == 404


def test_the_mode_filter_offers_every_mode(studio: Studio, person: Session, no_console_errors):
    studio.go("gallery")
    mode = Select(studio.field("Mode"))
    values = [o.get_attribute("value") for o in mode.options]
    assert values[0] == "" and sorted(values[1:]) == sorted(MODE_NAMES)
    mode.select_by_visible_text("Video from video")
    studio.wait(lambda: studio.driver.current_url.endswith("#/gallery/video_to_video/completed"),
                message="filtered to video from video")


def test_job_detail_with_webhook_deliveries_and_redelivery(studio: Studio, person: Session,
                                                           receiver: Receiver, no_console_errors):  # noqa: F811
    job = person.job(mode="text_to_image", prompt="a lantern", seed=11, webhook_url=receiver.url)
    deadline = time.monotonic() + 30
    while not person.http.get(f"/v1/jobs/{job['id']}/webhook-deliveries").json()["data"]:
        assert time.monotonic() < deadline, "no delivery recorded"
        time.sleep(0.2)
    studio.go(f"job/{job['id']}")
    studio.heading("a lantern")
    text = studio.css("#main").text
    assert "seed\n11" in text and "Charged\n1" in text and receiver.url in text
    rows = studio.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='deliveries-title'] tbody tr")
    assert rows and "job.completed" in rows[0].text and "200" in rows[0].text
    img = studio.css("img.result-image")
    studio.wait(lambda: studio.js("return arguments[0].naturalWidth > 0", img), message="result shown")

    studio.click("Redeliver the last event")
    studio.wait(lambda: "queued for delivery again" in studio.css("#notice").text, message="redelivered")
    studio.wait(lambda: len(receiver.requests) >= 2, message="the receiver got the event again")
