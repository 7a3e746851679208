import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/callmon-cli.ts';

/**
 * The supervisor's dashboard in headless Chromium (Debian's, never a downloaded one)
 * against a real `callmon start`: simulator → ingest → chDB → live engine → socket.io →
 * browser. The simulation starts at 23:10 on the Friday of the friday-night-surge
 * scenario, when 999 calls queue, and runs 10× real time, so a 999 call's 10 s target
 * passes in one real second.
 */

const root = join(import.meta.dirname, '..');
const outputDir = join(root, 'test-output');
const SPEED = 10;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

let child: ChildProcess;
let exited: Promise<number | null>;
let dashboardUrl: string;
let browser: Browser;
let page: Page;
let dataDir: string;
let stderr = '';
/** The control room's clock, from callmon start's first line: simulated `from` at `realStart`. */
const timeline = { from: Number.NaN, realStart: Number.NaN };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'callmon-dashboard-'));
  mkdirSync(outputDir, { recursive: true });
  child = spawn(
    'node',
    [
      ...CLI,
      'start',
      '--scenario',
      'friday-night-surge',
      '--from',
      '2024-02-23T23:10:00Z',
      '--speed',
      String(SPEED),
      '--port',
      '0',
      '--view',
      'off',
      '--data-dir',
      dataDir,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CALLMON_LOG_LEVEL: 'warn' },
    },
  );
  exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  // Ready once it has printed both the dashboard's URL (stdout) and its start line (stderr).
  const started = new Promise<{ url: string; start: RegExpExecArray }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`callmon start not ready within 60 s:\n${stderr}`)),
      60_000,
    );
    const check = () => {
      const url = /^dashboard: (http:\/\/\S+)$/m.exec(stdout);
      const start = /from (\S+) \(real time (\S+)\)/.exec(stderr);
      if (url && start) {
        clearTimeout(timer);
        resolve({ url: url[1] as string, start });
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    child.on('exit', (code) => reject(new Error(`callmon start exited ${code}:\n${stderr}`)));
  });
  const { url, start } = await started;
  dashboardUrl = url;
  timeline.from = Date.parse(start[1] as string);
  timeline.realStart = Date.parse(start[2] as string);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Playwright gives the browser a fresh, temporary profile of its own.
    args: CHROMIUM_ARGS,
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => {
    throw error;
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (child?.exitCode === null) {
    child.kill('SIGCONT');
    child.kill('SIGINT');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** The little of the DOM the page functions below use (the project's types have no DOM). */
interface PageRow {
  cells: ArrayLike<{ textContent: string | null }>;
  dataset: Record<string, string | undefined>;
  classList: { contains(name: string): boolean };
}
interface PageDocument {
  querySelectorAll(selector: string): Iterable<PageRow>;
  querySelector(selector: string): PageRow | null;
}

/** In the page: a 999 call still inside its 10 s, its timer under 0:09. */
function pickRinging999(): string | null {
  const document = (globalThis as unknown as { document: PageDocument }).document;
  for (const row of document.querySelectorAll('#ringing tr')) {
    const timer = row.cells[2]?.textContent ?? '';
    if (
      row.dataset.channel === '999' &&
      !row.classList.contains('breached') &&
      /^0:0[0-8]$/.test(timer)
    ) {
      return row.dataset.call ?? null;
    }
  }
  return null;
}

/** In the page: the call's row gone (answered or abandoned in time), or breached. */
function watchRow(call: string) {
  const document = (globalThis as unknown as { document: PageDocument }).document;
  const row = document.querySelector(`#ringing tr[data-call="${call}"]`);
  if (row === null) return { gone: true };
  if (!row.classList.contains('breached')) return null;
  return { gone: false, timer: row.cells[2]?.textContent, status: row.cells[3]?.textContent };
}

/** In the page: the call's breach is on the feed, or its row has gone without one. */
function breachOrGone(call: string): 'breach' | 'gone' | null {
  const document = (globalThis as unknown as { document: PageDocument }).document;
  if (document.querySelector(`#feed li[data-item="${call}"][data-rule="call.unanswered"]`)) {
    return 'breach';
  }
  return document.querySelector(`#ringing tr[data-call="${call}"]`) === null ? 'gone' : null;
}

/** The feed entries: id, acknowledgement note. */
function feedEntries() {
  return page.$$eval('#feed li', (items) =>
    items.map((item) => ({
      id: item.getAttribute('data-alert-id'),
      note: item.querySelector('.ack-note')?.textContent ?? null,
    })),
  );
}

describe('the live dashboard', () => {
  it('connects with the printed token and shows the gauges, lists and shift chart', async () => {
    expect(dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=cm1\.[^&]+&force=northants$/);
    await page.goto(dashboardUrl);
    await page.waitForSelector('body[data-connection="live"]');
    await page.waitForSelector('#gauges .gauge[data-channel="999"][data-window="1h"]');
    // The token leaves the address bar once read.
    expect(page.url()).not.toContain('token=');
    expect(await page.textContent('#force-name')).toContain('northants');
    expect(await page.locator('#gauges tr').count()).toBe(2);
  });

  it("a 999 call's timer crosses 10 s and its breach shows within 1 s of the deadline", async () => {
    const deadlineAt = Date.now() + 90_000;
    let checked = false;
    while (!checked && Date.now() < deadlineAt) {
      // A 999 call still inside its 10 s, timer under 0:09.
      const handle = await page.waitForFunction(pickRinging999, undefined, {
        timeout: 90_000,
        polling: 50,
      });
      const call = (await handle.jsonValue()) as string;
      // Then watch it: answered in time (gone) or breached.
      const outcome = await page.waitForFunction(watchRow, call, {
        timeout: 20_000,
        polling: 20,
      });
      const seen = (await outcome.jsonValue()) as {
        gone: boolean;
        timer?: string;
        status?: string;
      };
      if (seen.gone) continue;
      expect(seen.timer).toMatch(/^0:1\d$/);
      expect(seen.status).toContain('breach');
      // The screen's clock can run ahead of the news of an answer by up to one engine step:
      // a call answered just before its deadline then leaves the list with no breach.
      const verdict = await page.waitForFunction(breachOrGone, call, {
        timeout: 2000,
        polling: 20,
      });
      if ((await verdict.jsonValue()) === 'gone') continue;
      const entry = (await page.$(`#feed li[data-item="${call}"][data-rule="call.unanswered"]`))!;
      // The control room's clock: `--from` at the real instant callmon start printed,
      // running SPEED times faster. When did the deadline pass on it, in real time?
      const deadline = Number(await entry.getAttribute('data-deadline'));
      const deadlinePassedAt = timeline.realStart + (deadline - timeline.from) / SPEED;
      const delayMs = Number(await entry.getAttribute('data-shown-wall')) - deadlinePassedAt;
      console.info(
        `999 call ${call}: breach shown ${delayMs.toFixed(0)} ms (real) after its deadline`,
      );
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThanOrEqual(1000);
      expect(await entry.textContent()).toMatch(/999 call .* unanswered past/);
      checked = true;
    }
    expect(checked, 'a live 999 breach within 90 s').toBe(true);
  }, 120_000);

  it('a breach is acknowledged from the keyboard, recording who and when', async () => {
    const button = page.locator('#feed li:not(.acknowledged) button').first();
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#feed li.acknowledged .ack-note');
    const note = await page.locator('#feed li.acknowledged .ack-note').first().textContent();
    expect(note).toMatch(/acknowledged by callmon-start at \d\d:\d\d:\d\d/);
  });

  it('a reconnect restores the same breach feed, acknowledgements and shift chart', async () => {
    const before = await feedEntries();
    const chartBefore = (await page.textContent('#chart-summary')) ?? '';
    const snapshots = Number(await page.getAttribute('body', 'data-snapshots'));
    await page.click('#reconnect');
    await page.waitForSelector(`body[data-snapshots="${snapshots + 1}"][data-connection="live"]`, {
      timeout: 5000,
    });
    const after = await feedEntries();
    // Later breaches may have joined; everything shown before is back, acknowledged as before.
    for (const entry of before) expect(after).toContainEqual(entry);
    expect(after.filter((entry) => entry.note !== null).length).toBeGreaterThanOrEqual(1);
    const from = (text: string) => /from (\d\d:\d\d:\d\d)/.exec(text)?.[1];
    expect(from((await page.textContent('#chart-summary')) ?? '')).toBe(from(chartBefore));
  });

  it('shows a clear banner when the live feed stops, and clears it when it resumes', async () => {
    child.kill('SIGSTOP');
    try {
      await page.waitForSelector('body[data-connection="stale"]', { timeout: 10_000 });
      expect(await page.isVisible('#banner')).toBe(true);
      expect(await page.textContent('#banner')).toMatch(/stale/i);
    } finally {
      child.kill('SIGCONT');
    }
    await page.waitForSelector('body[data-connection="live"]', { timeout: 10_000 });
    expect(await page.isVisible('#banner')).toBe(false);
    await page.screenshot({ path: join(outputDir, 'dashboard-live.png'), fullPage: true });
  }, 30_000);

  it('a page without a token is refused (401) and says so', async () => {
    const stranger = await browser.newPage();
    await stranger.goto(new URL('/', dashboardUrl).href);
    await stranger.waitForSelector('body[data-connection="refused"]');
    expect(await stranger.textContent('#banner')).toMatch(/refused \(missing\)/i);
    await stranger.close();
  });
});
