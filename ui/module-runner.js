// Runs one browser-runtime run to its end without the timeline: the grader
// and the parity test use it. A held run (step, hand) is stepped through in
// due order once its script played; each step answers once the run settled.

import { runLab, networkCommand } from './transport.js';
import { startTab } from './page-runtime.js';
import { libraryNamed } from './lib/libraries.js';

/**
 * Runs `settings` with `source` (the learner's module text) or `builtin` (a
 * strategy name; by default the library the settings' `module` names, else
 * the settings' strategy), with `options` for a library. Resolves with `{ last, failed }`: the stream's last line
 * (done, error or abandoned) and the module's failure, if any.
 */
export async function runToEnd(settings, { source = null, builtin = null, options = null } = {}) {
  const library = libraryNamed(settings.module);
  let run = null;
  let last = null;
  let failed = null;
  let onStart;
  const started = new Promise((resolve) => { onStart = resolve; });
  const finished = runLab(settings, {
    onMessage: (message) => {
      if (message.type === 'start') {
        run = message.run;
        if (message.page) {
          startTab(message, { source, builtin: source ? null : builtin ?? library?.file ?? settings.strategy, options, onEnded: (f) => { failed = f; } });
        }
        onStart();
      }
      if (['done', 'error', 'abandoned'].includes(message.type)) last = message;
    },
  });
  await Promise.race([started, finished]);
  if (run !== null && settings.network && settings.network !== 'timer') {
    try {
      for (;;) {
        if (last) break;
        const view = await networkCommand(run, { command: 'step' });
        if (view.legs.length === 0) break;
      }
    } catch (error) {
      // The run ended meanwhile (its stream tells how), or the lab refused.
      if (!last) last = { type: 'error', message: error.message };
    }
  }
  await finished;
  return { last, failed };
}
