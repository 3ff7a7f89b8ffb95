// Builds the embed from src/index.js (plain ES2020 with JSDoc types):
//
//   node build.mjs                 ../static/embed.js, the build the server serves as /embed.js
//   node build.mjs --package       dist/embed.js and dist/index.d.ts instead (what `npm pack` ships)
//   node build.mjs --out DIR       the served build into DIR instead (the test that compares)
//
// The tools are pinned in package.json's devDependencies. They are looked up in
// NODE_TOOLS (a folder holding node_modules, default: <repo>/build/node), then in this
// package's node_modules, so node_modules stays out of the Python wheel. `scripts/embed`
// installs them and runs this. New source files are bundled from src/index.js's imports.
import { mkdirSync, existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..", "..", "..");
const args = process.argv.slice(2);
const outDir = args.includes("--out") ? resolve(args[args.indexOf("--out") + 1]) : join(here, "..", "static");
const withPackage = args.includes("--package");

const pinned = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).devDependencies;
const roots = [process.env.NODE_TOOLS, join(repo, "build", "node"), here].filter(Boolean);
function tool(name) {
  for (const root of roots) {
    const dir = join(root, "node_modules", name);
    if (existsSync(join(dir, "package.json"))) {
      const version = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
      if (version !== pinned[name]) {
        throw new Error(`${name} ${version} in ${root}, but package.json pins ${pinned[name]}: run scripts/embed`);
      }
      return dir;
    }
  }
  throw new Error(`${name} ${pinned[name]} is not installed (looked in ${roots.join(", ")}): run scripts/embed`);
}

const esbuildDir = tool("esbuild");
const esbuild = (await import(pathToFileURL(join(esbuildDir, "lib", "main.js")).href)).default;
const options = {
  absWorkingDir: here, entryPoints: ["src/index.js"], bundle: true, format: "esm", target: "es2020",
  minify: false, legalComments: "inline", logLevel: "warning",
};
if (!withPackage) {
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({ ...options, outfile: join(outDir, "embed.js") });
  console.log(`esbuild ${pinned.esbuild}: ${join(outDir, "embed.js")}`);
} else {
  const dist = join(here, "dist");
  await esbuild.build({ ...options, outfile: join(dist, "embed.js") });
  // Declarations from the JSDoc types of the source.
  const tsc = join(tool("typescript"), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "--allowJs", "--declaration", "--emitDeclarationOnly", "--target", "es2020",
    "--lib", "es2020,dom", "--skipLibCheck", "--outDir", dist, join(here, "src", "index.js")], { stdio: "inherit" });
  console.log(`typescript ${pinned.typescript}: ${join(dist, "index.d.ts")}`);
}
