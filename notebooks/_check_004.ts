// ---- cell 0
import pl from "nodejs-polars";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  CIFAR_ID,
  cifarPredictionGrid,
  cifarStimuli,
  evaluateOnSplits,
  loadCifarData,
  resultRows,
  resultsTable,
  sampleIndices,
  scaleFromEnv,
  trainCifarCnn,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import { buildCifarCnn } from "../lib/models/mod.ts";
import { mostConfused } from "../lib/eval/mod.ts";
import { historyFrame, listCheckpoints } from "../lib/train/mod.ts";
import {
  confusionHeatmap,
  filterGrid,
  imageGrid,
  stimulusGrid,
  trainingCurves,
} from "../lib/plot/mod.ts";

// ---- cell 1
const scale = scaleFromEnv();
const backend = await initBackend({ verbose: false });
const settings = trainSettingsFor("cifar-cnn", scale);
console.log(
  `CNN_SCALE=${scale}: ${
    scale === "full"
      ? "the tutorial's settings"
      : "smoke test, tiny data, one epoch"
  }`,
);
console.log(backend.report);

// ---- cell 2
const data = await loadCifarData(scale);
const dataLabel = data.substitute
  ? "SUBSTITUTE: subset of CIFAR-10 from the mirror"
  : "official CIFAR-10";
console.log(data.description);
console.log(`classes: ${data.train.classNames.join(", ")}`);

// ---- cell 3
imageGrid(data.train, {
  indices: sampleIndices(data.train.count, 16),
  trueLabels: data.train.labels,
  classNames: data.train.classNames,
  title: `CIFAR-10 training images (${dataLabel})`,
});

// ---- cell 4
console.log(
  `normalisation: ${
    JSON.stringify(settings.normalize)
  } (x / 255 - 0.5), one-hot targets: ${settings.oneHot}`,
);
const firstLabel = data.train.labels[0];
const oneHot = tf.oneHot(tf.tensor1d([firstLabel], "int32"), 10);
console.log(
  `label ${firstLabel} (${data.train.classNames[firstLabel]}) ->`,
  Array.from(oneHot.dataSync()),
);
oneHot.dispose();

// ---- cell 5
const cnn = buildCifarCnn();
cnn.summary();
cnn.dispose();

// ---- cell 6
const checkpointDir = await Deno.makeTempDir({ prefix: "cifar-checkpoints-" });
const plannedEpochs = Math.max(2, settings.epochs);
const epochsBeforeCrash = Math.floor(plannedEpochs / 2);
console.log(
  `Adamax lr ${settings.learningRate} x ${settings.lrDecay}^epoch, batch ${settings.batchSize}; ` +
    `planned ${plannedEpochs} epochs, "crash" after ${epochsBeforeCrash}`,
);
const interrupted = await trainCifarCnn(data, {
  scale,
  checkpointDir,
  overrides: { epochs: epochsBeforeCrash },
  progress: true,
});
interrupted.model.dispose();
pl.DataFrame(await listCheckpoints(checkpointDir));

// ---- cell 7
const trained = await trainCifarCnn(data, {
  scale,
  checkpointDir,
  overrides: { epochs: plannedEpochs },
  progress: true,
});
console.log(
  `resumed after epoch ${epochsBeforeCrash}, now ${trained.history.length} epochs in the history`,
);
historyFrame(trained.history).select(
  "epoch",
  "lr",
  "loss",
  "acc",
  "val_loss",
  "val_acc",
  "seconds",
);

// ---- cell 8
trainingCurves(trained.history.map((r) => ({ ...r })), {
  title: `CIFAR-10 CNN, epochs before and after the resume (${dataLabel})`,
});

// ---- cell 9
const evals = evaluateOnSplits(trained, data);
const testEval = evals[0];
console.log(
  `test accuracy ${
    (100 * testEval.accuracy).toFixed(2)
  }% on ${testEval.count} images`,
);
confusionHeatmap(testEval.confusion, {
  title:
    `CIFAR-10 confusion matrix, ${testEval.count} test images (${dataLabel})`,
});

// ---- cell 10
pl.DataFrame(
  mostConfused(testEval.confusion, { top: 6 }).map((p) => ({
    "true class": p.actualName,
    "predicted as": p.predictedName,
    count: p.count,
    "% of the true class": Number(p.percent.toFixed(1)),
  })),
);

// ---- cell 11
cifarPredictionGrid(data, testEval, 16);

// ---- cell 12
filterGrid(trained.model, { title: "conv2d_1 kernels" });

// ---- cell 13
const units = Array.from({ length: scale === "full" ? 16 : 8 }, (_, i) => i);
stimulusGrid(cifarStimuli(trained.model, { layer: "leaky_re_lu_1", units }), {
  title: "Maximum stimuli of the first convolution's filters (after LeakyReLU)",
});

// ---- cell 14
const deeperLayers = scale === "full"
  ? ["leaky_re_lu_2", "leaky_re_lu_3", "leaky_re_lu_4"]
  : [];
for (const layer of deeperLayers) {
  const figure = stimulusGrid(cifarStimuli(trained.model, { layer, units }), {
    title: `Maximum stimuli of ${layer}`,
  });
  await Deno.jupyter?.display(figure);
}
console.log(
  deeperLayers.length
    ? `drawn: ${deeperLayers.join(", ")}`
    : "skipped at smoke scale",
);

// ---- cell 15
console.log(
  `scale: ${scale}; backend: ${backend.name}; data: ${data.description}`,
);
resultsTable(resultRows(CIFAR_ID, trained, evals, data));
