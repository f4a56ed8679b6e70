/**
 * Stopping long work cleanly on an interrupt (SIGINT): Ctrl-C in a terminal,
 * or JupyterLab's stop button, which sends SIGINT to the kernel. Deno's
 * kernel dies of SIGINT unless code running in it listens for the signal;
 * with a listener the signal only sets a flag, the work stops at its next
 * safe point (between batches), the cell ends normally and the kernel, the
 * model and every variable live on.
 *
 * `fitModel`, `trainLoop` and `trainDataParallel` listen while they run; a
 * hand-written loop in a notebook uses {@linkcode interruptible}.
 *
 * @example
 * ```ts
 * import { interruptible } from "./interrupt.ts";
 * using stop = interruptible({ what: "my loop" });
 * for (let step = 0; step < 1000 && !stop.stopRequested; step++) {
 *   await new Promise((r) => setTimeout(r, 1)); // one step of work
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
}

/** A live SIGINT listener; remove it with `dispose()` (or `using`). */
export interface Interruptible extends Disposable {
  /** True once an interrupt arrived. */
  readonly stopRequested: boolean;
  /** Aborted on the first interrupt (for APIs that take an AbortSignal). */
  readonly signal: AbortSignal;
  /** Whether the listener could be installed (false where Deno has no signals). */
  readonly listening: boolean;
  /** Removes the listener; safe to call more than once. */
  dispose(): void;
}

/**
 * Listens for SIGINT until disposed: the first interrupt sets
 * `stopRequested`, aborts `signal`, calls `onInterrupt` and prints one line;
 * the process (or Jupyter kernel) is not killed. Check `stopRequested`
 * between steps and always dispose (best with `using`), or Ctrl-C stays
 * captured.
 *
 * @example
 * ```ts
 * import { interruptible } from "./interrupt.ts";
 * const stop = interruptible({ what: "training" });
 * try {
 *   while (!stop.stopRequested) {
 *     await new Promise((r) => setTimeout(r, 10)); // a batch
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
  const dispose = () => {
    if (!listening) return;
    listening = false;
    try {
      Deno.removeSignalListener("SIGINT", listener);
    } catch {
      // Already removed.
    }
  };
  return {
    get stopRequested() {
      return stopRequested;
    },
    signal: controller.signal,
    get listening() {
      return listening;
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}
