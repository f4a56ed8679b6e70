// ---- cell 0
import pl from "nodejs-polars";
import { initBackend } from "../lib/backend/mod.ts";
import {
  evaluateOnSplits,
  FASHION_ID,
  fashionComparison,
  fashionVariants,
  loadFashionData,
  type ModelOutcome,
  resultRows,
  resultsTable,
  scaleFromEnv,
  trainFashionVariant,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import { buildModel, summarizeModel } from "../lib/models/mod.ts";
import { modelComparison, trainingCurves } from "../lib/plot/mod.ts";

// ---- cell 1
const scale = scaleFromEnv();
const backend = await initBackend({ verbose: false });
const variants = fashionVariants(scale);
console.log(
  `CNN_SCALE=${scale}: ${
    scale === "full"
      ? "the tutorial's settings"
      : "smoke test, tiny data, one epoch"
  }`,
);
console.log(backend.report);
console.log(`variants: ${variants.map((v) => v.label).join(", ")}`);

// ---- cell 2
const data = await loadFashionData(scale);
const settings = trainSettingsFor("fashion-lenet-large", scale);
console.log(data.description);
console.log(`classes: ${data.train.classNames.join(", ")}`);
console.log(
  `batch ${settings.batchSize}, ${settings.epochs} epochs, ${settings.optimizer}, loop: ${settings.loop}`,
);

// ---- cell 3
const layerTable = (name: "fashion-lenet-large" | "fashion-lenet-small") =>
  pl.DataFrame(
    summarizeModel(buildModel(name)).map((r) => ({
      layer: r.name,
      class: r.className,
      "output shape": JSON.stringify(r.outputShape),
      params: r.params,
    })),
  );
layerTable("fashion-lenet-large");

// ---- cell 4
const outcomes: ModelOutcome[] = [];
const trainVariant = async (label: string) => {
  const variant = variants.find((v) => v.label === label)!;
  const trained = await trainFashionVariant(variant, data, {
    scale,
    progress: true,
  });
  const evaluations = evaluateOnSplits(trained, data);
  outcomes.push({
    trained,
    evaluations,
    rows: resultRows(FASHION_ID, trained, evaluations, data),
  });
  console.log(
    `${label}: test accuracy ${(100 * evaluations[0].accuracy).toFixed(2)}%, ` +
      `${trained.trainSeconds.toFixed(1)} s, ${
        trained.params.toLocaleString("en-US")
      } parameters`,
  );
  return trainingCurves(trained.history.map((r) => ({ ...r })), {
    title: `Fashion-MNIST ${label}`,
  });
};
await trainVariant("large-valid");

// ---- cell 5
layerTable("fashion-lenet-small");

// ---- cell 6
await trainVariant("small-valid");

// ---- cell 7
for (const v of variants.filter((v) => v.padding === "same")) {
  await trainVariant(v.label);
}
console.log(
  `variants trained: ${outcomes.map((o) => o.trained.name).join(", ")}`,
);

// ---- cell 8
pl.DataFrame(fashionComparison(outcomes));

// ---- cell 9
modelComparison(fashionComparison(outcomes), {
  title:
    "Fashion-MNIST LeNet variants: accuracy vs training time (area = parameters)",
});

// ---- cell 10
console.log(
  `scale: ${scale}; backend: ${backend.name}; data: ${data.description}`,
);
resultsTable(outcomes.flatMap((o) => o.rows));
