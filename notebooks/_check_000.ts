// ---- cell 0
import pl from "nodejs-polars";
import { initBackend } from "../lib/backend/mod.ts";
import {
  evaluateKannadaModel,
  KANNADA_ID,
  KANNADA_MODELS,
  kannadaConfusions,
  loadKannadaData,
  resultRows,
  resultsTable,
  scaleFromEnv,
  type SplitEvaluation,
  trainKannadaModel,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import {
  buildLenet,
  buildMobileNet,
  countParams,
  traceLayerShapes,
} from "../lib/models/mod.ts";
import { confusionHeatmap, trainingCurves } from "../lib/plot/mod.ts";

// ---- cell 1
const scale = scaleFromEnv();
const backend = await initBackend({ verbose: false });
console.log(
  `CNN_SCALE=${scale}: ${
    scale === "full"
      ? "the tutorial's settings"
      : "smoke test, tiny data, one epoch"
  }`,
);
console.log(backend.report);

// ---- cell 2
pl.DataFrame(
  traceLayerShapes(buildLenet()).map((r) => ({
    layer: r.name,
    class: r.className,
    "output shape": r.outputShape.join(" x "),
  })),
);

// ---- cell 3
const data = await loadKannadaData(scale);
const trainedOn = data.substitute
  ? "SUBSTITUTE: trained on part of the official test split"
  : "trained on the official training split";
const splitTitle = (split: string) =>
  (split === "dig" ? "Dig-MNIST" : "Kannada-MNIST test") +
  (data.substitute && split === "test"
    ? " (held-out part of the official test split)"
    : "");
console.log(data.description);

// ---- cell 4
const settingsTable = pl.DataFrame(KANNADA_MODELS.map((name) => {
  const s = trainSettingsFor(name, scale);
  return {
    model: name,
    epochs: s.epochs,
    batch: s.batchSize,
    optimizer: s.optimizer,
    "learning rate": s.learningRate,
    "validation share": s.validationFraction,
    "train images": Math.min(s.trainLimit ?? Infinity, data.train.count),
  };
}));
settingsTable;

// ---- cell 5
const lenet = await trainKannadaModel("lenet", data, { scale, progress: true });
const lenetEval = evaluateKannadaModel(lenet, data);
trainingCurves(lenet.history.map((r) => ({ ...r })), {
  title: `LeNet on Kannada-MNIST (${trainedOn})`,
});

// ---- cell 6
const accuracyTable = (model: string, evals: SplitEvaluation[]) =>
  pl.DataFrame(evals.map((e) => ({
    model,
    "test set": splitTitle(e.split),
    images: e.count,
    accuracy: Number((100 * e.accuracy).toFixed(2)),
    data: trainedOn,
  })));
accuracyTable("lenet", lenetEval);

// ---- cell 7
const cnn = await trainKannadaModel("kannada-cnn", data, {
  scale,
  progress: true,
});
const cnnEval = evaluateKannadaModel(cnn, data);
accuracyTable("kannada-cnn", cnnEval);

// ---- cell 8
const base = buildMobileNet({ head: false });
console.log(
  `MobileNet body: ${base.layers.length} layers, ${
    countParams(base).total.toLocaleString("en-US")
  } weights`,
);
const mobilenet = await trainKannadaModel("mobilenet", data, {
  scale,
  progress: true,
});
console.log(
  `with the new head: ${
    mobilenet.params.toLocaleString("en-US")
  } weights (${mobilenet.plan.note})`,
);
const mobilenetEval = evaluateKannadaModel(mobilenet, data);
accuracyTable("mobilenet", mobilenetEval);

// ---- cell 9
const candidates = [
  { name: "lenet", evals: lenetEval },
  { name: "kannada-cnn", evals: cnnEval },
  { name: "mobilenet", evals: mobilenetEval },
];
const best = candidates.reduce((
  a,
  b,
) => (b.evals[0].accuracy > a.evals[0].accuracy ? b : a));
const [bestTest, bestDig] = best.evals; // splits in order: test, dig
const cmTest = bestTest.confusion;
const cmDig = bestDig.confusion;
confusionHeatmap(cmTest, {
  title: `${best.name}: ${splitTitle("test")}, ${trainedOn}`,
});

// ---- cell 10
confusionHeatmap(cmDig, {
  title: `${best.name}: ${splitTitle("dig")}, ${trainedOn}`,
});

// ---- cell 11
pl.DataFrame([
  ...kannadaConfusions(bestTest, 5).map((p) => ({
    "test set": splitTitle("test"),
    ...p,
  })),
  ...kannadaConfusions(bestDig, 5).map((p) => ({
    "test set": splitTitle("dig"),
    ...p,
  })),
].map((p) => ({
  "test set": p["test set"],
  "true digit": p.actualName,
  "predicted as": p.predictedName,
  count: p.count,
  "% of the true digit": Number(p.percent.toFixed(1)),
})));

// ---- cell 12
console.log(
  `scale: ${scale}; backend: ${backend.name}; data: ${data.description}`,
);
resultsTable([
  ...resultRows(KANNADA_ID, lenet, lenetEval, data),
  ...resultRows(KANNADA_ID, cnn, cnnEval, data),
  ...resultRows(KANNADA_ID, mobilenet, mobilenetEval, data),
]);
