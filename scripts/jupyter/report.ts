/**
 * The runner's HTML report: per notebook its status, wall time, per-cell
 * durations and errors, with the SVG and PNG figures embedded, so one file
 * shows what ran and what it drew.
 *
 * @module
 */

import type { NotebookRun } from "./execute.ts";
import { joinText } from "./nbformat.ts";

/** Options for {@linkcode renderHtmlReport}. */
export interface HtmlReportOptions {
  /** Page title. Default: `"Notebook run"`. */
  title?: string;
  /** Relative links to the executed notebooks, by run path. Default: none. */
  links?: Map<string, string>;
}

/**
 * Escapes text for HTML.
 *
 * @example
 * ```ts
 * escapeHtml("a < b"); // "a &lt; b"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}

function figures(run: NotebookRun): string[] {
  const out: string[] = [];
  for (const [index, cell] of run.notebook.cells.entries()) {
    for (const output of cell.outputs ?? []) {
      if (
        output.output_type !== "display_data" &&
        output.output_type !== "execute_result"
      ) continue;
      const svg = output.data["image/svg+xml"];
      const png = output.data["image/png"];
      const label = `<figcaption>cell ${index + 1}</figcaption>`;
      if (svg !== undefined) {
        // Our own kernel output: inline SVG needs no xmlns inside HTML.
        out.push(
          `<figure>${joinText(svg as string | string[])}${label}</figure>`,
        );
      } else if (typeof png === "string") {
        out.push(
          `<figure><img alt="cell ${
            index + 1
          } figure" src="data:image/png;base64,${
            png.replace(/\s/g, "")
          }">${label}</figure>`,
        );
      }
    }
  }
  return out;
}

/**
 * Renders the report page for a set of notebook runs.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("report.html", renderHtmlReport(runs, { title: "smoke run" }));
 * ```
 */
export function renderHtmlReport(
  runs: NotebookRun[],
  options: HtmlReportOptions = {},
): string {
  const title = escapeHtml(options.title ?? "Notebook run");
  const rows = runs.map((run) => {
    const link = options.links?.get(run.path);
    const name = escapeHtml(run.path.split("/").at(-1) ?? run.path);
    return `<tr class="${run.status}"><td>${
      link ? `<a href="${escapeHtml(link)}">${name}</a>` : name
    }</td><td>${run.status}</td><td>${run.scale}</td><td>${
      escapeHtml(run.backend ?? "")
    }</td><td>${run.seconds.toFixed(1)} s</td><td>${
      escapeHtml(run.failure ?? "")
    }</td></tr>`;
  }).join("\n");
  const sections = runs.map((run) => {
    const cells = run.cells.map((cell) =>
      `<tr class="${cell.status}"><td>${cell.cellNumber}</td><td><code>${
        escapeHtml(cell.firstLine.slice(0, 90))
      }</code></td><td>${cell.status}</td><td>${
        cell.seconds.toFixed(2)
      }</td></tr>` +
      (cell.status !== "ok" && cell.status !== "skipped"
        ? `<tr><td></td><td colspan="3"><pre>${
          escapeHtml(
            [cell.message ?? "", ...(cell.traceback ?? [])].join("\n"),
          )
        }</pre></td></tr>`
        : "")
    ).join("\n");
    return `<section><h2>${escapeHtml(run.path)} — ${run.status}</h2>
<table><tr><th>cell</th><th>first line</th><th>status</th><th>seconds</th></tr>
${cells}</table>
<div class="figures">${figures(run).join("\n")}</div></section>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
tr.failed td, tr.error td, tr.timeout td, tr.dead td { background: #fdd; }
tr.skipped td { color: #999; }
pre { white-space: pre-wrap; margin: 0; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figcaption { color: #666; font-size: 12px; }
</style></head><body>
<h1>${title}</h1>
<table><tr><th>notebook</th><th>status</th><th>scale</th><th>backend</th><th>time</th><th>failure</th></tr>
${rows}</table>
${sections}
</body></html>
`;
}
