"""Create in the browser: each result rendered or played from the real worker's output, live
progress from the event stream, file uploads by picker and by drop, a failed job's error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from api.routers.studio import STATIC
from tests.media_samples import mp4_bytes, png_bytes
from tests.providers.fakes import FakeFal
from tests.studio.support import Studio


@pytest.fixture(scope="module")
def person(studio: Studio) -> str:
    """A person who signed up and upgraded to professional on the Plan page (5,000 credits)."""
    studio.driver.delete_all_cookies()
    email = studio.sign_up()
    studio.go("plan")
    studio.heading("Plan")
    studio.click("Switch to professional")
    notice = studio.wait(lambda: "now on professional" in studio.css("#notice").text and studio.css("#notice"),
                         message="plan change notice")
    assert "5001 credits available" in notice.text
    return email


def generate(studio: Studio, mode: str, fields: dict[str, str], model: str | None = None,
             navigate: bool = True) -> WebElement:
    """Fill the mode's form, press Generate, wait for the job to end; the output section."""
    if navigate:
        studio.go(f"create/{mode}")
    for label, value in fields.items():
        studio.fill(label, value)
    if model:
        Select(studio.field("Model")).select_by_value(model)
    studio.click("Generate")
    output = studio.css("section.output")
    studio.wait(lambda: output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status")
                in ("completed", "failed", "aborted"), timeout=120, message=f"{mode} job to end")
    return output


def test_generate_an_image_and_see_it(studio: Studio, person, no_console_errors):
    output = generate(studio, "text_to_image", {"Prompt (required)": "a lighthouse at dusk, oil painting",
                                                "Seed": "7"})
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    assert "1 credit charged" in output.find_element(By.CSS_SELECTOR, ".status").text
    image = studio.wait(lambda: output.find_elements(By.CSS_SELECTOR, "img.result-image") or None)[0]
    studio.wait(lambda: studio.js("return arguments[0].complete && arguments[0].naturalWidth", image),
                message="image decoded")
    assert studio.js("return arguments[0].naturalWidth", image) == 1024
    assert image.get_attribute("alt") == "a lighthouse at dusk, oil painting"
    link = output.find_element(By.CSS_SELECTOR, "a.download")
    assert link.get_attribute("href").endswith("/content?download=1")


def test_progress_comes_from_the_event_stream(studio: Studio, person, no_console_errors):
    studio.go("create/music")
    studio.css("form[aria-label='Music form']")
    # Record every status the page shows while the job runs.
    studio.js("""window.seen = []; new MutationObserver(() => {
        const p = document.querySelector('section.output .progress');
        if (p) window.seen.push([p.dataset.status, p.querySelector('progress').value]);
      }).observe(document.getElementById('main'), {subtree: true, childList: true, attributes: true,
                                                  characterData: true});""")
    studio.fill("Prompt (required)", "calm piano, rainy evening")
    studio.fill("Length (seconds)", "8")
    studio.click("Generate")
    output = studio.css("section.output")
    studio.wait(lambda: output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed",
                timeout=120, message="music job")
    statuses = [status for status, _ in studio.js("return window.seen")]
    assert "running" in statuses and statuses[-1] == "completed"
    assert output.find_elements(By.TAG_NAME, "audio")


def play(studio: Studio, media: WebElement) -> dict:
    return studio.js_async("""const [media, done] = arguments;
        media.muted = true;
        media.play().then(() => done({playing: !media.paused, readyState: media.readyState,
                                      duration: media.duration}),
                          (error) => done({error: String(error)}));""", media)


def test_speak_with_a_sampled_voice_and_play_the_result(studio: Studio, person, no_console_errors):
    studio.go("create/audio")
    studio.css("form[aria-label='Speech form']")
    Select(studio.field("Voice")).select_by_value("news_anchor")
    sample = studio.css("audio.sample")
    assert sample.get_attribute("src").endswith("/studio/voices/news_anchor.mp3")
    studio.click("Play voice sample")
    studio.wait(lambda: studio.js("return arguments[0].currentTime > 0.2", sample), message="the sample plays")
    assert studio.js("return arguments[0].duration", sample) > 1
    output = generate(studio, "audio", {"Text to speak (required)": "Welcome to the studio."})
    audio = output.find_element(By.CSS_SELECTOR, "figure.asset audio")
    state = play(studio, audio)
    assert state.get("playing") and state["readyState"] >= 2 and state["duration"] > 0.5, state


def test_a_video_plays(studio: Studio, person, no_console_errors):
    output = generate(studio, "text_to_video", {"Prompt (required)": "stars over a calm sea", "Length (seconds)": "1"})
    assert "22 credits charged" in output.find_element(By.CSS_SELECTOR, ".status").text
    state = play(studio, output.find_element(By.CSS_SELECTOR, "figure.asset video"))
    assert state.get("playing") and state["readyState"] >= 2 and state["duration"] > 0.5, state
    video = output.find_element(By.CSS_SELECTOR, "figure.asset video")
    assert studio.js("return arguments[0].videoWidth", video) == 1280


def test_a_talking_picture_from_a_portrait_and_a_voice(studio: Studio, person, tmp_path: Path, no_console_errors):
    from PIL import Image, ImageDraw

    portrait = tmp_path / "portrait.png"
    picture = Image.new("RGB", (320, 400), (70, 110, 160))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((80, 80, 240, 300), fill=(225, 185, 155))
    draw.rounded_rectangle((135, 235, 185, 245), radius=4, fill=(170, 60, 60))
    picture.save(portrait)
    studio.go("create/image_to_video")
    studio.field("Portrait (required)").send_keys(str(portrait))
    studio.wait(lambda: "Uploaded portrait.png" in studio.css(".dropzone .chosen").text, message="upload")
    Select(studio.field("Voice")).select_by_value("casual_female")
    output = generate(studio, "image_to_video", {"Text to speak": "Hello there."}, navigate=False)
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    state = play(studio, output.find_element(By.CSS_SELECTOR, "figure.asset video"))
    assert state.get("playing") and state["readyState"] >= 2 and state["duration"] > 0.5, state


def test_image_to_image_from_a_chosen_file(studio: Studio, person, tmp_path: Path, no_console_errors):
    picture = tmp_path / "input.png"
    picture.write_bytes(png_bytes(320, 240))
    studio.go("create/image_to_image")
    studio.css("form[aria-label='Image from image form']")
    studio.field("Input image (required)").send_keys(str(picture))
    studio.wait(lambda: "Uploaded input.png" in studio.css(".dropzone .chosen").text, message="upload")
    output = generate(studio, "image_to_image", {"Prompt (required)": "in the style of a watercolour"},
                      navigate=False)
    image = output.find_element(By.CSS_SELECTOR, "img.result-image")
    studio.wait(lambda: studio.js("return arguments[0].complete && arguments[0].naturalWidth > 0", image),
                message="image decoded")


def test_transcription_of_a_dropped_file(studio: Studio, person, no_console_errors):
    studio.go("create/transcription")
    zone = studio.css(".dropzone")
    # A real drop event carrying a file (the Narrator's recorded sample), as a person's drag would.
    studio.js_async("""const [zone, done] = arguments;
        fetch('/studio/voices/narrator.mp3').then((r) => r.blob()).then((blob) => {
          const data = new DataTransfer();
          data.items.add(new File([blob], 'hello.mp3', {type: 'audio/mpeg'}));
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
          done();
        });""", zone)
    studio.wait(lambda: "Uploaded hello.mp3" in zone.text, message="dropped file uploaded")
    studio.click("Generate")
    output = studio.css("section.output")
    quote = studio.wait(lambda: output.find_elements(By.CSS_SELECTOR, ".transcript blockquote") or None,
                        timeout=120, message="transcript")[0]
    # The recogniser's English model hears the synthetic voice imperfectly: some words, and done.
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    assert quote.text.strip() and quote.text != "(no speech recognised)"


@pytest.fixture
def failing_upstream(stack_env):
    """fal configured, refusing every submission (422): its jobs fail with fal's message."""
    from tests.conftest import _reset_caches
    from workers.providers import registry

    with FakeFal() as fal:
        fal.submit_error = 422
        env = {"ATELIER_FAL_KEY": fal.key, "ATELIER_FAL_QUEUE_URL": fal.base_url}
        os.environ.update(env)
        _reset_caches()
        registry.reset()
        try:
            yield fal
        finally:
            for name in env:
                os.environ.pop(name, None)
            _reset_caches()
            registry.reset()


def test_a_failed_job_shows_its_error(studio: Studio, person, failing_upstream, no_console_errors):
    studio.driver.refresh()  # the model list is read once per page load
    output = generate(studio, "text_to_image", {"Prompt (required)": "x"}, model="fal-ai/flux/dev")
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "failed"
    alert = output.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "UPSTREAM_REJECTED" in alert.text and "Field required" in alert.text
    assert failing_upstream.key not in alert.text
    studio.click("Job details")
    studio.heading("x")
    assert "UPSTREAM_REJECTED" in studio.css("#main [role=alert]").text
    assert "Charged\n0" in studio.css("#main").text


def test_the_voice_samples_are_speech_of_a_few_seconds():
    from shared.media.probe import probe

    for sample in (STATIC / "voices").glob("*.mp3"):
        info = probe(sample, "audio")
        assert info.content_type == "audio/mpeg" and 2.0 < (info.duration_seconds or 0) < 8.0, sample.name


def test_an_upscaled_image_in_a_chosen_style(studio: Studio, person, no_console_errors):
    studio.go("create/text_to_image")
    Select(studio.field("Size")).select_by_value("512x512")
    Select(studio.field("Style")).select_by_value("vivid")
    Select(studio.field("Upscale")).select_by_value("4x")
    output = generate(studio, "text_to_image", {"Prompt (required)": "a red kite over green hills"}, navigate=False)
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    assert "1 credit charged" in output.find_element(By.CSS_SELECTOR, ".status").text
    image = output.find_element(By.CSS_SELECTOR, "img.result-image")
    studio.wait(lambda: studio.js("return arguments[0].complete && arguments[0].naturalWidth", image),
                message="image decoded")
    assert studio.js("return arguments[0].naturalWidth", image) == 2048
    job_id = output.find_element(By.LINK_TEXT, "Job details").get_attribute("href").rsplit("/", 1)[-1]
    job = studio.js_async("fetch('/v1/jobs/' + arguments[0]).then((r) => r.json()).then(arguments[1])", job_id)
    # Chosen options are sent; those left at their default (quality, n) are not.
    assert job["inputs"]["style"] == "vivid" and job["inputs"]["upscale"] == "4x", job["inputs"]
    assert "quality" not in job["inputs"], job["inputs"]


def test_music_from_an_uploaded_recording_plays(studio: Studio, person, no_console_errors):
    studio.go("create/audio_to_audio")
    studio.css("form[aria-label='Music from audio form']")
    studio.field("Input audio (required)").send_keys(str(STATIC / "voices" / "narrator.mp3"))
    studio.wait(lambda: "Uploaded narrator.mp3" in studio.css(".dropzone .chosen").text, message="upload")
    output = generate(studio, "audio_to_audio", {"Prompt (required)": "warm strings and soft drums",
                                                 "Strength": "0.7"}, navigate=False)
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    state = play(studio, output.find_element(By.CSS_SELECTOR, "figure.asset audio"))
    assert state.get("playing") and state["readyState"] >= 2 and state["duration"] > 1, state


def test_raw_pcm_speech_is_offered_as_a_download(studio: Studio, person, no_console_errors):
    studio.go("create/audio")
    Select(studio.field("Audio format")).select_by_value("pcm")
    output = generate(studio, "audio", {"Text to speak (required)": "Raw samples.", "Speed": "1.5"}, navigate=False)
    figure = output.find_element(By.CSS_SELECTOR, "figure.asset")
    assert not figure.find_elements(By.TAG_NAME, "audio")
    assert "download it" in figure.text and "audio/pcm" in figure.text
    assert figure.find_element(By.CSS_SELECTOR, "a.download").get_attribute("href").endswith("/content?download=1")


def test_video_from_an_uploaded_video_plays(studio: Studio, person, tmp_path: Path, no_console_errors):
    source = tmp_path / "clip.mp4"
    source.write_bytes(mp4_bytes(seconds=1.0, size=(320, 240)))
    studio.go("create/video_to_video")
    studio.css("form[aria-label='Video from video form']")
    studio.field("Input video (required)").send_keys(str(source))
    studio.wait(lambda: "Uploaded clip.mp4" in studio.css(".dropzone .chosen").text, message="upload")
    Select(studio.field("Resolution")).select_by_value("480p")
    output = generate(studio, "video_to_video", {"Prompt (required)": "as a pencil sketch"}, navigate=False)
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    video = output.find_element(By.CSS_SELECTOR, "figure.asset video")
    state = play(studio, video)
    assert state.get("playing") and state["readyState"] >= 2 and state["duration"] > 0.5, state
    assert studio.js("return arguments[0].videoHeight", video) == 480


def test_a_picture_without_a_voice_is_a_camera_move(studio: Studio, person, tmp_path: Path, no_console_errors):
    picture = tmp_path / "landscape.png"
    picture.write_bytes(png_bytes(320, 240))
    studio.go("create/image_to_video")
    studio.field("Portrait (required)").send_keys(str(picture))
    studio.wait(lambda: "Uploaded landscape.png" in studio.css(".dropzone .chosen").text, message="upload")
    Select(studio.field("Resolution")).select_by_value("480p")
    studio.field("Loop seamlessly").click()
    output = generate(studio, "image_to_video", {"Length without a voice (seconds)": "2"}, navigate=False)
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    assert "44 credits charged" in output.find_element(By.CSS_SELECTOR, ".status").text
    state = play(studio, output.find_element(By.CSS_SELECTOR, "figure.asset video"))
    assert state.get("playing") and 1.5 < state["duration"] < 2.5, state


def test_image_to_image_changes_only_under_a_mask(studio: Studio, person, tmp_path: Path, no_console_errors):
    from PIL import Image

    picture, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    picture.write_bytes(png_bytes(320, 240))
    holes = Image.new("RGBA", (320, 240), (0, 0, 0, 255))
    holes.paste((0, 0, 0, 0), (0, 0, 160, 240))  # the left half may change
    holes.save(mask)
    studio.go("create/image_to_image")
    studio.field("Input image (required)").send_keys(str(picture))
    studio.field("Mask").send_keys(str(mask))
    studio.wait(lambda: all(f"Uploaded {name}" in studio.css("#main").text for name in ("photo.png", "mask.png")),
                message="both uploads")
    output = generate(studio, "image_to_image", {"Prompt (required)": "a field of sunflowers"}, navigate=False)
    assert output.find_element(By.CSS_SELECTOR, ".progress").get_attribute("data-status") == "completed"
    image = output.find_element(By.CSS_SELECTOR, "img.result-image")
    studio.wait(lambda: studio.js("return arguments[0].complete && arguments[0].naturalWidth", image),
                message="image decoded")
    # The masked right half keeps the input's colour; the transparent left half was repainted.
    left, right = studio.js("""const img = arguments[0], c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return [[...g.getImageData(40, 120, 1, 1).data], [...g.getImageData(280, 120, 1, 1).data]];""", image)
    assert right[:3] == [200, 80, 40] and left[:3] != [200, 80, 40], (left, right)
