// Builds ../static/embed.js from src/index.js: with esbuild when it is
// installed (npm install), else by copying the hand-written ES module, which
// is already browser-ready (no imports, no syntax past ES2020).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "src", "index.js");
const out = join(here, "..", "static", "embed.js");
mkdirSync(dirname(out), { recursive: true });

// esbuild from this package's node_modules, or from ESBUILD_MODULE (a path to
// an installed esbuild package, so that node_modules stays out of the wheel).
let esbuild = null;
for (const spec of [process.env.ESBUILD_MODULE, "esbuild"]) {
  if (!spec || esbuild) continue;
  try {
    const mod = await import(spec.startsWith("/") ? pathToFileURL(join(spec, "lib", "main.js")).href : spec);
    esbuild = mod.default && mod.default.build ? mod.default : mod;
  } catch {
    esbuild = null;
  }
}
if (esbuild) {
  await esbuild.build({
    entryPoints: [entry], outfile: out, bundle: true, format: "esm", target: "es2020",
    minify: false, legalComments: "inline",
  });
  console.log(`esbuild: ${out}`);
} else {
  copyFileSync(entry, out);
  console.log(`copied (esbuild not installed): ${out}`);
}
