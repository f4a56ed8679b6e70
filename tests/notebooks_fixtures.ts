/**
 * Small notebooks for the notebook-infrastructure tests, generated in a
 * temporary folder (the tests never depend on the project's real notebooks).
 * Cell sources are written as `deno fmt` leaves them, so the good notebook
 * also passes the static checks.
 *
 * @module
 */

import {
  makeNotebook,
  type Notebook,
  serializeNotebook,
} from "../scripts/jupyter/mod.ts";

/** The SVG the display cell shows; the browser test looks for its rect. */
export const PROBE_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90">' +
  '<rect id="probe-rect" x="5" y="5" width="150" height="80" fill="steelblue"/>' +
  '<circle cx="80" cy="45" r="30" fill="orange"/></svg>';

/** Prints, shows an SVG figure, updates a display, reports env and cwd. */
export function goodNotebook(): Notebook {
  return makeNotebook([
    { markdown: "# A small notebook\n\nIt prints and draws." },
    'console.log("hello");\nconsole.error("to stderr");',
    "const figure = {\n" +
    '  [Symbol.for("Jupyter.display")]() {\n' +
    "    return {\n" +
    '      "image/svg+xml":\n' +
    `        '${PROBE_SVG}',\n` +
    "    };\n" +
    "  },\n" +
    "};\n" +
    "figure;",
    'await Deno.jupyter.display({ "text/plain": "first" }, {\n' +
    "  raw: true,\n" +
    '  display_id: "progress",\n' +
    "});\n" +
    'await Deno.jupyter.display({ "text/plain": "second" }, {\n' +
    "  raw: true,\n" +
    '  display_id: "progress",\n' +
    "  update: true,\n" +
    "});",
    '[Deno.env.get("CNN_SCALE"), Deno.env.get("NO_COLOR"), Deno.cwd()];',
  ]);
}

/** `count` cells, each printing two lines and returning its index. */
export function chattyNotebook(count: number): Notebook {
  return makeNotebook(
    Array.from(
      { length: count },
      (_, i) =>
        `console.log("first ${i}");\nconsole.log("second ${i}");\n${i} * 1;`,
    ),
  );
}

/** Three cells; the second throws, so the third never runs. */
export function throwingNotebook(): Notebook {
  return makeNotebook([
    'console.log("before");',
    'throw new Error("boom from the fixture");',
    'console.log("after");',
  ]);
}

/** Writes notebooks into a folder and returns their paths by name. */
export async function writeNotebooks(
  dir: string,
  notebooks: Record<string, Notebook>,
): Promise<Record<string, string>> {
  const paths: Record<string, string> = {};
  for (const [name, nb] of Object.entries(notebooks)) {
    paths[name] = `${dir}/${name}.ipynb`;
    await Deno.writeTextFile(paths[name], serializeNotebook(nb));
  }
  return paths;
}
