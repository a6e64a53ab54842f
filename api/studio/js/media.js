// Results on the page: images shown, audio and video playable, transcripts as text, each with
// a download link. Media load from GET /v1/assets/{id}/content with the session cookie.

import { api, contentUrl } from './api.js';
import { h } from './dom.js';

function describe(asset) {
  const parts = [asset.content_type];
  if (asset.width && asset.height) parts.push(`${asset.width}×${asset.height}`);
  if (asset.duration_seconds) parts.push(`${asset.duration_seconds.toFixed(1)} s`);
  parts.push(`${Math.max(1, Math.round(asset.bytes / 1024))} KB`);
  return parts.join(' · ');
}

function transcript(asset) {
  const box = h('div', { class: 'transcript' }, h('p', { class: 'hint' }, 'Loading the transcript…'));
  api(contentUrl(asset.id)).then((data) => {
    const doc = typeof data === 'string' ? JSON.parse(data) : data;
    box.replaceChildren(h('blockquote', {}, doc.text || '(no speech recognised)'),
      doc.segments && doc.segments.length ? h('details', {}, h('summary', {}, 'Segments'),
        h('ol', {}, doc.segments.map((s) => h('li', {}, `${s.start.toFixed(2)}–${s.end.toFixed(2)} s: ${s.text}`))))
        : null);
  }, (error) => box.replaceChildren(h('p', { role: 'alert', class: 'error' }, error.message)));
  return box;
}

// Each media load is a request that counts toward the plan's per-minute rate limit: images
// load lazily (when scrolled into view) and are tried once more after a refusal; audio and
// video load only when played.
const RETRY_MS = 20000;

function image(src, asset, label) {
  const img = h('img', { src, alt: label, width: asset.width, height: asset.height, loading: 'lazy',
    decoding: 'async', class: 'result-image' });
  img.addEventListener('error', () => {
    if (img.dataset.retried) return;
    img.dataset.retried = 'yes';
    setTimeout(() => { if (img.isConnected) img.src = `${src}?retry=1`; }, RETRY_MS);
  });
  return img;
}

export function mediaElement(asset, label) {
  const src = contentUrl(asset.id);
  if (asset.kind === 'image') return image(src, asset, label);
  // Raw samples without a header (output_format pcm): no browser plays them; the link downloads them.
  if (asset.content_type === 'audio/pcm') return h('p', { class: 'hint' }, 'Raw PCM audio: download it to play it.');
  if (asset.kind === 'audio') return h('audio', { src, controls: true, preload: 'none', 'aria-label': label });
  if (asset.kind === 'video') {
    return h('video', { src, controls: true, preload: 'none', playsinline: true, 'aria-label': label,
      width: asset.width, height: asset.height, class: 'result-video' });
  }
  return transcript(asset);
}

export function assetFigure(asset, label) {
  const name = asset.filename || `${asset.id}`;
  return h('figure', { class: 'asset', dataset: { assetId: asset.id, kind: asset.kind } },
    mediaElement(asset, label),
    h('figcaption', {}, h('span', { class: 'meta' }, describe(asset)), ' ',
      h('a', { href: contentUrl(asset.id, true), download: name, class: 'download' },
        'Download', h('span', { class: 'visually-hidden' }, ` ${name}`))));
}

export function jobLabel(job) {
  const text = job.prompt || (job.inputs && job.inputs.voice_text) || job.mode.replaceAll('_', ' ');
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

export function results(job) {
  const assets = (job.result && job.result.assets) || [];
  const label = jobLabel(job);
  return h('div', { class: 'results' }, assets.map((asset, index) =>
    assetFigure(asset, assets.length > 1 ? `${label} (${index + 1} of ${assets.length})` : label)));
}
