// The network controls' logic: what the tray shows, what a key does, which
// buttons work, how undo restarts a run. No DOM: tested with `node --test`.
//
// A run's exchanges cross the lab's network as legs (docs/lab-api.md): a
// request leg to the server (`secret#1>`), the answer's leg back
// (`secret#1<`), and under `non-atomic` a refresh's commit (`secret#1=`).
// While a run is held (step, hand, or a paused timer run) the legs in
// flight are the stream's latest `network` view; the tray lists them and
// clicking one delivers it.

/** More legs than this in flight and the tray groups them (a 10,000-request run must not draw 10,000 cards). */
export const TRAY_LIMIT = 24;

/** Finished runs of the impossible challenge after which its panel explains why. */
export const TRIES_BEFORE_WHY = 3;

const MARK = { 'to-server': '>', 'to-client': '<', commit: '=' };
const GROUP_NOUN = { 'to-server': 'requests', 'to-client': 'answers', commit: 'commits' };

/** `secret` of `secret#12` (and of `tab2/secret#12`: the engine's filters span every tab). */
export function laneKind(lane) {
  const text = String(lane ?? '');
  const hash = text.indexOf('#');
  const name = hash < 0 ? text : text.slice(0, hash);
  return name.slice(name.indexOf('/') + 1);
}

/** 3000 → "3,000" (the same on every machine, whatever its locale). */
export function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * One leg as a person reads it in the tray:
 * "secret#2 → server · refresh with t1", "secret#1 ← 401 expired",
 * "secret#1 ← refresh 200 → t2", "secret#1 = commit: revoke t1".
 * `newToken(attempt)` names the token a refresh's answer carries, when known.
 */
export function legLabel(leg, newToken = () => null) {
  const lane = leg.lane ?? String(leg.id ?? '').slice(0, -1);
  const jti = leg.jti ?? null;
  if (leg.direction === 'to-server') {
    const what = leg.exchange === 'login' ? 'login' : `${leg.exchange ?? 'request'} ${jti ? `with ${jti}` : 'without a token'}`;
    return `${lane} → server · ${what}`;
  }
  if (leg.direction === 'commit') return `${lane} = commit: revoke ${jti ?? 'the token'}`;
  const status = leg.status ?? '?';
  const prefix = leg.exchange === 'refresh' || leg.exchange === 'retry' ? `${leg.exchange} ` : '';
  let tail = leg.reason ? ` ${leg.reason}` : '';
  if (leg.exchange === 'refresh' && status === 200) {
    const fresh = newToken(leg.attempt);
    if (fresh) tail = ` → ${fresh}`;
  }
  return `${lane} ← ${prefix}${status}${tail}`;
}

/**
 * Labels for a held leg's bar on the timeline, longest first (the view
 * draws the longest that fits): what is travelling, and which way.
 */
export function heldBarLabels(leg) {
  if (!leg) return [];
  if (leg.direction === 'to-server') {
    const what = [leg.exchange === 'request' ? null : leg.exchange, leg.jti].filter(Boolean).join(' ');
    return [what ? `${what} → server` : '→ server', '→ server', '→'];
  }
  if (leg.direction === 'commit') return ['= commit', '='];
  const status = leg.status ?? '?';
  const reason = leg.reason ? ` ${leg.reason}` : '';
  return [`← ${status}${reason}`, `← ${status}`, '←'];
}

/** The deliver-all filter that matches `leg` and its kind: `secret#*>`. */
export function groupFilter(leg) {
  return `${laneKind(leg.lane ?? leg.id)}#*${MARK[leg.direction] ?? ''}`;
}

/**
 * What the tray shows for a NetworkView's legs (in due order):
 * - up to `limit` legs: one card each `{ id, lane, exchange, direction,
 *   label, next }` (`next`: the one a step delivers);
 * - more: one button per lane kind and direction `{ filter, kind,
 *   direction, count, label }`, e.g. "deliver all secret#* requests (3,000)".
 */
export function trayModel(view, { limit = TRAY_LIMIT, newToken = () => null } = {}) {
  const legs = view && Array.isArray(view.legs) ? view.legs : [];
  const delivered = view && Array.isArray(view.delivered) ? view.delivered.length : 0;
  if (legs.length <= limit) {
    return {
      mode: 'cards',
      count: legs.length,
      delivered,
      cards: legs.map((leg, i) => ({
        id: leg.id,
        lane: leg.lane,
        exchange: leg.exchange,
        direction: leg.direction,
        status: leg.status ?? null,
        label: legLabel(leg, newToken),
        next: i === 0,
        // Only a refresh's answer can be lost (the server decided already).
        droppable: leg.exchange === 'refresh' && leg.direction === 'to-client',
      })),
      groups: [],
    };
  }
  const groups = new Map();
  for (const leg of legs) {
    const filter = groupFilter(leg);
    let group = groups.get(filter);
    if (!group) {
      group = { filter, kind: laneKind(leg.lane ?? leg.id), direction: leg.direction, count: 0, label: '' };
      groups.set(filter, group);
    }
    group.count += 1;
  }
  for (const group of groups.values()) {
    group.label = `deliver all ${group.kind}#* ${GROUP_NOUN[group.direction] ?? 'legs'} (${thousands(group.count)})`;
  }
  return { mode: 'groups', count: legs.length, delivered, cards: [], groups: [...groups.values()] };
}

/**
 * The tab's hidden state (a NetworkView's `tab`) as the panel shows it:
 * the stored token, the strategy's own memory as rows, and the hook
 * attributes (`data-token`, `data-strategy`, `data-is-refreshing`, ...).
 */
export function tabStateModel(tab) {
  if (!tab || typeof tab !== 'object') return null;
  const s = tab.strategy && typeof tab.strategy === 'object' ? tab.strategy : {};
  const token = tab.token ?? null;
  const attrs = { 'data-token': token ?? '', 'data-strategy': s.strategy ?? '' };
  const rows = strategyRows(s, attrs);
  // Several tabs: each other tab's own memory, its rows named by the tab.
  const others = Array.isArray(tab.other_tabs) ? tab.other_tabs : [];
  others.forEach((other, i) => {
    const prefix = `tab${i + 2} `;
    for (const row of strategyRows(other && typeof other === 'object' ? other : {}, {})) {
      rows.push({ ...row, name: prefix + row.name });
    }
  });
  if (others.length) attrs['data-tabs'] = String(others.length + 1);
  return { token, strategy: s.strategy ?? null, attrs, rows };
}

/**
 * One tab's strategy memory as rows (each strategy reports its own: name,
 * value, note); a row's hook goes into `attrs` as `data-NAME`.
 */
function strategyRows(s, attrs) {
  const rows = Array.isArray(s.rows) ? s.rows : [];
  for (const row of rows) {
    if (row && row.hook && typeof row.hook.name === 'string') attrs[`data-${row.hook.name}`] = String(row.hook.value ?? '');
  }
  return rows.map((row) => ({ name: String(row?.name ?? ''), value: String(row?.value ?? ''), note: String(row?.note ?? '') }));
}

/**
 * The settings undo starts: the same run, by hand, with every delivery but
 * the last (the engine replays a delivery order exactly), and the refresh
 * answers lost before it (`drops`: `[{ lost: 'refresh#1<', at }]`, `at` =
 * how many deliveries there were once it was lost). Null when there is
 * nothing to undo.
 */
export function undoSettings(settings, delivered, drops = []) {
  if (!settings || typeof settings !== 'object' || !Array.isArray(delivered) || delivered.length === 0) return null;
  const kept = drops.filter((d) => d.at < delivered.length).map((d) => d.lost);
  const lost = [...new Set([...(settings.drop || []), ...kept])];
  const deliver = delivered.slice(0, -1);
  // Lifecycle actions taken after the last kept delivery go with it.
  const before = (at) => typeof at !== 'number' || at <= deliver.length;
  const life = {};
  for (const key of ['close', 'freeze']) {
    if (Array.isArray(settings[key])) life[key] = settings[key].filter((x) => before(x.at));
  }
  if (settings.sleep && !before(settings.sleep.after)) life.sleep = undefined;
  const undone = { ...settings, ...life, network: 'hand', deliver, ...(lost.length ? { drop: lost } : {}) };
  if (undone.sleep === undefined) delete undone.sleep;
  return undone;
}

/** Longest sleep of the laptop, seconds (the engine's MAX_SLEEP_S). */
export const MAX_SLEEP_S = 30 * 86400;

/**
 * The lifecycle a held run offers by hand: the laptop's sleep (once per
 * run) and each tab's close and freeze, from the run's settings and
 * events. `null` when the run has no tabs to act on.
 */
export function lifeModel(settings, events) {
  if (!settings || typeof settings !== 'object') return null;
  const tabs = Math.max(1, Number(settings.tabs) || 1);
  const gone = new Map();
  let slept = !!settings.sleep;
  for (const e of Array.isArray(events) ? events : []) {
    if (e && e.kind === 'tab_closed') gone.set(e.tab, 'closed');
    else if (e && e.kind === 'tab_frozen') gone.set(e.tab, 'frozen');
    else if (e && e.kind === 'woke') slept = true;
  }
  return {
    canSleep: !slept,
    tabs: Array.from({ length: tabs }, (_, i) => ({ tab: i + 1, state: gone.get(i + 1) ?? 'open' })),
  };
}

/**
 * The settings of a held run after a lifecycle action by hand, `delivered`
 * deliveries in: a saved run or an undo replays the action at that point.
 */
export function withLifeAction(settings, action, delivered) {
  if (!settings || typeof settings !== 'object') return settings;
  switch (action.command) {
    case 'sleep':
      return { ...settings, sleep: { after: delivered, seconds: action.seconds } };
    case 'close-tab':
      return { ...settings, close: [...(settings.close || []), { tab: action.tab, at: delivered }] };
    case 'freeze-tab':
      return { ...settings, freeze: [...(settings.freeze || []), { tab: action.tab, at: delivered }] };
    default:
      return settings;
  }
}

/**
 * What the network buttons may do now, for `ctx`:
 * `{ controllable, live, paused, busy, delivered, legs }` where
 * controllable = one live lab run on screen (no comparison, no replay).
 */
export function controlState(ctx) {
  const on = !!(ctx && ctx.controllable);
  const live = on && !!ctx.live && !ctx.busy;
  return {
    pause: live && !ctx.paused,
    resume: live && !!ctx.paused,
    step: live,
    deliverAll: live && !!ctx.paused && (ctx.legs ?? 0) > 0,
    undo: on && !ctx.busy && (ctx.delivered ?? 0) > 0,
  };
}

/**
 * What a key does (null: nothing, let the page have it).
 * ctx: `{ controllable, live, paused, finished, events, canUndo }`.
 * Space pauses or resumes a live run, → steps it; once a run is over,
 * ← and → move the event cursor; Z undoes the last delivery.
 */
export function keyAction(key, ctx) {
  if (!ctx) return null;
  switch (key) {
    case ' ':
    case 'Spacebar':
      if (!ctx.controllable || !ctx.live) return null;
      return ctx.paused ? 'resume' : 'pause';
    case 'ArrowRight':
      if (ctx.controllable && ctx.live) return 'step';
      return ctx.finished && ctx.events > 0 ? 'cursor-next' : null;
    case 'ArrowLeft':
      return ctx.finished && ctx.events > 0 ? 'cursor-prev' : null;
    case 'z':
    case 'Z':
      return ctx.canUndo ? 'undo' : null;
    default:
      return null;
  }
}

/**
 * The event cursor after one move: from none, → starts at the first event
 * and ← at the last; it stays inside 0..count-1.
 */
export function moveCursor(index, delta, count) {
  if (!(count > 0)) return null;
  if (index == null) return delta > 0 ? 0 : count - 1;
  return Math.min(count - 1, Math.max(0, index + delta));
}
