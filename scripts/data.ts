/**
 * `deno task data`: fetch and verify datasets, or list what the cache holds.
 *
 * Usage:
 *   deno task data <names...|all> [--mirror DIR] [--dir DIR] [--offline] [--allow-missing]
 *   deno task data --list [--dir DIR]
 *   deno task data --verify [names...] [--dir DIR]
 *
 * Names: mnist, fashion-mnist, kannada-mnist, cifar10 (or "all"). Each file is
 * taken from the cache if it verifies, else copied from the mirror (`--mirror`
 * or env CNN_DATA_MIRROR), else downloaded, and always checked against the
 * registry's size and checksum. When the official CIFAR-10 archive cannot be
 * had, a `cifar10-subset` folder of loose batches in the mirror is reported as
 * a substitute. `--list` shows the cache (trusting the `.verified` stamps of
 * unchanged files); `--verify` re-hashes every cached file regardless of
 * stamps.
 *
 * After the table, a "What the notebooks will use" section says, for each
 * requested dataset, whether the notebooks get the official files or a
 * labelled substitute (Kannada-MNIST without its training images: a seeded
 * share of the official test split; CIFAR-10 without its archive: the
 * `cifar10-subset` folder), naming the missing files.
 *
 * Exit status: 0 when every requested dataset can be used by the notebooks
 * (official files, or a labelled substitute for missing ones); 1 when some
 * dataset cannot be used, or any file is corrupt or cannot be written to the
 * cache (with `--allow-missing`, datasets that are merely unavailable do not
 * count; corrupt and unwritable files always do); 2 on bad usage. Names
 * given twice count once; `--list --verify` re-hashes as `--verify` does.
 * Errors are printed as messages, never as stack traces.
 *
 * @module
 */
import { runConfigFromEnv } from "../lib/config.ts";
import {
  CacheWriteError,
  checkCachedFile,
  ChecksumMismatchError,
  type DataFile,
  DATASET_NAMES,
  type DatasetName,
  DATASETS,
  DataUnavailableError,
  fetchFile,
  type FetchFileOptions,
  loadCifarFolder,
  resolveDataDir,
  resolveMirror,
} from "../lib/data/mod.ts";
import { parseCli, pathFlag, runCli, UsageError } from "./_cli.ts";
import { join } from "node:path";

const USAGE = `Usage:
  deno task data <names...|all> [--mirror DIR] [--dir DIR] [--offline] [--allow-missing]
  deno task data --list [--dir DIR]
  deno task data --verify [names...] [--dir DIR]
Datasets: ${DATASET_NAMES.join(", ")}`;

interface Row {
  dataset: string;
  file: string;
  size: string;
  status: string;
}

function printTable(rows: Row[]): void {
  const headers: Row = {
    dataset: "dataset",
    file: "file",
    size: "bytes",
    status: "status",
  };
  const keys = ["dataset", "file", "size", "status"] as const;
  const widths = keys.map((k) =>
    Math.max(headers[k].length, ...rows.map((r) => r[k].length))
  );
  const line = (r: Row) =>
    keys.map((k, i) => k === "status" ? r[k] : r[k].padEnd(widths[i])).join(
      "  ",
    );
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(Math.min(w, 40))).join("  "));
  rows.forEach((r) => console.log(line(r)));
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

async function list(
  dataDir: string | undefined,
  names: readonly DatasetName[] = DATASET_NAMES,
  rehash = false,
): Promise<number> {
  const options = { dataDir, rehash };
  console.log(`cache: ${resolveDataDir(options)}`);
  if (rehash) console.log("re-hashing every cached file (stamps ignored)");
  console.log("");
  const rows: Row[] = [];
  let bad = 0;
  let verified = 0;
  for (const name of names) {
    for (const file of DATASETS[name].files) {
      let status;
      try {
        status = await checkCachedFile(file, options);
      } catch (e) {
        bad++;
        rows.push({
          dataset: name,
          file: file.name,
          size: String(file.size),
          status: `ERROR: ${firstLine(e)}`,
        });
        continue;
      }
      if (status.state === "corrupt") bad++;
      if (status.state === "verified") verified++;
      rows.push({
        dataset: name,
        file: file.name,
        size: String(file.size),
        status: status.state === "verified"
          ? "cached, verified"
          : status.state === "missing"
          ? "not cached"
          : `CORRUPT (${status.problem}); run deno task data ${name} to replace it`,
      });
    }
    const subset = join(resolveDataDir(options), "cifar10-subset");
    if (name === "cifar10" && !rehash && await exists(subset)) {
      rows.push({
        dataset: name,
        file: "cifar10-subset/",
        size: "",
        status: "loose batch folder present (not official)",
      });
    }
  }
  printTable(rows);
  if (rehash) {
    console.log(`\n${verified} verified, ${bad} corrupt or unreadable.`);
  }
  return bad ? 1 : 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function fetchAll(
  names: DatasetName[],
  options: FetchFileOptions,
  allowMissing: boolean,
): Promise<number> {
  const mirror = resolveMirror(options);
  console.log(`cache:  ${resolveDataDir(options)}`);
  console.log(`mirror: ${mirror ?? "(none: set --mirror or CNN_DATA_MIRROR)"}`);
  console.log("");
  const rows: Row[] = [];
  const details: string[] = [];
  let verified = 0;
  let missing = 0;
  let corrupt = 0;
  const state = new Map<DataFile, "verified" | "missing" | "bad">();
  const subsets = new Map<DatasetName, string>();
  for (const name of names) {
    let archiveMissing = false;
    for (const file of DATASETS[name].files) {
      const row = { dataset: name, file: file.name, size: String(file.size) };
      state.set(file, "bad");
      try {
        const result = await fetchFile(file, options);
        verified++;
        state.set(file, "verified");
        rows.push({
          ...row,
          status: `verified (${
            result.source === "cache"
              ? "already cached"
              : result.source === "mirror"
              ? "copied from mirror"
              : "downloaded"
          })`,
        });
      } catch (e) {
        if (e instanceof DataUnavailableError) {
          missing++;
          state.set(file, "missing");
          archiveMissing ||= name === "cifar10";
          rows.push({ ...row, status: "MISSING: not available here" });
        } else if (e instanceof ChecksumMismatchError) {
          corrupt++;
          rows.push({
            ...row,
            status: "CORRUPT: truncated, damaged or a different file",
          });
        } else if (e instanceof CacheWriteError) {
          corrupt++;
          rows.push({ ...row, status: `WRITE ERROR: ${firstLine(e)}` });
        } else {
          corrupt++;
          rows.push({ ...row, status: `ERROR: ${firstLine(e)}` });
        }
        details.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (archiveMissing) {
      const folders = [mirror, resolveDataDir(options)].filter((d) =>
        d !== undefined
      ).map((d) => join(d, "cifar10-subset"));
      for (const folder of folders) {
        if (!await exists(folder)) continue;
        try {
          const train = await loadCifarFolder(folder, "train");
          const test = await loadCifarFolder(folder, "test");
          subsets.set(
            name,
            `${folder} (${train.count} train + ${test.count} test images, not the official 50000 + 10000)`,
          );
          rows.push({
            dataset: name,
            file: "cifar10-subset/ (substitute)",
            size: "",
            status:
              `usable with allowSubset: ${train.count} train + ${test.count} ` +
              `test records, checked, NOT the official 50000 + 10000`,
          });
        } catch (e) {
          rows.push({
            dataset: name,
            file: "cifar10-subset/ (substitute)",
            size: "",
            status: `unusable: ${firstLine(e)}`,
          });
        }
        break;
      }
    }
  }
  console.log("");
  printTable(rows);
  if (details.length) {
    console.log("\nDetails:");
    for (const d of details) console.log(`\n${d}`);
  }
  const uses = names.map((name) => _notebookUse(name, state, subsets));
  console.log("\nWhat the notebooks will use:");
  const width = Math.max(...names.map((n) => n.length));
  uses.forEach((use, i) =>
    console.log(`  ${names[i].padEnd(width)}  ${use.text}`)
  );
  const unusable = names.filter((_, i) => !uses[i].usable);
  const substituted = uses.filter((u) => u.substitute).length;
  console.log(
    `\n${verified} verified, ${missing} missing` +
      (missing && !unusable.length
        ? " (the notebooks use the labelled substitutes above)"
        : "") +
      `, ${corrupt} corrupt, unreadable or unwritable.`,
  );
  if (corrupt) return 1;
  if (unusable.length && !allowMissing) {
    console.log(
      `Exit status 1: the notebooks cannot run on ${unusable.join(", ")} ` +
        "(see above; use --allow-missing to accept that).",
    );
    return 1;
  }
  if (substituted) {
    console.log(
      "Every notebook can run; where a substitute is used its results say so.",
    );
  }
  return 0;
}

/** Whether the notebooks can use dataset `name`, and with what. */
function _notebookUse(
  name: DatasetName,
  state: Map<DataFile, "verified" | "missing" | "bad">,
  subsets: Map<DatasetName, string>,
): { usable: boolean; substitute: boolean; text: string } {
  const info = DATASETS[name];
  const lacking = (split: string) => {
    const source = info.splits[split].sources[0];
    return [source.images, source.labels].filter((f): f is DataFile =>
      f !== undefined && state.get(f) !== "verified"
    );
  };
  const missingNames = (files: DataFile[]) =>
    [...new Set(files.map((f) => f.name))].join(", ");
  const splits = Object.keys(info.splits);
  const lacks = splits.filter((s) => lacking(s).length);
  if (!lacks.length) {
    return { usable: true, substitute: false, text: "the official files" };
  }
  const all = missingNames(lacks.flatMap(lacking));
  if (lacks.some((s) => lacking(s).some((f) => state.get(f) === "bad"))) {
    return {
      usable: false,
      substitute: false,
      text: `CANNOT RUN: ${all} corrupt or unwritable (see above)`,
    };
  }
  const subset = subsets.get(name);
  if (subset) {
    return {
      usable: true,
      substitute: true,
      text: `SUBSTITUTE: ${all} missing; the notebooks use ${subset}`,
    };
  }
  if (lacks.length === 1 && lacks[0] === "train" && splits.includes("test")) {
    return {
      usable: true,
      substitute: true,
      text: `SUBSTITUTE: ${all} missing; the notebooks train on a seeded 70% ` +
        "share of the official test split and test on the other 30% (their " +
        "results are labelled SUBSTITUTE)",
    };
  }
  return {
    usable: false,
    substitute: false,
    text: `CANNOT RUN: ${all} missing and no substitute here`,
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv, {
    mirror: { type: "string" },
    dir: { type: "string" },
    list: { type: "boolean" },
    verify: { type: "boolean" },
    offline: { type: "boolean" },
    "allow-missing": { type: "boolean" },
  }, { positionals: true });
  // Flags first, then the run configuration's CNN_DATA_* variables.
  const config = runConfigFromEnv().data;
  const dataDir = pathFlag(values.dir, "--dir") ?? config.dataDir;
  // --list --verify re-hashes: --verify is the stronger --list.
  if (values.list && !values.verify) {
    if (positionals.length) {
      throw new UsageError(
        "--list takes no dataset names; it lists the whole cache " +
          "(use --verify NAMES to check some).",
      );
    }
    return await list(dataDir);
  }
  // A name given twice counts once.
  const names = positionals.includes("all") ||
      (values.verify && positionals.length === 0)
    ? [...DATASET_NAMES]
    : [...new Set(positionals)];
  const unknown = names.filter((n) =>
    !DATASET_NAMES.includes(n as DatasetName)
  );
  if (unknown.length) {
    throw new UsageError(
      `Unknown dataset(s): ${unknown.join(", ")}. Known: ${
        DATASET_NAMES.join(", ")
      } (or all).`,
    );
  }
  if (values.verify) {
    return await list(dataDir, names as DatasetName[], true);
  }
  if (names.length === 0) throw new UsageError("Name the datasets to fetch.");
  return await fetchAll(
    names as DatasetName[],
    {
      dataDir,
      mirror: pathFlag(values.mirror, "--mirror") ?? config.mirror,
      offline: values.offline ?? config.offline,
    },
    values["allow-missing"] ?? false,
  );
}

if (import.meta.main) runCli(USAGE, main);
