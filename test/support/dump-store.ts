/**
 * Print what a store holds for one force, as JSON on stdout: the accepted events (each
 * once) and the weekly report of a week. Run in its own process, since chDB binds one
 * data folder per process:
 *   node --import tsx test/support/dump-store.ts DATA_DIR FORCE WEEK AS_OF_ISO
 */
import { Policy, weeklyReport } from '@callmon/compliance';
import { openStore } from '@callmon/store';

const [dataDir, force, week, asOf] = process.argv.slice(2);
if (!dataDir || !force || !week || !asOf) {
  process.stderr.write('usage: dump-store.ts DATA_DIR FORCE WEEK AS_OF_ISO\n');
  process.exit(2);
}
const store = await openStore({ dataDir });
try {
  const events = await store.readEvents({ force });
  const report = weeklyReport(events, {
    force,
    week,
    asOf: Date.parse(asOf),
    policy: Policy.ukDefault(),
  });
  process.stdout.write(`${JSON.stringify({ count: events.length, events, report })}\n`);
} finally {
  await store.close();
}
