import type { Area, Channel, Grade } from '@callmon/events';
import { z } from 'zod';

/**
 * Target policies (metrics.md §1). Targets are data: a policy is a history of versions,
 * each a complete set of targets with an `effective_from`; a call or incident is judged
 * by the version in effect at its `presented_at` / `opened_at`.
 */

const seconds = z.number().int('must be a whole number of seconds').positive('must be > 0');
const ratio = z.number().gt(0, 'must be > 0').lte(1, 'must be ≤ 1');

export const abandonedRule = z.enum(['exclude', 'breach_if_late', 'breach']);
export type AbandonedRule = z.infer<typeof abandonedRule>;

const callTarget = z.strictObject({
  answer_within_s: seconds,
  target_ratio: ratio,
  abandoned: abandonedRule,
});

const attendanceTargetSchema = z.strictObject({
  grade: z.number().int().min(1).max(4),
  /** Absent: the target covers every area (key `G<grade>`). */
  area: z.enum(['urban', 'rural']).optional(),
  within_s: seconds,
});

const zoneName = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone known to this runtime' },
);

const isoInstant = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 instant with a zone',
});

export const policyVersionSchema = z
  .strictObject({
    id: z.string().min(1).max(128),
    effective_from: isoInstant.nullable(),
    timezone: zoneName,
    calls: z.strictObject({ '999': callTarget, '101': callTarget }),
    attendance: z.strictObject({
      targets: z.array(attendanceTargetSchema),
      target_ratio: ratio,
    }),
    victim_update: z.strictObject({ grace_s: z.number().int().nonnegative() }),
  })
  .superRefine((version, ctx) => {
    const seen = new Map<number, Set<string>>();
    version.attendance.targets.forEach((target, index) => {
      const areas = seen.get(target.grade) ?? new Set<string>();
      const key = target.area ?? 'any';
      if (areas.has(key) || (key === 'any' && areas.size > 0) || areas.has('any')) {
        ctx.addIssue({
          code: 'custom',
          path: ['attendance', 'targets', index],
          message: `grade ${target.grade} has overlapping targets`,
        });
      }
      areas.add(key);
      seen.set(target.grade, areas);
    });
  });

export type PolicyVersionDocument = z.infer<typeof policyVersionSchema>;

/** A validated policy version with its start as UTC ms (−∞ for "since the beginning"). */
export interface PolicyVersion extends PolicyVersionDocument {
  effectiveFromMs: number;
}

export const UK_DEFAULT_POLICY: PolicyVersionDocument = {
  id: 'uk-default-v1',
  effective_from: null,
  timezone: 'Europe/London',
  calls: {
    '999': { answer_within_s: 10, target_ratio: 0.9, abandoned: 'exclude' },
    '101': { answer_within_s: 180, target_ratio: 0.9, abandoned: 'exclude' },
  },
  attendance: {
    targets: [
      { grade: 1, area: 'urban', within_s: 900 },
      { grade: 1, area: 'rural', within_s: 1200 },
      { grade: 2, within_s: 3600 },
    ],
    target_ratio: 0.9,
  },
  victim_update: { grace_s: 900 },
};

/**
 * A force's policy file: a version history. Each version lists only the keys it
 * overrides; it inherits the rest from the previous version (the first from
 * `uk-default-v1`). `attendance.targets`, when given, replaces the list whole.
 */
const deepPartialCall = callTarget.partial();
export const forcePolicyFileSchema = z.strictObject({
  force: z.string().regex(/^[a-z0-9][a-z0-9-]{1,31}$/, 'must be a force code'),
  versions: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(128),
        effective_from: isoInstant.nullable(),
        timezone: z.string().optional(),
        calls: z
          .strictObject({ '999': deepPartialCall, '101': deepPartialCall })
          .partial()
          .optional(),
        attendance: z
          .strictObject({ targets: z.array(attendanceTargetSchema), target_ratio: ratio })
          .partial()
          .optional(),
        victim_update: z.strictObject({ grace_s: z.number().int().nonnegative() }).optional(),
      }),
    )
    .min(1, 'a policy needs at least one version'),
});
export type ForcePolicyFile = z.infer<typeof forcePolicyFileSchema>;

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

function firstIssue(error: z.ZodError, prefix: string): PolicyError {
  const issue = error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return new PolicyError(`invalid policy: ${field || '(root)'} ${issue.message}`, field);
}

function toVersion(document: PolicyVersionDocument): PolicyVersion {
  return {
    ...document,
    effectiveFromMs:
      document.effective_from === null
        ? Number.NEGATIVE_INFINITY
        : Date.parse(document.effective_from),
  };
}

/** A policy history, ordered by `effective_from`. */
export class Policy {
  readonly versions: readonly PolicyVersion[];

  private constructor(versions: PolicyVersion[]) {
    this.versions = versions;
  }

  static of(documents: readonly unknown[]): Policy {
    if (documents.length === 0) throw new PolicyError('invalid policy: no versions', 'versions');
    const versions = documents.map((document, index) => {
      const parsed = policyVersionSchema.safeParse(document);
      if (!parsed.success) throw firstIssue(parsed.error, `versions.${index}`);
      return toVersion(parsed.data);
    });
    for (let i = 1; i < versions.length; i++) {
      if (!(versions[i]!.effectiveFromMs > versions[i - 1]!.effectiveFromMs)) {
        throw new PolicyError(
          `invalid policy: versions.${i}.effective_from must be later than the version before it`,
          `versions.${i}.effective_from`,
        );
      }
    }
    const zones = new Set(versions.map((version) => version.timezone));
    if (zones.size > 1) {
      // Calendar windows would be ambiguous if the zone changed mid-history.
      throw new PolicyError('invalid policy: every version must use the same timezone', 'timezone');
    }
    return new Policy(versions);
  }

  /** The default policy, `uk-default-v1`, in effect since the beginning. */
  static ukDefault(): Policy {
    return Policy.of([UK_DEFAULT_POLICY]);
  }

  /** Build a force's policy from its file's contents (already-parsed JSON). */
  static fromForceFile(file: unknown): Policy {
    const parsed = forcePolicyFileSchema.safeParse(file);
    if (!parsed.success) throw firstIssue(parsed.error, '');
    let previous: PolicyVersionDocument = UK_DEFAULT_POLICY;
    const documents = parsed.data.versions.map((override) => {
      const merged: PolicyVersionDocument = {
        id: override.id,
        effective_from: override.effective_from,
        timezone: override.timezone ?? previous.timezone,
        calls: {
          '999': { ...previous.calls['999'], ...override.calls?.['999'] },
          '101': { ...previous.calls['101'], ...override.calls?.['101'] },
        },
        attendance: {
          targets: override.attendance?.targets ?? previous.attendance.targets,
          target_ratio: override.attendance?.target_ratio ?? previous.attendance.target_ratio,
        },
        victim_update: override.victim_update ?? previous.victim_update,
      };
      previous = merged;
      return merged;
    });
    return Policy.of(documents);
  }

  get timezone(): string {
    return this.versions[0]!.timezone;
  }

  /**
   * The version in effect at `atMs`. An item older than the first version is judged by
   * the first version: a history cannot leave an item without targets.
   */
  versionAt(atMs: number): PolicyVersion {
    const versions = this.versions;
    let chosen = versions[0]!;
    for (let i = 1; i < versions.length; i++) {
      if (versions[i]!.effectiveFromMs <= atMs) chosen = versions[i]!;
      else break;
    }
    return chosen;
  }

  /** Ids of the versions in effect at any instant of [fromMs, toMs), comma-joined. */
  idFor(fromMs: number, toMs: number): string {
    const ids: string[] = [];
    this.versions.forEach((version, index) => {
      const next = this.versions[index + 1]?.effectiveFromMs ?? Number.POSITIVE_INFINITY;
      const startsBeforeEnd = index === 0 || version.effectiveFromMs < toMs;
      if (startsBeforeEnd && next > fromMs) ids.push(version.id);
    });
    return ids.join(',');
  }

  /** Attendance keys across all versions, in policy order (`G1-urban`, `G1-rural`, `G2`). */
  attendanceKeys(): string[] {
    const keys: string[] = [];
    for (const version of this.versions) {
      for (const target of version.attendance.targets) {
        const key = attendanceKey(target.grade as Grade, target.area);
        if (!keys.includes(key)) keys.push(key);
      }
    }
    return keys;
  }
}

export function attendanceKey(grade: Grade, area: Area | undefined): string {
  return area === undefined ? `G${grade}` : `G${grade}-${area}`;
}

/** The attendance target for a grade and area: its key and its time in ms, or none. */
export function attendanceTarget(
  version: PolicyVersion,
  grade: Grade,
  area: Area,
): { key: string; withinMs: number } | undefined {
  for (const target of version.attendance.targets) {
    if (target.grade === grade && (target.area === undefined || target.area === area)) {
      return { key: attendanceKey(grade, target.area), withinMs: target.within_s * 1000 };
    }
  }
  return undefined;
}

export function answerWithinMs(version: PolicyVersion, channel: Channel): number {
  return version.calls[channel].answer_within_s * 1000;
}
