import { readFileSync } from 'node:fs';

/**
 * CPU time (user + system) of this process's finished children, from /proc/self/stat
 * (cutime + cstime: every child waited for, with its own waited-for children); NaN where
 * there is no /proc. Assumes the usual 100 clock ticks per second.
 */
export function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}
