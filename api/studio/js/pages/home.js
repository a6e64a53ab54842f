// Home: balance and plan (GET /v1/account), usage per day (GET /v1/usage), statements.

import { get } from '../api.js';
import { dailySeries, usageChart } from '../chart.js';
import { formatDate, formatDay, h, heading } from '../dom.js';
import { account } from '../session.js';

function stat(label, value, note) {
  return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, h('span', { class: 'big' }, value),
    note ? h('span', { class: 'note' }, note) : null));
}

function summary(me) {
  const credits = me.credits;
  const plan = me.plan;
  const daily = me.daily_limit && me.daily_limit.limit
    ? `${me.daily_limit.used} of ${me.daily_limit.limit} used today` : 'no daily limit';
  return h('section', { 'aria-labelledby': 'balance-title', class: 'card' },
    h('h2', { id: 'balance-title' }, 'Balance'),
    h('dl', { class: 'stats' },
      stat('Credits available', String(credits.remaining), credits.held ? `${credits.held} held by running jobs` : null),
      stat('Plan', plan.name, plan.pending ? `changes to ${plan.pending} at period end` : `${plan.monthly_credits} credits a month`),
      stat('Used this period', String(credits.used_this_period), daily),
      stat('Period ends', formatDay(me.period.end), `${plan.rate_limit_per_minute} requests a minute`)),
    h('p', { class: 'actions' },
      h('a', { class: 'button primary', href: '#/create' }, 'Create something'),
      h('a', { class: 'button', href: '#/keys' }, 'Get an API key'),
      h('a', { class: 'button', href: '#/plan' }, 'Change plan')));
}

function usageSection(usage) {
  const series = dailySeries(usage, 30);
  const used = series.filter((point) => point.credits > 0);
  return h('section', { 'aria-labelledby': 'usage-title', class: 'card' },
    h('h2', { id: 'usage-title' }, 'Usage, last 30 days'),
    h('p', {}, `${usage.total_credits} credits over ${usage.total_requests} charged requests.`),
    usageChart(series),
    h('details', {}, h('summary', {}, 'Usage as a table'),
      used.length ? h('table', {}, h('caption', { class: 'visually-hidden' }, 'Credits per day'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Credits'),
          h('th', { scope: 'col' }, 'Requests'))),
        h('tbody', {}, used.map((point) => h('tr', {}, h('td', {}, point.day), h('td', {}, point.credits),
          h('td', {}, point.requests)))))
        : h('p', {}, 'Nothing charged yet.')));
}

function statementsSection(statements) {
  const rows = statements.data;
  return h('section', { 'aria-labelledby': 'statements-title', class: 'card' },
    h('h2', { id: 'statements-title' }, 'Statements'),
    rows.length === 0
      ? h('p', {}, 'No closed periods yet: a statement appears when your first period ends.')
      : h('div', { class: 'scroll' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Period', 'Plan', 'Granted', 'Used', 'Overage', 'Amount due']
          .map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, rows.map((row) => h('tr', {},
          h('td', {}, `${formatDay(row.period.start)} – ${formatDay(row.period.end)}`),
          h('td', {}, row.plan), h('td', {}, row.granted), h('td', {}, row.used),
          h('td', {}, row.overage_credits), h('td', {}, `$${row.amount_due_usd.toFixed(2)}`)))))));
}

export async function render({ main }) {
  main.append(heading('Home'));
  const [me, usage, statements] = await Promise.all([
    account({ refresh: true }), get('/v1/usage?group_by=day'), get('/v1/account/statements')]);
  main.append(h('p', { class: 'lead' }, `Signed in as ${me.email}. Updated ${formatDate(new Date().toISOString())}.`),
    summary(me), usageSection(usage), statementsSection(statements));
}
