// Which process wrote a file, whether it still runs, and exclusive lock files:
// what lets a run tell its own temporary files and folders from those of a
// concurrent run (keep) and of a killed one (remove at once). Private to the
// library: used by data/fetch.ts and train/checkpoint.ts.
import process from "node:process";

/**
 * A process, told apart from a later one that reuses its PID by its start
 * time (clock ticks since boot, from `/proc/<pid>/stat`; null where there is
 * no `/proc`).
 */
export interface ProcessIdentity {
  pid: number;
  start: string | null;
}

/** The start time of `pid` from `/proc`, or null (no such process or no /proc). */
function _startTime(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: count the
    // fields after its closing parenthesis; the start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

let _self: ProcessIdentity | null = null;

/** This process's identity. */
export function currentProcess(): ProcessIdentity {
  _self ??= { pid: Deno.pid, start: _startTime(Deno.pid) };
  return _self;
}

/** The identity of a running process `pid` (start null when unknown). */
export function processIdentity(pid: number): ProcessIdentity {
  return { pid, start: _startTime(pid) };
}

/**
 * Whether the process that wrote something still runs: its PID exists and,
 * where both start times are known, it started when the writer did. When
 * this cannot be told (no permission to look), it answers true: keeping a
 * file is safe, removing a live writer's file is not.
 */
export function processAlive(owner: ProcessIdentity): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (owner.pid === Deno.pid) {
    const self = currentProcess();
    return owner.start === null || self.start === null ||
      owner.start === self.start;
  }
  let exists: boolean;
  try {
    Deno.statSync("/proc/self/stat");
    const start = _startTime(owner.pid);
    exists = start !== null;
    if (exists && owner.start !== null && start !== owner.start) return false;
    return exists;
  } catch {
    // No /proc (macOS, Windows): ask the kernel whether the PID exists.
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code !== "ESRCH";
  }
}

/**
 * A tag naming this process in temporary file and folder names:
 * `<pid>-<start>` (start `0` where unknown).
 */
export function ownerTag(): string {
  const self = currentProcess();
  return `${self.pid}-${self.start ?? "0"}`;
}

/**
 * Reads the owner out of a name holding {@linkcode ownerTag}'s
 * `<pid>-<start>` right after `prefix`; null when the name has no tag.
 */
export function ownerFromTag(tag: string): ProcessIdentity | null {
  const m = /^(\d+)-(\d+)$/.exec(tag);
  if (!m) return null;
  return { pid: Number(m[1]), start: m[2] === "0" ? null : m[2] };
}

/** What a lock file holds. */
export interface LockInfo extends ProcessIdentity {
  /** ISO time the lock was taken. */
  since: string;
}

/** A lock held by this process; `release()` removes its file. */
export interface HeldLock {
  path: string;
  /** Locks that were taken over because their holder was gone. */
  tookOverFrom: LockInfo | null;
  release(): Promise<void>;
}

/** The lock is held by another live process. */
export class LockedError extends Error {
  /** Who holds it. */
  readonly holder: LockInfo;
  /** Creates the error. */
  constructor(message: string, holder: LockInfo) {
    super(message);
    this.name = "LockedError";
    this.holder = holder;
  }
}

async function _readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await Deno.readTextFile(path));
    if (typeof info?.pid !== "number") return null;
    return {
      pid: info.pid,
      start: typeof info.start === "string" ? info.start : null,
      since: String(info.since ?? "?"),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw e;
    return null;
  }
}

/**
 * Takes the lock file `path` (created exclusively, holding this process's
 * PID and start time). A lock whose holder is gone, or which is unreadable
 * (a holder killed while writing it), is taken over; a live holder's lock
 * throws {@linkcode LockedError} with `describe(holder)` as the message.
 */
export async function acquireLock(
  path: string,
  describe: (holder: LockInfo) => string,
): Promise<HeldLock> {
  const self = currentProcess();
  const mine: LockInfo = { ...self, since: new Date().toISOString() };
  let tookOverFrom: LockInfo | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      try {
        await file.write(new TextEncoder().encode(JSON.stringify(mine)));
      } finally {
        file.close();
      }
      let released = false;
      return {
        path,
        tookOverFrom,
        async release() {
          if (released) return;
          released = true;
          const now = await _readLock(path).catch(() => null);
          if (now && now.pid === self.pid && now.start === self.start) {
            await Deno.remove(path).catch(() => {});
          }
        },
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    let holder: LockInfo | null;
    try {
      holder = await _readLock(path);
    } catch {
      continue; // Released meanwhile: try again.
    }
    if (holder && processAlive(holder)) {
      throw new LockedError(describe(holder), holder);
    }
    // Gone (or a lock file cut short): move it aside, one taker wins.
    const aside = `${path}.stale-${self.pid}-${attempt}`;
    try {
      await Deno.rename(path, aside);
      await Deno.remove(aside).catch(() => {});
      tookOverFrom = holder ?? { pid: 0, start: null, since: "?" };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error(`could not take the lock ${path}; try again`);
}
