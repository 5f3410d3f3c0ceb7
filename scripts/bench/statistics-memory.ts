/**
 * Runs one statistics pass in a new Node process, so that the process's peak resident set size belongs to that
 * pass alone. In one process a later pass inherits the heap of an earlier one. statisticsMemoryInChild starts
 * this file as the child:
 *
 *   tsx scripts/bench/statistics-memory.ts DATA_FILE COUNT [float32|float64]
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { measureStatisticsMemory, type ScatterPrecision, type StatisticsBenchData } from '../../src/core/stats';

export type StatisticsMemory = Awaited<ReturnType<typeof measureStatisticsMemory>>;

/** Runs measureStatisticsMemory over `count` images of `data` in a child process and returns its result. */
export async function statisticsMemoryInChild(data: StatisticsBenchData, count: number, precision: ScatterPrecision = 'float32'): Promise<StatisticsMemory> {
  const dataFile = path.join(data.dir, 'bench-data.json');
  writeFileSync(dataFile, JSON.stringify(data));
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, __filename, dataFile, String(count), precision]);
  return JSON.parse(stdout.trim().split('\n').pop() as string) as StatisticsMemory;
}

async function child(dataFile: string, count: number, precision: ScatterPrecision): Promise<void> {
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as StatisticsBenchData;
  process.stdout.write(`${JSON.stringify(await measureStatisticsMemory(data, count, precision))}\n`);
}

if (require.main === module) {
  child(process.argv[2], Number(process.argv[3]), (process.argv[4] ?? 'float32') as ScatterPrecision).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
