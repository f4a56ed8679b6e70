/**
 * Picks and initialises the TensorFlow.js backend (placeholder: cpu only;
 * the full selection lands with the backend work).
 *
 * @example
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const choice = await initBackend({ backend: "cpu" });
 * console.log(choice.name);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import "@tensorflow/tfjs-backend-cpu";

/** Names of the backends the project knows, fastest first. */
export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /** Backend to use, or "auto". Default: `CNN_BACKEND` env var, else "auto". */
  backend?: BackendName | "auto";
  /** Print the one-line report of what was chosen and why. Default: false. */
  verbose?: boolean;
}

/** What {@linkcode initBackend} chose, and why faster ones were skipped. */
export interface BackendChoice {
  /** The backend now active. */
  name: BackendName;
  /** Faster backends that were skipped, each with the reason. */
  skipped: { name: BackendName; reason: string }[];
}

/** Chooses, initialises and activates a backend. */
export async function initBackend(
  _options: InitBackendOptions = {},
): Promise<BackendChoice> {
  await tf.setBackend("cpu");
  await tf.ready();
  return { name: "cpu", skipped: [] };
}
