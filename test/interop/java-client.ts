/**
 * Runs the Java scenarios (test/interop/java/Scenarios.java) with Apache's RocketMQ 4.9.8 Java client from the
 * shared folder beside the repository (`../shared/java-client/`), in one JVM, and returns each scenario's result.
 * The .java file is read from the source tree: tsc does not copy it into dist/.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** dist/test/interop → repository root. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const javaClientDir = join(repoRoot, '..', 'shared', 'java-client');
const scenariosSource = join(repoRoot, 'test', 'interop', 'java', 'Scenarios.java');
const installHint =
  'apt-get install -y openjdk-17-jdk-headless libnetty-java libcommons-lang3-java libcommons-collections3-java ' +
  'libcommons-validator-java liblz4-java libzstd-jni-java libslf4j-java (see .ci/run)';

export class JavaClientMissingError extends Error {
  override name = 'JavaClientMissingError';
}

// biome-ignore lint/suspicious/noExplicitAny: scenario results are free-form JSON asserted field by field
export type ScenarioResult = Record<string, any>;

export interface JavaRun {
  results: Map<string, ScenarioResult>;
  /** The JVM's stderr (the client's console log), for failure messages. */
  stderr: string;
}

/** The classpath of the shared client, or a JavaClientMissingError saying what to install. */
async function classpath(): Promise<string> {
  if (!existsSync(join(javaClientDir, 'rocketmq-client-4.9.8.jar'))) {
    throw new JavaClientMissingError(
      `the RocketMQ Java client is missing: expected ${javaClientDir}/rocketmq-client-4.9.8.jar ` +
        '(the shared folder sits beside the repository root)',
    );
  }
  try {
    return (await run('bash', [join(javaClientDir, 'classpath')])).stdout.trim();
  } catch (err) {
    throw new JavaClientMissingError(`the Java client's jars are not installed: ${installHint}`, { cause: err });
  }
}

export interface JavaRunOptions {
  /** The client's header encoding: JSON (its default) or ROCKETMQ (the binary header). */
  serializeType: 'JSON' | 'ROCKETMQ';
  /** Appended to every topic and group of the run. */
  suffix: string;
  /** Scenario names; all when empty. */
  scenarios: string[];
  /** Extra `-D` system properties for the scenarios. */
  properties?: Record<string, string>;
}

/** Runs scenarios in one JVM against `nameSrv`; the client's own files go under `scratchDir`. */
export async function runJavaScenarios(nameSrv: string, scratchDir: string, opts: JavaRunOptions): Promise<JavaRun> {
  const cp = await classpath();
  const home = join(scratchDir, `java${opts.suffix}`);
  const args = [
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Drocketmq.serialize.type=${opts.serializeType}`,
    `-Dscenarios.suffix=${opts.suffix}`,
    `-Drocketmq.client.logRoot=${join(home, 'logs')}`,
    `-Drocketmq.client.localOffsetStoreDir=${join(home, 'offsets')}`,
    `-Duser.home=${home}`,
    ...Object.entries(opts.properties ?? {}).map(([k, v]) => `-D${k}=${v}`),
    '-cp',
    cp,
    scenariosSource,
    nameSrv,
    ...opts.scenarios,
  ];
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await run('java', args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new JavaClientMissingError(`no \`java\` on PATH: ${installHint}`, { cause: err });
    throw new Error(`the Java scenarios (${opts.serializeType}) failed:\n${e.stderr?.slice(-4000) ?? ''}`, {
      cause: err,
    });
  }
  const results = new Map<string, ScenarioResult>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('RESULT ')) continue;
    const r = JSON.parse(line.slice('RESULT '.length)) as ScenarioResult;
    results.set(String(r['scenario']), r);
  }
  return { results, stderr };
}
