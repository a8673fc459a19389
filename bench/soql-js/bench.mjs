// Parse and print throughput of @jetstreamapp/soql-parser-js on the valid cases of Sonde's SOQL
// conformance corpus: the same cases, passes and figures as `cargo bench -p soql`.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseQuery, composeQuery } from '@jetstreamapp/soql-parser-js';

// Same lookup as the Rust side: $SONDE_SOQL_CORPUS, else the nearest ancestor holding shared/.
function corpusPath() {
  if (process.env.SONDE_SOQL_CORPUS) return process.env.SONDE_SOQL_CORPUS;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared/conformance/soql/queries.jsonl');
    if (existsSync(candidate)) return candidate;
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('conformance corpus not found; set SONDE_SOQL_CORPUS');
    dir = up;
  }
}

const queries = readFileSync(corpusPath(), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l))
  .filter((c) => c.expect === 'valid')
  .map((c) => c.soql);
const bytes = (list) => list.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
const budgetMs = 1000 * Number(process.env.SONDE_BENCH_SECS ?? 3);

// Cases the JS parser itself refuses are left out of both timings (and reported), so it is never
// charged for throwing.
const accepted = [];
const refused = [];
for (const q of queries) {
  try {
    parseQuery(q);
    accepted.push(q);
  } catch {
    refused.push(q);
  }
}

let sink = 0;
function measure(round) {
  for (let i = 0; i < 20; i++) round(); // warm-up, lets the JIT settle
  const start = performance.now();
  let rounds = 0;
  while (performance.now() - start < budgetMs) {
    round();
    rounds++;
  }
  return { rounds, secs: (performance.now() - start) / 1000 };
}

function report(what, count, size, { rounds, secs }) {
  const qps = (count * rounds) / secs;
  const mbs = (size * rounds) / secs / 1e6;
  console.log(
    `${what.padEnd(6)} ${qps.toFixed(0).padStart(12)} queries/s ${mbs.toFixed(2).padStart(8)} MB/s  ` +
      `(${rounds} passes over ${count} queries, ${size} bytes, ${secs.toFixed(2)} s)`,
  );
}

console.log(`@jetstreamapp/soql-parser-js on node ${process.version}: ${accepted.length}/${queries.length} valid cases accepted`);
report('parse', accepted.length, bytes(accepted), measure(() => {
  for (const q of accepted) sink += parseQuery(q).fields.length;
}));

const parsed = accepted.map((q) => parseQuery(q));
const printed = parsed.map((p) => composeQuery(p));
report('print', parsed.length, bytes(printed), measure(() => {
  for (const p of parsed) sink += composeQuery(p).length;
}));
if (sink === -1) console.log(sink); // keeps the work observable
