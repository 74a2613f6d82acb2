// The runs on screen. One run (or two, when comparing) is "active" at a
// time. Starting another aborts the active fetches and clears their views;
// every callback checks the run token it was started with, so two runs'
// events never mix. A run streams from the lab (or replays a saved run on
// its recorded schedule); each message goes through the reducer to the
// timeline, the log and the inspector; renderAll() draws every view of the
// active run on one shared time scale.

import { TimelineView } from './timeline-view.js';
import { runLab, LabError } from './transport.js';
import { startTab } from './page-runtime.js';
import { describeLockChange, foldLockHolds } from './lib/tab-hub.js';
import { watchLockMarks } from './lock-marks.js'; // which tab held the lock, on the tab lanes
import { createRunState, applyMessage, isLive, isHeld, viewNowUs } from './lib/reducer.js';
import { domainEnd, estimateRunUs } from './lib/scale.js';
import { parseRunReport, createReplay, MAX_REPORT_BYTES } from './lib/replay.js';
import { libraryFile } from './lib/plan.js';

/**
 * Mounts the runs. `views`: `{ log, inspector, exportMenu, timelines,
 * placeholder }`; `app` gives the store and, late-bound, the controls
 * (errors, the case), the network UI (its rendering, the challenges), the
 * code panel's wiring and the link's (the setup kept for the next visit).
 */
export function mountRuns(app, { log, inspector, exportMenu, timelines, placeholder }) {
  const { store } = app;
  const activeRun = () => store.state.active;

  function cancelActive() {
    const active = activeRun();
    if (!active) return;
    for (const run of active.runs) {
      if (run.controller) run.controller.abort();
      if (isLive(run.state)) run.state.status = 'aborted';
      run.view.destroy();
    }
    store.update({ active: null, net: { ...store.state.net, busy: false, run: null }, cursorIndex: null });
  }

  /**
   * Puts fresh timelines on screen for `plans` ([{strategy, policy, label,
   * settings}]) and makes them the active runs. Returns the runs.
   */
  function openRuns(plans, { compare = false, replay = false, note }) {
    cancelActive();
    exportMenu.reset();
    const token = store.state.runToken + 1;
    store.update({ runToken: token });
    placeholder.hidden = true;
    log.clear();
    const runs = plans.map((plan) => {
      const state = createRunState({ strategy: plan.strategy, policy: plan.policy, settings: plan.settings });
      state.status = 'running'; // live from the moment the request leaves
      const view = new TimelineView({
        strategy: plan.settings?.module ?? plan.strategy,
        policy: plan.policy,
        runtime: plan.settings?.runtime ?? 'rust',
        compact: compare,
        replay: plan.replayName ?? null,
        varies: plan.varies ?? null,
        badge: plan.badge ?? null,
        onToken: (jti, runState) => inspector.select(jti, runState),
      });
      view.setRun(state);
      return {
        ...plan,
        state,
        view,
        controller: replay ? null : new AbortController(),
        startedAt: null,
        replay: null,
        prefix: compare ? `[${plan.label}] ` : '',
      };
    });
    timelines.classList.toggle('comparing', compare);
    timelines.replaceChildren(placeholder, ...runs.map((r) => r.view.root));
    store.update({ active: { token, compare, replay, runs, domainEndUs: 0 } });
    inspector.setRuns(runs.map((r) => ({ label: r.label, state: r.state })));
    log.note(note, 'start');
    return { token, runs };
  }

  /** Feeds one stream message (live or replayed) to a run and its log; true when the screen should be drawn now. */
  function deliver(run, runs, message, now) {
    if (message.type === 'start') run.startedAt = run.startedAt ?? now;
    if (run === runs[0]) exportMenu.observe(message); // the top timeline is exported
    const seen = run.state.events.length;
    applyMessage(run.state, message, now);
    if (message.type === 'event') {
      const events = run.state.events;
      if (events.length === seen) return false; // not an event the reducer could read
      // As drawn: on the run's view clock (it stands still while the run is held).
      log.add(events[events.length - 1], run.prefix);
      if (message.event.kind === 'issued' && !inspector.selected && run === runs[0]) {
        inspector.select(message.event.jti, run.state, { highlight: false });
      }
      return false;
    }
    if (message.type === 'done') {
      log.note(`${run.prefix}${message.verdict ? message.verdict.sentence : 'done'}`, 'done');
      if (!run.replay && runs.length === 1) app.net.finishedForChallenges(run.state);
      // The lesson (lesson-view.js) checks its steps from a finished run's settings and verdict.
      if (!run.replay) window.dispatchEvent(new CustomEvent('refresh-race:run-done', { detail: { settings: run.state.settings, verdict: run.state.verdict, solved: run.state.solved, compare: runs.length > 1 } }));
      return true;
    }
    if (message.type === 'error') {
      log.note(`${run.prefix}run failed: ${message.message}`, 'error');
      return true;
    }
    if (message.type === 'abandoned') {
      log.note(`${run.prefix}${message.message}`, 'error');
      return true;
    }
    return message.type === 'network';
  }

  /** A browser run's tab starts once its start line says where its API is. */
  function startPageTab(run, message) {
    if (!message.page || run.tab) return;
    run.lines = new Map(); // attempt → the module's line that made it
    const active = activeRun();
    const shown = active && active.runs.length === 1 && active.runs[0] === run;
    const code = app.code;
    if (shown) code.showRunModule(run, message.settings);
    let locks = [];
    // Lock marks on the tab lanes (lock-marks.js): which tab held which lock.
    let holds = {};
    const marks = run.view && run.view.root ? watchLockMarks(run.view.root, () => holds) : null;
    run.tab = startTab(message, {
      builtin: run.source ? null : libraryFile(run, message.settings),
      // Who holds which lock across the tabs, as it happens, in the log.
      onLocks: (view) => {
        for (const line of describeLockChange(locks, view)) log.note(`${run.prefix}${line}`);
        holds = foldLockHolds(holds, locks, view); // lock marks
        marks?.paint(); // lock marks
        locks = view;
      },
      source: run.source ?? null,
      options: run.libraryOptions ?? message.settings.module_options ?? null,
      onCall: ({ attempt, line }) => {
        if (line && attempt != null) run.lines.set(attempt, line);
        if (shown) code.panel.markLine(line ?? null);
      },
      onState: (state) => {
        if (shown) code.panel.showState(state);
      },
      onEnded: (failed) => {
        if (!failed) return;
        log.note(`${run.prefix}the tab's module failed: ${failed.message}${failed.line ? ` (line ${failed.line})` : ''}`, 'error');
        if (shown && run.source) code.panel.showError(failed);
      },
    });
    run.controller.signal.addEventListener('abort', () => run.tab.stop(), { once: true });
  }

  /** Opens timelines for `plans` and streams their runs from the lab. */
  function launch(plans, { compare = false, note }) {
    store.update({ justSolved: [] });
    if (plans.length === 1) app.link.keepSetup(plans[0].settings);
    const { token, runs } = openRuns(plans, { compare, note });
    renderAll();
    const current = () => token === store.state.runToken; // else a newer run owns the screen

    for (const run of runs) {
      runLab(run.settings, {
        signal: run.controller.signal,
        onMessage: (message) => {
          if (!current()) return;
          if (message.type === 'start') startPageTab(run, message);
          if (deliver(run, runs, message, performance.now())) renderAll();
          else scheduleFrame();
        },
      }).then(() => {
        if (!current()) return;
        if (isLive(run.state)) {
          applyMessage(run.state, { type: 'error', message: 'the stream ended before the run was done' }, performance.now());
        }
        renderAll();
      }, (error) => {
        if (!current() || (error && error.name === 'AbortError')) return;
        if (error instanceof LabError && error.status >= 400 && error.status < 500) {
          // The lab refused the settings: nothing started. Show it like our own checks.
          app.controls.showError(error.message);
          abandon(token);
          return;
        }
        applyMessage(run.state, { type: 'error', message: error && error.message ? error.message : String(error) }, performance.now());
        log.note(`${run.prefix}run failed: ${run.state.error}`, 'error');
        app.controls.showError(run.state.error);
        renderAll();
      });
    }
  }

  /**
   * Replays a saved run (RunReport JSON) through the same reducer and view,
   * on its recorded schedule (scaled by the speed control).
   */
  async function startReplay(file) {
    const { showError, clearError, markInvalid, setCase, CASES } = app.controls;
    if (!file) return;
    if (file.size > MAX_REPORT_BYTES) {
      showError(`${file.name} is too large to replay (${Math.round(file.size / 1e6)} MB).`);
      return;
    }
    let text;
    try {
      text = await file.text();
    } catch (error) {
      showError(`Cannot read ${file.name}: ${error && error.message ? error.message : error}`);
      return;
    }
    const parsed = parseRunReport(text);
    if (!parsed.ok) {
      showError(`${file.name}: ${parsed.message}`);
      return;
    }
    clearError();
    markInvalid([]);
    store.update({ playing: null, justSolved: [] });
    const report = parsed.report;
    const settings = report.settings;
    const strategy = typeof settings.strategy === 'string' ? settings.strategy : '?';
    const policy = typeof settings.policy === 'string' ? settings.policy : '?';
    const rate = app.controls.speed();
    if (typeof settings.case === 'string' && CASES.includes(settings.case)) setCase(settings.case);
    const { runs } = openRuns([{ strategy, policy, label: strategy, settings, replayName: file.name }], {
      replay: true,
      note: `replay of ${file.name}: ${settings.case ?? '?'}, ${strategy} client, ${policy} server, ${report.events.length} events${rate !== 1 ? ` at ${rate}×` : ''}`,
    });
    const run = runs[0];
    run.replay = createReplay(report, { rate });
    const now = performance.now();
    run.startedAt = now;
    deliver(run, runs, run.replay.start(), now);
    renderAll();
  }

  /** Hands each replay the events that are due by now; called once per frame. */
  function pumpReplays(now) {
    const active = activeRun();
    if (!active || !active.replay) return;
    for (const run of active.runs) {
      if (!run.replay || run.replay.finished) continue;
      for (const message of run.replay.due(now - run.startedAt)) deliver(run, active.runs, message, now);
    }
  }

  /** Drops a run the lab refused: no timeline, the placeholder again. */
  function abandon(token) {
    const active = activeRun();
    if (!active || active.token !== token) return;
    cancelActive();
    placeholder.hidden = false;
    timelines.replaceChildren(placeholder);
    log.clear();
    inspector.setRuns([]);
  }

  let frameRequested = false;

  function scheduleFrame() {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      pumpReplays(performance.now());
      renderAll();
    });
  }

  /** Draws every view of the active run on one shared time scale. */
  function renderAll() {
    log.flush();
    app.net.render();
    const active = activeRun();
    if (!active) return;
    inspector.refreshList();
    const now = performance.now();
    let anyMoving = false;
    const frames = active.runs.map((run) => {
      const live = isLive(run.state);
      // A held run stands still: no frames until something arrives.
      anyMoving = anyMoving || (live && !isHeld(run.state));
      let nowUs = null;
      if (live) {
        if (run.startedAt == null) nowUs = 0;
        else if (run.replay) nowUs = run.replay.nowUs(now - run.startedAt);
        else nowUs = viewNowUs(run.state, now);
      }
      return { run, nowUs };
    });
    // Same scale for both timelines of a comparison; it only ever grows during
    // a run, so bars do not jitter.
    for (const { run, nowUs } of frames) {
      // A replay knows its length up front: its scale never moves.
      const estimateUs = run.replay ? run.replay.lastUs : estimateRunUs(run.settings);
      const end = domainEnd({ maxEventUs: run.state.maxUs, nowUs: nowUs ?? 0, estimateUs });
      active.domainEndUs = Math.max(active.domainEndUs, end);
    }
    const single = active.runs.length === 1;
    const { cursorIndex } = store.state;
    for (const { run, nowUs } of frames) {
      run.view.render({ nowUs, domainEndUs: active.domainEndUs, cursorIndex: single ? cursorIndex : null });
    }
    if (anyMoving) scheduleFrame();
  }

  /** The theme or the page scale changed: the timelines' geometry follows. */
  function restyle() {
    const active = activeRun();
    if (!active) return;
    for (const run of active.runs) run.view.restyle();
    renderAll();
  }

  return { launch, startReplay, abandon, renderAll, restyle };
}
