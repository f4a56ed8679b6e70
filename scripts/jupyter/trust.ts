/**
 * Notebook trust as Jupyter implements it (nbformat's `sign.py`): a
 * notebook is trusted when the HMAC-SHA256 of its contents, keyed with the
 * secret in `<data dir>/notebook_secret`, is recorded in the SQLite database
 * `<data dir>/nbsignatures.db`. Jupyter renders SVG and HTML outputs only
 * of trusted notebooks.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  compareCodePoints,
  normalizeNotebook,
  type Notebook,
} from "./nbformat.ts";

/** Options for {@linkcode signNotebook}. */
export interface SignNotebookOptions {
  /**
   * Jupyter data directory. Default: `$JUPYTER_DATA_DIR`, else
   * `$XDG_DATA_HOME/jupyter`, else `~/.local/share/jupyter`.
   */
  dataDir?: string;
}

/**
 * The Jupyter data directory on Linux, as `jupyter --data-dir` reports it.
 *
 * @example
 * ```ts
 * console.log(jupyterDataDir()); // e.g. /home/me/.local/share/jupyter
 * ```
 */
export function jupyterDataDir(): string {
  const explicit = Deno.env.get("JUPYTER_DATA_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg) return join(xdg, "jupyter");
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new Error(
      "cannot find the Jupyter data directory: set HOME or JUPYTER_DATA_DIR",
    );
  }
  return join(home, ".local", "share", "jupyter");
}

/** Python's `str()` of a number parsed from JSON written by JavaScript. */
function pythonNumber(x: number): string {
  // JSON.stringify writes integers below 1e21 as digits: Python reads an int.
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  // Otherwise Python reads a float and str() gives repr: shortest digits,
  // positional when -4 <= exponent < 16, else d.ddde±XX.
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let text: string;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
      const frac = digits.slice(exp + 1) || "0";
      text = `${whole}.${frac}`;
    } else {
      text = `0.${"0".repeat(-exp - 1)}${digits}`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, "0");
    text = `${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  return negative ? `-${text}` : text;
}

/** nbformat's `yield_everything`: every key and leaf as UTF-8 bytes. */
function* everything(value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    for (const item of value) yield* everything(item);
  } else if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record).sort(compareCodePoints)) {
      yield key;
      yield* everything(record[key]);
    }
  } else if (typeof value === "string") {
    yield value;
  } else if (typeof value === "number") {
    yield pythonNumber(value);
  } else if (typeof value === "boolean") {
    yield value ? "True" : "False";
  } else {
    yield "None";
  }
}

/**
 * Computes Jupyter's signature (hex HMAC-SHA256) of a notebook as it will
 * be read back from the file `serializeNotebook` writes.
 *
 * @example
 * ```ts
 * const secret = await Deno.readFile(`${jupyterDataDir()}/notebook_secret`);
 * const digest = await computeSignature(nb, secret);
 * ```
 */
export async function computeSignature(
  nb: Notebook,
  secret: Uint8Array,
): Promise<string> {
  const encoder = new TextEncoder();
  const chunks = Array.from(
    everything(normalizeNotebook(nb)),
    (s) => encoder.encode(s),
  );
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  const key = await crypto.subtle.importKey(
    "raw",
    secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, bytes);
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Reads the signing secret, creating it like Jupyter does when missing. */
async function readSecret(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, "notebook_secret");
  try {
    return await Deno.readFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // Python's base64.encodebytes(os.urandom(1024)): 76-column lines.
  const raw = crypto.getRandomValues(new Uint8Array(1024));
  const b64 = btoa(String.fromCharCode(...raw));
  const text = (b64.match(/.{1,76}/g) ?? []).join("\n") + "\n";
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(file, text, { mode: 0o600, createNew: true })
    .catch((e) => {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    });
  return await Deno.readFile(file);
}

/** Python's sqlite3 adapter format for `datetime.utcnow()`. */
function pythonTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "000");
}

/**
 * Marks a notebook as trusted for Jupyter on this machine (same result as
 * `jupyter trust FILE` on the file `serializeNotebook(nb)` produces).
 * Returns the signature.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("out.ipynb", serializeNotebook(nb));
 * await signNotebook(nb);
 * ```
 */
export async function signNotebook(
  nb: Notebook,
  options: SignNotebookOptions = {},
): Promise<string> {
  const dataDir = options.dataDir ?? jupyterDataDir();
  const digest = await computeSignature(nb, await readSecret(dataDir));
  const db = new DatabaseSync(join(dataDir, "nbsignatures.db"));
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS nbsignatures
      (
        id integer PRIMARY KEY AUTOINCREMENT,
        algorithm text,
        signature text,
        path text,
        last_seen timestamp
      )`);
    db.exec(
      "CREATE INDEX IF NOT EXISTS algosig ON nbsignatures(algorithm, signature)",
    );
    const now = pythonTimestamp(new Date());
    const found = db.prepare(
      "SELECT id FROM nbsignatures WHERE algorithm = ? AND signature = ?",
    ).get("sha256", digest);
    if (found) {
      db.prepare(
        "UPDATE nbsignatures SET last_seen = ? WHERE algorithm = ? AND signature = ?",
      ).run(now, "sha256", digest);
    } else {
      db.prepare(
        "INSERT INTO nbsignatures (algorithm, signature, last_seen) VALUES (?, ?, ?)",
      ).run("sha256", digest, now);
    }
  } finally {
    db.close();
  }
  return digest;
}
