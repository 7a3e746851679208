import type { Channel } from '@callmon/events';
import type { Policy } from './policy.ts';
import type { LiveSnapshot, LiveWindowName } from './reports.ts';

export interface WindowAlert {
  kind: 'window';
  force: string;
  channel: Channel;
  window: LiveWindowName;
  /** `below`: compliance fell under the target; `recovered`: back above target + hysteresis. */
  state: 'below' | 'recovered';
  compliance: number;
  target: number;
  at: string;
}

export interface TargetAlarmOptions {
  policy: Policy;
  /** Window watched per channel. Default `1h`, the supervisor's rolling hour. */
  window?: LiveWindowName;
  /** Decided calls (within + breached) needed before the ratio means anything. Default 10. */
  minDecided?: number;
  /** How far above target compliance must climb to clear the alarm. Default 0.02. */
  hysteresis?: number;
}

/**
 * `target + hysteresis` as the decimal it stands for. In binary floating point
 * 0.8 + 0.02 is 0.8200000000000001, which 82 of 100 calls (0.82) would never reach.
 */
function recoveryLevel(target: number, hysteresis: number): number {
  return Number((target + hysteresis).toFixed(12));
}

/**
 * "Window below target" per channel, with hysteresis so that a ratio hovering at the
 * target does not flap: it alarms when compliance drops below the target and clears only
 * once compliance is back at or above target + hysteresis.
 */
export class TargetAlarm {
  private readonly below = new Set<Channel>();
  private readonly window: LiveWindowName;
  private readonly minDecided: number;
  private readonly hysteresis: number;

  constructor(private readonly options: TargetAlarmOptions) {
    this.window = options.window ?? '1h';
    this.minDecided = options.minDecided ?? 10;
    this.hysteresis = options.hysteresis ?? 0.02;
  }

  observe(snapshot: LiveSnapshot): WindowAlert[] {
    const alerts: WindowAlert[] = [];
    const version = this.options.policy.versionAt(Date.parse(snapshot.as_of));
    for (const channel of ['999', '101'] as const) {
      const figures = snapshot.windows[this.window].calls[channel];
      const compliance = figures.compliance;
      const target = version.calls[channel].target_ratio;
      if (compliance === null || figures.within + figures.breached < this.minDecided) continue;
      const isBelow = this.below.has(channel);
      if (!isBelow && compliance < target) {
        this.below.add(channel);
        alerts.push(this.alert(snapshot, channel, 'below', compliance, target));
      } else if (isBelow && compliance >= recoveryLevel(target, this.hysteresis)) {
        this.below.delete(channel);
        alerts.push(this.alert(snapshot, channel, 'recovered', compliance, target));
      }
    }
    return alerts;
  }

  private alert(
    snapshot: LiveSnapshot,
    channel: Channel,
    state: WindowAlert['state'],
    compliance: number,
    target: number,
  ): WindowAlert {
    return {
      kind: 'window',
      force: snapshot.force,
      channel,
      window: this.window,
      state,
      compliance,
      target,
      at: snapshot.as_of,
    };
  }
}
