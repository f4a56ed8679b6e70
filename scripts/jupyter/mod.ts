/**
 * A Jupyter client for the Deno kernel, and the notebook tooling built on
 * it (execution, trust signing, reports, kernelspecs, code extraction).
 * Private to the project's scripts and tests.
 *
 * @example
 * ```ts
 * import { executeNotebook } from "./mod.ts";
 * const run = await executeNotebook("notebooks/001_mnist_lenet5.ipynb");
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./connection.ts";
export * from "./execute.ts";
export * from "./extract.ts";
export * from "./kernelspec.ts";
export * from "./nbformat.ts";
export * from "./outputs.ts";
export * from "./report.ts";
export * from "./trust.ts";
export * from "./wire.ts";
