// The form of each mode: the fields of POST /v1/jobs (API.md, "Jobs"), in the order shown.
// kind: text | textarea | number | select | file | voice. A file field uploads to POST
// /v1/assets first and sends the asset id under `name`.

const seed = { name: 'seed', label: 'Seed', kind: 'number', min: 0, max: 4294967295, step: 1,
  hint: 'Optional: the same seed and prompt give the same result.' };
const prompt = (hint) => ({ name: 'prompt', label: 'Prompt', kind: 'textarea', maxlength: 500, required: true, hint });
const format = { name: 'output_format', label: 'Audio format', kind: 'select', options: ['mp3', 'wav'] };

export const MODES = [
  { id: 'text_to_image', label: 'Image from text', output: 'image', fields: [
    prompt('Describe the picture (up to 500 characters).'),
    { name: 'negative_prompt', label: 'Leave out', kind: 'text', maxlength: 500, hint: 'Optional: what the picture should not show.' },
    { name: 'size', label: 'Size', kind: 'select', options: ['1024x1024', '512x512', '1792x1024', '1024x1792'] },
    { name: 'n', label: 'Number of images', kind: 'number', min: 1, max: 4, step: 1, value: 1 },
    seed] },
  { id: 'image_to_image', label: 'Image from image', output: 'image', fields: [
    { name: 'input_image_asset_id', label: 'Input image', kind: 'file', accept: 'image/*', asset: 'image', required: true },
    prompt('How to change the picture.'),
    { name: 'strength', label: 'Strength', kind: 'number', min: 0, max: 1, step: 0.05, value: 0.6,
      hint: '0 keeps the input, 1 changes it the most.' },
    seed] },
  { id: 'audio', label: 'Speech', output: 'audio', fields: [
    { name: 'voice_text', label: 'Text to speak', kind: 'textarea', maxlength: 500, required: true },
    { name: 'voice_id', label: 'Voice', kind: 'voice' },
    format] },
  { id: 'music', label: 'Music', output: 'audio', fields: [
    prompt('Mood, instruments, tempo: "calm piano, rainy evening".'),
    { name: 'duration_seconds', label: 'Length (seconds)', kind: 'number', min: 1, max: 47, step: 1, value: 30 },
    seed, format] },
  { id: 'image_to_video', label: 'Talking picture', output: 'video', fields: [
    { name: 'input_image_asset_id', label: 'Portrait', kind: 'file', accept: 'image/*', asset: 'image', required: true },
    { name: 'voice_text', label: 'Text to speak', kind: 'textarea', maxlength: 500,
      hint: 'Give a text to speak, or an audio file below (one of the two).' },
    { name: 'voice_id', label: 'Voice', kind: 'voice', onlyWith: 'voice_text' },
    { name: 'audio_asset_id', label: 'Or an audio file', kind: 'file', accept: 'audio/*', asset: 'audio' },
    { name: 'prompt', label: 'Prompt', kind: 'textarea', maxlength: 500, hint: 'Optional.' },
    seed] },
  { id: 'text_to_video', label: 'Video from text', output: 'video', fields: [
    prompt('Describe the scene.'),
    { name: 'duration_seconds', label: 'Length (seconds)', kind: 'number', min: 1, max: 10, step: 1, value: 5 },
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
  image_to_video: '22 credits per started second of video, plus 1 per 10 s of generated voice.',
  text_to_video: '22 credits per started second of video.',
  transcription: '1 credit per started minute of audio.',
};
