// A fake lab for the tab harness's tests (strategies, libraries): the
// report endpoint and a strict, rotating auth API, in this process.

import { jtiOf } from '../../ui/lib/page-tab.js';

/** A JWT-shaped token carrying `jti` (unsigned: the tab cannot check it anyway). */
export const jwt = (jti) => `e30.${Buffer.from(JSON.stringify({ jti })).toString('base64url')}.sig`;

/**
 * A strict server: t1 is expired; a refresh of the newest token rotates it,
 * a refresh of a spent one is refused as `reused`. `hold` keeps answers
 * back until released (`held`: `{ lane, op, jti, release }` in call
 * order), so a test can decide who comes back when.
 */
export function fakeLab({ expired = true, hold = false } = {}) {
  let newest = 1;
  const spent = new Set();
  const reports = [];
  const calls = [];
  const held = [];
  let onWire = 0;
  let maxOnWire = 0;
  const answer = (status, body) => ({ status, ok: status < 300, json: async () => body });
  const respond = (url, init) => {
    const bearer = (init.headers.authorization || '').replace('Bearer ', '');
    const jti = jtiOf(bearer);
    const n = jti ? Number(jti.slice(1)) : 0;
    if (url.endsWith('/refresh')) {
      if (n !== newest || spent.has(n)) return answer(400, { reason: 'reused' });
      spent.add(n);
      newest += 1;
      return answer(200, { token: jwt(`t${newest}`) });
    }
    if (url.endsWith('/public')) return answer(200, {});
    if (!jti) return answer(401, { reason: 'missing' });
    if (spent.has(n) || (expired && n === 1)) return answer(401, { reason: n === 1 ? 'expired' : 'revoked' });
    return answer(200, {});
  };
  const fetch = async (url, init) => {
    if (url === '/report') {
      reports.push(JSON.parse(init.body));
      return answer(200, { ok: true });
    }
    const call = {
      url,
      op: init.headers['x-lab-exchange'],
      lane: init.headers['x-lab-lane'],
      attempt: Number(init.headers['x-lab-attempt']),
      jti: jtiOf((init.headers.authorization || '').replace('Bearer ', '')),
    };
    calls.push(call);
    onWire += 1;
    maxOnWire = Math.max(maxOnWire, onWire);
    if (hold) await new Promise((release) => held.push({ ...call, release }));
    else await null;
    onWire -= 1;
    return respond(url, init);
  };
  const events = () => reports.flatMap((r) => r.events);
  return { fetch, reports, calls, events, held, maxOnWire: () => maxOnWire };
}
