// axios-auth-refresh 5.x, the real library (ui/vendor/, unmodified), set up
// the way its README shows: `createAuthRefresh(instance, refreshAuthLogic,
// options)` on the tab's axios instance, the token put on each request by a
// request interceptor. ui/lib/axios-bench.js is the app around it: axios's
// transport goes through the lab's harness (`api.send`), and the refresh
// logic calls `api.refresh`, then `api.store` or `api.logout`.
// Its options come from the lab's "library options" (ui/lib/libraries.js).
import axios, { AxiosError } from '../vendor/axios.js';
import { createAuthRefresh } from '../vendor/axios-auth-refresh-5.js';
import { createBench } from '../lib/axios-bench.js';

const bench = createBench({
  axios,
  AxiosError,
  install: (instance, refreshAuthLogic, options) => createAuthRefresh(instance, refreshAuthLogic, options),
});

export const configure = bench.configure;
export const request = bench.request;
export const state = bench.state;
