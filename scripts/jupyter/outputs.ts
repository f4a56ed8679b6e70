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

/**
 * Characters a cell may print (its stream text) before the rest is cut,
 * and the size a single display's data may have: this is what is stored
 * in the notebook, so it stays a file Jupyter can open.
 *
 * @example
 * ```ts
 * console.log(MAX_OUTPUT_CHARS); // 2000000
 * ```
 */
export const MAX_OUTPUT_CHARS = 2_000_000;

function _count(n: number): string {
  return n.toLocaleString("en-US");
}

/** Characters of a MIME bundle's values (strings as they are, others as JSON). */
function _bundleChars(data: MimeBundle): number {
  let n = 0;
  for (const value of Object.values(data)) {
    n += typeof value === "string"
      ? value.length
      : Array.isArray(value) && value.every((v) => typeof v === "string")
      ? value.reduce((m, v) => m + v.length, 0)
      : JSON.stringify(value)?.length ?? 0;
  }
  return n;
}

/** A bundle over the cap, replaced by a note saying what was cut. */
function _capBundle(data: MimeBundle): MimeBundle {
  const chars = _bundleChars(data);
  if (chars <= MAX_OUTPUT_CHARS) return data;
  return {
    "text/plain": `[output cut: this display's data (${
      Object.keys(data).join(", ")
    }) has ${_count(chars)} characters, over the ${
      _count(MAX_OUTPUT_CHARS)
    }-character limit of a stored output]`,
  };
}

/** The last non-empty line of a text, trimmed (for progress lines). */
function _lastLine(text: string): string | null {
  const lines = text.split(/\r|\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (line) return line;
  }
  return null;
}

/** An output that carries a MIME bundle (and may be updated in place). */
export type RichOutput = Extract<
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
  /**
   * The latest line of text the cell showed (printed, or the `text/plain`
   * of a display shown or updated), e.g. a training epoch line; null
   * before any.
   */
  latestLine: string | null = null;
  #registry: DisplayRegistry;
  #clearPending = false;
  #streamChars = 0;
  #cut: { output: { text: string | string[] }; kept: string } | null = null;
  #cutChars = 0;

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

  #cutNote(): string {
    return `\n[output cut: this cell printed ${
      _count(this.#streamChars + this.#cutChars)
    } characters; the first ${_count(this.#streamChars)} are kept, the last ${
      _count(this.#cutChars)
    } were dropped]\n`;
  }

  #noteLine(data: MimeBundle): void {
    const text = data["text/plain"];
    if (text === undefined) return;
    this.latestLine = _lastLine(
      Array.isArray(text) ? text.join("") : String(text),
    ) ?? this.latestLine;
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
        this.latestLine = _lastLine(text) ?? this.latestLine;
        if (this.#cut) {
          // Over the limit already: count what is cut, keep the note true.
          this.#cutChars += text.length;
          this.#cut.output.text = this.#cut.kept + this.#cutNote();
          return true;
        }
        const room = MAX_OUTPUT_CHARS - this.#streamChars;
        const over = text.length > room;
        if (over) {
          this.#cutChars = text.length - room;
          text = text.slice(0, room);
        }
        this.#streamChars += text.length;
        if (this.#clearPending) this.#clear();
        let last = this.outputs.at(-1);
        if (last?.output_type === "stream" && last.name === name) {
          last.text = String(last.text) + text;
        } else {
          last = { output_type: "stream", name, text };
          this.outputs.push(last);
        }
        if (over) {
          this.#cut = { output: last, kept: String(last.text) };
          last.text = this.#cut.kept + this.#cutNote();
        }
        return true;
      }
      case "display_data":
      case "execute_result": {
        const data = _capBundle((c.data ?? {}) as MimeBundle);
        this.#noteLine(data);
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
          const data = _capBundle((c.data ?? {}) as MimeBundle);
          this.#noteLine(data);
          this.#registry.update(
            displayId,
            data,
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
