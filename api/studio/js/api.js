// The one way the Studio talks to the API: same-origin fetch with the session cookie, the CSRF
// header on changes, and the API's error shape turned into an ApiError with its message.

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The request failed with status ${status}.`);
    this.status = status;
    this.code = error.code || null;
    this.details = error.details || {};
  }
}

const SAFE = new Set(['GET', 'HEAD']);
const listeners = { unauthenticated: [], waiting: [], resumed: [] };

export function on(event, callback) {
  listeners[event].push(callback);
}

function emit(event, ...args) {
  for (const callback of listeners[event]) callback(...args);
}

export function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split('; ').find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : null;
}

export function hasSession() {
  return cookie('atelier_csrf') !== null;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function init(method, body, form) {
  const headers = { Accept: 'application/json' };
  if (!SAFE.has(method)) {
    const token = cookie('atelier_csrf');
    if (token) headers['X-CSRF-Token'] = token;
  }
  const options = { method, headers, credentials: 'same-origin' };
  if (form) {
    options.body = form;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  return options;
}

async function parse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

// Reads that hit the plan's rate limit wait as long as Retry-After says (at most twice).
export async function api(path, { method = 'GET', body, form, retries = 2 } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(path, init(method, body, form));
    const data = await parse(response);
    if (response.ok) {
      if (attempt > 0) emit('resumed');
      return data;
    }
    const error = new ApiError(response.status, data);
    if (response.status === 429 && SAFE.has(method) && attempt < retries && error.code === 'RATE_LIMIT_EXCEEDED') {
      const seconds = Math.min(60, Number(response.headers.get('Retry-After')) || 5);
      emit('waiting', seconds);
      await sleep(seconds * 1000);
      continue;
    }
    if (response.status === 401 && !path.startsWith('/v1/auth/')) emit('unauthenticated', error);
    throw error;
  }
}

export const get = (path) => api(path);
export const post = (path, body) => api(path, { method: 'POST', body });
export const put = (path, body) => api(path, { method: 'PUT', body });
export const del = (path) => api(path, { method: 'DELETE' });

export function upload(kind, file) {
  const form = new FormData();
  form.append('kind', kind);
  form.append('file', file);
  return api('/v1/assets', { method: 'POST', form });
}

export function contentUrl(assetId, download = false) {
  return `/v1/assets/${encodeURIComponent(assetId)}/content${download ? '?download=1' : ''}`;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
