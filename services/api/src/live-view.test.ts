import { EventEmitter } from 'node:events';
import type { LiveSnapshot } from '@callmon/compliance';
import { describe, expect, it } from 'vitest';
import { engineLiveView, publishedLiveView, unavailableLiveView } from './live-view.ts';

const snapshot = (force: string, asOf: string) =>
  ({ force, policy: 'uk-default-v1', as_of: asOf, windows: {} }) as unknown as LiveSnapshot;

describe('live views', () => {
  it('a published view serves the latest snapshot of each force, until closed', () => {
    const bus = new EventEmitter<{ snapshot: [LiveSnapshot] }>();
    const view = publishedLiveView(bus);
    expect(view.snapshot('northants')).toBeUndefined();
    bus.emit('snapshot', snapshot('northants', 'a'));
    bus.emit('snapshot', snapshot('wmp', 'a'));
    bus.emit('snapshot', snapshot('northants', 'b'));
    expect(view.snapshot('northants')?.as_of).toBe('b');
    expect(view.forces()).toEqual(['northants', 'wmp']);
    view.close();
    bus.emit('snapshot', snapshot('northants', 'c'));
    expect(view.snapshot('northants')?.as_of).toBe('b');
  });

  it('an engine view asks the force engine each time', () => {
    let calls = 0;
    const engine = { snapshot: () => snapshot('northants', String(++calls)) };
    const view = engineLiveView(new Map([['northants', engine]]));
    expect(view.snapshot('northants')?.as_of).toBe('1');
    expect(view.snapshot('northants')?.as_of).toBe('2');
    expect(view.snapshot('wmp')).toBeUndefined();
    expect(view.unavailable).toBeUndefined();
  });

  it('an unavailable view says why', () => {
    expect(unavailableLiveView('no source').unavailable).toBe('no source');
  });
});
