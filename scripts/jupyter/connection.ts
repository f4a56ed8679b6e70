/**
 * Kernel connection files: the five TCP ports and the signing key a Jupyter
 * client hands to a kernel it starts.
 *
 * @module
 */

/** The contents of a Jupyter connection file. */
export interface ConnectionInfo {
  /** Transport, always `"tcp"` here. */
  transport: "tcp";
  /** Address the kernel binds, always loopback here. */
  ip: string;
  /** ROUTER socket for requests (execute, kernel_info). */
  shell_port: number;
  /** PUB socket for outputs and status. */
  iopub_port: number;
  /** ROUTER socket for input requests. */
  stdin_port: number;
  /** ROUTER socket for shutdown and interrupt. */
  control_port: number;
  /** REP socket echoing heartbeats. */
  hb_port: number;
  /** HMAC key for message signatures. */
  key: string;
  /** Signature scheme. */
  signature_scheme: "hmac-sha256";
  /** Kernel name (informational). */
  kernel_name: string;
}

/** Picks `count` distinct free loopback ports (by binding port 0). */
async function freePorts(count: number): Promise<number[]> {
  const listeners: Deno.Listener[] = [];
  try {
    for (let i = 0; i < count; i++) {
      listeners.push(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
    }
    return listeners.map((l) => (l.addr as Deno.NetAddr).port);
  } finally {
    // Closed only after all are picked so no port is handed out twice.
    for (const l of listeners) l.close();
    await Promise.resolve();
  }
}

/**
 * Creates connection info with free ports and a random 256-bit key.
 *
 * @example
 * ```ts
 * const info = await newConnectionInfo();
 * await Deno.writeTextFile("kernel.json", JSON.stringify(info));
 * ```
 */
export async function newConnectionInfo(): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = await freePorts(5);
  const key = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key,
    signature_scheme: "hmac-sha256",
    kernel_name: "deno",
  };
}

/**
 * The ZeroMQ address of one of the kernel's channels.
 *
 * @example
 * ```ts
 * channelAddress(info, "shell"); // "tcp://127.0.0.1:53123"
 * ```
 */
export function channelAddress(
  info: ConnectionInfo,
  channel: "shell" | "iopub" | "stdin" | "control" | "hb",
): string {
  return `${info.transport}://${info.ip}:${info[`${channel}_port`]}`;
}
