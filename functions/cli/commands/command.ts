import type { CliEnvironment } from '../cli-environment.ts';

/** What every command gets from the entry point. */
export interface CommandContext {
  /** The environment (project, emulators or cloud), resolved on first use: commands on files need none. */
  environment(project: string | undefined, command: string): CliEnvironment;
  /** Prints a command's help and returns exit code 0. */
  help(text: string): number;
}

export type Command = (args: string[], context: CommandContext) => Promise<number>;
