// API keys: list (GET /v1/keys), create (the secret shown once, with a copy button and a
// ready-to-run curl command), rotate and revoke.

import { del, get, post } from '../api.js';
import { errorBox, field, formatDate, h, heading } from '../dom.js';

export function curlCommand(key, origin = location.origin) {
  return [
    `KEY='${key}'`,
    `JOB=$(curl -s -X POST '${origin}/v1/jobs' -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\`,
    `  -d '{"mode": "text_to_image", "prompt": "a lighthouse at dusk, oil painting"}' \\`,
    `  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')`,
    `ASSET=$(curl -s "${origin}/v1/jobs/$JOB?wait=60" -H "Authorization: Bearer $KEY" \\`,
    `  | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["assets"][0]["id"])')`,
    `curl -sL -o lighthouse.png "${origin}/v1/assets/$ASSET/content" -H "Authorization: Bearer $KEY"`,
  ].join('\n');
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without the clipboard API (plain http on another host), copy through a selection.
    const area = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' }, text);
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  const label = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = label; }, 2000);
}

function copyable(label, text, { multiline = false, className = '' } = {}) {
  const control = multiline
    ? h('textarea', { readonly: true, rows: text.split('\n').length, class: `code ${className}`, spellcheck: 'false' }, text)
    : h('input', { type: 'text', readonly: true, value: text, class: `code ${className}`, spellcheck: 'false' });
  const button = h('button', { type: 'button' }, `Copy ${label}`);
  button.addEventListener('click', () => copy(text, button));
  return h('div', { class: 'copyable' }, field(label, control), button);
}

function secretPanel(created, rotated) {
  return h('section', { class: 'card secret', 'aria-labelledby': 'secret-title', role: 'region' },
    h('h2', { id: 'secret-title', tabindex: '-1' }, rotated ? `New secret for ${created.name || created.prefix}`
      : `Your new key${created.name ? `: ${created.name}` : ''}`),
    h('p', { class: 'warn' }, 'This is the only time the full key is shown: copy it now and keep it secret.',
      rotated ? ' The old secret has stopped working.' : ''),
    copyable('API key', created.key, { className: 'new-key' }),
    h('h3', {}, 'Try it with curl'),
    h('p', {}, 'Creates an image, waits for it, and saves it as lighthouse.png (1 credit):'),
    copyable('curl command', curlCommand(created.key), { multiline: true, className: 'curl' }));
}

function keyRow(key, actions) {
  const status = key.revoked_at ? `Revoked ${formatDate(key.revoked_at)}` : 'Active';
  return h('tr', { dataset: { keyId: key.id } },
    h('th', { scope: 'row' }, key.name || '(no name)'), h('td', {}, h('code', {}, key.prefix)),
    h('td', {}, formatDate(key.created_at)), h('td', {}, key.last_used_at ? formatDate(key.last_used_at) : 'Never'),
    h('td', {}, key.daily_credit_limit ?? 'None'), h('td', {}, status),
    h('td', { class: 'row-actions' }, key.revoked_at ? null : actions(key)));
}

function createForm(onCreate) {
  const name = h('input', { type: 'text', name: 'name', maxlength: 200, autocomplete: 'off' });
  const limit = h('input', { type: 'number', name: 'daily_credit_limit', min: 1, step: 1 });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create key');
  const form = h('form', { class: 'card', 'aria-labelledby': 'create-key-title' },
    h('h2', { id: 'create-key-title' }, 'New key'),
    field('Name', name, 'So you can tell your keys apart, e.g. "laptop".'),
    field('Daily credit limit', limit, 'Optional: the most this key may spend in a day (UTC).'), button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    const body = { name: name.value.trim() || null };
    if (limit.value) body.daily_credit_limit = Number(limit.value);
    onCreate(body, () => form.reset()).finally(() => { button.disabled = false; });
  });
  return form;
}

function keysTable(body) {
  return h('section', { class: 'card', 'aria-labelledby': 'keys-title' }, h('h2', { id: 'keys-title' }, 'Your keys'),
    h('div', { class: 'scroll' }, h('table', { class: 'keys' },
      h('thead', {}, h('tr', {}, ['Name', 'Prefix', 'Created', 'Last used', 'Daily limit', 'Status', 'Actions']
        .map((label) => h('th', { scope: 'col' }, label)))), body)));
}

// Rotate and Revoke for one key; `act` runs a change, shows its error, and refreshes the list.
function keyActions(key, { act, reveal, notify }) {
  const label = key.name || key.prefix;
  const named = (text, cls) => h('button', { type: 'button', class: cls }, text,
    h('span', { class: 'visually-hidden' }, ` ${label}`));
  const rotate = named('Rotate');
  const revoke = named('Revoke', 'danger');
  rotate.addEventListener('click', () => act(async () => {
    if (window.confirm(`Rotate "${label}"? Its current secret stops working at once.`)) {
      reveal(await post(`/v1/keys/${key.id}/rotate`), true);
    }
  }));
  revoke.addEventListener('click', () => act(async () => {
    if (!window.confirm(`Revoke "${label}"? Programs using it stop working at once.`)) return;
    await del(`/v1/keys/${key.id}`);
    notify(`Key "${label}" revoked.`);
  }));
  return [rotate, ' ', revoke];
}

export async function render({ main, notify }) {
  const rows = h('tbody');
  const shown = h('div');
  const problem = h('div');
  const reveal = (key, rotated) => {
    shown.replaceChildren(secretPanel(key, rotated));
    shown.querySelector('h2').focus();
  };
  async function refresh() {
    const keys = await get('/v1/keys');
    rows.replaceChildren(...keys.data.map((key) => keyRow(key, (k) => keyActions(k, { act, reveal, notify }))));
    if (keys.data.length === 0) rows.append(h('tr', {}, h('td', { colspan: 7 }, 'No keys yet.')));
  }
  async function act(work) {
    problem.replaceChildren();
    try {
      await work();
      await refresh();
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  }
  const form = createForm((body, reset) => act(async () => {
    reveal(await post('/v1/keys', body), false);
    reset();
  }));
  main.append(heading('API keys'),
    h('p', { class: 'lead' }, 'Programs use keys; send one as ', h('code', {}, 'Authorization: Bearer at_live_…'), '.'),
    form, shown, problem, keysTable(rows));
  await refresh();
}
