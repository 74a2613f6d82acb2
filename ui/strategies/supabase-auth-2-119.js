// @supabase/auth-js 2.119.x: lockless; refreshes are single-flight within a tab, and tabs rely on the server's rule for the parent of the active token.
// The real library (ui/vendor/, unmodified); ui/lib/supabase-bench.js is
// the app around it: each lane calls auth.getSession() and then sends its
// request with the session's access token, as supabase-js does.
// Its options come from the lab's "library options" (ui/lib/libraries.js).
import { GoTrueClient, navigatorLock } from '../vendor/supabase-auth-js-2-119.js';
import { createSupabaseBench } from '../lib/supabase-bench.js';

const bench = createSupabaseBench({ GoTrueClient, navigatorLock, defaultLock: 'none' });

export const configure = bench.configure;
export const request = bench.request;
export const state = bench.state;
