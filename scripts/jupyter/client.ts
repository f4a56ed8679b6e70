/**
 * A minimal Jupyter client in Deno: starts the Deno kernel
 * (`deno jupyter --kernel --conn FILE`), talks to it over ZeroMQ and runs
 * code, collecting the outputs of each request into nbformat outputs.
 *
 * The Deno kernel sometimes publishes a request's outputs a few
 * milliseconds after its `status: idle`, so a request is only finished
 * after its reply, its idle status AND a quiet period with no message for
 * it. Messages arriving even later are still applied to the right cell,
 * because every request's collector stays registered until shutdown.
 *
 * Nothing the kernel starts outlives the client: the kernel runs in a
 * process group of its own, which shutdown, a cell's time-out and SIGINT or
 * SIGTERM to the client end as a whole (its children included), and a
 * watcher in that group ends it within about a second when the client
 * itself is killed (SIGKILL), so no kernel is left spinning. Messages that
 * cannot be read (bad signature, no delimiter) fail the running request
 * instead of silently losing its output.
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { channelAddress, newConnectionInfo } from "./connection.ts";
import { CellOutputs, DisplayRegistry } from "./outputs.ts";
import { makeMessage, type Message, MessageSigner } from "./wire.ts";

/** Options for {@linkcode KernelClient.start}. */
export interface StartKernelOptions {
  /** Working directory of the kernel. Default: the current directory. */
  cwd?: string;
  /** Extra environment variables for the kernel. Default: none. */
  env?: Record<string, string>;
  /** The deno binary. Default: `Deno.execPath()`. */
  denoPath?: string;
  /**
   * Start the kernel as this `kernel.json` says (its `argv`, with
   * `{connection_file}` filled in, and its `env` over `env`), as Jupyter
   * does. Default: `deno jupyter --kernel --conn FILE`.
   */
  kernelspec?: string;
  /** Give up when the kernel has not answered by then. Default: 60000 ms. */
  startupTimeoutMs?: number;
  /**
   * On SIGINT or SIGTERM to this process, end every running kernel (and
   * its process group), remove the connection folders and exit (code 130
   * or 143), as a terminal's Ctrl-C or a CI time-out expects. Default: true.
   */
  endOnSignal?: boolean;
}

/** Options for {@linkcode KernelClient.execute}. */
export interface ExecuteOptions {
  /** Fail the request after this long; 0 = never. Default: 0. */
  timeoutMs?: number;
  /**
   * Quiet time after `idle` before outputs are taken as complete.
   * Default: 200 ms.
   */
  graceMs?: number;
  /**
   * Record the request in the kernel's history (the execution count).
   * Default: true.
   */
  storeHistory?: boolean;
  /**
   * A cell that has finished (reply and idle) but keeps publishing output
   * for this long (a timer or an un-awaited loop left running) times out;
   * 0 = never. Default: 30000 ms.
   */
  printingAfterIdleMs?: number;
  /**
   * Called once the request is sent, with the live collector of its
   * outputs (for progress: `cell.latestLine`). Default: none.
   */
  onStart?: (cell: CellOutputs) => void;
}

/** Prefix of the connection folders; the runner's pid follows it. */
const CONNECTION_DIR_PREFIX = "cnn-kernel-";

/**
 * How the kernel is launched on Unix: `sh -c WATCH sh <client pid> argv…`
 * in a new session (so the kernel leads a process group of its own). The
 * shell starts a watcher in the background, then becomes the kernel
 * (`exec`, so the kernel keeps the pid the client knows and receives
 * interrupts). The watcher checks every second that the client and the
 * kernel still run; when either is gone it kills the whole group: the
 * kernel if the client was killed, whatever the kernel's cells started if
 * the kernel exited. `$$` in the subshell is the kernel's pid.
 */
const WATCH =
  'client=$1; shift; (while kill -0 "$client" 2>/dev/null && kill -0 $$ 2>/dev/null; do sleep 1; done; kill -KILL 0) </dev/null >/dev/null 2>&1 & exec "$@"';

/** The kernels this process runs, for the signal handlers. */
const _live = new Set<KernelClient>();
const _SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];
let _signalsOn = false;

function _onSignal(signal: Deno.Signal): void {
  let ended = 0;
  for (const client of _live) {
    client.endNow();
    ended++;
  }
  console.error(
    `\n${signal}: stopped ${ended} running kernel(s) and their processes; ` +
      "exiting",
  );
  Deno.exit(signal === "SIGINT" ? 130 : 143);
}

const _handlers = new Map<Deno.Signal, () => void>(
  _SIGNALS.map((s) => [s, () => _onSignal(s)]),
);

function _watchSignals(on: boolean): void {
  if (on === _signalsOn || Deno.build.os === "windows") return;
  for (const [signal, handler] of _handlers) {
    if (on) Deno.addSignalListener(signal, handler);
    else Deno.removeSignalListener(signal, handler);
  }
  _signalsOn = on;
}

/** Sends `signal` to the process group led by `pid` (and to `pid`). */
function _killGroup(pid: number, signal: Deno.Signal = "SIGKILL"): void {
  if (Deno.build.os !== "windows") {
    try {
      Deno.kill(-pid, signal);
      return;
    } catch {
      // No such group (gone already, or not a group leader): try the pid.
    }
  }
  try {
    Deno.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

function _processAlive(pid: number): boolean | undefined {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      try {
        Deno.statSync("/proc/self");
        return false;
      } catch {
        return undefined; // No procfs: cannot tell.
      }
    }
    return undefined;
  }
}

/**
 * Removes connection folders (and kills their kernels) that a client left
 * behind when its process was killed: folders named
 * `cnn-kernel-<pid>-…` in the temp directory whose `<pid>` no longer runs.
 * Folders of running clients are left alone. Returns the removed paths.
 * Only works where `/proc` tells which processes run (Linux); elsewhere it
 * removes nothing.
 *
 * @example
 * ```ts
 * const removed = await removeOrphanedKernelDirs();
 * if (removed.length) console.error(`removed ${removed.length} stale kernel folders`);
 * ```
 */
export async function removeOrphanedKernelDirs(
  tempDir: string = tmpdir(),
): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tempDir)];
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const match = entry.name.match(
      new RegExp(`^${CONNECTION_DIR_PREFIX}(\\d+)-`),
    );
    if (!entry.isDirectory || !match) continue;
    if (_processAlive(Number(match[1])) !== false) continue;
    const dir = join(tempDir, entry.name);
    try {
      const kernelPid = Number(
        (await Deno.readTextFile(join(dir, "kernel.pid"))).trim(),
      );
      const cmdline = await Deno.readTextFile(`/proc/${kernelPid}/cmdline`);
      // Only the kernel that was started with this folder's connection file,
      // with whatever its cells started.
      if (cmdline.includes(dir)) _killGroup(kernelPid);
    } catch {
      // No pid file, or the kernel is gone already.
    }
    try {
      await Deno.remove(dir, { recursive: true });
      removed.push(dir);
    } catch {
      // Someone else's (permissions) or removed meanwhile.
    }
  }
  return removed;
}

/** How one execute request ended. */
export interface ExecuteResult {
  /** `ok`, `error` (the code raised), `timeout`, or `dead` (kernel exited). */
  status: "ok" | "error" | "timeout" | "dead";
  /** Live collector: late messages keep updating it until shutdown. */
  cell: CellOutputs;
  /** Execution count from the reply (or `execute_input`). */
  executionCount: number | null;
  /** Seconds from request to idle. */
  seconds: number;
  /** IOPub output messages that arrived after `status: idle`. */
  afterIdle: number;
  /** How long after `idle` the latest of those arrived, in ms. */
  afterIdleMs: number;
  /** A one-line description when status is not `ok`. */
  message?: string;
}

interface Pending {
  cell: CellOutputs;
  idle: boolean;
  idleAt: number;
  reply: Message | null;
  lastMessageAt: number;
  afterIdle: number;
  afterIdleMs: number;
  finished: boolean;
  /** Messages for this request (probably) that could not be read. */
  unreadable: number;
  /** Why the first of them could not be read. */
  unreadableReason: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the last `limit` characters of a process stream. */
async function tail(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
  limit = 8000,
): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) {
      sink.text = (sink.text + decoder.decode(chunk, { stream: true }))
        .slice(-limit);
    }
  } catch {
    // The process went away; what was read is kept.
  }
}

/** A running Deno kernel and the sockets connected to it. */
export class KernelClient {
  /** Outputs shown under a display id, shared by all requests. */
  readonly displays = new DisplayRegistry();
  /** The kernel's stderr and stdout (last few kilobytes). */
  readonly log = { text: "" };
  /** IOPub messages for finished requests (applied anyway). */
  lateMessages = 0;
  /** Messages that could not be read (bad signature, malformed frames). */
  unreadableMessages = 0;

  #child: Deno.ChildProcess;
  #signer: MessageSigner;
  #session = crypto.randomUUID();
  #shell = new zmq.Dealer({ linger: 0 });
  #control = new zmq.Dealer({ linger: 0 });
  #iopub = new zmq.Subscriber({ linger: 0 });
  #pending = new Map<string, Pending>();
  #replies = new Map<
    string,
    {
      resolve: (m: Message | null) => void;
      timer: ReturnType<typeof setTimeout>;
    }
  >();
  #iopubSeen = false;
  #exit: Deno.CommandStatus | null = null;
  #closed = false;
  #connectionDir: string;
  #loops: Promise<void>[] = [];
  #running: Pending | null = null;

  private constructor(
    child: Deno.ChildProcess,
    signer: MessageSigner,
    connectionDir: string,
  ) {
    this.#child = child;
    this.#signer = signer;
    this.#connectionDir = connectionDir;
    child.status.then((status) => this.#exit = status);
    this.#loops.push(
      tail(child.stderr, this.log),
      tail(child.stdout, this.log),
    );
  }

  /**
   * Starts a kernel and waits until it answers `kernel_info_request` and
   * its IOPub channel delivers messages.
   *
   * @example
   * ```ts
   * const kernel = await KernelClient.start({ cwd: "notebooks" });
   * const result = await kernel.execute("1 + 1");
   * await kernel.shutdown();
   * ```
   */
  static async start(options: StartKernelOptions = {}): Promise<KernelClient> {
    const info = await newConnectionInfo();
    const connectionDir = await Deno.makeTempDir({
      prefix: `${CONNECTION_DIR_PREFIX}${Deno.pid}-`,
    });
    const connectionFile = `${connectionDir}/connection.json`;
    await Deno.writeTextFile(connectionFile, JSON.stringify(info));
    let argv = [
      options.denoPath ?? Deno.execPath(),
      "jupyter",
      "--kernel",
      "--conn",
      connectionFile,
    ];
    let env = options.env;
    if (options.kernelspec) {
      const spec = JSON.parse(await Deno.readTextFile(options.kernelspec));
      argv = (spec.argv as string[]).map((a) =>
        a.replaceAll("{connection_file}", connectionFile)
      );
      env = { ...options.env, ...(spec.env ?? {}) };
    }
    const unix = Deno.build.os !== "windows";
    const child = new Deno.Command(unix ? "/bin/sh" : argv[0], {
      args: unix
        ? ["-c", WATCH, "sh", String(Deno.pid), ...argv]
        : argv.slice(1),
      cwd: options.cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A session (and process group) of its own: ended as a whole, and a
      // terminal's Ctrl-C reaches the client, which ends it.
      detached: unix,
    }).spawn();
    await Deno.writeTextFile(`${connectionDir}/kernel.pid`, `${child.pid}\n`);
    const client = new KernelClient(
      child,
      new MessageSigner(info.key),
      connectionDir,
    );
    if (options.endOnSignal ?? true) {
      _live.add(client);
      _watchSignals(true);
    }
    client.#shell.connect(channelAddress(info, "shell"));
    client.#control.connect(channelAddress(info, "control"));
    client.#iopub.connect(channelAddress(info, "iopub"));
    client.#iopub.subscribe();
    client.#loops.push(
      client.#readLoop(client.#shell, false),
      client.#readLoop(client.#control, false),
      client.#readLoop(client.#iopub, true),
    );
    try {
      await client.#handshake(options.startupTimeoutMs ?? 60_000);
    } catch (e) {
      await client.shutdown();
      throw e;
    }
    return client;
  }

  /**
   * Interrupts the running cell as Jupyter's default `interrupt_mode`
   * ("signal") does: SIGINT to the kernel process.
   *
   * @example
   * ```ts
   * const running = kernel.execute("await longTraining()");
   * kernel.interrupt();
   * console.log((await running).status);
   * ```
   */
  interrupt(): void {
    if (!this.#exit) this.#child.kill("SIGINT");
  }

  /** The kernel's exit status once it has exited, else null. */
  get exitStatus(): Deno.CommandStatus | null {
    return this.#exit;
  }

  async #handshake(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    // A SUB socket misses what is published before its subscription
    // reaches the kernel, so ask again until IOPub has spoken too.
    while (performance.now() < deadline) {
      if (this.#exit) {
        throw new Error(
          `the Deno kernel exited during startup (code ${this.#exit.code}):\n` +
            this.log.text.slice(-2000),
        );
      }
      const reply = this.#request("shell", "kernel_info_request", {}, 500);
      const answer = await reply;
      if (answer && this.#iopubSeen) return;
      if (answer) await sleep(50);
    }
    throw new Error(
      `the Deno kernel did not answer within ${timeoutMs} ms:\n` +
        this.log.text.slice(-2000),
    );
  }

  /** Sends a request and resolves with its reply, or null after waitMs. */
  async #request(
    channel: "shell" | "control",
    msgType: string,
    content: Record<string, unknown>,
    waitMs: number,
  ): Promise<Message | null> {
    const message = makeMessage(msgType, content, { session: this.#session });
    const reply = new Promise<Message | null>((resolve) => {
      const timer = setTimeout(() => {
        this.#replies.delete(message.header.msg_id);
        resolve(null);
      }, waitMs);
      this.#replies.set(message.header.msg_id, { resolve, timer });
    });
    await this.#send(channel, message);
    return reply;
  }

  async #send(channel: "shell" | "control", message: Message): Promise<void> {
    const frames = await this.#signer.encode(message);
    await (channel === "shell" ? this.#shell : this.#control).send(frames);
  }

  async #readLoop(
    socket: zmq.Socket & AsyncIterable<Buffer[]>,
    iopub: boolean,
  ) {
    try {
      for await (const frames of socket) {
        let message: Message;
        try {
          message = await this.#signer.decode(frames);
        } catch (e) {
          this.#onUnreadable((e as Error).message);
          continue;
        }
        if (iopub) this.#onIopub(message);
        else this.#onReply(message);
      }
    } catch (e) {
      if (!this.#closed) throw e;
    }
  }

  /**
   * A message that could not be read belongs, as far as one can tell, to
   * the request that is running (or ran last): its output is incomplete.
   */
  #onUnreadable(reason: string): void {
    this.unreadableMessages++;
    const pending = this.#running ??
      Array.from(this.#pending.values()).at(-1);
    if (!pending) {
      if (this.unreadableMessages === 1) {
        console.error(`warning: ${reason}`);
      }
      return;
    }
    pending.unreadable++;
    pending.unreadableReason ||= reason;
  }

  #onReply(message: Message): void {
    const id = message.parent_header.msg_id ?? "";
    const pending = this.#pending.get(id);
    if (pending && message.header.msg_type === "execute_reply") {
      pending.reply = message;
      pending.lastMessageAt = performance.now();
    }
    const waiter = this.#replies.get(id);
    if (waiter) {
      this.#replies.delete(id);
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    }
  }

  #onIopub(message: Message): void {
    this.#iopubSeen = true;
    const pending = this.#pending.get(message.parent_header.msg_id ?? "");
    if (!pending) return;
    pending.lastMessageAt = performance.now();
    if (message.header.msg_type === "status") {
      if (message.content.execution_state === "idle") {
        pending.idle = true;
        pending.idleAt = performance.now();
      }
      return;
    }
    const changed = pending.cell.apply(message);
    if (changed && pending.idle) {
      pending.afterIdle++;
      pending.afterIdleMs = Math.max(
        pending.afterIdleMs,
        performance.now() - pending.idleAt,
      );
    }
    if (changed && pending.finished) this.lateMessages++;
  }

  /**
   * Runs code and waits for its outputs (see the module doc for when a
   * request counts as finished).
   *
   * @example
   * ```ts
   * const { status, cell } = await kernel.execute('console.log("hi")');
   * ```
   */
  async execute(
    code: string,
    options: ExecuteOptions = {},
  ): Promise<ExecuteResult> {
    const graceMs = options.graceMs ?? 200;
    const timeoutMs = options.timeoutMs ?? 0;
    const printingAfterIdleMs = options.printingAfterIdleMs ?? 30_000;
    const message = makeMessage("execute_request", {
      code,
      silent: false,
      store_history: options.storeHistory ?? true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    }, { session: this.#session });
    const started = performance.now();
    const pending: Pending = {
      cell: new CellOutputs(this.displays),
      idle: false,
      idleAt: 0,
      reply: null,
      lastMessageAt: started,
      afterIdle: 0,
      afterIdleMs: 0,
      finished: false,
      unreadable: 0,
      unreadableReason: "",
    };
    this.#pending.set(message.header.msg_id, pending);
    this.#running = pending;
    const result = (
      status: ExecuteResult["status"],
      text?: string,
    ): ExecuteResult => {
      pending.finished = true;
      if (this.#running === pending) this.#running = null;
      const count = pending.reply?.content.execution_count;
      return {
        status,
        cell: pending.cell,
        executionCount: typeof count === "number"
          ? count
          : pending.cell.executionCount,
        seconds: ((pending.idleAt || performance.now()) - started) / 1000,
        afterIdle: pending.afterIdle,
        afterIdleMs: pending.afterIdleMs,
        message: text,
      };
    };
    if (this.#exit) return result("dead", this.#deathMessage());
    await this.#send("shell", message);
    options.onStart?.(pending.cell);
    while (true) {
      const now = performance.now();
      if (
        pending.reply && pending.idle && now - pending.lastMessageAt >= graceMs
      ) break;
      // The reply or the idle status may be among the unreadable messages:
      // do not wait for it forever.
      if (
        pending.unreadable && (pending.reply || pending.idle) &&
        now - pending.lastMessageAt >= Math.max(graceMs, 2000)
      ) break;
      if (this.#exit) return result("dead", this.#deathMessage());
      if (timeoutMs > 0 && now - started > timeoutMs) {
        const printing = pending.reply && pending.idle
          ? " (it finished, but kept printing: a timer or an un-awaited loop left running?)"
          : "";
        return result(
          "timeout",
          `cell timed out after ${(timeoutMs / 1000).toFixed(0)} s${printing}`,
        );
      }
      if (
        printingAfterIdleMs > 0 && pending.reply && pending.idle &&
        now - pending.idleAt > printingAfterIdleMs
      ) {
        return result(
          "timeout",
          `cell timed out: it finished but kept printing for ${
            (printingAfterIdleMs / 1000).toFixed(0)
          } s (a timer or an un-awaited loop left running?)`,
        );
      }
      await sleep(Math.min(10, graceMs || 10));
    }
    if (pending.unreadable) {
      return result(
        "error",
        `${pending.unreadable} message(s) from the kernel for this cell ` +
          `could not be read (${pending.unreadableReason}): its output is ` +
          "incomplete (a huge output? print less, or write it to a file)",
      );
    }
    const replyStatus = pending.reply?.content.status;
    if (replyStatus === "error" || pending.cell.error) {
      const error = pending.cell.error ?? {
        ename: String(pending.reply?.content.ename ?? "Error"),
        evalue: String(pending.reply?.content.evalue ?? ""),
        traceback: [],
      };
      return result("error", `${error.ename}: ${error.evalue}`);
    }
    return result("ok");
  }

  #deathMessage(): string {
    const code = this.#exit?.code ?? "?";
    const signal = this.#exit?.signal ? `, signal ${this.#exit.signal}` : "";
    const log = this.log.text.trim().split("\n").slice(-5).join("\n");
    return `the kernel died (exit code ${code}${signal})` +
      (log ? `; its last output:\n${log}` : "");
  }

  /**
   * Waits until no message has arrived for `quietMs` (at most `maxMs`), so
   * outputs published late for earlier requests are applied before the
   * notebook is written.
   */
  async drain(quietMs = 200, maxMs = 5000): Promise<void> {
    const last = () =>
      Math.max(
        0,
        ...Array.from(this.#pending.values(), (p) => p.lastMessageAt),
      );
    const deadline = performance.now() + maxMs;
    while (
      !this.#exit && performance.now() - last() < quietMs &&
      performance.now() < deadline
    ) {
      await sleep(10);
    }
  }

  /**
   * Ends the kernel's process group at once and removes the connection
   * folder, synchronously (for signal handlers and exits; prefer
   * {@linkcode KernelClient.shutdown}).
   *
   * @example
   * ```ts
   * addEventListener("unload", () => kernel.endNow());
   * ```
   */
  endNow(): void {
    _killGroup(this.#child.pid);
    try {
      Deno.removeSync(this.#connectionDir, { recursive: true });
    } catch {
      // Removed already.
    }
    _live.delete(this);
  }

  /**
   * Asks the kernel to stop, kills it if it does not (or at once with
   * `kill`), ends whatever its cells started (its process group), closes
   * the sockets and removes the connection folder.
   */
  async shutdown(options: { kill?: boolean } = {}): Promise<void> {
    if (!this.#exit && options.kill) {
      _killGroup(this.#child.pid);
    } else if (!this.#exit) {
      // Not awaited: the Deno kernel exits without always replying.
      this.#request("control", "shutdown_request", { restart: false }, 3000)
        .catch(() => null);
      const deadline = performance.now() + 3000;
      while (!this.#exit && performance.now() < deadline) await sleep(20);
      if (!this.#exit) _killGroup(this.#child.pid);
    }
    await this.#child.status;
    // Processes the cells started (same group) go with the kernel.
    _killGroup(this.#child.pid);
    for (const { resolve, timer } of this.#replies.values()) {
      clearTimeout(timer);
      resolve(null);
    }
    this.#replies.clear();
    this.#closed = true;
    this.#shell.close();
    this.#control.close();
    this.#iopub.close();
    // A process that left the group may still hold the kernel's stdout:
    // do not wait for its end forever.
    await Promise.race([Promise.allSettled(this.#loops), sleep(2000)]);
    await Deno.remove(this.#connectionDir, { recursive: true }).catch(() => {});
    _live.delete(this);
    if (_live.size === 0) _watchSignals(false);
  }
}
