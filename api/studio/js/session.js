// The signed-in person's account, read once and refreshed after anything that changes it.

import { cookie, get } from './api.js';

let cached = null;

export async function account({ refresh = false } = {}) {
  if (!cached || refresh) cached = await get('/v1/account');
  return cached;
}

export function remember(value) {
  cached = value;
}

// After logout or an ended session: drop the account, and the CSRF cookie the page can see
// (the HttpOnly session cookie is the server's to clear), so the page shows the login form.
export function forget() {
  cached = null;
  if (cookie('atelier_csrf') !== null) {
    document.cookie = 'atelier_csrf=; Max-Age=0; path=/; SameSite=Lax';
  }
}
