// Settings: the webhook signing secret (reveal, rotate), credit alerts, recent account activity.

import { get, post, put } from '../api.js';
import { errorBox, field, formatDate, h, heading } from '../dom.js';

function secretSection(notify) {
  const HIDDEN = 'Hidden: press Reveal secret';
  const value = h('input', { type: 'text', readonly: true, value: HIDDEN, class: 'code', spellcheck: 'false',
    autocomplete: 'off' });
  let shown = false;
  const reveal = h('button', { type: 'button' }, 'Reveal secret');
  const rotate = h('button', { type: 'button', class: 'danger' }, 'Rotate secret');
  const note = h('p', { class: 'hint' });
  const problem = h('div');
  const show = (data) => {
    shown = true;
    value.value = data.secret;
    reveal.textContent = 'Hide secret';
    if (data.previous_secret_expires_at) {
      note.textContent = `The previous secret also signs until ${formatDate(data.previous_secret_expires_at)}.`;
    }
  };
  reveal.addEventListener('click', async () => {
    problem.replaceChildren();
    if (shown) {
      shown = false;
      value.value = HIDDEN;
      reveal.textContent = 'Reveal secret';
      return;
    }
    try { show(await get('/v1/account/webhook-secret')); } catch (error) { problem.replaceChildren(errorBox(error)); }
  });
  rotate.addEventListener('click', async () => {
    if (!window.confirm('Rotate the webhook secret? The old one keeps signing for 24 hours.')) return;
    problem.replaceChildren();
    try {
      show(await post('/v1/account/webhook-secret'));
      notify('Webhook secret rotated.');
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title' }, 'Webhook secret'),
    h('p', {}, 'Webhooks are signed with this secret (Standard Webhooks); verify them with it.'),
    field('Signing secret', value), h('p', { class: 'actions' }, reveal, rotate), note, problem);
}

function parseThresholds(text) {
  return text.split(/[\s,]+/).filter(Boolean).map(Number);
}

async function alertsSection(notify) {
  const current = await get('/v1/account/alerts');
  const url = h('input', { type: 'url', name: 'webhook_url', maxlength: 2048, value: current.webhook_url || '',
    placeholder: 'https://example.com/hooks/atelier' });
  const thresholds = h('input', { type: 'text', name: 'thresholds_percent', inputmode: 'numeric',
    value: current.thresholds_percent.join(', ') });
  const sent = h('p', { class: 'hint' });
  const problem = h('div');
  const drawSent = (alerts) => {
    sent.textContent = alerts.sent_this_period.length
      ? `Sent this period: ${alerts.sent_this_period.map((t) => `${t}%`).join(', ')}.` : 'None sent this period.';
  };
  drawSent(current);
  const form = h('form', { class: 'card', 'aria-labelledby': 'alerts-title' },
    h('h2', { id: 'alerts-title' }, 'Credit alerts'),
    h('p', {}, 'Get an account.credits_threshold webhook when your usage reaches a share of the monthly grant.'),
    field('Alert webhook URL', url, 'Leave empty (with no thresholds) to turn alerts off.'),
    field('Thresholds (percent)', thresholds, 'Comma-separated, e.g. 50, 80, 100.'),
    sent, problem, h('button', { type: 'submit', class: 'primary' }, 'Save alerts'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.replaceChildren();
    try {
      const saved = await put('/v1/account/alerts', { webhook_url: url.value.trim() || null,
        thresholds_percent: parseThresholds(thresholds.value) });
      drawSent(saved);
      notify('Alerts saved.');
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  return form;
}

async function activitySection() {
  const log = await get('/v1/audit-log?limit=10');
  return h('section', { class: 'card', 'aria-labelledby': 'activity-title' },
    h('h2', { id: 'activity-title' }, 'Recent activity'),
    h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, ['When', 'What', 'Who', 'Address'].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, log.data.map((event) => h('tr', {}, h('td', {}, formatDate(event.created_at)),
        h('td', {}, event.action), h('td', {}, event.actor), h('td', {}, event.ip || '—')))))));
}

export async function render({ main, notify }) {
  main.append(heading('Settings'));
  const [alerts, activity] = await Promise.all([alertsSection(notify), activitySection()]);
  main.append(secretSection(notify), alerts, activity);
}
