import { dictionary } from '@zxcvbn-ts/language-common';

let common: Set<string> | undefined;

/**
 * True for a password on zxcvbn-ts's list of common passwords (~49,000 from real leaks, bundled with
 * the package: nothing is downloaded). Compared case-insensitively, as attackers try them.
 */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common.has(password.normalize('NFC').toLowerCase());
}
