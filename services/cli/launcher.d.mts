// Types of launcher.mjs (plain JavaScript, so that the CLI starts without a TypeScript loader).

/** The repository's root folder. */
export const ROOT: string;
/** The files a bundle of the CLI can depend on, relative to `root`, sorted. */
export function sourceFiles(root: string): string[];
/** A hash of every file a bundle of the CLI can depend on, names and contents. */
export function sourceKey(root: string): string;
/** Run the CLI with `argv`. */
export function launch(argv: string[]): Promise<void>;
