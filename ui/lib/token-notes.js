// What the inspector shows of a run's tokens (lib/reducer.js keeps them):
// the lab clock, countdowns, the decoded JWT and a note on its kind. No DOM.

import { decodeJwt } from './token-life.js';

/** The lab clock now (ms, unix epoch of the lab), or null before `start`. */
export function labNowMs(state, nowMs) {
  if (!state.lab) return null;
  return state.lab.labMs + Math.max(0, nowMs - state.lab.atMs);
}

/** Milliseconds until the token expires and until its refresh window ends. */
export function tokenCountdowns(token, labMs) {
  if (!token || labMs == null) return null;
  return {
    expiresInMs: token.exp == null ? null : token.exp * 1000 - labMs,
    windowEndsInMs: token.refresh_until == null ? null : token.refresh_until * 1000 - labMs,
  };
}

/**
 * What the inspector shows of a token: the header and payload decoded from
 * the JWT the server issued, or, for a recording without the raw token, no
 * header and the claims the `issued` event carried.
 */
export function decodedToken(token) {
  if (!token) return null;
  const kind = token.kind === 'refresh' ? 'refresh' : 'access';
  // A refresh token is opaque: nothing in it to decode.
  const decoded = token.raw && kind === 'access' ? decodeJwt(token.raw) : null;
  if (decoded) return { kind, header: decoded.header, payload: decoded.payload, fromJwt: true };
  return {
    kind,
    header: null,
    payload: { sub: token.sub, iat: token.iat, exp: token.exp, jti: token.jti, fam: token.fam },
    fromJwt: false,
  };
}

/**
 * What the inspector says about a token's kind: in OAuth mode (the run has
 * refresh tokens) the difference between the two; in article mode that the
 * access token is its own refresh credential. `{ kind, title, lines }`.
 */
export function tokenKindNote(state, token) {
  if (!token) return null;
  const oauth = [...state.tokens.values()].some((t) => t.kind === 'refresh');
  if (token.kind === 'refresh') {
    return {
      kind: 'refresh',
      title: 'refresh token (opaque)',
      lines: [
        'No header, no payload: a random string only the server can look up. Nothing to decode, nothing a client can check.',
        'Sent only to /api/refresh, in a form body (grant_type=refresh_token, RFC 6749 §6), never to the API.',
        'Rotated: each refresh spends it and returns a new one. Sending a spent one again is a reuse, which the server\'s rule punishes or forgives.',
      ],
    };
  }
  return {
    kind: 'access',
    title: oauth ? 'access token (JWT)' : 'access token (JWT), also the refresh credential',
    lines: oauth
      ? [
        'Signed claims the API checks on its own on every request: signature, then exp on the lab clock.',
        'Short-lived and sent as Authorization: Bearer to the API; a refresh never presents it, it presents the refresh token beside it.',
      ]
      : [
        'Signed claims the API checks on its own on every request: signature, then exp on the lab clock.',
        'In article mode the expired access token is itself the refresh credential, inside its refresh window.',
      ],
  };
}
