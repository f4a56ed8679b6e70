import assert from "node:assert/strict";
import { checkNotebooks } from "../scripts/check_notebooks.ts";
import { extractCode, makeNotebook } from "../scripts/jupyter/mod.ts";
import { goodNotebook, writeNotebooks } from "./notebooks_fixtures.ts";

Deno.test("extractCode concatenates code cells and maps lines back to cells", () => {
  const nb = makeNotebook([
    { markdown: "# T" },
    "const a = 1;\nconst b = a + 1;\n",
    "b;",
  ]);
  const { source, locate } = extractCode(nb);
  const lines = source.split("\n");
  const bLine = lines.indexOf("b;") + 1;
  assert.deepEqual(locate(bLine), { cellNumber: 3, line: 1 });
  const aLine = lines.indexOf("const b = a + 1;") + 1;
  assert.deepEqual(locate(aLine), { cellNumber: 2, line: 2 });
  assert.equal(locate(1), null); // the "// cell 2" comment
  assert.match(source, /export \{\};\n$/);
});

Deno.test("check_notebooks passes a good notebook and names the cell of a type error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-check-" });
  try {
    const paths = await writeNotebooks(dir, {
      good: goodNotebook(),
      typed: makeNotebook([
        { markdown: "# Types" },
        "const n: number = 1;\nconsole.log(n);",
        "const wrong: string = n;\nwrong;",
      ]),
      unformatted: makeNotebook(["const x=1;x"]),
    });
    const good = await checkNotebooks([paths.good]);
    assert.deepEqual(good.problems, [], good.output);
    assert.equal(good.ok, true);

    const typed = await checkNotebooks([paths.typed]);
    assert.equal(typed.ok, false);
    assert.deepEqual(typed.problems, [
      `deno check: ${paths.typed} cell 3, line 1:7`,
    ]);
    assert.match(typed.output, /TS2322/);

    const unformatted = await checkNotebooks([paths.unformatted], {
      lint: false,
    });
    assert.equal(unformatted.ok, false);
    assert.match(unformatted.problems.join("\n"), /deno fmt/);

    // The temporary .ts files are gone.
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left.sort(), [
      "good.ipynb",
      "typed.ipynb",
      "unformatted.ipynb",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
