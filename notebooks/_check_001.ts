// ---- cell 0
import pl from "nodejs-polars";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  evaluateOnSplits,
  loadMnistData,
  MNIST_LENET5_ID,
  resultRows,
  resultsTable,
  scaleFromEnv,
  trainMnistLeNet5,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import {
  buildLenet5,
  SimpleConv2D,
  summarizeModel,
} from "../lib/models/mod.ts";
import { historyFrame } from "../lib/train/mod.ts";
import { trainingCurves } from "../lib/plot/mod.ts";

// ---- cell 1
const scale = scaleFromEnv();
const backend = await initBackend({ verbose: false });
const settings = trainSettingsFor("lenet5", scale);
console.log(
  `CNN_SCALE=${scale}: ${
    scale === "full"
      ? "the tutorial's settings"
      : "smoke test, tiny data, one epoch"
  }`,
);
console.log(backend.report);

// ---- cell 2
const data = await loadMnistData(scale);
const { train } = data;
console.log(data.description);
console.log(
  `one training batch of 32 has shape [32, ${train.height}, ${train.width}, ${train.channels}]`,
);
console.log(
  `pixel bytes 0..255 are divided by 255 (normalisation: ${
    JSON.stringify(settings.normalize)
  })`,
);

// ---- cell 3
const conv = new SimpleConv2D({ filters: 6, kernelSize: 5 });
const probe = tf.randomUniform([2, 28, 28, 1]);
const convOut = conv.apply(probe) as tf.Tensor;
console.log("input", probe.shape, "-> output", convOut.shape);
console.log(
  "weights created by build():",
  conv.weights.map((w) => `${w.name} ${JSON.stringify(w.shape)}`),
);
console.log("getConfig():", conv.getConfig());
tf.dispose([probe, convOut]);

// ---- cell 4
const model = buildLenet5({ convLayer: "simple", seed: settings.seed });
pl.DataFrame(
  summarizeModel(model).map((r) => ({
    layer: r.name,
    class: r.className,
    "output shape": JSON.stringify(r.outputShape),
    params: r.params,
  })),
);

// ---- cell 5
model.summary();

// ---- cell 6
const logPath = await Deno.makeTempFile({
  prefix: "lenet5-epochs-",
  suffix: ".csv",
});
console.log(
  `SGD lr ${settings.learningRate}, batch ${settings.batchSize}, up to ${settings.epochs} epochs, ` +
    `early stopping patience ${settings.earlyStoppingPatience}, log: ${logPath}`,
);
const trained = await trainMnistLeNet5(data, {
  scale,
  convLayer: "simple",
  logPath,
  progress: true,
});
console.log(
  `${trained.epochs} epochs in ${trained.trainSeconds.toFixed(1)} s` +
    (trained.stopReason ? `; stopped early: ${trained.stopReason}` : ""),
);

// ---- cell 7
console.log(await Deno.readTextFile(logPath));
historyFrame(trained.history);

// ---- cell 8
trainingCurves(trained.history.map((r) => ({ ...r })), {
  title: "LeNet-5 on MNIST: SGD, early stopping on val_loss",
});

// ---- cell 9
const evals = evaluateOnSplits(trained, data);
console.log(
  `scale: ${scale}; backend: ${backend.name}; data: ${data.description}`,
);
console.log(
  `test error: ${(100 * (1 - evals[0].accuracy)).toFixed(2)}% (paper: 0.95%)`,
);
resultsTable(resultRows(MNIST_LENET5_ID, trained, evals, data));
