import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

/** A folder of this test's own, removed when it finishes. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-config-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('configuration', () => {
  it('defaults to the embedded store in ./data and the standard topic', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      dataDir: './data',
      kafkaTopic: 'callmon.events.v1',
    });
    // Unset: each source has its own default.
    expect(config.batchRows).toBeUndefined();
    expect(config.clickhouseUrl).toBeUndefined();
  });

  it('env vars override the config file, and flags override env vars', () => {
    const dir = tempDir();
    const file = join(dir, 'callmon.json');
    writeFileSync(file, JSON.stringify({ dataDir: '/from/file', batchMs: 250 }));
    const env = { CALLMON_CONFIG: file, CALLMON_DATA_DIR: '/from/env', CALLMON_BATCH_ROWS: '500' };
    expect(loadConfig({ env })).toMatchObject({
      dataDir: '/from/env',
      batchMs: 250,
      batchRows: 500,
    });
    expect(loadConfig({ env, overrides: { dataDir: '/from/flag' } }).dataDir).toBe('/from/flag');
  });

  it('names the key and where it came from when a value is invalid', () => {
    expect(() => loadConfig({ env: { CALLMON_BATCH_ROWS: 'lots' } })).toThrow(
      /batchRows \(env CALLMON_BATCH_ROWS\)/,
    );
    expect(() => loadConfig({ env: { CLICKHOUSE_URL: 'ftp://x' } })).toThrow(/clickhouseUrl/);
    expect(() => loadConfig({ env: { CALLMON_LOG_LEVEL: 'chatty' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { CALLMON_PARSE_WORKERS: '-1' } })).toThrow(
      /parseWorkers \(env CALLMON_PARSE_WORKERS\)/,
    );
    expect(loadConfig({ env: { CALLMON_PARSE_WORKERS: '0' } }).parseWorkers).toBe(0);
  });

  it('rejects unknown keys and unreadable files in the config file', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ dataDirectory: 'typo' }));
    expect(() => loadConfig({ env: {}, file })).toThrow(/config file/);
    expect(() => loadConfig({ env: {}, file: join(dir, 'missing.json') })).toThrow(
      /cannot read config file/,
    );
    writeFileSync(file, '[1,2]');
    expect(() => loadConfig({ env: {}, file })).toThrow(/expected a JSON object/);
  });
});
