import { SwitchyardError } from '../../protocol/errors.ts';

/** The code of the SwitchyardError `run` throws; undefined when it returns; a note when it throws anything else. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof SwitchyardError ? error.code : `not a SwitchyardError: ${String(error)}`;
  }
}
