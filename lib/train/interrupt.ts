/**
 * Stopping long work cleanly on an interrupt (SIGINT): Ctrl-C in a terminal,
 * or JupyterLab's stop button, which sends SIGINT to the kernel. Deno's
 * kernel dies of SIGINT unless code running in it listens for the signal;
 * with a listener the signal only sets a flag, the work stops at its next
 * safe point (between batches), the cell ends normally and the kernel, the
 * model and every variable live on.
 *
 * Deno runs a signal listener as a macrotask. Work that awaits only promises
 * (tfjs's `data()` on the cpu and wasm backends resolves as a microtask, and
 * tfjs's own `nextFrame` yield is a `setImmediate`, after which the signal
 * often waits for dozens more turns) never lets it run, so the interrupt is
 * seen late or never. {@linkcode Interruptible.shouldStop} therefore lets the
 * event loop take a timer turn every `yieldEveryMs` and then says whether to
 * stop: call it between steps.
 *
 * `fitModel`, `trainLoop` and `trainDataParallel` listen while they run
 * (`maxStimulus` too: it returns the units it finished); a hand-written loop
 * in a notebook uses {@linkcode interruptible}. On an interrupt, training
 * stops after the current batch, the model keeps the weights trained so far,
 * the call returns normally saying where it stopped (`result.stopReason`),
 * and a partial epoch is left out of the history and the checkpoints. The
 * library's own loops take the timer turn between batches, as `shouldStop()`
 * does (about 2 ms every 200 ms).
 *
 * Tested: a training cell in a kernel started from this project's
 * kernelspec is interrupted both by the project's Jupyter client and by
 * `jupyter_client` (what JupyterLab uses). What no code in the kernel can
 * fix: a kernel started by a program that blocks SIGINT inherits the blocked
 * signal and never sees it; `interruptible()` (and so every training call)
 * then prints a warning saying so. Without any listener, Deno's kernel dies
 * of SIGINT (and ignores `"interrupt_mode": "message"`), so code that runs
 * long outside these helpers cannot be stopped without restarting the kernel.
 *
 * @example
 * ```ts
 * import { interruptible } from "./interrupt.ts";
 * using stop = interruptible({ what: "my loop" });
 * for (let step = 0; step < 1000 && !(await stop.shouldStop()); step++) {
 *   await Promise.resolve(); // one step of work
 * }
 * ```
 *
 * @module
 */

/** Options of {@linkcode interruptible}. */
export interface InterruptibleOptions {
  /** What is running, for the message. Default: "the work". */
  what?: string;
  /** Called once, on the first interrupt. Default: none. */
  onInterrupt?: () => void;
  /**
   * Where the one-line notice goes; null for none. Default: `console.error`.
   */
  log?: ((line: string) => void) | null;
  /**
   * At most how often, in milliseconds, `shouldStop()` lets the event loop
   * take a timer turn (about 1-2 ms each), so that a pending interrupt can
   * reach the listener. Default: 200.
   */
  yieldEveryMs?: number;
}

/** A live SIGINT listener; remove it with `dispose()` (or `using`). */
export interface Interruptible extends Disposable {
  /** True once an interrupt arrived. */
  readonly stopRequested: boolean;
  /** Aborted on the first interrupt (for APIs that take an AbortSignal). */
  readonly signal: AbortSignal;
  /** Whether the listener could be installed (false where Deno has no signals). */
  readonly listening: boolean;
  /**
   * Call between steps: lets the event loop take a timer turn when
   * `yieldEveryMs` passed since the last one (so a pending interrupt reaches
   * the listener even when the steps only await promises), then resolves to
   * `stopRequested`.
   */
  shouldStop(): Promise<boolean>;
  /** Removes the listener; safe to call more than once. */
  dispose(): void;
}

/** Whether the blocked-SIGINT warning was printed (once per process). */
let blockedWarned = false;

/**
 * Listens for SIGINT until disposed: the first interrupt sets
 * `stopRequested`, aborts `signal`, calls `onInterrupt` and prints one line;
 * the process (or Jupyter kernel) is not killed. Await `shouldStop()`
 * between steps (reading `stopRequested` alone is not enough when the steps
 * never yield to the event loop) and always dispose (best with `using`), or
 * Ctrl-C stays captured.
 *
 * @example
 * ```ts
 * import { interruptible } from "./interrupt.ts";
 * const stop = interruptible({ what: "training" });
 * try {
 *   while (!(await stop.shouldStop())) {
 *     await Promise.resolve(); // a batch
 *     break;
 *   }
 * } finally {
 *   stop.dispose();
 * }
 * ```
 */
export function interruptible(
  options: InterruptibleOptions = {},
): Interruptible {
  const what = options.what ?? "the work";
  const yieldEveryMs = options.yieldEveryMs ?? 200;
  if (!(yieldEveryMs >= 0)) {
    throw new RangeError(
      `yieldEveryMs must be a number >= 0 (milliseconds), got ${yieldEveryMs}`,
    );
  }
  const log = options.log === undefined ? console.error : options.log;
  const controller = new AbortController();
  let stopRequested = false;
  let listening = false;
  const listener = () => {
    if (stopRequested) {
      log?.(`Interrupted again: ${what} stops at its next safe point.`);
      return;
    }
    stopRequested = true;
    log?.(
      `Interrupted: ${what} stops at its next safe point and keeps what it did so far.`,
    );
    options.onInterrupt?.();
    controller.abort(new Error(`${what} was interrupted`));
  };
  try {
    Deno.addSignalListener("SIGINT", listener);
    listening = true;
  } catch {
    // No signal support here (e.g. some workers): nothing can interrupt.
  }
  if (listening && !blockedWarned && _sigintBlocked()) {
    blockedWarned = true;
    log?.(
      `Warning: SIGINT is blocked in this process (inherited from the ` +
        `program that started it), so Ctrl-C or Jupyter's stop button cannot ` +
        `reach ${what}; start it from a shell or program that does not block ` +
        `SIGINT.`,
    );
  }
  const dispose = () => {
    if (!listening) return;
    listening = false;
    try {
      Deno.removeSignalListener("SIGINT", listener);
    } catch {
      // Already removed.
    }
  };
  let lastTurn = performance.now();
  const shouldStop = async () => {
    if (listening && !stopRequested) {
      const now = performance.now();
      if (now - lastTurn >= yieldEveryMs) {
        await _timerTurn();
        lastTurn = performance.now();
      }
    }
    return stopRequested;
  };
  return {
    get stopRequested() {
      return stopRequested;
    },
    signal: controller.signal,
    get listening() {
      return listening;
    },
    shouldStop,
    dispose,
    [Symbol.dispose]: dispose,
  };
}

/**
 * Whether this thread blocks SIGINT (Linux: `SigBlk` in /proc). A blocked
 * signal is inherited across `exec`: a kernel started by a program that
 * blocks SIGINT never receives it. False wherever that cannot be read
 * without asking for a permission.
 */
function _sigintBlocked(): boolean {
  if (Deno.build.os !== "linux") return false;
  const path = "/proc/thread-self/status";
  try {
    const read = Deno.permissions.querySync({ name: "read", path });
    if (read.state !== "granted") return false;
    const mask = /^SigBlk:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync(path));
    return mask !== null && (BigInt(`0x${mask[1]}`) & 2n) !== 0n;
  } catch {
    return false;
  }
}

/**
 * One event-loop turn through the timers phase. A `setImmediate` (tfjs's
 * `nextFrame` under Deno) or a resolved promise is not enough: measured on
 * Deno 2.9.6, a SIGINT listener ran 0.7-1.7 s after the signal with a
 * `setImmediate` every 125 ms, and within one turn with `setTimeout(0)`.
 */
function _timerTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
