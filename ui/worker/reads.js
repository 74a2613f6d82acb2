// A library that reads the body of a Response it made is still at work
// while the read is pending: ky reads a refused answer's body before it
// throws its HTTPError (readResponseText, a reader.read() loop), and the
// browser's stream hands the chunks over tasks later, under load more than
// the harness's quiet tasks. `watchReads` counts the stream reads still
// pending, so the harness does not tell a held run it caught up meanwhile
// (as watchTimers does for short timers): the lab would read a state the
// module has not finished writing, its request not yet done.

/** Wraps `scope`'s ReadableStreamDefaultReader.read; returns { pending() }. */
export function watchReads(scope) {
  let pending = 0;
  const proto = scope.ReadableStreamDefaultReader && scope.ReadableStreamDefaultReader.prototype;
  if (!proto || typeof proto.read !== 'function') return { pending: () => 0 };
  const read = proto.read;
  const done = () => {
    pending -= 1;
  };
  try {
    Object.defineProperty(proto, 'read', {
      value: function watchedRead(...args) {
        const result = read.apply(this, args);
        pending += 1;
        Promise.resolve(result).then(done, done);
        return result;
      },
      configurable: true,
      writable: true,
    });
  } catch {
    // a scope that keeps its own: the harness then cannot see them
  }
  return { pending: () => pending };
}
