/**
 * Private checksum helpers: streamed SHA-256 and git blob ids of files.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import type { DataFile } from "./registry.ts";

/** An incremental checksum for a registry file (SHA-256, or its git blob id). */
export interface _FileHasher {
  /** Feeds bytes. */
  update(bytes: Uint8Array): void;
  /** Finishes and returns lower-case hex. */
  digest(): string;
  /** What the digest is: "sha256" or "git-blob-sha1". */
  kind: "sha256" | "git-blob-sha1";
  /** The value the registry expects. */
  expected: string;
}

/** Makes the hasher a registry file is verified with. */
export function _hasherFor(file: DataFile): _FileHasher {
  let hash: Hash;
  if (file.sha256) {
    hash = createHash("sha256");
    return {
      update: (b) => hash.update(b),
      digest: () => hash.digest("hex"),
      kind: "sha256",
      expected: file.sha256,
    };
  }
  if (file.gitBlobSha1) {
    // A git blob id is the SHA-1 of "blob <size>\0" followed by the content.
    hash = createHash("sha1").update(`blob ${file.size}\0`);
    return {
      update: (b) => hash.update(b),
      digest: () => hash.digest("hex"),
      kind: "git-blob-sha1",
      expected: file.gitBlobSha1,
    };
  }
  throw new Error(`${file.name}: the registry pins no checksum for it.`);
}

/** Hashes a file on disk in a stream; returns the hex digest and bytes read. */
export async function _hashFile(
  path: string,
  hasher: _FileHasher,
): Promise<{ digest: string; size: number }> {
  // The readable stream closes the file when it ends or fails.
  const file = await Deno.open(path, { read: true });
  let size = 0;
  for await (const chunk of file.readable) {
    hasher.update(chunk);
    size += chunk.length;
  }
  return { digest: hasher.digest(), size };
}

/** SHA-256 of bytes in memory, lower-case hex. */
export function _sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
