/**
 * Imports the lesson code of a notebook as a module, so tests can hold the
 * notebook's own layers, models and training steps against the library's
 * reusable versions (the d2l way: the notebook shows the code, a test keeps the
 * library equal to it).
 *
 * A notebook marks its lesson cells with the cell tag `lesson` (cell metadata
 * `{"tags": ["lesson"]}`, visible in JupyterLab's property inspector) and its
 * import cell with the tag `imports`. Lesson cells hold definitions only
 * (functions, classes, constants): no training, no display, no I/O, because a
 * test imports them. Their top-level `const`/`let`/`function`/`class` names
 * are exported from the generated module.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { joinText, readNotebook } from "../scripts/jupyter/mod.ts";

/** Options of {@linkcode importNotebookCells}. */
export interface ImportNotebookCellsOptions {
  /** Tag of the definition cells to import. Default: "lesson". */
  tag?: string;
  /** Tag of the cells holding the imports those definitions need. Default: "imports". */
  importsTag?: string;
}

/** Top-level names a cell declares (`const x`, `function f`, `class C`...). */
export function declaredNames(source: string): string[] {
  const names: string[] = [];
  const pattern =
    /^(?:export\s+)?(?:async\s+)?(?:const|let|var|function\*?|class)\s+([A-Za-z_$][\w$]*)/gm;
  for (const match of source.matchAll(pattern)) names.push(match[1]);
  return names;
}

/**
 * Writes the notebook's `imports` and `lesson` cells, in order, to a temporary
 * module next to the notebook (so `../lib/mod.ts` resolves as in the kernel),
 * imports it and removes the file. Throws when the notebook has no lesson cell.
 *
 * @example
 * ```ts
 * const lesson = await importNotebookCells("notebooks/001_mnist_lenet5.ipynb");
 * const model = (lesson.buildLeNet5 as () => unknown)();
 * ```
 */
export async function importNotebookCells(
  path: string,
  options: ImportNotebookCellsOptions = {},
): Promise<Record<string, unknown>> {
  const tag = options.tag ?? "lesson";
  const importsTag = options.importsTag ?? "imports";
  const nb = await readNotebook(path);
  const parts: string[] = [];
  const names: string[] = [];
  for (const [index, cell] of nb.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    const tags = (cell.metadata?.tags ?? []) as string[];
    const source = joinText(cell.source);
    if (tags.includes(importsTag)) {
      parts.push(`// cell ${index + 1} (${importsTag})`, source);
    } else if (tags.includes(tag)) {
      parts.push(`// cell ${index + 1} (${tag})`, source);
      names.push(...declaredNames(source));
    }
  }
  if (names.length === 0) {
    throw new Error(
      `${path} has no code cell tagged "${tag}" that declares anything; ` +
        `tag the lesson's definition cells with "${tag}" in the cell metadata`,
    );
  }
  parts.push(`export { ${[...new Set(names)].join(", ")} };`, "");
  const stem = basename(path).replace(/\.ipynb$/, "");
  const file = join(
    dirname(resolve(path)),
    `.check_lesson_${stem}_${crypto.randomUUID().slice(0, 8)}.ts`,
  );
  await Deno.writeTextFile(file, parts.join("\n"));
  try {
    return await import(`file://${file}`);
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}
