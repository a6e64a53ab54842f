// Plan: the plans (GET /v1/plans) and a change (POST /v1/account/plan): an upgrade applies
// now, a downgrade at the period end.

import { get, post } from '../api.js';
import { errorBox, formatDay, h, heading } from '../dom.js';
import { account, remember } from '../session.js';

function money(value) {
  return value === null || value === undefined ? 'none' : `$${Number(value).toFixed(2)} per credit`;
}

function planCard(plan, me, choose) {
  const current = me.plan.name === plan.id;
  const pending = me.plan.pending === plan.id;
  let action;
  if (current) action = h('p', { class: 'badge' }, 'Your plan');
  else if (pending) action = h('p', { class: 'badge' }, `Starts ${formatDay(me.period.end)}`);
  else if (!plan.self_service) action = h('p', { class: 'hint' }, 'Set up by an operator: contact us.');
  else action = h('button', { type: 'button', class: 'primary', onclick: () => choose(plan) }, `Switch to ${plan.id}`);
  return h('li', { class: `card plan${current ? ' current' : ''}`, dataset: { plan: plan.id } },
    h('h2', {}, plan.id),
    h('dl', { class: 'pairs' },
      h('div', {}, h('dt', {}, 'Monthly credits'), h('dd', {}, plan.monthly_credits)),
      h('div', {}, h('dt', {}, 'Requests a minute'), h('dd', {}, plan.rate_limit_per_minute)),
      h('div', {}, h('dt', {}, 'Daily credit limit'), h('dd', {}, plan.daily_credit_limit ?? 'none')),
      h('div', {}, h('dt', {}, 'Overage'), h('dd', {}, plan.overage_limit_credits
        ? `up to ${plan.overage_limit_credits} at ${money(plan.overage_rate_usd)}` : 'none'))),
    action);
}

export async function render({ main, notify }) {
  main.append(heading('Plan'));
  const [plans, me] = await Promise.all([get('/v1/plans'), account({ refresh: true })]);
  const list = h('ul', { class: 'plans' });
  const problem = h('div');
  const intro = h('p', { class: 'lead' });
  const draw = (current) => {
    intro.textContent = `You are on ${current.plan.name}` +
      (current.plan.pending ? `, changing to ${current.plan.pending} on ${formatDay(current.period.end)}.` : '.') +
      ' An upgrade applies now and adds this period\'s extra credits; a downgrade applies when the period ends.';
    list.replaceChildren(...plans.data.map((plan) => planCard(plan, current, choose)));
  };
  async function choose(plan) {
    problem.replaceChildren();
    try {
      const result = await post('/v1/account/plan', { plan: plan.id });
      remember(result.account);
      draw(result.account);
      notify(result.pending_plan ? `${plan.id} starts at the end of this period.`
        : `You are now on ${plan.id}: ${result.account.credits.remaining} credits available.`);
      list.querySelector('.current h2')?.focus();
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  }
  main.append(intro, problem, list,
    h('p', { class: 'hint' }, 'Payment is not collected here: statements record what an operator bills.'));
  draw(me);
}
