/** Runs `ghl-bridge <args>` (src/main.ts through tsx) as a child process with exactly `env`. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Non-empty stdout lines. */
  lines: string[];
}

// The deadline only catches a hanging handle: a start through tsx takes 5 s on quiet cores, several times that on busy ones.
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 90_000, stdin?: string): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    // Only what the command needs: nothing of the developer's environment leaks into the config.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Standard input is closed at once (empty unless given), as it would be with nothing piped in.
  child.stdin.end(stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode) => resolve(exitCode));
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ghl-bridge ${args.join(' ')} did not exit within ${timeoutMs} ms (a hanging handle?)\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
    });
    return { code, stdout, stderr, lines: stdout.split('\n').filter((line) => line.length > 0) };
  } finally {
    clearTimeout(timer);
  }
}
