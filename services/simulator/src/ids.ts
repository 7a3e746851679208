import { DAY } from './calendar.ts';

/**
 * Call and incident ids: `<prefix>-<yymmdd>-<n>` and `<prefix>-i-<yymmdd>-<n>`, numbered
 * per UTC day, like a CAD's log numbers. Event ids append a suffix per event (`-p`
 * presented, `-a` answered, `-o` opened, `-d1` first dispatch, ...), so every id is
 * unique per force by construction, and runs over different days never collide.
 */
export class IdMaker {
  private callDay = Number.NaN;
  private callDayLabel = '';
  private callCount = 0;
  private incidentDay = Number.NaN;
  private incidentDayLabel = '';
  private incidentCount = 0;

  constructor(private readonly prefix: string) {}

  /** Ids are numbered in creation order, so `now` never goes back. */
  call(now: number): string {
    const day = Math.floor(now / DAY);
    if (day !== this.callDay) {
      this.callDay = day;
      this.callDayLabel = dayLabel(day);
      this.callCount = 0;
    }
    this.callCount++;
    return `${this.prefix}-${this.callDayLabel}-${String(this.callCount).padStart(6, '0')}`;
  }

  incident(now: number): string {
    const day = Math.floor(now / DAY);
    if (day !== this.incidentDay) {
      this.incidentDay = day;
      this.incidentDayLabel = dayLabel(day);
      this.incidentCount = 0;
    }
    this.incidentCount++;
    return `${this.prefix}-i-${this.incidentDayLabel}-${String(this.incidentCount).padStart(5, '0')}`;
  }
}

function dayLabel(day: number): string {
  const iso = new Date(day * DAY).toISOString();
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
}

/** The id prefix for a force: its code's first three letters or digits (`northants` → `nor`). */
export function idPrefix(force: string): string {
  return force.replace(/-/g, '').slice(0, 3);
}
