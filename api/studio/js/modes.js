// The form of each mode: the fields of POST /v1/jobs (API.md, "Jobs"; shared/jobs/modes.py), in
// the order shown. kind: text | textarea | number | select | checkbox | file | voice. A file field
// uploads to POST /v1/assets first and sends the asset id under `name`. A field left blank, at
// its `value`, on a select's `blank` option or unticked is left out of the request, so the
// server's default applies. `onlyWith` / `onlyWithout` send a field only when another one is
// (not) given.

const seed = { name: 'seed', label: 'Seed', kind: 'number', min: 0, max: 4294967295, step: 1,
  hint: 'Optional: the same seed and prompt give the same result.' };
const prompt = (hint) => ({ name: 'prompt', label: 'Prompt', kind: 'textarea', maxlength: 500, required: true, hint });
const format = { name: 'output_format', label: 'Audio format', kind: 'select', blank: 'mp3 (default)',
  options: ['wav', 'opus', 'aac', 'flac', 'pcm'],
  hint: 'pcm is raw 16-bit 24 kHz samples: the browser cannot play it, only download it.' };
const leaveOut = (hint) => ({ name: 'negative_prompt', label: 'Leave out', kind: 'text', maxlength: 500, hint });
const strength = (value) => ({ name: 'strength', label: 'Strength', kind: 'number', min: 0, max: 1, step: 0.05, value,
  hint: '0 keeps the input, 1 changes it the most.' });
const resolution = (blank) => ({ name: 'resolution', label: 'Resolution', kind: 'select', blank,
  options: ['480p', '720p', '1080p'].filter((r) => !blank.startsWith(r)) });
const fps = (value, hint) => ({ name: 'fps', label: 'Frames per second', kind: 'number', min: 8, max: 30, step: 1,
  value, hint });
const ratios = ['16:9', '9:16', '1:1', '4:3', '3:4'];
const loop = { name: 'loop', label: 'Loop seamlessly', kind: 'checkbox', hint: 'The last frame leads back to the first.' };

export const MODES = [
  { id: 'text_to_image', label: 'Image from text', output: 'image', fields: [
    prompt('Describe the picture (up to 500 characters).'),
    leaveOut('Optional: what the picture should not show.'),
    { name: 'size', label: 'Size', kind: 'select', blank: '1024x1024 (default)', options: ['512x512', '1792x1024', '1024x1792'] },
    { name: 'n', label: 'Number of images', kind: 'number', min: 1, max: 4, step: 1, value: 1 },
    { name: 'style', label: 'Style', kind: 'select', blank: 'None (default)', options: ['vivid', 'natural'],
      hint: 'vivid: more saturated and contrasted; natural: subdued.' },
    { name: 'quality', label: 'Quality', kind: 'select', blank: 'standard (default)', options: ['low', 'hd'],
      hint: 'low renders at half resolution; hd supersamples.' },
    { name: 'upscale', label: 'Upscale', kind: 'select', blank: 'No (default)', options: ['2x', '4x'],
      hint: 'Each image enlarged after rendering, at no extra price.' },
    seed] },
  { id: 'image_to_image', label: 'Image from image', output: 'image', fields: [
    { name: 'input_image_asset_id', label: 'Input image', kind: 'file', accept: 'image/*', asset: 'image', required: true },
    prompt('How to change the picture.'),
    { name: 'mask_asset_id', label: 'Mask', kind: 'file', accept: 'image/png', asset: 'image',
      hint: 'Optional: a PNG the size of the input image; only its transparent pixels change.' },
    strength(0.6),
    seed] },
  { id: 'audio', label: 'Speech', output: 'audio', fields: [
    { name: 'voice_text', label: 'Text to speak', kind: 'textarea', maxlength: 500, required: true },
    { name: 'voice_id', label: 'Voice', kind: 'voice' },
    { name: 'speed', label: 'Speed', kind: 'number', min: 0.25, max: 4, step: 0.05, value: 1,
      hint: 'Times the voice\'s own pace, 0.25 to 4.' },
    format] },
  { id: 'music', label: 'Music', output: 'audio', fields: [
    prompt('Mood, instruments, tempo: "calm piano, rainy evening".'),
    leaveOut('Optional: instruments to leave out (drums, piano, guitar, strings, synth, bass…).'),
    { name: 'duration_seconds', label: 'Length (seconds)', kind: 'number', min: 1, max: 47, step: 1, value: 30 },
    seed, format] },
  { id: 'audio_to_audio', label: 'Music from audio', output: 'audio', fields: [
    { name: 'input_audio_asset_id', label: 'Input audio', kind: 'file', accept: 'audio/*', asset: 'audio', required: true,
      hint: 'A recording to accompany, in its key and following its melody.' },
    prompt('The accompaniment: "warm strings and soft drums".'),
    strength(0.5),
    leaveOut('Optional: instruments to leave out (drums, piano, guitar, strings, synth, bass…).'),
    { name: 'duration_seconds', label: 'Length (seconds)', kind: 'number', min: 1, max: 47, step: 1,
      hint: 'Optional: by default the input\'s length (at most 47 s).' },
    format, seed] },
  { id: 'image_to_video', label: 'Talking picture', output: 'video', fields: [
    { name: 'input_image_asset_id', label: 'Portrait', kind: 'file', accept: 'image/*', asset: 'image', required: true },
    { name: 'voice_text', label: 'Text to speak', kind: 'textarea', maxlength: 500,
      hint: 'Give a text to speak or an audio file below; with neither, the camera moves over the picture.' },
    { name: 'voice_id', label: 'Voice', kind: 'voice', onlyWith: 'voice_text' },
    { name: 'audio_asset_id', label: 'Or an audio file', kind: 'file', accept: 'audio/*', asset: 'audio' },
    { name: 'duration_seconds', label: 'Length without a voice (seconds)', kind: 'number', min: 1, max: 10, step: 1,
      value: 5, onlyWithout: ['voice_text', 'audio_asset_id'], hint: 'A talking clip lasts as long as its voice.' },
    { name: 'prompt', label: 'Prompt', kind: 'textarea', maxlength: 500, hint: 'Optional.' },
    resolution('720p (default)'), fps(25),
    { name: 'aspect_ratio', label: 'Aspect ratio', kind: 'select', blank: 'The picture\'s own (default)', options: ratios },
    loop, seed] },
  { id: 'text_to_video', label: 'Video from text', output: 'video', fields: [
    prompt('Describe the scene.'),
    leaveOut('Optional: scene elements to leave out (sun, moon, stars, clouds, birds, water, rain, snow…).'),
    { name: 'duration_seconds', label: 'Length (seconds)', kind: 'number', min: 1, max: 10, step: 1, value: 5 },
    resolution('720p (default)'), fps(24),
    { name: 'aspect_ratio', label: 'Aspect ratio', kind: 'select', blank: '16:9 (default)', options: ratios.slice(1) },
    loop, seed] },
  { id: 'video_to_video', label: 'Video from video', output: 'video', fields: [
    { name: 'input_video_asset_id', label: 'Input video', kind: 'file', accept: 'video/*', asset: 'video', required: true,
      hint: 'Each frame is restyled; its sound is kept.' },
    prompt('How to restyle the video.'),
    strength(0.6),
    { name: 'duration_seconds', label: 'Length (seconds)', kind: 'number', min: 1, max: 10, step: 1,
      hint: 'Optional: by default the input\'s length (at most 10 s).' },
    resolution('The input\'s own (default)'),
    fps(undefined, 'Optional: by default the input\'s (at most 30).'),
    seed] },
  { id: 'transcription', label: 'Transcription', output: 'text', fields: [
    { name: 'audio_asset_id', label: 'Audio to transcribe', kind: 'file', accept: 'audio/*', asset: 'audio',
      required: true, hint: 'English speech, up to 5 minutes.' }] },
];

export function modeById(id) {
  return MODES.find((mode) => mode.id === id) || MODES[0];
}

// Prices as API.md states them, to tell the person what a job will cost before they submit.
export const PRICE_NOTES = {
  text_to_image: '1 credit per image.',
  image_to_image: '1 credit per image.',
  audio: '1 credit per started 10 s of voice.',
  music: '1 credit per started 10 s.',
  audio_to_audio: '1 credit per started 10 s.',
  image_to_video: '22 credits per started second of video, plus 1 per 10 s of generated voice.',
  text_to_video: '22 credits per started second of video.',
  video_to_video: '22 credits per started second of video.',
  transcription: '1 credit per started minute of audio.',
};
