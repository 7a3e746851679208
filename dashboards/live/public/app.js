// callmon live dashboard: one force's supervisor view over the socket.io live channel.
// Plain browser JavaScript (no build step); the socket.io client comes from the server.
// Messages are described in dashboards/live/README.md.

/** Wall ms without any message before the feed is called stale. */
const STALE_AFTER_MS = 5000;
/** Entries kept in the breach feed; older ones leave the page (a 12-hour shift, bounded). */
const MAX_FEED = 200;
const MAX_HISTORY = 720;
const HISTORY_STEP_MS = 60_000;
const TICK_MS = 200;
const WINDOWS = ['15m', '1h', '24h'];
const CHANNELS = ['999', '101'];
const ZONE = 'Europe/London';

const $ = (id) => document.getElementById(id);

// The token travels in the fragment, so it never reaches a server log; keep it for reloads
// of this tab and take it out of the address bar.
const hash = new URLSearchParams(location.hash.slice(1));
const token = hash.get('token') ?? sessionStorage.getItem('callmon.token') ?? '';
if (hash.has('token')) sessionStorage.setItem('callmon.token', token);
let force = hash.get('force') ?? sessionStorage.getItem('callmon.force') ?? undefined;
history.replaceState(null, '', location.pathname + (force ? `#force=${force}` : ''));

const state = {
  board: null,
  /** performance.now() when `board` arrived: timers run on from there at `board.speed`. */
  receivedAt: 0,
  lastMessageAt: performance.now(),
  connection: 'connecting',
  refusal: null,
  /** Feed entries by alert id, oldest first (Map keeps insertion order). */
  feed: new Map(),
  acknowledgements: new Map(),
  history: [],
};

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const clockTime = (ms) => (Number.isFinite(ms) ? timeFormat.format(new Date(ms)) : '—');

/** Control-room (feed) time now: the board's time run on at its speed. */
function feedNow() {
  const board = state.board;
  if (board === null) return null;
  return board.now + (performance.now() - state.receivedAt) * board.speed;
}

function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}

function percent(value) {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)} %`;
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ——— connection ———

const socket = window.io({
  // A function, so every reconnect sends the force being shown: the server joins it again
  // and answers with a full snapshot.
  auth: (callback) => callback(force ? { token, force } : { token }),
  transports: ['websocket'],
  reconnectionDelayMax: 5000,
});

function setConnection(connection, text) {
  state.connection = connection;
  document.body.dataset.connection = connection;
  const icons = { connecting: '◌', live: '●', stale: '⚠', offline: '✕', refused: '⛔' };
  $('connection').querySelector('.icon').textContent = icons[connection] ?? '◌';
  $('connection').querySelector('.text').textContent = text;
  const banner = $('banner');
  const messages = {
    stale: 'Live feed is stale: the figures below are not being updated.',
    offline: 'Disconnected from callmon: figures and timers below are frozen. Reconnecting…',
    refused: state.refusal,
  };
  const message = messages[connection];
  banner.hidden = message === undefined;
  if (message !== undefined && banner.textContent !== message) banner.textContent = message;
}

socket.on('connect', () => {
  state.lastMessageAt = performance.now();
  setConnection('live', 'Live');
});
socket.on('disconnect', (reason) => {
  setConnection('offline', `Disconnected (${reason})`);
});
socket.on('connect_error', (error) => {
  const data = error.data;
  if (data && (data.status === 401 || data.status === 403 || data.status === 400)) {
    state.refusal =
      data.status === 401
        ? `Access refused (${data.reason}): open the dashboard link again or ask for a new one.`
        : `Access refused (${data.reason}): ${data.detail}`;
    setConnection('refused', `Refused (${data.status})`);
    return; // the server said no: retrying would not change its mind
  }
  setConnection('offline', 'Cannot reach callmon; retrying');
});
socket.on('refused', (data) => {
  if (data.status === 401) {
    state.refusal = `Access ended (${data.reason}): open a new dashboard link.`;
    setConnection('refused', 'Token expired');
  }
});

socket.on('forces', (forces) => chooseForce(forces));

socket.on('snapshot', (message) => {
  state.lastMessageAt = performance.now();
  document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots ?? 0) + 1);
  force = message.force;
  sessionStorage.setItem('callmon.force', force);
  $('force-name').textContent = `— ${force}`;
  state.feed.clear();
  $('feed').replaceChildren();
  state.acknowledgements.clear();
  for (const acknowledgement of message.acknowledgements) {
    state.acknowledgements.set(acknowledgement.alert, acknowledgement);
  }
  for (const entry of message.alerts) addAlert(entry);
  state.history = message.history.slice(-MAX_HISTORY);
  if (message.board !== null) showBoard(message.board);
  renderChart();
  updateFeedCount();
});

socket.on('window', (board) => {
  state.lastMessageAt = performance.now();
  if (board.force !== force) return;
  showBoard(board);
  const last = state.history.at(-1);
  if (last === undefined || board.now - last.at >= HISTORY_STEP_MS || board.now < last.at) {
    const hour = board.snapshot.windows['1h'].calls;
    state.history.push({ at: board.now, 999: hour['999'].compliance, 101: hour['101'].compliance });
    if (state.history.length > MAX_HISTORY)
      state.history.splice(0, state.history.length - MAX_HISTORY);
    renderChart();
  }
});

socket.on('alert', (entry) => {
  state.lastMessageAt = performance.now();
  if (entry.alert.force !== force) return;
  addAlert(entry, true);
  if (entry.alert.kind === 'breach' && entry.alert.rule === 'call.unanswered') {
    showRinging(entry.alert);
  }
  if (entry.alert.kind === 'cleared' && entry.alert.status === 'done') settled(entry.alert);
  updateFeedCount();
});

socket.on('acknowledged', (acknowledgement) => {
  state.lastMessageAt = performance.now();
  state.acknowledgements.set(acknowledgement.alert, acknowledgement);
  const item = state.feed.get(acknowledgement.alert);
  if (item !== undefined) showAcknowledgement(item, acknowledgement);
  updateFeedCount();
});

$('reconnect').addEventListener('click', () => {
  socket.disconnect();
  socket.connect();
});

$('force-select').addEventListener('change', (event) => {
  const chosen = event.target.value;
  socket.emit('join', { force: chosen }, (reply) => {
    if (!reply.ok) {
      state.refusal = `Cannot show ${chosen} (${reply.reason}): ${reply.detail}`;
      setConnection('refused', `Refused (${reply.status})`);
    }
  });
});

function chooseForce(forces) {
  const select = $('force-select');
  select.replaceChildren(...forces.map((name) => element('option', { value: name }, name)));
  select.closest('label').hidden = forces.length < 2;
  if (force !== undefined) {
    select.value = force;
    return;
  }
  if (forces.length === 0) {
    // No live state yet (callmon just started): ask again shortly.
    setTimeout(
      () => socket.emit('forces', (list) => Array.isArray(list) && chooseForce(list)),
      2000,
    );
    return;
  }
  force = forces[0];
  select.value = force;
  socket.emit('join', { force });
}

// ——— board: gauges and lists, redrawn at most once a second ———

function showBoard(board) {
  // Timers never run backwards: a board a little older than this screen's clock (it left
  // the engine a moment ago) does not pull the clock back; a jump of more than a couple of
  // seconds (a restart, another force) resets it.
  const previous = feedNow();
  state.board = board;
  state.receivedAt = performance.now();
  if (previous !== null && previous > board.now && previous - board.now < 2000 * board.speed) {
    state.receivedAt -= (previous - board.now) / board.speed;
  }
  renderGauges(board);
  renderRinging(board);
  renderUnattended(board);
  renderOwed(board);
  tick();
}

function renderGauges(board) {
  const rows = CHANNELS.map((channel) => {
    const target = board.targets[channel];
    const cells = WINDOWS.map((window) => {
      const figures = board.snapshot.windows[window].calls[channel];
      const value = figures.compliance;
      const below = value !== null && value < target.ratio;
      const gauge = element('div', {
        class: 'gauge',
        dataset: { state: value === null ? 'none' : below ? 'below' : 'ok', window, channel },
      });
      const mark = value === null ? '' : below ? '✗ below target' : '✓ on target';
      const bar = element('div', { class: 'bar', 'aria-hidden': 'true' });
      const fill = element('div', { class: 'fill' });
      fill.style.width = `${Math.round((value ?? 0) * 100)}%`;
      const line = element('div', { class: 'target' });
      line.style.left = `${target.ratio * 100}%`;
      bar.append(fill, line);
      gauge.append(
        element('span', { class: 'figure' }, percent(value)),
        ' ',
        element('span', { class: 'mark' }, mark),
        bar,
        element(
          'span',
          { class: 'note' },
          `${figures.within + figures.breached} counted, ${figures.breached} late, ${figures.pending} waiting · target ${percent(target.ratio)} in ${target.withinMs / 1000} s`,
        ),
      );
      return element('td', {}, gauge);
    });
    return element('tr', {}, element('th', { scope: 'row' }, channel), ...cells);
  });
  $('gauges').replaceChildren(...rows);
}

function listCount(id, list) {
  $(`${id}-count`).textContent =
    list.total > list.items.length ? `(${list.items.length} of ${list.total})` : `(${list.total})`;
  $(`${id}-empty`).hidden = list.total > 0;
}

function renderRinging(board) {
  listCount('ringing', board.ringing);
  $('ringing').replaceChildren(...board.ringing.items.map(ringingRow));
}

/** A call that breached since the last board: on the list at once, until the next board. */
function showRinging(alert) {
  if (
    state.board === null ||
    $('ringing').querySelector(`tr[data-call="${CSS.escape(alert.item)}"]`)
  ) {
    return;
  }
  const withinMs = state.board.targets[alert.channel]?.withinMs ?? 0;
  $('ringing').append(
    ringingRow({
      call: alert.item,
      channel: alert.channel,
      presentedAt: alert.deadline - withinMs,
      deadline: alert.deadline,
    }),
  );
  $('ringing-empty').hidden = true;
  tick();
}

/** An item answered, attended or updated since the last board: off its list at once. */
function settled(alert) {
  const lists = { 'call.unanswered': 'ringing', attendance: 'unattended', victim_update: 'owed' };
  const attribute = alert.rule === 'call.unanswered' ? 'call' : 'incident';
  const list = lists[alert.rule];
  if (list === undefined) return;
  $(list)
    .querySelector(`tr[data-${attribute}="${CSS.escape(alert.item)}"]`)
    ?.remove();
  $(`${list}-empty`).hidden = $(list).rows.length > 0;
}

function ringingRow(call) {
  return element(
    'tr',
    {
      dataset: {
        call: call.call,
        channel: call.channel,
        presentedAt: String(call.presentedAt),
        deadline: String(call.deadline),
      },
    },
    element('td', {}, call.call),
    element('td', {}, call.channel),
    element('td', { class: 'timer' }, ''),
    element('td', { class: 'status' }, ''),
  );
}

function renderUnattended(board) {
  listCount('unattended', board.unattended);
  const rows = board.unattended.items.map((incident) =>
    element(
      'tr',
      { dataset: { incident: incident.incident, deadline: String(incident.deadline) } },
      element('td', {}, incident.incident),
      element('td', {}, `G${incident.grade}`),
      element('td', {}, incident.area),
      element('td', { class: 'status countdown' }, ''),
    ),
  );
  $('unattended').replaceChildren(...rows);
}

function renderOwed(board) {
  listCount('owed', board.updatesOwed);
  const rows = board.updatesOwed.items.map((owed) =>
    element(
      'tr',
      { dataset: { incident: owed.incident, deadline: String(owed.due) } },
      element('td', {}, owed.incident),
      element('td', {}, `G${owed.grade}`),
      element('td', { class: 'status countdown' }, ''),
    ),
  );
  $('owed').replaceChildren(...rows);
}

// ——— timers: every TICK_MS, on the rows already drawn (no new nodes) ———

function tick() {
  const now = feedNow();
  if (now !== null) $('sim-clock').textContent = clockTime(now);
  if (now !== null) {
    for (const row of $('ringing').rows) {
      const elapsed = now - Number(row.dataset.presentedAt);
      const breached = now > Number(row.dataset.deadline);
      row.cells[2].textContent = duration(elapsed);
      row.classList.toggle('breached', breached);
      row.cells[3].textContent = breached ? '⚠ breach' : 'waiting';
    }
    for (const body of [$('unattended'), $('owed')]) {
      for (const row of body.rows) {
        const left = Number(row.dataset.deadline) - now;
        const cell = row.querySelector('.countdown');
        cell.textContent = left >= 0 ? `in ${duration(left)}` : `⚠ overdue ${duration(-left)}`;
        row.classList.toggle('overdue', left < 0);
      }
    }
  }
  if (state.connection === 'live' || state.connection === 'stale') {
    const silent = performance.now() - state.lastMessageAt;
    if (silent > STALE_AFTER_MS) {
      setConnection('stale', `Stale: no update for ${Math.round(silent / 1000)} s`);
    } else if (state.connection === 'stale') {
      setConnection('live', 'Live');
    }
  }
}
setInterval(tick, TICK_MS);

// ——— breach feed ———

const RULE_TEXT = {
  'call.unanswered': (alert) => `${alert.channel} call ${alert.item} unanswered`,
  attendance: (alert) => `G${alert.grade} ${alert.area} incident ${alert.item} not attended`,
  victim_update: (alert) => `caller of ${alert.item} not updated on the delay`,
};

function addAlert(entry, live = false) {
  const alert = entry.alert;
  if (alert.kind === 'cleared') {
    // Only a breach's resolution matters on this feed; other clears are routine.
    const breach = [...state.feed.values()]
      .reverse()
      .find((item) => item.dataset.item === alert.item && item.dataset.rule === alert.rule);
    if (breach !== undefined && alert.wasBreached) {
      breach.classList.add('resolved');
      const text = alert.status === 'done' ? 'resolved' : 'deadline moved (regraded)';
      breach.querySelector('.resolution').textContent = `✓ ${text} at ${clockTime(alert.at)}`;
    }
    return;
  }
  if (state.feed.has(entry.id)) return;
  const now = feedNow();
  const item = element('li', {
    class: 'breach',
    dataset: {
      alertId: entry.id,
      rule: alert.rule,
      item: alert.item,
      deadline: String(alert.deadline),
      // When this screen showed it, on its control-room clock and on the wall clock (the
      // browser test checks the latter against the deadline).
      shownAt: String(live && now !== null ? now : alert.at),
      shownWall: String(live ? Date.now() : ''),
    },
  });
  const what = (RULE_TEXT[alert.rule] ?? (() => alert.item))(alert);
  item.append(
    element('span', { class: 'when' }, clockTime(alert.at)),
    element('span', { class: 'kind' }, '⚠ BREACH'),
    element('span', { class: 'what' }, `${what} past ${clockTime(alert.deadline)}`),
    element('span', { class: 'resolution' }, ''),
  );
  const acknowledgement = state.acknowledgements.get(entry.id);
  if (acknowledgement !== undefined) showAcknowledgement(item, acknowledgement);
  else item.append(acknowledgeButton(entry.id, what));
  state.feed.set(entry.id, item);
  $('feed').prepend(item);
  while (state.feed.size > MAX_FEED) {
    const [oldest, node] = state.feed.entries().next().value;
    state.feed.delete(oldest);
    state.acknowledgements.delete(oldest);
    node.remove();
  }
}

function acknowledgeButton(id, what) {
  const button = element(
    'button',
    { type: 'button', 'aria-label': `Acknowledge breach: ${what}` },
    'Acknowledge',
  );
  button.addEventListener('click', () => {
    button.disabled = true;
    socket.emit('acknowledge', { force, alert: id }, (reply) => {
      if (reply.ok) return; // the `acknowledged` broadcast updates every screen, this one too
      button.disabled = false;
      const item = state.feed.get(id);
      item?.querySelector('.ack-error')?.remove();
      item?.append(
        element('span', { class: 'ack-error', role: 'alert' }, `Not acknowledged: ${reply.detail}`),
      );
    });
  });
  return button;
}

function showAcknowledgement(item, acknowledgement) {
  const focused = item.contains(document.activeElement);
  item.querySelector('button')?.remove();
  item.querySelector('.ack-error')?.remove();
  item.classList.add('acknowledged');
  const note = `✔ acknowledged by ${acknowledgement.by} at ${clockTime(acknowledgement.at)}`;
  const shown = item.querySelector('.ack-note');
  // Two nodes may each take a press at once; the one that stands then follows, replacing it.
  if (shown === null) item.append(element('span', { class: 'ack-note' }, note));
  else shown.textContent = note;
  // Keep keyboard users in the feed: move on to the next breach still to acknowledge.
  if (focused) (item.nextElementSibling?.querySelector('button') ?? $('feed-heading')).focus();
}

function updateFeedCount() {
  const open = [...state.feed.values()].filter((item) => !item.classList.contains('acknowledged'));
  $('feed-count').textContent = `(${open.length} to acknowledge)`;
  $('feed-empty').hidden = state.feed.size > 0;
}

// ——— shift chart ———

function renderChart() {
  const points = state.history;
  const width = 600;
  const top = 10;
  const bottom = 140;
  const y = (value) => bottom - value * (bottom - top);
  const grid = [];
  for (const level of [0, 0.5, 1]) {
    grid.push(`<line class="grid" x1="30" x2="${width}" y1="${y(level)}" y2="${y(level)}"/>`);
    grid.push(`<text x="0" y="${y(level) + 4}">${level * 100}%</text>`);
  }
  const target = state.board?.targets['999'].ratio;
  if (target !== undefined) {
    grid.push(`<line class="target" x1="30" x2="${width}" y1="${y(target)}" y2="${y(target)}"/>`);
  }
  $('chart-grid').innerHTML = grid.join('');
  if (points.length === 0) {
    $('chart-summary').textContent = 'No figures yet.';
    return;
  }
  const from = points[0].at;
  const span = Math.max(points.at(-1).at - from, 1);
  const x = (at) => 30 + ((at - from) / span) * (width - 40);
  for (const channel of CHANNELS) {
    const coordinates = points
      .filter((point) => point[channel] !== null)
      .map((point) => `${x(point.at).toFixed(1)},${y(point[channel]).toFixed(1)}`);
    $(`chart-${channel}`).setAttribute('points', coordinates.join(' '));
  }
  const last = points.at(-1);
  $('chart-summary').textContent =
    `Rolling 1 h compliance from ${clockTime(from)} to ${clockTime(last.at)}: ` +
    `999 now ${percent(last['999'])}, 101 now ${percent(last['101'])}` +
    (target === undefined ? '.' : `; 999 target ${percent(target)}.`);
}
