// Create: a form per mode, POST /v1/jobs, live progress from the job's event stream, the result.

import { get, post } from '../api.js';
import { errorBox, field, h, heading, nextId } from '../dom.js';
import { results } from '../media.js';
import { MODES, PRICE_NOTES, modeById } from '../modes.js';
import { progressPanel, watchJob } from '../progress.js';
import { account } from '../session.js';
import { fileDrop, voicePicker } from '../widgets.js';

let catalog = null;

async function loadCatalog() {
  if (!catalog) {
    const [models, voices] = await Promise.all([get('/v1/models'), get('/v1/voices')]);
    catalog = { models: models.data, voices: voices.data };
  }
  return catalog;
}

function modePicker(current) {
  return h('fieldset', { class: 'modes' }, h('legend', {}, 'What to make'),
    MODES.map((mode) => {
      const id = nextId('mode');
      const radio = h('input', { type: 'radio', name: 'mode', id, value: mode.id, checked: mode.id === current });
      radio.addEventListener('change', () => { location.hash = `#/create/${mode.id}`; });
      return h('div', { class: 'mode-option' }, radio, h('label', { for: id }, mode.label));
    }));
}

function control(def) {
  const attrs = { name: def.name, required: def.required, maxlength: def.maxlength, min: def.min, max: def.max,
    step: def.step, value: def.value };
  if (def.kind === 'textarea') return h('textarea', { ...attrs, rows: 3 });
  if (def.kind === 'checkbox') return h('input', { type: 'checkbox', name: def.name });
  if (def.kind === 'select') {
    return h('select', { name: def.name }, def.blank ? h('option', { value: '' }, def.blank) : null,
      def.options.map((o) => h('option', { value: o }, o)));
  }
  return h('input', { ...attrs, type: def.kind === 'number' ? 'number' : 'text' });
}

// What a control sends: null (left out of the request) when blank, unticked or at its default.
function valueOf(def, input) {
  if (def.kind === 'checkbox') return input.checked ? true : null;
  const raw = input.value.trim();
  if (raw === '') return null;
  if (def.kind !== 'number') return raw;
  return Number(raw) === def.value ? null : Number(raw);
}

function buildField(def, voices) {
  if (def.kind === 'file') return fileDrop(def);
  if (def.kind === 'voice') return voicePicker(def, voices);
  const input = control(def);
  const wrapper = field(`${def.label}${def.required ? ' (required)' : ''}`, input, def.hint);
  if (def.kind === 'checkbox') wrapper.classList.add('check');
  wrapper.value = () => Promise.resolve(valueOf(def, input));
  return wrapper;
}

function modelSelect(mode, models) {
  const choices = models.filter((model) => model.mode === mode.id);
  const select = h('select', { name: 'model' }, choices.map((model) =>
    h('option', { value: model.id, selected: model.default }, `${model.id}${model.default ? ' (default)' : ''}`)));
  const wrapper = field('Model', select, `${choices.length} available for this mode.`);
  wrapper.value = () => Promise.resolve(select.value || null);
  return wrapper;
}

async function collect(mode, controls) {
  const given = {};
  for (const [def, wrapper] of controls) {
    const value = await wrapper.value();
    if (value !== null && value !== undefined) given[def.name] = value;
  }
  const body = { mode: mode.id };
  for (const [def] of controls) {
    if (!(def.name in given)) continue;
    if (def.onlyWith && !(def.onlyWith in given)) continue;
    if (def.onlyWithout && def.onlyWithout.some((name) => name in given)) continue;
    body[def.name] = given[def.name];
  }
  return body;
}

function outputArea(onLeave) {
  const area = h('section', { class: 'card output', 'aria-labelledby': 'output-title', hidden: true },
    h('h2', { id: 'output-title' }, 'Result'));
  area.start = (job) => {
    area.hidden = false;
    const panel = progressPanel();
    const shown = h('div');
    area.replaceChildren(area.firstChild, panel, shown,
      h('p', {}, h('a', { href: `#/job/${job.id}` }, 'Job details'), ` (${job.id})`));
    panel.update(job);
    onLeave(watchJob(job.id, (update, error) => {
      if (error) return panel.update(null, error);
      panel.update(update);
      if (update.status === 'completed') {
        shown.replaceChildren(results(update));
        account({ refresh: true }).catch(() => {});
      }
    }));
  };
  area.fail = (error) => {
    area.hidden = false;
    area.replaceChildren(area.firstChild, errorBox(error));
  };
  return area;
}

function jobForm(mode, data, area) {
  const controls = mode.fields.map((def) => [def, buildField(def, data.voices)]);
  const model = modelSelect(mode, data.models);
  const webhook = h('input', { type: 'url', name: 'webhook_url', maxlength: 2048, placeholder: 'https://…' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Generate');
  const form = h('form', { class: 'card job-form', 'aria-label': `${mode.label} form` },
    controls.map(([, wrapper]) => wrapper), model,
    h('details', {}, h('summary', {}, 'Webhook (optional)'),
      field('Webhook URL', webhook, 'We POST the finished job here, signed with your webhook secret.')),
    h('p', { class: 'hint' }, `Price: ${PRICE_NOTES[mode.id]} The estimate is held when you submit.`),
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const body = await collect(mode, controls);
      body.model = await model.value();
      if (webhook.value.trim()) body.webhook_url = webhook.value.trim();
      area.start(await post('/v1/jobs', body));
    } catch (error) {
      area.fail(error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export async function render({ main, params, onLeave }) {
  const mode = modeById(params[0]);
  main.append(heading('Create'));
  const data = await loadCatalog();
  const area = outputArea(onLeave);
  main.append(modePicker(mode.id), h('h2', {}, mode.label), jobForm(mode, data, area), area);
}
