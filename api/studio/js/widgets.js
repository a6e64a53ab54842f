// Form controls of the Create page: a file drop that uploads to POST /v1/assets, and a voice
// picker (GET /v1/voices) with a recorded sample of each voice.

import { upload } from './api.js';
import { errorBox, h, nextId } from './dom.js';

function describeFile(file) {
  return `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`;
}

// A labelled file input inside a drop zone. The file is uploaded as soon as it is chosen or
// dropped; `value()` resolves to the asset id (or null when no file was given).
export function fileDrop(def) {
  const id = nextId('file');
  const input = h('input', { type: 'file', id, name: def.name, accept: def.accept, class: 'file-input' });
  const chosen = h('p', { class: 'chosen', 'aria-live': 'polite' }, 'No file chosen.');
  const preview = h('div', { class: 'preview' });
  const problem = h('div');
  const zone = h('div', { class: 'dropzone' }, input,
    h('p', { class: 'hint', id: `${id}-hint` }, `Drop a file here, or choose one. ${def.hint || ''}`), chosen, preview);
  input.setAttribute('aria-describedby', `${id}-hint`);
  let pending = Promise.resolve(null);

  function take(file) {
    problem.replaceChildren();
    preview.replaceChildren();
    chosen.textContent = `Uploading ${describeFile(file)}…`;
    if (file.type.startsWith('image/')) {
      preview.append(h('img', { src: URL.createObjectURL(file), alt: `Preview of ${file.name}` }));
    }
    pending = upload(def.asset, file).then((asset) => {
      chosen.textContent = `Uploaded ${describeFile(file)}.`;
      zone.dataset.assetId = asset.id;
      return asset.id;
    }, (error) => {
      chosen.textContent = `${file.name} was not uploaded.`;
      problem.replaceChildren(errorBox(error));
      throw error;
    });
    pending.catch(() => {});
  }

  input.addEventListener('change', () => { if (input.files[0]) take(input.files[0]); });
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const file = event.dataTransfer.files[0];
    if (file) take(file);
  });
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, def.label, def.required ? ' (required)' : ''),
    zone, problem);
  wrapper.value = () => pending;
  return wrapper;
}

// Voice select with a sample: the built-in voices were recorded once into /studio/voices/.
export function voicePicker(def, voices) {
  const id = nextId('voice');
  const select = h('select', { id, name: def.name },
    voices.map((voice) => h('option', { value: voice.id, selected: voice.id === 'narrator' },
      `${voice.name} — ${voice.description}`)));
  const sample = h('audio', { preload: 'none', controls: true, class: 'sample',
    'aria-label': 'Sample of the selected voice' });
  const setSample = () => { sample.src = `/studio/voices/${select.value}.mp3`; };
  setSample();
  select.addEventListener('change', setSample);
  const button = h('button', { type: 'button', class: 'quiet' }, 'Play voice sample');
  button.addEventListener('click', () => { sample.currentTime = 0; sample.play().catch(() => {}); });
  const wrapper = h('div', { class: 'field voice' }, h('label', { for: id }, def.label), select,
    h('div', { class: 'sample-row' }, button, sample),
    h('p', { class: 'hint' }, 'Samples are the built-in voices; upstream models sound different.'));
  wrapper.value = () => Promise.resolve(select.value);
  return wrapper;
}
