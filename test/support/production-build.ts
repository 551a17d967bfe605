import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitFor } from './wait-for.js';

export const MAIN = 'dist/main.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ProductionBuild {
  /** Everything written so far, stdout then stderr as they came. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** The address it listens on, once it says so; throws if it exits first. */
  listening(timeoutMs?: number): Promise<string>;
  /** Where it serves metrics, probes and docs, once listening: its management address, or `listening`'s. */
  managementUrl(): string | undefined;
  readonly exited: Promise<Exit>;
  /** Its exit, or undefined if it is still running after `timeoutMs`. */
  exitWithin(timeoutMs: number): Promise<Exit | undefined>;
  /** Sends `signal` without waiting for anything. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then its exit. */
  stop(): Promise<Exit>;
  /** SIGKILL, then its exit: a crash, with no goodbye to Kafka or the clients. */
  kill(): Promise<Exit>;
}

/** Runs the production build (`npm run build`) the way `npm start` does, with `env` only. */
export function startProductionBuild(env: Record<string, string>): ProductionBuild {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (npm run build)`);
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve((exit = { code, signal }))),
  );
  return {
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    listening: async (timeoutMs = 30_000) => {
      const url = await waitFor(
        () => /Listening on (http:\/\/[^\s,"]+)/.exec(output)?.[1] ?? (exit ? 'exited' : undefined),
        'the gateway to listen',
        timeoutMs,
      );
      if (url === 'exited') throw new Error(`the gateway exited:\n${output}`);
      return url;
    },
    managementUrl: () =>
      /management on (http:\/\/[^\s,")]+)/.exec(output)?.[1] ??
      /Listening on (http:\/\/[^\s,"]+)/.exec(output)?.[1],
    exited,
    exitWithin: (timeoutMs) =>
      Promise.race([
        exited,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
      ]),
    signal: (signal) => {
      child.kill(signal);
    },
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}
