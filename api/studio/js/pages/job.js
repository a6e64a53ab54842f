// Job detail: parameters, credits, result, webhook deliveries and redelivery, cancel, delete.

import { del, get, post } from '../api.js';
import { errorBox, formatDate, h, heading } from '../dom.js';
import { jobLabel, results } from '../media.js';
import { TERMINAL, progressPanel, watchJob } from '../progress.js';

function pairs(entries) {
  return h('dl', { class: 'pairs' }, entries.filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => h('div', {}, h('dt', {}, name),
      h('dd', {}, typeof value === 'object' ? JSON.stringify(value) : String(value)))));
}

function details(job) {
  return h('section', { class: 'card', 'aria-labelledby': 'params-title' },
    h('h2', { id: 'params-title' }, 'Parameters'),
    pairs([['Id', job.id], ['Mode', job.mode], ['Status', job.status], ['Model', job.model], ['Provider', job.provider],
      ['Prompt', job.prompt], ...Object.entries(job.inputs || {}),
      ['Webhook URL', job.webhook_url], ['Webhook events', job.webhook_url ? (job.webhook_events || []).join(', ') : null],
      ['Created', formatDate(job.created_at)], ['Started', job.started_at && formatDate(job.started_at)],
      ['Finished', job.completed_at && formatDate(job.completed_at)], ['Attempts', job.attempts]]),
    h('h3', {}, 'Credits'),
    pairs([['Estimated (held at submit)', job.estimated_credits], ['Charged', job.credits_charged]]));
}

function deliveryRow(d) {
  return h('tr', {}, h('td', {}, d.event_type), h('td', {}, d.attempt), h('td', {}, d.status_code ?? '—'),
    h('td', {}, d.latency_ms === null || d.latency_ms === undefined ? '—' : `${d.latency_ms} ms`),
    h('td', {}, d.error || ''), h('td', {}, formatDate(d.attempted_at)),
    h('td', {}, d.next_attempt_at ? formatDate(d.next_attempt_at) : '—'));
}

async function deliveries(job, notify) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'deliveries-title' },
    h('h2', { id: 'deliveries-title' }, 'Webhook deliveries'));
  if (!job.webhook_url) {
    section.append(h('p', {}, 'This job has no webhook URL.'));
    return section;
  }
  const body = h('div');
  const problem = h('div');
  const redeliver = h('button', { type: 'button' }, 'Redeliver the last event');
  async function refresh() {
    const page = await get(`/v1/jobs/${job.id}/webhook-deliveries`);
    body.replaceChildren(page.data.length === 0 ? h('p', {}, 'No delivery attempts yet.')
      : h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {},
        ['Event', 'Attempt', 'Status', 'Latency', 'Error', 'Attempted', 'Next attempt']
          .map((label) => h('th', { scope: 'col' }, label)))), h('tbody', {}, page.data.map(deliveryRow)))));
  }
  redeliver.addEventListener('click', async () => {
    problem.replaceChildren();
    try {
      await post(`/v1/jobs/${job.id}/webhook-deliveries/redeliver`);
      notify('The last event was queued for delivery again.');
      await refresh();
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  await refresh();
  section.append(body, h('p', { class: 'actions' }, redeliver), problem);
  return section;
}

function actions(job, notify, problem) {
  const buttons = [];
  if (!TERMINAL.has(job.status)) {
    const cancel = h('button', { type: 'button' }, 'Cancel job');
    cancel.addEventListener('click', () => post(`/v1/jobs/${job.id}/cancel`)
      .then(() => notify('Job cancelled.'), (error) => problem.replaceChildren(errorBox(error))));
    buttons.push(cancel);
  }
  if (job.status !== 'running') {
    const remove = h('button', { type: 'button', class: 'danger' }, 'Delete job');
    remove.addEventListener('click', async () => {
      if (!window.confirm('Delete this job and its results?')) return;
      try {
        await del(`/v1/jobs/${job.id}`);
        notify('Job deleted.');
        location.hash = '#/gallery';
      } catch (error) {
        problem.replaceChildren(errorBox(error));
      }
    });
    buttons.push(remove);
  }
  return h('p', { class: 'actions' }, buttons);
}

export async function render({ main, params, notify, onLeave, current }) {
  const job = await get(`/v1/jobs/${encodeURIComponent(params[0] || '')}`);
  const panel = progressPanel();
  const shown = h('div', { class: 'card' }, h('h2', {}, 'Result'));
  const problem = h('div');
  panel.update(job);
  main.append(heading(jobLabel(job)), panel, actions(job, notify, problem), problem, shown,
    details(job), await deliveries(job, notify));
  const show = (update) => {
    shown.hidden = update.status !== 'completed';
    if (update.status === 'completed') shown.append(results(update));
  };
  shown.hidden = true;
  if (TERMINAL.has(job.status)) {
    show(job);
    return;
  }
  onLeave(watchJob(job.id, (update, error) => {
    if (!current()) return;
    if (error) return panel.update(null, error);
    panel.update(update);
    if (TERMINAL.has(update.status)) show(update);
  }));
}
