/**
 * The project's own headless Jupyter client: it starts the Deno kernel
 * (`deno jupyter --kernel`), speaks the Jupyter messaging protocol to it
 * over ZeroMQ (signed wire format, shell/control/IOPub channels), reads and
 * writes nbformat v4 notebooks, records executed notebooks as trusted the
 * way Jupyter's notary does, and executes whole notebooks with a per-cell
 * account, an HTML report and kernelspecs, with nothing but Deno (the
 * `npm:zeromq` package ships its native addon prebuilt).
 *
 * Why it exists rather than nbclient/nbconvert: those need a Python
 * Jupyter installation, and with the Deno kernel they lose outputs (the
 * kernel publishes some outputs a few milliseconds after it reports idle;
 * stock nbclient dropped some in 10 of 16 runs here). This client waits for
 * late outputs and still applies later ones to the right cell, time-limits
 * cells (busy ones and ones that keep printing), caps what a cell stores,
 * fails a cell whose messages cannot be read or whose promise rejected
 * unhandled, refuses notebooks written for other kernels, and leaves no
 * kernel or child process behind (its own process group, a parent watch,
 * SIGINT/SIGTERM handling). It backs `deno task notebooks`, `reproduce`,
 * `kernel`, `scripts/check_notebooks.ts` and the notebook tests; see
 * README.md beside this file.
 *
 * @example
 * ```ts
 * import { executeNotebook } from "./mod.ts";
 * const run = await executeNotebook("notebooks/001_mnist_lenet5.ipynb", {
 *   scale: "smoke",
 * });
 * if (run.status !== "ok") console.error(run.failure);
 * ```
 *
 * @module
 */

export {
  type ExecuteOptions,
  type ExecuteResult,
  KernelClient,
  removeOrphanedKernelDirs,
  type StartKernelOptions,
} from "./client.ts";
export {
  channelAddress,
  type ConnectionInfo,
  newConnectionInfo,
} from "./connection.ts";
export {
  type CellEvent,
  type CellRun,
  DENO_KERNEL_NAME,
  executeNotebook,
  type ExecuteNotebookOptions,
  kernelProblem,
  type NotebookRun,
  type Scale,
} from "./execute.ts";
export { extractCode, type ExtractedCode } from "./extract.ts";
export { writeKernelspec, type WriteKernelspecOptions } from "./kernelspec.ts";
export {
  type Cell,
  compareCodePoints,
  ensureCellIds,
  joinText,
  type JsonObject,
  type JsonValue,
  makeNotebook,
  type MimeBundle,
  type MultilineText,
  normalizeNotebook,
  type Notebook,
  type Output,
  parseNotebook,
  readNotebook,
  serializeNotebook,
} from "./nbformat.ts";
export {
  CellOutputs,
  DisplayRegistry,
  MAX_OUTPUT_CHARS,
  type RichOutput,
} from "./outputs.ts";
export {
  escapeHtml,
  type HtmlReportOptions,
  renderHtmlReport,
} from "./report.ts";
export {
  computeSignature,
  jupyterDataDir,
  signNotebook,
  type SignNotebookOptions,
} from "./trust.ts";
export {
  makeMessage,
  type Message,
  type MessageHeader,
  MessageSigner,
  PROTOCOL_VERSION,
} from "./wire.ts";
