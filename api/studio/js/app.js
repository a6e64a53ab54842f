// The Studio's shell: hash routes, the session in the header, focus on each new page.

import { hasSession, on, post } from './api.js';
import { errorBox, h } from './dom.js';
import * as auth from './pages/auth.js';
import * as create from './pages/create.js';
import * as gallery from './pages/gallery.js';
import * as home from './pages/home.js';
import * as job from './pages/job.js';
import * as keys from './pages/keys.js';
import * as plan from './pages/plan.js';
import * as settings from './pages/settings.js';
import { account, forget } from './session.js';

const ROUTES = {
  signup: auth.signup, login: auth.login, home: home.render, create: create.render,
  gallery: gallery.render, job: job.render, keys: keys.render, plan: plan.render, settings: settings.render,
};
const PUBLIC = new Set(['signup', 'login']);
const TITLES = {
  signup: 'Sign up', login: 'Log in', home: 'Home', create: 'Create', gallery: 'Gallery', job: 'Job',
  keys: 'API keys', plan: 'Plan', settings: 'Settings',
};
let leaving = [];
let rendering = 0;

export function notify(text) {
  const notice = document.getElementById('notice');
  notice.textContent = text;
}

function parseHash() {
  const [name, ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { name: name || (hasSession() ? 'home' : 'signup'), params };
}

function markNav(name) {
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.getAttribute('href') === `#/${name}`;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function showHeader(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  if (signedIn) {
    const me = await account();
    document.getElementById('who-email').textContent = me.email;
  }
}

async function route() {
  const { name, params } = parseHash();
  const signedIn = hasSession();
  if (!signedIn && !PUBLIC.has(name)) return void (location.hash = '#/login');
  if (signedIn && PUBLIC.has(name)) return void (location.hash = '#/home');
  for (const leave of leaving) leave();
  leaving = [];
  const ticket = ++rendering;
  const hash = location.hash;
  const focusedBefore = document.activeElement;
  // Each render writes into its own element: a slower, older render that finishes after
  // the person moved on writes into a detached one, never into the new page.
  const main = document.getElementById('main');
  const page = h('div', { class: 'page' });
  main.replaceChildren(page);
  main.setAttribute('aria-busy', 'true');
  document.title = `${TITLES[name] || 'Not found'} — Atelier Studio`;
  markNav(name === 'job' ? 'gallery' : name);
  const view = ROUTES[name];
  const ctx = { main: page, params, notify, onLeave: (fn) => (ticket === rendering ? leaving.push(fn) : fn()), current: () => ticket === rendering };
  try {
    await showHeader(signedIn);
    if (view) await view(ctx);
    else page.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, h('a', { href: '#/home' }, 'Go home')));
  } catch (error) {
    page.append(errorBox(error));
  }
  if (ticket === rendering) {
    main.removeAttribute('aria-busy');
    main.dataset.rendered = String(ticket);
    main.dataset.route = hash;
  }
  // Focus the new page's heading, unless the person already moved focus while it loaded.
  const focused = document.activeElement;
  const untouched = !focused || focused === document.body || focused === focusedBefore || !focused.isConnected;
  if (ticket === rendering && untouched) (page.querySelector('h1') || main).focus();
}

async function logout() {
  try {
    await post('/v1/auth/logout');
  } catch (error) {
    notify(error.message);
  }
  forget();
  location.hash = '#/login';
}

on('unauthenticated', () => {
  forget();
  notify('Your session has ended; log in again.');
  location.hash = '#/login';
});
const WAITING = 'Rate limit reached';
on('waiting', (seconds) => notify(`${WAITING}: retrying in ${seconds} s.`));
on('resumed', () => {
  if (document.getElementById('notice').textContent.startsWith(WAITING)) notify('');
});
document.getElementById('logout').addEventListener('click', logout);
window.addEventListener('hashchange', route);
route();
