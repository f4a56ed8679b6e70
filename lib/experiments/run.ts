/**
 * What every `runXxx` experiment function takes, and the machinery they
 * share: train a list of models on one dataset, evaluate each on every test
 * split, draw the standard figures (training curves, confusion matrices) and
 * save them as SVG under `outDir`.
 *
 * @example
 * ```ts
 * import { runModels } from "./run.ts";
 * const result = await runModels({
 *   id: "demo", title: "LeNet-5 on MNIST", dataset: "mnist", models: ["lenet5"],
 * }, { scale: "smoke" });
 * console.log(result.rows);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type { Figure } from "../plot/mod.ts";
import { confusionHeatmap } from "../plot/mod.ts";
import { trainingCurves } from "../plot/mod.ts";
import type { TrainCallback } from "../train/mod.ts";
import {
  evaluateOnSplits,
  type EvaluateOnSplitsOptions,
  type ExperimentData,
  loadExperimentData,
  resultRows,
  type SplitEvaluation,
  type TrainedModel,
  trainModel,
} from "./pipeline.ts";
import type { ExperimentResult, FigureFile, ResultRow } from "./results.ts";
import { type Scale, scaleFromEnv } from "./scale.ts";
import { type TrainSettings, trainSettingsFor } from "./settings.ts";

/** Options every `runXxx` experiment function takes. */
export interface RunExperimentOptions {
  /** Scale to run at. Default: `scaleFromEnv()` (env `CNN_SCALE`, else "smoke"). */
  scale?: Scale;
  /** Folder the figures are written to as `.svg`. Default: none (figures are only returned). */
  outDir?: string;
  /** Run only these of the experiment's models. Default: all of them. */
  models?: string[];
  /** Overrides applied to every model's settings (e.g. `{ epochs: 2 }`). Default: none. */
  overrides?: Partial<TrainSettings>;
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror. Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
  /** Show training progress. Default: false. */
  progress?: boolean;
  /** Where progress lines go ("training lenet5...", results). Default: nowhere. */
  log?: (line: string) => void;
}

/** Collects figures and saves each as SVG when an `outDir` was given. */
export class FigureSink {
  /** The figures drawn, with their saved paths. */
  readonly files: FigureFile[] = [];
  /** The figures themselves, by name, for display. */
  readonly figures: Map<string, Figure> = new Map();
  readonly #outDir?: string;

  /**
   * Makes a sink saving into `outDir` (created on first save), or keeping
   * figures in memory only.
   *
   * @example
   * ```ts
   * import { FigureSink } from "./run.ts";
   * const sink = new FigureSink("reports/figures");
   * console.log(sink.files.length); // 0
   * ```
   */
  constructor(outDir?: string) {
    this.#outDir = outDir;
  }

  /**
   * Records `figure` as `name` and writes `<outDir>/<name>.svg`.
   *
   * @example
   * ```ts
   * import { FigureSink } from "./run.ts";
   * import { confusionHeatmap } from "../plot/mod.ts";
   * const sink = new FigureSink();
   * await sink.add("cm", "Confusion", confusionHeatmap([[1, 0], [0, 1]]));
   * ```
   */
  async add(name: string, title: string, figure: Figure): Promise<Figure> {
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, "-");
    let path: string | null = null;
    if (this.#outDir) {
      await Deno.mkdir(this.#outDir, { recursive: true });
      path = join(this.#outDir, `${safe}.svg`);
      await figure.save(path);
    }
    this.figures.set(safe, figure);
    this.files.push({ name: safe, title, path });
    return figure;
  }
}

/** One model's outcome inside {@linkcode runModels}. */
export interface ModelOutcome {
  /** The trained model (the caller disposes it). */
  trained: TrainedModel;
  /** Its evaluation on every test split. */
  evaluations: SplitEvaluation[];
  /** Its result rows. */
  rows: ResultRow[];
}

/** What {@linkcode runModels} needs to know about an experiment. */
export interface ModelsExperiment {
  /** Experiment id, e.g. "000-kannada-mnist". */
  id: string;
  /** Human title. */
  title: string;
  /** Dataset of the registry. */
  dataset: string;
  /** Models to train, in order. */
  models: string[];
  /** Loads the data; default `loadExperimentData(dataset, limits of the scale)`. */
  load?: (
    scale: Scale,
    options: RunExperimentOptions,
  ) => Promise<ExperimentData>;
  /** Trains one model; default `trainModel(name, data, ...)`. */
  train?: (
    name: string,
    data: ExperimentData,
    options: RunExperimentOptions & {
      scale: Scale;
      callbacks?: TrainCallback[];
    },
  ) => Promise<TrainedModel>;
  /** Extra steps after a model is evaluated (more figures, notes). */
  after?: (
    outcome: ModelOutcome,
    data: ExperimentData,
    sink: FigureSink,
    notes: string[],
  ) => Promise<void>;
  /** Extra steps after every model ran (comparison figures). */
  finish?: (
    outcomes: ModelOutcome[],
    data: ExperimentData,
    sink: FigureSink,
    notes: string[],
  ) => Promise<void>;
  /** Notes that always apply (deviations from the tutorial). */
  notes?: string[];
}

/**
 * The largest train/test limits any of `models` uses at `scale` (null = all),
 * so one data load serves every model of an experiment.
 *
 * @example
 * ```ts
 * import { dataLimits } from "./run.ts";
 * console.log(dataLimits(["lenet", "mobilenet"], "smoke")); // { trainLimit: 4000, testLimit: 1000 }
 * ```
 */
export function dataLimits(
  models: readonly string[],
  scale: Scale,
  overrides: Partial<TrainSettings> = {},
): { trainLimit: number | null; testLimit: number | null } {
  const all = models.map((m) => trainSettingsFor(m, scale, { overrides }));
  const most = (values: (number | null)[]) =>
    values.includes(null) ? null : Math.max(...(values as number[]));
  return {
    trainLimit: most(all.map((s) => s.trainLimit)),
    testLimit: most(all.map((s) => s.testLimit)),
  };
}

/**
 * Draws the standard figures of one trained model: training curves and one
 * confusion matrix per test split.
 *
 * @example
 * ```ts
 * import { FigureSink, standardFigures } from "./run.ts";
 * // after trainModel/evaluateOnSplits:
 * // await standardFigures("001", trained, evaluations, new FigureSink("out"));
 * ```
 */
export async function standardFigures(
  experiment: string,
  trained: TrainedModel,
  evaluations: readonly SplitEvaluation[],
  sink: FigureSink,
): Promise<void> {
  await sink.add(
    `${experiment}-${trained.name}-curves`,
    `${trained.name}: training curves`,
    trainingCurves(trained.history.map((r) => ({ ...r })), {
      title: `${trained.name}: loss and accuracy per epoch`,
    }),
  );
  for (const e of evaluations) {
    await sink.add(
      `${experiment}-${trained.name}-confusion-${e.split}`,
      `${trained.name}: confusion matrix on ${e.split}`,
      confusionHeatmap(e.confusion, {
        title: `${trained.name} on ${e.split}: ${
          (100 * e.accuracy).toFixed(1)
        }% accuracy`,
      }),
    );
  }
}

/**
 * Runs an experiment made of several models on one dataset end to end: load
 * data once, then for each model train, evaluate on every test split, record
 * rows and figures, dispose the model.
 *
 * @example
 * ```ts
 * import { runModels } from "./run.ts";
 * const r = await runModels(
 *   { id: "x", title: "LeNet", dataset: "mnist", models: ["lenet"] },
 *   { scale: "smoke", outDir: "reports/x" },
 * );
 * console.log(r.rows.length, r.figures.length);
 * ```
 */
export async function runModels(
  experiment: ModelsExperiment,
  options: RunExperimentOptions = {},
): Promise<ExperimentResult> {
  const started = performance.now();
  const scale = options.scale ?? scaleFromEnv();
  const log = options.log ?? (() => {});
  const models = options.models ?? experiment.models;
  for (const m of models) {
    if (!experiment.models.includes(m)) {
      throw new Error(
        `${experiment.id}: model "${m}" is not part of this experiment ` +
          `(its models: ${experiment.models.join(", ")}).`,
      );
    }
  }
  const run = { ...options, scale };
  log(`[${experiment.id}] loading ${experiment.dataset} (${scale})`);
  const data = experiment.load
    ? await experiment.load(scale, run)
    : await loadExperimentData(experiment.dataset, {
      ...dataLimits(models, scale, options.overrides),
      dataDir: options.dataDir,
      mirror: options.mirror,
    });
  log(`[${experiment.id}] ${data.description}`);
  const notes = [...(experiment.notes ?? [])];
  if (data.substitute) notes.push(data.description);
  const sink = new FigureSink(options.outDir);
  if (options.outDir) await Deno.mkdir(options.outDir, { recursive: true });
  const outcomes: ModelOutcome[] = [];
  for (const name of models) {
    log(`[${experiment.id}] training ${name}`);
    const trained = experiment.train
      ? await experiment.train(name, data, run)
      : await trainModel(name, data, {
        scale,
        overrides: options.overrides,
        progress: options.progress,
      });
    const evalOptions: EvaluateOnSplitsOptions = {};
    const evaluations = await evaluateOnSplits(trained, data, evalOptions);
    const rows = resultRows(experiment.id, trained, evaluations, data);
    for (const r of rows) {
      log(
        `[${experiment.id}] ${name} ${r.split}: ${
          (100 * r.accuracy).toFixed(2)
        }% ` +
          `(${r.train_seconds.toFixed(1)} s training, ${r.backend})`,
      );
    }
    const outcome = { trained, evaluations, rows };
    await standardFigures(experiment.id, trained, evaluations, sink);
    if (experiment.after) await experiment.after(outcome, data, sink, notes);
    outcomes.push(outcome);
  }
  try {
    if (experiment.finish) await experiment.finish(outcomes, data, sink, notes);
  } finally {
    for (const o of outcomes) o.trained.model.dispose();
  }
  return {
    id: experiment.id,
    title: experiment.title,
    scale,
    rows: outcomes.flatMap((o) => o.rows),
    figures: sink.files,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
