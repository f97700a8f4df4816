/**
 * A real single-node Slurm (Debian's slurm-wlm and munge): the test starts munged (if needed),
 * slurmctld and slurmd with its own configuration, submits the array job that
 * `dalab sweep --emit slurm` writes for a 2-combination sweep of tiny runs, waits for it, and
 * checks the tracking store: one parent, 2 finished children, the parent closed by the last task.
 * Skipped outside CI when Slurm is not installed (.ci/run installs it) or not running as root.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import test from 'ava';
import { dalab, tempDir, writeTinySweep } from '../helpers.js';
import { FileStoreTracker } from '../../src/tracking/file-store.js';

const inCi = process.env['CI'] === 'true';
const installed = fs.existsSync('/usr/sbin/slurmctld') && fs.existsSync('/usr/sbin/slurmd') && fs.existsSync('/usr/sbin/munged');
const root = process.getuid?.() === 0;
const slurmTest = (installed || inCi) && root ? test.serial : test.serial.skip;
if (!((installed || inCi) && root)) console.log('# Slurm test skipped: needs slurm-wlm and munge (apt-get install slurm-wlm munge) and root to start the daemons');

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function startMunge(): void {
  const probe = spawnSync('munge', ['-n'], { stdio: 'ignore' });
  if (probe.status === 0) return;
  fs.mkdirSync('/run/munge', { recursive: true });
  sh('chown', ['munge:munge', '/run/munge']);
  if (!fs.existsSync('/etc/munge/munge.key')) sh('/usr/sbin/mungekey', ['--create']);
  spawnSync('chown', ['-R', 'munge:munge', '/etc/munge', '/var/lib/munge', '/var/log/munge'], { stdio: 'ignore' });
  sh('runuser', ['-u', 'munge', '--', '/usr/sbin/munged']);
}

slurmTest('a Slurm array job written by --emit slurm runs every combination under one parent (real slurmctld + slurmd)', async (t) => {
  startMunge();
  const dir = tempDir('dalab-slurm-');
  const host = os.hostname().split('.')[0]!;
  const port = 20000 + Math.floor(Math.random() * 20000);
  for (const d of ['state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d));
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(
    conf,
    [
      'ClusterName=dalabtest',
      `SlurmctldHost=${host}`,
      'AuthType=auth/munge',
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      'MpiDefault=none',
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      `NodeName=${host} CPUs=${Math.min(2, os.cpus().length)} RealMemory=1000 State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf, DALAB_BACKEND: 'wasm' };
  sh('/usr/sbin/slurmctld', ['-f', conf], env);
  sh('/usr/sbin/slurmd', ['-f', conf], env);
  try {
    // Wait for the node to register.
    for (let i = 0; i < 60 && !/idle/.test(sh('sinfo', ['-h', '-o', '%t'], env)); i++) await new Promise((r) => setTimeout(r, 500));
    t.regex(sh('sinfo', ['-h', '-o', '%t'], env), /idle/);

    const file = writeTinySweep(dir, ['  train.seed: [0, 1]']);
    const emitted = dalab(['sweep', file, '--emit', 'slurm', '--partition', 'debug', '--cpus-per-task', '1', '--time', '00:10:00', '--json'], {}, dir);
    t.is(emitted.status, 0, emitted.stderr);
    const { script, parentRunId } = JSON.parse(emitted.stdout.trim().split('\n').pop()!) as { script: string; parentRunId: string };
    const submitted = spawnSync('sbatch', ['--wait', script], { env, encoding: 'utf8', cwd: dir, timeout: 300_000 });
    t.is(submitted.status, 0, `${submitted.stdout}${submitted.stderr}`);
    t.regex(submitted.stdout, /Submitted batch job \d+/);
    const runs = await new FileStoreTracker(`file:${path.join(dir, 'store')}`).findRuns('tiny', {});
    const parents = runs.filter((r) => r.tags['dalab.sweep'] === 'parent');
    const children = runs.filter((r) => r.tags['mlflow.parentRunId'] === parentRunId);
    t.is(parents.length, 1);
    t.is(children.length, 2);
    t.deepEqual(children.map((c) => c.status), ['FINISHED', 'FINISHED']);
    t.is(parents[0]!.status, 'FINISHED', 'the last task closed the parent');
    const logs = fs.readdirSync(path.join(dir, '.dalab', 'slurm'));
    t.is(logs.length, 2, `one log per array task: ${logs.join(', ')}`);
  } finally {
    for (const pid of ['slurmd.pid', 'slurmctld.pid']) {
      const file = path.join(dir, pid);
      if (fs.existsSync(file)) spawnSync('kill', [fs.readFileSync(file, 'utf8').trim()]);
    }
  }
});
