// Small DOM helpers: elements are built with text nodes, never from HTML strings, so nothing
// the API returns (prompts, names, error messages) can inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (['value', 'checked', 'selected', 'disabled', 'hidden', 'required'].includes(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled field: <div class="field"><label for=…>…</label>control<p hint></div>.
export function field(label, control, hint) {
  if (!control.id) control.id = nextId('f');
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function formatDate(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDay(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

// An error box for a failed request or job: the API's error.message, read out at once.
export function errorBox(error) {
  const message = error && error.message ? error.message : String(error);
  const code = error && error.code ? error.code : null;
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, 'Error'), code ? h('span', { class: 'code' }, ` ${code}`) : null, ': ', message);
}

export function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}
