// The Node reference server for bench/throughput.sh: the shape of the demo
// server the lab's source article builds (Node's http module, HS256 tokens,
// login / refresh / secret / public), written with Node's own crypto so the
// benchmark needs nothing but `node`. What it does, and does not:
//  - GET /api/login?login=NAME signs a token;
//  - /api/refresh re-signs a token that is expired but inside its refresh
//    window; like the article's server it revokes nothing (no rotation, so
//    it never shows the race, and does less work per refresh than the lab);
//  - GET /api/secret verifies the bearer token (signature, then exp);
//    /api/public always answers.
// Answers are `{ message, content }`, as the article's server answers.
//
// usage: PORT=3913 JWT_TOKEN_EXPIRES=5 JWT_TOKEN_REFRESH=10 node server.mjs

import { createServer } from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const lifetimeS = Number(process.env.JWT_TOKEN_EXPIRES) || 5;
const windowS = Number(process.env.JWT_TOKEN_REFRESH) || 10;
const key = randomBytes(32);
const host = '127.0.0.1';
const port = Number(process.env.PORT) || 3000;

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function sign(login) {
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(JSON.stringify({ login, iat: now, exp: now + lifetimeS })).toString('base64url');
  const mac = createHmac('sha256', key).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${mac}`;
}

/** The token's claims when its signature is ours (expired or not), else null. */
function claims(token) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return null;
  const want = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

function reply(res, status, message, content = null) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message, content }));
}

const issue = (login) => ({ token: sign(login), expires: lifetimeS, refresh: windowS });

createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const auth = req.headers.authorization || '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : auth;
  const nowS = Date.now() / 1000;
  switch (url.pathname) {
    case '/api/login':
      return reply(res, 200, 'Token Received', issue(url.searchParams.get('login')));
    case '/api/refresh': {
      const c = token ? claims(token) : null;
      if (!c) return reply(res, 400, token ? 'invalid token' : 'Token not found');
      if (c.exp + windowS < nowS) return reply(res, 400, 'The time to receive a new token has expired');
      return reply(res, 200, 'Token Received', issue(c.login));
    }
    case '/api/secret': {
      const c = token ? claims(token) : null;
      if (!c) return reply(res, 401, 'invalid token');
      if (c.exp <= nowS) return reply(res, 401, 'jwt expired');
      return reply(res, 200, 'Secret Data Received');
    }
    case '/api/public':
      return reply(res, 200, 'Public Data Received');
    default:
      res.writeHead(404);
      res.end('not found');
  }
}).listen(port, host, () => console.log(`listening on http://${host}:${port}/`));
