/**
 * Tracking throughput against a real MLflow server: one run logs 50,000 metric values (10 keys x
 * 5,000 steps) through dalab's server tracker; prints the time from the first logMetric to the
 * end of the run (flushes, log-batch requests, status update), and checks the server has them all.
 *
 *   npm run build && node dist/bench/tracking-throughput.js     # needs .venv with MLflow (see README)
 */
import { MlflowServer } from '../test/mlflow-server.js';
import { MlflowServerTracker } from '../src/tracking/server-tracker.js';

const KEYS = 10;
const STEPS = 5000;

const server = new MlflowServer(4);
await server.start();
try {
  const tracker = new MlflowServerTracker(server.uri, `${server.dir}/staging`, `file:${server.dir}/offline`);
  const run = await tracker.startRun({ experiment: 'bench-tracking', runName: 'metrics-50k', tags: {} });
  const started = performance.now();
  for (let step = 1; step <= STEPS; step++) {
    for (let k = 0; k < KEYS; k++) run.logMetric(`bench/metric_${k}`, Math.sin(step * (k + 1)), step);
  }
  const logged = performance.now();
  await run.end('FINISHED');
  const seconds = (performance.now() - started) / 1000;
  const history = await tracker.client.metricHistory(run.runId, 'bench/metric_7');
  const result = {
    values: KEYS * STEPS,
    secondsToLog: (logged - started) / 1000,
    secondsToFinish: seconds,
    valuesPerSecond: (KEYS * STEPS) / seconds,
    deliveredForOneKey: history.length,
    ok: history.length === STEPS && seconds < 10,
  };
  console.log(JSON.stringify(result));
  if (!result.ok) process.exitCode = 1;
} finally {
  await server.stop();
}
