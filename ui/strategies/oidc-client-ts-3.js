// oidc-client-ts 3.x in the lab's OAuth mode: UserManager.signinSilent()
// with the stored user's refresh token is the refresh-token grant (RFC 6749
// §6), with no single flight and no lock across tabs. The real library
// (ui/vendor/, unmodified); ui/lib/oidc-bench.js is the app and the
// identity provider around it. The library calls the global `fetch` at
// each request; a Worker of the lab has none (the harness took it away),
// so the adapter installs the bench's token endpoint in its place: it
// reaches nothing but the run's own refresh, through the harness.
// Its options come from the lab's "library options" (ui/lib/libraries.js).
import { UserManager, User, WebStorageStateStore } from '../vendor/oidc-client-ts-3.js';
import { createOidcBench } from '../lib/oidc-bench.js';

const bench = createOidcBench({ UserManager, User, WebStorageStateStore });
Object.defineProperty(globalThis, 'fetch', { value: bench.fetch, configurable: true, writable: true });

export const configure = bench.configure;
export const request = bench.request;
export const state = bench.state;
