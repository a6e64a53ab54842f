// Gallery: jobs and their results (GET /v1/jobs?mode=&status=), delete (DELETE /v1/jobs/{id}).

import { del, get, query } from '../api.js';
import { errorBox, field, formatDate, h, heading } from '../dom.js';
import { jobLabel, results } from '../media.js';
import { MODES } from '../modes.js';

const PAGE = 8;

function card(job, onDeleted) {
  const problem = h('div');
  const remove = h('button', { type: 'button', class: 'danger quiet' }, 'Delete',
    h('span', { class: 'visually-hidden' }, ` ${jobLabel(job)}`));
  const item = h('li', { class: 'card job-card', dataset: { jobId: job.id, status: job.status } },
    h('h2', { class: 'job-title' }, h('a', { href: `#/job/${job.id}` }, jobLabel(job))),
    h('p', { class: 'meta' }, `${job.mode.replaceAll('_', ' ')} · ${job.status} · ${formatDate(job.created_at)}`),
    job.status === 'completed' ? results(job) : null,
    job.status === 'failed' && job.error ? errorBox(job.error) : null,
    h('p', { class: 'actions' }, h('a', { href: `#/job/${job.id}`, class: 'button quiet' }, 'Details'), remove),
    problem);
  remove.addEventListener('click', async () => {
    if (!window.confirm(`Delete this job and its results? "${jobLabel(job)}"`)) return;
    try {
      await del(`/v1/jobs/${job.id}`);
      item.remove();
      onDeleted(job);
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  return item;
}

function filters(current, onChange) {
  const mode = h('select', { name: 'mode' }, h('option', { value: '' }, 'All modes'),
    MODES.map((m) => h('option', { value: m.id, selected: m.id === current.mode }, m.label)));
  const status = h('select', { name: 'status' },
    [['completed', 'Completed'], ['', 'Any status'], ['failed', 'Failed'], ['running', 'Running'], ['queued', 'Queued'],
      ['aborted', 'Cancelled']].map(([value, label]) => h('option', { value, selected: value === current.status }, label)));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter results' },
    field('Mode', mode), field('Status', status));
  const changed = () => onChange({ mode: mode.value, status: status.value });
  mode.addEventListener('change', changed);
  status.addEventListener('change', changed);
  form.addEventListener('submit', (event) => { event.preventDefault(); changed(); });
  return form;
}

export async function render({ main, params, notify }) {
  const current = { mode: params[0] || '', status: params[1] === undefined ? 'completed' : params[1] };
  const list = h('ul', { class: 'gallery', 'aria-label': 'Results' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const empty = h('p', { hidden: true }, 'Nothing here yet. ', h('a', { href: '#/create' }, 'Create something'), '.');
  let cursor = null;
  let generation = 0;
  const onDeleted = (job) => notify(`Deleted "${jobLabel(job)}".`);

  async function load() {
    more.disabled = true;
    const mine = generation;
    const page = await get(`/v1/jobs${query({ limit: PAGE, after: cursor, mode: current.mode, status: current.status })}`);
    if (mine !== generation) return;
    list.append(...page.data.map((job) => card(job, onDeleted)));
    cursor = page.next_cursor;
    more.hidden = !page.has_more;
    more.disabled = false;
    empty.hidden = list.children.length > 0;
  }
  more.addEventListener('click', () => load().catch((error) => main.append(errorBox(error))));
  const refilter = (next) => {
    Object.assign(current, next);
    history.replaceState(null, '', `#/gallery/${current.mode}/${current.status}`);
    list.replaceChildren();
    cursor = null;
    generation += 1;
    load().catch((error) => main.append(errorBox(error)));
  };
  main.append(heading('Gallery'), filters(current, refilter), list, empty, more);
  await load();
}
