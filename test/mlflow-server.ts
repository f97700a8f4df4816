/** Starts and stops a real MLflow tracking server for tests (from the project's .venv). */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ROOT, tempDir } from './helpers.js';

const mlflowBin = path.join(ROOT, '.venv', 'bin', 'mlflow');
export const hasMlflow = fs.existsSync(mlflowBin) && spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', 'import mlflow'], { encoding: 'utf8' }).status === 0;
/** In CI the server must run (.ci/run installs MLflow); elsewhere the tests are skipped without it. */
export const mlflowRequired = hasMlflow || process.env['CI'] === 'true';
export const SKIP_MESSAGE = '# MLflow server tests skipped: python3 -m venv .venv && .venv/bin/pip install -r requirements-mlflow.txt';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class MlflowServer {
  private process: ChildProcess | null = null;
  readonly dir = tempDir('dalab-mlflow-');
  port = 0;

  constructor(private readonly workers = 1) {}

  get uri(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again on the same port and stores after a kill). */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    // Its own process group: gunicorn/uvicorn workers are children, and a kill must reach them.
    this.process = spawn(
      mlflowBin,
      ['server', '--host', '127.0.0.1', '--port', String(this.port), '--backend-store-uri', `sqlite:///${this.dir}/mlflow.db`, '--artifacts-destination', `${this.dir}/artifacts`, '--workers', String(this.workers)],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    let log = '';
    this.process.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        if ((await fetch(`${this.uri}/health`)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline || this.process.exitCode != null) throw new Error(`mlflow server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** SIGKILL to the whole process group, then wait until the port stops answering. */
  async kill(): Promise<void> {
    if (this.process?.pid == null) return;
    try {
      process.kill(-this.process.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${this.uri}/health`);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    this.process = null;
  }
}
