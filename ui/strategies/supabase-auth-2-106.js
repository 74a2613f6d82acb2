// @supabase/auth-js 2.106.x: in a browser it serialises refreshes across tabs with a Web Lock (navigatorLock). A Worker is no browser to the library (isBrowser() looks for window and document), so the adapter passes that lock as its `lock` option, as a page's default would be.
// The real library (ui/vendor/, unmodified); ui/lib/supabase-bench.js is
// the app around it: each lane calls auth.getSession() and then sends its
// request with the session's access token, as supabase-js does.
// Its options come from the lab's "library options" (ui/lib/libraries.js).
import { GoTrueClient, navigatorLock } from '../vendor/supabase-auth-js-2-106.js';
import { createSupabaseBench } from '../lib/supabase-bench.js';

const bench = createSupabaseBench({ GoTrueClient, navigatorLock, defaultLock: 'navigatorLock' });

export const configure = bench.configure;
export const request = bench.request;
export const state = bench.state;
