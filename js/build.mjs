// Bundle each widget entry (one minified ESM file per widget, no runtime imports) into simwidgets/static/.
import { build } from "esbuild";
import { copyFileSync, existsSync } from "node:fs";

const entries = ["heatmap", "neighbours", "threshold", "map", "comparison", "labeler"].filter((n) => existsSync(`${n}.js`));
const out = process.argv[2] || "../simwidgets/static";
await build({
  entryPoints: entries.map((n) => `${n}.js`),
  outdir: out,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync("widgets.css", `${out}/widgets.css`);
console.log(`built ${entries.join(", ")} into ${out}`);
