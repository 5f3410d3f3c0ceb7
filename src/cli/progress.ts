import { Progress } from '../core/log';

/** Progress on stderr with count, rate and ETA, redrawn in place on a terminal and logged sparsely otherwise. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let started = 0;
  let lastPrinted = 0;
  return {
    report(done, total, message) {
      const now = Date.now();
      if (done === 0 || started === 0) started = now;
      const finished = done >= total;
      if (!finished && now - lastPrinted < (stream.isTTY ? 100 : 2000)) return;
      lastPrinted = now;
      const elapsed = (now - started) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : NaN;
      const etaText = Number.isFinite(eta) ? ` ETA ${formatSeconds(eta)}` : '';
      const line = `${message ?? 'progress'}: ${done}/${total}${etaText}`;
      if (stream.isTTY) stream.write(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
      else stream.write(`${line}\n`);
    },
  };
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
