import type { Store } from '@callmon/store';

/** Every way the store writes rows (events as records or as encoded rows, rejections). */
const WRITES = new Set<string | symbol>(['insertEvents', 'insertEncodedEvents', 'insertRejected']);

/**
 * The real store, each of its writes made through `around` — which may refuse it, hold it
 * back or let it through by calling `write` — and everything else as it is.
 */
export function aroundWrites(
  store: Store,
  around: (write: () => Promise<void>) => Promise<void>,
): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!WRITES.has(property)) return value.bind(target);
      return (...args: unknown[]) => around(() => value.apply(target, args));
    },
  });
}
