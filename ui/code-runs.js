// The code panel's runs (the panel itself is code-panel.js): the strategy's
// JavaScript beside the timeline (the line that made the latest exchange
// marked, the module's state shown), and the learner's own interceptor:
// Run plays the current case with it in the page, Grade runs the fixed
// checks of lib/grader.js, a score card row opens its timeline.

import { mountCodePanel } from './code-panel.js';
import { loadChecker } from './code-parts.js';
import { CHECKS, score } from './lib/grader.js';
import { gradeModule } from './grade-runner.js'; // grader over every order
import { encodeLink } from './lib/link.js';
import { libraryNamed } from './lib/libraries.js';
import { OWN_MODULE_NAME } from './lib/plan.js';

/** What the code panel says for a strategy with no JavaScript module. */
function engineOnlyNote(name) {
  return `// The ${name} strategy runs in the Rust engine only (src/client/${name.replace(/-/g, '_')}.rs).\n`
    + '// It has no JavaScript module yet, so the browser runtime cannot run it.\n';
}

/**
 * Mounts the code panel in `root`. `app` gives the store and, late-bound,
 * the controls (the client picked, errors), the runs and the log; `start`
 * starts the current case with the learner's module.
 */
export function mountCodeRuns(app, { root, start }) {
  const { store } = app;
  const strategySources = new Map();

  /** A built-in strategy's source, fetched once. */
  function strategySource(name) {
    if (!strategySources.has(name)) {
      const file = libraryNamed(name)?.file ?? name; // a library: its adapter
      strategySources.set(name, fetch(`strategies/${encodeURIComponent(file)}.js`).then((response) => {
        if (!response.ok) throw new Error(`strategies/${file}.js answered HTTP ${response.status}`);
        return response.text();
      }));
    }
    return strategySources.get(name);
  }

  function showStrategySource(name) {
    // A strategy of the Rust engine alone has no module to show.
    const { pageStrategies } = store.state.offered;
    if (pageStrategies && !pageStrategies.includes(name)) {
      if (!panel.isOwn()) panel.showModule(name, engineOnlyNote(name));
      return;
    }
    strategySource(name).then((source) => {
      if (!panel.isOwn() && (app.controls.strategy() || 'naive') === name) panel.showModule(name, source);
    }, (error) => app.controls.showError(`The ${name} strategy's source did not load: ${error.message}`));
  }

  /** Shows the module a browser run is about to run, so its lines can be marked. */
  function showRunModule(run, settings) {
    panel.markLine(null);
    panel.showState(null);
    if (run.source) {
      if (!panel.isOwn()) panel.showOwn();
      panel.showError(null);
      return;
    }
    const name = libraryNamed(settings.module) ? settings.module : settings.strategy;
    strategySource(name).then((source) => {
      if (!panel.isOwn()) panel.showModule(name, source);
    }, () => {});
  }

  /** After ← / →: the line that made the event under the cursor, if the run knows it. */
  function markCursorLine(run, cursorIndex) {
    if (!run.lines || cursorIndex == null) return;
    const event = run.state.events[cursorIndex];
    const line = event && event.attempt != null ? run.lines.get(event.attempt) : null;
    if (line) panel.markLine(line);
  }

  /** The module's own problems (syntax, exports) before anything starts; true when it may run. */
  async function moduleReady(source) {
    const { checkModule } = await loadChecker();
    const check = checkModule(source);
    if (check.ok) {
      panel.showError(null);
      return true;
    }
    panel.showError(check);
    return false;
  }

  async function grade(source) {
    if (!(await moduleReady(source))) return;
    // Grader over every order: grade-runner.js explores each check with several
    // requests (rows carry their counts, shortest counterexample and its link).
    const mine = { source, rows: [] };
    store.update({ graded: mine });
    panel.showGrade([], CHECKS.length);
    const rows = await gradeModule(source, {
      module: OWN_MODULE_NAME,
      stillWanted: () => store.state.graded === mine, // a newer grading owns the card
      onModuleError: (failed) => panel.showError(failed),
      makeLink: async (settings) => {
        const { linkBounds } = store.state;
        const made = linkBounds ? await encodeLink({ settings, source }, linkBounds) : null;
        return made && made.ok ? made.fragment : null;
      },
      onRows: (sofar) => {
        mine.rows = sofar;
        panel.showGrade(sofar, CHECKS.length);
      },
    });
    if (store.state.graded !== mine) return;
    // The card sits below the editor: bring it into the panel's view.
    const card = document.querySelector('[data-grade]');
    if (card) {
      card.scrollIntoView({ block: 'nearest' });
      card.scrollTop = 0; // its score first
    }
    app.log.note(`graded your interceptor: ${score(rows).passed} of ${score(rows).total} checks pass`, 'done');
  }

  /** A failing check's "Show me": its shortest failing order, by hand, with the graded module. */
  function showCounterexample(id) {
    const { graded } = store.state;
    const row = graded && graded.rows.find((r) => r.id === id);
    const cx = row && row.counterexample;
    if (!cx) return;
    const settings = { ...cx.settings, module: OWN_MODULE_NAME };
    store.update({ playing: null });
    if (app.controls.CASES.includes(settings.case)) app.controls.setCase(settings.case);
    app.runs.launch([{ strategy: settings.strategy ?? 'naive', policy: settings.policy, label: OWN_MODULE_NAME, settings, source: graded.source, badge: 'counterexample' }], {
      note: `counterexample to "${row.title}": ${row.why} (by hand, ${settings.deliver.length} deliveries played)`,
    });
  }

  /** A score card row: the check's run, on the timeline, with the graded module. */
  function openCheck(id) {
    const check = CHECKS.find((c) => c.id === id);
    const { graded } = store.state;
    if (!check || !graded) return;
    const settings = { ...check.settings, module: OWN_MODULE_NAME };
    store.update({ playing: null });
    app.runs.launch([{ strategy: settings.strategy ?? 'naive', policy: settings.policy, label: OWN_MODULE_NAME, settings, source: graded.source }], {
      note: `check "${check.title}" with your interceptor${settings.network === 'step' ? ' (its order played; step or resume for the rest)' : ''}`,
    });
  }

  const panel = mountCodePanel(root, {
    template: '',
    onRun: (source) => {
      moduleReady(source).then((ready) => {
        if (ready) start(source);
      }, (error) => app.controls.showError(`The module checker did not load: ${error.message}`));
    },
    onGrade: (source) => {
      grade(source).catch((error) => app.controls.showError(`Grading failed: ${error && error.message ? error.message : error}`));
    },
    onOpenCheck: openCheck,
    onShowCounterexample: showCounterexample, // grader over every order
  });

  /** The template (the naive client) and the picked client's source, once the client control is filled. */
  function showInitial() {
    strategySource('naive').then((text) => panel.setTemplate(text), () => {});
    showStrategySource(app.controls.strategy() || 'naive');
  }

  return {
    panel,
    isOwn: () => panel.isOwn(),
    showStrategySource,
    showRunModule,
    markCursorLine,
    showInitial,
  };
}
