// What the app's parts may say about themselves while running: short operational lines, never personal values.
// The server writes them to its standard output beside the request log; commands to their standard error.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export function lineLogger(write: (line: string) => void): Logger {
  return { info: write, warn: (message) => write(`warning: ${message}`) };
}

export const silentLogger: Logger = Object.freeze({ info: () => {}, warn: () => {} });
