// tileGrid and epochComparison: the two figures notebooks 004 and 003 write
// in their own cells (their drift tests hold the cells equal to these).
import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import {
  epochComparison,
  imageDataUri,
  imageGrid,
  tileGrid,
} from "../lib/plot/mod.ts";

const parse = (svg: string) =>
  parseHTML(`<html><body>${svg}</body></html>`).document;

Deno.test("tileGrid: one image per tile, its title's lines and colour above it", () => {
  const src = imageDataUri([0, 255, 255, 0], 2, 2, 1, [0, 255]);
  const fig = tileGrid([
    { src, title: "pred: cat\ntrue: dog", color: "red" },
    { src, title: "cat" },
    { src, title: "dog" },
  ], { columns: 2, cellSize: 40, title: "three" });
  const doc = parse(fig.svg);
  assert.equal(doc.querySelectorAll("image").length, 3);
  const tspans = [...doc.querySelectorAll("text, tspan")].map((t) =>
    t.textContent
  );
  for (const line of ["pred: cat", "true: dog", "cat", "dog", "three"]) {
    assert.ok(tspans.includes(line), `${line} in ${tspans}`);
  }
  assert.ok(fig.svg.includes('fill="red"'));
  // Two rows of two columns: the figure is taller than one row of tiles.
  const one = tileGrid([{ src, title: "cat" }], { cellSize: 40 });
  assert.ok(fig.height > one.height);
  // imageGrid draws through tileGrid: same figure for the same tiles.
  const grid = imageGrid(
    {
      images: new Uint8Array([0, 255, 255, 0]),
      height: 2,
      width: 2,
      channels: 1,
    },
    { titles: ["cat"], cellSize: 40 },
  );
  assert.equal(grid.svg, one.svg);
});

Deno.test("epochComparison: accuracy and seconds per epoch, one labelled line per model", () => {
  const points = [1, 2, 3].flatMap((epoch) => [
    { model: "wide LeNet", epoch, accuracy: 0.8 + epoch / 100, seconds: 40 },
    { model: "small LeNet", epoch, accuracy: 0.7 + epoch / 100, seconds: 9 },
  ]);
  const fig = epochComparison(points, { title: "two variants" });
  const doc = parse(fig.svg);
  // Two panels, each with a line per model and a dot per point.
  assert.equal(doc.querySelectorAll("svg svg").length, 2);
  assert.equal(doc.querySelectorAll("path").length >= 4, true);
  assert.equal(doc.querySelectorAll("circle").length, 2 * points.length);
  const texts = [...doc.querySelectorAll("text")].map((t) => t.textContent);
  // Each model is named once per panel, in the legend.
  assert.equal(texts.filter((t) => t === "wide LeNet").length, 2);
  assert.equal(texts.filter((t) => t === "small LeNet").length, 2);
  // The panels are widened by the longest name, so it is never cut.
  const short = epochComparison(
    points.map((p) => ({ ...p, model: p.model[0] })),
  );
  assert.ok(fig.width > short.width);
});
