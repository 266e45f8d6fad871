// Build OpenZeppelin StandardMerkleTrees of LLM settlement leaves, as the inference facilitator does.
//
// Usage: node devnet/merkle.mjs < trees.json > out.json
//
// stdin: a JSON list of trees; each tree is a non-empty list of leaves
//   [teeId (bytes32 hex), inputHash (bytes32 hex), outputHash (bytes32 hex), teeSignature (bytes hex),
//    timestamp (decimal string)]
// stdout: a JSON list with, per tree in input order, {"root": "0x...", "dump": <tree.dump()>} where the
// tree is StandardMerkleTree.of(leaves, ["bytes32", "bytes32", "bytes32", "bytes", "uint256"]).
// Malformed input or a library error: a one-line message on stderr and exit status 1.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const LEAF_ENCODING = ["bytes32", "bytes32", "bytes32", "bytes", "uint256"];
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const HEX = /^0x([0-9a-fA-F]{2})*$/;
const DECIMAL = /^[0-9]+$/;

function fail(message) {
  process.stderr.write(`merkle.mjs: ${message}\n`);
  process.exit(1);
}

function checkLeaf(leaf, where) {
  if (!Array.isArray(leaf) || leaf.length !== 5) fail(`${where}: a leaf must be a list of 5 values`);
  const [teeId, inputHash, outputHash, signature, timestamp] = leaf;
  for (const [name, value] of [["teeId", teeId], ["inputHash", inputHash], ["outputHash", outputHash]]) {
    if (typeof value !== "string" || !HEX32.test(value)) fail(`${where}: ${name} must be 0x + 64 hex digits`);
  }
  if (typeof signature !== "string" || !HEX.test(signature)) fail(`${where}: teeSignature must be 0x-prefixed hex`);
  if (typeof timestamp !== "string" || !DECIMAL.test(timestamp)) {
    fail(`${where}: timestamp must be a decimal string`);
  }
}

function readStdin() {
  const chunks = [];
  return new Promise((resolve, reject) => {
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

const text = await readStdin();
let trees;
try {
  trees = JSON.parse(text);
} catch (err) {
  fail(`stdin is not JSON: ${err.message}`);
}
if (!Array.isArray(trees)) fail("stdin must be a JSON list of trees");

const out = [];
for (const [t, leaves] of trees.entries()) {
  if (!Array.isArray(leaves) || leaves.length === 0) fail(`tree ${t}: must be a non-empty list of leaves`);
  leaves.forEach((leaf, i) => checkLeaf(leaf, `tree ${t} leaf ${i}`));
  try {
    const tree = StandardMerkleTree.of(leaves, LEAF_ENCODING);
    out.push({ root: tree.root, dump: tree.dump() });
  } catch (err) {
    fail(`tree ${t}: ${err.message}`);
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
