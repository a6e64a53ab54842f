// Live progress of a job from its event stream, GET /v1/jobs/{id}/events (the session cookie
// goes along: same origin). The stream ends at a terminal state; closing it then stops the
// browser from reconnecting.

import { get } from './api.js';
import { errorBox, h, plural } from './dom.js';

export const TERMINAL = new Set(['completed', 'failed', 'aborted']);

export function watchJob(jobId, onUpdate) {
  let stopped = false;
  let source = null;
  const path = `/v1/jobs/${encodeURIComponent(jobId)}`;
  const open = () => {
    source = new EventSource(`${path}/events`);
    source.addEventListener('job', (event) => {
      const job = JSON.parse(event.data);
      if (TERMINAL.has(job.status)) stop();
      onUpdate(job);
    });
    source.addEventListener('error', () => {
      if (stopped) return;
      // A dropped stream (network, a restarted server): read the job once, then listen again.
      source.close();
      get(path).then((job) => {
        onUpdate(job);
        if (TERMINAL.has(job.status)) stop();
        else setTimeout(() => { if (!stopped) open(); }, 2000);
      }, (error) => onUpdate(null, error));
    });
  };
  const stop = () => {
    stopped = true;
    if (source) source.close();
  };
  open();
  return stop;
}

const STATUS_TEXT = {
  queued: 'Queued: waiting for a worker…', running: 'Running', completed: 'Done', failed: 'Failed', aborted: 'Cancelled',
};

// A progress panel: a <progress> bar, the status in words, and the error of a failed job.
export function progressPanel() {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Job progress' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }, 'Submitting…');
  const problem = h('div');
  const panel = h('div', { class: 'progress' }, bar, status, problem);
  panel.update = (job, error) => {
    if (error) {
      problem.replaceChildren(errorBox(error));
      return;
    }
    bar.value = job.status === 'completed' ? 100 : job.progress;
    const credits = job.status === 'completed'
      ? `${plural(job.credits_charged, 'credit')} charged` : `${plural(job.estimated_credits, 'credit')} held`;
    const words = STATUS_TEXT[job.status] || job.status;
    status.textContent = `${words}${job.status === 'running' ? ` — ${job.progress}%` : ''} · ${credits}`;
    panel.dataset.status = job.status;
    if (job.status === 'failed' && job.error) problem.replaceChildren(errorBox(job.error));
  };
  return panel;
}
