import 'reflect-metadata';
import { benchConfig } from './lib/bench-config';
import { runScenario } from './lib/harness';
import { SCENARIOS } from './scenarios';

async function main(): Promise<void> {
  const config = benchConfig();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length) {
    process.stderr.write(
      `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  const selected = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  let failed = 0;
  for (const scenario of selected) {
    try {
      await runScenario(scenario, config.BENCH_RUNS);
    } catch (error) {
      failed++;
      process.stderr.write(
        `\n${scenario.name} failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
