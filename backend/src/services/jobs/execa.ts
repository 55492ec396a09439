import type * as Execa from 'execa';

let mod: Promise<typeof Execa> | undefined;
/**
 * execa 9 is ESM-only and so is a dependency of it (unicorn-magic has no `require` export). The bundle is ESM, but
 * tsx runs the tests as CommonJS, where a static import becomes require(): load it with import() in both.
 */
export const loadExeca = (): Promise<typeof Execa> => (mod ??= import('execa'));
