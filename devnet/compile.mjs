// Compile every devnet/contracts/*.sol with solc-js (standard JSON) into devnet/artifacts/.
//
// Usage: node devnet/compile.mjs [output-dir]      (also: npm run build:contracts)
//
// One artifact per deployable contract (abstract contracts, interfaces and libraries are
// skipped): devnet/artifacts/<ContractName>.json with the keys abi, bytecode, contractName,
// deployedBytecode, solcVersion and storageLayout ([{label, offset, slot, type}] of the
// contract's own state variables, in declaration order). Keys are sorted, indentation is two
// spaces and the file ends with a newline, so a rebuild gives byte-identical files. Settings
// are fixed below; source unit names are relative ("contracts/X.sol"), so the output does not
// depend on where the checkout lives. Any compiler error exits with status 1.
//
// Two passes with the same settings except `viaIR`: the legacy pipeline cannot decode a returned
// ModelOutput (nested tensors) without "stack too deep", so the sources listed in VIA_IR_SOURCES go
// through the IR pipeline; everything else stays on the (several times faster) legacy pipeline.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const DEVNET_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.dirname(DEVNET_DIR);
const CONTRACTS_DIR = path.join(DEVNET_DIR, "contracts");
const NODE_MODULES = path.join(REPO_ROOT, "node_modules");
const SOURCE_PREFIX = "contracts/";

const VIA_IR_SOURCES = new Set(["InferenceCaller.sol", "InferenceHub.sol", "PriceHistoryInference.sol"]);
const CONTRACT_OUTPUTS = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"];

function settings(viaIR, sourceNames) {
  // Bytecode only for our own source units; imported library code is compiled into them as needed.
  const outputSelection = {};
  for (const name of sourceNames) outputSelection[name] = { "*": CONTRACT_OUTPUTS, "": ["ast"] };
  return {
    evmVersion: "cancun",
    viaIR,
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "ipfs", appendCBOR: true },
    outputSelection,
  };
}

function readSources(files) {
  const sources = {};
  for (const name of files) {
    sources[SOURCE_PREFIX + name] = { content: fs.readFileSync(path.join(CONTRACTS_DIR, name), "utf8") };
  }
  return sources;
}

// Import callback: packages from node_modules (@openzeppelin/...), our own sources by relative name.
function findImports(importPath) {
  let file = null;
  if (importPath.startsWith("@")) {
    file = path.join(NODE_MODULES, importPath);
  } else if (importPath.startsWith(SOURCE_PREFIX)) {
    file = path.join(CONTRACTS_DIR, importPath.slice(SOURCE_PREFIX.length));
  }
  if (file === null || !fs.existsSync(file)) {
    return { error: `File not found: ${importPath}` };
  }
  return { contents: fs.readFileSync(file, "utf8") };
}

// JSON.stringify with object keys sorted at every depth (arrays keep their order).
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

// Deployable contracts defined in one of our source units, from the AST.
function deployableContracts(output, sourceName) {
  const ast = output.sources[sourceName]?.ast;
  if (!ast) return [];
  return ast.nodes
    .filter((n) => n.nodeType === "ContractDefinition" && n.contractKind === "contract" && !n.abstract)
    .map((n) => n.name);
}

function storageLayout(layout) {
  if (!layout) return [];
  const types = layout.types ?? {};
  return layout.storage.map((entry) => ({
    label: entry.label,
    offset: entry.offset,
    slot: Number(entry.slot),
    type: types[entry.type]?.label ?? entry.type,
  }));
}

// Compile one pass; returns the solc output, or exits with the compiler's errors.
function compilePass(files, viaIR) {
  const sources = readSources(files);
  const input = { language: "Solidity", sources, settings: settings(viaIR, Object.keys(sources)) };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === "error");
  for (const d of diagnostics) {
    if (d.severity !== "error") process.stderr.write(d.formattedMessage ?? `${d.message}\n`);
  }
  if (errors.length > 0) {
    for (const d of errors) process.stderr.write(d.formattedMessage ?? `${d.message}\n`);
    process.stderr.write(`compile failed: ${errors.length} error(s)\n`);
    process.exit(1);
  }
  return { sourceNames: Object.keys(sources), output };
}

function main() {
  const outDir = path.resolve(process.argv[2] ?? path.join(DEVNET_DIR, "artifacts"));
  const files = fs
    .readdirSync(CONTRACTS_DIR)
    .filter((name) => name.endsWith(".sol"))
    .sort();
  for (const name of VIA_IR_SOURCES) {
    if (!files.includes(name)) {
      process.stderr.write(`VIA_IR_SOURCES names a missing file: ${name}\n`);
      process.exit(1);
    }
  }
  const passes = [
    compilePass(files.filter((f) => !VIA_IR_SOURCES.has(f)), false),
    compilePass(files.filter((f) => VIA_IR_SOURCES.has(f)), true),
  ];

  const solcVersion = solc.version();
  const artifacts = new Map();
  for (const { sourceNames, output } of passes) {
    for (const sourceName of sourceNames) {
      for (const name of deployableContracts(output, sourceName)) {
        if (artifacts.has(name)) {
          process.stderr.write(`duplicate contract name ${name} (${sourceName})\n`);
          process.exit(1);
        }
        const c = output.contracts[sourceName][name];
        artifacts.set(name, {
          abi: c.abi,
          bytecode: "0x" + c.evm.bytecode.object,
          contractName: name,
          deployedBytecode: "0x" + c.evm.deployedBytecode.object,
          solcVersion,
          storageLayout: storageLayout(c.storageLayout),
        });
      }
    }
  }

  fs.mkdirSync(outDir, { recursive: true });
  // Remove artifacts of contracts that no longer exist (only files that look like our artifacts).
  for (const file of fs.readdirSync(outDir)) {
    if (!file.endsWith(".json") || artifacts.has(file.slice(0, -5))) continue;
    const full = path.join(outDir, file);
    try {
      const old = JSON.parse(fs.readFileSync(full, "utf8"));
      if (old && typeof old === "object" && "contractName" in old && "solcVersion" in old) fs.unlinkSync(full);
    } catch {
      // not one of ours: leave it
    }
  }
  for (const [name, artifact] of [...artifacts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(sortKeys(artifact), null, 2) + "\n");
  }
  process.stdout.write(`compiled ${artifacts.size} contracts with solc ${solcVersion} into ${outDir}\n`);
}

main();
