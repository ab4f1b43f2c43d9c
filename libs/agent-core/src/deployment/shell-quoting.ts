/**
 * Quoting for generated commands. Every value in a pasted command is untrusted (a config value, a
 * URL, a token): each helper returns ONE literal word for its shell, whatever the input holds.
 */

/** Characters that never need quoting in a POSIX shell word (the set Python's shlex.quote uses). */
const POSIX_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX `sh` single-quoting: `'` cannot appear inside single quotes, so it becomes `'\''`. */
export function quotePosix(value: string): string {
  if (value !== '' && POSIX_SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * PowerShell single-quoted string: nothing is expanded inside it, and a quote is escaped by doubling.
 * PowerShell also treats the typographic quotes ‘ ’ ‚ ‛ as single quotes, so they are doubled too.
 */
export function quotePowerShell(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (quote) => quote + quote)}'`;
}

/**
 * Escapes a value for `helm --set-string key=value`: Helm splits on `,` and treats `\` as its own
 * escape character, so both are backslash-escaped before the shell quoting is applied.
 */
export function escapeHelmValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

/** `--set-string key=value` as two shell words, the value escaped for Helm and then for sh. */
export function helmSetString(key: string, value: string): string[] {
  return ['--set-string', quotePosix(`${key}=${escapeHelmValue(value)}`)];
}

/** Joins already-quoted words into one command line. */
export function joinWords(words: string[]): string {
  return words.join(' ');
}
