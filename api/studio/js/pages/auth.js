// Sign up and log in: POST /v1/auth/signup and /v1/auth/login set the session cookies.

import { post } from '../api.js';
import { errorBox, field, h, heading } from '../dom.js';
import { remember } from '../session.js';

function credentialsForm({ action, submitLabel, passwordHint, autocomplete }) {
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email', maxlength: 320 });
  const password = h('input', { type: 'password', name: 'password', required: true, minlength: 10,
    maxlength: 1024, autocomplete });
  const problems = h('div', { class: 'problems' });
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h('form', { class: 'card narrow', novalidate: false },
    field('Email', email), field('Password', password, passwordHint), problems, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problems.replaceChildren();
    button.disabled = true;
    try {
      const result = await post(action, { email: email.value.trim(), password: password.value });
      remember(result.account);
      location.hash = '#/home';
    } catch (error) {
      problems.append(errorBox(error));
      button.disabled = false;
    }
  });
  return form;
}

export function signup({ main }) {
  main.append(
    heading('Create your Atelier account'),
    h('p', { class: 'lead' }, 'Generate images, voice, music and video, and get an API key for your programs. ',
      'New accounts start on the free plan with one credit.'),
    credentialsForm({ action: '/v1/auth/signup', submitLabel: 'Sign up', autocomplete: 'new-password',
      passwordHint: 'At least 10 characters.' }),
    h('p', {}, 'Already have an account? ', h('a', { href: '#/login' }, 'Log in')),
  );
}

export function login({ main }) {
  main.append(
    heading('Log in to Atelier'),
    credentialsForm({ action: '/v1/auth/login', submitLabel: 'Log in', autocomplete: 'current-password' }),
    h('p', {}, 'New here? ', h('a', { href: '#/signup' }, 'Sign up')),
  );
}
