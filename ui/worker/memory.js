// A ceiling on what a tab's module keeps in memory. A Worker has no heap
// limit of its own that a page can set (Chromium takes no per-Worker heap
// flag, and neither Chromium's nor WebKit's Workers expose
// performance.memory or measureUserAgentSpecificMemory without cross-origin
// isolation), and a module that grows the heap while it yields answers
// every watchdog ping until the browser's renderer runs out of memory and
// takes the page with it. So the Worker counts what it can: the large
// allocations JavaScript code makes through the global constructors and
// the array methods that make new arrays (Array and Array.from, concat,
// slice, map, filter, flat, ArrayBuffer, the typed arrays), each registered with a
// FinalizationRegistry so what the garbage collector reclaimed is counted
// out again. Past the ceiling the allocation throws and the page is told;
// it stops the Worker with a message. Small objects in a loop are not
// counted (that would slow every object); a module growing memory that way
// still meets the browser's own limit.

/** The default ceiling per tab's module, in MiB. */
export const MEMORY_CEILING_MB = 256;
/** Allocations below this many bytes are not counted (the libraries' own small buffers). */
const COUNTED_FROM = 64 * 1024;

const TYPED = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];

/**
 * Counts `scope`'s large allocations; once more than `ceilingMb` MiB of
 * them are alive, calls `onOver(bytes)` once and makes every further large
 * allocation throw. Returns `{ live() }` (bytes counted alive now).
 */
export function watchMemory(scope, { ceilingMb = MEMORY_CEILING_MB, onOver = () => {} } = {}) {
  const ceiling = ceilingMb * 1024 * 1024;
  let live = 0;
  let over = false;
  const registry = new FinalizationRegistry((bytes) => {
    live -= bytes;
  });
  const RangeErrorOriginal = scope.RangeError;
  const counted = new WeakSet(); // each object once (a species-made array passes two wrappers)
  const count = (object, bytes) => {
    if (!(bytes >= COUNTED_FROM) || object === null || typeof object !== 'object' || counted.has(object)) return object;
    if (over) throw new RangeErrorOriginal(`the module used more than ${ceilingMb} MB; it is being stopped`);
    counted.add(object);
    live += bytes;
    registry.register(object, bytes);
    if (live > ceiling) {
      over = true;
      onOver(live);
      throw new RangeErrorOriginal(`the module used more than ${ceilingMb} MB; it is being stopped`);
    }
    return object;
  };
  // An array's elements: 8 bytes each (a pointer or a double), as V8 and JavaScriptCore keep them.
  const arrayBytes = (array) => (Array.isArray(array) ? array.length * 8 : 0);

  const wrapConstructor = (name, bytesOf) => {
    const original = scope[name];
    if (typeof original !== 'function') return;
    const wrapped = new Proxy(original, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(target, args, newTarget === wrapped ? target : newTarget);
        return count(made, bytesOf(made));
      },
      apply(target, self, args) {
        const made = Reflect.apply(target, self, args);
        return count(made, bytesOf(made));
      },
    });
    Object.defineProperty(scope, name, { value: wrapped, configurable: true, writable: true });
    // `[].constructor === Array` (and `new Uint8Array(1).constructor === Uint8Array`) stays true.
    Object.defineProperty(original.prototype, 'constructor', { value: wrapped, configurable: true, writable: true, enumerable: false });
  };
  wrapConstructor('Array', arrayBytes);
  wrapConstructor('ArrayBuffer', (buffer) => buffer.byteLength);
  for (const name of TYPED) wrapConstructor(name, (view) => view.byteLength);

  // Methods that make a new array from an old one (the constructor above
  // does not see them: they create through the original Array).
  const wrapMethod = (target, name) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    Object.defineProperty(target, name, {
      value: function counted(...args) {
        const made = Reflect.apply(original, this, args);
        return count(made, arrayBytes(made));
      },
      configurable: true,
      writable: true,
    });
  };
  for (const name of ['concat', 'slice', 'map', 'filter', 'flat', 'flatMap']) wrapMethod(Array.prototype, name);
  return { live: () => live };
}
