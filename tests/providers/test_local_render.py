"""Unit tests of the offline renderer: real outputs, decoded and measured."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from shared.media.probe import probe
from shared.media.voices import VOICES, estimate_speech_seconds
from workers.providers.base import GenerationFailed, GenerationRequest, InputFile, JobAborted
from workers.providers.local import LocalProvider


class FakeContext:
    """Records progress; raises ``JobAborted`` from the ``abort_at``-th progress call on."""

    def __init__(self, workdir: Path, abort_at: int | None = None) -> None:
        self.workdir = workdir
        self.abort_at = abort_at
        self.reports: list[float] = []

    def progress(self, percent: float) -> None:
        self.reports.append(percent)
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if self.abort_at is not None and len(self.reports) >= self.abort_at:
            raise JobAborted()


def generate(tmp_path: Path, mode: str, prompt: str | None = None, params: dict | None = None,
             inputs: dict[str, InputFile] | None = None, ctx: FakeContext | None = None):
    ctx = ctx or FakeContext(tmp_path / "work")
    request = GenerationRequest("job_test", mode, "local/test", "test", prompt, params or {}, inputs or {})
    return LocalProvider().generate(request, ctx)


def image_input(path: Path) -> InputFile:
    return InputFile("image", "ast_img", "image", "image/jpeg", path)


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simple face: skin oval, eyes, red lips, on a blue backdrop (640×800 JPEG)."""
    image = Image.new("RGB", (640, 800), (70, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((160, 160, 480, 600), fill=(225, 185, 155))
    draw.ellipse((240, 300, 290, 335), fill=(40, 40, 40))
    draw.ellipse((350, 300, 400, 335), fill=(40, 40, 40))
    draw.rounded_rectangle((270, 470, 370, 490), radius=8, fill=(170, 60, 60))
    path = tmp_path_factory.mktemp("inputs") / "portrait.jpg"
    image.save(path, quality=90)
    return path


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples and rate of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                  for out in resampler.resample(frame)]
    return np.concatenate(chunks), rate


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def median_pitch(samples: np.ndarray, rate: int) -> float:
    """Median autocorrelation pitch (60–400 Hz) over the loud 40 ms frames."""
    size = int(rate * 0.04)
    pitches = []
    threshold = rms(samples) * 0.8
    for start in range(0, samples.size - size, size):
        frame = samples[start:start + size]
        if rms(frame) < threshold:
            continue
        frame = frame - frame.mean()
        corr = np.correlate(frame, frame, "full")[size - 1:]
        lo, hi = rate // 400, rate // 60
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.3 * corr[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


def onsets_per_second(samples: np.ndarray, rate: int) -> float:
    """How often the loudness jumps by more than 4 dB from one 12 ms frame to the next."""
    size = 512
    frames = samples[: samples.size // size * size].reshape(-1, size)
    level = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-4)
    rise = np.diff(level) > 4
    return float((rise[1:] & ~rise[:-1]).sum()) / (samples.size / rate)


def spectral_flux(samples: np.ndarray) -> float:
    """Mean positive change of the log spectrum between frames: how much keeps changing."""
    size, hop = 1024, 512
    frames = np.lib.stride_tricks.sliding_window_view(samples, size)[::hop] * np.hanning(size)
    spectrum = np.log1p(np.abs(np.fft.rfft(frames, axis=1)))
    return float(np.maximum(np.diff(spectrum, axis=0), 0).mean())


def high_band_share(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    return float(spectrum[freqs > 5000].sum() / spectrum.sum())


def video_streams(path: Path) -> dict:
    with av.open(str(path)) as container:
        info = {"duration": container.duration / av.time_base, "video": None, "audio": None}
        if container.streams.video:
            stream = container.streams.video[0]
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
            info["video"] = {"codec": stream.codec_context.name, "width": stream.codec_context.width,
                             "height": stream.codec_context.height, "fps": float(stream.average_rate),
                             "frames": frames}
    with av.open(str(path)) as container:
        if container.streams.audio:
            info["audio"] = {"codec": container.streams.audio[0].codec_context.name}
    return info


# text_to_image -----------------------------------------------------------------------------------


def test_text_to_image_writes_n_pngs_of_the_requested_size(tmp_path: Path) -> None:
    outputs = generate(tmp_path, "text_to_image", "snowy mountains at sunset",
                       {"n": 2, "size": "512x512", "seed": 1})
    assert len(outputs) == 2
    for output in outputs:
        assert (output.content_type, output.kind) == ("image/png", "image")
        with Image.open(output.path) as image:
            assert image.format == "PNG" and image.size == (512, 512)
    wide = generate(tmp_path / "wide", "text_to_image", "city skyline", {"n": 1, "size": "1792x1024", "seed": 1})
    with Image.open(wide[0].path) as image:
        assert image.size == (1792, 1024)


def test_text_to_image_is_deterministic_per_prompt_and_seed(tmp_path: Path) -> None:
    params = {"n": 1, "size": "512x512", "seed": 7}
    first = generate(tmp_path / "a", "text_to_image", "a lighthouse by the ocean", params)[0].path.read_bytes()
    again = generate(tmp_path / "b", "text_to_image", "a lighthouse by the ocean", params)[0].path.read_bytes()
    other_seed = generate(tmp_path / "c", "text_to_image", "a lighthouse by the ocean",
                          {**params, "seed": 8})[0].path.read_bytes()
    assert first == again
    assert first != other_seed


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def test_different_prompts_give_visibly_different_images(tmp_path: Path) -> None:
    prompts = ["snowy mountains at sunset", "neon city skyline at night", "a ringed planet in deep space",
               "abstract geometric poster in red and blue", "calm ocean at dawn", "psychedelic marble flow"]
    images = [_pixels(generate(tmp_path / str(i), "text_to_image", p, {"size": "512x512", "seed": 3})[0].path)
              for i, p in enumerate(prompts)]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            difference = float(np.abs(images[i] - images[j]).mean())
            assert difference > 15, (prompts[i], prompts[j], difference)


def test_images_are_pictures_not_noise(tmp_path: Path) -> None:
    for i, prompt in enumerate(["forest lake with birds", "a cat on a sofa", "geometric bauhaus shapes"]):
        pixels = _pixels(generate(tmp_path / str(i), "text_to_image", prompt, {"size": "512x512", "seed": 5})[0].path)
        neighbour_step = float(np.abs(np.diff(pixels, axis=1)).mean())
        assert neighbour_step < 6, prompt  # white noise would be ~85
        assert float(pixels.std()) > 15, prompt  # not a flat fill


def test_negative_prompt_changes_the_picture(tmp_path: Path) -> None:
    params = {"size": "512x512", "seed": 2}
    plain = generate(tmp_path / "a", "text_to_image", "red sunset over the sea", params)[0].path.read_bytes()
    without = generate(tmp_path / "b", "text_to_image", "red sunset over the sea",
                       {**params, "negative_prompt": "sun, red, clouds"})[0].path.read_bytes()
    assert plain != without


# image_to_image ----------------------------------------------------------------------------------


def test_image_to_image_keeps_aspect_and_follows_prompt(tmp_path: Path, portrait: Path) -> None:
    inputs = {"image": image_input(portrait)}
    sketch = generate(tmp_path / "a", "image_to_image", "pencil sketch", {"strength": 0.8, "seed": 1}, inputs)
    neon = generate(tmp_path / "b", "image_to_image", "neon cyberpunk glow", {"strength": 0.8, "seed": 1}, inputs)
    assert sketch[0].content_type == "image/png"
    a, b = _pixels(sketch[0].path), _pixels(neon[0].path)
    assert a.shape[:2] == (800, 640)  # 640×800 in, aspect kept
    assert float(np.abs(a - b).mean()) > 20
    again = generate(tmp_path / "c", "image_to_image", "pencil sketch", {"strength": 0.8, "seed": 1}, inputs)
    assert again[0].path.read_bytes() == sketch[0].path.read_bytes()


def test_image_to_image_strength_scales_the_change(tmp_path: Path, portrait: Path) -> None:
    with Image.open(portrait) as image:
        original = np.asarray(image.convert("RGB"), dtype=np.float32)
    changes = []
    for strength in (0.0, 0.3, 1.0):
        out = generate(tmp_path / str(strength), "image_to_image", "vintage sepia photo",
                       {"strength": strength, "seed": 4}, {"image": image_input(portrait)})
        changes.append(float(np.abs(_pixels(out[0].path) - original).mean()))
    assert changes[0] < 3
    assert changes[0] < changes[1] < changes[2]


def test_image_to_image_caps_the_long_side(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("RGB", (2400, 1200), (200, 120, 40)).save(big)
    out = generate(tmp_path, "image_to_image", "watercolor", {"seed": 1}, {"image": image_input(big)})
    with Image.open(out[0].path) as image:
        assert image.size == (1024, 512)


def test_undecodable_input_image_fails_the_job(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"<html>not an image</html>")
    with pytest.raises(GenerationFailed):
        generate(tmp_path, "image_to_image", "sketch", {"seed": 1}, {"image": image_input(bad)})


# audio -------------------------------------------------------------------------------------------

SPEECH = "Welcome to Atelier. This sentence is spoken by a real speech synthesizer."


def test_audio_is_real_speech_of_plausible_length(tmp_path: Path) -> None:
    outputs = generate(tmp_path, "audio", None, {"voice_text": SPEECH, "voice_id": "narrator"})
    assert (outputs[0].content_type, outputs[0].kind) == ("audio/mpeg", "audio")
    samples, rate = decode_audio(outputs[0].path)
    seconds = samples.size / rate
    estimate = estimate_speech_seconds(SPEECH, "narrator")
    assert 0.5 * estimate < seconds <= estimate
    assert abs(probe(outputs[0].path, "audio").duration_seconds - seconds) < 0.15
    assert rms(samples) > 0.05


def test_audio_wav_output(tmp_path: Path) -> None:
    outputs = generate(tmp_path, "audio", None, {"voice_text": "Short and sweet.", "output_format": "wav"})
    assert outputs[0].content_type == "audio/wav"
    assert outputs[0].path.read_bytes()[8:12] == b"WAVE"
    samples, _ = decode_audio(outputs[0].path)
    assert rms(samples) > 0.05


def test_voices_sound_different(tmp_path: Path) -> None:
    measured = {}
    for voice_id in VOICES:
        out = generate(tmp_path / voice_id, "audio", None, {"voice_text": SPEECH, "voice_id": voice_id,
                                                             "output_format": "wav"})
        samples, rate = decode_audio(out[0].path)
        measured[voice_id] = (samples.size / rate, median_pitch(samples, rate))
        assert measured[voice_id][0] <= estimate_speech_seconds(SPEECH, voice_id)
    assert measured["casual_female"][1] > 1.3 * measured["casual_male"][1]
    assert measured["news_anchor"][1] > 1.3 * measured["narrator"][1]
    assert measured["narrator"][0] > measured["news_anchor"][0] * 1.1  # narrator speaks slower
    pairs = [(a, b) for a in measured for b in measured if a < b]
    for a, b in pairs:
        duration_gap = abs(measured[a][0] - measured[b][0]) / measured[a][0]
        pitch_gap = abs(measured[a][1] - measured[b][1]) / measured[a][1]
        assert max(duration_gap, pitch_gap) > 0.05, (a, b, measured)


def test_speech_is_repeatable_in_length(tmp_path: Path) -> None:
    params = {"voice_text": "Same words, same length.", "voice_id": "casual_male"}
    first, _ = decode_audio(generate(tmp_path / "a", "audio", None, params)[0].path)
    second, _ = decode_audio(generate(tmp_path / "b", "audio", None, params)[0].path)
    assert abs(first.size - second.size) <= 0.01 * first.size


def _speech_length(text: str) -> int:
    from workers.providers.local.speech import synthesize

    samples, _ = synthesize(text, "news_anchor")
    return int(samples.size)


def test_speech_works_in_forked_children() -> None:
    """As in a Celery prefork pool: the parent has used espeak, children keep working alike."""
    text = "Forked workers speak too."
    parent = _speech_length(text)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        children = pool.map(_speech_length, [text] * 4)
    assert all(abs(child - parent) <= 0.01 * parent for child in children), (parent, children)


# music -------------------------------------------------------------------------------------------


def test_music_has_the_requested_duration_and_character(tmp_path: Path) -> None:
    measured = {}
    for prompt in ("calm piano", "fast drums"):
        out = generate(tmp_path / prompt, "music", prompt, {"duration_seconds": 6, "seed": 1})
        assert (out[0].content_type, out[0].kind) == ("audio/mpeg", "audio")
        samples, rate = decode_audio(out[0].path)
        assert abs(samples.size / rate - 6) < 0.3
        assert abs(probe(out[0].path, "audio").duration_seconds - 6) < 0.3
        assert rms(samples) > 0.05
        measured[prompt] = (onsets_per_second(samples, rate), spectral_flux(samples),
                            high_band_share(samples, rate))
    calm, fast = measured["calm piano"], measured["fast drums"]
    assert fast[0] > 1.5 * calm[0], measured  # more attacks per second
    assert fast[1] > 2 * calm[1], measured  # a busier spectrum
    assert fast[2] > 3 * calm[2], measured  # hats and snares: far more energy above 5 kHz


def test_music_wav_and_determinism(tmp_path: Path) -> None:
    params = {"duration_seconds": 2, "seed": 9, "output_format": "wav"}
    first = generate(tmp_path / "a", "music", "happy ukulele", params)
    assert first[0].content_type == "audio/wav"
    samples, rate = decode_audio(first[0].path)
    assert abs(samples.size / rate - 2) < 0.01
    assert generate(tmp_path / "b", "music", "happy ukulele", params)[0].path.read_bytes() == \
        first[0].path.read_bytes()


# video -------------------------------------------------------------------------------------------


def test_image_to_video_with_voice_text(tmp_path: Path, portrait: Path) -> None:
    text = "Hello there. Nice to meet you."
    out = generate(tmp_path, "image_to_video", None, {"voice_text": text, "voice_id": "casual_female"},
                   {"image": image_input(portrait)})
    assert (out[0].content_type, out[0].kind) == ("video/mp4", "video")
    info = video_streams(out[0].path)
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    width, height = info["video"]["width"], info["video"]["height"]
    assert width % 2 == 0 and height % 2 == 0
    assert (width, height) == (720, 900)  # 640×800 fitted to 720 wide (portrait 720p box: 720×1280)
    assert info["video"]["fps"] in (24, 25)
    voice = generate(tmp_path / "voice", "audio", None, {"voice_text": text, "voice_id": "casual_female",
                                                         "output_format": "wav"})
    voice_seconds = probe(voice[0].path, "audio").duration_seconds
    assert abs(info["duration"] - voice_seconds) < 0.15
    frames = info["video"]["frames"]
    assert float(np.abs(frames[0].astype(np.float32) - frames[-1]).mean()) > 0.5  # it moves


def test_image_to_video_with_uploaded_audio(tmp_path: Path, portrait: Path) -> None:
    upload = tmp_path / "voice.ogg"
    with av.open(str(upload), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000, layout="mono")
        t = np.arange(48000 * 2) / 48000
        tone = (0.4 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    audio = InputFile("audio", "ast_aud", "audio", "audio/ogg", upload)
    out = generate(tmp_path, "image_to_video", None, {}, {"image": image_input(portrait), "audio": audio})
    info = video_streams(out[0].path)
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    assert abs(info["duration"] - 2.0) < 0.15


def test_text_to_video(tmp_path: Path) -> None:
    out = generate(tmp_path, "text_to_video", "mountains at sunset with birds", {"duration_seconds": 2, "seed": 1})
    assert (out[0].content_type, out[0].kind) == ("video/mp4", "video")
    info = video_streams(out[0].path)
    assert info["video"]["codec"] == "h264"
    assert (info["video"]["width"], info["video"]["height"]) == (1280, 720)
    assert info["audio"] is None
    assert abs(info["duration"] - 2.0) < 0.1
    frames = info["video"]["frames"]
    assert len(frames) == 48
    assert float(np.abs(frames[0].astype(np.float32) - frames[-1]).mean()) > 1.0


# cancellation and errors -------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "prompt", "params"), [
    ("text_to_image", "mountains", {"n": 4, "size": "512x512", "seed": 1}),
    ("music", "fast drums", {"duration_seconds": 47, "seed": 1}),
    ("text_to_video", "ocean", {"duration_seconds": 10, "seed": 1}),
    ("audio", None, {"voice_text": "One. Two. Three. Four. Five. Six."}),
])
def test_cancellation_stops_rendering(tmp_path: Path, mode: str, prompt: str | None, params: dict) -> None:
    ctx = FakeContext(tmp_path / "work", abort_at=2)
    with pytest.raises(JobAborted):
        generate(tmp_path, mode, prompt, params, ctx=ctx)
    assert len(ctx.reports) == 2  # nothing ran past the aborting report


def test_image_to_video_cancellation(tmp_path: Path, portrait: Path) -> None:
    ctx = FakeContext(tmp_path / "work", abort_at=3)
    with pytest.raises(JobAborted):
        generate(tmp_path, "image_to_video", None, {"voice_text": SPEECH * 3},
                 {"image": image_input(portrait)}, ctx=ctx)
    assert len(ctx.reports) == 3


def test_unknown_mode_fails(tmp_path: Path) -> None:
    with pytest.raises(GenerationFailed):
        generate(tmp_path, "hologram", "anything")


def test_png_bytes_are_valid(tmp_path: Path) -> None:
    out = generate(tmp_path, "text_to_image", "tiny check", {"size": "512x512", "seed": 1})
    Image.open(io.BytesIO(out[0].path.read_bytes())).verify()
