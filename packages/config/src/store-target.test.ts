import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { describeStoreTarget, storeTarget } from './store-target.ts';

describe('store target', () => {
  it('is the embedded store in the data folder unless a ClickHouse URL is configured', () => {
    const config = loadConfig({ env: { CALLMON_DATA_DIR: '/var/callmon' } });
    expect(storeTarget(config)).toEqual({ dataDir: '/var/callmon' });
    expect(describeStoreTarget(config)).toBe('the store in /var/callmon');
  });

  it('is the server, with its credentials, when CLICKHOUSE_URL is set', () => {
    const config = loadConfig({
      env: {
        CALLMON_DATA_DIR: '/var/callmon',
        CLICKHOUSE_URL: 'http://ops:s3cret@ch.internal:8123',
        CLICKHOUSE_USER: 'callmon',
        CLICKHOUSE_PASSWORD: 'hunter2',
        CLICKHOUSE_DATABASE: 'control_room',
      },
    });
    expect(storeTarget(config)).toEqual({
      url: 'http://ops:s3cret@ch.internal:8123',
      username: 'callmon',
      password: 'hunter2',
      database: 'control_room',
    });
    // Messages name the server without the credentials a URL may carry.
    expect(describeStoreTarget(config)).toBe('ClickHouse at http://ch.internal:8123');
  });
});
