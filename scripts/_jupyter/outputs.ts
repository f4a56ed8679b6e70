/**
 * Turns IOPub messages into nbformat outputs the way Jupyter front ends do:
 * consecutive stream text is merged, `clear_output` honours `wait`, and
 * `update_display_data` rewrites every earlier output with the same
 * `display_id` in place (in any cell of the notebook).
 *
 * @module
 */

import type { JsonObject, MimeBundle, Output } from "./nbformat.ts";
import type { Message } from "./wire.ts";

/** Text a cell may print before the rest is dropped (keeps files sane). */
const MAX_STREAM_CHARS = 2_000_000;

type RichOutput = Extract<
  Output,
  { output_type: "display_data" | "execute_result" }
>;

/**
 * Outputs by display id, shared by all cells of one notebook so display
 * updates reach outputs of earlier cells.
 *
 * @example
 * ```ts
 * const registry = new DisplayRegistry();
 * const cell = new CellOutputs(registry);
 * ```
 */
export class DisplayRegistry {
  #byId = new Map<string, RichOutput[]>();

  /** Remembers an output shown under `displayId`. */
  add(displayId: string, output: RichOutput): void {
    const list = this.#byId.get(displayId) ?? [];
    list.push(output);
    this.#byId.set(displayId, list);
  }

  /** Replaces data and metadata of every output shown under `displayId`. */
  update(displayId: string, data: MimeBundle, metadata: JsonObject): number {
    const list = this.#byId.get(displayId) ?? [];
    for (const output of list) {
      output.data = data;
      output.metadata = metadata;
    }
    return list.length;
  }

  /** Forgets outputs that were cleared. */
  remove(output: Output): void {
    for (const list of this.#byId.values()) {
      const i = list.indexOf(output as RichOutput);
      if (i >= 0) list.splice(i, 1);
    }
  }
}

/**
 * The outputs of one cell, built from its IOPub messages.
 *
 * @example
 * ```ts
 * const cell = new CellOutputs(new DisplayRegistry());
 * cell.apply(message); // for each IOPub message of the cell's request
 * console.log(cell.outputs);
 * ```
 */
export class CellOutputs {
  /** The nbformat outputs, in order. */
  readonly outputs: Output[] = [];
  /** The first error output's fields, if the cell raised. */
  error: { ename: string; evalue: string; traceback: string[] } | null = null;
  /** Execution count announced by the kernel. */
  executionCount: number | null = null;
  #registry: DisplayRegistry;
  #clearPending = false;
  #streamChars = 0;

  /** Creates the collector for one cell. */
  constructor(registry: DisplayRegistry) {
    this.#registry = registry;
  }

  #clear(): void {
    for (const output of this.outputs) this.#registry.remove(output);
    this.outputs.length = 0;
    this.#clearPending = false;
  }

  #push(output: Output): void {
    if (this.#clearPending) this.#clear();
    this.outputs.push(output);
  }

  /**
   * Applies one IOPub message; returns true when it produced or changed an
   * output (status and execute_input messages return false).
   */
  apply(message: Message): boolean {
    const c = message.content;
    switch (message.header.msg_type) {
      case "stream": {
        const name = String(c.name ?? "stdout");
        let text = String(c.text ?? "");
        if (this.#streamChars >= MAX_STREAM_CHARS) return false;
        this.#streamChars += text.length;
        if (this.#streamChars >= MAX_STREAM_CHARS) {
          text += `\n[more output of this cell dropped: it printed over ${
            MAX_STREAM_CHARS.toLocaleString("en-US")
          } characters]\n`;
        }
        if (this.#clearPending) this.#clear();
        const last = this.outputs.at(-1);
        if (last?.output_type === "stream" && last.name === name) {
          last.text = String(last.text) + text;
        } else {
          this.outputs.push({ output_type: "stream", name, text });
        }
        return true;
      }
      case "display_data":
      case "execute_result": {
        const data = (c.data ?? {}) as MimeBundle;
        const metadata = (c.metadata ?? {}) as JsonObject;
        const output: RichOutput = message.header.msg_type === "execute_result"
          ? {
            output_type: "execute_result",
            execution_count: (c.execution_count as number | undefined) ??
              this.executionCount,
            data,
            metadata,
          }
          : { output_type: "display_data", data, metadata };
        this.#push(output);
        const displayId = (c.transient as { display_id?: string } | undefined)
          ?.display_id;
        if (displayId) this.#registry.add(displayId, output);
        return true;
      }
      case "update_display_data": {
        const displayId = (c.transient as { display_id?: string } | undefined)
          ?.display_id;
        if (displayId) {
          this.#registry.update(
            displayId,
            (c.data ?? {}) as MimeBundle,
            (c.metadata ?? {}) as JsonObject,
          );
        }
        return true;
      }
      case "error": {
        const error = {
          ename: String(c.ename ?? "Error"),
          evalue: String(c.evalue ?? ""),
          traceback: ((c.traceback ?? []) as unknown[]).map(String),
        };
        this.error ??= error;
        this.#push({ output_type: "error", ...error });
        return true;
      }
      case "clear_output":
        if (c.wait) this.#clearPending = true;
        else this.#clear();
        return true;
      case "execute_input":
        if (typeof c.execution_count === "number") {
          this.executionCount = c.execution_count;
        }
        return false;
      default:
        return false;
    }
  }
}
