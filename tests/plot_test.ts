/**
 * Tests of lib/plot: figure structure (parsed SVG: marks, titles, xmlns, no
 * NaN coordinates), saving as .svg and .png, Jupyter display, and maximum
 * stimuli that really raise the chosen unit's activation.
 */
import assert from "node:assert/strict";
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { confusionMatrix } from "../lib/eval/mod.ts";
import { type EpochRecord, historyFrame } from "../lib/train/mod.ts";
import {
  composeFigure,
  confusionHeatmap,
  displayFigure,
  type Figure,
  figureAltText,
  figureBundle,
  filterGrid,
  filterStimuli,
  historyPoints,
  imageGrid,
  JUPYTER_DISPLAY,
  maxStimulus,
  modelComparison,
  plotDocument,
  RIGHT_COLOR,
  stimulusGrid,
  trainingCurves,
  WRONG_COLOR,
} from "../lib/plot/mod.ts";

await initBackend({ backend: "cpu" });

/** Parses a figure's SVG and checks what every figure must satisfy. */
function parse(fig: Figure): Element {
  assert.ok(
    fig.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'),
    "standalone SVG needs xmlns on the root",
  );
  assert.ok(
    !/NaN|undefined|Infinity/.test(fig.svg),
    "SVG holds NaN/undefined/Infinity",
  );
  assert.ok(fig.width > 0 && fig.height > 0);
  const { document } = parseHTML(`<html><body>${fig.svg}</body></html>`);
  const root = document.querySelector("svg");
  assert.ok(root, "no <svg> root");
  // Every numeric coordinate attribute must parse as a finite number.
  for (const el of root.querySelectorAll("*")) {
    for (const name of ["x", "y", "width", "height", "cx", "cy", "r"]) {
      const v = el.getAttribute(name);
      if (v !== null && !v.endsWith("%") && !v.endsWith("em")) {
        assert.ok(Number.isFinite(Number(v)), `<${el.tagName} ${name}="${v}">`);
      }
    }
  }
  return root as unknown as Element;
}

const texts = (root: Element) =>
  [...root.querySelectorAll("text")].map((t) => t.textContent ?? "");

/** The figure title as a whole (it may be wrapped over several lines). */
const figureTitle = (root: Element) =>
  root.querySelector(":scope > text")?.getAttribute("aria-label") ?? "";

const HISTORY = [
  { epoch: 1, loss: 1.2, acc: 0.6, val_loss: 1.1, val_acc: 0.65, lr: 0.001 },
  { epoch: 2, loss: 0.7, acc: 0.8, val_loss: 0.8, val_acc: 0.75, lr: 0.001 },
  { epoch: 3, loss: 0.5, acc: 0.85, val_loss: null, val_acc: null, lr: 0.001 },
];

/** Records exactly as lib/train returns them (1-based `epoch`). */
function epochRecords(n: number): EpochRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    loss: 1 / (i + 1),
    acc: 0.5 + 0.1 * i,
    val_loss: 1.1 / (i + 1),
    val_acc: 0.45 + 0.1 * i,
    lr: 1e-3,
    seconds: 1,
    samples_per_s: 100,
  }));
}

/** Distinct x-axis tick labels of a figure, in order. */
function xTicks(root: Element): string[] {
  return [
    ...new Set(
      [...root.querySelectorAll('g[aria-label="x-axis tick label"] text')]
        .map((t) => t.textContent ?? ""),
    ),
  ];
}

/** Runs `fn` with console.warn captured; returns fn's value and the warnings. */
function withWarnings<T>(fn: () => T): [T, unknown[][]] {
  const warnings: unknown[][] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    return [fn(), warnings];
  } finally {
    console.warn = original;
  }
}

Deno.test("trainingCurves: two panels, train and validation lines, titles", () => {
  const fig = trainingCurves(HISTORY, { title: "LeNet-5" });
  const root = parse(fig);
  const t = texts(root);
  for (const s of ["LeNet-5", "Loss", "Accuracy", "train", "validation"]) {
    assert.ok(t.includes(s), `missing text ${s}: ${t.join("|")}`);
  }
  assert.equal(root.querySelectorAll("svg").length, 2, "two nested panels");
  assert.equal(root.querySelectorAll('g[aria-label="line"] path').length, 4);
  // 3 train + 2 validation points (nulls skipped) per panel.
  assert.equal(root.querySelectorAll('g[aria-label="dot"] circle').length, 10);
  assert.deepEqual(
    historyPoints(HISTORY).filter((p) => p.split === "validation").map((p) =>
      p.epoch
    ),
    [1, 1, 2, 2],
  );
  // tfjs History form (0-based indices, shown 1-based) and a polars-like object.
  const tfjs = parse(
    trainingCurves({ history: { loss: [1, 0.5], acc: [0.5, 0.7] } }),
  );
  assert.deepEqual(xTicks(tfjs), ["1", "2"]);
  parse(trainingCurves({ toRecords: () => HISTORY }));
  assert.throws(() => trainingCurves([]), /no loss\/acc/);
});

Deno.test("trainingCurves: accepts lib/train records and DataFrames; x is the 1-based epoch", () => {
  const records = epochRecords(3);
  // EpochRecord[] type-checks as it is (no copying into index-signature rows).
  const fromRecords = parse(trainingCurves(records));
  assert.deepEqual(xTicks(fromRecords), ["1", "2", "3"]);
  assert.deepEqual(
    [...new Set(historyPoints(records).map((p) => p.epoch))],
    [1, 2, 3],
  );
  // A real nodejs-polars DataFrame (a Proxy: `"toRecords" in df` is false).
  const frame = historyFrame(records);
  const fromFrame = parse(trainingCurves(frame, { title: "from polars" }));
  assert.deepEqual(xTicks(fromFrame), ["1", "2", "3"]);
  assert.equal(
    fromFrame.querySelectorAll('g[aria-label="dot"] circle').length,
    12,
  );
  assert.deepEqual(historyPoints(frame), historyPoints(records));
  // epochOffset still shifts on request.
  assert.deepEqual(
    [
      ...new Set(
        historyPoints(records, { epochOffset: 10 }).map((p) => p.epoch),
      ),
    ],
    [11, 12, 13],
  );
});

Deno.test("trainingCurves: explicit series, no Plot warnings or warning glyphs", () => {
  for (const n of [1, 2, 3]) {
    const [fig, warnings] = withWarnings(() => trainingCurves(epochRecords(n)));
    assert.deepEqual(warnings, [], `${n} epoch(s): console.warn was called`);
    assert.ok(
      !fig.svg.includes("\u26a0"),
      `${n} epoch(s): SVG holds a warning glyph`,
    );
    parse(fig);
  }
});

Deno.test("composeFigure: long titles wrap onto several lines within the width", () => {
  const panel = () =>
    Plot.plot({
      document: plotDocument(),
      width: 200,
      height: 120,
      marks: [Plot.frame()],
    }) as unknown as Element;
  const short = composeFigure([panel()], { title: "Short" });
  const title =
    "Training curves of LeNet-5 on MNIST with Adam, batch size 128, learning rate 0.001, ten epochs";
  const long = composeFigure([panel()], { title });
  const root = parse(long);
  const tspans = [...root.querySelectorAll(":scope > text tspan")];
  assert.ok(
    tspans.length >= 3,
    `expected >= 3 title lines, got ${tspans.length}`,
  );
  // Every word survives, in order, and no line is wider than the figure
  // (DejaVu Sans Bold 16px is at most ~10px per Latin character).
  const lines = tspans.map((t) => t.textContent ?? "");
  assert.equal(lines.join(" "), title);
  for (const line of lines) {
    assert.ok(line.length * 10 <= long.width, `line too long: "${line}"`);
  }
  const ys = tspans.map((t) => Number(t.getAttribute("y")));
  assert.deepEqual(ys, [...ys].sort((a, b) => a - b), "lines go downwards");
  assert.equal(new Set(ys).size, ys.length, "lines do not overlap");
  // The top margin grows with the number of lines, so the panel moves down.
  assert.equal(long.height - short.height, (tspans.length - 1) * 20);
  const panelY = Number(root.querySelector(":scope > svg")!.getAttribute("y"));
  assert.ok(
    panelY > ys[ys.length - 1],
    "panel starts below the last title line",
  );
});

Deno.test("confusionHeatmap: n*n cells annotated percent / count", () => {
  const cm = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 0], {
    classNames: ["zero", "one", "two"],
  });
  const root = parse(confusionHeatmap(cm));
  assert.equal(root.querySelectorAll('g[aria-label="cell"] rect').length, 9);
  const t = texts(root);
  assert.ok(t.includes("66.7%2"), "cell (zero, zero): 66.7% over 2");
  assert.ok(t.includes("100.0%1"), "cell (two, zero): 100% over 1");
  assert.ok(
    figureTitle(root).startsWith("Confusion matrix (accuracy 66.7%)"),
    figureTitle(root),
  );
  for (const s of ["Predicted", "Actual", "zero", "one", "two"]) {
    assert.ok(t.some((x) => x.includes(s)), `missing ${s}`);
  }
  const raw = parse(
    confusionHeatmap([[3, 1], [0, 4]], {
      classNames: ["a", "b"],
      title: "raw",
    }),
  );
  assert.ok(texts(raw).includes("75.0%3"));
});

Deno.test("imageGrid: one <image> per sample, green right / red wrong titles, compact", async () => {
  const n = 100;
  const images = new Uint8Array(n * 28 * 28).map((_, i) => (i * 7) % 256);
  const trueLabels = Array.from({ length: n }, (_, i) => i % 10);
  const predictedLabels = trueLabels.map((
    l,
    i,
  ) => (i % 3 === 0 ? (l + 1) % 10 : l));
  const fig = imageGrid({ images, height: 28, width: 28, channels: 1 }, {
    trueLabels,
    predictedLabels,
    scores: new Array(n).fill(0.5),
    limit: 100,
    columns: 10,
    title: "Predictions",
  });
  const root = parse(fig);
  const imgs = root.querySelectorAll("image");
  assert.equal(imgs.length, 100);
  assert.ok(imgs[0].getAttribute("href")!.startsWith("data:image/png;base64,"));
  assert.ok(fig.svg.length < 400_000, `SVG is ${fig.svg.length} bytes`);
  const titles = [...root.querySelectorAll('g[aria-label="text"] text')];
  assert.equal(titles.length, 100);
  const fills = titles.map((t) => t.getAttribute("fill"));
  assert.equal(fills.filter((f) => f === WRONG_COLOR).length, 34);
  assert.equal(fills.filter((f) => f === RIGHT_COLOR).length, 66);
  assert.ok(texts(root).includes("Predictions"));
  assert.ok(
    titles[0].textContent!.includes("pred: 1") &&
      titles[0].textContent!.includes("true: 0"),
  );
  // Float tensors work too; bad indices are a clear error.
  const t = tf.randomUniform([3, 8, 8, 3], -1, 1, "float32", 1);
  assert.equal(
    parse(await imageGrid(t)).querySelectorAll("image").length,
    3,
  );
  await assert.rejects(
    () => imageGrid(t, { indices: [5] }),
    /index 5 is outside the batch of 3/,
  );
  t.dispose();
});

Deno.test("save: .svg text and .png bytes; Jupyter display bundle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fig = modelComparison([
      {
        model: "small",
        test_accuracy: 0.88,
        train_seconds: 30,
        params: 60_000,
      },
      { name: "large", accuracy: 0.91, trainSeconds: 120, params: 1_000_000 },
    ]);
    const t = texts(parse(fig));
    assert.ok(
      t.some((s) => s.startsWith("small")) &&
        t.some((s) => s.startsWith("large")),
    );
    assert.equal(
      parse(fig).querySelectorAll('g[aria-label="dot"] circle').length,
      2,
    );
    await fig.save(`${dir}/cmp.svg`);
    assert.equal(await Deno.readTextFile(`${dir}/cmp.svg`), fig.svg);
    await fig.save(`${dir}/cmp.png`, { scale: 1 });
    const png = await Deno.readFile(`${dir}/cmp.png`);
    assert.deepEqual([...png.slice(0, 8)], [
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
    ]);
    const view = new DataView(png.buffer, png.byteOffset);
    assert.equal(
      view.getUint32(16),
      fig.width,
      "PNG width = figure width at scale 1",
    );
    assert.equal(view.getUint32(20), fig.height);
    assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
    await assert.rejects(fig.save(`${dir}/cmp.jpg`), /use a \.svg or \.png/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "cmp.png",
      "cmp.svg",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function tinyConvNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [12, 12, 1],
        filters: 4,
        kernelSize: 3,
        activation: "relu",
        name: "conv1",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 5,
        name: "fc",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }),
      }),
    ],
  });
}

/** Width and height of base64 PNG data, from its IHDR chunk. */
function pngSize(base64: string): [number, number] {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47], "not a PNG");
  const view = new DataView(bytes.buffer);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test("Jupyter display: PNG at 2x with alt text by default, SVG only when asked", async () => {
  const doc = plotDocument();
  const panel = () =>
    Plot.plot({
      document: doc,
      width: 200,
      height: 120,
      marks: [Plot.dot([{ x: 1, y: 2 }], { x: "x", y: "y" })],
    });
  const fig = composeFigure([panel(), panel()], {
    title: "Loss & accuracy <per epoch>",
    panelTitles: ["loss", "accuracy"],
  });
  const bundle = await fig[JUPYTER_DISPLAY]();
  assert.deepEqual(Object.keys(bundle).sort(), ["image/png", "text/plain"]);
  assert.deepEqual(pngSize(bundle["image/png"]), [
    2 * fig.width,
    2 * fig.height,
  ]);
  assert.equal(
    bundle["text/plain"],
    `Figure: Loss & accuracy <per epoch> (panels: loss; accuracy) [${fig.width}x${fig.height} image]`,
  );
  assert.equal(fig.alt, bundle["text/plain"]);
  const trusted = await fig.bundle({ svg: true, scale: 1, alt: "two dots" });
  assert.equal(trusted["image/svg+xml"], fig.svg);
  assert.equal(trusted["text/plain"], "two dots");
  assert.deepEqual(pngSize(trusted["image/png"]), [fig.width, fig.height]);
  // An explicit alt replaces the generated one, in the SVG too.
  const described = composeFigure([panel()], { alt: "one dot" });
  assert.match(described.svg, /^<svg[^>]*><title>one dot<\/title>/);
  assert.equal(
    described.alt,
    `one dot [${described.width}x${described.height} image]`,
  );

  const sent: [string, Record<string, unknown>][] = [];
  await displayFigure(fig, {
    broadcast: (type, content) => {
      sent.push([type, content]);
      return Promise.resolve();
    },
  });
  assert.equal(sent.length, 1);
  assert.equal(sent[0][0], "display_data");
  assert.deepEqual(sent[0][1].data, bundle);
  assert.deepEqual(sent[0][1].metadata, {
    "image/png": { width: fig.width, height: fig.height },
  });
  await assert.rejects(
    displayFigure(fig),
    /needs the Deno Jupyter kernel; outside it, save the figure/,
  );
});

Deno.test("figureAltText: reads older figures' drawn title, else says Figure", async () => {
  const older = '<svg xmlns="http://www.w3.org/2000/svg" width="300" ' +
    'height="90" viewBox="0 0 300 90"><rect width="100%" height="100%" ' +
    'fill="white"/><text aria-label="Samples &amp; labels" ' +
    'text-anchor="middle">Samples</text></svg>';
  assert.equal(figureAltText(older), "Figure: Samples & labels [300x90 image]");
  const bare = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">' +
    '<text aria-label="x">x</text></svg>';
  assert.equal(figureAltText(bare), "Figure: x [4x4 image]");
  const none = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">' +
    '<g aria-label="dot"></g></svg>';
  assert.equal(figureAltText(none), "Figure [4x4 image]");
  const bundle = await figureBundle(none, { scale: 3 });
  assert.deepEqual(pngSize(bundle["image/png"]), [12, 12]);
});

Deno.test("filterGrid: one image per first-layer filter", async () => {
  const model = tinyConvNet();
  const root = parse(await filterGrid(model));
  assert.equal(root.querySelectorAll("image").length, 4);
  assert.ok(texts(root).includes("Filters of conv1"));
  const rgb = tf.randomNormal([5, 5, 3, 6], 0, 1, "float32", 3);
  assert.equal(
    parse(await filterGrid(rgb, { title: "RGB" })).querySelectorAll("image")
      .length,
    6,
  );
  rgb.dispose();
  await assert.rejects(
    () => filterGrid(model, { layer: "fc" }),
    /no 4-D conv kernel/,
  );
  model.dispose();
});

Deno.test("maxStimulus: raises conv and dense activations, no leaks", async () => {
  const model = tinyConvNet();
  const before = tf.memory().numTensors;
  const conv = await maxStimulus(model, {
    units: [0, 1, 2, 3],
    iterations: 10,
  });
  const dense = await maxStimulus(model, {
    layer: "fc",
    units: [0, 4],
    iterations: 10,
  });
  assert.equal(tf.memory().numTensors, before, "maxStimulus leaked tensors");
  for (const s of [...conv, ...dense]) {
    assert.ok(
      s.activation > s.startActivation + 0.1,
      `${s.layer}#${s.unit}: ${s.startActivation} -> ${s.activation}`,
    );
    assert.equal(s.pixels.length, 144);
    assert.ok(s.input.every(Number.isFinite));
  }
  assert.equal(conv[0].layer, "conv1");
  // Deterministic: same seed, same image.
  const again = await maxStimulus(model, { units: [0], iterations: 10 });
  assert.deepEqual(again[0].input, conv[0].input);
  const l2 = await maxStimulus(model, {
    units: [0],
    iterations: 10,
    normalize: "l2",
  });
  assert.ok(l2[0].activation > l2[0].startActivation);
  const root = parse(stimulusGrid(conv));
  assert.equal(root.querySelectorAll("image").length, 4);
  assert.ok(texts(root).includes("Maximum stimuli of conv1"));
  await assert.rejects(
    () => maxStimulus(model, { layer: "fc", units: [5] }),
    /unit 5 is outside/,
  );
  await assert.rejects(
    () => maxStimulus(model, { layer: "nope" }),
    /no layer "nope"/,
  );
  model.dispose();
});

Deno.test("filterStimuli: seed 004's search, skipped filters listed, no leaks", async () => {
  const model = tinyConvNet();
  // relu: a filter with a large negative bias stays at 0 (loss <= 0, skipped).
  const [kernel] = model.layers[0].getWeights();
  const bias = tf.tensor1d([0, -50, 0, 0]);
  model.layers[0].setWeights([kernel, bias]);
  bias.dispose();
  const before = tf.memory().numTensors;
  const found = await filterStimuli(model, {
    layer: "conv1",
    count: 2,
    iterations: 5,
  });
  assert.equal(tf.memory().numTensors, before, "filterStimuli leaked tensors");
  assert.equal(found.layer, "conv1");
  assert.deepEqual(found.skipped, [1]);
  assert.deepEqual(found.stimuli.map((s) => s.unit), [0, 2]);
  for (const s of found.stimuli) {
    assert.ok(s.loss! > 0 && s.activation > s.startActivation);
    assert.equal(s.pixels.length, 144);
  }
  // Same seed, same images.
  const again = await filterStimuli(model, {
    layer: "conv1",
    count: 1,
    iterations: 5,
  });
  assert.deepEqual(again.stimuli[0].pixels, found.stimuli[0].pixels);
  await assert.rejects(
    () => filterStimuli(model, { layer: "fc" }),
    /must output 4-D feature maps/,
  );
  await assert.rejects(
    () => filterStimuli(model, { layer: "conv1", count: 0 }),
    /count must be an integer >= 1/,
  );
  model.dispose();
});
