// ---- cell 0
import pl from "nodejs-polars";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  evaluateOnSplits,
  loadPyTorchStyleData,
  MNIST_NORMALIZE,
  planModelInput,
  predictDigitFiles,
  PYTORCH_STYLE_ID,
  resultRows,
  resultsTable,
  saveAndReload,
  scaleFromEnv,
  toModelTensors,
  trainPyTorchStyleLeNet,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import { buildLenet5Torch, summarizeModel } from "../lib/models/mod.ts";
import { historyFrame } from "../lib/train/mod.ts";
import { imageGrid, trainingCurves } from "../lib/plot/mod.ts";

// ---- cell 1
const scale = scaleFromEnv();
const backend = await initBackend({ verbose: false });
const settings = trainSettingsFor("lenet5-32", scale);
console.log(
  `CNN_SCALE=${scale}: ${
    scale === "full"
      ? "the tutorial's settings"
      : "smoke test, tiny data, one epoch"
  }`,
);
console.log(backend.report);

// ---- cell 2
const data = await loadPyTorchStyleData(scale);
const plan = planModelInput("lenet5-32", data.train);
console.log(data.description);
console.log(
  `input plan: ${plan.note}; normalisation ${JSON.stringify(MNIST_NORMALIZE)}`,
);
const sample = toModelTensors(data.train, plan, { normalize: MNIST_NORMALIZE });
const { mean, variance } = tf.moments(sample.xs);
console.log(
  `tensor ${JSON.stringify(sample.xs.shape)}: mean ${
    mean.dataSync()[0].toFixed(3)
  }, ` +
    `std ${Math.sqrt(variance.dataSync()[0]).toFixed(3)}`,
);
const sampleGrid = imageGrid(tf.slice(sample.xs, 0, 16), {
  trueLabels: data.train.labels.subarray(0, 16),
  title: "Training images after resize to 32x32 and standardisation",
});
tf.dispose([sample.xs, sample.ys, mean, variance]);
sampleGrid;

// ---- cell 3
pl.DataFrame(
  summarizeModel(buildLenet5Torch()).map((r) => ({
    layer: r.name,
    class: r.className,
    "output shape": JSON.stringify(r.outputShape),
    params: r.params,
  })),
);

// ---- cell 4
console.log(
  `Adam lr ${settings.learningRate}, batch ${settings.batchSize}, ${settings.epochs} epochs`,
);
const trained = await trainPyTorchStyleLeNet(data, { scale, progress: true });
historyFrame(trained.history);

// ---- cell 5
trainingCurves(trained.history.map((r) => ({ ...r })), {
  title: "PyTorch-style LeNet-5: loss and accuracy per epoch",
});

// ---- cell 6
const modelDir = await Deno.makeTempDir({ prefix: "lenet5-32-" });
const reloaded = await saveAndReload(trained.model, modelDir);
console.log(
  `saved to ${modelDir}:`,
  [...Deno.readDirSync(modelDir)].map((e) => e.name),
);
const before = evaluateOnSplits(trained, data);
const after = evaluateOnSplits({ ...trained, model: reloaded }, data);
console.log(
  `test accuracy before saving ${
    before[0].accuracy.toFixed(4)
  }, after loading ${after[0].accuracy.toFixed(4)}`,
);

// ---- cell 7
const files = [...Deno.readDirSync("images")].map((e) => `images/${e.name}`)
  .sort();
const predictions = await predictDigitFiles(reloaded, files);
pl.DataFrame(predictions.map((p, i) => ({
  file: files[i],
  predicted: p.className,
  probability: Number(p.probability.toFixed(4)),
  "inverted to white-on-black": p.inverted,
})));

// ---- cell 8
imageGrid({
  images: Uint8Array.from(predictions.flatMap((p) => [...p.pixels])),
  height: predictions[0].height,
  width: predictions[0].width,
  channels: predictions[0].channels,
}, {
  trueLabels: files.map((f) => Number(/digit-(\d)\./.exec(f)?.[1] ?? -1)),
  predictedLabels: predictions.map((p) => p.classIndex),
  scores: predictions.map((p) => p.probability),
  title: "Digit image files read by the reloaded model",
});

// ---- cell 9
console.log(
  `scale: ${scale}; backend: ${backend.name}; data: ${data.description}`,
);
console.log(
  `test accuracy ${
    (100 * before[0].accuracy).toFixed(2)
  }% (exercise target: > 97%; paper: 0.95% error)`,
);
resultsTable(resultRows(PYTORCH_STYLE_ID, trained, before, data));
